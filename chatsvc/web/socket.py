"""
WebSocket as a transport for the line sessions: the handshake on a
C{twisted.web} resource, then a message adapter between the frames and a
L{ServerConnection}, the WebSocket twin of L{chatsvc.net.tcp}.

Why not C{twisted.web.websocket} or autobahn: the first cannot select a
subprotocol, which IRC over WebSocket needs (C{text.ircv3.net},
C{binary.ircv3.net}); the second brings a framework of its own and
per-connection objects several times the size of ours, with tens of
thousands of idle connections to hold.  wsproto, which Twisted's own
WebSocket support is built on, checks the handshake (its
L{H11Handshake}); after it, frames in are read by L{chatsvc.web.reader}
(wsproto's connection would cost 1.5 KB and 13 µs a message more, bench
S9 and S10), and frames out are made by L{chatsvc.web.frames}, once per
event for all recipients.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from attrs import frozen
from twisted.internet import tcp, unix
from twisted.internet.interfaces import IProtocol
from twisted.logger import Logger
from twisted.protocols.tls import TLSMemoryBIOProtocol
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request
from wsproto import ConnectionType
from wsproto.events import AcceptConnection
from wsproto.events import Request as Upgrade
from wsproto.handshake import H11Handshake
from wsproto.utilities import RemoteProtocolError
from zope.interface import implementer

from chatsvc.net.connection import ServerConnection
from chatsvc.net.tcp import LineServerFactory
from chatsvc.web.frames import GOING_AWAY, NORMAL_CLOSURE, PONG, Framer, closeFrame, encodeFrame
from chatsvc.web.reader import FrameReader, Message, Ping, ProtocolError

log = Logger()


@frozen
class WebPolicy:
    """
    Who may open a WebSocket, and who may say where a client is.

    @ivar origins: the origins allowed besides the site's own
        (C{https://chat.example.org}).
    @ivar proxies: the addresses of the reverse proxies whose
        C{X-Forwarded-For} is believed.
    """

    origins: frozenset[str] = frozenset()
    proxies: frozenset[str] = frozenset()


def normalOrigin(origin: str) -> str | None:
    """
    C{origin} as browsers compare them (lower case, no default port), or
    C{None} if it is not an http(s) origin (C{null}, a file).
    """
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = 443 if parts.scheme == "https" else 80
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port not in (None, default) else "")


def originAllowed(origin: str | None, host: str | None, secure: bool, allowed: frozenset[str]) -> bool:
    """
    Whether a WebSocket from a page of C{origin} may open on the site that
    C{host} (the request's C{Host}) names.

    No C{Origin} is a program, not a browser: the check keeps other sites'
    pages from using their visitors' browsers, and they always send one.
    """
    if origin is None:
        return True
    normal = normalOrigin(origin)
    if normal is None:
        return False
    if normal in {normalOrigin(each) for each in allowed}:
        return True
    own = normalOrigin(("https://" if secure else "http://") + host) if host else None
    return normal == own


def clientAddress(peer: str, forwardedFor: list[str], proxies: frozenset[str]) -> str:
    """
    Where a client connects from: its peer's address, unless the peer is
    one of C{proxies}; then the last address of C{X-Forwarded-For} (each
    proxy appends the one it saw) that is not a proxy's.
    """
    if peer not in proxies:
        return peer
    hops = [hop.strip() for header in forwardedFor for hop in header.split(",")]
    for hop in reversed(hops):
        try:
            address = str(ipaddress.ip_address(hop))
        except ValueError:
            # Not an address: nothing before it can be believed either.
            return peer
        if address not in proxies:
            return address
    return peer


def seenSecure(peer: str, secure: bool, forwardedProto: str | None, proxies: frozenset[str]) -> bool:
    """
    Whether the client reached the site over TLS: as the connection is, or
    as a proxy of C{proxies} that ends TLS for it says (C{X-Forwarded-Proto}),
    so that its page's C{https://} origin is the site's own.
    """
    if peer in proxies and forwardedProto is not None:
        return forwardedProto.split(",")[0].strip().lower() == "https"
    return secure


def chooseSubprotocol(offered: list[str], known: tuple[str, ...]) -> str | None:
    """
    The first of the client's C{offered} subprotocols that the server knows.
    """
    for name in offered:
        if name in known:
            return name
    return None


@implementer(IProtocol)
class MessageProtocol:
    """
    Messages from a WebSocket to a connection as lines, and the
    connection's lines out as messages (its C{framer}).

    One message is one line (a trailing CR LF is allowed; one with several
    lines is several).  A message longer than the session's longest line
    is refused as a line too long is, without keeping more of it than that;
    a binary message that is not UTF-8 as a TCP line that is not.  Either
    kind is taken whatever the subprotocol: the subprotocol says what the
    server sends.  A client that breaks the protocol is told why in a close
    frame and closed.
    """

    __slots__ = (
        "connection",
        "transport",
        "_reader",
        "_framer",
        "_host",
        "_handshake",
        "_pending",
        "_paused",
        "_stopped",
    )

    def __init__(
        self,
        connection: ServerConnection,
        framer: Framer,
        host: str,
        handshake: bytes,
        maxBytes: int,
    ) -> None:
        self.connection = connection
        self.transport = None
        self._reader = FrameReader(maxBytes)
        self._framer = framer
        self._host = host
        self._handshake = handshake
        self._pending: list[str] = []
        self._paused = False
        # Nothing more is read: a close was sent or received.
        self._stopped = False

    def makeConnection(self, transport) -> None:
        self.transport = transport
        handshake, self._handshake = self._handshake, b""
        self.connection.connectionMade(
            transport, self, host=self._host, framer=self._framer, handshake=handshake
        )

    def logPrefix(self) -> str:
        return self.connection.session.name

    def dataReceived(self, data: bytes) -> None:
        if self._stopped:
            return
        try:
            found = self._reader.feed(data)
        except ProtocolError as error:
            log.info(
                "{peer} broke the WebSocket protocol: {reason}",
                peer=self._host,
                reason=error.reason,
            )
            self._goodbye(error.code, error.reason)
            return
        for event in found:
            if type(event) is Message:
                self._message(event.data)
            elif type(event) is Ping:
                self.connection.send(encodeFrame(event.payload, PONG))
            else:
                self._goodbye(NORMAL_CLOSURE if event.code is None else event.code)
                return

    def _message(self, data: str | bytes | None) -> None:
        if data is None:
            self.connection.lineTooLong()
            return
        if type(data) is bytes:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                self.connection.undecodableLine(data)
                return
        else:
            text = data
        for line in text.removesuffix("\n").split("\n"):
            self._pending.append(line.removesuffix("\r"))
        self._deliver()

    def _deliver(self) -> None:
        pending = self._pending
        while pending and not self._paused and not self._stopped:
            self.connection.textReceived(pending.pop(0))

    def _goodbye(self, code: int, reason: str = "") -> None:
        """
        The client said goodbye (with C{code}), or broke the protocol:
        answer with a close frame, leave and close.
        """
        self._stopped = True
        self._pending = []
        self.connection.send(closeFrame(code, reason))
        self.connection.readConnectionLost()

    def connectionLost(self, reason=None) -> None:
        self._stopped = True
        self._pending = []
        self.connection.connectionLost()

    # Input control, for the connection's flood control and closing

    def pause(self) -> None:
        self._paused = True
        self.transport.pauseProducing()

    def resume(self) -> None:
        self._paused = False
        if not self.transport.disconnecting:
            self.transport.resumeProducing()
        self._deliver()

    def stop(self) -> None:
        """
        Nothing more is read; the connection is closing, so say goodbye
        first, unless a close was sent or received already.
        """
        if not self._stopped:
            self._stopped = True
            self._pending = []
            self.connection.send(closeFrame(GOING_AWAY))


def _takeOver(request: Request, protocol: MessageProtocol) -> None:
    """
    Give C{request}'s connection to C{protocol}: HTTP is over for it.

    The HTTP channel stops timing out and producing, and whatever hands it
    bytes (the TCP transport, or TLS over it) hands them to C{protocol}
    instead: nothing refers to the channel any more, and it is freed with
    the request, its headers and its buffers, a kilobyte for every one of
    tens of thousands of idle WebSockets.  On any other transport the two
    methods it calls are replaced on the channel itself, as Twisted's own
    WebSocket support does.
    """
    channel = request.channel
    transport = channel.transport
    channel.setTimeout(None)
    transport.unregisterProducer()
    if isinstance(transport, TLSMemoryBIOProtocol):
        transport.wrappedProtocol = protocol
    elif isinstance(transport, (tcp.Connection, unix.Server)):
        transport.protocol = protocol
    else:
        channel.dataReceived = protocol.dataReceived
        channel.connectionLost = protocol.connectionLost
    # In case HTTP paused it to hold back a request pipelined after this one.
    transport.resumeProducing()
    protocol.makeConnection(transport)


class WebSocketResource(Resource):
    """
    A WebSocket endpoint whose connections are sessions of C{connections}.

    @param framers: the framer for each subprotocol the endpoint speaks
        (C{None}: the client asked for none).
    """

    isLeaf = True

    def __init__(
        self,
        connections: LineServerFactory,
        framers: dict[str | None, Framer],
        policy: WebPolicy = WebPolicy(),
    ) -> None:
        super().__init__()
        self.connections = connections
        self.framers = framers
        self.policy = policy

    def render_GET(self, request: Request) -> bytes | int:
        headers = [
            (name, value)
            for name, values in request.requestHeaders.getAllRawHeaders()
            for value in values
        ]
        handshake = H11Handshake(ConnectionType.SERVER)
        try:
            handshake.initiate_upgrade_connection(headers, request.uri)
        except RemoteProtocolError as error:
            return _refuse(request, 400, f"Not a WebSocket handshake: {error}.")
        upgrade = next(event for event in handshake.events() if isinstance(event, Upgrade))
        origin = request.getHeader("origin")
        peer = getattr(request.getClientAddress(), "host", "unknown")
        secure = seenSecure(
            peer, request.isSecure(), request.getHeader("x-forwarded-proto"), self.policy.proxies
        )
        if not originAllowed(origin, request.getHeader("host"), secure, self.policy.origins):
            log.info("refused a WebSocket from origin {origin}", origin=origin)
            return _refuse(request, 403, "This page's origin may not open a WebSocket here.")
        known = tuple(name for name in self.framers if name is not None)
        subprotocol = chooseSubprotocol(list(upgrade.subprotocols), known)
        if subprotocol is None and upgrade.subprotocols:
            return _refuse(
                request, 400, "None of the subprotocols offered is spoken here: " + ", ".join(known) + "."
            )
        host = clientAddress(
            peer,
            request.requestHeaders.getRawHeaders("x-forwarded-for", []),
            self.policy.proxies,
        )
        accepted = handshake.send(AcceptConnection(subprotocol=subprotocol))
        protocol = MessageProtocol(
            self.connections.newConnection(),
            self.framers[subprotocol],
            host,
            accepted,
            self.connections.maxLineBytes,
        )
        _takeOver(request, protocol)
        return NOT_DONE_YET


def _refuse(request: Request, code: int, reason: str) -> bytes:
    request.setResponseCode(code)
    request.setHeader("content-type", "text/plain; charset=utf-8")
    return reason.encode("utf-8") + b"\n"
