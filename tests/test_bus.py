"""
The contract every cluster bus keeps, run against each implementation:
the in-memory one of L{chatsvc.testing}, on a clock, and L{RedisBus} on a
real redis-server; and what only the real one has to get right
(passwords, databases, a Redis that hangs).

Each test of the real bus starts a redis-server of its own with
C{.ci/redis}, to stop and start at will.  Without redis-server those tests
are skipped, but fail under CI (C{CI} set), which must run them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from uuid import uuid4

from twisted.internet import reactor
from twisted.internet.defer import Deferred, inlineCallbacks, succeed
from twisted.internet.task import Clock, deferLater
from twisted.logger import globalLogPublisher
from twisted.trial.unittest import SkipTest, SynchronousTestCase, TestCase
from zope.interface.verify import verifyObject

from chatsvc.cluster.bus import RedisBus, parseRedisURL
from chatsvc.cluster.resp import Reply, ReplyParser, encodeCommand
from chatsvc.errors import BusError
from chatsvc.interfaces import IBus
from chatsvc.testing import MemoryBus, MemoryRedis

SCRIPT = Path(__file__).resolve().parent.parent / ".ci" / "redis"


class BusContract:
    """
    The tests every bus passes, written against L{IBus} alone; a subclass
    says how to make a bus, how time passes, and how its Redis goes down
    and comes back.

    Keys and channels are named under a prefix of each test's own, so that
    tests may share one Redis.
    """

    # How long (seconds of the bus's time) to wait for what must happen.
    patience = 10.0
    # How often to look.
    step = 0.01

    def makeBus(self) -> IBus:
        """
        A bus (an L{IBus} and a service) on the Redis of this test case,
        not started; stopped at the end of the test.
        """
        raise NotImplementedError()

    def elapse(self, seconds: float) -> Deferred[None]:
        """
        Let C{seconds} pass for the buses.
        """
        raise NotImplementedError()

    def stopRedis(self) -> Deferred[None]:
        """
        Take the buses' Redis down, losing every key.
        """
        raise NotImplementedError()

    def startRedis(self) -> Deferred[None]:
        """
        Bring it up again where it was.
        """
        raise NotImplementedError()

    def setUp(self) -> None:
        self.prefix = f"test:{uuid4().hex}:"

    def name(self, suffix: str) -> str:
        """
        A key or channel name of this test's own.
        """
        return self.prefix + suffix

    @inlineCallbacks
    def until(self, predicate: Callable[[], object], what: str = "the condition"):
        """
        Let time pass until C{predicate} holds, failing the test if it does
        not within L{patience}.
        """
        waited = 0.0
        while not predicate():
            if waited >= self.patience:
                self.fail(f"{what} did not happen within {self.patience} s")
            yield self.elapse(self.step)
            waited += self.step

    @inlineCallbacks
    def wait(self, deferred: Deferred):
        """
        The result of C{deferred}, once time has passed enough for it.
        """
        results: list[object] = []

        def keep(result: object) -> object:
            results.append(result)
            return result

        deferred.addBoth(keep)
        yield self.until(lambda: results, "the reply")
        result = yield deferred
        return result

    @inlineCallbacks
    def started(self, *buses: IBus):
        """
        Start C{buses} and wait until they are all connected.
        """
        for bus in buses:
            bus.startService()
        yield self.until(lambda: all(bus.connected for bus in buses), "connecting")

    @inlineCallbacks
    def failsWithBusError(self, deferred: Deferred):
        """
        Wait for C{deferred} and check that it failed with L{BusError}.
        """
        results: list[object] = []
        deferred.addBoth(results.append)
        yield self.until(lambda: results, "the reply")
        [result] = results
        self.assertIsInstance(getattr(result, "value", result), BusError, result)

    def test_interface(self) -> None:
        """
        The bus is a real IBus, and not connected before it starts.
        """
        bus = self.makeBus()
        self.assertTrue(verifyObject(IBus, bus))
        self.assertFalse(bus.connected)

    @inlineCallbacks
    def test_notConnected(self):
        """
        Before the bus is connected, every command fails with BusError.
        """
        bus = self.makeBus()
        key = self.name("k")
        for command in [
            lambda: bus.publish(self.name("c"), b"x"),
            lambda: bus.claim(key, "v", 1.0),
            lambda: bus.renew([key], "v", 1.0),
            lambda: bus.release(key, "v"),
            lambda: bus.get(key),
            lambda: bus.scan(key),
        ]:
            yield self.failsWithBusError(command())

    @inlineCallbacks
    def test_connectedCallbacks(self):
        """
        Starting a bus calls its whenConnected callbacks once it is
        connected; stopping it, its whenDisconnected ones.  Neither is
        called for the state at registration.
        """
        bus = self.makeBus()
        seen: list[tuple[str, bool]] = []
        bus.whenConnected(lambda: seen.append(("connected", bus.connected)))
        bus.whenDisconnected(lambda: seen.append(("disconnected", bus.connected)))
        yield self.started(bus)
        bus.whenConnected(lambda: seen.append(("late", bus.connected)))
        self.assertEqual(seen, [("connected", True)])
        yield bus.stopService()
        self.assertEqual(seen, [("connected", True), ("disconnected", False)])
        self.assertFalse(bus.connected)
        yield self.failsWithBusError(bus.publish(self.name("c"), b"x"))

    @inlineCallbacks
    def test_oneOrder(self):
        """
        Messages from several buses reach every subscriber, the publisher
        too, in one order, each bus's in the order it published them.
        """
        channel = self.name("room")
        one, two = self.makeBus(), self.makeBus()
        heard: dict[str, list[bytes]] = {"one": [], "two": []}
        one.subscribe(channel, heard["one"].append)
        two.subscribe(channel, heard["two"].append)
        yield self.started(one, two)
        for n in range(20):
            one.publish(channel, b"one %d" % n)
            two.publish(channel, b"two %d" % n)
        yield self.until(lambda: len(heard["one"]) == len(heard["two"]) == 40, "delivery")
        self.assertEqual(heard["one"], heard["two"])
        for name in [b"one", b"two"]:
            self.assertEqual(
                [data for data in heard["one"] if data.startswith(name)],
                [name + b" %d" % n for n in range(20)],
            )

    @inlineCallbacks
    def test_receivers(self):
        """
        Publishing fires with the number of buses subscribed to the channel,
        whatever their number of receivers; a channel of nobody's, zero.
        """
        channel = self.name("room")
        one, two = self.makeBus(), self.makeBus()
        one.subscribe(channel, lambda data: None)
        one.subscribe(channel, lambda data: None)
        two.subscribe(channel, lambda data: None)
        yield self.started(one, two)
        self.assertEqual((yield self.wait(one.publish(channel, b"x"))), 2)
        self.assertEqual((yield self.wait(one.publish(self.name("empty"), b"x"))), 0)

    @inlineCallbacks
    def test_binaryData(self):
        """
        Data arrives byte for byte, whatever bytes it holds.
        """
        channel = self.name("room")
        bus = self.makeBus()
        heard: list[bytes] = []
        bus.subscribe(channel, heard.append)
        yield self.started(bus)
        data = [bytes(range(256)), b"", b"\r\n$3\r\n*1\r\n", "żółw".encode()]
        for each in data:
            bus.publish(channel, each)
        yield self.until(lambda: len(heard) == len(data), "delivery")
        self.assertEqual(heard, data)

    @inlineCallbacks
    def test_failingReceiver(self):
        """
        A receiver that raises is logged; the other receivers and later
        messages are not lost to it.
        """
        channel = self.name("room")
        bus = self.makeBus()
        heard: list[bytes] = []
        bus.subscribe(channel, lambda data: 1 / 0)
        bus.subscribe(channel, heard.append)
        yield self.started(bus)
        bus.publish(channel, b"1")
        bus.publish(channel, b"2")
        yield self.until(lambda: len(heard) == 2, "delivery")
        self.assertEqual(heard, [b"1", b"2"])
        self.assertEqual(len(self.flushLoggedErrors(ZeroDivisionError)), 2)

    @inlineCallbacks
    def test_claim(self):
        """
        Of two claims of one key, the first wins; the key then holds its
        value.
        """
        one, two = self.makeBus(), self.makeBus()
        key = self.name("nick:ola")
        yield self.started(one, two)
        self.assertTrue((yield self.wait(one.claim(key, "node-1", 5.0))))
        self.assertFalse((yield self.wait(two.claim(key, "node-2", 5.0))))
        self.assertEqual((yield self.wait(two.get(key))), "node-1")
        self.assertIsNone((yield self.wait(two.get(self.name("nick:nobody")))))

    @inlineCallbacks
    def test_expiry(self):
        """
        A claim lasts its time to live; then the key is gone and free to
        claim again.
        """
        bus = self.makeBus()
        key = self.name("nick:ola")
        yield self.started(bus)
        yield self.wait(bus.claim(key, "node-1", 0.3))
        yield self.elapse(0.6)
        self.assertIsNone((yield self.wait(bus.get(key))))
        self.assertTrue((yield self.wait(bus.claim(key, "node-2", 5.0))))

    @inlineCallbacks
    def test_renew(self):
        """
        Renewing a claim one holds makes it last from now on; one cannot
        renew a key that another holds, or one that is gone.
        """
        bus = self.makeBus()
        key = self.name("nick:ola")
        yield self.started(bus)
        yield self.wait(bus.claim(key, "node-1", 0.6))
        yield self.elapse(0.3)
        other = self.name("nick:bob")
        yield self.wait(bus.claim(other, "node-2", 60.0))
        renewed = yield self.wait(bus.renew([key, other, self.name("gone")], "node-1", 1.2))
        self.assertEqual(renewed, [True, False, False])
        self.assertEqual((yield self.wait(bus.renew([key], "node-2", 60.0))), [False])
        yield self.elapse(0.6)
        self.assertEqual((yield self.wait(bus.get(key))), "node-1")
        yield self.elapse(0.9)
        self.assertIsNone((yield self.wait(bus.get(key))))
        self.assertEqual((yield self.wait(bus.renew([key], "node-1", 1.0))), [False])
        self.assertEqual((yield self.wait(bus.renew([], "node-1", 1.0))), [])

    @inlineCallbacks
    def test_release(self):
        """
        Releasing deletes a key one holds, and leaves another's alone.
        """
        bus = self.makeBus()
        key = self.name("nick:ola")
        yield self.started(bus)
        yield self.wait(bus.claim(key, "node-1", 5.0))
        self.assertFalse((yield self.wait(bus.release(key, "node-2"))))
        self.assertEqual((yield self.wait(bus.get(key))), "node-1")
        self.assertTrue((yield self.wait(bus.release(key, "node-1"))))
        self.assertIsNone((yield self.wait(bus.get(key))))
        self.assertFalse((yield self.wait(bus.release(key, "node-1"))))

    @inlineCallbacks
    def test_scan(self):
        """
        Scanning finds every key under a prefix, more than one batch of
        them, with its value, and nothing else: the prefix is not a
        pattern, and expired keys are left out.
        """
        bus = self.makeBus()
        yield self.started(bus)
        prefix = self.name("node[1]*?\\:")
        expected = {f"{prefix}{n}": f"value {n}" for n in range(1500)}
        claims = [bus.claim(key, value, 30.0) for key, value in expected.items()]
        claims.append(bus.claim(self.name("node1x:1"), "like the pattern", 30.0))
        claims.append(bus.claim(self.name("other"), "elsewhere", 30.0))
        claims.append(bus.claim(prefix + "brief", "expires", 0.2))
        for claimed in claims:
            yield self.wait(claimed)
        yield self.elapse(0.4)
        self.assertEqual((yield self.wait(bus.scan(prefix))), expected)
        self.assertEqual((yield self.wait(bus.scan(self.name("none:")))), {})

    @inlineCallbacks
    def test_restart(self):
        """
        When Redis restarts, the bus says it is disconnected, commands fail
        meanwhile, and it reconnects by itself, says so, and hears its
        channels again.
        """
        channel = self.name("room")
        bus = self.makeBus()
        heard: list[bytes] = []
        seen: list[str] = []
        bus.subscribe(channel, heard.append)
        bus.whenConnected(lambda: seen.append("connected"))
        bus.whenDisconnected(lambda: seen.append("disconnected"))
        yield self.started(bus)
        yield self.stopRedis()
        yield self.until(lambda: not bus.connected, "noticing the outage")
        self.assertEqual(seen, ["connected", "disconnected"])
        yield self.failsWithBusError(bus.publish(channel, b"lost"))
        yield self.failsWithBusError(bus.get(self.name("k")))
        yield self.startRedis()
        yield self.until(lambda: bus.connected, "reconnecting")
        self.assertEqual(seen, ["connected", "disconnected", "connected"])
        self.assertEqual((yield self.wait(bus.publish(channel, b"again"))), 1)
        yield self.until(lambda: heard, "delivery")
        self.assertEqual(heard, [b"again"])


class MemoryBusTests(BusContract, TestCase):
    """
    The contract, kept by L{MemoryBus} on a clock; and what the fake adds:
    replies a turn late, and one bus cut off.
    """

    def setUp(self) -> None:
        super().setUp()
        self.clock = Clock()
        self.redis = MemoryRedis(self.clock)

    def makeBus(self) -> MemoryBus:
        bus = MemoryBus(self.redis, self.clock)
        self.addCleanup(lambda: bus.running and bus.stopService())
        return bus

    def elapse(self, seconds: float) -> Deferred[None]:
        self.clock.advance(seconds)
        return succeed(None)

    def stopRedis(self) -> Deferred[None]:
        self.redis.stop()
        return succeed(None)

    def startRedis(self) -> Deferred[None]:
        self.redis.start()
        return succeed(None)

    def test_connectsOnTheClock(self) -> None:
        """
        A bus connects a turn after starting, not during startService.
        """
        bus = self.makeBus()
        bus.startService()
        self.assertFalse(bus.connected)
        self.clock.advance(0)
        self.assertTrue(bus.connected)

    def listening(self) -> tuple[MemoryBus, list[bytes]]:
        """
        A connected bus, and what it hears on the channel C{room}.
        """
        bus = self.makeBus()
        heard: list[bytes] = []
        bus.subscribe("room", heard.append)
        bus.startService()
        self.clock.advance(0)
        return bus, heard

    def test_repliesLater(self) -> None:
        """
        Replies and messages arrive a turn of the clock later, never while
        the command is being sent.
        """
        bus, heard = self.listening()
        claimed = bus.claim("k", "v", 1.0)
        published = bus.publish("room", b"x")
        self.assertNoResult(claimed)
        self.assertNoResult(published)
        self.assertEqual(heard, [])
        self.clock.advance(0)
        self.assertTrue(self.successResultOf(claimed))
        self.assertEqual(self.successResultOf(published), 1)
        self.assertEqual(heard, [b"x"])

    def test_lostBeforeTheReply(self) -> None:
        """
        A command whose reply has not arrived when the connection is lost
        fails with BusError, and a message on its way is lost.
        """
        bus, heard = self.listening()
        claimed = bus.claim("k", "v", 1.0)
        bus.publish("room", b"x").addErrback(lambda failure: None)
        self.redis.stop()
        self.failureResultOf(claimed, BusError)
        self.clock.advance(0)
        self.assertEqual(heard, [])

    def test_reconnectDelay(self) -> None:
        """
        A disconnected bus tries again every reconnectDelay seconds.
        """
        bus = MemoryBus(self.redis, self.clock, reconnectDelay=3.0)
        bus.startService()
        self.addCleanup(bus.stopService)
        self.clock.advance(0)
        self.redis.stop()
        self.clock.advance(3.0)
        self.redis.start()
        self.clock.advance(2.9)
        self.assertFalse(bus.connected)
        self.clock.advance(0.1)
        self.assertTrue(bus.connected)

    def test_partition(self) -> None:
        """
        A bus cut off misses what is published meanwhile while the others
        go on, and rejoins once healed; its keys are not lost.
        """
        one, two = self.makeBus(), self.makeBus()
        heard: list[bytes] = []
        one.subscribe("room", lambda data: None)
        two.subscribe("room", heard.append)
        one.startService()
        two.startService()
        self.clock.advance(0)
        two.claim("k", "two", 60.0)
        self.clock.advance(0)
        self.redis.partition(two)
        self.assertFalse(two.connected)
        self.assertTrue(one.connected)
        published = one.publish("room", b"missed")
        self.clock.advance(5.0)
        self.assertEqual(self.successResultOf(published), 1)
        self.assertFalse(two.connected)
        self.redis.heal(two)
        self.clock.advance(1.0)
        self.assertTrue(two.connected)
        one.publish("room", b"heard")
        got = two.get("k")
        self.clock.advance(0)
        self.assertEqual(heard, [b"heard"])
        self.assertEqual(self.successResultOf(got), "two")


def unavailable(testCase: SynchronousTestCase, why: str) -> None:
    """
    Skip C{testCase} for C{why}; under CI, fail it.
    """
    if os.environ.get("CI"):
        testCase.fail(f"CI must run the Redis tests, but {why}")
    raise SkipTest(why)


class RedisServer:
    """
    A throwaway redis-server in a directory of a test's own, through
    C{.ci/redis}: started at once, stopped when the test is done.
    """

    def __init__(self, testCase: SynchronousTestCase, *args: str) -> None:
        if subprocess.run([SCRIPT, "available"], capture_output=True).returncode:
            unavailable(testCase, "redis-server is not installed (Debian's redis-server)")
        self.directory = os.path.abspath(testCase.mktemp())
        os.makedirs(self.directory)
        testCase.addCleanup(self.run, "stop")
        self.url = self.run("start", *args).splitlines()[-1]
        self.port = int(self.url.rsplit(":", 1)[1])

    def run(self, command: str, *args: str) -> str:
        done = subprocess.run(
            [SCRIPT, command, self.directory, *args], capture_output=True, text=True, timeout=30
        )
        if done.returncode:
            raise RuntimeError(f".ci/redis {command} failed: {done.stderr.strip()}")
        return done.stdout

    @property
    def pid(self) -> int:
        return int(Path(self.directory, "pid").read_text())

    def ask(self, *commands: list[str | int], password: str | None = None) -> list[Reply]:
        """
        Send C{commands} down a connection of the test's own and return
        their replies (blocking: the server answers at once).
        """
        if password is not None:
            commands = (["AUTH", password], *commands)
        parser = ReplyParser()
        replies: list[Reply] = []
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as connection:
            connection.sendall(b"".join(encodeCommand(*command) for command in commands))
            while len(replies) < len(commands):
                replies.extend(parser.feed(connection.recv(65536)))
        return replies[1:] if password is not None else replies


class RedisBusTests(BusContract, TestCase):
    """
    The contract, kept by L{RedisBus} on a real redis-server.
    """

    def setUp(self) -> None:
        super().setUp()
        self.redis = RedisServer(self)

    def makeBus(self, url: str | None = None, name: str = "test-node") -> RedisBus:
        bus = RedisBus(reactor, url or self.redis.url, name)
        self.addCleanup(lambda: bus.running and bus.stopService())
        return bus

    def elapse(self, seconds: float) -> Deferred[None]:
        return deferLater(reactor, seconds)

    def stopRedis(self) -> Deferred[None]:
        self.redis.run("halt")
        return succeed(None)

    def startRedis(self) -> Deferred[None]:
        self.redis.run("start")
        return succeed(None)

    @inlineCallbacks
    def test_clientNames(self):
        """
        Both connections are named after the node, and the command one
        uses the URL's database.
        """
        bus = self.makeBus(self.redis.url + "/3", name="node-7")
        yield self.started(bus)
        yield self.wait(bus.claim(self.name("k"), "v", 30.0))
        [clients] = self.redis.ask(["CLIENT", "LIST"])
        fields = [
            dict(field.split("=", 1) for field in line.split())
            for line in clients.decode().splitlines()
        ]
        self.assertEqual(
            sorted((f["name"], f["db"]) for f in fields if f["name"].startswith("node-7")),
            [("node-7", "3"), ("node-7:sub", "0")],
        )
        self.assertEqual(self.redis.ask(["SELECT", 3], ["GET", self.name("k")])[1], b"v")

    @inlineCallbacks
    def test_hungRedis(self):
        """
        A Redis that stops answering (the process stopped) is noticed by
        the keepalive and dropped; when it answers again, the bus is back.
        """
        self.patience = 15.0
        bus = self.makeBus()
        seen: list[str] = []
        bus.whenDisconnected(lambda: seen.append("disconnected"))
        bus.whenConnected(lambda: seen.append("connected"))
        yield self.started(bus)
        os.kill(self.redis.pid, signal.SIGSTOP)
        self.addCleanup(lambda: os.kill(self.redis.pid, signal.SIGCONT))
        waiting = bus.get(self.name("k"))
        yield self.until(lambda: not bus.connected, "noticing the hang")
        yield self.failsWithBusError(waiting)
        os.kill(self.redis.pid, signal.SIGCONT)
        yield self.until(lambda: bus.connected, "reconnecting")
        self.assertEqual(seen, ["connected", "disconnected", "connected"])


class RedisPasswordTests(TestCase):
    """
    A Redis that asks for a password.
    """

    def setUp(self) -> None:
        self.redis = RedisServer(self, "--requirepass", "s3cret pass")

    @inlineCallbacks
    def test_password(self):
        """
        The URL's password, percent-encoded, lets the bus in.
        """
        bus = RedisBus(reactor, self.redis.url.replace("//", "//:s3cret%20pass@"), "node")
        self.addCleanup(bus.stopService)
        bus.startService()
        for _ in range(500):
            if bus.connected:
                break
            yield deferLater(reactor, 0.01)
        self.assertTrue(bus.connected)
        self.assertTrue((yield bus.claim("k", "v", 5.0)))
        self.assertEqual(self.redis.ask(["GET", "k"], password="s3cret pass"), [b"v"])

    @inlineCallbacks
    def test_wrongPassword(self):
        """
        A wrong password is logged once, clearly and without the password,
        and tried again now and then, not in a flood.
        """
        events: list[dict] = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        bus = RedisBus(reactor, self.redis.url.replace("//", "//:wrong-guess@"), "node")
        self.addCleanup(bus.stopService)
        bus.startService()
        yield deferLater(reactor, 5.0)
        self.assertFalse(bus.connected)
        refusals = [event for event in events if "refused" in event.get("log_format", "")]
        self.assertEqual(len(refusals), 1, events)
        self.assertIn("WRONGPASS", refusals[0]["why"])
        self.assertNotIn("wrong-guess", repr(events) + repr(bus))
        self.assertFalse([e for e in events if "retry" in e.get("log_format", "")])
        [info] = self.redis.ask(["INFO", "stats"], password="s3cret pass")
        received = int(info.decode().split("total_connections_received:")[1].split()[0])
        # Both connections, a few tries each at most two or three seconds apart.
        self.assertTrue(4 <= received <= 20, received)


class ParseRedisURLTests(SynchronousTestCase):
    def test_parts(self) -> None:
        """
        Host, port, database and password come from the URL; port 6379 and
        database 0 by default.
        """
        address = parseRedisURL("redis://:p%40ss@redis.example:6380/2")
        self.assertEqual(
            (address.host, address.port, address.db, address.username, address.password),
            ("redis.example", 6380, 2, None, "p@ss"),
        )
        address = parseRedisURL("redis://10.0.0.5")
        self.assertEqual((address.port, address.db, address.password), (6379, 0, None))
        address = parseRedisURL("redis://chat:pw@[::1]:7000/")
        self.assertEqual(
            (address.host, address.username, address.where),
            ("::1", "chat", "redis://[::1]:7000/0"),
        )

    def test_passwordHidden(self) -> None:
        """
        Neither the address's repr nor the bus's shows the password.
        """
        url = "redis://:hunter2@127.0.0.1:6379/1"
        self.assertNotIn("hunter2", repr(parseRedisURL(url)))
        self.assertNotIn("hunter2", repr(RedisBus(reactor, url, "node")))

    def test_errors(self) -> None:
        """
        A URL that is not one is refused, saying why.
        """
        for url, reason in [
            ("http://127.0.0.1:6379", "starts with redis://"),
            ("rediss://127.0.0.1:6379", "not supported"),
            ("redis://:6379", "names a host"),
            ("redis://127.0.0.1:99999", "not a redis:// URL"),
            ("redis://127.0.0.1:6379/chat", "is a number"),
            ("redis://127.0.0.1:6379/0?timeout=1", "no ?query"),
            ("redis://user@127.0.0.1", "needs a password"),
        ]:
            with self.assertRaises(ValueError, msg=url) as caught:
                parseRedisURL(url)
            self.assertIn(reason, str(caught.exception), url)

    def test_clientName(self) -> None:
        """
        A client name Redis would refuse is refused at once.
        """
        self.assertRaises(ValueError, RedisBus, reactor, "redis://127.0.0.1", "two words")
