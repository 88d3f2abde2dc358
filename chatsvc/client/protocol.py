"""
The client end of the native protocol, with no screen in sight.

It frames and decodes the server's lines (split first, then decoded one by
one, so a character split across two reads is whole again; bytes that are
not UTF-8 show as U+FFFD and never end the connection), makes them harmless
with L{wire.visible}, tells their kind with L{wire.classify}, and runs the
handshake:

  1. On connecting it sends C{/lang <code>} before anything else and
     swallows the server's one-line answer, so the user sees a transcript in
     their language from the first line on.
  2. The server's C{NICK} prompt is answered with the nickname given on the
     command line the first time, and otherwise (or after a refusal) by
     asking the view.  A refusal is an error line followed by C{NICK}: the
     error is passed to L{IChatView.askNickname} as the reason.
  3. The first line that is not an error after a nickname went out is the
     welcome; from then on the user's lines are sent as they are.

Leaving is always the same: C{/quit}, then wait for the server to close
(at most L{ChatClientProtocol.leaveTimeout} seconds).  A close the user did
not ask for is reported as unclean.
"""

from __future__ import annotations

from typing import cast

from twisted.internet.interfaces import IDelayedCall, IReactorTime, ITCPTransport
from twisted.python.failure import Failure
from zope.interface import implementer

from chatsvc.client.interfaces import IChatInput, IChatView
from chatsvc.i18n import DEFAULT_LANGUAGE, translation
from chatsvc.client.lines import ClientLineProtocol
from chatsvc.native import wire

# Far above anything the server sends (a client line of MAX_LINE_BYTES plus
# a prefix, or a /who of MAX_NAMES_SHOWN names), yet a bound.
MAX_SERVER_LINE_BYTES = 65536

EXIT_COMMAND = "exit"
QUIT_COMMAND = "/quit"
# What the server takes for a blank line, which it ignores.
BLANK = " \t"


def isQuit(text: str) -> bool:
    """
    Whether C{text}, entered by the user, asks to leave.

    C{exit} alone (as in the program this client replaces) or the server's
    own C{/quit [reason]}, in any case.
    """
    if text.strip(BLANK) == EXIT_COMMAND:
        return True
    return text.startswith("/") and isinstance(wire.parseLine(text), wire.Quit)


def tlsFailure(reason: Failure | None) -> str | None:
    """
    What went wrong, if the connection ended because TLS failed (a server
    that does not speak it, a certificate that is not trusted).
    """
    if reason is None:
        return None
    try:
        from OpenSSL.SSL import Error
    except ImportError:
        return None
    if not reason.check(Error):
        return None
    details = [part for entry in reason.value.args[0] or [] for part in entry[-1:] if part]
    return ", ".join(details) or "handshake failed"


@implementer(IChatInput)
class ChatClientProtocol(ClientLineProtocol):
    """
    One connection to a chat server, reporting to an L{IChatView}.

    @ivar registered: whether the server has accepted a nickname.
    """

    maxLineBytes = MAX_SERVER_LINE_BYTES
    leaveTimeout = 5.0

    registered = False
    # The /lang answer is still to come and must not be shown.
    _awaitingLanguage = False
    # NICK arrived before the /lang answer; act on it once that is in.
    _promptPending = False
    # The view was asked for a nickname and has not answered.
    _asking = False
    # A nickname went out; its welcome or refusal is next.
    _nicknameSent = False
    _triedGivenNickname = False
    _leaving = False
    _closed = False
    _leaveTimer: IDelayedCall | None = None

    def __init__(
        self,
        view: IChatView,
        clock: IReactorTime,
        language: str = DEFAULT_LANGUAGE,
        nickname: str | None = None,
        password: str | None = None,
    ) -> None:
        self.view = view
        self.clock = clock
        self.language = language
        self.nickname = nickname
        self.password = password

    # Connection

    def connectionMade(self) -> None:
        super().connectionMade()
        if self._leaving:
            # The user gave up while we were still connecting.
            self._abort()
            return
        self._awaitingLanguage = True
        self._send(f"/lang {self.language}")

    def connectionLost(self, reason: Failure | None = None) -> None:
        super().connectionLost(reason)
        if self._leaveTimer is not None and self._leaveTimer.active():
            self._leaveTimer.cancel()
        self._leaveTimer = None
        failed = tlsFailure(reason)
        if failed is not None and not self._closed:
            self._closed = True
            t = translation(self.language)
            self.view.connectionFailed(
                t.gettext("TLS with the server failed ({reason}); nothing was sent.").format(
                    reason=failed
                )
            )
            return
        self._finish(clean=self._leaving)

    def _finish(self, clean: bool) -> None:
        if not self._closed:
            self._closed = True
            self.view.connectionClosed(clean)

    # From the server

    def textReceived(self, text: str) -> None:
        shown = wire.visible(text)
        line = wire.classify(shown)
        if line.kind == "password":
            if self.password is None:
                self.view.connectionFailed(
                    translation(self.language).gettext(
                        "The server asks for a password; give it with --password-file."
                    )
                )
                self._abort()
            else:
                self._send(self.password)
        elif line.kind == "prompt":
            if self._awaitingLanguage:
                self._promptPending = True
            else:
                self._promptArrived()
        elif self._awaitingLanguage:
            # The answer to /lang: an error line (unknown code) comes before
            # the one notice that ends it.
            if line.kind != "error":
                self._awaitingLanguage = False
                if self._promptPending:
                    self._promptPending = False
                    self._promptArrived()
        elif (
            not self.registered
            and line.kind == "error"
            and (self._nicknameSent or self._asking)
        ):
            # A refusal; the NICK that follows it finds us asking already.
            self._nicknameSent = False
            self._ask(shown)
        elif self._nicknameSent:
            self._nicknameSent = False
            self.registered = True
            self.view.showLine(line.kind, shown)
            self.view.nicknameAccepted()
        else:
            self.view.showLine(line.kind, shown)

    def _promptArrived(self) -> None:
        if self._asking or self._leaving:
            return
        if self.nickname is not None and not self._triedGivenNickname:
            self._triedGivenNickname = True
            self._sendNickname(self.nickname)
        else:
            self._ask(None)

    def _ask(self, reason: str | None) -> None:
        self._asking = True
        self.view.askNickname(reason)

    def lineTooLong(self) -> None:
        t = translation(self.language)
        self.view.showLine(
            "local",
            t.gettext(
                "The server sent a line longer than {count} bytes; it was skipped."
            ).format(count=self.maxLineBytes),
        )

    def undecodableLine(self, line: bytes) -> None:
        self.textReceived(line.decode("utf-8", "replace"))

    def sendQueueOverflowed(self) -> None:
        # The server stopped reading what we say: it is as good as gone.
        self._abort()

    # IChatInput

    def submit(self, text: str) -> None:
        if self._leaving or self._closed:
            return
        if isQuit(text):
            self._leave(text if text.startswith("/") else QUIT_COMMAND)
        elif self.registered:
            if text.strip(BLANK):
                self._send(text)
        elif self._asking:
            if not text.strip(BLANK):
                self._ask(None)
            elif text.startswith("/"):
                # /help or /lang before registering: the server answers
                # and the question stays open.
                self._send(text)
            else:
                self._asking = False
                self._sendNickname(text)
        # Otherwise nobody asked yet: the view holds its input until asked.

    def leave(self, insist: bool = False) -> None:
        if self._closed:
            return
        if self._leaving:
            if insist:
                # Interrupted again (a second Ctrl-C): stop waiting.
                self._abort()
            # Otherwise (end of input after "exit") the goodbye is under
            # way already; cutting it short would lose the last replies.
            return
        self._leave(QUIT_COMMAND)

    def _leave(self, command: str) -> None:
        self._leaving = True
        if self.transport is None:
            self._finish(clean=True)
            return
        self._send(command)
        self._leaveTimer = self.clock.callLater(
            self.leaveTimeout, self.loseConnection
        )

    # To the server

    def _sendNickname(self, nickname: str) -> None:
        self._nicknameSent = True
        self._send(nickname)

    def _abort(self) -> None:
        if self.transport is not None:
            cast(ITCPTransport, self.transport).abortConnection()

    def _send(self, text: str) -> None:
        self.write(text.encode("utf-8", "replace") + b"\r\n")
