"""
C{twistd chat}: options and the service they describe.

The only module of the server that touches the global reactor.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket

from twisted.application.internet import StreamServerEndpointService
from twisted.application.service import IService
from twisted.internet.endpoints import serverFromString
from twisted.internet.interfaces import IStreamServerEndpoint
from twisted.logger import ILogObserver, Logger, globalLogPublisher
from twisted.python import usage
from zope.interface import implementer

from chatsvc.accounts import Accounts
from chatsvc.cluster.bus import RedisBus, parseRedisURL
from chatsvc.cluster.link import ClusterLink
from chatsvc.errors import InvalidName, StoreError
from chatsvc.history import (
    DEFAULT_HISTORY_DAYS,
    DEFAULT_PER_ROOM,
    DEFAULT_REPLAY,
    History,
)
from chatsvc.hub import (
    DEFAULT_CROWD_SIZE,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_PER_ADDRESS,
    DEFAULT_MAX_ROOMS,
    DEFAULT_MAX_ROOMS_PER_MEMBER,
    DEFAULT_REGISTRATION_TIMEOUT,
    DEFAULT_ROOM,
    Hub,
)
from chatsvc.i18n import DEFAULT_LANGUAGE, LANGUAGES, normalizeLanguage
from chatsvc.irc.protocol import IRCFactory
from chatsvc.irc.session import IRCSession
from chatsvc.metrics import LagProbe, Metrics, MetricsSite
from chatsvc.names import checkRoomName
from chatsvc.native.protocol import NativeFactory
from chatsvc.native.session import NativeSession
from chatsvc.net.connection import Limits
from chatsvc.net.flood import FloodPolicy
from chatsvc.net.keepalive import KEEPALIVE_COUNT, KeepAliveEndpoint
from chatsvc.net.output import DEFAULT_SEND_QUEUE, Outbox
from chatsvc.opers import loadOpers
from chatsvc.passwords import HashingThreads
from chatsvc.registered import RoomKeeper
from chatsvc.service import DEFAULT_GRACE, ChatService, StopOnSignals
from chatsvc.store import sqlite
from chatsvc.store.memory import MemoryStore
from chatsvc.store.sqlite import SQLiteStore
from chatsvc.web.page import PageSession
from chatsvc.web.site import webSite
from chatsvc.web.socket import WebPolicy, normalOrigin

DEFAULT_FLOOD = FloodPolicy()


# Twisted listens with a backlog of 50.  When a class or a load test connects
# hundreds of clients at once, Linux then drops the handshakes that do not fit
# and the clients retry after 1, 3, 7, 15... seconds: joins that should take a
# second take a minute.
DEFAULT_BACKLOG = 1024
_BACKLOG_TYPES = ("tcp", "tcp6", "ssl", "reuseport")


def endpointDescription(value: str) -> str:
    """
    A bare port number means TCP on every interface; anything else is taken
    as a Twisted endpoint description (C{tcp:5555:interface=127.0.0.1},
    C{tcp6:5555}, C{unix:/run/chat.sock}, C{ssl:...}, C{systemd:...}), or
    our own C{reuseport:5555}, a port several processes share
    (L{chatsvc.net.reuseport}).

    TCP-family endpoints get a backlog of L{DEFAULT_BACKLOG} unless the
    description names one.
    """
    description = f"tcp:{value}" if value.isdigit() else value
    kind, _, parameters = description.partition(":")
    if kind in _BACKLOG_TYPES and not re.search(r"(^|:)backlog=", parameters):
        description += f":backlog={DEFAULT_BACKLOG}"
    return description


@implementer(IStreamServerEndpoint)
class AnnouncedEndpoint:
    """
    Listens through another endpoint and logs where it listens, port number
    included: C{native listening on 127.0.0.1:5555}.

    Given port 0, the system picks a free port and this line is how anyone
    (a test, an operator) learns which; the integration tests start every
    server that way, which no other process can race for.
    """

    log = Logger()

    def __init__(self, endpoint: IStreamServerEndpoint, name: str) -> None:
        self.endpoint = endpoint
        self.name = name

    def listen(self, protocolFactory):
        def announce(port):
            address = port.getHost()
            where = getattr(address, "host", None)
            if where is not None and hasattr(address, "port"):
                where = f"[{where}]:{address.port}" if ":" in where else f"{where}:{address.port}"
            else:
                where = getattr(address, "name", None) or str(address)
            self.log.info("{name} listening on {where}", name=self.name, where=where)
            return port

        return self.endpoint.listen(protocolFactory).addCallback(announce)


def _positiveInt(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError("must be at least 1")
    return number


def _countOrZero(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError("must be 0 or more")
    return number


DEFAULT_STORE = "sqlite:chatsvc.sqlite3"


def storeDescription(value: str) -> tuple[str, str | None]:
    """
    What C{--store} names: C{("memory", None)}, C{("sqlite", path)} or
    C{("postgresql", uri)} for a C{postgresql://} or C{postgres://} URI; a
    bare path means a SQLite file.
    """
    if value == "memory":
        return ("memory", None)
    kind, colon, rest = value.partition(":")
    if colon and kind == "sqlite":
        if not rest:
            raise usage.UsageError("--store sqlite: needs a file name")
        return ("sqlite", rest)
    if colon and kind in ("postgresql", "postgres"):
        if not rest.startswith("//"):
            raise usage.UsageError(
                "--store postgresql needs a URI: postgresql://user@host:port/dbname"
            )
        return ("postgresql", value)
    return ("sqlite", value)


def _positiveFloat(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise ValueError("must be positive")
    return number


class Options(usage.Options):
    synopsis = "[options]"
    longdesc = (
        "A chat server.  Clients connect with `python -m chatsvc.client` or "
        "plain nc/telnet; see README.rst and docs/protocol.rst."
    )
    optParameters = [
        [
            "port",
            "p",
            "5555",
            "Where the native protocol listens: a port number or an endpoint "
            "description such as tcp:5555:interface=127.0.0.1 (reuseport:5555 "
            "for a port several processes share).",
        ],
        [
            "lang",
            None,
            DEFAULT_LANGUAGE,
            "Language of server messages until a client picks its own, and of "
            f"IRC crowd summaries ({', '.join(LANGUAGES)}).",
        ],
        [
            "irc-port",
            None,
            None,
            "Where the IRC front-end listens (off unless given): a port number "
            "or an endpoint description such as tcp:6667:interface=127.0.0.1.",
        ],
        ["irc-name", None, "chatsvc", "The server name IRC clients see."],
        [
            "web-port",
            None,
            None,
            "Where the web page, its WebSocket and IRC over WebSocket (/irc) are "
            "served (off unless given): a port number or an endpoint description; "
            "ssl:... for HTTPS.",
        ],
        [
            "password-file",
            None,
            None,
            "A file whose first line is the password every client must give "
            "(native: answer PASS; IRC: the PASS command).  Off unless given.",
        ],
        [
            "opers",
            None,
            None,
            "A file of server operators: one 'name password' per line, the "
            "password best an argon2 hash (python -m chatsvc.opers makes one).  "
            "Off unless given: then nobody is an operator.",
        ],
        ["room", None, DEFAULT_ROOM, "The room everyone starts in."],
        [
            "crowd-size",
            None,
            DEFAULT_CROWD_SIZE,
            "From this many members on, a room announces joins and leaves as "
            "a summary once a second instead of one by one.",
            _positiveInt,
        ],
        [
            "max-connections",
            None,
            DEFAULT_MAX_CONNECTIONS,
            "Connections allowed at once, all front-ends together.",
            _positiveInt,
        ],
        [
            "max-per-address",
            None,
            DEFAULT_MAX_PER_ADDRESS,
            "Connections allowed at once from one address.",
            _positiveInt,
        ],
        [
            "max-rooms-per-user",
            None,
            DEFAULT_MAX_ROOMS_PER_MEMBER,
            "Rooms (IRC channels) one connection may be in at once.",
            _positiveInt,
        ],
        [
            "max-rooms",
            None,
            DEFAULT_MAX_ROOMS,
            "Rooms the server holds at most; joining a new one past that is refused.",
            _positiveInt,
        ],
        [
            "send-queue",
            None,
            DEFAULT_SEND_QUEUE,
            "Bytes of output that may wait in the server for a client that "
            "stopped reading (beyond the socket buffer) before it is cut off.",
            _positiveInt,
        ],
        [
            "flood-burst",
            None,
            DEFAULT_FLOOD.burst,
            "Lines a client may send at once before the rest are delayed.",
            _positiveInt,
        ],
        [
            "flood-rate",
            None,
            DEFAULT_FLOOD.rate,
            "Lines a second a client may send after its burst.",
            _positiveFloat,
        ],
        [
            "flood-limit",
            None,
            DEFAULT_FLOOD.limit,
            "Delayed lines after which a client that keeps flooding is cut off.",
            _positiveInt,
        ],
        [
            "ping-interval",
            None,
            90.0,
            "Seconds of silence before a connection is probed (a PING on IRC, "
            "TCP keepalive on the native protocol).",
            _positiveFloat,
        ],
        [
            "ping-timeout",
            None,
            60.0,
            "Seconds a probed connection has to answer before it is closed.",
            _positiveFloat,
        ],
        [
            "register-timeout",
            None,
            DEFAULT_REGISTRATION_TIMEOUT,
            "Seconds a new connection has to choose its nickname.",
            _positiveFloat,
        ],
        [
            "store",
            None,
            DEFAULT_STORE,
            "Where history, accounts, registered rooms and topics are kept: a SQLite file "
            "(sqlite:PATH, or just PATH), PostgreSQL shared by several nodes "
            "(postgresql://user@host:port/dbname), or memory (nothing kept across restarts).",
        ],
        [
            "replay",
            None,
            DEFAULT_REPLAY,
            "Lines of a room shown to whoever joins it (0: none).",
            _countOrZero,
        ],
        [
            "history-days",
            None,
            DEFAULT_HISTORY_DAYS,
            "Days history is kept; older lines are deleted by an hourly job.",
            _positiveFloat,
        ],
        [
            "history-per-room",
            None,
            DEFAULT_PER_ROOM,
            "Lines kept per room (and per private conversation) at most.",
            _positiveInt,
        ],
        [
            "grace",
            None,
            DEFAULT_GRACE,
            "Seconds that connections get to take their goodbye on shutdown.",
            _positiveFloat,
        ],
        [
            "cluster",
            None,
            None,
            (
                "Join the other nodes on this Redis as one chat (off unless given): "
                "redis://[:password@]HOST:PORT[/DB].  Needs --store postgresql://..., "
                "shared by every node."
            ),
        ],
        [
            "node-name",
            None,
            None,
            "This node's name in the cluster and in its logs (default: host name and process id).",
        ],
        [
            "metrics-port",
            None,
            None,
            (
                "Where Prometheus metrics are served over HTTP at /metrics (off "
                "unless given): a port number or an endpoint description such as "
                "tcp:9100:interface=127.0.0.1."
            ),
        ],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["web-origin"] = []
        self["web-proxy"] = []

    def opt_web_origin(self, origin: str) -> None:
        """
        Another origin whose pages may open the WebSockets (the page's own
        always may): https://chat.example.org.  Repeatable.
        """
        if normalOrigin(origin) is None:
            raise usage.UsageError(f"--web-origin needs an http(s) origin, not {origin!r}")
        self["web-origin"].append(origin)

    def opt_web_proxy(self, address: str) -> None:
        """
        The address of a reverse proxy in front of --web-port, whose
        X-Forwarded-For says where its clients are.  Repeatable.
        """
        try:
            self["web-proxy"].append(str(ipaddress.ip_address(address)))
        except ValueError:
            raise usage.UsageError(f"--web-proxy needs an IP address, not {address!r}")

    def postOptions(self) -> None:
        self["port"] = endpointDescription(self["port"])
        for name in ("irc-port", "web-port"):
            if self[name] is not None:
                self[name] = endpointDescription(self[name])
        language = normalizeLanguage(self["lang"])
        if language is None:
            raise usage.UsageError(
                f"unknown language {self['lang']!r}; known: {', '.join(LANGUAGES)}"
            )
        self["lang"] = language
        self["password"] = None
        if self["password-file"] is not None:
            try:
                with open(self["password-file"], "rb") as file:
                    password = file.readline().rstrip(b"\r\n")
            except OSError as error:
                raise usage.UsageError(
                    f"cannot read the password file: {error.strerror}"
                )
            if not password:
                raise usage.UsageError("the password file's first line is empty")
            self["password"] = password
        try:
            self["room"] = checkRoomName(self["room"])
        except InvalidName:
            raise usage.UsageError(f"not a valid room name: {self['room']!r}")
        self["store"] = storeDescription(self["store"])
        if self["metrics-port"] is not None:
            self["metrics-port"] = endpointDescription(self["metrics-port"])
        if self["cluster"] is not None:
            clusterOptions(self)


def clusterOptions(options: Options) -> None:
    """
    Check C{--cluster}: a Redis URL, and a store every node shares.
    """
    try:
        parseRedisURL(options["cluster"])
    except ValueError as error:
        raise usage.UsageError(f"--cluster: {error}")
    if options["store"][0] != "postgresql":
        raise usage.UsageError(
            "--cluster needs --store postgresql://...: every node must see the same "
            "history, accounts and rooms, and a SQLite file (or memory) is one node's own"
        )
    if options["node-name"] is None:
        options["node-name"] = f"{socket.gethostname()}-{os.getpid()}"
    elif not options["node-name"] or any(c.isspace() for c in options["node-name"]):
        raise usage.UsageError("--node-name must be a word, with no spaces")


def makeService(options: Options, reactor=None) -> IService:
    """
    The chat service C{options} describe; the global reactor unless given one.
    """
    if reactor is None:
        from twisted.internet import reactor

    hub = Hub(
        reactor,
        defaultRoom=options["room"],
        crowdSize=options["crowd-size"],
        maxConnections=options["max-connections"],
        maxPerAddress=options["max-per-address"],
        registrationTimeout=options["register-timeout"],
        maxRoomsPerMember=options["max-rooms-per-user"],
        maxRooms=options["max-rooms"],
    )
    kind, path = options["store"]
    if kind == "memory":
        store = MemoryStore(options["history-per-room"])
    elif kind == "postgresql":
        # Not checked here: PostgreSQL may be down while a node starts, and
        # the service says why and tries again until it is up.
        try:
            from chatsvc.store.postgresql import PostgreSQLStore
        except ImportError:
            raise SystemExit(
                "chatsvc: --store postgresql needs psycopg2: pip install 'chatsvc[postgresql]'"
            )
        try:
            store = PostgreSQLStore(path, reactor)
        except StoreError as error:
            raise SystemExit(f"chatsvc: cannot keep history: {error.reason}")
    else:
        # Here, before anything listens: a file that cannot be used stops
        # the server with one line saying why (SystemExit prints it alone).
        try:
            sqlite.check(path)
        except StoreError as error:
            raise SystemExit(f"chatsvc: cannot keep history: {error.reason}")
        store = SQLiteStore(path, reactor)
    metrics = None
    if options["metrics-port"] is not None:
        # The series of the front-ends that will listen, from the start: IRC
        # sessions over --web-port too (its /irc).
        frontEnds = [NativeSession.name]
        if options["irc-port"] is not None or options["web-port"] is not None:
            frontEnds.append(IRCSession.name)
        if options["web-port"] is not None:
            frontEnds.append(PageSession.name)
        metrics = Metrics(frontEnds)
        hub.delivery.observe(metrics)
    history = History(
        store,
        reactor,
        replay=options["replay"],
        keepDays=options["history-days"],
        perRoom=options["history-per-room"],
        metrics=metrics,
    )
    hub.delivery.observe(history)
    # One thread hashes passwords, for accounts and operators alike: a crowd
    # logging in costs one core at most.
    hashing = HashingThreads(reactor)
    accounts = Accounts(store, reactor, inThread=hashing)
    hub.nicknameOwner = accounts.owner
    opers = None
    if options["opers"] is not None:
        try:
            opers = loadOpers(options["opers"], inThread=hashing)
        except (OSError, ValueError) as error:
            raise SystemExit(f"chatsvc: cannot read the operators: {error}")
    service = ChatService(
        hub,
        reactor,
        grace=options["grace"],
        history=history,
        loaders=(accounts.load, RoomKeeper(hub, store).load),
        cluster=None if options["cluster"] is None else cluster(options, hub, reactor, metrics),
    )

    def listen(name: str, option: str, factory, keepAlive: bool = False) -> None:
        """
        Serve C{factory} where C{--option} says, logging where as C{name};
        with TCP keepalive (the native protocol's liveness check, and the
        page's) if C{keepAlive}.
        """
        endpoint = serverFromString(reactor, options[option])
        if keepAlive:
            # Probing starts after --ping-interval; four probes over --ping-timeout.
            endpoint = KeepAliveEndpoint(
                endpoint,
                options["ping-interval"],
                options["ping-timeout"] / KEEPALIVE_COUNT,
                KEEPALIVE_COUNT,
            )
        StreamServerEndpointService(AnnouncedEndpoint(endpoint, name), factory).setServiceParent(
            service
        )

    if metrics is not None:
        # Served once the front-ends listen, as they are children alike.
        listen("metrics", "metrics-port", MetricsSite(metrics, reactor))
        LagProbe(metrics, reactor).setServiceParent(service)
    limits = Limits(
        sendQueue=options["send-queue"],
        password=options["password"],
        flood=FloodPolicy(options["flood-burst"], options["flood-rate"], options["flood-limit"]),
        metrics=metrics,
    )
    # One outbox for every front-end: each connection written once a turn,
    # once what it carries is in the history store.
    outbox = Outbox(reactor, gate=history)

    def nativeFactory(session: type[NativeSession]) -> NativeFactory:
        return NativeFactory(
            hub,
            options["lang"],
            limits=limits,
            clock=reactor,
            outbox=outbox,
            history=history,
            accounts=accounts,
            opers=opers,
            session=session,
        )

    listen("native", "port", nativeFactory(NativeSession), keepAlive=True)
    if options["irc-port"] is not None or options["web-port"] is not None:
        ircFactory = IRCFactory(
            hub,
            reactor,
            serverName=options["irc-name"],
            limits=limits,
            outbox=outbox,
            language=options["lang"],
            history=history,
            accounts=accounts,
            opers=opers,
        )
        ircFactory.pingInterval = options["ping-interval"]
        ircFactory.pingTimeout = options["ping-timeout"]
    if options["irc-port"] is not None:
        listen("irc", "irc-port", ircFactory)
    if options["web-port"] is not None:
        policy = WebPolicy(frozenset(options["web-origin"]), frozenset(options["web-proxy"]))
        listen(
            "web",
            "web-port",
            webSite(nativeFactory(PageSession), ircFactory, policy, reactor),
            keepAlive=True,
        )
    StopOnSignals(reactor).setServiceParent(service)
    return service


def cluster(options: Options, hub: Hub, reactor, metrics: Metrics | None) -> ClusterLink:
    """
    The link to the other nodes, over its own bus to Redis.
    """
    node = options["node-name"]
    globalLogPublisher.addObserver(NodeInLogs(node))
    bus = RedisBus(reactor, options["cluster"], f"chatsvc-{node}")
    link = ClusterLink(hub, bus, reactor, node, metrics=metrics)
    bus.setServiceParent(link)
    return link


@implementer(ILogObserver)
class NodeInLogs:
    """
    Puts a node's name at the head of every log event's system (the part
    in brackets of each line twistd writes: C{[node-1 chatsvc.hub.Hub#info]}),
    so that the logs of several nodes can be read together.

    Added to the global publisher before twistd begins logging, it sees each
    event before the observers that write it.
    """

    def __init__(self, node: str) -> None:
        self.node = node

    def __call__(self, event: dict) -> None:
        system = event.get("log_system")
        if system is None:
            level = event.get("log_level")
            system = f"{event.get('log_namespace', '-')}#{level.name if level else '-'}"
        if not str(system).startswith(self.node + " "):
            event["log_system"] = f"{self.node} {system}"
