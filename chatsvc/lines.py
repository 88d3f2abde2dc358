"""
Line framing shared by the front-ends: bounded, forgiving, decoded per line.

Twisted's L{LineReceiver} drops the connection on an over-long line and
leaves decoding to its user.  Here a line is split off first and decoded on
its own (so a character split across two reads is whole again), an over-long
line is skipped up to its end while everything after it is kept, and output
to a peer that stops reading is bounded.

Output is also cheaper than Twisted's default: what a connection is given
during one turn of the reactor leaves in one write (L{Outbox}), and on a
plain socket that write is a C{send()} made at once, not a round trip
through the reactor (L{_SocketWriter}).  A line to a room of 100 is 100
such writes, so this is most of the cost of a busy room.
"""

from __future__ import annotations

import os
import socket

from attrs import frozen
from twisted.internet.interfaces import (
    IPullProducer,
    IPushProducer,
    IReactorTime,
    IStreamServerEndpoint,
    ITCPTransport,
    IUNIXTransport,
)
from twisted.protocols.basic import LineReceiver
from zope.interface import implementer

# How much output may wait in the server for a peer that stopped reading
# before the connection is cut; the kernel's socket buffer (or, over TLS, the
# transport's 64 KiB) comes on top.
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
    port,
    idle: float = KEEPALIVE_IDLE,
    interval: float = KEEPALIVE_INTERVAL,
    count: int = KEEPALIVE_COUNT,
) -> bool:
    """
    Have the operating system probe idle connections and report them lost
    when the peer is gone, with timers far shorter than its two-hour default.

    Set on a listening C{port} (anything with a C{fileno()}, as Twisted's
    ports are), so that the connections it accepts inherit the options, as
    Linux's do.  Returns whether it was a TCP socket that took them.
    """
    fileno = getattr(port, "fileno", None)
    if fileno is None:
        return False
    # A second handle on the port's socket: options set through it are the
    # socket's, and closing it leaves the port's own handle open.
    with socket.socket(fileno=os.dup(fileno())) as handle:
        if handle.family not in (socket.AF_INET, socket.AF_INET6):
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


@implementer(IStreamServerEndpoint)
class KeepAliveEndpoint:
    """
    Listens through another endpoint with TCP keepalive on the listening
    socket (L{keepAlive}).

    The native protocol's liveness check: a plain C{nc} user cannot answer
    a PING, but every TCP stack answers keepalive probes.  Set once on the
    listening socket rather than on each connection, it costs nothing per
    connection (it was four system calls, 5% of a registration).
    """

    def __init__(
        self,
        endpoint: IStreamServerEndpoint,
        idle: float = KEEPALIVE_IDLE,
        interval: float = KEEPALIVE_INTERVAL,
        count: int = KEEPALIVE_COUNT,
    ) -> None:
        self.endpoint = endpoint
        self.idle = idle
        self.interval = interval
        self.count = count

    def listen(self, protocolFactory):
        def configured(port):
            keepAlive(port, self.idle, self.interval, self.count)
            return port

        return self.endpoint.listen(protocolFactory).addCallback(configured)


def _socketOf(transport) -> socket.socket | None:
    """
    The socket under C{transport}, if it is one (TCP or Unix; line
    protocols do not run over datagrams).
    """
    handle = getattr(transport, "getHandle", lambda: None)()
    return handle if isinstance(handle, socket.socket) else None


class Outbox:
    """
    Lets everything a connection is given during one turn of the reactor
    leave in one write.

    A line said to a room is handed to each member's connection in turn, and
    when several lines arrive in one turn each connection is handed several.
    The outbox collects them and flushes each connection once, just after
    the turn's input has been handled (a C{callLater(0)} runs before the
    reactor next waits), so the cost of a write is paid per connection and
    turn rather than per line.
    """

    def __init__(self, clock: IReactorTime) -> None:
        self._clock = clock
        self._waiting: list[BoundedLineReceiver] = []
        self._call = None

    def add(self, receiver: BoundedLineReceiver) -> None:
        """
        C{receiver} has output waiting: flush it at the end of this turn.
        """
        self._waiting.append(receiver)
        if self._call is None:
            self._call = self._clock.callLater(0, self.flush)

    def flush(self) -> None:
        self._call = None
        waiting, self._waiting = self._waiting, []
        for receiver in waiting:
            receiver.flush()


class _Writer:
    """
    Output to one peer through its transport, as that transport's producer,
    refusing more once too much waits there for a peer that does not read.

    Nagle's algorithm stays on for a TCP connection handed a line at a time:
    in a big room it merges a trickle of lines into fewer segments (half the
    CPU, measured).  A batch of several lines is already merged, and Nagle
    would only hold the next one back until the client acknowledges this
    one, which a client that only reads may delay by 40 ms: batches go out
    with C{TCP_NODELAY}, switched only when the kind of write changes.
    """

    # One per connection: slots keep tens of thousands of them small.
    __slots__ = ("_transport", "_limit", "_queued", "_noDelay")

    def __init__(self, transport, limit: int, streaming: bool) -> None:
        self._transport = transport
        self._limit = limit
        # Bytes given to the transport since it was last caught up.
        self._queued = 0
        # TCP, or TLS over TCP (which provides its transport's interfaces);
        # Twisted's Unix transports are TCP transports too, without Nagle.
        tcp = ITCPTransport.providedBy(transport) and not IUNIXTransport.providedBy(transport)
        # None: no Nagle to switch.
        self._noDelay = False if tcp else None
        transport.registerProducer(self, streaming)

    def _nagle(self, batch: bool) -> None:
        """
        Nagle for a single line, C{TCP_NODELAY} for a batch.
        """
        if batch is not self._noDelay and self._noDelay is not None:
            self._noDelay = batch
            self._transport.setTcpNoDelay(batch)

    def _queue(self, data: bytes) -> bool:
        """
        Give C{data} to the transport to send when it can, unless the limit
        would be passed.
        """
        self._queued += len(data)
        if self._queued > self._limit:
            return False
        self._transport.write(data)
        return True

    def detach(self) -> None:
        self._transport.unregisterProducer()


@implementer(IPushProducer)
class _TransportWriter(_Writer):
    """
    Writes through the transport, which buffers what the peer has not yet
    taken and, as a consumer, says when that buffer is full; what is written
    while it is full counts towards the limit.

    Works over any transport (TLS, test transports).
    """

    __slots__ = ("_full",)

    def __init__(self, transport, limit: int) -> None:
        self._full = False
        super().__init__(transport, limit, streaming=True)

    def write(self, data: bytes, batch: bool = False) -> bool:
        """
        Write C{data} (several lines if C{batch}), or return C{False} if the
        peer has let more than the limit pile up beyond the transport's own
        buffer.
        """
        self._nagle(batch)
        if self._full:
            return self._queue(data)
        self._transport.write(data)
        return True

    def pauseProducing(self) -> None:
        if not self._full:
            self._full = True
            self._queued = 0

    def resumeProducing(self) -> None:
        self._full = False

    def stopProducing(self) -> None:
        self._full = False


@implementer(IPullProducer)
class _SocketWriter(_Writer):
    """
    Writes to a plain socket with one C{send()} while the transport has
    nothing buffered, and through the transport otherwise.

    A write through a Twisted transport is sent on the reactor's next turn:
    the reactor is asked to watch the socket for writability, wakes, sends,
    and stops watching, two C{epoll_ctl} calls and a wake-up per write,
    several times the cost of the C{send()} itself when a room of a
    thousand gets a line at a time.  The socket almost always takes the
    data at once; what it does not take goes to the transport, which sends
    it, and everything written after it, in order.  As the transport's pull
    producer this writer is told when the transport has sent everything,
    and sends by itself again from then on.
    """

    __slots__ = ("_socket", "_buffering")

    def __init__(self, transport, sock: socket.socket, limit: int) -> None:
        self._socket = sock
        self._buffering = False
        super().__init__(transport, limit, streaming=False)

    def write(self, data: bytes, batch: bool = False) -> bool:
        """
        Write C{data} (several lines if C{batch}), or return C{False} if
        more than the limit has gone to the transport's buffer since the
        peer last caught up.
        """
        if not self._buffering:
            self._nagle(batch)
            try:
                sent = self._socket.send(data)
            except OSError:
                # Full (EAGAIN), or broken, which the transport will find
                # out and report as the connection lost.
                sent = 0
            if sent == len(data):
                return True
            data = data[sent:]
            self._buffering = True
        return self._queue(data)

    def resumeProducing(self) -> None:
        # The transport has sent all it had (or has just registered us).
        self._buffering = False
        self._queued = 0

    def stopProducing(self) -> None:
        pass


class BoundedLineReceiver(LineReceiver):
    """
    A line receiver for text protocols read by people and by C{nc}.

    Lines end in LF or CRLF.  Subclasses set C{maxLineBytes} and implement
    L{textReceived}, L{lineTooLong}, L{undecodableLine} and
    L{sendQueueOverflowed}, and write with L{write}.  Given an L{Outbox}
    (the factory sets C{outbox}), output leaves once per reactor turn;
    without one, at once.
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
    # Output: an outbox to flush through once per reactor turn, if given.
    outbox: Outbox | None = None
    _writer: _SocketWriter | _TransportWriter | None = None
    _unsent: list[bytes]

    @property
    def MAX_LENGTH(self) -> int:  # type: ignore[override]
        # One more, for the CR of a CRLF line ending.
        return self.maxLineBytes + 1

    def connectionMade(self) -> None:
        self._unsent = []
        sock = _socketOf(self.transport)
        if sock is None:
            self._writer = _TransportWriter(self.transport, self.sendQueueLimit)
        else:
            self._writer = _SocketWriter(self.transport, sock, self.sendQueueLimit)

    def connectionLost(self, reason=None) -> None:
        self._unsent.clear()
        self._detachWriter()
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

        The writer is a registered producer, and Twisted keeps a connection
        open until its producer is unregistered, so it goes first, and
        later writes go straight to the transport.
        """
        self.flush()
        self._detachWriter()
        self.transport.loseConnection()

    def _detachWriter(self) -> None:
        if self._writer is not None:
            self._writer.detach()
            self._writer = None

    def write(self, data: bytes) -> None:
        """
        Send C{data} (at the end of this reactor turn, if there is an
        outbox), unless the peer has let too much pile up unread.
        """
        if self._cutOff:
            return
        unsent = self._unsent
        unsent.append(data)
        if self.outbox is None:
            self.flush()
        elif len(unsent) == 1:
            self.outbox.add(self)

    def flush(self) -> None:
        """
        Send everything written since the last flush, with one write.
        """
        unsent = self._unsent
        if not unsent:
            return
        # One list per connection, reused: a new one per flush would be an
        # allocation per delivery for the garbage collector to count.
        batch = len(unsent) > 1
        data = b"".join(unsent) if batch else unsent[0]
        unsent.clear()
        if self._cutOff:
            return
        if self._writer is None:
            self.transport.write(data)
        elif not self._writer.write(data, batch):
            self._cutOff = True
            self.sendQueueOverflowed()

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
