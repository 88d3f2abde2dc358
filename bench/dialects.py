"""
What a load-generator client says and expects, per wire protocol.

A dialect knows the registration handshake (as a tiny state machine over
whole messages: lines, or for a WebSocket an HTTP response and then
frames), how to join a room, and how to frame one chat line.  Chat lines
carry a marker byte (L{MARK}) that nothing else on any of these wires
contains, so the generator counts deliveries with C{bytes.count} and never
has to split a line in its hot path.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
from typing import Callable

MARK = b"%"

# Registration states.
CONNECTING = 0
WAIT_PROMPT = 1
WAIT_WELCOME = 2
WAIT_ROOM = 3
DONE = 4
FAILED = 5
WAIT_REPLAY = 6
WAIT_UPGRADE = 7


def nextLine(buffer: bytes, state: int) -> tuple[bytes | None, bytes]:
    """
    The first whole line of C{buffer} (no line end) and the rest, or
    C{None} and C{buffer} when it holds no whole line.
    """
    end = buffer.find(b"\n")
    if end == -1:
        return None, buffer
    return buffer[:end].rstrip(b"\r"), buffer[end + 1 :]


class Native:
    """
    The native protocol: C{NICK}, the nickname, C{Connected to server!};
    C{/join room} answered by C{You are now in room ...}.

    @ivar awaitReplay: whether a client is done only once the room's last
        lines, replayed after the welcome, have ended (C{End of history.});
        the room must have some, or the client waits for nothing.
    """

    name = "native"
    echo = True  # a sender hears its own lines
    awaitReplay = False
    # The state after a non-empty greeting (the native protocol has none).
    greetingState = WAIT_WELCOME
    nextMessage = staticmethod(nextLine)

    def __init__(self, defaultRoom: str = "lobby", password: str | None = None) -> None:
        self.defaultRoom = defaultRoom

    def greeting(self, nickname: str) -> bytes:
        """
        What to send as soon as the connection is up.
        """
        return b""

    def needsJoin(self, room: str) -> bool:
        return room != self.defaultRoom

    def joinLine(self, room: str) -> bytes:
        return f"/join {room}\n".encode()

    def chatPrefix(self, room: str) -> bytes:
        return b""

    chatSuffix = b"\n"

    def chatEncoder(self) -> Callable[[bytes], bytes] | None:
        """
        What makes one chat line's bytes into what one connection sends,
        or C{None} when they are sent as they are.
        """
        return None

    def lineReceived(self, state: int, line: bytes, nickname: str) -> tuple[int, bytes]:
        """
        The next state and what to send, given one server line (no line end).
        """
        if state == WAIT_PROMPT:
            if line == b"NICK":
                return WAIT_WELCOME, nickname.encode() + b"\n"
        elif state == WAIT_WELCOME:
            if line == b"Connected to server!":
                return (WAIT_REPLAY if self.awaitReplay else DONE), b""
            if line.startswith(b"! "):
                return FAILED, b""
        elif state == WAIT_REPLAY:
            if line == b"End of history.":
                return DONE, b""
        elif state == WAIT_ROOM:
            if line.startswith(b"You are now in room"):
                return DONE, b""
            if line.startswith(b"! "):
                return FAILED, b""
        return state, b""


class Irc:
    """
    IRC: C{[PASS] NICK USER} answered by 001, C{JOIN #room} answered by 366
    (end of names).  Servers answer C{PING} at any time with C{PONG}.
    """

    name = "irc"
    echo = False  # IRC servers do not echo a PRIVMSG to its sender
    greetingState = WAIT_WELCOME
    nextMessage = staticmethod(nextLine)

    def __init__(self, defaultRoom: str = "lobby", password: str | None = None) -> None:
        self.defaultRoom = defaultRoom
        self.password = password

    def greeting(self, nickname: str) -> bytes:
        lines = []
        if self.password is not None:
            lines.append(f"PASS {self.password}")
        lines += [f"NICK {nickname}", f"USER {nickname} 0 * :{nickname}"]
        return "".join(line + "\r\n" for line in lines).encode()

    def needsJoin(self, room: str) -> bool:
        return room is not None

    def joinLine(self, room: str) -> bytes:
        return f"JOIN #{room}\r\n".encode()

    def chatPrefix(self, room: str) -> bytes:
        return f"PRIVMSG #{room} :".encode()

    chatSuffix = b"\r\n"

    def chatEncoder(self) -> Callable[[bytes], bytes] | None:
        return None

    def lineReceived(self, state: int, line: bytes, nickname: str) -> tuple[int, bytes]:
        if line.startswith(b"PING"):
            return state, b"PONG" + line[4:] + b"\r\n"
        parts = line.split(b" ", 3)
        code = parts[1] if len(parts) > 1 else b""
        if state == WAIT_WELCOME:
            if code == b"001":
                return DONE, b""
            if code in (b"432", b"433", b"436", b"464", b"465") or line.startswith(
                b"ERROR"
            ) or b"Login failed" in line:
                return FAILED, b""
        elif state == WAIT_ROOM:
            if code == b"366":
                return DONE, b""
            if code in (b"403", b"405", b"471", b"473", b"474", b"475"):
                return FAILED, b""
        return state, b""


# RFC 6455: what the server hashes with the client's key.
WEBSOCKET_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
# What L{Page.nextMessage} gives for a close frame from the server.
CLOSED = b"<close>"
_TEXT_FRAME = 0x81  # FIN and the text opcode
_CLOSE_OPCODE = 0x8


def maskedFrame(payload: bytes, mask: bytes) -> bytes:
    """
    One final text frame from a client: masked with C{mask} (4 bytes), as
    RFC 6455 requires of every frame a client sends.
    """
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", _TEXT_FRAME, 0x80 | n)
    elif n < 0x10000:
        header = struct.pack("!BBH", _TEXT_FRAME, 0x80 | 126, n)
    else:
        header = struct.pack("!BBQ", _TEXT_FRAME, 0x80 | 127, n)
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    return header + mask + (int.from_bytes(payload, "big") ^ key).to_bytes(n, "big")


def acceptFor(key: bytes) -> bytes:
    """
    The C{Sec-WebSocket-Accept} a server must answer C{key} with.
    """
    return base64.b64encode(hashlib.sha1(key + WEBSOCKET_GUID).digest())


class Page:
    """
    The page's WebSocket, C{/chat} (docs/web.rst): an HTTP/1.1 upgrade,
    then native lines in masked text frames one way and one JSON object
    per unmasked text frame the other.  Registered at the C{Welcome}
    event; C{/join room} answered by a C{room} message naming it.

    Deliveries are still counted with C{bytes.count(MARK)} over whole reads,
    frame headers and all: a server frame's header is C{0x81}, then the
    payload length (7 bits, or 126 and 16 bits), so it holds no C{%}
    (0x25) as long as every chat event's JSON is 126 to 255 bytes long (a
    C{Said} event with 40 bytes of text, as the scenarios send, is about
    200).  Where that fails, receivers count more than was sent (the
    result's C{extra}).
    """

    name = "page"
    echo = True  # the page is sent its own lines, as the native protocol is
    awaitReplay = False
    greetingState = WAIT_UPGRADE
    path = "/chat"

    def __init__(self, defaultRoom: str = "lobby", password: str | None = None) -> None:
        self.defaultRoom = defaultRoom
        # Each client's key until its upgrade is answered, by nickname.
        self.keys: dict[str, bytes] = {}

    def greeting(self, nickname: str) -> bytes:
        key = base64.b64encode(os.urandom(16))
        self.keys[nickname] = key
        return (
            b"GET " + self.path.encode() + b" HTTP/1.1\r\n"
            b"Host: 127.0.0.1\r\n"
            b"Upgrade: websocket\r\n"
            b"Connection: Upgrade\r\n"
            b"Sec-WebSocket-Key: " + key + b"\r\n"
            b"Sec-WebSocket-Version: 13\r\n\r\n"
        )

    @staticmethod
    def nextMessage(buffer: bytes, state: int) -> tuple[bytes | None, bytes]:
        """
        The HTTP response's head while upgrading, then one frame's payload
        at a time (L{CLOSED} for a close frame); C{None} and C{buffer} when
        it holds no whole one.
        """
        if state == WAIT_UPGRADE:
            end = buffer.find(b"\r\n\r\n")
            if end == -1:
                return None, buffer
            return buffer[:end], buffer[end + 4 :]
        if len(buffer) < 2:
            return None, buffer
        length, start = buffer[1] & 0x7F, 2
        if length == 126:
            if len(buffer) < 4:
                return None, buffer
            (length,), start = struct.unpack_from("!H", buffer, 2), 4
        elif length == 127:
            if len(buffer) < 10:
                return None, buffer
            (length,), start = struct.unpack_from("!Q", buffer, 2), 10
        if len(buffer) < start + length:
            return None, buffer
        payload = buffer[start : start + length]
        if buffer[0] & 0x0F == _CLOSE_OPCODE:
            payload = CLOSED
        return payload, buffer[start + length :]

    def needsJoin(self, room: str) -> bool:
        return room != self.defaultRoom

    def joinLine(self, room: str) -> bytes:
        return maskedFrame(f"/join {room}".encode(), os.urandom(4))

    def chatPrefix(self, room: str) -> bytes:
        return b""

    chatSuffix = b""

    def chatEncoder(self) -> Callable[[bytes], bytes] | None:
        """
        A connection's own framing of its chat lines: one masked frame each,
        with one random mask for all of them (the server unmasks whatever
        the mask; a fresh one per frame would only cost the generator).
        """
        mask = os.urandom(4)
        return lambda payload: maskedFrame(payload, mask)

    def lineReceived(self, state: int, message: bytes, nickname: str) -> tuple[int, bytes]:
        if message == CLOSED:
            return FAILED, b""
        if state == WAIT_UPGRADE:
            key = self.keys.pop(nickname, b"")
            head = message.lower()
            if head.startswith(b"http/1.1 101 ") and b"sec-websocket-accept: " + acceptFor(key).lower() in head:
                return WAIT_PROMPT, b""
            return FAILED, b""
        # The start of the object, whichever separators its encoder used.
        start = message[:48].replace(b" ", b"")
        if start.startswith(b'{"type":"error"'):
            return FAILED, b""
        if state == WAIT_PROMPT:
            if start.startswith(b'{"type":"prompt","for":"nickname"'):
                return WAIT_WELCOME, maskedFrame(nickname.encode(), os.urandom(4))
        elif state == WAIT_WELCOME:
            if start.startswith(b'{"type":"event","kind":"Welcome"'):
                return DONE, b""
        elif state == WAIT_ROOM:
            if start.startswith(b'{"type":"room","room":"') and not start.startswith(b'{"type":"room","room":""'):
                return DONE, b""
        return state, b""


DIALECTS = {"native": Native, "irc": Irc, "page": Page}
