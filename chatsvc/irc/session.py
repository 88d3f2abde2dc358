"""
The IRC session: one client's commands in, numerics and messages out.

It dispatches each command to its handler (L{chatsvc.irc.commands}), keeps
the client alive with PINGs, and words what the shared connection asks it
to say.  Registration is L{chatsvc.irc.commands.registration}'s state machine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable

from twisted.internet.defer import Deferred
from twisted.logger import Logger
from zope.interface import implementer

from chatsvc.errors import ChatError, TooManyConnections
from chatsvc.interfaces import ISession
from chatsvc.irc import wire
from chatsvc.irc.commands import BEFORE_REGISTRATION, COMMANDS, OPERATOR_ONLY
from chatsvc.irc.commands.registration import Registration
from chatsvc.irc.errors import numericFor
from chatsvc.irc.render import NO_WALLOPS, IRCRenderer
from chatsvc.irc.wire import formatMessage
from chatsvc.net.connection import ServerConnection
from chatsvc.net.flood import FloodPolicy

if TYPE_CHECKING:
    from chatsvc.irc.commands.sasl import Exchange
    from chatsvc.irc.protocol import IRCFactory

# Lines a client may send while a check of its password runs; a client
# that sends more is flooding (one that waits for the answer sends none).
MAX_WAITING_LINES = 100


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
    @ivar sasl: the SASL exchange under way, if any
        (L{chatsvc.irc.commands.sasl}).
    """

    log = Logger()
    name = "irc"
    __slots__ = (
        "server",
        "hub",
        "registration",
        "renderer",
        "connection",
        "invisible",
        "wallops",
        "capabilities",
        "capVersion",
        "sasl",
        "_waiting",
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
        # User mode +w (WALLOPS) is on unless the client turns it off:
        # a server operator's WALLOPS is for everyone.
        self.wallops = True
        self.capabilities: frozenset[str] = frozenset()
        self.capVersion = 0
        self.sasl: Exchange | None = None
        # What to do with the lines read while an account or operator
        # check runs, in order.
        self._waiting: list[Callable[[], None]] | None = None
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
        if self._waiting is not None:
            if len(self._waiting) >= MAX_WAITING_LINES:
                self.connection.leave("Excess Flood")
                self.connection.goodbye(self.floodExceededLines())
                return
            self._waiting.append(lambda: self._dispatch(text))
            return
        self._dispatch(text)

    def wait(self, check: Deferred) -> None:
        """
        Act on no further line until C{check} (a password being checked)
        has fired, and then on those read meanwhile, in order: what a
        client sends after AUTHENTICATE or OPER may depend on the answer
        (CAP END must not register it before its account is known).

        A check that fails unexpectedly is logged; the client is told the
        service is unavailable by the handler's own errback, if any.
        """
        self._waiting = []
        check.addErrback(
            lambda failure: self.log.failure("an account check failed", failure)
        )
        check.addBoth(lambda _: self._resume())

    def _resume(self) -> None:
        queued, self._waiting = self._waiting or [], None
        while queued:
            if not self.member.connected:
                return
            queued.pop(0)()
            if self._waiting is not None:
                # That line started another check: the rest waits again.
                self._waiting.extend(queued)
                return

    def _dispatch(self, text: str) -> None:
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
            self.reply(wire.ERR_NOPRIVILEGES, "Permission Denied- You're not an IRC operator")
        else:
            self.reply(wire.ERR_UNKNOWNCOMMAND, command, "Unknown command")

    def lineTooLong(self) -> None:
        if self._waiting is not None:
            self._waiting.append(self.lineTooLong)
            return
        self.reply(wire.ERR_INPUTTOOLONG, "Input line was too long")

    def undecodableLine(self, line: bytes) -> None:
        if self._waiting is not None:
            self._waiting.append(lambda: self.undecodableLine(line))
            return
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
        if self.invisible:
            self.invisible = False
            self.server.invisibleCount -= 1

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

    def chooseRenderer(self) -> None:
        """
        Give the connection the renderer for this client's capabilities and
        the user modes that change what it is sent (C{-w}), if that is
        another one than it has.
        """
        options = self.capabilities if self.wallops else self.capabilities | {NO_WALLOPS}
        renderer = IRCRenderer.forServer(self.server.serverName, self.server.language, options)
        if renderer is not self.renderer:
            self.connection.useRenderer(renderer)

    def send(self, line: str) -> None:
        self.connection.sendLines([line])

    def sendMany(self, lines: Iterable[str]) -> None:
        self.connection.sendLines(list(lines))

    def reply(self, numeric: str, *params: str) -> None:
        self.send(self.numeric(numeric, *params))

    def numeric(self, numeric: str, *params: str) -> str:
        target = self.member.nickname or self.registration.nickname or "*"
        return formatMessage(numeric, target, *params, prefix=self.server.serverName)

    def refuse(self, command: str, error: ChatError, *subjects: str) -> None:
        """
        Answer C{command} about C{subjects} (a channel; a nickname and a
        channel for 441 and 443; none for 481), refused by the hub with
        C{error}, by its numeric (L{chatsvc.irc.errors}).
        """
        numeric, text = numericFor(command, error)
        self.reply(numeric, *subjects, text)
