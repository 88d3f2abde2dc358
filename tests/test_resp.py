"""
RESP2 as the cluster's bus speaks it: the pure parser, held to any cutting
of its input and to garbage, and the protocol's pipelining, pushed
messages and keepalive, on a string transport and a clock.
"""

from __future__ import annotations

import re

from hypothesis import assume, given
from hypothesis import strategies as st
from twisted.internet.error import ConnectionLost
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from chatsvc.cluster.resp import (
    MAX_DEPTH,
    ProtocolError,
    RedisProtocol,
    Reply,
    ReplyError,
    ReplyParser,
    encodeCommand,
)
from chatsvc.errors import BusError
from chatsvc.testing import chunked


def encodeReply(reply: Reply) -> bytes:
    """
    C{reply} as Redis would send it.
    """
    if reply is None:
        return b"$-1\r\n"
    if isinstance(reply, str):
        return b"+" + reply.encode() + b"\r\n"
    if isinstance(reply, ReplyError):
        return b"-" + reply.message.encode() + b"\r\n"
    if isinstance(reply, int):
        return b":%d\r\n" % reply
    if isinstance(reply, bytes):
        return b"$%d\r\n%s\r\n" % (len(reply), reply)
    return b"*%d\r\n" % len(reply) + b"".join(encodeReply(item) for item in reply)


line = st.text(st.characters(exclude_characters="\r\n", codec="utf-8"), max_size=20)
replies = st.recursive(
    st.none()
    | line
    | line.map(ReplyError)
    | st.integers(-(2**63), 2**63 - 1)
    | st.binary(max_size=40),
    lambda inner: st.lists(inner, max_size=4),
    max_leaves=12,
)
# Bytes that look like RESP more often than random ones do, with lengths
# short enough to be reached.
lookalikes = st.lists(
    st.sampled_from(
        [b"*", b"$", b":", b"+", b"-", b"\r\n", b"\r", b"\n", b"0", b"-1", b"2", b"17", b"x"]
        + [b"*3\r\n$7\r\nmessage\r\n", b"3", b"7"]
    ),
    max_size=30,
).map(b"".join)
garbage = st.binary(max_size=60) | lookalikes
# What a subscriber mostly reads: messages Redis pushes, among other replies.
pushed = st.tuples(st.binary(max_size=20), st.binary(max_size=60)).map(
    lambda message: [b"message", *message]
)
# Pushed messages, whole, cut short or with a byte changed.
nearlyPushed = st.tuples(
    st.lists(pushed | replies, min_size=1, max_size=4).map(
        lambda sent: b"".join(map(encodeReply, sent))
    ),
    st.integers(0, 200),
    st.binary(max_size=2),
).map(lambda parts: parts[0][: parts[1]] + parts[2] + parts[0][parts[1] + len(parts[2]) :])


class GeneralParser(ReplyParser):
    """
    The parser without its short cut for pushed messages: what the short
    cut must agree with.
    """

    def _message(self, buffer: bytearray, offset: int) -> None:
        return None


def parsed(parser: ReplyParser, chunks: list[bytes]) -> object:
    """
    The replies C{parser} makes of C{chunks}, or C{"refused"}.
    """
    got: list[Reply] = []
    try:
        for chunk in chunks:
            got.extend(parser.feed(chunk))
    except ProtocolError:
        return "refused"
    return got


class ParserTests(SynchronousTestCase):
    @given(st.lists(replies, max_size=5), st.lists(st.integers(0, 10_000), max_size=10))
    def test_anyCutting(self, sent: list[Reply], cuts: list[int]) -> None:
        """
        Replies cut anywhere parse as the same replies, in order.
        """
        parser = ReplyParser()
        got: list[Reply] = []
        for chunk in chunked(b"".join(map(encodeReply, sent)), cuts):
            got.extend(parser.feed(chunk))
        self.assertEqual(got, sent)

    @given(st.lists(pushed | replies, max_size=6), st.lists(st.integers(0, 10_000), max_size=10))
    def test_pushedAnyCutting(self, sent: list[Reply], cuts: list[int]) -> None:
        """
        Pushed messages among other replies, cut anywhere, parse as the
        same replies, in order: whole ones by the short cut, cut ones
        piece by piece.
        """
        data = b"".join(map(encodeReply, sent))
        self.assertEqual(parsed(ReplyParser(), chunked(data, cuts)), sent)

    @given(nearlyPushed | garbage, st.lists(st.integers(0, 100), max_size=4))
    def test_shortCutAgrees(self, data: bytes, cuts: list[int]) -> None:
        """
        Whatever the bytes, messages damaged anywhere among them, the
        short cut for pushed messages parses or refuses them as the
        general parser does.
        """
        chunks = chunked(data, cuts)
        self.assertEqual(parsed(ReplyParser(), chunks), parsed(GeneralParser(), chunks))

    @given(replies)
    def test_byteByByte(self, reply: Reply) -> None:
        """
        A reply fed a byte at a time is complete at its last byte, not
        before.
        """
        parser = ReplyParser()
        data = encodeReply(reply)
        for n in range(len(data) - 1):
            self.assertEqual(parser.feed(data[n : n + 1]), [])
        self.assertEqual(parser.feed(data[-1:]), [reply])

    @given(garbage, st.lists(st.integers(0, 100), max_size=4))
    def test_garbage(self, data: bytes, cuts: list[int]) -> None:
        """
        Any bytes, cut anywhere, parse as replies or raise ProtocolError:
        nothing else, and the same either way.
        """

        whole = parsed(ReplyParser(), [data])
        self.assertEqual(parsed(ReplyParser(), chunked(data, cuts)), whole)

    @given(garbage)
    def test_neverHangs(self, data: bytes) -> None:
        """
        Whatever came before, bytes that cannot continue a reply (a run of
        bare CRLFs) are refused: the parser never waits for ever.  The run
        is longer than every bulk string begun before it, which CRLFs may
        fill as well as anything.
        """
        promised = sum(int(length) for length in re.findall(rb"\$([0-9]{1,19})", data))
        assume(promised <= 100_000)
        parser = ReplyParser()
        with self.assertRaises(ProtocolError):
            parser.feed(data)
            parser.feed(b"\r\n" * (promised // 2 + 100))

    def test_refusedAtOnce(self) -> None:
        """
        What cannot start a reply, or a length that is no number, is
        refused as soon as it arrives, not waited on.
        """
        for data in [b"hello", b"$x", b"*12a", b":" + b"9" * 25, b"$3\r\nabcd", b"$-2\r\n"]:
            with self.assertRaises(ProtocolError, msg=data):
                ReplyParser().feed(data)

    def test_clearErrors(self) -> None:
        """
        The error says what was wrong.
        """
        error = self.assertRaises(ProtocolError, ReplyParser().feed, b"HTTP/1.1 400\r\n")
        self.assertEqual(str(error), "a reply cannot start with b'H'")

    def test_bounds(self) -> None:
        """
        Lines without an end, huge lengths and deep nesting are refused.
        """
        for data in [
            b"+" + b"x" * 70_000,
            b"$%d\r\n" % (2**40),
            b"*%d\r\n" % (2**30),
            b"*1\r\n" * (MAX_DEPTH + 1),
        ]:
            with self.assertRaises(ProtocolError):
                ReplyParser().feed(data)


class EncodeTests(SynchronousTestCase):
    def test_command(self) -> None:
        """
        A command goes out as an array of bulk strings, text as UTF-8.
        """
        self.assertEqual(
            encodeCommand("SET", "żółw", b"\r\n", 1500),
            b"*4\r\n$3\r\nSET\r\n$7\r\n\xc5\xbc\xc3\xb3\xc5\x82w\r\n$2\r\n\r\n\r\n$4\r\n1500\r\n",
        )


class ProtocolTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.messages: list[tuple[bytes, bytes]] = []
        self.lost: list[str] = []
        self.protocol = RedisProtocol(
            self.clock,
            onConnected=lambda protocol: None,
            onLost=lambda protocol, why: self.lost.append(why),
            onMessage=lambda channel, data: self.messages.append((channel, data)),
        )
        self.transport = StringTransport()
        self.protocol.makeConnection(self.transport)

    def test_pipelining(self) -> None:
        """
        Commands go out at once; replies answer them in order, error
        replies as BusError naming the command.
        """
        first = self.protocol.command("GET", "a")
        second = self.protocol.command("EVAL", "x", 0)
        third = self.protocol.command("SET", "b", "c")
        self.assertEqual(
            self.transport.value(),
            b"".join(
                [encodeCommand("GET", "a"), encodeCommand("EVAL", "x", 0), encodeCommand("SET", "b", "c")]
            ),
        )
        self.protocol.dataReceived(b"$1\r\nA\r\n-ERR bad script\r\n+O")
        self.assertEqual(self.successResultOf(first), b"A")
        error = self.failureResultOf(second, BusError).value
        self.assertEqual(error.message, "Redis refused EVAL: ERR bad script")
        self.assertNoResult(third)
        self.protocol.dataReceived(b"K\r\n")
        self.assertEqual(self.successResultOf(third), "OK")

    def test_messages(self) -> None:
        """
        Once subscribed, pushed messages go to onMessage and confirmations
        answer the SUBSCRIBE.
        """
        subscribed = self.protocol.subscribe("room")
        self.protocol.dataReceived(
            b"*3\r\n$9\r\nsubscribe\r\n$4\r\nroom\r\n:1\r\n"
            b"*3\r\n$7\r\nmessage\r\n$4\r\nroom\r\n$2\r\nhi\r\n"
        )
        self.assertEqual(self.successResultOf(subscribed), [b"subscribe", b"room", 1])
        self.assertEqual(self.messages, [(b"room", b"hi")])

    def test_lost(self) -> None:
        """
        A lost connection fails every command awaiting its reply, and later
        ones at once.
        """
        waiting = self.protocol.command("GET", "a")
        self.protocol.connectionLost(Failure(ConnectionLost("gone")))
        self.assertIn("gone", self.failureResultOf(waiting, BusError).value.message)
        self.failureResultOf(self.protocol.command("GET", "a"), BusError)
        self.assertEqual(len(self.lost), 1)

    def test_garbage(self) -> None:
        """
        What is not RESP2 drops the connection, and says so.
        """
        waiting = self.protocol.command("GET", "a")
        self.protocol.dataReceived(b"<html>")
        self.assertTrue(self.transport.disconnecting)
        self.protocol.connectionLost(Failure(ConnectionLost()))
        message = self.failureResultOf(waiting, BusError).value.message
        self.assertIn("not RESP2", message)
        self.assertIn("not RESP2", self.lost[0])

    def test_unaskedReply(self) -> None:
        """
        A reply to no command drops the connection.
        """
        self.protocol.dataReceived(b"+OK\r\n")
        self.assertTrue(self.transport.disconnecting)

    def test_keepalive(self) -> None:
        """
        A quiet connection is pinged every interval; one that answers
        stays.
        """
        self.clock.advance(1.9)
        self.assertEqual(self.transport.value(), b"")
        self.clock.advance(0.1)
        self.assertEqual(self.transport.value(), encodeCommand("PING"))
        self.clock.advance(4.0)
        self.protocol.dataReceived(b"+PONG\r\n")
        self.clock.advance(10.0)
        self.assertFalse(self.transport.disconnecting)

    def test_talkDelaysPing(self) -> None:
        """
        What arrives puts off the next PING.
        """
        self.protocol.command("GET", "a")
        self.transport.clear()
        self.clock.advance(1.5)
        self.protocol.dataReceived(b"$-1\r\n")
        self.clock.advance(1.5)
        self.assertEqual(self.transport.value(), b"")

    def test_hung(self) -> None:
        """
        A Redis that does not answer a PING within the timeout is dropped,
        and the reason says so.
        """
        waiting = self.protocol.command("GET", "a")
        self.clock.advance(2.0)
        self.clock.advance(4.9)
        self.assertFalse(self.transport.disconnecting)
        self.clock.advance(0.2)
        self.assertTrue(self.transport.disconnecting)
        self.protocol.connectionLost(Failure(ConnectionLost()))
        self.assertEqual(self.lost, ["Redis did not answer within 5 s"])
        self.failureResultOf(waiting, BusError)
        self.assertEqual(self.clock.getDelayedCalls(), [])
