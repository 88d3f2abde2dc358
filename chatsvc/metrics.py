"""
What the server counts for Prometheus, and the page it serves them on
(C{--metrics-port}).

L{Metrics} owns a registry of its own rather than C{prometheus_client}'s
global one, so that tests, and several servers in one process, each count
their own.  It is told what happens from a few places, each of which holds
it only if the server was given C{--metrics-port} (otherwise nothing is
counted, and nothing costs anything):

 - it is an observer on the delivery path (L{chatsvc.delivery.Delivery}),
   for chat lines and for how many each published event is for;
 - every connection tells it, through the L{chatsvc.net.connection.Limits}
   of its front-end, when it is admitted, refused, registered, lost or cut
   off, labelled by its session's C{name};
 - L{chatsvc.history.History} tells it how long each commit took and when
   the store failed;
 - L{LagProbe} measures how late the reactor runs.

Nothing here is called per recipient of an event: the fan-out is the cost
of a busy room and stays one narrow loop.  What is counted per event is
kept in plain integers, read when the page is rendered, since a
C{prometheus_client} counter takes a lock and a microsecond or so for each
increment; counting and reading both happen on the reactor thread, so the
integers need no lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.gc_collector import GCCollector
from twisted.application.service import Service
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.web.resource import Resource
from twisted.web.server import Site
from zope.interface import implementer

from chatsvc import events
from chatsvc.interfaces import IObserver

if TYPE_CHECKING:
    from chatsvc.delivery import Audience

# The chat lines counted, by the label they get.
MESSAGE_KINDS = {events.Said: "said", events.Acted: "acted", events.Whispered: "whispered"}
# Why a connection was cut off, as the label says it.
CUT_OFF_REASONS = ("flood", "send_queue")
# Which admission limit refused a connection (TooManyConnections.scope).
REFUSAL_LIMITS = ("total", "address")
STORE_OPERATIONS = ("read", "write")

DEFAULT_LAG_INTERVAL = 1.0

# A SQLite commit takes a millisecond or two on an idle disk; seconds mean
# a disk in trouble, and every line waits that long (the outbox's gate).
_COMMIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@implementer(IObserver)
class Metrics:
    """
    The server's metrics and the registry they are exposed from.

    @param frontEnds: the names of the front-ends the server starts; their
        series exist from the start, at zero, so that a rate over the first
        connection's arrival is not lost.  Others appear when first used.
    @ivar registry: what L{MetricsPage} serves; process, platform and
        garbage-collector metrics are in it too, and this object itself,
        collecting the counts it keeps per event.
    """

    def __init__(self, frontEnds: Iterable[str] = ()) -> None:
        self.registry = registry = CollectorRegistry()
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
        self._open = Gauge(
            "chatsvc_connections_open",
            "Connections open now (admitted, not yet lost), by front-end.",
            ["frontend"],
            registry=registry,
        )
        self._accepted = Counter(
            "chatsvc_connections_accepted",
            "Connections admitted, by front-end.",
            ["frontend"],
            registry=registry,
        )
        self._refused = Counter(
            "chatsvc_connections_refused",
            "Connections refused by an admission limit (--max-connections: total, "
            "--max-per-address: address), by front-end.",
            ["frontend", "limit"],
            registry=registry,
        )
        self._registrations = Counter(
            "chatsvc_registrations",
            "Connections that took their first nickname, by front-end.",
            ["frontend"],
            registry=registry,
        )
        self._cutOffs = Counter(
            "chatsvc_cutoffs",
            "Connections the server cut off, by front-end and reason: flood (kept "
            "flooding past --flood-limit) or send_queue (stopped reading while more "
            "than --send-queue waited for it).",
            ["frontend", "reason"],
            registry=registry,
        )
        self._messages = dict.fromkeys(MESSAGE_KINDS.values(), 0)
        self._deliveries = 0
        self._commits = Histogram(
            "chatsvc_history_commit_seconds",
            "Seconds from a batch of history being handed to the store until it "
            "was committed (output waits for it).",
            buckets=_COMMIT_BUCKETS,
            registry=registry,
        )
        self._storeErrors = Counter(
            "chatsvc_history_errors",
            "History's reads and writes that the store failed, by operation.",
            ["operation"],
            registry=registry,
        )
        self._lag = Gauge(
            "chatsvc_reactor_lag_seconds",
            "How late the reactor ran the latest of the calls it is given every "
            "second, in seconds.",
            registry=registry,
        )
        self._lags = Histogram(
            "chatsvc_reactor_probe_lag_seconds",
            "How late the reactor ran each of the calls it is given every second.",
            buckets=_LAG_BUCKETS,
            registry=registry,
        )
        self._hops = Histogram(
            "chatsvc_cluster_hop_seconds",
            "Seconds from an event of this node's being published on the cluster's "
            "bus until it came back (what the Redis hop adds before delivery).",
            buckets=_COMMIT_BUCKETS,
            registry=registry,
        )
        # The cluster link, if this node is one of several.
        self._cluster = None
        for operation in STORE_OPERATIONS:
            self._storeErrors.labels(operation)
        for name in frontEnds:
            self._open.labels(name)
            self._accepted.labels(name)
            self._registrations.labels(name)
            for limit in REFUSAL_LIMITS:
                self._refused.labels(name, limit)
            for reason in CUT_OFF_REASONS:
                self._cutOffs.labels(name, reason)
        registry.register(self)

    def watchCluster(self, link) -> None:
        """
        Report C{link}'s (L{chatsvc.cluster.link.ClusterLink}) state: this
        node's name, whether it reaches the bus, how many nodes and members
        of others it knows.
        """
        self._cluster = link

    def clusterHop(self, seconds: float) -> None:
        """
        An event of this node's came back from the bus C{seconds} after it
        was published.
        """
        self._hops.observe(seconds)

    def collect(self):
        """
        The counts kept per event, and the cluster's state, for the
        registry.
        """
        link = self._cluster
        if link is not None:
            info = GaugeMetricFamily(
                "chatsvc_cluster_node", "This node, by name (always 1).", labels=["node"]
            )
            info.add_metric([link.node], 1)
            yield info
            yield GaugeMetricFamily(
                "chatsvc_cluster_connected",
                "1 while this node reaches the cluster's Redis, else 0.",
                value=int(link.connected),
            )
            yield GaugeMetricFamily(
                "chatsvc_cluster_nodes",
                "Nodes alive in the cluster, this one included.",
                value=link.hub.nodeCount,
            )
            yield GaugeMetricFamily(
                "chatsvc_cluster_remote_members",
                "Members the other nodes hold, as this node records them.",
                value=link.hub.remoteCount,
            )
        messages = CounterMetricFamily(
            "chatsvc_messages",
            "Chat lines published, by kind: said (to a room, notices included), "
            "acted (/me) and whispered (private).",
            labels=["kind"],
        )
        for kind, count in self._messages.items():
            messages.add_metric([kind], count)
        yield messages
        yield CounterMetricFamily(
            "chatsvc_deliveries",
            "Recipients of published events, each event's sender included when it "
            "sees its own; a member of several rooms an event is for counts once "
            "per room.",
            value=self._deliveries,
        )

    # IObserver

    def published(self, event: events.Event, audience: Audience) -> None:
        """
        Count a chat line, and whom any event is for, from the sizes of its
        audience's rooms: a few operations per event, none per recipient.
        """
        if audience.remote:
            return
        kind = MESSAGE_KINDS.get(type(event))
        if kind is not None:
            self._messages[kind] += 1
        actor = audience.actor
        recipients = len(audience.members) + (audience.echo and actor is not None)
        for room in audience.rooms:
            # The fan-out skips the actor; with echo it gets its own copy.
            recipients += len(room.members) - (actor in room.members)
        self._deliveries += recipients

    # From connections (chatsvc.net.connection)

    def connectionAccepted(self, frontEnd: str) -> None:
        self._accepted.labels(frontEnd).inc()
        self._open.labels(frontEnd).inc()

    def connectionRefused(self, frontEnd: str, limit: str) -> None:
        self._refused.labels(frontEnd, limit).inc()

    def connectionLost(self, frontEnd: str) -> None:
        """
        An admitted connection is gone (refused ones never counted as open).
        """
        self._open.labels(frontEnd).dec()

    def registered(self, frontEnd: str) -> None:
        self._registrations.labels(frontEnd).inc()

    def cutOff(self, frontEnd: str, reason: str) -> None:
        """
        The server cut a connection off, for one of L{CUT_OFF_REASONS}.
        """
        self._cutOffs.labels(frontEnd, reason).inc()

    # From history (chatsvc.history)

    def committed(self, seconds: float) -> None:
        self._commits.observe(seconds)

    def storeFailed(self, operation: str) -> None:
        """
        The store failed one of L{STORE_OPERATIONS}.
        """
        self._storeErrors.labels(operation).inc()

    # From the lag probe

    def reactorLag(self, seconds: float) -> None:
        self._lag.set(seconds)
        self._lags.observe(seconds)


class LagProbe(Service):
    """
    Measures how late the reactor runs what is due: every C{interval}
    seconds a call notes how long after its time it ran, which is how long
    the reactor was busy with something else (a long callback, a stalled
    disk read on the reactor thread, a swapped-out process).

    Each call is scheduled afresh from when the last one ran rather than by
    a L{LoopingCall}, which keeps to a fixed grid and skips the calls that a
    stall longer than the interval missed: the stall would show only as its
    remainder over whole intervals.
    """

    def __init__(
        self, metrics: Metrics, clock: IReactorTime, interval: float = DEFAULT_LAG_INTERVAL
    ) -> None:
        self._metrics = metrics
        self._clock = clock
        self._interval = interval
        self._due = 0.0
        self._call: IDelayedCall | None = None

    def startService(self) -> None:
        super().startService()
        self._schedule()

    def stopService(self) -> None:
        super().stopService()
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None

    def _schedule(self) -> None:
        self._due = self._clock.seconds() + self._interval
        self._call = self._clock.callLater(self._interval, self._ran)

    def _ran(self) -> None:
        self._metrics.reactorLag(max(0.0, self._clock.seconds() - self._due))
        self._schedule()


class MetricsPage(Resource):
    """
    C{registry} in the text format Prometheus scrapes (or OpenMetrics, if
    the scraper asks for it).

    Rendered on the reactor thread, at once: collecting is a few
    microseconds per metric.  Not C{prometheus_client.twisted}'s
    C{MetricsResource}, which imports the global reactor (installing it,
    before twistd installs the one it was asked for) and renders in the
    reactor's thread pool.
    """

    isLeaf = True

    def __init__(self, registry: CollectorRegistry) -> None:
        super().__init__()
        self._registry = registry

    def render_GET(self, request) -> bytes:
        accept = request.getHeader(b"accept")
        encoder, contentType = choose_encoder(accept.decode("latin-1") if accept else "")
        request.setHeader(b"content-type", contentType.encode("ascii"))
        return encoder(self._registry)


class MetricsSite(Site):
    """
    The web site of C{--metrics-port}: L{MetricsPage} at C{/metrics},
    nothing else.

    It keeps no access log: Prometheus scrapes every 15 seconds or so, and
    the server's log would fill with the scrapes.
    """

    def __init__(self, metrics: Metrics, reactor: IReactorTime | None = None) -> None:
        root = Resource()
        root.putChild(b"metrics", MetricsPage(metrics.registry))
        super().__init__(root, reactor=reactor)

    def log(self, request) -> None:
        pass
