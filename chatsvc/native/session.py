"""
The native session: the handshake, then chat lines and commands, between
L{chatsvc.native.wire} and the hub.
"""

from __future__ import annotations

from zope.interface import implementer

from chatsvc.errors import ChatError, NoSuchNickname, NotRegistered, TooManyConnections
from chatsvc.history import History
from chatsvc.hub import Hub
from chatsvc.i18n import normalizeLanguage, translation
from chatsvc.interfaces import ISession
from chatsvc.native import wire
from chatsvc.names import checkNickname
from chatsvc.native.render import NativeRenderer
from chatsvc.native.replay import ReplayCache
from chatsvc.net.connection import ServerConnection
from chatsvc.net.flood import FloodPolicy
from chatsvc.store.rows import privateTarget, roomTarget

# What /history shows without a count.
DEFAULT_HISTORY_COUNT = 50


@implementer(ISession)
class NativeSession:
    """
    One native client, as lines: a prompt (C{PASS} first if the server has a
    password, then C{NICK}), then chat lines and C{/} commands.
    """

    name = "native"
    __slots__ = ("hub", "history", "replays", "language", "renderer", "connection", "_password")

    def __init__(
        self,
        hub: Hub,
        language: str,
        history: History | None = None,
        replays: ReplayCache | None = None,
    ) -> None:
        self.hub = hub
        self.history = history
        self.replays = replays if replays is not None else ReplayCache()
        self.language = language
        self.renderer = NativeRenderer.forLanguage(language)
        self.connection: ServerConnection | None = None
        self._password = False

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
        if self._password:
            self._checkPassword(text)
            return
        if self.member.nickname is None:
            self._handshake(text)
            return
        command = wire.parseLine(text)
        try:
            getattr(self, "command_" + type(command).__name__)(command)
        except ChatError as error:
            self.sendLines([wire.renderError(error, self._t)])

    def lineTooLong(self) -> None:
        self._refuseLine(
            self._t.gettext("Line too long (at most {count} bytes); it was dropped.").format(
                count=wire.MAX_LINE_BYTES
            )
        )

    def undecodableLine(self, line: bytes) -> None:
        self._refuseLine(self._t.gettext("That line is not valid UTF-8; it was dropped."))

    def refusedLines(self, error: TooManyConnections, host: str) -> list[str]:
        return [wire.renderError(error, self._t)]

    def floodWarningLines(self, policy: FloodPolicy) -> list[str]:
        return [
            wire.error(
                self._t.gettext(
                    "Slow down: {burst} lines at once, then {rate} a second; "
                    "the rest wait their turn."
                ).format(burst=policy.burst, rate=f"{policy.rate:g}")
            )
        ]

    def floodExceededLines(self) -> list[str]:
        return [wire.error(self._t.gettext("Excess flood. Goodbye!"))]

    def stop(self) -> None:
        pass

    # The handshake

    def _refuseLine(self, message: str) -> None:
        lines = [wire.error(message)]
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
        self.connection.goodbye([wire.error(self._t.gettext("Wrong password. Goodbye!"))])

    def _handshake(self, text: str) -> None:
        if text.startswith("/"):
            command = wire.parseLine(text)
            if isinstance(command, (wire.Language, wire.Quit, wire.Help)):
                getattr(self, "command_" + type(command).__name__)(command)
                return
            self.sendLines([wire.renderError(NotRegistered(), self._t), wire.NICK_PROMPT])
            return
        try:
            self.hub.register(self.member, text.strip(" "))
        except ChatError as error:
            self.sendLines([wire.renderError(error, self._t), wire.NICK_PROMPT])
            return
        self._replay()

    # Commands, one method per wire.Command class

    def command_Say(self, command: wire.Say) -> None:
        self.hub.say(self.member, wire.plainText(command.text))

    def command_Act(self, command: wire.Act) -> None:
        self.hub.act(self.member, wire.plainText(command.text))

    def command_Whisper(self, command: wire.Whisper) -> None:
        self.hub.whisper(self.member, command.nickname, wire.plainText(command.text))

    def command_Rename(self, command: wire.Rename) -> None:
        self.hub.rename(self.member, command.nickname)

    def command_Join(self, command: wire.Join) -> None:
        self.hub.move(self.member, command.room)
        self._replay()

    def command_History(self, command: wire.History) -> None:
        if self.history is None:
            self.sendLines([wire.error(self._t.gettext("This server keeps no history."))])
            return
        count = command.count or DEFAULT_HISTORY_COUNT
        me = self.member.nickname
        if command.nickname is None:
            room = self.member.room.name
            target, where = roomTarget(room), {"room": room}
        else:
            # The other party may have gone: their name is enough.
            try:
                other = self.hub.find(command.nickname).nickname
            except NoSuchNickname:
                other = checkNickname(command.nickname)
            target, where = privateTarget(me, other), {"nickname": other}
        fetched = self.history.fetch(target, count)
        fetched.addCallback(
            lambda found: self.sendLines(
                wire.historyLines(found, me, self._t, self.hub.clock.seconds(), **where)
            )
        )
        fetched.addErrback(self._historyFailed)

    def _historyFailed(self, failure) -> None:
        self.connection.log.warn(
            "fetching history failed: {reason}", reason=failure.getErrorMessage()
        )
        self.sendLines([wire.error(self._t.gettext("History cannot be read just now."))])

    def _replay(self) -> None:
        """
        Show the topic of the room just entered, and the last lines said
        there, marked as such.
        """
        room = self.member.room
        if room.topic:
            self.sendLines([wire.topicLine(room.name, room.topic, self._t)])
        if self.history is None or not self.history.replay:
            return
        room = room.name
        recent = self.history.recent(room)
        if recent:
            # Room lines read the same to every viewer: worded once.
            self.connection.send(
                self.replays.block(
                    room, recent, self.member.nickname, self.language, self.hub.clock.seconds()
                )
            )

    def command_Who(self, command: wire.Who) -> None:
        nicknames = self.hub.who(self.member)
        self.sendLines([wire.whoLine(self.member.room.name, nicknames, self._t)])

    def command_Rooms(self, command: wire.Rooms) -> None:
        rooms = [(room.name, len(room.members)) for room in self.hub.rooms()]
        self.sendLines([wire.roomsLine(rooms, self._t)])

    def command_Help(self, command: wire.Help) -> None:
        self.sendLines(wire.helpLines(self._t))

    def command_Language(self, command: wire.Language) -> None:
        if command.code is None:
            self.sendLines([wire.languagesLine(self.language, self._t)])
            return
        language = normalizeLanguage(command.code)
        if language is None:
            self.sendLines(
                [
                    wire.error(
                        self._t.gettext("Unknown language {code}.").format(
                            code=wire.visible(command.code)
                        )
                    ),
                    wire.languagesLine(self.language, self._t),
                ]
            )
            return
        self.language = language
        self.connection.useRenderer(NativeRenderer.forLanguage(language))
        self.sendLines([wire.languageLine(language, self._t)])

    def command_Quit(self, command: wire.Quit) -> None:
        self.connection.leave(command.reason)
        self.connection.goodbye([])

    def command_Unknown(self, command: wire.Unknown) -> None:
        self.sendLines(
            [
                wire.error(
                    self._t.gettext("Unknown command /{name}; try /help.").format(
                        name=wire.visible(command.name)
                    )
                )
            ]
        )

    def command_Usage(self, command: wire.Usage) -> None:
        self.sendLines(
            [wire.error(self._t.gettext("Usage: {usage}").format(usage=wire.USAGES[command.name]))]
        )

    # Output

    def sendLines(self, lines: list[str]) -> None:
        self.connection.sendLines(lines)
