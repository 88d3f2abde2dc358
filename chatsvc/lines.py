"""
Line framing shared by the front-ends: bounded, forgiving, decoded per line.

Twisted's L{LineReceiver} drops the connection on an over-long line and
leaves decoding to its user.  Here a line is split off first and decoded on
its own (so a character split across two reads is whole again), an over-long
line is skipped up to its end while everything after it is kept, and output
to a peer that stops reading is bounded.
"""

from __future__ import annotations

import socket

from attrs import frozen
from twisted.internet.interfaces import IPushProducer, IReactorTime
from twisted.protocols.basic import LineReceiver
from zope.interface import implementer

# How much output may wait for a peer that stopped reading, beyond what the
# transport itself buffers (64 KiB), before the connection is cut.
DEFAULT_SEND_QUEUE = 1 << 20


@frozen
class FloodPolicy:
    """
    How fast a client may send: C{burst} lines at once, then C{rate} lines a
    second.  Lines beyond that wait their turn (nothing is lost, and the
    connection is not read meanwhile, so the flood backs up into TCP); a
    client that has had more than C{limit} lines delayed without ever
    slowing down is disconnected.
    """

    burst: int = 10
    rate: float = 5.0
    limit: int = 100


# TCP keepalive: a peer silent for KEEPALIVE_IDLE seconds is probed every
# KEEPALIVE_INTERVAL seconds and given up after KEEPALIVE_COUNT unanswered
# probes, so a vanished client is noticed within about two minutes.
KEEPALIVE_IDLE = 60
KEEPALIVE_INTERVAL = 15
KEEPALIVE_COUNT = 4


def keepAlive(
    transport,
    idle: float = KEEPALIVE_IDLE,
    interval: float = KEEPALIVE_INTERVAL,
    count: int = KEEPALIVE_COUNT,
) -> bool:
    """
    Have the operating system probe an idle connection and report it lost
    when the peer is gone, with timers far shorter than its two-hour default.

    The native protocol's liveness check: a plain C{nc} user cannot answer
    a PING, but every TCP stack answers keepalive probes.  Returns whether
    the transport was a TCP socket (TLS included) that took the options.
    """
    handle = getattr(transport, "getHandle", lambda: None)()
    if not isinstance(handle, socket.socket):
        # Over TLS the handle is the TLS connection; its transport is TCP.
        inner = getattr(transport, "transport", None)
        handle = getattr(inner, "getHandle", lambda: None)() if inner else None
    if not isinstance(handle, socket.socket) or handle.family not in (
        socket.AF_INET,
        socket.AF_INET6,
    ):
        return False
    handle.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for option, value in (
        ("TCP_KEEPIDLE", max(1, int(idle))),
        ("TCP_KEEPINTVL", max(1, int(interval))),
        ("TCP_KEEPCNT", count),
    ):
        if hasattr(socket, option):
            handle.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)
    return True


@implementer(IPushProducer)
class _SendQueueWatch:
    """
    Learns from the transport when its buffer is full.

    A separate object because L{LineReceiver} already has
    C{pauseProducing}, for the opposite direction.
    """

    def __init__(self) -> None:
        self.full = False
        self.queued = 0

    def pauseProducing(self) -> None:
        if not self.full:
            self.full = True
            self.queued = 0

    def resumeProducing(self) -> None:
        self.full = False

    def stopProducing(self) -> None:
        self.full = False


class BoundedLineReceiver(LineReceiver):
    """
    A line receiver for text protocols read by people and by C{nc}.

    Lines end in LF or CRLF.  Subclasses set C{maxLineBytes} and implement
    L{textReceived}, L{lineTooLong}, L{undecodableLine} and
    L{sendQueueOverflowed}, and write with L{write}.
    """

    delimiter = b"\n"
    maxLineBytes = 2048
    sendQueueLimit = DEFAULT_SEND_QUEUE

    _skipping = False
    _resume = b""
    _cutOff = False
    # Flood control, off unless a front-end sets both.
    floodPolicy: FloodPolicy | None = None
    floodClock: IReactorTime | None = None
    _tokens = 0.0
    _filled: float | None = None
    _delayed = 0
    _warned = False
    _waiting: str | None = None
    _release = None
    _watch: _SendQueueWatch | None = None

    @property
    def MAX_LENGTH(self) -> int:  # type: ignore[override]
        # One more, for the CR of a CRLF line ending.
        return self.maxLineBytes + 1

    def connectionMade(self) -> None:
        self._watch = _SendQueueWatch()
        self.transport.registerProducer(self._watch, True)

    def connectionLost(self, reason=None) -> None:
        if self._watch is not None:
            self._watch = None
            self.transport.unregisterProducer()
        if self._release is not None and self._release.active():
            self._release.cancel()

    def dataReceived(self, data: bytes) -> None:
        while True:
            if self._skipping:
                end = data.find(self.delimiter)
                if end == -1:
                    return
                data = data[end + 1 :]
                self._skipping = False
            super().dataReceived(data)
            data, self._resume = self._resume, b""
            if not data:
                return

    def lineLengthExceeded(self, remainder: bytes) -> None:
        end = remainder.find(self.delimiter)
        if end == -1:
            self._skipping = True
        else:
            self._resume = remainder[end + 1 :]
        self.lineTooLong()

    def lineReceived(self, line: bytes) -> None:
        if line.endswith(b"\r"):
            line = line[:-1]
        if len(line) > self.maxLineBytes:
            self.lineTooLong()
            return
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            self.undecodableLine(line)
            return
        if self.floodPolicy is None or self._admit():
            self.textReceived(text)
            return
        # Hold this line and stop reading until its turn comes.
        self._waiting = text
        self.pauseProducing()
        policy = self.floodPolicy
        self._delayed += 1
        if self._delayed > policy.limit:
            self.floodExceeded()
            return
        if not self._warned:
            self._warned = True
            self.floodWarned()
        delay = (1 - self._tokens) / policy.rate
        self._release = self.floodClock.callLater(delay, self._releaseWaiting)

    def _admit(self) -> bool:
        """
        Take a token for one line if there is one.
        """
        policy = self.floodPolicy
        now = self.floodClock.seconds()
        if self._filled is None:
            self._tokens = float(policy.burst)
        else:
            self._tokens = min(
                float(policy.burst), self._tokens + (now - self._filled) * policy.rate
            )
        self._filled = now
        if self._tokens >= 1:
            self._tokens -= 1
            if self._tokens >= 1:
                # Slowed down enough to have room again: a new episode.
                self._delayed = 0
            return True
        return False

    def _releaseWaiting(self) -> None:
        self._release = None
        text, self._waiting = self._waiting, None
        self._admit()
        if text is not None and not self._cutOff:
            self.textReceived(text)
        if self.transport is not None and not self.transport.disconnecting:
            self.resumeProducing()

    def loseConnection(self) -> None:
        """
        Close once everything written so far has been sent.

        The send-queue watch is a registered producer, and Twisted keeps a
        connection open until its producer is unregistered (always, over
        TLS), so it goes first.
        """
        if self._watch is not None:
            self._watch = None
            self.transport.unregisterProducer()
        self.transport.loseConnection()

    def write(self, data: bytes) -> None:
        """
        Send C{data}, unless the peer has let too much pile up unread.
        """
        if self._cutOff:
            return
        watch = self._watch
        if watch is not None and watch.full:
            watch.queued += len(data)
            if watch.queued > self.sendQueueLimit:
                self._cutOff = True
                self.sendQueueOverflowed()
                return
        self.transport.write(data)

    def textReceived(self, text: str) -> None:
        """
        A whole line, decoded, without its line ending.
        """
        raise NotImplementedError()

    def lineTooLong(self) -> None:
        """
        A line longer than C{maxLineBytes} arrived and was dropped.
        """
        raise NotImplementedError()

    def undecodableLine(self, line: bytes) -> None:
        """
        A line that is not UTF-8 arrived and was dropped.
        """
        raise NotImplementedError()

    def sendQueueOverflowed(self) -> None:
        """
        The peer stopped reading; nothing more will be written to it.
        """
        raise NotImplementedError()

    def floodWarned(self) -> None:
        """
        The peer's lines are being delayed for the first time: tell it once.
        """
        raise NotImplementedError()

    def floodExceeded(self) -> None:
        """
        The peer kept flooding past the policy's limit: disconnect it.
        """
        raise NotImplementedError()
