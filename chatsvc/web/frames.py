"""
Lines out as WebSocket messages: the server's half of RFC 6455 framing.

Sessions write CR LF ended lines (L{chatsvc.net.connection.ServerConnection.write});
a WebSocket client wants one message per line.  A server's frames are not
masked, so a frame is the same bytes for every recipient: a
L{FramedRenderer} frames what its renderer renders, and the delivery path,
which renders an event once per renderer, hands the same frames to every
WebSocket client that shares it, at no more cost per recipient than a TCP
client's.

Reading a client's frames is L{chatsvc.web.reader}'s.
"""

from __future__ import annotations

import json
import struct
from typing import Callable

from zope.interface import implementer

from chatsvc.interfaces import IRenderer

TEXT = 0x1
BINARY = 0x2
CLOSE = 0x8
PONG = 0xA
_FINAL = 0x80

# The close codes a server sends (RFC 6455, 7.4.1).
NORMAL_CLOSURE = 1000
GOING_AWAY = 1001


def encodeFrame(payload: bytes, opcode: int = TEXT) -> bytes:
    """
    One final, unmasked frame of C{opcode} carrying C{payload}.
    """
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", _FINAL | opcode, length)
    elif length < 0x10000:
        header = struct.pack("!BBH", _FINAL | opcode, 126, length)
    else:
        header = struct.pack("!BBQ", _FINAL | opcode, 127, length)
    return header + payload


def closeFrame(code: int = NORMAL_CLOSURE, reason: str = "") -> bytes:
    """
    The close frame that says goodbye with C{code}.
    """
    # A control frame carries 125 bytes at most; a reason cut there stays UTF-8.
    said = reason.encode("utf-8")[:123].decode("utf-8", "ignore").encode("utf-8")
    return encodeFrame(struct.pack("!H", code) + said, CLOSE)


class Framer:
    """
    Frames CR LF ended lines, one message each, of one kind for all the
    connections of an endpoint, and wraps their renderers so that the
    delivery path gets frames.

    @param opcode: L{TEXT} or L{BINARY}.
    @param convert: turns one line's bytes into the payload of its message
        (by default the line as it is).
    """

    __slots__ = ("_opcode", "_convert", "_renderers")

    def __init__(self, opcode: int = TEXT, convert: Callable[[bytes], bytes] | None = None) -> None:
        self._opcode = opcode
        self._convert = convert
        self._renderers: dict[IRenderer, FramedRenderer] = {}

    def frame(self, data: bytes) -> bytes:
        """
        C{data}, some CR LF ended lines, as frames; a partial last line (no
        session writes one) is framed as a line of its own.
        """
        convert, opcode = self._convert, self._opcode
        if data.endswith(b"\r\n") and data.find(b"\r\n") == len(data) - 2:
            # One line, as an event is: no list to make.
            line = data[:-2]
            return encodeFrame(line if convert is None else convert(line), opcode)
        lines = data.split(b"\r\n")
        if not lines[-1]:
            lines.pop()
        if convert is not None:
            lines = [convert(line) for line in lines]
        return b"".join([encodeFrame(line, opcode) for line in lines])

    def renderer(self, inner: IRenderer) -> FramedRenderer:
        """
        C{inner}, rendering frames: one for all the connections that share
        C{inner}, so that the delivery path renders (and frames) an event
        once for all of them, as it renders it once for TCP clients.
        """
        framed = self._renderers.get(inner)
        if framed is None:
            # As many as there are renderers: languages, IRC's options.
            framed = self._renderers[inner] = FramedRenderer(inner, self.frame)
        return framed


@implementer(IRenderer)
class FramedRenderer:
    """
    Another renderer's lines as WebSocket frames.
    """

    __slots__ = ("_inner", "_frame")

    def __init__(self, inner: IRenderer, frame: Callable[[bytes], bytes]) -> None:
        self._inner = inner
        self._frame = frame

    def render(self, event) -> bytes:
        data = self._inner.render(event)
        return self._frame(data) if data else data

    def renderOwn(self, event) -> bytes:
        data = self._inner.renderOwn(event)
        return self._frame(data) if data else data

    def __repr__(self) -> str:
        return f"FramedRenderer({self._inner!r})"


def pageLine(line: bytes, classify: Callable[[str], object]) -> bytes:
    """
    One line for the page: JSON as the page's renderer wrote it, or a line
    the native session worded, as the JSON object docs/web.rst gives for
    it.

    The native session's own lines always start with a word, a prompt or a
    mark (C{!}, C{*}, C{->}), never with C{{}, which is how the two are
    told apart; C{classify} is L{chatsvc.native.wire.classify}.
    """
    if line.startswith(b"{"):
        return line
    text = line.decode("utf-8")
    kind = classify(text)
    if kind.kind == "prompt":
        message: dict[str, object] = {"type": "prompt", "for": "nickname"}
    elif kind.kind == "password":
        message = {"type": "prompt", "for": "password"}
    elif kind.kind == "account":
        message = {"type": "prompt", "for": "account", "nickname": kind.nickname}
    elif kind.kind == "error":
        message = {"type": "error", "text": kind.text}
    else:
        message = {"type": "info", "text": text}
    return json.dumps(message, ensure_ascii=False).encode("utf-8")
