"""
Tests for L{chatsvc.net.keepalive}: TCP keepalive set once on the listening
socket, inherited by the connections it accepts.
"""

import socket

from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint, TCP4ServerEndpoint
from twisted.internet.interfaces import IStreamServerEndpoint
from twisted.internet.protocol import ClientFactory, Protocol, ServerFactory
from twisted.internet.testing import MemoryReactor, StringTransport
from twisted.trial.unittest import SynchronousTestCase, TestCase
from zope.interface.verify import verifyObject

from chatsvc.net.keepalive import (
    KEEPALIVE_COUNT,
    KEEPALIVE_IDLE,
    KEEPALIVE_INTERVAL,
    KeepAliveEndpoint,
    keepAlive,
)

HAS_TIMERS = hasattr(socket, "TCP_KEEPIDLE")


class Port:
    """
    Something with a C{fileno()}, as Twisted's ports are.
    """

    def __init__(self, handle: socket.socket) -> None:
        self.fileno = handle.fileno


def timers(handle: socket.socket) -> list[int]:
    return [
        handle.getsockopt(socket.IPPROTO_TCP, option)
        for option in (socket.TCP_KEEPIDLE, socket.TCP_KEEPINTVL, socket.TCP_KEEPCNT)
    ]


class KeepAliveTests(SynchronousTestCase):
    def test_tcpSocketsProbed(self) -> None:
        """
        A TCP socket gets keepalive with short timers, the defaults unless
        told others.
        """
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as handle:
            self.assertTrue(keepAlive(Port(handle)))
            self.assertEqual(handle.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE), 1)
            if HAS_TIMERS:
                self.assertEqual(
                    timers(handle), [KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_COUNT]
                )

    def test_timersGiven(self) -> None:
        """
        Timers given are set, in whole seconds and at least one.
        """
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as handle:
            self.assertTrue(keepAlive(Port(handle), idle=30.7, interval=0.2, count=2))
            if HAS_TIMERS:
                self.assertEqual(timers(handle), [30, 1, 2])

    def test_portKeepsItsSocket(self) -> None:
        """
        The port's own socket stays open: the options are set through a
        handle of their own.
        """
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as handle:
            keepAlive(Port(handle))
            self.assertEqual(handle.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE), 1)
            self.assertNotEqual(handle.fileno(), -1)

    def test_otherTransportsLeftAlone(self) -> None:
        """
        Ports without a TCP socket (memory, UNIX sockets) are untouched.
        """
        self.assertFalse(keepAlive(StringTransport()))
        ours, theirs = socket.socketpair()
        with ours, theirs:
            self.assertFalse(keepAlive(ours))
            self.assertEqual(ours.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE), 0)


class KeepAliveEndpointTests(SynchronousTestCase):
    def test_isAnEndpoint(self) -> None:
        """
        The wrapper is a stream server endpoint, with the default timers
        unless given others.
        """
        endpoint = KeepAliveEndpoint(TCP4ServerEndpoint(MemoryReactor(), 0))
        self.assertTrue(verifyObject(IStreamServerEndpoint, endpoint))
        self.assertEqual(
            (endpoint.idle, endpoint.interval, endpoint.count),
            (KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_COUNT),
        )

    def test_listensThroughTheWrappedEndpoint(self) -> None:
        """
        Listening goes through the wrapped endpoint, with the factory given,
        and gives its port; a port without a socket is left as it is.
        """
        reactor = MemoryReactor()
        endpoint = KeepAliveEndpoint(TCP4ServerEndpoint(reactor, 5555, interface="127.0.0.1"))
        factory = ServerFactory()
        port = self.successResultOf(endpoint.listen(factory))
        [(portNumber, listening, _, interface)] = reactor.tcpServers
        self.assertEqual((portNumber, listening, interface), (5555, factory, "127.0.0.1"))
        self.assertEqual(port.getHost().port, 5555)


class RealKeepAliveEndpointTests(TestCase):
    timeout = 30

    def test_acceptedConnectionsInherit(self) -> None:
        """
        The listening socket gets the options, and the connections it
        accepts have them without being touched.
        """
        from twisted.internet import reactor

        accepted: Deferred = Deferred()

        class Server(ServerFactory):
            def buildProtocol(self, addr):
                protocol = Protocol()
                protocol.connectionMade = lambda: accepted.callback(protocol.transport)
                return protocol

        endpoint = KeepAliveEndpoint(
            TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1"), idle=77, interval=11, count=3
        )

        def listening(port):
            self.addCleanup(port.stopListening)
            handle = socket.socket(fileno=port.fileno())
            try:
                self.assertEqual(handle.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE), 1)
            finally:
                # The port's socket, which must stay open.
                handle.detach()
            client = TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
            return client.connect(ClientFactory.forProtocol(Protocol))

        def connected(client):
            self.addCleanup(client.transport.loseConnection)
            return accepted

        def check(transport):
            handle = transport.getHandle()
            self.assertEqual(handle.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE), 1)
            if HAS_TIMERS:
                self.assertEqual(timers(handle), [77, 11, 3])
            transport.loseConnection()

        listened = endpoint.listen(Server())
        return listened.addCallback(listening).addCallback(connected).addCallback(check)
