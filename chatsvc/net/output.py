"""
Output: what a connection is given during one turn of the reactor leaves in
one write, bounded for a peer that stops reading.

A line said to a room is handed to each member's connection in turn (one
append, L{Output.send}); the L{Outbox} flushes each connection that has
something once, just after the turn's input has been handled.  On Twisted's
own TCP transport the flush is a C{send()} made at once, not a round trip
through the reactor (L{SocketWriter}); over anything else (TLS, a WebSocket
adapter, a test transport) it goes through the transport (L{TransportWriter}),
so no wrapper is ever bypassed.  A line to a room of 100 is 100 such writes,
so this is most of the cost of a busy room: C{bench/RESULTS.md}.
"""

from __future__ import annotations

import socket
from typing import Callable

from twisted.internet import tcp, unix
from twisted.internet.interfaces import (
    IPullProducer,
    IPushProducer,
    IReactorTime,
    ISSLTransport,
    ITCPTransport,
    IUNIXTransport,
)
from zope.interface import implementer

# How much output may wait in the server for a peer that stopped reading
# before the connection is cut; the kernel's socket buffer (or, over TLS, the
# transport's 64 KiB) comes on top.
DEFAULT_SEND_QUEUE = 1 << 20


class Outbox:
    """
    Flushes every connection that was given output during a turn of the
    reactor once, at the end of it (a C{callLater(0)} runs before the
    reactor next waits), so the cost of a write is paid per connection and
    turn rather than per line.

    @param gate: if given, asked before each flush whether what is about to
        leave is durable (L{chatsvc.history.History.whenDurable}); the
        turn's output is held until it is, and leaves in the order it was
        given, so nobody sees a line before it is written.
    """

    def __init__(self, clock: IReactorTime, gate=None) -> None:
        self._clock = clock
        self.gate = gate
        self._waiting: list[Output] = []
        self._call = None

    def add(self, output: Output) -> None:
        """
        C{output} has something waiting: flush it at the end of this turn.
        """
        self._waiting.append(output)
        if self._call is None:
            self._call = self._clock.callLater(0, self.flush)

    def flush(self) -> None:
        self._call = None
        waiting, self._waiting = self._waiting, []
        held = self.gate.whenDurable() if self.gate is not None else None
        if held is None:
            for output in waiting:
                output.flush()
            return
        # What each has now is what the gate's Deferred covers; what comes
        # while it is held waits for a later one.
        marks = [(output, output.queued) for output in waiting]
        held.addCallback(lambda _: self._release(marks))

    def _release(self, marks: list[tuple[Output, int]]) -> None:
        for output, count in marks:
            output.flush(count)
            if output.queued:
                self.add(output)


class Writer:
    """
    Output to one peer through its transport, as that transport's producer,
    refusing more once too much waits there for a peer that does not read.

    Nagle's algorithm stays on for a TCP connection handed a line at a time:
    in a big room it merges a trickle of lines into fewer segments (half the
    CPU, measured).  A batch of several lines is already merged, and Nagle
    would only hold the next one back until the client acknowledges this
    one, which a client may delay by 40 ms: batches go out with
    C{TCP_NODELAY}, and so do single lines to a peer that talks
    (L{Output.interactive}), whose latency is what people notice; the
    option is switched only when the kind of write changes.
    """

    # One per connection: slots keep tens of thousands of them small.
    __slots__ = ("_transport", "_limit", "_queued", "_noDelay")

    def __init__(self, transport, limit: int) -> None:
        self._transport = transport
        self._limit = limit
        # Bytes given to the transport since it was last caught up.
        self._queued = 0
        # TCP, or TLS over TCP (which provides its transport's interfaces);
        # Twisted's Unix transports are TCP transports too, without Nagle.
        tcpLike = ITCPTransport.providedBy(transport) and not IUNIXTransport.providedBy(
            transport
        )
        # None: no Nagle to switch.
        self._noDelay = False if tcpLike else None

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
class TransportWriter(Writer):
    """
    Writes through the transport, which buffers what the peer has not yet
    taken and, as a consumer, says when that buffer is full; what is written
    while it is full counts towards the limit.
    """

    __slots__ = ("_full",)

    def __init__(self, transport, limit: int) -> None:
        super().__init__(transport, limit)
        self._full = False

    def start(self) -> None:
        self._transport.registerProducer(self, True)

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
class SocketWriter(Writer):
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
        super().__init__(transport, limit)
        self._socket = sock
        self._buffering = False

    def start(self) -> None:
        self._transport.registerProducer(self, False)

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


_PLAIN_SERVERS = (tcp.Server, unix.Server)


def writerFor(transport, limit: int) -> SocketWriter | TransportWriter:
    """
    The writer for C{transport}: straight to the socket only for Twisted's
    own plain TCP and Unix server transports, whose sockets nothing else
    writes to; not another subclass (C{ssl.Server} writes TLS records on
    its socket), nor one that has started TLS.
    """
    if type(transport) in _PLAIN_SERVERS and not ISSLTransport.providedBy(transport):
        return SocketWriter(transport, transport.socket, limit)
    return TransportWriter(transport, limit)


class Output:
    """
    One connection's output: appended to by the delivery path, written once
    per reactor turn through its writer (at once, without an outbox).

    @param overflowed: called once if the peer stops reading and lets more
        than the limit pile up; nothing more is written after that.
    """

    __slots__ = (
        "_transport",
        "_writer",
        "_unsent",
        "_outbox",
        "_cutOff",
        "_closing",
        "_overflowed",
        "interactive",
    )

    def __init__(
        self,
        transport,
        writer: SocketWriter | TransportWriter,
        outbox: Outbox | None,
        overflowed: Callable[[], None],
    ) -> None:
        self._transport = transport
        self._writer: SocketWriter | TransportWriter | None = writer
        # One list per connection, reused: a new one per flush would be an
        # allocation per delivery for the garbage collector to count.
        self._unsent: list[bytes] = []
        self._outbox = outbox
        self._cutOff = False
        # Closing once the outbox has flushed what is queued.
        self._closing = False
        self._overflowed = overflowed
        # A peer that talks: its single lines too leave without Nagle's
        # wait (see Writer), since its own replies do not hurry the ACKs
        # Nagle waits for.
        self.interactive = False

    @classmethod
    def open(
        cls,
        transport,
        limit: int = DEFAULT_SEND_QUEUE,
        outbox: Outbox | None = None,
        overflowed: Callable[[], None] = lambda: None,
    ) -> Output:
        """
        Output to C{transport}, registered as its producer.
        """
        writer = writerFor(transport, limit)
        writer.start()
        return cls(transport, writer, outbox, overflowed)

    @property
    def queued(self) -> int:
        """
        How many pieces wait to be sent.
        """
        return len(self._unsent)

    def send(self, data: bytes) -> None:
        """
        Queue C{data}: it leaves at the end of this reactor turn.
        """
        if self._cutOff or self._closing:
            return
        unsent = self._unsent
        unsent.append(data)
        if self._outbox is None:
            self.flush()
        elif len(unsent) == 1:
            self._outbox.add(self)

    def flush(self, count: int | None = None) -> None:
        """
        Send everything queued (or the first C{count} pieces), with one
        write.
        """
        unsent = self._unsent
        if unsent:
            if count is None or count >= len(unsent):
                batch = len(unsent) > 1
                data = b"".join(unsent) if batch else unsent[0]
                unsent.clear()
            else:
                batch = count > 1
                data = b"".join(unsent[:count])
                del unsent[:count]
            if not self._cutOff:
                if self._writer is None:
                    self._transport.write(data)
                elif not self._writer.write(data, batch or self.interactive):
                    self._cutOff = True
                    self._overflowed()
        if self._closing and not unsent:
            self._finishClose()

    def close(self) -> None:
        """
        Send what is queued, then close once the transport has sent it;
        anything sent after this is dropped.

        With an outbox, what is queued leaves with the outbox's next flush
        (through its gate), and the close follows it.
        """
        if self._unsent and self._outbox is not None:
            self._closing = True
            return
        self._finishClose()

    def _finishClose(self) -> None:
        # The writer is a registered producer, and Twisted keeps a
        # connection open until its producer is unregistered.
        self._closing = False
        self.detach()
        self._cutOff = True
        self._transport.loseConnection()

    def detach(self) -> None:
        """
        The connection is gone (or going): forget what is queued and the
        writer.
        """
        if self._writer is not None:
            self._writer.detach()
            self._writer = None

    def discard(self) -> None:
        """
        Nothing more will be sent: the connection was lost or aborted.
        """
        self._cutOff = True
        self._unsent.clear()
        self.detach()
