"""
The server side of one connection, whatever its front-end and transport.

Every front-end's session talks to its client in text lines and leaves the
rest to L{ServerConnection}: admission by the hub's limits, the server
password check, flood control (delay, warn once, cut off), output and its
send-queue bound, and closing, either with a goodbye that is flushed first
or at once.  So the rules are the same for every front-end, and a new one
(a WebSocket session) gets all of them by being a session.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from attrs import frozen
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from zope.interface import implementer

from chatsvc import events
from chatsvc.errors import TooManyConnections
from chatsvc.hub import Hub, Member
from chatsvc.interfaces import IParticipant, ISession
from chatsvc.net.flood import FloodPolicy, TokenBucket
from chatsvc.net.output import DEFAULT_SEND_QUEUE, Outbox, Output

if TYPE_CHECKING:
    from chatsvc.metrics import Metrics
    from chatsvc.web.frames import Framer


@frozen
class Limits:
    """
    What every connection of a front-end is held to.

    @ivar sendQueue: bytes that may wait for a peer that stopped reading.
    @ivar password: the server password (UTF-8), if clients must give one.
    @ivar flood: how fast clients may send; C{None}, only in tests that
        say so, for no limit.
    @ivar metrics: what connections report their admission, registration,
        loss and cut-offs to (C{--metrics-port}), labelled by their
        session's name; C{None}: nothing is counted.  Here because every
        connection of a front-end already shares these.
    """

    sendQueue: int = DEFAULT_SEND_QUEUE
    password: bytes | None = None
    flood: FloodPolicy | None = FloodPolicy()
    metrics: Metrics | None = None


@implementer(IParticipant)
class ServerConnection:
    """
    One client connection as the hub sees it (its participant), between a
    transport adapter below and a front-end session above.

    The adapter calls L{connectionMade}, L{textReceived}, L{lineTooLong},
    L{undecodableLine}, L{readConnectionLost} and L{connectionLost}; the
    session calls L{sendLines}, L{leave}, L{goodbye}, L{abort} and
    L{checkPassword}.

    @ivar member: the hub's record of this connection, once admitted.
    @ivar host: the peer's address, as the hub and logs name it.
    @ivar send: the delivery path's append: once connected, the output's own
        C{send}, with nothing of this object's in between, since it is
        called once per recipient of every event.  It takes bytes as the
        client reads them: what L{renderer} made, or a message adapter's
        own (a WebSocket's control frames).
    @ivar renderer: the session's renderer, or for a WebSocket its framed
        twin (L{chatsvc.web.frames.FramedRenderer}).
    """

    log = Logger()

    # One per connection: slots keep tens of thousands of them small.
    __slots__ = (
        "hub",
        "session",
        "renderer",
        "member",
        "host",
        "send",
        "_clock",
        "_limits",
        "_outbox",
        "_username",
        "_bucket",
        "_closing",
        "_warned",
        "_held",
        "_release",
        "_transport",
        "_input",
        "_output",
        "_framer",
    )

    def __init__(
        self,
        hub: Hub,
        session: ISession,
        clock: IReactorTime,
        limits: Limits = Limits(),
        outbox: Outbox | None = None,
        username: str = "user",
    ) -> None:
        self.hub = hub
        self.session = session
        self.renderer = session.renderer
        self.member: Member | None = None
        self.host = "unknown"
        self._clock = clock
        self._limits = limits
        self._outbox = outbox
        self._username = username
        self._bucket = TokenBucket(limits.flood) if limits.flood is not None else None
        self._closing = False
        # Told to slow down: once per connection.
        self._warned = False
        self._held: str | None = None
        self._release = None
        self._transport = None
        self._input = None
        self._output: Output | None = None
        self._framer: Framer | None = None

    # From the transport adapter

    def connectionMade(
        self,
        transport,
        input,
        host: str | None = None,
        framer: Framer | None = None,
        handshake: bytes = b"",
    ) -> None:
        """
        The client connected over C{transport}; C{input} pauses and resumes
        the lines it reads (for flood control) and stops them.

        A message adapter (L{chatsvc.web.socket}) also gives the client's
        C{host} (which a proxy may have told it), the C{framer} that turns
        lines into its messages, and the C{handshake} bytes
        that must leave before them.
        """
        self._transport = transport
        self._input = input
        self._output = Output.open(
            transport, self._limits.sendQueue, self._outbox, self._overflowed
        )
        if handshake:
            self._output.send(handshake)
        self.send = self._output.send
        self._framer = framer
        if framer is not None:
            self.renderer = framer.renderer(self.renderer)
        peer = transport.getPeer()
        self.host = host if host is not None else getattr(peer, "host", "unknown")
        try:
            self.member = self.hub.connect(self, username=self._username, host=self.host)
        except TooManyConnections as error:
            self.log.info(
                "refused {front} {peer}: {scope} limit",
                front=self.session.name,
                peer=self.host if host is not None else peer,
                scope=error.scope,
            )
            if self._limits.metrics is not None:
                self._limits.metrics.connectionRefused(self.session.name, error.scope)
            self.goodbye(self.session.refusedLines(error, self.host))
            return
        if self._limits.metrics is not None:
            self._limits.metrics.connectionAccepted(self.session.name)
        self.session.start(self)

    def textReceived(self, text: str) -> None:
        if self._closing:
            return
        gate = self._outbox.gate if self._outbox is not None else None
        if gate is not None and gate.congested:
            # The history store is behind: read nothing more until it is not.
            self._held = text
            self._input.pause()
            gate.whenCaughtUp().addCallback(lambda _: self._releaseCongested())
            return
        member = self.member
        if member is not None and member.nickname is not None:
            # It talks (its nickname line does not count): no Nagle for it.
            self._output.interactive = True
        bucket = self._bucket
        if bucket is None or bucket.take(self._clock.seconds()):
            self.session.lineReceived(text)
            return
        # Hold this line and read nothing more until its turn comes.
        self._held = text
        self._input.pause()
        delay = bucket.delay()
        if bucket.exceeded:
            self.log.info("{peer} kept flooding; disconnecting", peer=self.host)
            if self._limits.metrics is not None:
                self._limits.metrics.cutOff(self.session.name, "flood")
            self.leave("Excess Flood")
            self.goodbye(self.session.floodExceededLines())
            return
        if not self._warned:
            self._warned = True
            self.sendLines(self.session.floodWarningLines(bucket.policy))
        self._release = self._clock.callLater(delay, self._releaseHeld)

    def _releaseHeld(self) -> None:
        self._release = None
        text, self._held = self._held, None
        # The token this line waited for.
        self._bucket.take(self._clock.seconds())
        if text is not None and not self._closing:
            self.session.lineReceived(text)
        if not self._closing:
            self._input.resume()

    def _releaseCongested(self) -> None:
        text, self._held = self._held, None
        if text is None or self._closing:
            return
        self.textReceived(text)
        if self._held is None and not self._closing:
            self._input.resume()

    def lineTooLong(self) -> None:
        if not self._closing:
            self.log.info("line too long from {peer}", peer=self.host)
            self.session.lineTooLong()

    def undecodableLine(self, line: bytes) -> None:
        if not self._closing:
            self.log.info("invalid UTF-8 from {peer}", peer=self.host)
            self.session.undecodableLine(line)

    def readConnectionLost(self) -> None:
        """
        The client sent EOF (C{nc} at the end of its input): leave now, and
        close once everything owed to it has been written.
        """
        self.leave()
        self.goodbye([])

    def connectionLost(self) -> None:
        self._closing = True
        if self._output is not None:
            self._output.discard()
        if self._release is not None and self._release.active():
            self._release.cancel()
        self.session.stop()
        self.leave()
        if self.member is not None and self._limits.metrics is not None:
            self._limits.metrics.connectionLost(self.session.name)

    # For the session

    def sendLines(self, lines: list[str]) -> None:
        """
        Send C{lines}, each ended with CR LF, unless the connection closes.
        """
        if lines and not self._closing:
            self.write("".join(line + "\r\n" for line in lines).encode("utf-8"))

    def write(self, data: bytes) -> None:
        """
        Send C{data}, CR LF ended lines a session made itself (not through
        the delivery path), as its client takes lines: framed, for a
        WebSocket.
        """
        framer = self._framer
        self.send(data if framer is None else framer.frame(data))

    def useRenderer(self, renderer) -> None:
        """
        Word events with C{renderer} from now on (the user chose another
        language, the client negotiated capabilities).
        """
        self.session.renderer = renderer
        framer = self._framer
        self.renderer = renderer if framer is None else framer.renderer(renderer)

    def leave(self, reason: str | None = None) -> None:
        """
        Leave the hub now (everyone who shared a room hears it, with
        C{reason}); only the first call counts.
        """
        if self.member is not None:
            self.hub.disconnect(self.member, reason)

    def goodbye(self, lines: list[str]) -> None:
        """
        Send C{lines}, then close once all output has left; nothing is read
        or sent after this.  The hub hears of it when the connection is
        gone, unless the session L{leave}s first.
        """
        if self._closing:
            return
        self.sendLines(lines)
        self._closing = True
        self._input.stop()
        self._output.close()

    def abort(self, lines: list[str] | None = None) -> None:
        """
        Close at once, dropping whatever is queued; C{lines}, if given, are
        written first, as far as the socket takes them at once (last words
        to a peer that may be gone: nothing waits for it).
        """
        if lines:
            self.sendLines(lines)
            self._output.flush()
        self._closing = True
        self._output.discard()
        self._transport.abortConnection()

    @property
    def passwordRequired(self) -> bool:
        return self._limits.password is not None

    def checkPassword(self, attempt: str) -> bool:
        """
        Whether C{attempt} is the server password, compared in constant time
        and never logged (it may be someone's real password).
        """
        password = self._limits.password
        if password is None:
            return True
        if hmac.compare_digest(attempt.encode("utf-8"), password):
            return True
        self.log.info("wrong password from {peer}", peer=self.host)
        return False

    # IParticipant (send: see the class docstring)

    def deliver(self, event: events.Event) -> None:
        # Called only for what the hub tells this connection alone: the
        # Welcome of its registration among them, never a published event.
        if type(event) is events.Welcome and self._limits.metrics is not None:
            self._limits.metrics.registered(self.session.name)
        if self._closing:
            return
        data = self.renderer.render(event)
        if data:
            self.send(data)
        if isinstance(event, (events.Closing, events.TimedOut, events.Killed, events.Dropped)):
            self.goodbye([])

    def close(self) -> None:
        self.abort()

    def _overflowed(self) -> None:
        self.log.warn("{peer} stopped reading; disconnecting", peer=self.host)
        if self._limits.metrics is not None:
            self._limits.metrics.cutOff(self.session.name, "send_queue")
        self.abort()
