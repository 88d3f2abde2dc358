"""
Tests for L{chatsvc.tap} and L{chatsvc.service}.
"""

import os

from twisted.application.internet import StreamServerEndpointService
from twisted.application.service import Service
from twisted.internet.defer import fail
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.logger import LogLevel, formatEvent, formatEventAsClassicLogText, globalLogPublisher
from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase

from chatsvc import events
from chatsvc.errors import StoreError
from chatsvc.history import History
from chatsvc.hub import Hub
from chatsvc.native.protocol import NativeFactory
from chatsvc.service import ChatService
from chatsvc.store.memory import MemoryStore
from chatsvc.store.rows import toRows
from chatsvc.tap import NodeInLogs, Options, endpointDescription, makeService
from chatsvc.testing import RecordingParticipant


class OptionsTests(SynchronousTestCase):
    def parse(self, *arguments: str) -> Options:
        options = Options()
        options.parseOptions(list(arguments))
        return options

    def test_defaults(self) -> None:
        """
        By default: port 5555 on every interface, English, room lobby.
        """
        options = self.parse()
        self.assertEqual(options["port"], "tcp:5555:backlog=1024")
        self.assertEqual(options["lang"], "en")
        self.assertEqual(options["room"], "lobby")
        self.assertEqual(options["store"], ("sqlite", "chatsvc.sqlite3"))
        self.assertEqual(options["replay"], 20)

    def test_web(self) -> None:
        """
        --web-port is off unless given; --web-origin takes http(s) origins
        and --web-proxy addresses, each as often as needed.
        """
        self.assertIsNone(self.parse()["web-port"])
        options = self.parse(
            "--web-port",
            "8080",
            "--web-origin",
            "https://chat.example.org",
            "--web-origin",
            "http://localhost:8080",
            "--web-proxy",
            "::1",
            "--web-proxy",
            "127.0.0.1",
        )
        self.assertEqual(options["web-port"], "tcp:8080:backlog=1024")
        self.assertEqual(options["web-origin"], ["https://chat.example.org", "http://localhost:8080"])
        self.assertEqual(options["web-proxy"], ["::1", "127.0.0.1"])
        self.assertRaises(usage.UsageError, self.parse, "--web-origin", "chat.example.org")
        self.assertRaises(usage.UsageError, self.parse, "--web-proxy", "proxy.example.org")

    def test_store(self) -> None:
        """
        --store takes memory, sqlite:PATH, a bare path or a PostgreSQL URI;
        a file that cannot be used is refused with one line.
        """
        self.assertEqual(self.parse("--store", "memory")["store"], ("memory", None))
        self.assertEqual(self.parse("--store", "sqlite:a.db")["store"], ("sqlite", "a.db"))
        self.assertEqual(self.parse("--store", "b.db")["store"], ("sqlite", "b.db"))
        with open("junk.db", "wb") as junk:
            junk.write(b"not a database at all" * 100)
        options = self.parse("--store", "junk.db")
        error = self.assertRaises(SystemExit, makeService, options, MemoryReactorClock())
        self.assertEqual(
            str(error), "chatsvc: cannot keep history: cannot use junk.db: file is not a database"
        )
        for uri in ("postgresql://ola@db:5432/chat", "postgres://db/chat"):
            self.assertEqual(self.parse("--store", uri)["store"], ("postgresql", uri))
        self.assertRaises(usage.UsageError, self.parse, "--store", "postgresql:chat")

    def test_cluster(self) -> None:
        """
        --cluster takes a Redis URL and needs a store every node shares;
        the node's name defaults to the host's and the process's, and must
        be a word.
        """
        store = ("--store", "postgresql://ola@db:5432/chat")
        options = self.parse("--cluster", "redis://127.0.0.1:6379/2", *store)
        self.assertEqual(options["cluster"], "redis://127.0.0.1:6379/2")
        self.assertIn(str(os.getpid()), options["node-name"])
        named = self.parse("--cluster", "redis://r", "--node-name", "node-1", *store)
        self.assertEqual(named["node-name"], "node-1")
        error = self.assertRaises(usage.UsageError, self.parse, "--cluster", "redis://r")
        self.assertIn("needs --store postgresql://", str(error))
        self.assertRaises(usage.UsageError, self.parse, "--cluster", "http://r", *store)
        self.assertRaises(
            usage.UsageError, self.parse, "--cluster", "redis://r", "--node-name", "a b", *store
        )
        self.assertIsNone(self.parse()["cluster"])

    def test_nodeInLogs(self) -> None:
        """
        A node's name leads the system part of every line it logs.
        """
        tag = NodeInLogs("node-1")
        event = {"log_namespace": "chatsvc.hub.Hub", "log_level": LogLevel.info,
                 "log_format": "hi", "log_time": 0.0}
        tag(event)
        self.assertIn("[node-1 chatsvc.hub.Hub#info] hi", formatEventAsClassicLogText(event))
        legacy = {"log_system": "RedisProtocol,client", "log_format": "x", "log_time": 0.0}
        tag(legacy)
        tag(legacy)
        self.assertEqual(legacy["log_system"], "node-1 RedisProtocol,client")

    def test_portNumberOrEndpoint(self) -> None:
        """
        --port takes a bare number or any endpoint description.
        """
        self.assertEqual(endpointDescription("6000"), "tcp:6000:backlog=1024")
        self.assertEqual(
            self.parse("--port", "tcp:6000:interface=127.0.0.1")["port"],
            "tcp:6000:interface=127.0.0.1:backlog=1024",
        )
        self.assertEqual(self.parse("--port", "unix:/tmp/chat.sock")["port"], "unix:/tmp/chat.sock")

    def test_backlog(self) -> None:
        """
        TCP-family endpoints listen with a backlog big enough for a crowd
        connecting at once, unless the description chooses its own.
        """
        self.assertEqual(endpointDescription("tcp6:6000"), "tcp6:6000:backlog=1024")
        self.assertEqual(endpointDescription("tcp:6000:backlog=5"), "tcp:6000:backlog=5")
        self.assertEqual(endpointDescription("reuseport:6000"), "reuseport:6000:backlog=1024")
        self.assertEqual(
            endpointDescription("ssl:6000:privateKey=k.pem"),
            "ssl:6000:privateKey=k.pem:backlog=1024",
        )

    def test_language(self) -> None:
        """
        --lang takes a language code or locale name; unknown ones are refused.
        """
        self.assertEqual(self.parse("--lang", "pl_PL.UTF-8")["lang"], "pl")
        self.assertRaises(usage.UsageError, self.parse, "--lang", "xx")

    def test_badRoomAndNumbers(self) -> None:
        """
        A malformed room name or a non-positive number is a usage error.
        """
        self.assertRaises(usage.UsageError, self.parse, "--room", "two words")
        self.assertRaises(usage.UsageError, self.parse, "--crowd-size", "0")
        self.assertRaises(usage.UsageError, self.parse, "--grace", "-1")


class MakeServiceTests(SynchronousTestCase):
    def test_listensWhereTold(self) -> None:
        """
        The service listens with the native factory on the given endpoint,
        with the chosen language.
        """
        reactor = MemoryReactorClock()
        options = Options()
        # A memory store: the SQLite one works on a thread pool that a
        # memory reactor never runs.
        options.parseOptions(
            ["--port", "tcp:6001:interface=127.0.0.1", "--lang", "pl", "--store", "memory"]
        )
        service = makeService(options, reactor)
        service.startService()
        self.addCleanup(service.stopService)
        [(port, factory, backlog, interface)] = reactor.tcpServers
        self.assertEqual((port, backlog, interface), (6001, 1024, "127.0.0.1"))
        self.assertIsInstance(factory, NativeFactory)
        self.assertEqual(factory.language, "pl")
        self.assertIsInstance(list(service)[0], StreamServerEndpointService)


class UnreachableStore(MemoryStore):
    """
    A memory store that cannot be opened until told it is back.
    """

    reachable = False

    def open(self):
        if not self.reachable:
            return fail(StoreError("cannot connect to PostgreSQL at db/chat: connection refused"))
        return super().open()


class StartTests(SynchronousTestCase):
    def test_waitsForTheStore(self) -> None:
        """
        A store that cannot be reached at start is tried again every 5
        seconds, saying why; once it is back, history is loaded and only then
        do the front-ends listen.
        """
        clock = Clock()
        store = UnreachableStore()
        store.record([toRows(events.Said(events.Identity("Ola"), "lobby", "hi"), ("lobby",))[0]])
        history = History(store, clock, replay=3)
        service = ChatService(Hub(clock), clock, history=history)
        frontEnd = Service()
        frontEnd.setServiceParent(service)
        logged: list[str] = []

        def observer(event: dict) -> None:
            logged.append(formatEvent(event))

        globalLogPublisher.addObserver(observer)
        self.addCleanup(globalLogPublisher.removeObserver, observer)
        service.startService()
        clock.advance(5)
        self.assertFalse(frontEnd.running)
        store.reachable = True
        clock.advance(5)
        self.assertTrue(frontEnd.running)
        self.assertEqual([event.text for event in history.recent("lobby")], ["hi"])
        failures = [line for line in logged if "cannot load what the store keeps" in line]
        self.assertEqual(len(failures), 2)
        self.assertIn("(cannot connect to PostgreSQL at db/chat: connection refused)", failures[0])


class GracefulStopTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.hub = Hub(self.clock)
        self.service = ChatService(self.hub, self.clock, grace=5)
        self.service.startService()

    def test_stopsAtOnceWhenEmpty(self) -> None:
        """
        With nobody connected, stopping finishes at once.
        """
        self.successResultOf(self.service.stopService())

    def test_waitsForGoodbyes(self) -> None:
        """
        Stopping tells everyone and waits until the last connection is gone.
        """
        factory = NativeFactory(self.hub)
        protocol = factory.buildProtocol(None)
        transport = StringTransport()
        protocol.makeConnection(transport)
        stopped = self.service.stopService()
        self.assertNoResult(stopped)
        self.assertIn(b"The server is shutting down. Goodbye!\r\n", transport.value())
        self.assertTrue(transport.disconnecting)
        protocol.connectionLost(None)
        self.successResultOf(stopped)

    def test_cutsOffStragglers(self) -> None:
        """
        Connections still open after the grace period are closed at once.
        """
        participant = RecordingParticipant()
        member = self.hub.connect(participant)
        stopped = self.service.stopService()
        self.clock.advance(4.9)
        self.assertFalse(participant.closed)
        self.clock.advance(0.2)
        self.assertTrue(participant.closed)
        self.hub.disconnect(member)
        self.successResultOf(stopped)
        self.assertEqual(self.clock.getDelayedCalls(), [])


class SendQueueOptionTests(SynchronousTestCase):
    def test_sendQueueReachesBothFrontEnds(self) -> None:
        """
        --send-queue sets the limit of native and IRC connections alike.
        """
        reactor = MemoryReactorClock()
        options = Options()
        options.parseOptions(["--send-queue", "4096", "--irc-port", "6667", "--store", "memory"])
        makeService(options, reactor).startService()
        factories = [factory for _, factory, _, _ in reactor.tcpServers]
        self.assertEqual(len(factories), 2)
        for factory in factories:
            self.assertEqual(factory.limits.sendQueue, 4096)


class AnnouncedEndpointTests(SynchronousTestCase):
    def test_logsWhereItListens(self) -> None:
        """
        Each front-end logs the address it listens on, port number included,
        so that a server started on port 0 can be found.
        """
        from twisted.logger import globalLogPublisher

        from chatsvc.tap import AnnouncedEndpoint

        seen: list[str] = []

        def observer(event: dict) -> None:
            if event.get("log_namespace", "").startswith("chatsvc.tap"):
                from twisted.logger import formatEvent

                seen.append(formatEvent(event))

        globalLogPublisher.addObserver(observer)
        self.addCleanup(globalLogPublisher.removeObserver, observer)
        from twisted.internet.address import IPv4Address, IPv6Address
        from twisted.internet.defer import succeed

        class Port:
            def __init__(self, address) -> None:
                self.address = address

            def getHost(self):
                return self.address

        class Endpoint:
            def __init__(self, address) -> None:
                self.address = address

            def listen(self, factory):
                return succeed(Port(self.address))

        for address in (IPv4Address("TCP", "127.0.0.1", 43210), IPv6Address("TCP", "::1", 6667)):
            self.successResultOf(AnnouncedEndpoint(Endpoint(address), "native").listen(None))
        self.assertEqual(
            seen, ["native listening on 127.0.0.1:43210", "native listening on [::1]:6667"]
        )


class PingOptionTests(SynchronousTestCase):
    def test_pingOptionsReachBothFrontEnds(self) -> None:
        """
        --ping-interval and --ping-timeout set IRC's PING and the native
        protocol's keepalive alike.
        """
        from twisted.application.internet import StreamServerEndpointService

        from chatsvc.irc.protocol import IRCFactory
        from chatsvc.net.keepalive import KeepAliveEndpoint

        options = Options()
        options.parseOptions(
            ["--ping-interval", "30", "--ping-timeout", "20", "--irc-port", "6667", "--store", "memory"]
        )
        service = makeService(options, MemoryReactorClock())
        listeners = [s for s in service if isinstance(s, StreamServerEndpointService)]
        (native,) = [
            s.endpoint.endpoint
            for s in listeners
            if isinstance(s.endpoint.endpoint, KeepAliveEndpoint)
        ]
        self.assertEqual((native.idle, native.interval, native.count), (30.0, 5.0, 4))
        (irc,) = [s.factory for s in listeners if isinstance(s.factory, IRCFactory)]
        self.assertEqual((irc.pingInterval, irc.pingTimeout), (30.0, 20.0))
