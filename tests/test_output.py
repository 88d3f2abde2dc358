"""
Tests for L{chatsvc.net.output} (one write per connection and reactor turn,
bounded for a peer that stops reading, straight to the socket only on
Twisted's own TCP transport) and for the client's bounded output,
L{chatsvc.client.lines}.
"""

import socket

from twisted.internet import ssl, tcp
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import ITCPTransport, IUNIXTransport
from twisted.internet.protocol import ClientFactory, Protocol, ServerFactory
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.protocols.policies import WrappingFactory
from twisted.trial.unittest import SynchronousTestCase, TestCase
from zope.interface import directlyProvides, implementer

from chatsvc.client.lines import ClientLineProtocol
from chatsvc.net.output import (
    DEFAULT_SEND_QUEUE,
    Outbox,
    Output,
    SocketWriter,
    TransportWriter,
    writerFor,
)
from chatsvc.testing import SocketTransport

# Bounded waits for the tests on the real reactor, all over loopback.
REAL_TIMEOUT = 30


class CountingTransport(StringTransport):
    """
    A transport that counts the writes made to it.
    """

    writes = 0

    def write(self, data: bytes) -> None:
        self.writes += 1
        super().write(data)


class Opened:
    """
    An L{Output} opened over a transport (with the writer L{writerFor}
    chooses, unless given one), and how often it overflowed.
    """

    def __init__(
        self, transport, limit: int = 100, outbox: Outbox | None = None, writer=None
    ) -> None:
        self.transport = transport
        self.overflows = 0
        if writer is None:
            self.output = Output.open(transport, limit, outbox, self.overflowed)
        else:
            writer.start()
            self.output = Output(transport, writer, outbox, self.overflowed)

    def overflowed(self) -> None:
        self.overflows += 1


def socketOutput(transport, sock: socket.socket, limit: int, outbox=None) -> Opened:
    """
    An L{Output} over C{transport} through a L{SocketWriter} on C{sock},
    as L{writerFor} builds for Twisted's TCP server transport.
    """
    return Opened(transport, limit, outbox, SocketWriter(transport, sock, limit))


class SendQueueTests(SynchronousTestCase):
    def test_writesPassWhileReading(self) -> None:
        """
        While the peer reads, everything is written through, however much.
        """
        opened = Opened(StringTransport())
        opened.output.send(b"a" * 1000)
        self.assertEqual(len(opened.transport.value()), 1000)
        self.assertEqual(opened.overflows, 0)

    def test_overflowCutsOff(self) -> None:
        """
        Once the transport is full, more than the limit in further bytes cut
        the peer off, once, and nothing more is written.
        """
        opened = Opened(StringTransport())
        opened.transport.producer.pauseProducing()
        opened.output.send(b"a" * 60)
        opened.output.send(b"a" * 40)
        self.assertEqual(opened.overflows, 0)
        opened.output.send(b"a")
        self.assertEqual(opened.overflows, 1)
        written = len(opened.transport.value())
        opened.output.send(b"more")
        self.assertEqual(len(opened.transport.value()), written)
        self.assertEqual(opened.overflows, 1)

    def test_resumeResetsTheCount(self) -> None:
        """
        A peer that catches up starts with a clean slate.
        """
        opened = Opened(StringTransport())
        opened.transport.producer.pauseProducing()
        opened.output.send(b"a" * 90)
        opened.transport.producer.resumeProducing()
        opened.transport.producer.pauseProducing()
        opened.output.send(b"a" * 90)
        self.assertEqual(opened.overflows, 0)

    def test_registeredAsStreamingProducer(self) -> None:
        """
        Over any transport the output's writer is the transport's streaming
        producer, so that the transport says when its buffer is full.
        """
        transport = StringTransport()
        Opened(transport)
        self.assertIsInstance(transport.producer, TransportWriter)
        self.assertTrue(transport.streaming)

    def test_defaultLimit(self) -> None:
        """
        Without a limit of its own an output allows the default send queue.
        """
        transport = StringTransport()
        overflowed = []
        output = Output.open(transport, overflowed=lambda: overflowed.append(True))
        transport.producer.pauseProducing()
        output.send(b"a" * DEFAULT_SEND_QUEUE)
        self.assertEqual(overflowed, [])
        output.send(b"a")
        self.assertEqual(overflowed, [True])


class CloseTests(SynchronousTestCase):
    def test_closeUnregistersTheWriter(self) -> None:
        """
        A graceful close unregisters the writer first: Twisted holds a
        connection open while a producer is registered (always, over TLS).
        """
        opened = Opened(StringTransport())
        opened.transport.producer.pauseProducing()
        opened.output.close()
        self.assertIsNone(opened.transport.producer)
        self.assertTrue(opened.transport.disconnecting)

    def test_discardForgetsEverything(self) -> None:
        """
        Once the connection is lost, what is queued is dropped, the writer
        is unregistered and nothing more is written.
        """
        clock = Clock()
        opened = Opened(CountingTransport(), outbox=Outbox(clock))
        opened.output.send(b"queued\n")
        opened.output.discard()
        self.assertIsNone(opened.transport.producer)
        opened.output.send(b"later\n")
        clock.advance(0)
        self.assertEqual(opened.transport.writes, 0)


class OutboxTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.outbox = Outbox(self.clock)

    def connect(self) -> Opened:
        return Opened(CountingTransport(), outbox=self.outbox)

    def test_oneWritePerTurn(self) -> None:
        """
        Everything written to a connection during one turn of the reactor
        leaves at the end of the turn, in order, in one write.
        """
        opened = self.connect()
        for text in (b"one\n", b"two\n", b"three\n"):
            opened.output.send(text)
        self.assertEqual(opened.transport.value(), b"")
        self.clock.advance(0)
        self.assertEqual(opened.transport.value(), b"one\ntwo\nthree\n")
        self.assertEqual(opened.transport.writes, 1)
        opened.output.send(b"four\n")
        self.clock.advance(0)
        self.assertEqual(opened.transport.value(), b"one\ntwo\nthree\nfour\n")
        self.assertEqual(opened.transport.writes, 2)

    def test_everyConnectionFlushed(self) -> None:
        """
        One flush at the end of the turn serves every connection written to.
        """
        connections = [self.connect() for _ in range(3)]
        for index, opened in enumerate(connections):
            opened.output.send(b"%d\n" % index)
        self.assertEqual(len(self.clock.getDelayedCalls()), 1)
        self.clock.advance(0)
        self.assertEqual(
            [opened.transport.value() for opened in connections], [b"0\n", b"1\n", b"2\n"]
        )

    def test_closeSendsWhatIsWaiting(self) -> None:
        """
        Lines written just before a graceful close are sent before it, with
        the outbox's flush at the end of the turn, and then it closes.
        """
        opened = self.connect()
        opened.output.send(b"goodbye\n")
        opened.output.close()
        opened.output.send(b"too late\n")
        self.assertFalse(opened.transport.disconnecting)
        self.clock.advance(0)
        self.assertEqual(opened.transport.value(), b"goodbye\n")
        self.assertTrue(opened.transport.disconnecting)
        self.clock.advance(0)
        self.assertEqual(opened.transport.writes, 1)

    def test_nothingAfterTheConnectionIsLost(self) -> None:
        """
        Output still waiting when the connection is lost is dropped, not
        written to a closed transport.
        """
        opened = self.connect()
        opened.output.send(b"late\n")
        opened.output.discard()
        self.clock.advance(0)
        self.assertEqual(opened.transport.writes, 0)

    def test_overflowWhileWaiting(self) -> None:
        """
        The send queue's bound holds for output flushed through the outbox.
        """
        opened = self.connect()
        opened.transport.producer.pauseProducing()
        opened.output.send(b"a" * 101)
        self.assertEqual(opened.overflows, 0)
        self.clock.advance(0)
        self.assertEqual(opened.overflows, 1)


@implementer(ITCPTransport)
class SocketWrapper(SocketTransport):
    """
    A transport that is not Twisted's TCP transport but says it is one and
    forwards C{getHandle()} to a real socket, as a protocol wrapper (a
    L{twisted.protocols.policies.ProtocolWrapper}) over TCP does.
    """


class WriterForTests(SynchronousTestCase):
    def test_anyTransport(self) -> None:
        """
        A transport that is not Twisted's TCP transport is written through.
        """
        writer = writerFor(StringTransport(), 100)
        self.assertIsInstance(writer, TransportWriter)

    def test_wrapperWithARealSocket(self) -> None:
        """
        A wrapper whose C{getHandle()} gives a real socket is still written
        through, never around: the socket may carry the wrapper's own framing
        (TLS records, WebSocket frames).
        """
        ours, peer = socket.socketpair()
        self.addCleanup(ours.close)
        self.addCleanup(peer.close)
        peer.setblocking(False)
        transport = SocketWrapper(ours)
        self.assertIsInstance(writerFor(transport, 100), TransportWriter)
        Opened(transport).output.send(b"wrapped\n")
        self.assertEqual(transport.value(), b"wrapped\n")
        self.assertRaises(BlockingIOError, peer.recv, 100)


class SocketWriterTests(SynchronousTestCase):
    """
    On a plain socket, output goes straight to the socket while the
    transport has nothing buffered.
    """

    def setUp(self) -> None:
        self.ours, self.peer = socket.socketpair()
        self.addCleanup(self.ours.close)
        self.addCleanup(self.peer.close)
        self.ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        self.ours.setblocking(False)
        self.peer.setblocking(False)
        self.connect(1 << 20)

    def connect(self, limit: int) -> None:
        self.transport = SocketTransport(self.ours)
        self.opened = socketOutput(self.transport, self.ours, limit)
        self.output = self.opened.output

    def received(self) -> bytes:
        data = b""
        while True:
            try:
                chunk = self.peer.recv(65536)
            except BlockingIOError:
                return data
            data += chunk

    def fill(self) -> bytes:
        """
        Write numbered lines until the socket no longer takes them all.
        """
        lines = []
        while not self.transport.value():
            lines.append(b"line %d\n" % len(lines))
            self.output.send(lines[-1])
        return b"".join(lines)

    def test_registeredAsPullProducer(self) -> None:
        """
        The socket writer is its transport's pull producer, so that the
        transport says when it has sent everything it held.
        """
        self.assertIsInstance(self.transport.producer, SocketWriter)
        self.assertFalse(self.transport.streaming)

    def test_straightToTheSocket(self) -> None:
        """
        While the transport holds nothing, output is sent on the socket at
        once, not handed to the transport.
        """
        self.output.send(b"hello\n")
        self.assertEqual(self.received(), b"hello\n")
        self.assertEqual(self.transport.value(), b"")

    def test_restGoesToTheTransportInOrder(self) -> None:
        """
        What the socket does not take goes to the transport, and so does
        everything after it until the transport says it has sent it all;
        then the socket is written to directly again.
        """
        written = self.fill()
        direct = self.received()
        # The socket has room again, but the transport still holds lines
        # that must go first.
        self.output.send(b"after\n")
        self.assertEqual(self.received(), b"")
        self.assertEqual(direct + self.transport.value(), written + b"after\n")
        # The transport has sent its buffer and asks its producer for more.
        self.transport.producer.resumeProducing()
        self.transport.clear()
        self.output.send(b"direct again\n")
        self.assertEqual(self.received(), b"direct again\n")
        self.assertEqual(self.transport.value(), b"")

    def test_boundOnWhatTheTransportHolds(self) -> None:
        """
        A peer that stops reading is cut off once more than the send
        queue's limit has gone to the transport since it last caught up.
        """
        self.transport.unregisterProducer()
        self.connect(1000)
        self.fill()
        while not self.opened.overflows:
            self.output.send(b"x" * 100)
        self.assertLessEqual(len(self.transport.value()), 1000)
        self.assertEqual(self.opened.overflows, 1)

    def test_brokenSocketLeftToTheTransport(self) -> None:
        """
        A send that fails hands the data to the transport, which will find
        the connection broken and report it lost.
        """
        self.peer.close()
        self.output.send(b"into the void\n")
        self.output.send(b"and more\n")
        self.assertEqual(self.transport.value(), b"into the void\nand more\n")
        self.assertEqual(self.opened.overflows, 0)


class NagleTests(SynchronousTestCase):
    """
    A TCP connection handed several lines in one turn gets them with
    TCP_NODELAY; one handed a line at a time is left to Nagle's algorithm.
    """

    def connect(self, family: int) -> tuple[Output, socket.socket]:
        if family == socket.AF_UNIX:
            ours, peer = socket.socketpair()
        else:
            with socket.socket() as listener:
                listener.bind(("127.0.0.1", 0))
                listener.listen()
                peer = socket.create_connection(listener.getsockname())
                ours, _ = listener.accept()
        self.addCleanup(ours.close)
        self.addCleanup(peer.close)
        ours.setblocking(False)
        self.clock = Clock()
        self.peer = peer
        transport = SocketTransport(ours)
        # What Twisted's TCP and Unix transports provide.
        directlyProvides(
            transport, ITCPTransport, *([IUNIXTransport] if family == socket.AF_UNIX else [])
        )
        opened = socketOutput(transport, ours, 1 << 20, Outbox(self.clock))
        return opened.output, ours

    def receive(self, size: int) -> bytes:
        """
        The next C{size} bytes the peer reads (loopback: at once).
        """
        self.peer.settimeout(REAL_TIMEOUT)
        data = b""
        while len(data) < size:
            chunk = self.peer.recv(size - len(data))
            if not chunk:
                break
            data += chunk
        return data

    def noDelay(self, sock: socket.socket) -> bool:
        return bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    def test_batchesSentAtOnce(self) -> None:
        """
        On a TCP socket a flush of several lines goes out with TCP_NODELAY,
        a flush of one line with Nagle's algorithm, switched per flush.
        """
        output, ours = self.connect(socket.AF_INET)
        output.send(b"one\n")
        self.clock.advance(0)
        self.assertFalse(self.noDelay(ours))
        output.send(b"two\n")
        output.send(b"three\n")
        self.clock.advance(0)
        self.assertTrue(self.noDelay(ours))
        output.send(b"four\n")
        self.clock.advance(0)
        self.assertFalse(self.noDelay(ours))
        self.assertEqual(self.receive(19), b"one\ntwo\nthree\nfour\n")

    def test_unixSocketsLeftAlone(self) -> None:
        """
        A Unix socket has no Nagle to switch; batches are written all the same.
        """
        output, ours = self.connect(socket.AF_UNIX)
        output.send(b"two\n")
        output.send(b"three\n")
        self.clock.advance(0)
        self.assertEqual(self.receive(10), b"two\nthree\n")


class NoDelayTransport(StringTransport):
    """
    A transport without a socket of its own (as TLS is) that records how
    it is told to switch Nagle's algorithm.
    """

    def __init__(self) -> None:
        super().__init__()
        self.noDelay: list[bool] = []

    def setTcpNoDelay(self, enabled: bool) -> None:
        self.noDelay.append(enabled)


class TransportNagleTests(SynchronousTestCase):
    """
    Over a transport without a socket of its own (TLS), the same switch
    goes through the transport's setTcpNoDelay.
    """

    def connect(self, *interfaces) -> tuple[Output, NoDelayTransport]:
        transport = NoDelayTransport()
        directlyProvides(transport, *interfaces)
        self.clock = Clock()
        return Opened(transport, 1 << 20, Outbox(self.clock)).output, transport

    def say(self, output: Output, *lines: bytes) -> None:
        for line in lines:
            output.send(line)
        self.clock.advance(0)

    def test_tcp(self) -> None:
        """
        A TCP transport is switched only when the kind of flush changes.
        """
        output, transport = self.connect(ITCPTransport)
        self.say(output, b"one\n")
        self.say(output, b"two\n", b"three\n")
        self.say(output, b"four\n", b"five\n")
        self.say(output, b"six\n")
        self.assertEqual(transport.noDelay, [True, False])
        self.assertEqual(transport.value(), b"one\ntwo\nthree\nfour\nfive\nsix\n")

    def test_notTcp(self) -> None:
        """
        Unix sockets (whose transport is also a TCP transport to Twisted)
        and transports of no kind are left alone.
        """
        for interfaces in [(ITCPTransport, IUNIXTransport), ()]:
            output, transport = self.connect(*interfaces)
            self.say(output, b"two\n", b"three\n")
            self.assertEqual(transport.noDelay, [])
            self.assertEqual(transport.value(), b"two\nthree\n")


class Reader(Protocol):
    """
    A client that collects what it reads, and says when the connection ends.
    """

    def __init__(self) -> None:
        self.data = b""
        self.done: Deferred[bytes] = Deferred()

    def dataReceived(self, data: bytes) -> None:
        self.data += data

    def connectionLost(self, reason=None) -> None:
        self.done.callback(self.data)


class Serving(ServerFactory):
    """
    Hands each connection's transport, as the server's protocol sees it,
    to C{serve}.
    """

    def __init__(self, serve) -> None:
        self.serve = serve

    def buildProtocol(self, addr):
        serve = self.serve

        class Served(Protocol):
            def connectionMade(self) -> None:
                serve(self.transport)

        return Served()


class RealWriterForTests(TestCase):
    """
    L{writerFor} with Twisted's own transports and reactor, over loopback.
    """

    timeout = REAL_TIMEOUT

    def serve(self, listen, serve, unix: bool = False) -> Deferred:
        """
        Listen with C{listen(factory)} and connect a client; the server's
        protocol hands its transport to C{serve}.  Fires with what the
        client read by the time the connection closed.
        """
        from twisted.internet import reactor

        port = listen(Serving(serve))
        self.addCleanup(port.stopListening)
        client = Reader()
        clientFactory = ClientFactory.forProtocol(lambda: client)
        clientFactory.clientConnectionFailed = lambda connector, why: client.done.errback(why)
        if unix:
            reactor.connectUNIX(port.getHost().name, clientFactory)
        else:
            reactor.connectTCP("127.0.0.1", port.getHost().port, clientFactory)
        return client.done

    def sayAndClose(self, transport, *lines: bytes) -> None:
        """
        Send C{lines} in one flush through an L{Output}, then close.
        """
        from twisted.internet import reactor

        output = Output.open(transport, outbox=Outbox(reactor))
        for line in lines:
            output.send(line)
        output.close()

    def test_tcpServer(self) -> None:
        """
        Twisted's TCP server transport is written to straight on its socket.
        """
        from twisted.internet import reactor

        def serve(transport):
            try:
                self.assertIsInstance(transport, tcp.Server)
                self.assertIsInstance(writerFor(transport, 100), SocketWriter)
            finally:
                self.sayAndClose(transport, b"straight\n", b"to the socket\n")

        listen = lambda factory: reactor.listenTCP(0, factory, interface="127.0.0.1")
        received = self.serve(listen, serve)
        return received.addCallback(self.assertEqual, b"straight\nto the socket\n")

    def test_protocolWrapper(self) -> None:
        """
        A protocol wrapper over Twisted's TCP transport (a policy, a
        throttle) forwards C{getHandle()} to the real socket and provides
        the TCP interfaces, and is still written through.
        """
        from twisted.internet import reactor

        def serve(transport):
            try:
                self.assertTrue(ITCPTransport.providedBy(transport))
                self.assertIsInstance(transport.getHandle(), socket.socket)
                self.assertIsInstance(writerFor(transport, 100), TransportWriter)
            finally:
                self.sayAndClose(transport, b"through\n", b"the wrapper\n")

        listen = lambda factory: reactor.listenTCP(
            0, WrappingFactory(factory), interface="127.0.0.1"
        )
        received = self.serve(listen, serve)
        return received.addCallback(self.assertEqual, b"through\nthe wrapper\n")

    def test_unixServer(self) -> None:
        """
        Twisted's Unix server transport is written to straight on its
        socket too; it has no Nagle to switch for a batch.
        """
        from twisted.internet import reactor

        def serve(transport):
            try:
                self.assertTrue(IUNIXTransport.providedBy(transport))
                self.assertIsInstance(writerFor(transport, 100), SocketWriter)
            finally:
                self.sayAndClose(transport, b"two\n", b"three\n")

        path = self.mktemp()
        listen = lambda factory: reactor.listenUNIX(path, factory)
        received = self.serve(listen, serve, unix=True)
        return received.addCallback(self.assertEqual, b"two\nthree\n")

    def tlsOptions(self):
        import trustme

        pem = trustme.CA().issue_cert("localhost").private_key_and_cert_chain_pem.bytes()
        return ssl.PrivateCertificate.loadPEM(pem.decode("ascii")).options()

    def test_startedTLS(self) -> None:
        """
        A plain TCP server transport that has started TLS writes TLS records
        on its socket, and is written through.
        """
        from twisted.internet import reactor

        options = self.tlsOptions()

        def serve(transport):
            try:
                transport.startTLS(options)
                self.assertIsInstance(writerFor(transport, 100), TransportWriter)
            finally:
                # The client never shakes hands: hang up at once.
                transport.abortConnection()

        listen = lambda factory: reactor.listenTCP(0, factory, interface="127.0.0.1")
        return self.serve(listen, serve)

    def test_tlsServerTransport(self) -> None:
        """
        Twisted's own TLS server transport, which is a TCP server transport
        whose socket carries TLS records, is written through, never around.
        """
        from twisted.internet import reactor

        options = self.tlsOptions()

        def listen(factory):
            port = ssl.Port(0, factory, options, interface="127.0.0.1", reactor=reactor)
            port.startListening()
            return port

        def serve(transport):
            try:
                self.assertIsInstance(transport, ssl.Server)
                self.assertIsInstance(writerFor(transport, 100), TransportWriter)
            finally:
                # The client never shakes hands: hang up at once.
                transport.abortConnection()

        return self.serve(listen, serve)


class RealTransportTests(TestCase):
    """
    The socket writer with Twisted's own TCP transport and reactor.
    """

    timeout = REAL_TIMEOUT

    def test_backlogDrainsInOrder(self) -> None:
        """
        Output to a peer that stops reading for a while backs up into the
        transport; once the peer reads again every line arrives, once and
        in order, and the writer sends directly again.
        """
        from twisted.internet import reactor

        outbox = Outbox(reactor)
        servers: list[Output] = []

        class Server(Protocol):
            def connectionMade(self) -> None:
                # Fixed and small, so output backs up into the transport soon.
                handle = self.transport.getHandle()
                handle.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
                writer = writerFor(self.transport, 1 << 24)
                assert isinstance(writer, SocketWriter), writer
                writer.start()
                self.output = Output(self.transport, writer, outbox, lambda: None)
                servers.append(self)

        port = reactor.listenTCP(0, ServerFactory.forProtocol(Server), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        reader = Reader()
        factory = ClientFactory.forProtocol(lambda: reader)
        factory.clientConnectionFailed = lambda connector, reason: reader.done.errback(reason)
        reactor.connectTCP("127.0.0.1", port.getHost().port, factory)

        expected = b"".join(b"line %-95d\n" % n for n in range(20000))
        handedOver: list[int] = []

        def write(batch: int = 0) -> None:
            if not servers:
                reactor.callLater(0.01, write)
                return
            server = servers[0]
            if batch == 0:
                reader.transport.pauseProducing()
                transportWrite = server.transport.write
                server.transport.write = lambda data: (
                    handedOver.append(len(data)),
                    transportWrite(data),
                )
            for n in range(batch * 1000, batch * 1000 + 1000):
                server.output.send(b"line %-95d\n" % n)
            if batch == 9:
                reader.transport.resumeProducing()
            if batch < 19:
                reactor.callLater(0.01, write, batch + 1)
            else:
                reactor.callLater(0.01, finish, server)

        directAgain: list[bool] = []

        def finish(server) -> None:
            if len(reader.data) < len(expected):
                reactor.callLater(0.01, finish, server)
                return
            before = len(handedOver)
            server.output.send(b"the end\n")
            # Closing flushes first.
            server.output.close()
            directAgain.append(len(handedOver) == before)

        write()

        def check(data: bytes) -> None:
            self.assertEqual(data, expected + b"the end\n")
            self.assertTrue(handedOver, "the peer never fell behind")
            self.assertEqual(directAgain, [True])

        return reader.done.addCallback(check)


class Client(ClientLineProtocol):
    """
    A client line protocol that records whether its output overflowed.
    """

    sendQueueLimit = 100

    def __init__(self) -> None:
        self.overflows = 0

    def textReceived(self, text: str) -> None:
        pass

    def lineTooLong(self) -> None:
        pass

    def undecodableLine(self, line: bytes) -> None:
        pass

    def sendQueueOverflowed(self) -> None:
        self.overflows += 1


class ClientLineProtocolTests(SynchronousTestCase):
    def connected(self) -> tuple[Client, StringTransport]:
        protocol = Client()
        transport = StringTransport()
        protocol.makeConnection(transport)
        return protocol, transport

    def test_writesPassWhileReading(self) -> None:
        """
        While the server (or whoever reads standard output) reads, the
        client's output is written through at once.
        """
        protocol, transport = self.connected()
        protocol.write(b"a" * 1000)
        self.assertEqual(len(transport.value()), 1000)
        self.assertEqual(protocol.overflows, 0)

    def test_overflowIsReported(self) -> None:
        """
        A reader that stops reading is reported once past the limit, and
        nothing more is written to it.
        """
        protocol, transport = self.connected()
        transport.producer.pauseProducing()
        protocol.write(b"a" * 100)
        self.assertEqual(protocol.overflows, 0)
        protocol.write(b"a")
        protocol.write(b"more")
        self.assertEqual(protocol.overflows, 1)
        self.assertEqual(transport.value(), b"a" * 100)

    def test_loseConnectionUnregistersTheWriter(self) -> None:
        """
        Closing sends what was written and unregisters the writer, which
        would otherwise hold the connection open.
        """
        protocol, transport = self.connected()
        protocol.write(b"bye\n")
        protocol.loseConnection()
        self.assertEqual(transport.value(), b"bye\n")
        self.assertIsNone(transport.producer)
        self.assertTrue(transport.disconnecting)

    def test_nothingAfterTheConnectionIsLost(self) -> None:
        """
        Writes after the connection is lost are dropped.
        """
        protocol, transport = self.connected()
        protocol.connectionLost(None)
        protocol.write(b"late\n")
        self.assertEqual(transport.value(), b"")
        self.assertIsNone(transport.producer)
