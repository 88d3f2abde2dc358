"""
The TCP adapter: frames a byte stream into lines for a L{ServerConnection}.

Thin on purpose: a WebSocket adapter is the same thing with messages for
lines.  Everything else a connection needs lives in
L{chatsvc.net.connection}.
"""

from __future__ import annotations

from typing import Callable

from twisted.internet.interfaces import IHalfCloseableProtocol, IProtocol, IReactorTime
from twisted.internet.protocol import ServerFactory
from zope.interface import implementer

from chatsvc.hub import Hub
from chatsvc.interfaces import ISession
from chatsvc.net.connection import Limits, ServerConnection
from chatsvc.net.framing import LineFramer
from chatsvc.net.output import Outbox


@implementer(IProtocol, IHalfCloseableProtocol)
class LineServerProtocol:
    """
    Lines from a stream transport to a connection, and the transport's end.

    An L{IProtocol} of its own rather than a L{Protocol} subclass, so that it
    can have slots: one per connection, and tens of thousands of them.
    """

    __slots__ = ("connection", "transport", "_framer")

    def __init__(self, connection: ServerConnection, maxLineBytes: int) -> None:
        self.connection = connection
        self.transport = None
        self._framer = LineFramer(maxLineBytes, connection)

    def makeConnection(self, transport) -> None:
        self.transport = transport
        self.connectionMade()

    def connectionMade(self) -> None:
        self.connection.connectionMade(self.transport, self)

    def logPrefix(self) -> str:
        return self.connection.session.name

    def dataReceived(self, data: bytes) -> None:
        self._framer.feed(data)

    def connectionLost(self, reason=None) -> None:
        self._framer.stop()
        self.connection.connectionLost()

    def readConnectionLost(self) -> None:
        # A half line before EOF is never said (docs/protocol.rst): the
        # client may have died mid-line.
        self.connection.readConnectionLost()

    def writeConnectionLost(self) -> None:
        self.connection.goodbye([])

    # Input control, for the connection's flood control

    def pause(self) -> None:
        self._framer.pause()
        self.transport.pauseProducing()

    def resume(self) -> None:
        if not self.transport.disconnecting:
            self.transport.resumeProducing()
        self._framer.resume()

    def stop(self) -> None:
        self._framer.stop()


class LineServerFactory(ServerFactory):
    """
    Builds, per TCP connection, a front-end session, its L{ServerConnection}
    and the adapter between them.

    @param newSession: makes a session for a new connection.
    @param username: the user name the hub records until the session says
        another (IRC's USER).
    @ivar maxLineBytes: the longest line its sessions take.
    """

    protocol = LineServerProtocol

    def __init__(
        self,
        hub: Hub,
        newSession: Callable[[], ISession],
        maxLineBytes: int,
        clock: IReactorTime | None = None,
        limits: Limits = Limits(),
        outbox: Outbox | None = None,
        username: str = "user",
    ) -> None:
        self.hub = hub
        self.clock = clock if clock is not None else hub.clock
        self.limits = limits
        self.outbox = outbox
        self._newSession = newSession
        self.maxLineBytes = maxLineBytes
        self._username = username

    def newConnection(self) -> ServerConnection:
        """
        A connection with a new session of this front-end, for any transport
        adapter (this factory's own, or a WebSocket's).
        """
        return ServerConnection(
            self.hub, self._newSession(), self.clock, self.limits, self.outbox, self._username
        )

    def buildProtocol(self, addr) -> LineServerProtocol:
        return self.protocol(self.newConnection(), self.maxLineBytes)
