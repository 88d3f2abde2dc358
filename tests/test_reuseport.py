"""
The C{reuseport:} endpoint (L{chatsvc.net.reuseport}) and its description.

Whether two sockets may listen on one port, and which accepts a connection,
is the kernel's to say, so the tests of sharing run on the real reactor with
real sockets on 127.0.0.1 (and C{::1} where there is one), each on a port
the system picks; the rest use a L{MemoryReactor}.
"""

from __future__ import annotations

import errno
import os
import socket

from twisted.internet.defer import Deferred, gatherResults, inlineCallbacks
from twisted.internet.endpoints import TCP4ClientEndpoint, TCP6ClientEndpoint, serverFromString
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import IStreamServerEndpointStringParser
from twisted.internet.protocol import ClientFactory, Protocol, ServerFactory
from twisted.internet.testing import MemoryReactor
from twisted.plugin import IPlugin
from twisted.trial.unittest import SkipTest, SynchronousTestCase, TestCase
from zope.interface.verify import verifyObject

from chatsvc.net import reuseport
from chatsvc.net.reuseport import ReusePortServerEndpoint

REAL_TIMEOUT = 30

# Connections a test spreads over two listeners: all go to one of them by
# chance once in 2 ** 31 runs.
CONNECTIONS = 32


def hasIPv6Loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


class DescriptionTests(SynchronousTestCase):
    def test_description(self) -> None:
        """
        C{serverFromString} makes a reuseport endpoint of
        C{reuseport:PORT:interface=ADDR:backlog=N}, found through the plugin.
        """
        reactor = MemoryReactor()
        endpoint = serverFromString(reactor, "reuseport:5555:interface=127.0.0.1:backlog=7")
        self.assertIsInstance(endpoint, ReusePortServerEndpoint)
        self.assertIs(endpoint.reactor, reactor)
        self.assertEqual(
            (endpoint.port, endpoint.interface, endpoint.backlog), (5555, "127.0.0.1", 7)
        )

    def test_defaults(self) -> None:
        """
        As with C{tcp:}, a bare port listens on every IPv4 address with a
        backlog of 50.
        """
        endpoint = serverFromString(MemoryReactor(), "reuseport:5555")
        self.assertEqual((endpoint.port, endpoint.interface, endpoint.backlog), (5555, "", 50))

    def test_ipv6Interface(self) -> None:
        """
        An IPv6 interface is given with its colons escaped.
        """
        endpoint = serverFromString(MemoryReactor(), r"reuseport:5555:interface=\:\:1")
        self.assertEqual(endpoint.interface, "::1")

    def test_malformed(self) -> None:
        """
        A port that is not a number, or an unknown parameter, is refused.
        """
        self.assertRaises(ValueError, serverFromString, MemoryReactor(), "reuseport:chat")
        self.assertRaises(
            TypeError, serverFromString, MemoryReactor(), "reuseport:5555:colour=blue"
        )

    def test_plugin(self) -> None:
        """
        The plugin is an endpoint string parser for the C{reuseport} prefix.
        """
        from twisted.plugins.chatsvc_reuseport import reuseportEndpointParser

        self.assertTrue(verifyObject(IPlugin, reuseportEndpointParser))
        self.assertTrue(verifyObject(IStreamServerEndpointStringParser, reuseportEndpointParser))
        self.assertEqual(reuseportEndpointParser.prefix, "reuseport")


class ListenTests(SynchronousTestCase):
    def test_adopted(self) -> None:
        """
        The reactor adopts a listening, non-blocking socket of the
        interface's family; the endpoint's own descriptor is closed.
        """
        reactor = MemoryReactor()
        factory = ServerFactory()
        endpoint = ReusePortServerEndpoint(reactor, 0, interface="127.0.0.1")
        self.successResultOf(endpoint.listen(factory))
        [(fileno, family, adopted)] = reactor.adoptedPorts
        self.assertEqual((family, adopted), (socket.AF_INET, factory))
        # The memory reactor keeps no copy, so nothing holds it now.
        with self.assertRaises(OSError) as raised:
            os.fstat(fileno)
        self.assertEqual(raised.exception.errno, errno.EBADF)

    def test_portHeldWithoutTheOption(self) -> None:
        """
        A port that a plain socket listens on cannot be shared: listening
        fails with a L{CannotListenError} saying the address is in use.
        """
        plain = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(plain.close)
        plain.bind(("127.0.0.1", 0))
        plain.listen(1)
        port = plain.getsockname()[1]
        reactor = MemoryReactor()
        endpoint = ReusePortServerEndpoint(reactor, port, interface="127.0.0.1")
        failure = self.failureResultOf(endpoint.listen(ServerFactory()), CannotListenError)
        self.assertEqual(failure.value.socketError.errno, errno.EADDRINUSE)
        self.assertEqual(
            str(failure.value),
            f"Couldn't listen on 127.0.0.1:{port}: "
            f"[Errno {errno.EADDRINUSE}] {os.strerror(errno.EADDRINUSE)}.",
        )
        self.assertEqual(reactor.adoptedPorts, [])

    def test_noReusePort(self) -> None:
        """
        Where the platform has no C{SO_REUSEPORT}, listening fails with a
        L{CannotListenError} that says so.
        """
        self.patch(reuseport, "SO_REUSEPORT", None)
        reactor = MemoryReactor()
        endpoint = ReusePortServerEndpoint(reactor, 5555, interface="127.0.0.1")
        failure = self.failureResultOf(endpoint.listen(ServerFactory()), CannotListenError)
        self.assertEqual(
            str(failure.value),
            "Couldn't listen on 127.0.0.1:5555: this platform has no SO_REUSEPORT.",
        )
        self.assertEqual(reactor.adoptedPorts, [])

    def test_badInterface(self) -> None:
        """
        An interface that is no address of this host fails the same way.
        """
        endpoint = ReusePortServerEndpoint(MemoryReactor(), 0, interface="192.0.2.1")
        failure = self.failureResultOf(endpoint.listen(ServerFactory()), CannotListenError)
        self.assertEqual(failure.value.socketError.errno, errno.EADDRNOTAVAIL)


class Greeting(ServerFactory):
    """
    Says its name to each connection and closes it.
    """

    def __init__(self, name: bytes) -> None:
        self.name = name

    def buildProtocol(self, addr):
        protocol = Protocol()

        def connectionMade() -> None:
            protocol.transport.write(self.name)
            protocol.transport.loseConnection()

        protocol.connectionMade = connectionMade
        return protocol


class Hearing(Protocol):
    """
    Fires C{done} with everything the server sent once it closes.
    """

    def __init__(self) -> None:
        self.done: Deferred[bytes] = Deferred()
        self.received = b""

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason) -> None:
        self.done.callback(self.received)


class SharedPortTests(TestCase):
    """
    Two reuseport endpoints on one port, on the real reactor.
    """

    timeout = REAL_TIMEOUT

    def listen(self, port: int, name: bytes, interface: str = "127.0.0.1") -> Deferred:
        """
        Listen on C{port} with a server that greets with C{name}; fires with
        the listening port, which is closed after the test.
        """
        from twisted.internet import reactor

        def listening(listeningPort):
            self.addCleanup(listeningPort.stopListening)
            return listeningPort

        endpoint = ReusePortServerEndpoint(reactor, port, interface=interface)
        return endpoint.listen(Greeting(name)).addCallback(listening)

    def greeting(self, port: int, interface: str = "127.0.0.1") -> Deferred:
        """
        Connect to C{port}; fires with the greeting of whichever server
        accepted.
        """
        from twisted.internet import reactor

        if ":" in interface:
            client = TCP6ClientEndpoint(reactor, interface, port)
        else:
            client = TCP4ClientEndpoint(reactor, interface, port)
        hearing = Hearing()
        connected = client.connect(ClientFactory.forProtocol(lambda: hearing))
        return connected.addCallback(lambda _: hearing.done)

    @inlineCallbacks
    def test_bothListenAndAccept(self):
        """
        A second endpoint listens on the port a first one listens on; the
        connections to that port are all accepted, some by each.
        """
        first = yield self.listen(0, b"first")
        port = first.getHost().port
        second = yield self.listen(port, b"second")
        self.assertEqual(second.getHost().port, port)
        greetings = yield gatherResults([self.greeting(port) for _ in range(CONNECTIONS)])
        self.assertEqual(len(greetings), CONNECTIONS)
        self.assertEqual(set(greetings), {b"first", b"second"})

    @inlineCallbacks
    def test_oneStops(self):
        """
        Once one of the two stops listening, the other accepts every new
        connection.
        """
        first = yield self.listen(0, b"first")
        port = first.getHost().port
        yield self.listen(port, b"second")
        yield first.stopListening()
        greetings = yield gatherResults([self.greeting(port) for _ in range(CONNECTIONS)])
        self.assertEqual(set(greetings), {b"second"})

    @inlineCallbacks
    def test_ipv6(self):
        """
        An IPv6 interface gets an IPv6 socket, shared all the same.
        """
        if not hasIPv6Loopback():
            raise SkipTest("no IPv6 loopback (::1) here")
        first = yield self.listen(0, b"first", interface="::1")
        self.assertEqual(first.getHost().type, "TCP")
        self.assertEqual(first.getHost().host, "::1")
        port = first.getHost().port
        yield self.listen(port, b"second", interface="::1")
        greetings = yield gatherResults(
            [self.greeting(port, interface="::1") for _ in range(CONNECTIONS)]
        )
        self.assertEqual(set(greetings), {b"first", b"second"})
