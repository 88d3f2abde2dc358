"""
The WebSocket frame reader (L{chatsvc.web.reader}) against frames wsproto's
client writes, cut anywhere, and against frames that break the protocol.
"""

from __future__ import annotations

import os
import struct

from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase
from wsproto import ConnectionType
from wsproto.connection import Connection
from wsproto.events import BytesMessage, CloseConnection, TextMessage
from wsproto.events import Ping as WSPing

from chatsvc.testing import chunked
from chatsvc.web.reader import (
    INVALID_DATA,
    PROTOCOL_ERROR,
    Close,
    FrameReader,
    Message,
    Ping,
    ProtocolError,
)

LIMIT = 2048

messages = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=300),
    st.binary(max_size=300),
)


def clientFrames(parts: list[tuple[object, int]]) -> bytes:
    """
    What wsproto's client writes for each message, in C{pieces} fragments.
    """
    client = Connection(ConnectionType.CLIENT)
    data = b""
    for message, pieces in parts:
        size = max(1, -(-len(message) // pieces)) if message else 1
        chunks = [message[i : i + size] for i in range(0, len(message), size)] or [message]
        kind = TextMessage if isinstance(message, str) else BytesMessage
        for n, chunk in enumerate(chunks):
            data += client.send(kind(chunk, message_finished=n == len(chunks) - 1))
        data += client.send(WSPing(b"between"))
    return data


def masked(first: int, payload: bytes, mask: bytes = b"\x01\x02\x03\x04") -> bytes:
    """
    One frame with the first byte C{first}, masked as a client's are.
    """
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", first, 0x80 | length)
    elif length < 0x10000:
        header = struct.pack("!BBH", first, 0x80 | 126, length)
    else:
        header = struct.pack("!BBQ", first, 0x80 | 127, length)
    unmasked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return header + mask + unmasked


class ReaderTests(SynchronousTestCase):
    @given(st.lists(st.tuples(messages, st.integers(1, 4)), max_size=6), st.lists(st.integers(0, 4000), max_size=8))
    def test_asWritten(self, parts, cuts) -> None:
        """
        Messages come out as the client wrote them, however they were
        fragmented and however the bytes arrive.
        """
        reader = FrameReader(LIMIT)
        found = []
        for chunk in chunked(clientFrames(parts), cuts):
            found.extend(reader.feed(chunk))
        expected = []
        for message, _ in parts:
            expected += [Message(message), Ping(b"between")]
        self.assertEqual(found, expected)

    def test_tooLong(self) -> None:
        """
        A message over the limit, in one frame or several, is refused and
        nothing of it kept; the next one is read.
        """
        reader = FrameReader(10)
        data = masked(0x01, b"x" * 6) + masked(0x00, b"y" * 6) + masked(0x80, b"z")
        data += masked(0x81, b"w" * 70000) + masked(0x81, b"ok")
        self.assertEqual(reader.feed(data), [Message(None), Message(None), Message("ok")])

    def test_pongDropped(self) -> None:
        self.assertEqual(FrameReader(LIMIT).feed(masked(0x8A, b"p") + masked(0x81, b"a")), [Message("a")])

    def test_close(self) -> None:
        reader = FrameReader(LIMIT)
        self.assertEqual(
            reader.feed(masked(0x88, struct.pack("!H", 1000) + b"bye") + masked(0x81, b"after")),
            [Close(1000, "bye")],
        )
        self.assertEqual(FrameReader(LIMIT).feed(masked(0x88, b"")), [Close(None)])

    def test_closeFromWsproto(self) -> None:
        client = Connection(ConnectionType.CLIENT)
        data = client.send(CloseConnection(4000, "done"))
        self.assertEqual(FrameReader(LIMIT).feed(data), [Close(4000, "done")])

    def refused(self, data: bytes, code: int = PROTOCOL_ERROR) -> None:
        error = self.assertRaises(ProtocolError, FrameReader(LIMIT).feed, data)
        self.assertEqual(error.code, code)

    def test_unmasked(self) -> None:
        self.refused(b"\x81\x02hi" + b"\x00" * 4)

    def test_reservedBits(self) -> None:
        self.refused(masked(0xC1, b"hi"))

    def test_unknownOpcodes(self) -> None:
        self.refused(masked(0x83, b""))
        self.refused(masked(0x8B, b""))

    def test_continuationOfNothing(self) -> None:
        self.refused(masked(0x80, b"x"))

    def test_messageInsideAnother(self) -> None:
        self.refused(masked(0x01, b"a") + masked(0x81, b"b"))

    def test_controlFrames(self) -> None:
        self.refused(masked(0x09, b"ping"))
        self.refused(masked(0x89, b"x" * 126))

    def test_invalidText(self) -> None:
        self.refused(masked(0x81, b"\xff"), INVALID_DATA)
        self.refused(masked(0x88, struct.pack("!H", 1000) + b"\xff"), INVALID_DATA)

    def test_closeCodes(self) -> None:
        self.refused(masked(0x88, b"\x03"))
        for code in (999, 1005, 1006, 1015, 2000, 5000):
            self.refused(masked(0x88, struct.pack("!H", code)))

    @given(st.binary(max_size=200))
    def test_garbage(self, data: bytes) -> None:
        """
        Any bytes are read, or refused with a protocol error: nothing else
        is raised.
        """
        try:
            FrameReader(LIMIT).feed(data)
        except ProtocolError:
            pass

    def test_bigMask(self) -> None:
        payload = os.urandom(5000)
        self.assertEqual(FrameReader(10000).feed(masked(0x82, payload, b"\xaa\xbb\xcc\xdd")), [Message(payload)])
