"""
The native front-end: a thin protocol between C{chatsvc.native.wire} and the hub.
"""

from __future__ import annotations

import hmac

from twisted.internet.interfaces import IHalfCloseableProtocol, IReactorTime
from twisted.internet.protocol import ServerFactory
from twisted.logger import Logger
from zope.interface import implementer

from chatsvc import events
from chatsvc.errors import ChatError, NotRegistered, TooManyConnections
from chatsvc.hub import Hub, Member
from chatsvc.i18n import DEFAULT_LANGUAGE, normalizeLanguage, translation
from chatsvc.interfaces import IParticipant
from chatsvc.lines import (
    DEFAULT_SEND_QUEUE,
    BoundedLineReceiver,
    FloodPolicy,
    Outbox,
)
from chatsvc.native import wire


@implementer(IParticipant, IHalfCloseableProtocol)
class NativeProtocol(BoundedLineReceiver):
    """
    One native client: the handshake, then chat lines and commands.
    """

    log = Logger()
    maxLineBytes = wire.MAX_LINE_BYTES

    member: Member | None = None
    _closing = False
    # The server password still to be given, if the server has one.
    _password: bytes | None = None

    def __init__(self, hub: Hub, language: str = DEFAULT_LANGUAGE) -> None:
        self.hub = hub
        self.language = language

    # Connection

    def connectionMade(self) -> None:
        super().connectionMade()
        peer = self.transport.getPeer()
        try:
            self.member = self.hub.connect(
                self, username="native", host=getattr(peer, "host", "unknown")
            )
        except TooManyConnections as error:
            self.log.info("refused {peer}: {scope} limit", peer=peer, scope=error.scope)
            self.sendLines([wire.renderError(error, self._t)])
            self._closing = True
            self.loseConnection()
            return
        self._password = getattr(self.factory, "password", None)
        self.sendLines([wire.PASSWORD_PROMPT if self._password else wire.NICK_PROMPT])

    def connectionLost(self, reason=None) -> None:
        super().connectionLost(reason)
        if self.member is not None:
            self.hub.disconnect(self.member)

    def readConnectionLost(self) -> None:
        """
        The client sent EOF (C{nc} at the end of its input): leave now, and
        close once everything we owe it has been written.

        Without this Twisted would close at once and drop the replies to the
        lines that arrived just before the EOF.
        """
        if self.member is not None:
            self.hub.disconnect(self.member)
        self.loseConnection()

    def writeConnectionLost(self) -> None:
        self.loseConnection()

    # IParticipant

    def deliver(self, event: events.Event) -> None:
        if self._closing:
            return
        if isinstance(event, events.Whispered):
            data = wire.encodeEvent(event, self.language, self.member.nickname)
        else:
            data = self.factory.encode(event, self.language)
        self.write(data)
        if isinstance(event, (events.Closing, events.TimedOut)):
            self._closing = True
            self.loseConnection()

    def close(self) -> None:
        self.transport.abortConnection()

    # Input

    def textReceived(self, text: str) -> None:
        if self._closing or not text.strip(" \t"):
            return
        if self._password is not None:
            self._checkPassword(text)
            return
        if self.member.nickname is None:
            self._handshake(text)
            return
        command = wire.parseLine(text)
        handler = getattr(self, "command_" + type(command).__name__)
        try:
            handler(command)
        except ChatError as error:
            self.sendLines([wire.renderError(error, self._t)])

    def lineTooLong(self) -> None:
        self.log.info("line too long from {peer}", peer=self.transport.getPeer())
        self._refuseLine(
            self._t.gettext(
                "Line too long (at most {count} bytes); it was dropped."
            ).format(count=self.maxLineBytes)
        )

    def undecodableLine(self, line: bytes) -> None:
        self.log.info("invalid UTF-8 from {peer}", peer=self.transport.getPeer())
        self._refuseLine(self._t.gettext("That line is not valid UTF-8; it was dropped."))

    def _refuseLine(self, message: str) -> None:
        lines = [wire.error(message)]
        if self.member.nickname is None:
            # It was meant as a nickname: ask again, as for any bad one.
            lines.append(wire.NICK_PROMPT)
        self.sendLines(lines)

    def floodWarned(self) -> None:
        policy = self.floodPolicy
        self.sendLines(
            [
                wire.error(
                    self._t.gettext(
                        "Slow down: {burst} lines at once, then {rate} a second; "
                        "the rest wait their turn."
                    ).format(burst=policy.burst, rate=f"{policy.rate:g}")
                )
            ]
        )

    def floodExceeded(self) -> None:
        self.log.info("{peer} kept flooding; disconnecting", peer=self.transport.getPeer())
        self.sendLines([wire.error(self._t.gettext("Excess flood. Goodbye!"))])
        self._closing = True
        self.loseConnection()

    def sendQueueOverflowed(self) -> None:
        self.log.warn(
            "{peer} stopped reading; disconnecting", peer=self.transport.getPeer()
        )
        self.transport.abortConnection()

    # The handshake

    def _checkPassword(self, text: str) -> None:
        command = wire.parseLine(text) if text.startswith("/") else None
        if isinstance(command, (wire.Language, wire.Quit)):
            getattr(self, "command_" + type(command).__name__)(command)
            return
        if hmac.compare_digest(text.encode("utf-8"), self._password):
            self._password = None
            self.sendLines([wire.NICK_PROMPT])
            return
        # Never the attempt itself: it may be someone's real password.
        self.log.info("wrong password from {peer}", peer=self.transport.getPeer())
        self.sendLines([wire.error(self._t.gettext("Wrong password. Goodbye!"))])
        self._closing = True
        self.loseConnection()

    def _handshake(self, text: str) -> None:
        if text.startswith("/"):
            command = wire.parseLine(text)
            if isinstance(command, (wire.Language, wire.Quit, wire.Help)):
                getattr(self, "command_" + type(command).__name__)(command)
                return
            self.sendLines(
                [wire.renderError(NotRegistered(), self._t), wire.NICK_PROMPT]
            )
            return
        try:
            self.hub.register(self.member, text.strip(" "))
        except ChatError as error:
            self.sendLines([wire.renderError(error, self._t), wire.NICK_PROMPT])

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
        self.sendLines([wire.languageLine(language, self._t)])

    def command_Quit(self, command: wire.Quit) -> None:
        self.hub.disconnect(self.member, command.reason)
        self.loseConnection()

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
            [
                wire.error(
                    self._t.gettext("Usage: {usage}").format(
                        usage=wire.USAGES[command.name]
                    )
                )
            ]
        )

    # Output

    @property
    def _t(self):
        return translation(self.language)

    def sendLines(self, lines: list[str]) -> None:
        self.write("".join(line + "\r\n" for line in lines).encode("utf-8"))


class NativeFactory(ServerFactory):
    """
    Builds a L{NativeProtocol} per connection, all sharing one hub.

    @ivar language: the language of server messages for a connection until
        it asks for another with C{/lang}.
    @ivar password: the server password (UTF-8), if connections must give one.
    """

    def __init__(
        self,
        hub: Hub,
        language: str = DEFAULT_LANGUAGE,
        sendQueueLimit: int = DEFAULT_SEND_QUEUE,
        password: bytes | None = None,
        floodPolicy: FloodPolicy | None = None,
        clock: IReactorTime | None = None,
        outbox: Outbox | None = None,
    ) -> None:
        self.outbox = outbox
        self.hub = hub
        self.language = language
        self.sendQueueLimit = sendQueueLimit
        self.password = password
        self.floodPolicy = floodPolicy
        self.clock = clock

    # The last event encoded and its bytes per language (set on first use).
    _lastEvent: object = None
    _lastBytes: dict[str, bytes]

    def encode(self, event: events.Event, language: str) -> bytes:
        """
        C{event} as wire bytes in C{language}, worked out once per event.

        The hub hands one event object to every recipient in turn, so
        remembering the last one by identity makes a line said to a room of
        n cost one rendering per language, not n, without hashing anything.
        """
        if event is not self._lastEvent:
            self._lastEvent = event
            self._lastBytes = {}
        data = self._lastBytes.get(language)
        if data is None:
            data = self._lastBytes[language] = wire.encodeEvent(event, language, None)
        return data

    def buildProtocol(self, addr) -> NativeProtocol:
        protocol = NativeProtocol(self.hub, self.language)
        protocol.factory = self
        protocol.sendQueueLimit = self.sendQueueLimit
        protocol.outbox = self.outbox
        if self.floodPolicy is not None and self.clock is not None:
            protocol.floodPolicy = self.floodPolicy
            protocol.floodClock = self.clock
        return protocol
