"""
The IRC session: one client's commands in, numerics and messages out.

It dispatches each command to its handler (L{chatsvc.irc.commands}), keeps
the client alive with PINGs, and words what the shared connection asks it
to say.  Registration is L{chatsvc.irc.commands.registration}'s state machine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from zope.interface import implementer

from chatsvc.errors import ChatError, TooManyConnections
from chatsvc.interfaces import ISession
from chatsvc.irc import wire
from chatsvc.irc.commands import BEFORE_REGISTRATION, COMMANDS, OPERATOR_ONLY
from chatsvc.irc.errors import numericFor
from chatsvc.irc.commands.registration import Registration
from chatsvc.irc.render import IRCRenderer
from chatsvc.irc.wire import formatMessage
from chatsvc.net.connection import ServerConnection
from chatsvc.net.flood import FloodPolicy

if TYPE_CHECKING:
    from chatsvc.irc.protocol import IRCFactory


def closingLink(host: str, why: str) -> str:
    """
    The ERROR line that ends a connection from C{host}, for C{why}.
    """
    return formatMessage("ERROR", f"Closing Link: {host} ({why})")


@implementer(ISession)
class IRCSession:
    """
    One IRC client.

    @ivar server: what every session of this front-end shares (the hub, the
        clock, the server's name, MOTD and keepalive timing).
    @ivar invisible: user mode C{+i}.
    @ivar capabilities: the IRCv3 capabilities the client negotiated
        (L{chatsvc.irc.commands.caps}).
    @ivar capVersion: the highest C{CAP LS} version it sent (0: none).
    """

    name = "irc"
    __slots__ = (
        "server",
        "hub",
        "registration",
        "renderer",
        "connection",
        "invisible",
        "capabilities",
        "capVersion",
        "_idleCall",
        "_awaitingPong",
    )

    def __init__(self, server: IRCFactory) -> None:
        self.server = server
        self.hub = server.hub
        self.registration = Registration()
        self.renderer = IRCRenderer.forServer(server.serverName, server.language)
        self.connection: ServerConnection | None = None
        self.invisible = False
        self.capabilities: frozenset[str] = frozenset()
        self.capVersion = 0
        self._idleCall = None
        self._awaitingPong = False

    @property
    def member(self):
        return self.connection.member

    @property
    def mask(self) -> str:
        """
        This client's own C{nick!user@host}.
        """
        return self.member.identity.mask

    # ISession

    def start(self, connection: ServerConnection) -> None:
        self.connection = connection
        self._heard()

    def lineReceived(self, text: str) -> None:
        self._heard()
        if wire.overLimit(text):
            self.lineTooLong()
            return
        message = wire.parseMessage(text)
        if message is None:
            return
        command = message.command
        if self.member.nickname is None and command not in BEFORE_REGISTRATION:
            self.reply(wire.ERR_NOTREGISTERED, "You have not registered")
            return
        handler = COMMANDS.get(command)
        if handler is not None:
            handler(self, message.params)
        elif command in OPERATOR_ONLY:
            channel = message.params[0] if message.params else "*"
            self.reply(wire.ERR_CHANOPRIVSNEEDED, channel, "You're not a channel operator")
        else:
            self.reply(wire.ERR_UNKNOWNCOMMAND, command, "Unknown command")

    def lineTooLong(self) -> None:
        self.reply(wire.ERR_INPUTTOOLONG, "Input line was too long")

    def undecodableLine(self, line: bytes) -> None:
        command = line.split(b" ", 2)
        name = command[1] if line.startswith((b":", b"@")) and len(command) > 1 else command[0]
        name = name.decode("ascii", "replace").upper() or "*"
        self.send(
            formatMessage(
                "FAIL",
                name,
                "INVALID_UTF8",
                "Message rejected: this server speaks UTF-8 only",
                prefix=self.server.serverName,
            )
        )

    def refusedLines(self, error: TooManyConnections, host: str) -> list[str]:
        why = "Too many connections from your address" if error.scope == "address" else "Server full"
        return [closingLink(host, why)]

    def floodWarningLines(self, policy: FloodPolicy) -> list[str]:
        return [
            formatMessage(
                "NOTICE",
                self.member.nickname or "*",
                f"*** Slow down: {policy.burst} lines at once, then {policy.rate:g} "
                "a second; the rest wait their turn.",
                prefix=self.server.serverName,
            )
        ]

    def floodExceededLines(self) -> list[str]:
        return [self.closingLink("Excess Flood")]

    def stop(self) -> None:
        if self._idleCall is not None and self._idleCall.active():
            self._idleCall.cancel()

    # Keeping alive: a client silent for pingInterval is sent a PING; one
    # silent for pingTimeout more is gone.

    def _heard(self) -> None:
        self._awaitingPong = False
        if self._idleCall is not None and self._idleCall.active():
            self._idleCall.reset(self.server.pingInterval)
        else:
            self._idleCall = self.server.clock.callLater(self.server.pingInterval, self._silent)

    def _silent(self) -> None:
        name = self.server.serverName
        if self._awaitingPong:
            self.connection.log.info("IRC client {peer} timed out", peer=self.connection.host)
            self.connection.leave("Ping timeout")
            self.connection.abort([self.closingLink("Ping timeout")])
            return
        self._awaitingPong = True
        self.send(formatMessage("PING", name, prefix=name))
        self._idleCall = self.server.clock.callLater(self.server.pingTimeout, self._silent)

    # Output

    def closingLink(self, why: str) -> str:
        """
        The ERROR line that ends this connection, for C{why}.
        """
        return closingLink(self.connection.host, why)

    def send(self, line: str) -> None:
        self.connection.sendLines([line])

    def sendMany(self, lines: Iterable[str]) -> None:
        self.connection.sendLines(list(lines))

    def reply(self, numeric: str, *params: str) -> None:
        self.send(self.numeric(numeric, *params))

    def numeric(self, numeric: str, *params: str) -> str:
        target = self.member.nickname or self.registration.nickname or "*"
        return formatMessage(numeric, target, *params, prefix=self.server.serverName)

    def refuse(self, command: str, error: ChatError, subject: str) -> None:
        """
        Answer C{command} about C{subject}, refused by the hub with C{error},
        by its numeric (L{chatsvc.irc.errors}).
        """
        numeric, text = numericFor(command, error)
        self.reply(numeric, subject, text)
