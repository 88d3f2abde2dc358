"""
A client's WebSocket frames read into messages (RFC 6455, section 5), with
no I/O: the server's half, for the message adapter (L{chatsvc.web.socket}).

Why not wsproto's connection, which reads the handshake (and still does,
L{chatsvc.web.socket}): it keeps an event queue and a frame parser of
several objects per connection, 1.5 KB for every idle WebSocket of tens of
thousands, and takes 13 µs a message; this reader is a handful of slots,
and never holds more of a message than the longest line a session takes.
No extension is offered, so none is read.
"""

from __future__ import annotations

import struct

from attrs import frozen

# Opcodes (5.2).
CONTINUATION = 0x0
TEXT = 0x1
BINARY = 0x2
CLOSE = 0x8
PING = 0x9
PONG = 0xA

# Close codes (7.4.1) a reader refuses a client with.
PROTOCOL_ERROR = 1002
INVALID_DATA = 1007
# Codes a client may not send (7.4.1, 7.4.2): reserved, or for no wire.
_UNSENDABLE = frozenset({1004, 1005, 1006, 1015})


class ProtocolError(Exception):
    """
    The client broke the protocol; close with C{code}.
    """

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@frozen
class Message:
    """
    One whole message: C{text} (C{str}) or binary (C{bytes}) data, or
    C{None} if it was longer than the reader's limit (nothing of it kept).
    """

    data: str | bytes | None


@frozen
class Ping:
    payload: bytes


@frozen
class Close:
    """
    The client's goodbye: C{code} (C{None}: it gave none) and C{reason}.
    """

    code: int | None
    reason: str = ""


def _unmask(data: bytes, mask: bytes, offset: int) -> bytes:
    """
    C{data}, the bytes of a payload from C{offset} on, unmasked (5.3).
    """
    if not data:
        return data
    start = offset % 4
    key = (mask[start:] + mask[:start]) * (len(data) // 4 + 1)
    value = int.from_bytes(data, "big") ^ int.from_bytes(key[: len(data)], "big")
    return value.to_bytes(len(data), "big")


class FrameReader:
    """
    Reads one client's frames into L{Message}, L{Ping} and L{Close}
    (pongs, which the server never asks for, are read and dropped).

    @param limit: the longest message, in bytes, whose data is kept.
    """

    __slots__ = (
        "_limit",
        "_buffer",
        "_header",
        "_remaining",
        "_offset",
        "_parts",
        "_size",
        "_message",
        "_control",
    )

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._buffer = b""
        # The frame being read: (final, opcode, mask), or None between frames.
        self._header: tuple[bool, int, bytes] | None = None
        self._remaining = 0
        self._offset = 0
        # The data message being read: its opcode, or None between messages.
        self._message: int | None = None
        self._parts: list[bytes] | None = []
        self._size = 0
        # A control frame's payload so far.
        self._control = b""

    def feed(self, data: bytes) -> list[Message | Ping | Close]:
        """
        What C{data}, the next bytes from the client, complete.

        @raise ProtocolError: they break the protocol; nothing more may be
            fed.
        """
        found: list[Message | Ping | Close] = []
        if self._buffer:
            buffer, self._buffer = self._buffer + data, b""
        elif self._header is None and self._message is None:
            buffer = self._whole(data, found)
        else:
            buffer = data
        while buffer or self._header is not None:
            if self._header is None:
                buffer = self._readHeader(buffer)
                if self._header is None:
                    self._buffer = buffer
                    return found
            taken = buffer[: self._remaining]
            buffer = buffer[len(taken) :]
            self._payload(taken)
            if self._remaining:
                return found
            event = self._endFrame()
            if event is not None:
                found.append(event)
                if type(event) is Close:
                    return found
        return found

    def _whole(self, data: bytes, found: list) -> bytes:
        """
        Read the short, whole, unfragmented messages at the start of
        C{data} (what a chat client sends, a line a frame) into C{found},
        and return the rest for the general reading: a third of the time.
        """
        limit = min(self._limit, 125)
        while len(data) >= 6:
            first, second = data[0], data[1]
            length = second - 0x80
            if (first != 0x81 and first != 0x82) or not 0 <= length <= limit:
                break
            end = 6 + length
            if len(data) < end:
                break
            payload = _unmask(data[6:end], data[2:6], 0)
            if first == 0x81:
                try:
                    payload = payload.decode("utf-8")
                except UnicodeDecodeError:
                    raise ProtocolError(INVALID_DATA, "a text message that is not UTF-8")
            found.append(Message(payload))
            data = data[end:]
        return data

    def _readHeader(self, buffer: bytes) -> bytes:
        if len(buffer) < 2:
            return buffer
        first, second = buffer[0], buffer[1]
        length = second & 0x7F
        start = 2
        if length == 126:
            start = 4
        elif length == 127:
            start = 10
        if len(buffer) < start + 4:
            return buffer
        if start == 4:
            (length,) = struct.unpack_from("!H", buffer, 2)
        elif start == 10:
            (length,) = struct.unpack_from("!Q", buffer, 2)
            if length >> 63:
                raise ProtocolError(PROTOCOL_ERROR, "frame length too large")
        if first & 0x70:
            raise ProtocolError(PROTOCOL_ERROR, "reserved bits set without an extension")
        if not second & 0x80:
            raise ProtocolError(PROTOCOL_ERROR, "a client's frames must be masked")
        final, opcode = bool(first & 0x80), first & 0x0F
        if opcode >= CLOSE:
            if opcode not in (CLOSE, PING, PONG):
                raise ProtocolError(PROTOCOL_ERROR, f"unknown opcode {opcode}")
            if not final or length > 125:
                raise ProtocolError(PROTOCOL_ERROR, "a control frame must be whole and short")
        elif opcode == CONTINUATION:
            if self._message is None:
                raise ProtocolError(PROTOCOL_ERROR, "a continuation of no message")
        elif opcode in (TEXT, BINARY):
            if self._message is not None:
                raise ProtocolError(PROTOCOL_ERROR, "a new message inside another")
            self._message = opcode
        else:
            raise ProtocolError(PROTOCOL_ERROR, f"unknown opcode {opcode}")
        self._header = (final, opcode, buffer[start : start + 4])
        self._remaining = length
        self._offset = 0
        return buffer[start + 4 :]

    def _payload(self, data: bytes) -> None:
        final, opcode, mask = self._header
        self._remaining -= len(data)
        if opcode >= CLOSE:
            self._control += _unmask(data, mask, self._offset)
        elif self._parts is not None:
            self._size += len(data)
            if self._size > self._limit:
                # Too long: nothing more of it is kept.
                self._parts = None
            else:
                self._parts.append(_unmask(data, mask, self._offset))
        self._offset += len(data)

    def _endFrame(self) -> Message | Ping | Close | None:
        final, opcode, _ = self._header
        self._header = None
        if opcode >= CLOSE:
            payload, self._control = self._control, b""
            if opcode == PING:
                return Ping(payload)
            if opcode == CLOSE:
                return _close(payload)
            return None
        if not final:
            return None
        kind, parts = self._message, self._parts
        self._message, self._parts, self._size = None, [], 0
        if parts is None:
            return Message(None)
        data = b"".join(parts)
        if kind == BINARY:
            return Message(data)
        try:
            return Message(data.decode("utf-8"))
        except UnicodeDecodeError:
            raise ProtocolError(INVALID_DATA, "a text message that is not UTF-8")


def _close(payload: bytes) -> Close:
    if not payload:
        return Close(None)
    if len(payload) == 1:
        raise ProtocolError(PROTOCOL_ERROR, "a close code of one byte")
    (code,) = struct.unpack_from("!H", payload)
    if code < 1000 or code in _UNSENDABLE or 1016 <= code < 3000 or code >= 5000:
        raise ProtocolError(PROTOCOL_ERROR, f"close code {code} may not be sent")
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError(INVALID_DATA, "a close reason that is not UTF-8")
    return Close(code, reason)
