"""
Tests for L{chatsvc.lines}: framing that splits first, decodes per line,
skips over-long lines and bounds what waits for a slow reader.
"""

import socket

from hypothesis import given, strategies as st
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import ITCPTransport, IUNIXTransport
from twisted.internet.protocol import ClientFactory, Protocol, ServerFactory
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase, TestCase
from zope.interface import directlyProvides

from chatsvc.lines import BoundedLineReceiver, Outbox
from chatsvc.testing import SocketTransport


class Recorder(BoundedLineReceiver):
    maxLineBytes = 16
    sendQueueLimit = 100

    def __init__(self) -> None:
        self.received: list[object] = []
        self.overflowed = False

    def textReceived(self, text: str) -> None:
        self.received.append(text)

    def lineTooLong(self) -> None:
        self.received.append("<too long>")

    def undecodableLine(self, line: bytes) -> None:
        self.received.append(("<undecodable>", line))

    def sendQueueOverflowed(self) -> None:
        self.overflowed = True


def connected() -> tuple[Recorder, StringTransport]:
    protocol = Recorder()
    transport = StringTransport()
    protocol.makeConnection(transport)
    return protocol, transport


def feed(chunks) -> list[object]:
    protocol, _ = connected()
    for chunk in chunks:
        protocol.dataReceived(chunk)
    return protocol.received


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(data) + 1) for cut in cuts} | {0, len(data)})
    return [data[start:end] for start, end in zip(points, points[1:])]


lineTexts = st.text(
    st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]), max_size=8
)


class FramingTests(SynchronousTestCase):
    def test_lfAndCrlf(self) -> None:
        """
        LF (nc) and CRLF (telnet) both end a line.
        """
        self.assertEqual(feed([b"one\ntwo\r\nthree\n"]), ["one", "two", "three"])

    def test_splitCharacter(self) -> None:
        """
        A character split across two reads arrives whole.
        """
        data = "zażółć\n".encode()
        self.assertEqual(feed([data[:3], data[3:]]), ["zażółć"])

    def test_invalidUtf8(self) -> None:
        """
        A line that is not UTF-8 is reported, and the next line is fine.
        """
        self.assertEqual(
            feed([b"\xff\xfe\nok\n"]), [("<undecodable>", b"\xff\xfe"), "ok"]
        )

    def test_tooLongInOneRead(self) -> None:
        """
        An over-long line is dropped and reported once; lines after it in the
        same read survive.
        """
        self.assertEqual(
            feed([b"x" * 40 + b"\nafter\n"]), ["<too long>", "after"]
        )

    def test_tooLongAcrossReads(self) -> None:
        """
        An over-long line arriving in pieces is skipped to its end, once.
        """
        self.assertEqual(
            feed([b"x" * 20, b"x" * 20, b"x" * 5 + b"\nafter\n"]),
            ["<too long>", "after"],
        )

    def test_exactlyTheLimit(self) -> None:
        """
        A line of exactly maxLineBytes is accepted with either line ending;
        one byte more is not.
        """
        self.assertEqual(
            feed([b"y" * 16 + b"\r\n", b"y" * 16 + b"\n", b"y" * 17 + b"\n"]),
            ["y" * 16, "y" * 16, "<too long>"],
        )

    def test_manyLongLinesInOneRead(self) -> None:
        """
        Several over-long lines in one read are each reported.
        """
        self.assertEqual(
            feed([(b"z" * 30 + b"\n") * 3 + b"ok\n"]),
            ["<too long>"] * 3 + ["ok"],
        )

    @given(st.lists(lineTexts, max_size=10), st.lists(st.integers(0, 10_000), max_size=12))
    def test_anyChunkingSameLines(self, texts, cuts) -> None:
        """
        However a byte stream is cut into reads, the same lines come out,
        characters split across reads included.
        """
        data = b"".join(text.encode("utf-8") + b"\n" for text in texts)
        expected = feed([data])
        self.assertEqual(feed(chunked(data, cuts)), expected)

    @given(st.binary(max_size=200), st.lists(st.integers(0, 10_000), max_size=12))
    def test_anyBytesAnyChunking(self, data, cuts) -> None:
        """
        Arbitrary bytes never raise, and chunking never changes the outcome.
        """
        self.assertEqual(feed(chunked(data, cuts)), feed([data]))


class SendQueueTests(SynchronousTestCase):
    def test_writesPassWhileReading(self) -> None:
        """
        While the peer reads, everything is written through.
        """
        protocol, transport = connected()
        protocol.write(b"a" * 1000)
        self.assertEqual(len(transport.value()), 1000)
        self.assertFalse(protocol.overflowed)

    def test_overflowCutsOff(self) -> None:
        """
        Once the transport is full, more than sendQueueLimit further bytes
        cut the peer off and nothing more is written.
        """
        protocol, transport = connected()
        transport.producer.pauseProducing()
        protocol.write(b"a" * 60)
        protocol.write(b"a" * 40)
        self.assertFalse(protocol.overflowed)
        protocol.write(b"a")
        self.assertTrue(protocol.overflowed)
        written = len(transport.value())
        protocol.write(b"more")
        self.assertEqual(len(transport.value()), written)

    def test_resumeResetsTheCount(self) -> None:
        """
        A peer that catches up starts with a clean slate.
        """
        protocol, transport = connected()
        transport.producer.pauseProducing()
        protocol.write(b"a" * 90)
        transport.producer.resumeProducing()
        transport.producer.pauseProducing()
        protocol.write(b"a" * 90)
        self.assertFalse(protocol.overflowed)


class CloseTests(SynchronousTestCase):
    def test_closeUnregistersTheWriter(self) -> None:
        """
        A graceful close unregisters the writer first: Twisted holds a
        connection open while a producer is registered (always, over TLS).
        """
        protocol, transport = connected()
        transport.producer.pauseProducing()
        protocol.loseConnection()
        self.assertIsNone(transport.producer)
        self.assertTrue(transport.disconnecting)


class CountingTransport(StringTransport):
    writes = 0

    def write(self, data: bytes) -> None:
        self.writes += 1
        super().write(data)


class OutboxTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.outbox = Outbox(self.clock)

    def connect(self) -> tuple[Recorder, CountingTransport]:
        protocol = Recorder()
        protocol.outbox = self.outbox
        transport = CountingTransport()
        protocol.makeConnection(transport)
        return protocol, transport

    def test_oneWritePerTurn(self) -> None:
        """
        Everything written to a connection during one turn of the reactor
        leaves at the end of the turn, in order, in one write.
        """
        protocol, transport = self.connect()
        for text in (b"one\n", b"two\n", b"three\n"):
            protocol.write(text)
        self.assertEqual(transport.value(), b"")
        self.clock.advance(0)
        self.assertEqual(transport.value(), b"one\ntwo\nthree\n")
        self.assertEqual(transport.writes, 1)
        protocol.write(b"four\n")
        self.clock.advance(0)
        self.assertEqual(transport.value(), b"one\ntwo\nthree\nfour\n")
        self.assertEqual(transport.writes, 2)

    def test_everyConnectionFlushed(self) -> None:
        """
        One flush at the end of the turn serves every connection written to.
        """
        connections = [self.connect() for _ in range(3)]
        for index, (protocol, _) in enumerate(connections):
            protocol.write(b"%d\n" % index)
        self.assertEqual(len(self.clock.getDelayedCalls()), 1)
        self.clock.advance(0)
        self.assertEqual(
            [transport.value() for _, transport in connections], [b"0\n", b"1\n", b"2\n"]
        )

    def test_closeSendsWhatIsWaiting(self) -> None:
        """
        Lines written just before a graceful close are sent before it.
        """
        protocol, transport = self.connect()
        protocol.write(b"goodbye\n")
        protocol.loseConnection()
        self.assertEqual(transport.value(), b"goodbye\n")
        self.assertTrue(transport.disconnecting)

    def test_nothingAfterTheConnectionIsLost(self) -> None:
        """
        Output still waiting when the connection is lost is dropped, not
        written to a closed transport.
        """
        protocol, transport = self.connect()
        protocol.write(b"late\n")
        protocol.connectionLost()
        self.clock.advance(0)
        self.assertEqual(transport.writes, 0)

    def test_overflowWhileWaiting(self) -> None:
        """
        The send queue's bound holds for output flushed through the outbox.
        """
        protocol, transport = self.connect()
        transport.producer.pauseProducing()
        protocol.write(b"a" * 101)
        self.assertFalse(protocol.overflowed)
        self.clock.advance(0)
        self.assertTrue(protocol.overflowed)


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
        self.protocol = Recorder()
        self.protocol.sendQueueLimit = limit
        self.transport = SocketTransport(self.ours)
        self.protocol.makeConnection(self.transport)

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
            self.protocol.write(lines[-1])
        return b"".join(lines)

    def test_straightToTheSocket(self) -> None:
        self.protocol.write(b"hello\n")
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
        self.protocol.write(b"after\n")
        self.assertEqual(self.received(), b"")
        self.assertEqual(direct + self.transport.value(), written + b"after\n")
        # The transport has sent its buffer and asks its producer for more.
        self.transport.producer.resumeProducing()
        self.transport.clear()
        self.protocol.write(b"direct again\n")
        self.assertEqual(self.received(), b"direct again\n")
        self.assertEqual(self.transport.value(), b"")

    def test_boundOnWhatTheTransportHolds(self) -> None:
        """
        A peer that stops reading is cut off once more than the send
        queue's limit has gone to the transport since it last caught up.
        """
        self.connect(1000)
        self.fill()
        while not self.protocol.overflowed:
            self.protocol.write(b"x" * 100)
        self.assertLessEqual(len(self.transport.value()), 1000)

    def test_brokenSocketLeftToTheTransport(self) -> None:
        """
        A send that fails hands the data to the transport, which will find
        the connection broken and report it lost.
        """
        self.peer.close()
        self.protocol.write(b"into the void\n")
        self.protocol.write(b"and more\n")
        self.assertEqual(self.transport.value(), b"into the void\nand more\n")


class NagleTests(SynchronousTestCase):
    """
    A TCP connection handed several lines in one turn gets them with
    TCP_NODELAY; one handed a line at a time is left to Nagle's algorithm.
    """

    def connect(self, family: int) -> tuple[Recorder, socket.socket]:
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
        clock = Clock()
        protocol = Recorder()
        protocol.outbox = Outbox(clock)
        transport = SocketTransport(ours)
        # What Twisted's TCP and Unix transports provide.
        directlyProvides(
            transport,
            ITCPTransport,
            *([IUNIXTransport] if family == socket.AF_UNIX else []),
        )
        protocol.makeConnection(transport)
        self.clock = clock
        self.peer = peer
        return protocol, ours

    def noDelay(self, sock: socket.socket) -> bool:
        return bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    def test_batchesSentAtOnce(self) -> None:
        protocol, ours = self.connect(socket.AF_INET)
        protocol.write(b"one\n")
        self.clock.advance(0)
        self.assertFalse(self.noDelay(ours))
        protocol.write(b"two\n")
        protocol.write(b"three\n")
        self.clock.advance(0)
        self.assertTrue(self.noDelay(ours))
        protocol.write(b"four\n")
        self.clock.advance(0)
        self.assertFalse(self.noDelay(ours))

    def test_unixSocketsLeftAlone(self) -> None:
        """
        A Unix socket has no Nagle to switch; batches are written all the same.
        """
        protocol, ours = self.connect(socket.AF_UNIX)
        protocol.write(b"two\n")
        protocol.write(b"three\n")
        self.clock.advance(0)
        self.assertEqual(self.peer.recv(100), b"two\nthree\n")


class TransportNagleTests(SynchronousTestCase):
    """
    Over a transport without a socket of its own (TLS), the same switch
    goes through the transport's setTcpNoDelay.
    """

    def connect(self, *interfaces):
        class Transport(StringTransport):
            noDelay: list[bool]

            def setTcpNoDelay(self, enabled: bool) -> None:
                self.noDelay.append(enabled)

        transport = Transport()
        transport.noDelay = []
        directlyProvides(transport, *interfaces)
        self.clock = Clock()
        protocol = Recorder()
        protocol.outbox = Outbox(self.clock)
        protocol.makeConnection(transport)
        return protocol, transport

    def say(self, protocol, *lines: bytes) -> None:
        for line in lines:
            protocol.write(line)
        self.clock.advance(0)

    def test_tcp(self) -> None:
        protocol, transport = self.connect(ITCPTransport)
        self.say(protocol, b"one\n")
        self.say(protocol, b"two\n", b"three\n")
        self.say(protocol, b"four\n", b"five\n")
        self.say(protocol, b"six\n")
        self.assertEqual(transport.noDelay, [True, False])
        self.assertEqual(transport.value(), b"one\ntwo\nthree\nfour\nfive\nsix\n")

    def test_notTcp(self) -> None:
        """
        Unix sockets (whose transport is also a TCP transport to Twisted)
        and transports of no kind are left alone.
        """
        for interfaces in [(ITCPTransport, IUNIXTransport), ()]:
            protocol, transport = self.connect(*interfaces)
            self.say(protocol, b"two\n", b"three\n")
            self.assertEqual(transport.noDelay, [])


class Reader(Protocol):
    """
    A client that reads only when told to.
    """

    def __init__(self) -> None:
        self.data = b""
        self.done = Deferred()

    def dataReceived(self, data: bytes) -> None:
        self.data += data

    def connectionLost(self, reason=None) -> None:
        self.done.callback(self.data)


class RealTransportTests(TestCase):
    """
    The socket writer with Twisted's own TCP transport and reactor.
    """

    def test_backlogDrainsInOrder(self) -> None:
        """
        Output to a peer that stops reading for a while backs up into the
        transport; once the peer reads again every line arrives, once and
        in order, and the writer sends directly again.
        """
        from twisted.internet import reactor

        outbox = Outbox(reactor)
        servers: list[Recorder] = []

        class SmallBuffer(Recorder):
            def connectionMade(self) -> None:
                # Fixed and small, so output backs up into the transport soon.
                handle = self.transport.getHandle()
                handle.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
                super().connectionMade()

        class Server(ServerFactory):
            def buildProtocol(self, addr):
                protocol = SmallBuffer()
                protocol.sendQueueLimit = 1 << 24
                protocol.outbox = outbox
                servers.append(protocol)
                return protocol

        port = reactor.listenTCP(0, Server(), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        reader = Reader()
        connected = Deferred()
        factory = ClientFactory.forProtocol(lambda: reader)
        factory.clientConnectionFailed = lambda connector, reason: connected.errback(reason)
        reactor.connectTCP("127.0.0.1", port.getHost().port, factory)

        expected = b"".join(b"line %-95d\n" % n for n in range(20000))
        handedOver = []

        def write(batch: int = 0) -> None:
            if not servers:
                reactor.callLater(0.01, write)
                return
            protocol = servers[0]
            if batch == 0:
                reader.transport.pauseProducing()
                transportWrite = protocol.transport.write
                protocol.transport.write = lambda data: (
                    handedOver.append(len(data)),
                    transportWrite(data),
                )
            for n in range(batch * 1000, batch * 1000 + 1000):
                protocol.write(b"line %-95d\n" % n)
            if batch == 9:
                reader.transport.resumeProducing()
            if batch < 19:
                reactor.callLater(0.01, write, batch + 1)
            else:
                reactor.callLater(0.01, finish, protocol)

        directAgain = []

        def finish(protocol: Recorder) -> None:
            if len(reader.data) < len(expected):
                reactor.callLater(0.01, finish, protocol)
                return
            before = len(handedOver)
            protocol.write(b"the end\n")
            protocol.loseConnection()
            directAgain.append(len(handedOver) == before)

        write()

        def check(data: bytes) -> None:
            self.assertEqual(data, expected + b"the end\n")
            self.assertTrue(handedOver, "the peer never fell behind")
            self.assertEqual(directAgain, [True])

        return reader.done.addCallback(check)


class KeepAliveTests(SynchronousTestCase):
    def test_tcpSocketsProbed(self) -> None:
        """
        A TCP socket gets keepalive with short timers.
        """
        from chatsvc.lines import KEEPALIVE_IDLE, keepAlive

        class Port:
            def __init__(self, handle):
                self.fileno = handle.fileno

        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as handle:
            self.assertTrue(keepAlive(Port(handle)))
            self.assertEqual(handle.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE), 1)
            if hasattr(socket, "TCP_KEEPIDLE"):
                self.assertEqual(
                    handle.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE), KEEPALIVE_IDLE
                )

    def test_otherTransportsLeftAlone(self) -> None:
        """
        Ports without a TCP socket (memory, UNIX sockets) are untouched.
        """
        from chatsvc.lines import keepAlive

        self.assertFalse(keepAlive(StringTransport()))
        ours, theirs = socket.socketpair()
        with ours, theirs:
            self.assertFalse(keepAlive(ours))


class KeepAliveEndpointTests(TestCase):
    def test_acceptedConnectionsInherit(self) -> None:
        """
        The listening socket gets the options, and the connections it
        accepts have them without being touched.
        """
        from twisted.internet import reactor
        from twisted.internet.endpoints import TCP4ClientEndpoint, TCP4ServerEndpoint

        from chatsvc.lines import KeepAliveEndpoint

        accepted = Deferred()

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
            client = TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
            return client.connect(ClientFactory.forProtocol(Protocol))

        def connected(client):
            self.addCleanup(client.transport.loseConnection)
            return accepted

        def check(transport):
            handle = transport.getHandle()
            self.assertEqual(handle.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE), 1)
            if hasattr(socket, "TCP_KEEPIDLE"):
                self.assertEqual(
                    [
                        handle.getsockopt(socket.IPPROTO_TCP, option)
                        for option in (socket.TCP_KEEPIDLE, socket.TCP_KEEPINTVL, socket.TCP_KEEPCNT)
                    ],
                    [77, 11, 3],
                )
            transport.loseConnection()

        return endpoint.listen(Server()).addCallback(listening).addCallback(connected).addCallback(check)


class FloodTests(SynchronousTestCase):
    def flooded(self, policy):
        from twisted.internet.task import Clock

        from chatsvc.lines import FloodPolicy

        protocol, transport = connected()
        protocol.floodPolicy = FloodPolicy(*policy)
        protocol.floodClock = clock = Clock()
        protocol.warnings = 0
        protocol.exceeded = False
        protocol.floodWarned = lambda: setattr(protocol, "warnings", protocol.warnings + 1)
        protocol.floodExceeded = lambda: setattr(protocol, "exceeded", True)
        return protocol, transport, clock

    def test_burstThenRate(self) -> None:
        """
        A burst passes at once; later lines wait their turn at the rate, none
        is lost, and the sender is warned once.
        """
        protocol, transport, clock = self.flooded((3, 2.0, 100))
        protocol.dataReceived(b"".join(b"%d\n" % n for n in range(7)))
        self.assertEqual(protocol.received, ["0", "1", "2"])
        self.assertEqual(protocol.warnings, 1)
        self.assertEqual(transport.producerState, "paused")
        clock.advance(0.5)
        self.assertEqual(protocol.received, ["0", "1", "2", "3"])
        clock.advance(1.5)
        self.assertEqual(protocol.received, [str(n) for n in range(7)])
        self.assertEqual(protocol.warnings, 1)
        self.assertEqual(transport.producerState, "producing")
        self.assertFalse(protocol.exceeded)

    def test_slowingDownRefills(self) -> None:
        """
        A client that pauses gets its burst back.
        """
        protocol, transport, clock = self.flooded((3, 2.0, 100))
        protocol.dataReceived(b"a\nb\nc\n")
        clock.advance(10)
        protocol.dataReceived(b"d\ne\nf\n")
        self.assertEqual(protocol.received, list("abcdef"))
        self.assertEqual(protocol.warnings, 0)

    def test_persistentFloodIsCutOff(self) -> None:
        """
        Far past the limit of delayed lines, the flooder is reported.
        """
        protocol, transport, clock = self.flooded((2, 10.0, 5))
        protocol.dataReceived(b"x\n" * 50)
        for _ in range(20):
            clock.advance(0.1)
        self.assertTrue(protocol.exceeded)
