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

One protocol is one connection.  What should outlive it (the nickname, the
room, the language asked for, the lines shown) is kept in a
L{SessionMemory}, which L{chatsvc.client.reconnect.Conversation} hands to
the next connection after a loss.  A protocol whose memory says a nickname
was accepted before is coming back, and then:

  - it answers C{NICK} with that nickname unasked; if the server says it is
    taken (it may not have noticed yet that the old connection died), it
    says so and tries again after 1, 2, 4 and 8 seconds before asking;
  - after the welcome it goes back to its room with C{/join}, unless that
    is the room the server puts everyone in; the answer "already there" is
    not shown, nor the topic and replay of a room it only passes through;
  - the replay of its room is shown without the lines it had shown before
    the loss (see L{chatsvc.client.memory}).

Leaving is always the same: C{/quit}, then wait for the server to close
(at most L{ChatClientProtocol.leaveTimeout} seconds).  A close the user did
not ask for is reported as unclean; L{ChatClientProtocol.refused} tells
whether the server said goodbye for a reason that trying again would not
change.
"""

from __future__ import annotations

from typing import cast

from twisted.internet.interfaces import IDelayedCall, IReactorTime, ITCPTransport
from twisted.python.failure import Failure
from zope.interface import implementer

from chatsvc.client import notices, replay
from chatsvc.client.backoff import wholeSeconds
from chatsvc.client.interfaces import IChatInput, IChatView
from chatsvc.client.lines import ClientLineProtocol
from chatsvc.client.memory import SessionMemory
from chatsvc.client.replay import ReplayBlock
from chatsvc.i18n import DEFAULT_LANGUAGE, normalizeLanguage, translation
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
    details = [
        part for entry in reason.value.args[0] or [] for part in entry[-1:] if part
    ]
    return ", ".join(details) or "handshake failed"


@implementer(IChatInput)
class ChatClientProtocol(ClientLineProtocol):
    """
    One connection to a chat server, reporting to an L{IChatView}.

    @ivar registered: whether the server has accepted a nickname.
    @ivar refused: whether the server ended the connection for a reason that
        trying again would not change (L{notices.isFinalRefusal}).
    @ivar memory: what outlives this connection (see the module docstring).
    """

    maxLineBytes = MAX_SERVER_LINE_BYTES
    leaveTimeout = 5.0
    # Coming back, a nickname still taken is tried again this many times,
    # after nicknameRetryDelay seconds, then twice that, and so on.
    nicknameRetries = 4
    nicknameRetryDelay = 1.0
    # Lines of one history block held at most; a longer one is shown as it is.
    maxHistoryLines = 1000

    registered = False
    refused = False
    # The /lang answer is still to come and must not be shown.
    _awaitingLanguage = False
    # NICK arrived before the /lang answer; act on it once that is in.
    _promptPending = False
    # The view was asked for a nickname and has not answered.
    _asking = False
    # A nickname went out; its welcome or refusal is next.
    _nicknameSent = False
    _lastNickname: str | None = None
    _triedGivenNickname = False
    _nicknameTries = 0
    _nicknameRetry: IDelayedCall | None = None
    _leaving = False
    _closed = False
    _leaveTimer: IDelayedCall | None = None
    # Coming back after a lost connection.
    _resuming = False
    # The replay of our room is still to be shown without what was seen.
    _resumePending = False
    _resumeRoom: str | None = None
    # The /join that takes us back to our room went out; its answer is due.
    _rejoining: str | None = None
    # We are back in our room (its replay, if any, is next or past).
    _arrived = False
    # What the next line may be the replay of: the "welcome" or a "move".
    _replayAfter: str | None = None
    _block: ReplayBlock | None = None

    def __init__(
        self,
        view: IChatView,
        clock: IReactorTime,
        language: str = DEFAULT_LANGUAGE,
        nickname: str | None = None,
        password: str | None = None,
        memory: SessionMemory | None = None,
    ) -> None:
        """
        @param nickname: the nickname to try first, unless C{memory} is
            given (then it is the memory's).
        @param memory: shared with the connections before and after this
            one; a new one if not given.
        """
        self.view = view
        self.clock = clock
        self.language = language
        self.password = password
        self.memory = (
            memory if memory is not None else SessionMemory(nickname, language)
        )

    # Connection

    def connectionMade(self) -> None:
        super().connectionMade()
        if self._leaving:
            # The user gave up while we were still connecting.
            self._abort()
            return
        self._resuming = self.memory.registered
        self._awaitingLanguage = True
        self._send(f"/lang {self.memory.serverLanguage}")

    def connectionLost(self, reason: Failure | None = None) -> None:
        super().connectionLost(reason)
        for call in (self._leaveTimer, self._nicknameRetry):
            if call is not None and call.active():
                call.cancel()
        self._leaveTimer = self._nicknameRetry = None
        failed = tlsFailure(reason)
        if failed is not None and not self._closed:
            self._closed = True
            t = translation(self.language)
            self.view.connectionFailed(
                t.gettext(
                    "TLS with the server failed ({reason}); nothing was sent."
                ).format(reason=failed)
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
        if self._block is not None and self._inBlock(shown):
            return
        line = wire.classify(shown)
        if line.kind == "error" and notices.isFinalRefusal(line.text):
            self.refused = True
            self.view.showLine(line.kind, shown)
        elif line.kind == "password":
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
            self._refused(line.text, shown)
        elif self._nicknameSent:
            self._welcomed(line.kind, shown)
        else:
            self._serverLine(line, shown)

    def _promptArrived(self) -> None:
        if self._asking or self._leaving or self._nicknameRetry is not None:
            return
        nickname = self.memory.nickname
        if nickname is not None and not self._triedGivenNickname:
            self._triedGivenNickname = True
            self._sendNickname(nickname)
        else:
            self._ask(None)

    def _ask(self, reason: str | None) -> None:
        self._asking = True
        self.view.askNickname(reason)

    def _refused(self, error: str, shown: str) -> None:
        """
        The nickname was refused: ask, unless it is ours, coming back, and
        probably held by our own connection that the server thinks alive.
        """
        taken = notices.takenNickname(error)
        if (
            self._resuming
            and notices.sameName(taken, self._lastNickname)
            and notices.sameName(taken, self.memory.nickname)
            and self._nicknameTries < self.nicknameRetries
        ):
            delay = self.nicknameRetryDelay * 2**self._nicknameTries
            self._nicknameTries += 1
            t = translation(self.language)
            self.view.showLine(
                "local",
                t.gettext(
                    "The nickname {nickname} is still taken, perhaps by the connection "
                    "that was lost; trying again in {seconds} s…"
                ).format(nickname=self._lastNickname, seconds=wholeSeconds(delay)),
            )
            self._nicknameRetry = self.clock.callLater(delay, self._retryNickname)
        else:
            self._ask(shown)

    def _retryNickname(self) -> None:
        self._nicknameRetry = None
        assert self._lastNickname is not None
        self._sendNickname(self._lastNickname)

    def _welcomed(self, kind: str, shown: str) -> None:
        self._nicknameSent = False
        self.registered = True
        memory = self.memory
        memory.nickname = self._lastNickname
        memory.registered = True
        self.view.showLine(kind, shown)
        self._replayAfter = "welcome"
        if self._resuming:
            room = memory.room
            self._resumePending = True
            self._resumeRoom = room
            if room is not None and not notices.sameName(room, memory.defaultRoom):
                # Before anything the user typed meanwhile, which belongs there.
                self._rejoining = room
                self._send(f"/join {room}")
            else:
                self._arrived = True
        self.view.nicknameAccepted()

    def _serverLine(self, line: wire.Line, shown: str) -> None:
        """
        A line after the handshake.
        """
        replayAfter, self._replayAfter = self._replayAfter, None
        memory = self.memory
        heading = notices.historyHeading(shown) if line.kind == "notice" else None
        if heading is not None:
            self._openBlock(heading, shown, replayAfter)
            return
        if replayAfter is not None and line.kind == "notice":
            room = notices.topicOf(shown)
            if room is not None:
                # The room's topic comes first; its replay may follow.
                self._replayAfter = replayAfter
                passing = self._rejoining is not None and replayAfter == "welcome"
                if not passing or notices.sameName(room, self._rejoining):
                    self.view.showLine(line.kind, shown)
                return
        if replayAfter is not None and self._arrived:
            # No replay came for the room we came back to.
            self._resumePending = False
        if line.kind == "notice":
            moved = notices.movedTo(shown)
            if moved is not None:
                self._movedTo(moved)
            else:
                names = notices.renamed(shown)
                if names is not None and notices.sameName(names[0], memory.nickname):
                    memory.nickname = names[1]
        elif line.kind == "error" and self._rejoining is not None:
            # The answer to our /join: we were there already, or it failed
            # and we are in the server's first room.
            self._rejoining = None
            self._arrived = True
            self._resumePending = False
            if notices.alreadyIn(line.text) is not None:
                return
            memory.room = memory.defaultRoom
        elif line.kind in ("chat", "action") and self._rejoining is None:
            memory.transcript.remember(memory.room, shown)
        self.view.showLine(line.kind, shown)

    def _movedTo(self, room: str) -> None:
        self.memory.room = room
        self._replayAfter = "move"
        if self._rejoining is not None:
            self._rejoining = None
            self._arrived = True

    # History

    def _openBlock(self, room: str, heading: str, after: str | None) -> None:
        memory = self.memory
        if after is None:
            mode = replay.SHOW
        else:
            if after == "welcome":
                memory.defaultRoom = room
                if self._rejoining is None:
                    memory.learnRoom(room)
            if not self._resumePending:
                mode = replay.REMEMBER
            elif self._arrived or notices.sameName(room, self._resumeRoom):
                mode = replay.DEDUPE
                self._resumePending = False
            else:
                mode = replay.SUPPRESS
        self._block = ReplayBlock(room, heading, mode)
        self._show(self._block.opened())

    def _inBlock(self, shown: str) -> bool:
        """
        Take C{shown} into the block of history under way, if it belongs
        there; C{False} if it does not (the block is then over).
        """
        block = self._block
        assert block is not None
        if notices.isHistoryEnd(shown):
            self._block = None
            self._show(block.end(shown, self.memory.transcript, self.language))
            return True
        if notices.stripTime(shown) is None or len(block.lines) >= self.maxHistoryLines:
            self._block = None
            self._show(block.abandon(self.memory.transcript))
            return False
        self._show(block.add(shown))
        return True

    def _show(self, lines: list[tuple[str, str]]) -> None:
        for kind, line in lines:
            self.view.showLine(kind, line)

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
                self._noteLanguage(text)
                self._send(text)
        elif self._asking:
            if not text.strip(BLANK):
                self._ask(None)
            elif text.startswith("/"):
                # /help or /lang before registering: the server answers
                # and the question stays open.
                self._noteLanguage(text)
                self._send(text)
            else:
                self._asking = False
                self._sendNickname(text)
        # Otherwise nobody asked yet: the view holds its input until asked.

    def _noteLanguage(self, text: str) -> None:
        """
        Remember a language the user asks the server for, to ask for it
        again on the next connection.
        """
        if not text.startswith("/"):
            return
        command = wire.parseLine(text)
        if isinstance(command, wire.Language) and command.code is not None:
            language = normalizeLanguage(command.code)
            if language is not None:
                self.memory.serverLanguage = language

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
        if self._nicknameRetry is not None and self._nicknameRetry.active():
            self._nicknameRetry.cancel()
        self._nicknameRetry = None
        if self.transport is None:
            self._finish(clean=True)
            return
        self._send(command)
        self._leaveTimer = self.clock.callLater(self.leaveTimeout, self.loseConnection)

    # To the server

    def _sendNickname(self, nickname: str) -> None:
        self._nicknameSent = True
        self._lastNickname = nickname.strip(" ")
        self._send(nickname)

    def _abort(self) -> None:
        if self.transport is not None:
            cast(ITCPTransport, self.transport).abortConnection()

    def _send(self, text: str) -> None:
        self.write(text.encode("utf-8", "replace") + b"\r\n")
