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
  3. A registered nickname is answered with a notice and C{PASS <nick>}:
     the password of that account goes out unasked if this run knows it
     (given with C{--account-password-file}, or typed earlier), otherwise
     the view is asked for it (L{IChatView.askPassword}).  A wrong one is an
     error followed by C{NICK}, as for any refused nickname.
  4. The first line that is not an error (nor that notice) after a
     nickname went out is the welcome; from then on the user's lines are
     sent as they are.  The server may let us in to no room
     (C{! You are banned from room lobby.} right after the welcome).

One protocol is one connection.  What should outlive it (the nickname, the
room, the language asked for, the lines shown) is kept in a
L{SessionMemory}, which L{chatsvc.client.reconnect.Conversation} hands to
the next connection after a loss.  A protocol whose memory says a nickname
was accepted before is coming back, and then:

  - it answers C{NICK} with that nickname unasked; if the server says it is
    taken (it may not have noticed yet that the old connection died), it
    says so and tries again after 1, 2, 4 and 8 seconds before asking;
  - after the welcome it goes back to its room with C{/join}, unless that
    is the room the server puts everyone in or it was in none (put out of
    it by C{/kick}); the answer "already there" is not shown, nor the topic
    and replay of a room it only passes through;
  - if it was logged in to an account other than its nickname's (by
    C{/identify}), it logs in to it again, after that C{/join};
  - the replay of its room is shown without the lines it had shown before
    the loss (see L{chatsvc.client.memory}).

Leaving is always the same: C{/quit}, then wait for the server to close
(at most L{ChatClientProtocol.leaveTimeout} seconds).  A close the user did
not ask for is reported as unclean; L{ChatClientProtocol.refused} tells
whether the server said goodbye for a reason that trying again would not
change (a wrong password, a flood, a server operator's C{/kill}).

Passwords the user gives (at C{PASS <nick>}, with C{/register},
C{/identify} or C{/password}) are kept in the memory once the server says
they were right, and only there: nothing is logged.
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
from chatsvc.names import nameKey
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


# Commands whose words include a password.
_WITH_PASSWORDS = ("register", "identify", "password", "drop", "oper")


def carriesPassword(text: str) -> bool:
    """
    Whether C{text}, entered by the user, holds a password (C{/identify
    secret}, or a malformed C{/oper} that might): not to be kept in an
    input history.
    """
    if not text.startswith("/") or text.startswith("//"):
        return False
    command = wire.parseLine(text)
    if isinstance(command, wire.Usage):
        return command.name in _WITH_PASSWORDS
    return isinstance(
        command,
        (wire.RegisterAccount, wire.Identify, wire.ChangePassword, wire.Drop, wire.Oper),
    )


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
    # The view was asked for the password of this nickname's account.
    _askingPassword: str | None = None
    # The last login that went out, as (name, password, sent unasked); the
    # server's answer to it is due.
    _login: tuple[str, str, bool] | None = None
    # The new password of a /password that went out.
    _newPassword: str | None = None
    # The account to log in to again once back (by /identify).
    _restoreAccount: str | None = None
    # The server let us in to no room; its "in no room" line is next.
    _roomless = False
    _noRoomDue = False
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
        # Accounts whose known password went out unasked on this connection.
        self._triedPasswords: set[str] = set()

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
        elif line.kind == "account":
            assert line.nickname is not None
            self._accountPrompt(line.nickname)
        elif line.kind == "prompt":
            self._askingPassword = None
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
            self._askingPassword = None
            self._loginAnswered(line)
            self._refused(line.text, shown)
        elif self._nicknameSent:
            if line.kind == "notice" and notices.registeredNickname(shown) is not None:
                # Not the welcome: the account's PASS prompt is next.
                self.view.showLine(line.kind, shown)
            else:
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

    def _accountPrompt(self, nickname: str) -> None:
        """
        The server wants the password of the account C{nickname} is
        registered to: send the one we know, once per connection, or ask.
        """
        if self._leaving:
            return
        self._askingPassword = None
        password = self.memory.passwordFor(nickname)
        key = nameKey(nickname)
        if password is not None and key not in self._triedPasswords:
            self._triedPasswords.add(key)
            self._sendPassword(nickname, password, unasked=True)
        else:
            self._askingPassword = nickname
            self.view.askPassword(nickname)

    def _loginAnswered(self, line: wire.Line) -> None:
        """
        Follow the server's answer to a login or a change of password, if
        C{line} is one: a right password is kept in the memory, a wrong one
        sent unasked is not sent again.
        """
        memory = self.memory
        if line.kind == "error":
            self._newPassword = None
            name = notices.failedLogin(line.text)
            login, self._login = self._login, None
            if name is not None and login is not None and login[2]:
                memory.passwordRefused(login[0])
            elif name is None:
                self._login = login
            return
        if line.kind != "notice":
            return
        account = notices.loggedIn(line.text)
        if account is not None:
            login, self._login = self._login, None
            password = None
            if login is not None and notices.sameName(login[0], account):
                password = login[1]
            memory.loggedIn(account, password)
        elif notices.isLoggedOut(line.text):
            memory.forgetAccount()
        elif notices.isPasswordChanged(line.text) and self._newPassword is not None:
            memory.passwordChanged(self._newPassword)
            self._newPassword = None
        else:
            dropped = notices.droppedAccount(line.text)
            if dropped is not None:
                memory.forgetAccount(dropped)

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
            # Logged in to nothing on this connection, unless the PASS
            # prompt did it (its answer is next).
            self._restoreAccount, memory.account = memory.account, None
            room = memory.room
            self._resumePending = True
            self._resumeRoom = room
            if room is not None and not notices.sameName(room, memory.defaultRoom):
                # Before anything the user typed meanwhile, which belongs there.
                self._rejoining = room
                self._send(f"/join {room}")
            else:
                self._arrived = True
            self._identifyAgain()
        self.view.nicknameAccepted()

    def _identifyAgain(self) -> None:
        """
        Log in again to the account we were logged in to before the loss,
        if the nickname did not (it is not the account's name).
        """
        account, self._restoreAccount = self._restoreAccount, None
        if account is None:
            return
        if self._login is not None and notices.sameName(self._login[0], account):
            # The PASS prompt logged us in to it already.
            return
        password = self.memory.passwordFor(account)
        if password is None:
            return
        self._login = (account, password, True)
        self._send(f"/identify {account} {password}")

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
        if line.kind in ("notice", "error"):
            self._loginAnswered(line)
        if replayAfter == "welcome" and line.kind == "error":
            banned = notices.bannedFrom(line.text)
            if banned is not None:
                # We have our nickname, in no room: the server's first bans us.
                self._bannedAtLogin(banned)
                self.view.showLine(line.kind, shown)
                return
        if self._noRoomDue and line.kind == "error" and notices.isNoRoom(line.text):
            self._noRoomDue = False
            self.view.showLine(line.kind, shown)
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
            kicked = notices.kicked(shown)
            if moved is not None:
                self._movedTo(moved)
            elif kicked is not None and notices.sameName(kicked[0], memory.nickname):
                memory.leftRoom()
                self.view.showLine(line.kind, shown)
                self.view.showLine("local", notices.noRoomHint(self.language))
                return
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
            if self._roomless:
                memory.leftRoom()
            else:
                memory.room = memory.defaultRoom
        elif line.kind in ("chat", "action") and self._rejoining is None:
            memory.transcript.remember(memory.room, shown)
        self.view.showLine(line.kind, shown)

    def _bannedAtLogin(self, room: str) -> None:
        memory = self.memory
        memory.defaultRoom = room
        self._roomless = True
        self._noRoomDue = True
        if self._rejoining is None:
            memory.leftRoom()
            # No replay comes for a room we are not in.
            self._resumePending = False

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
        elif self._askingPassword is not None:
            nickname = self._askingPassword
            if not text.strip(BLANK):
                # The server ignores a blank line: it would wait for ever.
                self.view.askPassword(nickname)
            else:
                self._askingPassword = None
                self._sendPassword(nickname, text)
        elif self.registered:
            if text.strip(BLANK):
                self._noteLanguage(text)
                self._noteAccount(text)
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

    def _noteAccount(self, text: str) -> None:
        """
        Remember the password of a C{/register}, C{/identify} or
        C{/password} the user sends, to keep it once the server says it is
        right.
        """
        command = wire.parseLine(text) if text.startswith("/") else None
        nickname = self.memory.nickname
        if isinstance(command, wire.RegisterAccount) and nickname is not None:
            self._login = (nickname, command.password, False)
        elif isinstance(command, wire.Identify):
            name = command.account or nickname
            if name is not None:
                self._login = (name, command.password, False)
        elif isinstance(command, wire.ChangePassword):
            self._newPassword = command.new

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

    def _sendPassword(self, nickname: str, password: str, unasked: bool = False) -> None:
        self._login = (nickname, password, unasked)
        self._send(password)

    def _abort(self) -> None:
        if self.transport is not None:
            cast(ITCPTransport, self.transport).abortConnection()

    def _send(self, text: str) -> None:
        self.write(text.encode("utf-8", "replace") + b"\r\n")
