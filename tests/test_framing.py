"""
Tests for L{chatsvc.net.framing}: framing that splits first, decodes per
line, skips over-long lines, and can be paused, stopped and finished.
"""

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase

from chatsvc.client.lines import ClientLineProtocol
from chatsvc.net.framing import LineFramer, LineProtocol
from chatsvc.testing import chunked

LIMIT = 16


class Recorder:
    """
    What a L{LineFramer} hands on, in order, in one list.
    """

    def __init__(self, maxLineBytes: int = LIMIT) -> None:
        self.received: list[object] = []
        self.framer = LineFramer(maxLineBytes, self)

    def textReceived(self, text: str) -> None:
        self.received.append(text)

    def lineTooLong(self) -> None:
        self.received.append("<too long>")

    def undecodableLine(self, line: bytes) -> None:
        self.received.append(("<undecodable>", line))


def feed(chunks, finish: bool = False) -> list[object]:
    """
    What a fresh framer hands on for C{chunks}, read one at a time.
    """
    recorder = Recorder()
    for chunk in chunks:
        recorder.framer.feed(chunk)
    if finish:
        recorder.framer.finish()
    return recorder.received


lineTexts = st.text(
    st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]), max_size=8
)
cutPoints = st.lists(st.integers(0, 10_000), max_size=12)


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
        A line that is not UTF-8 is reported with its bytes, and the next
        line is fine.
        """
        self.assertEqual(feed([b"\xff\xfe\nok\n"]), [("<undecodable>", b"\xff\xfe"), "ok"])

    def test_tooLongInOneRead(self) -> None:
        """
        An over-long line is dropped and reported once; lines after it in the
        same read survive.
        """
        self.assertEqual(feed([b"x" * 40 + b"\nafter\n"]), ["<too long>", "after"])

    def test_tooLongAcrossReads(self) -> None:
        """
        An over-long line arriving in pieces is skipped to its end, and
        reported once.
        """
        self.assertEqual(
            feed([b"x" * 20, b"x" * 20, b"x" * 5 + b"\nafter\n"]), ["<too long>", "after"]
        )

    def test_exactlyTheLimit(self) -> None:
        """
        A line of exactly the limit is accepted with either line ending; one
        byte more is not.
        """
        self.assertEqual(
            feed([b"y" * 16 + b"\r\n", b"y" * 16 + b"\n", b"y" * 17 + b"\n"]),
            ["y" * 16, "y" * 16, "<too long>"],
        )

    def test_crOfALineAtTheLimitInTheNextRead(self) -> None:
        """
        A line of exactly the limit whose CR arrives before its LF, in
        another read, is still accepted.
        """
        self.assertEqual(feed([b"y" * 16 + b"\r", b"\n"]), ["y" * 16])

    def test_oneByteOverTheLimitBeforeItsEnding(self) -> None:
        """
        A line one byte over the limit, its LF in the next read, is reported
        once and the next line is kept.
        """
        self.assertEqual(feed([b"y" * 17, b"\nok\n"]), ["<too long>", "ok"])

    def test_manyLongLinesInOneRead(self) -> None:
        """
        Several over-long lines in one read are each reported.
        """
        self.assertEqual(
            feed([(b"z" * 30 + b"\n") * 3 + b"ok\n"]), ["<too long>"] * 3 + ["ok"]
        )

    def test_unterminatedLineWaits(self) -> None:
        """
        A line without its ending is not handed on until the ending comes.
        """
        recorder = Recorder()
        recorder.framer.feed(b"half")
        self.assertEqual(recorder.received, [])
        recorder.framer.feed(b" a line\n")
        self.assertEqual(recorder.received, ["half a line"])

    @given(st.lists(lineTexts, max_size=10), cutPoints)
    def test_anyChunkingSameLines(self, texts, cuts) -> None:
        """
        However a byte stream is cut into reads, the same lines come out,
        characters split across reads included.
        """
        data = b"".join(text.encode("utf-8") + b"\n" for text in texts)
        expected = feed([data])
        self.assertEqual(feed(chunked(data, cuts)), expected)

    @given(st.binary(max_size=200), cutPoints)
    def test_anyBytesAnyChunking(self, data, cuts) -> None:
        """
        Arbitrary bytes never raise, and chunking never changes the outcome.
        """
        self.assertEqual(feed(chunked(data, cuts)), feed([data]))

    @given(st.binary(max_size=200), cutPoints)
    def test_anyBytesAnyChunkingFinished(self, data, cuts) -> None:
        """
        Chunking never changes the outcome at the end of the stream either,
        an unterminated last line included.
        """
        self.assertEqual(feed(chunked(data, cuts), finish=True), feed([data], finish=True))


class PauseTests(SynchronousTestCase):
    def test_pauseHoldsLines(self) -> None:
        """
        While paused no line is handed on and what arrives is kept; resuming
        hands everything on, in order.
        """
        recorder = Recorder()
        recorder.framer.pause()
        recorder.framer.feed(b"one\ntwo\n")
        recorder.framer.feed(b"three\n")
        self.assertEqual(recorder.received, [])
        recorder.framer.resume()
        self.assertEqual(recorder.received, ["one", "two", "three"])

    def test_pauseFromALineStopsTheRead(self) -> None:
        """
        Pausing while a line is handed on holds the rest of the same read
        (flood control pauses from inside the callback).
        """
        received: list[str] = []

        class Pausing(Recorder):
            def textReceived(self, text: str) -> None:
                received.append(text)
                if text == "two":
                    self.framer.pause()

        framer = Pausing().framer
        framer.feed(b"one\ntwo\nthree\nfour\n")
        self.assertEqual(received, ["one", "two"])
        framer.resume()
        self.assertEqual(received, ["one", "two", "three", "four"])

    def test_stopIsForever(self) -> None:
        """
        Once stopped, nothing is handed on: not what was held, not what
        arrives later, not at the end of the stream.
        """
        recorder = Recorder()
        recorder.framer.pause()
        recorder.framer.feed(b"held\n")
        recorder.framer.stop()
        recorder.framer.resume()
        recorder.framer.feed(b"later\nhalf")
        recorder.framer.finish()
        self.assertEqual(recorder.received, [])


class FinishTests(SynchronousTestCase):
    def test_unterminatedLastLine(self) -> None:
        """
        At the end of the stream an unterminated last line is handed on.
        """
        self.assertEqual(feed([b"one\ntwo"], finish=True), ["one", "two"])

    def test_unterminatedLastLineTooLong(self) -> None:
        """
        An over-long last line, already reported, is not handed on at the
        end of the stream.
        """
        self.assertEqual(feed([b"x" * 40], finish=True), ["<too long>"])

    def test_nothingWaiting(self) -> None:
        """
        Finishing a stream that ended with a line ending hands on nothing more.
        """
        self.assertEqual(feed([b"one\n"], finish=True), ["one"])


class Lines(LineProtocol):
    maxLineBytes = LIMIT

    def __init__(self) -> None:
        self.received: list[object] = []

    def textReceived(self, text: str) -> None:
        self.received.append(text)

    def lineTooLong(self) -> None:
        self.received.append("<too long>")

    def undecodableLine(self, line: bytes) -> None:
        self.received.append(("<undecodable>", line))


class LineProtocolTests(SynchronousTestCase):
    def test_framesWithItsOwnLimit(self) -> None:
        """
        A L{LineProtocol} frames what it reads with its class's limit.
        """
        protocol = Lines()
        protocol.makeConnection(StringTransport())
        for chunk in (b"o", b"ne\r\n", b"y" * 16 + b"\n", b"y" * 17 + b"\n\xff\n"):
            protocol.dataReceived(chunk)
        self.assertEqual(
            protocol.received, ["one", "y" * 16, "<too long>", ("<undecodable>", b"\xff")]
        )

    def test_framerPerProtocol(self) -> None:
        """
        Each protocol has a framer of its own, so one's half line is not
        another's.
        """
        first, second = Lines(), Lines()
        first.dataReceived(b"fi")
        second.dataReceived(b"se")
        first.dataReceived(b"rst\n")
        second.dataReceived(b"cond\n")
        self.assertEqual((first.received, second.received), (["first"], ["second"]))

    def test_clientLineProtocolFrames(self) -> None:
        """
        The client's line protocol reads through the same framing.
        """

        class Client(ClientLineProtocol):
            maxLineBytes = LIMIT

            def __init__(self) -> None:
                self.received: list[object] = []

            def textReceived(self, text: str) -> None:
                self.received.append(text)

            def lineTooLong(self) -> None:
                self.received.append("<too long>")

            def undecodableLine(self, line: bytes) -> None:
                self.received.append(("<undecodable>", line))

        protocol = Client()
        protocol.makeConnection(StringTransport())
        data = "zażółć\n".encode()
        protocol.dataReceived(data[:3])
        protocol.dataReceived(data[3:] + b"x" * 40 + b"\nok\n")
        self.assertEqual(protocol.received, ["zażółć", "<too long>", "ok"])
