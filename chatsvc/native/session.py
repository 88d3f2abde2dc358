"""
The native session: the handshake, then chat lines and commands, between
L{chatsvc.native.wire} and the hub.
"""

from __future__ import annotations

from typing import Protocol

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure
from zope.interface import implementer

from chatsvc.errors import (
    CannotJoin,
    ChatError,
    LoginFailed,
    NicknameReserved,
    NoSuchNickname,
    NotInRoom,
    NotLoggedIn,
    NotRegistered,
    TooManyConnections,
)
from chatsvc.history import History
from chatsvc.hub import Hub
from chatsvc.i18n import normalizeLanguage, translation
from chatsvc.interfaces import ISession
from chatsvc.names import MAX_USERNAME_LENGTH, checkNickname
from chatsvc.native import wire, wording
from chatsvc.native.render import NativeRenderer
from chatsvc.native.replay import ReplayCache
from chatsvc.net.connection import ServerConnection
from chatsvc.net.flood import FloodPolicy
from chatsvc.records import Room
from chatsvc.store.rows import privateTarget, roomTarget

# What /history shows without a count.
DEFAULT_HISTORY_COUNT = 50
# Lines kept while a password is checked; more than the flood policy lets
# through in the seconds a check takes, so none is lost but by a flood.
MAX_QUEUED_LINES = 100


class Accounts(Protocol):
    """
    What the session asks of the server's accounts (L{chatsvc.testing.FakeAccounts}
    is one); each Deferred fails with the L{ChatError} that refused it.
    """

    def login(self, name: str, password: str, address: str) -> Deferred[str]: ...

    def register(self, name: str, password: str, address: str) -> Deferred[str]: ...

    def changePassword(self, name: str, old: str, new: str, address: str) -> Deferred[None]: ...

    def drop(self, name: str, password: str, address: str) -> Deferred[None]: ...


class Opers(Protocol):
    """
    What the session asks of the server's operators (L{chatsvc.testing.FakeOpers}).
    """

    def verify(self, name: str, password: str) -> Deferred[bool]: ...


@implementer(ISession)
class NativeSession:
    """
    One native client, as lines: a prompt (C{PASS} first if the server has a
    password, then C{NICK}), then chat lines and C{/} commands.

    A registered nickname, chosen at C{NICK} or by C{/nick}, is answered
    with C{PASS nick}: the next line is its account's password.  While a
    password is checked (C{accounts} and C{opers} answer later), the lines
    that arrive are kept and handled after, in order.

    @ivar accounts: the server's accounts, or C{None} if it has none.
    @ivar opers: the server's operators, or C{None} if it has none.
    """

    name = "native"
    __slots__ = (
        "hub",
        "history",
        "replays",
        "language",
        "renderer",
        "connection",
        "accounts",
        "opers",
        "_password",
        "_account",
        "_queued",
    )

    def __init__(
        self,
        hub: Hub,
        language: str,
        history: History | None = None,
        replays: ReplayCache | None = None,
        accounts: Accounts | None = None,
        opers: Opers | None = None,
    ) -> None:
        self.hub = hub
        self.history = history
        self.replays = replays if replays is not None else ReplayCache()
        self.language = language
        self.renderer = self.rendererFor(language)
        self.connection: ServerConnection | None = None
        self.accounts = accounts
        self.opers = opers
        self._password = False
        # The registered nickname whose password the next line is.
        self._account: str | None = None
        # While a check runs: the lines that came meanwhile.
        self._queued: list[str] | None = None

    def rendererFor(self, language: str) -> NativeRenderer:
        """
        What words events for this session in C{language}.
        """
        return NativeRenderer.forLanguage(language)

    def errorLine(self, error: ChatError) -> str:
        """
        The line that tells the client what refused it.
        """
        return wording.renderError(error, self._t)

    @property
    def _t(self):
        return translation(self.language)

    @property
    def member(self):
        return self.connection.member

    # ISession

    def start(self, connection: ServerConnection) -> None:
        self.connection = connection
        self._password = connection.passwordRequired
        self.sendLines([wire.PASSWORD_PROMPT if self._password else wire.NICK_PROMPT])

    def lineReceived(self, text: str) -> None:
        if not text.strip(" \t"):
            return
        if self._queued is not None:
            if len(self._queued) >= MAX_QUEUED_LINES:
                message = self._t.gettext(
                    "Wait until your password is checked; that line was dropped."
                )
                self.sendLines([wording.error(message)])
                return
            self._queued.append(text)
            return
        if self._password:
            self._checkPassword(text)
            return
        if self._account is not None:
            self._checkAccountPassword(text)
            return
        if self.member.nickname is None:
            self._handshake(text)
            return
        command = wire.parseLine(text)
        try:
            getattr(self, "command_" + type(command).__name__)(command)
        except ChatError as error:
            self.sendLines([self.errorLine(error)])

    def lineTooLong(self) -> None:
        self._refuseLine(
            self._t.gettext("Line too long (at most {count} bytes); it was dropped.").format(
                count=wire.MAX_LINE_BYTES
            )
        )

    def undecodableLine(self, line: bytes) -> None:
        self._refuseLine(self._t.gettext("That line is not valid UTF-8; it was dropped."))

    def refusedLines(self, error: TooManyConnections, host: str) -> list[str]:
        return [self.errorLine(error)]

    def floodWarningLines(self, policy: FloodPolicy) -> list[str]:
        return [
            wording.error(
                self._t.gettext(
                    "Slow down: {burst} lines at once, then {rate} a second; "
                    "the rest wait their turn."
                ).format(burst=policy.burst, rate=f"{policy.rate:g}")
            )
        ]

    def floodExceededLines(self) -> list[str]:
        return [wording.error(self._t.gettext("Excess flood. Goodbye!"))]

    def stop(self) -> None:
        pass

    # The handshake

    def _refuseLine(self, message: str) -> None:
        lines = [wording.error(message)]
        if self.member is not None and self.member.nickname is None:
            # It was meant as a nickname: ask again, as for any bad one.
            lines.append(wire.PASSWORD_PROMPT if self._password else wire.NICK_PROMPT)
        self.sendLines(lines)

    def _checkPassword(self, text: str) -> None:
        command = wire.parseLine(text) if text.startswith("/") else None
        if isinstance(command, (wire.Language, wire.Quit)):
            getattr(self, "command_" + type(command).__name__)(command)
            return
        if self.connection.checkPassword(text):
            self._password = False
            self.sendLines([wire.NICK_PROMPT])
            return
        self.connection.goodbye([wording.error(self._t.gettext("Wrong password. Goodbye!"))])

    def _handshake(self, text: str) -> None:
        if text.startswith("/"):
            command = wire.parseLine(text)
            if isinstance(command, (wire.Language, wire.Quit, wire.Help)):
                getattr(self, "command_" + type(command).__name__)(command)
                return
            self.sendLines([self.errorLine(NotRegistered()), wire.NICK_PROMPT])
            return
        self._register(text.strip(" "))

    def _register(self, nickname: str) -> None:
        """
        Take C{nickname} and enter the default room; if the nickname is
        registered, ask for its password first; if the default room bans
        the newcomer, take the nickname in no room.
        """
        try:
            # The first nickname is the user name IRC masks show (as IRC's
            # USER gives one), so that a ban of nick!user@host names this
            # one native user, not all of them behind one address.
            username = checkNickname(nickname)[:MAX_USERNAME_LENGTH]
            try:
                self.hub.register(self.member, nickname, username=username)
            except CannotJoin as error:
                self.hub.register(self.member, nickname, enter=False, username=username)
                self.sendLines(
                    [self.errorLine(error), self.errorLine(NotInRoom(""))]
                )
                return
        except NicknameReserved as error:
            if self.accounts is None:
                self.sendLines([self.errorLine(error), wire.NICK_PROMPT])
            else:
                self._askAccountPassword(error.nickname)
            return
        except ChatError as error:
            self.sendLines([self.errorLine(error), wire.NICK_PROMPT])
            return
        self._replay()

    # Passwords, checked while the lines that follow wait

    def _askAccountPassword(self, nickname: str) -> None:
        self._account = nickname
        self.sendLines(wording.accountPromptLines(nickname, self._t))

    def _checkAccountPassword(self, text: str) -> None:
        """
        C{text} is the password of the account the nickname asked for is
        registered to: log in to it and take the nickname, or say that it
        is wrong (and ask for a nickname again, if there is none yet).
        """
        command = wire.parseLine(text) if text.startswith("/") else None
        if isinstance(command, (wire.Language, wire.Quit)):
            getattr(self, "command_" + type(command).__name__)(command)
            return
        nickname, self._account = self._account, None
        owner = self.hub.nicknameOwner(nickname)
        if owner is None:
            # Dropped meanwhile: the nickname is anyone's.
            self._loggedIn(None, nickname)
            return
        checked = self.accounts.login(owner, text.strip(" "), self.member.host)
        checked.addCallback(self._loggedIn, nickname)
        self._wait(checked, prompt=self.member.nickname is None)

    def _loggedIn(self, account: str | None, nickname: str) -> None:
        if not self.member.connected:
            return
        if self.member.nickname is not None:
            if account is not None:
                self.hub.logIn(self.member, account)
            self.hub.rename(self.member, nickname)
            return
        if account is not None:
            # Before registering, so that the account's nickname is its own.
            self.hub.logIn(self.member, account)
        self._register(nickname)
        if account is not None and self.member.nickname is not None:
            self.sendLines([wording.loggedInLine(account, self._t)])

    def _wait(self, checked: Deferred, prompt: bool = False) -> None:
        """
        Keep the lines that arrive until C{checked} fires, then handle them
        in order; say what refused it, and ask for a nickname again if
        C{prompt}.
        """
        self._queued = []
        checked.addErrback(self._checkFailed, prompt)
        checked.addCallback(lambda _: self._release())

    def _checkFailed(self, failure: Failure, prompt: bool) -> None:
        if failure.check(ChatError):
            lines = [self.errorLine(failure.value)]
        else:
            # Never the request itself: it holds a password.
            self.connection.log.warn(
                "checking a password failed: {reason}", reason=failure.getErrorMessage()
            )
            lines = [wording.error(self._t.gettext("Passwords cannot be checked just now."))]
        if prompt and self.member.nickname is None:
            lines.append(wire.NICK_PROMPT)
        self.sendLines(lines)

    def _release(self) -> None:
        queued, self._queued = self._queued, None
        while queued and self._queued is None and self.member.connected:
            self.lineReceived(queued.pop(0))
        if self._queued is not None:
            # A kept line started another check: the rest wait for it too.
            self._queued[:0] = queued

    # Commands, one method per wire.Command class

    def command_Say(self, command: wire.Say) -> None:
        self.hub.say(self.member, wire.plainText(command.text))

    def command_Act(self, command: wire.Act) -> None:
        self.hub.act(self.member, wire.plainText(command.text))

    def command_Whisper(self, command: wire.Whisper) -> None:
        self.hub.whisper(self.member, command.nickname, wire.plainText(command.text))

    def command_Rename(self, command: wire.Rename) -> None:
        try:
            self.hub.rename(self.member, command.nickname)
        except NicknameReserved as error:
            if self.accounts is None:
                raise
            self._askAccountPassword(error.nickname)

    def command_Join(self, command: wire.Join) -> None:
        self.hub.move(self.member, command.room, command.key)
        self._replay()

    def command_History(self, command: wire.History) -> None:
        if self.history is None:
            self.sendLines([wording.error(self._t.gettext("This server keeps no history."))])
            return
        me = self.member.nickname
        if command.nickname is None:
            room = self._room().name
            target, where = roomTarget(room), {"room": room}
        else:
            # The other party may have gone: their name is enough.
            try:
                other = self.hub.find(command.nickname).nickname
            except NoSuchNickname:
                other = checkNickname(command.nickname)
            target, where = privateTarget(me, other), {"nickname": other}
        fetched = self.history.fetch(target, command.count or DEFAULT_HISTORY_COUNT)
        fetched.addCallback(self.showHistory, **where)
        fetched.addErrback(self._historyFailed)

    def showHistory(
        self, found: list, room: str | None = None, nickname: str | None = None
    ) -> None:
        """
        Show C{found}, the history of C{room} or of the private
        conversation with C{nickname}, oldest first.
        """
        where = {"room": room} if nickname is None else {"nickname": nickname}
        self.sendLines(
            wording.historyLines(
                found, self.member.nickname, self._t, self.hub.clock.seconds(), **where
            )
        )

    def _historyFailed(self, failure) -> None:
        self.connection.log.warn(
            "fetching history failed: {reason}", reason=failure.getErrorMessage()
        )
        self.sendLines([wording.error(self._t.gettext("History cannot be read just now."))])

    def _replay(self) -> None:
        """
        Show the topic of the room just entered, and the last lines said
        there, marked as such.
        """
        room = self.member.room
        if room is None:
            return
        if room.topic:
            self.sendLines([wording.topicLine(room.name, room.topic, self._t)])
        if self.history is None or not self.history.replay:
            return
        room = room.name
        recent = self.history.recent(room)
        if recent:
            # Room lines read the same to every viewer: worded once.
            self.connection.write(
                self.replays.block(
                    room, recent, self.member.nickname, self.language, self.hub.clock.seconds()
                )
            )

    # Moderation of one's room

    def _room(self) -> Room:
        """
        The room the client is in.

        @raise NotInRoom: it is in none (it was put out of its last).
        """
        room = self.member.room
        if room is None:
            raise NotInRoom("")
        return room

    def command_Topic(self, command: wire.Topic) -> None:
        room = self._room()
        if command.text is None:
            self.sendLines([wording.topicReplyLine(room.name, room.topic, self._t)])
            return
        self.hub.setTopic(self.member, room.name, wire.plainText(command.text))

    def command_ShowModes(self, command: wire.ShowModes) -> None:
        room = self._room()
        self.sendLines([wording.modesLine(room.name, room.modes, self._t)])

    def command_ChangeModes(self, command: wire.ChangeModes) -> None:
        made, refused = self.hub.setModes(self.member, self._room().name, list(command.changes))
        # What was made, the room (and so the client) hears of.
        lines = [self.errorLine(error) for error in refused]
        if not made and not refused:
            lines.append(self._t.gettext("Nothing changed."))
        self.sendLines(lines)

    def command_Bans(self, command: wire.Bans) -> None:
        room = self._room()
        self.sendLines(
            wording.bansLines(room.name, list(room.bans.values()), self._t, self.hub.clock.seconds())
        )

    def command_Kick(self, command: wire.Kick) -> None:
        reason = wire.plainText(command.reason) if command.reason else None
        self.hub.kick(self.member, self._room().name, command.nickname, reason)

    def command_Invite(self, command: wire.Invite) -> None:
        room = self._room()
        guest = self.hub.invite(self.member, room.name, command.nickname)
        lines = [
            self._t.gettext("You invited {nickname} to room {room}.").format(
                nickname=guest.nickname, room=room.name
            )
        ]
        if guest.away:
            lines.append(
                self._t.gettext("{nickname} is away: {message}").format(
                    nickname=guest.nickname, message=wire.visible(guest.away)
                )
            )
        self.sendLines(lines)

    def command_RegisterRoom(self, command: wire.RegisterRoom) -> None:
        room = self.hub.registerRoom(self.member, self._room().name)
        self.sendLines(
            [
                self._t.gettext("Room {room} is now registered to your account {account}.").format(
                    room=room.name, account=room.owner
                )
            ]
        )

    # Accounts: every answer comes later, and the lines after wait for it

    def _accountsOrSay(self) -> bool:
        if self.accounts is None:
            self.sendLines([wording.error(self._t.gettext("This server has no accounts."))])
            return False
        return True

    def _loggedInAccount(self) -> str:
        account = self.member.account
        if account is None:
            raise NotLoggedIn()
        return account

    def command_RegisterAccount(self, command: wire.RegisterAccount) -> None:
        if not self._accountsOrSay():
            return
        registered = self.accounts.register(
            self.member.nickname, command.password, self.member.host
        )
        registered.addCallback(self._registeredAccount)
        self._wait(registered)

    def _registeredAccount(self, account: str) -> None:
        self.sendLines(
            [self._t.gettext("The account {account} is registered.").format(account=account)]
        )
        self.hub.logIn(self.member, account)

    def command_Identify(self, command: wire.Identify) -> None:
        if not self._accountsOrSay():
            return
        name = command.account or self.member.nickname
        checked = self.accounts.login(name, command.password, self.member.host)
        checked.addCallback(self._identified)
        self._wait(checked)

    def _identified(self, account: str) -> None:
        if account == self.member.account:
            # Nothing changes, so nobody is told: say it here.
            self.sendLines([wording.loggedInLine(account, self._t)])
            return
        self.hub.logIn(self.member, account)

    def command_ChangePassword(self, command: wire.ChangePassword) -> None:
        if not self._accountsOrSay():
            return
        changed = self.accounts.changePassword(
            self._loggedInAccount(), command.old, command.new, self.member.host
        )
        changed.addCallback(
            lambda _: self.sendLines([self._t.gettext("Your password is changed.")])
        )
        self._wait(changed)

    def command_Drop(self, command: wire.Drop) -> None:
        if not self._accountsOrSay():
            return
        account = self._loggedInAccount()
        dropped = self.accounts.drop(account, command.password, self.member.host)
        dropped.addCallback(lambda _: self._dropped(account))
        self._wait(dropped)

    def _dropped(self, account: str) -> None:
        self.sendLines(
            [self._t.gettext("The account {account} is dropped.").format(account=account)]
        )
        self.hub.accountDropped(account)

    # Server operators

    def command_Oper(self, command: wire.Oper) -> None:
        if self.opers is None:
            self.sendLines([wording.error(self._t.gettext("This server has no server operators."))])
            return
        verified = self.opers.verify(command.name, command.password)
        verified.addCallback(self._opered, command.name)
        self._wait(verified)

    def _opered(self, right: bool, name: str) -> None:
        if not right:
            raise LoginFailed(name)
        self.hub.becomeOperator(self.member, name)
        self.sendLines(
            [self._t.gettext("You are now server operator {name}.").format(name=name)]
        )

    def command_Kill(self, command: wire.Kill) -> None:
        nickname = self.hub.find(command.nickname).nickname
        self.hub.kill(self.member, nickname, wire.plainText(command.reason))
        self.sendLines(
            [self._t.gettext("You put {nickname} off the server.").format(nickname=nickname)]
        )

    def command_Wallops(self, command: wire.Wallops) -> None:
        self.hub.wallops(self.member, wire.plainText(command.text))

    def command_Who(self, command: wire.Who) -> None:
        nicknames = self.hub.who(self.member)
        self.sendLines([wording.whoLine(self.member.room.name, nicknames, self._t)])

    def command_Rooms(self, command: wire.Rooms) -> None:
        rooms = [(room.name, len(room.members)) for room in self.hub.listedRooms(self.member)]
        self.sendLines([wording.roomsLine(rooms, self._t)])

    def command_Help(self, command: wire.Help) -> None:
        self.sendLines(wording.helpLines(self._t))

    def command_Language(self, command: wire.Language) -> None:
        if command.code is None:
            self.sendLines([wording.languagesLine(self.language, self._t)])
            return
        language = normalizeLanguage(command.code)
        if language is None:
            self.sendLines(
                [
                    wording.error(
                        self._t.gettext("Unknown language {code}.").format(
                            code=wire.visible(command.code)
                        )
                    ),
                    wording.languagesLine(self.language, self._t),
                ]
            )
            return
        self.language = language
        self.connection.useRenderer(self.rendererFor(language))
        self.sendLines([wording.languageLine(language, self._t)])

    def command_Quit(self, command: wire.Quit) -> None:
        self.connection.leave(command.reason)
        self.connection.goodbye([])

    def command_Unknown(self, command: wire.Unknown) -> None:
        self.sendLines(
            [
                wording.error(
                    self._t.gettext("Unknown command /{name}; try /help.").format(
                        name=wire.visible(command.name)
                    )
                )
            ]
        )

    def command_Usage(self, command: wire.Usage) -> None:
        self.sendLines(
            [wording.error(self._t.gettext("Usage: {usage}").format(usage=wire.USAGES[command.name]))]
        )

    # Output

    def sendLines(self, lines: list[str]) -> None:
        self.connection.sendLines(lines)
