"""
Line framing: bounded, forgiving, decoded per line.

Twisted's L{LineReceiver} drops the connection on an over-long line and
leaves decoding to its user.  Here a line is split off first and decoded on
its own (so a character split across two reads is whole again), and an
over-long line is skipped up to its end while everything after it is kept.
Pure: bytes in, calls out; the server's TCP adapter, the terminal client and
its stdin reader all frame with it.
"""

from __future__ import annotations

from typing import Protocol as Shape

from twisted.internet.protocol import Protocol

DELIMITER = b"\n"


class LineSink(Shape):
    """
    Where a L{LineFramer} hands its lines.
    """

    def textReceived(self, text: str) -> None:
        """
        A whole line, decoded, without its ending.
        """

    def lineTooLong(self) -> None:
        """
        A line longer than the limit arrived and was dropped (once per line).
        """

    def undecodableLine(self, line: bytes) -> None:
        """
        C{line}, which is not UTF-8, arrived and was dropped.
        """


class LineFramer:
    """
    Splits a byte stream into lines ending in LF or CRLF, decodes each and
    hands it to C{sink}.

    @param maxLineBytes: the longest line accepted, without its ending.
    """

    # One per connection: a sink rather than three bound methods, and slots.
    __slots__ = ("_maxLineBytes", "_sink", "_buffer", "_skipping", "_paused", "_stopped")

    def __init__(self, maxLineBytes: int, sink: LineSink) -> None:
        self._maxLineBytes = maxLineBytes
        self._sink = sink
        self._buffer = b""
        self._skipping = False
        self._paused = False
        self._stopped = False

    def feed(self, data: bytes) -> None:
        """
        Take C{data} from the stream; whole lines are handed on at once,
        unless paused.
        """
        if self._stopped:
            return
        if self._skipping:
            end = data.find(DELIMITER)
            if end == -1:
                return
            data = data[end + 1 :]
            self._skipping = False
        self._buffer = self._buffer + data if self._buffer else data
        self._drain()

    def pause(self) -> None:
        """
        Hand on no more lines until L{resume}; what arrives is kept.
        """
        self._paused = True

    def resume(self) -> None:
        self._paused = False
        self._drain()

    def finish(self) -> None:
        """
        The stream ended: hand on an unterminated last line, if any.
        """
        rest, self._buffer = self._buffer, b""
        if rest and not (self._skipping or self._stopped):
            self._buffer = rest + DELIMITER
            self._drain()

    def stop(self) -> None:
        """
        Hand on nothing more, ever (the connection is closing).
        """
        self._stopped = True
        self._buffer = b""

    def _drain(self) -> None:
        limit = self._maxLineBytes
        while not (self._paused or self._stopped):
            buffer = self._buffer
            end = buffer.find(DELIMITER)
            if end == -1:
                # One more byte than the limit may be the CR of a CRLF.
                if len(buffer) > limit + 1:
                    self._buffer = b""
                    self._skipping = True
                    self._sink.lineTooLong()
                return
            line = buffer[:end]
            self._buffer = buffer[end + 1 :]
            if line.endswith(b"\r"):
                line = line[:-1]
            if len(line) > limit:
                self._sink.lineTooLong()
                continue
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                self._sink.undecodableLine(line)
                continue
            self._sink.textReceived(text)


class LineProtocol(Protocol):
    """
    A protocol that reads lines through a L{LineFramer}: for clients (the
    terminal client, its stdin reader) that need nothing else of the
    server's connection machinery.

    Subclasses set C{maxLineBytes} and implement L{textReceived},
    L{lineTooLong} and L{undecodableLine}.
    """

    maxLineBytes = 2048
    _framer: LineFramer | None = None

    @property
    def framer(self) -> LineFramer:
        if self._framer is None:
            self._framer = LineFramer(self.maxLineBytes, self)
        return self._framer

    def dataReceived(self, data: bytes) -> None:
        self.framer.feed(data)

    def textReceived(self, text: str) -> None:
        raise NotImplementedError()

    def lineTooLong(self) -> None:
        raise NotImplementedError()

    def undecodableLine(self, line: bytes) -> None:
        raise NotImplementedError()
