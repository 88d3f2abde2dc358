"""
Tests for L{chatsvc.lines}: framing that splits first, decodes per line,
skips over-long lines and bounds what waits for a slow reader.
"""

from hypothesis import given, strategies as st
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase

from chatsvc.lines import BoundedLineReceiver


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
    def test_closeUnregistersTheWatch(self) -> None:
        """
        A graceful close unregisters the send-queue watch first: Twisted holds
        a connection open while a producer is registered (always, over TLS).
        """
        protocol, transport = connected()
        transport.producer.pauseProducing()
        protocol.loseConnection()
        self.assertIsNone(transport.producer)
        self.assertTrue(transport.disconnecting)


class KeepAliveTests(SynchronousTestCase):
    def test_tcpSocketsProbed(self) -> None:
        """
        A TCP socket gets keepalive with short timers.
        """
        import socket

        from chatsvc.lines import KEEPALIVE_IDLE, keepAlive

        class Transport:
            def __init__(self, handle):
                self.handle = handle

            def getHandle(self):
                return self.handle

        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as handle:
            self.assertTrue(keepAlive(Transport(handle)))
            self.assertEqual(handle.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE), 1)
            if hasattr(socket, "TCP_KEEPIDLE"):
                self.assertEqual(
                    handle.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE), KEEPALIVE_IDLE
                )

    def test_otherTransportsLeftAlone(self) -> None:
        """
        Transports without a TCP socket (memory, UNIX sockets) are untouched.
        """
        from chatsvc.lines import keepAlive

        self.assertFalse(keepAlive(StringTransport()))


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
