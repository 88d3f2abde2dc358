"""
C{reuseport:PORT[:interface=ADDR][:backlog=N]}: a TCP port that several
processes listen on at once.

With C{SO_REUSEPORT} (Linux 3.9 and later), every process of one user that
binds the same address and port with the option set listens there, and the
kernel spreads new connections among them: several nodes of one chat behind
one address, with no proxy in front.  Twisted's TCP endpoints cannot set the
option, so this one makes the listening socket itself and hands it to the
reactor (L{IReactorSocket.adoptStreamPort}).

The twistd plugin C{twisted/plugins/chatsvc_reuseport.py} registers
L{ReusePortParser}, so that C{serverFromString} (and with it C{--port},
C{--irc-port} and C{--web-port}) knows the description.
"""

from __future__ import annotations

import socket
from typing import Any

from twisted.internet import defer
from twisted.internet.abstract import isIPv6Address
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import (
    IListeningPort,
    IProtocolFactory,
    IReactorSocket,
    IStreamServerEndpoint,
    IStreamServerEndpointStringParser,
)
from twisted.plugin import IPlugin
from zope.interface import implementer

# None where the platform has no such option (Windows).  Some that have it
# (macOS) let the processes share the port without spreading the connections
# among them.
SO_REUSEPORT: int | None = getattr(socket, "SO_REUSEPORT", None)

# What Twisted's tcp: listens with; chatsvc.tap asks for more.
DEFAULT_BACKLOG = 50


@implementer(IStreamServerEndpoint)
class ReusePortServerEndpoint:
    """
    Listens on TCP C{port} of C{interface} with C{SO_REUSEADDR} and
    C{SO_REUSEPORT} set, sharing the port with whatever else listens there
    with C{SO_REUSEPORT} as the same user.

    The interface is an address, IPv6 if it is one (then as C{tcp6:}
    listens: on Linux, C{::} takes IPv4 too); C{""}, the default, is every
    IPv4 address, as with C{tcp:}.  Each call to L{listen} makes a socket of
    its own.
    """

    def __init__(
        self,
        reactor: IReactorSocket,
        port: int,
        backlog: int = DEFAULT_BACKLOG,
        interface: str = "",
    ) -> None:
        self.reactor = reactor
        self.port = port
        self.backlog = backlog
        self.interface = interface

    def listen(self, protocolFactory: IProtocolFactory) -> defer.Deferred[IListeningPort]:
        """
        Listen, and serve C{protocolFactory}'s protocols.

        @return: a L{Deferred} of the L{IListeningPort}, or failing with
            L{CannotListenError} when the platform has no C{SO_REUSEPORT} or
            the port cannot be bound (another process holds it without the
            option, or as another user).
        """
        try:
            handle = self._listeningSocket()
        except CannotListenError:
            return defer.fail()
        # The reactor's port works on a duplicate of the descriptor; ours is
        # closed once it is adopted, or failed to be.
        with handle:
            return defer.execute(
                self.reactor.adoptStreamPort, handle.fileno(), handle.family, protocolFactory
            )

    def _listeningSocket(self) -> socket.socket:
        """
        A bound, listening, non-blocking socket with the options set.

        @raise CannotListenError: if any step fails.
        """
        if SO_REUSEPORT is None:
            raise CannotListenError(
                self.interface, self.port, "this platform has no SO_REUSEPORT"
            )
        try:
            if isIPv6Address(self.interface):
                family = socket.AF_INET6
                # Numeric only, with a scope (fe80::1%eth0) resolved.
                address = socket.getaddrinfo(
                    self.interface,
                    self.port,
                    family,
                    socket.SOCK_STREAM,
                    0,
                    socket.AI_NUMERICHOST,
                )[0][4]
            else:
                family = socket.AF_INET
                address = (self.interface, self.port)
            handle = socket.socket(family, socket.SOCK_STREAM)
        except OSError as error:
            raise CannotListenError(self.interface, self.port, error)
        try:
            handle.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            handle.setsockopt(socket.SOL_SOCKET, SO_REUSEPORT, 1)
            handle.bind(address)
            handle.listen(self.backlog)
            handle.setblocking(False)
        except OSError as error:
            handle.close()
            raise CannotListenError(self.interface, self.port, error)
        return handle


@implementer(IPlugin, IStreamServerEndpointStringParser)
class ReusePortParser:
    """
    Makes a L{ReusePortServerEndpoint} of
    C{reuseport:PORT[:interface=ADDR][:backlog=N]}.

    The colons of an IPv6 interface are escaped, as for C{tcp6:}:
    C{reuseport:5555:interface=\\:\\:1}.
    """

    prefix = "reuseport"

    def parseStreamServer(
        self, reactor: IReactorSocket, *args: Any, **kwargs: Any
    ) -> ReusePortServerEndpoint:
        # Through another method: zope.interface insists that this one take
        # any arguments, as the interface declares.
        return self._parse(reactor, *args, **kwargs)

    def _parse(
        self,
        reactor: IReactorSocket,
        port: str,
        backlog: str = str(DEFAULT_BACKLOG),
        interface: str = "",
    ) -> ReusePortServerEndpoint:
        return ReusePortServerEndpoint(reactor, int(port), int(backlog), interface)
