"""
Tests for L{chatsvc.metrics}: what the server counts as clients connect,
register, talk and are cut off, how late the reactor runs, how long history
takes to commit, and the page Prometheus scrapes.
"""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families
from twisted.application.service import IService
from twisted.internet.defer import Deferred, fail
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.logger import globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from chatsvc.errors import StoreError
from chatsvc.history import History
from chatsvc.hub import Hub
from chatsvc.interfaces import IObserver
from chatsvc.irc.protocol import IRCFactory
from chatsvc.metrics import LagProbe, Metrics, MetricsSite
from chatsvc.native.protocol import NativeFactory
from chatsvc.net.connection import Limits
from chatsvc.net.flood import FloodPolicy
from chatsvc.net.output import Outbox
from chatsvc.net.tcp import LineServerFactory
from chatsvc.tap import Options, makeService
from chatsvc.testing import RecordingParticipant
from tests.test_connection import Client, RecordingSession
from tests.test_history import ManualStore


def value(metrics: Metrics, name: str, **labels: str) -> float:
    """
    The current value of one series of C{metrics}; 0 for one not made yet.
    """
    found = metrics.registry.get_sample_value(name, labels)
    return 0.0 if found is None else found


def received(participants: list[RecordingParticipant]) -> int:
    """
    How many events the participants got, forgetting them.
    """
    return sum(len(participant.take()) for participant in participants)


class ObserverTests(SynchronousTestCase):
    """
    On the delivery path: chat lines by kind, and whom each event is for.
    """

    def setUp(self) -> None:
        self.hub = Hub(Clock())
        self.metrics = Metrics()
        self.hub.delivery.observe(self.metrics)
        self.participants: list[RecordingParticipant] = []

    def register(self, nickname: str):
        participant = RecordingParticipant()
        member = self.hub.connect(participant)
        self.hub.register(member, nickname)
        self.participants.append(participant)
        return member

    def test_isAnObserver(self) -> None:
        """
        Metrics are an observer of the delivery path.
        """
        self.assertTrue(verifyObject(IObserver, self.metrics))

    def test_messagesByKind(self) -> None:
        """
        Every line said, acted or whispered is counted once, by its kind.
        """
        ala = self.register("Ala")
        self.register("Bob")
        self.hub.say(ala, "hello")
        self.hub.say(ala, "again")
        self.hub.act(ala, "waves")
        self.hub.whisper(ala, "Bob", "psst")
        self.assertEqual(
            [value(self.metrics, "chatsvc_messages_total", kind=kind)
             for kind in ("said", "acted", "whispered")],
            [2.0, 1.0, 1.0],
        )

    def test_deliveriesAreWhatTheFanOutDelivered(self) -> None:
        """
        Deliveries count every recipient of every published event, its
        sender's own copy included, as many as the participants received.
        """
        ala = self.register("Ala")
        self.register("Bob")
        self.register("Cez")
        received(self.participants)
        before = value(self.metrics, "chatsvc_deliveries_total")
        self.hub.say(ala, "hello")
        self.hub.act(ala, "waves")
        self.hub.whisper(ala, "Bob", "psst")
        self.hub.whisper(ala, "Ala", "a note to myself")
        self.hub.rename(ala, "Ola")
        self.register("Dan")
        self.hub.say(ala, "bye")
        delivered = received(self.participants)
        # Dan's Welcome is told it alone, not published.
        self.assertEqual(
            value(self.metrics, "chatsvc_deliveries_total") - before, delivered - 1
        )
        self.assertEqual(delivered - 1, 3 + 3 + 2 + 1 + 3 + 3 + 4)

    def test_severalRoomsCountPerRoom(self) -> None:
        """
        An event for several rooms counts each room's members: one who
        shares two of them with its sender counts twice (the union is the
        fan-out's work, not the count's).
        """
        ala = self.register("Ala")
        bob = self.register("Bob")
        self.hub.enter(ala, "kuchnia")
        self.hub.enter(bob, "kuchnia")
        before = value(self.metrics, "chatsvc_deliveries_total")
        self.hub.disconnect(ala)
        self.assertEqual(value(self.metrics, "chatsvc_deliveries_total") - before, 2.0)


class LagProbeTests(SynchronousTestCase):
    """
    How late the reactor runs a call due every interval.
    """

    def setUp(self) -> None:
        self.clock = Clock()
        self.metrics = Metrics()
        self.probe = LagProbe(self.metrics, self.clock, interval=1.0)
        self.probe.startService()
        self.addCleanup(lambda: self.probe.running and self.probe.stopService())

    def lag(self) -> float:
        return value(self.metrics, "chatsvc_reactor_lag_seconds")

    def test_onTime(self) -> None:
        """
        A call run when it was due shows no lag.
        """
        self.clock.advance(1.0)
        self.assertEqual(self.lag(), 0.0)
        self.assertEqual(value(self.metrics, "chatsvc_reactor_probe_lag_seconds_count"), 1.0)

    def test_lateCall(self) -> None:
        """
        A call the reactor ran 2.5 seconds after it was due shows 2.5
        seconds, whole, although the stall was longer than the interval;
        the next call is due an interval after it ran.
        """
        self.clock.advance(1.0)
        self.clock.advance(3.5)
        self.assertEqual(self.lag(), 2.5)
        self.clock.advance(1.25)
        self.assertEqual(self.lag(), 0.25)
        self.assertEqual(value(self.metrics, "chatsvc_reactor_probe_lag_seconds_count"), 3.0)
        self.assertEqual(value(self.metrics, "chatsvc_reactor_probe_lag_seconds_sum"), 2.75)
        self.assertEqual(
            value(self.metrics, "chatsvc_reactor_probe_lag_seconds_bucket", le="0.25"), 2.0
        )

    def test_interval(self) -> None:
        """
        The interval is the probe's to choose.
        """
        probe = LagProbe(self.metrics, self.clock, interval=0.1)
        probe.startService()
        self.addCleanup(probe.stopService)
        self.clock.advance(0.1)
        self.assertEqual(value(self.metrics, "chatsvc_reactor_probe_lag_seconds_count"), 1.0)

    def test_stopped(self) -> None:
        """
        Stopped, the probe leaves nothing scheduled.
        """
        self.probe.stopService()
        self.assertEqual(self.clock.getDelayedCalls(), [])


class PageTests(SynchronousTestCase):
    """
    The site of C{--metrics-port}, driven over an in-memory transport.
    """

    def setUp(self) -> None:
        self.metrics = Metrics(("native",))
        self.clock = Clock()
        self.site = MetricsSite(self.metrics, self.clock)

    def get(self, path: bytes, *headers: bytes) -> tuple[bytes, dict[bytes, bytes], bytes]:
        """
        The status line, headers and body C{GET path} is answered with.
        """
        channel = self.site.buildProtocol(None)
        transport = StringTransport()
        channel.makeConnection(transport)
        channel.dataReceived(
            b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            + b"".join(header + b"\r\n" for header in headers)
            + b"\r\n"
        )
        head, _, body = transport.value().partition(b"\r\n\r\n")
        status, *fields = head.split(b"\r\n")
        parsed = dict(field.split(b": ", 1) for field in fields)
        if parsed.get(b"Transfer-Encoding") == b"chunked":
            body = dechunk(body)
        channel.connectionLost(None)
        return status, {name.lower(): data for name, data in parsed.items()}, body

    def test_prometheusText(self) -> None:
        """
        C{/metrics} is the registry in Prometheus' text format, which its
        own parser reads: the front-ends named are there from the start.
        """
        status, headers, body = self.get(b"/metrics")
        self.assertEqual(status, b"HTTP/1.1 200 OK")
        self.assertTrue(headers[b"content-type"].startswith(b"text/plain; version=0.0.4"))
        families = {
            family.name: family for family in text_string_to_metric_families(body.decode())
        }
        [sample] = families["chatsvc_connections_open"].samples
        self.assertEqual((sample.labels, sample.value), ({"frontend": "native"}, 0.0))
        self.assertIn("process_cpu_seconds", families)
        self.assertIn("python_gc_collections", families)

    def test_openMetricsWhenAsked(self) -> None:
        """
        A scraper that prefers OpenMetrics gets it.
        """
        status, headers, body = self.get(
            b"/metrics", b"Accept: application/openmetrics-text; version=1.0.0"
        )
        self.assertEqual(status, b"HTTP/1.1 200 OK")
        self.assertTrue(headers[b"content-type"].startswith(b"application/openmetrics-text"))
        self.assertTrue(body.endswith(b"# EOF\n"))

    def test_nothingElse(self) -> None:
        """
        Any other path is not found.
        """
        self.assertEqual(self.get(b"/")[0], b"HTTP/1.1 404 Not Found")
        self.assertEqual(self.get(b"/other")[0], b"HTTP/1.1 404 Not Found")

    def test_noAccessLog(self) -> None:
        """
        Scrapes leave no line in the server's log.
        """
        seen: list[dict] = []
        globalLogPublisher.addObserver(seen.append)
        self.addCleanup(globalLogPublisher.removeObserver, seen.append)
        self.site.startFactory()
        self.addCleanup(self.site.stopFactory)
        self.get(b"/metrics")
        self.assertEqual([event for event in seen if "GET" in repr(event)], [])


def dechunk(body: bytes) -> bytes:
    """
    The data of an HTTP/1.1 chunked body.
    """
    data = b""
    while body:
        size, _, rest = body.partition(b"\r\n")
        length = int(size, 16)
        if not length:
            return data
        data += rest[:length]
        body = rest[length + 2 :]
    return data


class ConnectionTests(SynchronousTestCase):
    """
    What connections report through their front-end's limits, labelled by
    their session's name, whatever it is.
    """

    def setUp(self) -> None:
        self.clock = Clock()
        self.metrics = Metrics()
        self.hub = Hub(self.clock, maxConnections=2)
        self.outbox = Outbox(self.clock)

    def factory(self, **limits: object) -> LineServerFactory:
        return LineServerFactory(
            self.hub,
            RecordingSession,
            16,
            clock=self.clock,
            limits=Limits(metrics=self.metrics, **limits),  # type: ignore[arg-type]
            outbox=self.outbox,
        )

    def value(self, name: str, **labels: str) -> float:
        return value(self.metrics, name, frontend="recording", **labels)

    def test_openAcceptedAndLost(self) -> None:
        """
        Admitted connections are counted, and open until they are lost.
        """
        factory = self.factory(flood=None)
        first, second = Client(factory), Client(factory)
        self.assertEqual(self.value("chatsvc_connections_accepted_total"), 2.0)
        self.assertEqual(self.value("chatsvc_connections_open"), 2.0)
        first.lost()
        self.assertEqual(self.value("chatsvc_connections_open"), 1.0)
        second.lost()
        self.assertEqual(self.value("chatsvc_connections_open"), 0.0)
        self.assertEqual(self.value("chatsvc_connections_accepted_total"), 2.0)

    def test_refused(self) -> None:
        """
        A connection over an admission limit is counted as refused, by the
        limit, and never as open, not even once it is lost.
        """
        factory = self.factory(flood=None)
        Client(factory), Client(factory)
        refused = Client(factory)
        self.assertEqual(self.value("chatsvc_connections_refused_total", limit="total"), 1.0)
        self.assertEqual(self.value("chatsvc_connections_open"), 2.0)
        refused.lost()
        self.assertEqual(self.value("chatsvc_connections_open"), 2.0)
        self.assertEqual(self.value("chatsvc_connections_accepted_total"), 2.0)

    def test_registered(self) -> None:
        """
        A connection that takes its first nickname is counted once, into a
        room or into none; a rename is not a registration.
        """
        factory = self.factory(flood=None)
        ala, bob = Client(factory), Client(factory)
        self.hub.register(ala.connection.member, "Ala")
        self.hub.register(bob.connection.member, "Bob", enter=False)
        self.hub.rename(ala.connection.member, "Ola")
        self.assertEqual(self.value("chatsvc_registrations_total"), 2.0)

    def test_floodCutOff(self) -> None:
        """
        A client that keeps flooding is counted once as cut off for flood.
        """
        client = Client(self.factory(flood=FloodPolicy(2, 10.0, 5)))
        self.hub.register(client.connection.member, "Flooder")
        client.send(b"x\n" * 50)
        for _ in range(20):
            self.clock.advance(0.1)
        self.assertTrue(client.transport.disconnecting)
        self.assertEqual(self.value("chatsvc_cutoffs_total", reason="flood"), 1.0)
        self.assertEqual(self.value("chatsvc_cutoffs_total", reason="send_queue"), 0.0)

    def test_sendQueueCutOff(self) -> None:
        """
        A client that stops reading is counted once as cut off for its send
        queue; once lost, it is no longer open.
        """
        client = Client(self.factory(sendQueue=100, flood=None))
        self.hub.register(client.connection.member, "Sleeper")
        client.transport.producer.pauseProducing()
        for _ in range(3):
            client.connection.sendLines(["x" * 200])
            self.clock.advance(0)
        self.assertTrue(client.transport.aborted)
        self.assertEqual(self.value("chatsvc_cutoffs_total", reason="send_queue"), 1.0)
        self.assertEqual(self.value("chatsvc_cutoffs_total", reason="flood"), 0.0)
        client.lost()
        self.assertEqual(self.value("chatsvc_connections_open"), 0.0)


class FrontEndTests(SynchronousTestCase):
    """
    The real front-ends are labelled by their sessions' names.
    """

    def test_nativeAndIRC(self) -> None:
        """
        A native and an IRC client connect and register: each is counted
        under its own front-end.
        """
        clock = Clock()
        hub = Hub(clock)
        metrics = Metrics()
        limits = Limits(flood=None, metrics=metrics)
        outbox = Outbox(clock)
        native = Client(NativeFactory(hub, limits=limits, clock=clock, outbox=outbox))
        native.say("Ala")
        irc = IRCFactory(hub, clock, limits=limits, outbox=outbox)
        irc.startFactory()
        self.addCleanup(irc.stopFactory)
        client = Client(irc)
        client.say("NICK bob", "USER bob 0 * :Bob")
        self.assertEqual(client.lines()[0].split()[1], "001")
        for frontEnd in ("native", "irc"):
            self.assertEqual(
                value(metrics, "chatsvc_connections_open", frontend=frontEnd), 1.0
            )
            self.assertEqual(
                value(metrics, "chatsvc_registrations_total", frontend=frontEnd), 1.0
            )


class FailingReads(ManualStore):
    """
    A store that commits what the test finishes but cannot read history or
    keep a topic.
    """

    def history(self, target, limit, before=None, after=None) -> Deferred:
        return fail(StoreError("disk I/O error"))

    def saveTopic(self, key: str, room: str, topic: str) -> Deferred[None]:
        return fail(StoreError("database or disk is full"))


class HistoryTests(SynchronousTestCase):
    """
    How long history's commits take, and what the store failed.
    """

    def setUp(self) -> None:
        self.clock = Clock()
        self.metrics = Metrics()
        self.store = FailingReads()
        self.hub = Hub(self.clock)
        self.history = History(self.store, self.clock, metrics=self.metrics)
        self.successResultOf(self.history.start(self.hub))
        self.hub.delivery.observe(self.history)
        self.ala = self.hub.connect(RecordingParticipant())
        self.hub.register(self.ala, "Ala")
        self.clock.advance(0)
        self.store.finish()

    def errors(self, operation: str) -> float:
        return value(self.metrics, "chatsvc_history_errors_total", operation=operation)

    def test_commitTime(self) -> None:
        """
        Each commit is observed with the time from being handed to the store
        until the store said it was done.
        """
        self.hub.say(self.ala, "hello")
        self.clock.advance(0)
        self.clock.advance(0.25)
        self.store.finish()
        self.assertEqual(value(self.metrics, "chatsvc_history_commit_seconds_count"), 2.0)
        self.assertEqual(value(self.metrics, "chatsvc_history_commit_seconds_sum"), 0.25)
        self.assertEqual(
            value(self.metrics, "chatsvc_history_commit_seconds_bucket", le="0.1"), 1.0
        )

    def test_failedWrite(self) -> None:
        """
        A commit the store fails is a failed write, not a commit; so is a
        topic it cannot keep.
        """
        self.hub.say(self.ala, "hello")
        self.clock.advance(0)
        self.store.breakDown()
        self.assertEqual(self.errors("write"), 1.0)
        self.assertEqual(value(self.metrics, "chatsvc_history_commit_seconds_count"), 1.0)
        self.hub.setTopic(self.ala, "lobby", "Witamy")
        self.assertEqual(self.errors("write"), 2.0)
        self.assertEqual(self.errors("read"), 0.0)

    def test_failedRead(self) -> None:
        """
        A read the store fails is counted, and its failure still reaches
        whoever asked.
        """
        self.failureResultOf(self.history.fetch("#lobby", 10), StoreError)
        self.assertEqual(self.errors("read"), 1.0)
        self.assertEqual(self.errors("write"), 0.0)


class OptionTests(SynchronousTestCase):
    """
    C{--metrics-port}: off unless given.
    """

    def service(self, *arguments: str) -> tuple[IService, MemoryReactorClock]:
        reactor = MemoryReactorClock()
        options = Options()
        options.parseOptions(["--store", "memory", "--irc-port", "6667", *arguments])
        service = makeService(options, reactor)
        service.startService()
        self.addCleanup(service.stopService)
        return service, reactor

    def test_off(self) -> None:
        """
        Without it nothing serves metrics, and connections count nothing.
        """
        service, reactor = self.service()
        factories = [factory for _, factory, _, _ in reactor.tcpServers]
        self.assertEqual(len(factories), 2)
        self.assertFalse(any(isinstance(factory, MetricsSite) for factory in factories))
        self.assertEqual({factory.limits.metrics for factory in factories}, {None})
        self.assertFalse(any(isinstance(child, LagProbe) for child in service))

    def test_on(self) -> None:
        """
        Given a port, the metrics site listens there, every front-end counts
        into the same metrics, and the lag probe runs.
        """
        service, reactor = self.service("--metrics-port", "tcp:9100:interface=127.0.0.1")
        [(port, site, backlog, interface)] = [
            server for server in reactor.tcpServers if isinstance(server[1], MetricsSite)
        ]
        self.assertEqual((port, backlog, interface), (9100, 1024, "127.0.0.1"))
        others = [factory for _, factory, _, _ in reactor.tcpServers if factory is not site]
        [metrics] = {factory.limits.metrics for factory in others}
        self.assertIsInstance(metrics, Metrics)
        self.assertTrue(any(isinstance(child, LagProbe) for child in service))
        reactor.advance(1.0)
        self.assertEqual(value(metrics, "chatsvc_reactor_probe_lag_seconds_count"), 1.0)

    def test_frontEndsFromTheStart(self) -> None:
        """
        Every front-end that listens has its series at zero before anyone
        connects: IRC's over --web-port's /irc too, and the page's.
        """
        _, reactor = self.service(
            "--web-port", "tcp:8080:interface=127.0.0.1",
            "--metrics-port", "tcp:9100:interface=127.0.0.1",
        )
        [metrics] = {
            factory.limits.metrics
            for _, factory, _, _ in reactor.tcpServers
            if hasattr(factory, "limits")
        }
        for frontEnd in ("native", "irc", "web"):
            self.assertEqual(
                metrics.registry.get_sample_value(
                    "chatsvc_connections_open", {"frontend": frontEnd}
                ),
                0.0,
            )

    def test_portNumber(self) -> None:
        """
        A bare number is a TCP port, as for the other ports.
        """
        options = Options()
        options.parseOptions(["--metrics-port", "9100"])
        self.assertEqual(options["metrics-port"], "tcp:9100:backlog=1024")
