"""
The contract every cluster bus keeps, run against each implementation:
the in-memory one of L{chatsvc.testing}, on a clock.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import uuid4

from twisted.internet.defer import Deferred, inlineCallbacks, succeed
from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase
from zope.interface.verify import verifyObject

from chatsvc.errors import BusError
from chatsvc.interfaces import IBus
from chatsvc.testing import MemoryBus, MemoryRedis


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
        A bus (an L{IBus} and a service) on the Redis of this test case, not started; stopped at the
        end of the test.
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
            lambda: bus.renew(key, "v", 1.0),
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
        self.assertTrue((yield self.wait(bus.renew(key, "node-1", 1.2))))
        self.assertFalse((yield self.wait(bus.renew(key, "node-2", 60.0))))
        yield self.elapse(0.6)
        self.assertEqual((yield self.wait(bus.get(key))), "node-1")
        yield self.elapse(0.9)
        self.assertIsNone((yield self.wait(bus.get(key))))
        self.assertFalse((yield self.wait(bus.renew(key, "node-1", 1.0))))

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

    def test_repliesLater(self) -> None:
        """
        Replies and messages arrive a turn of the clock later, never while
        the command is being sent.
        """
        bus = self.makeBus()
        heard: list[bytes] = []
        bus.subscribe("room", heard.append)
        bus.startService()
        self.clock.advance(0)
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
        bus = self.makeBus()
        heard: list[bytes] = []
        bus.subscribe("room", heard.append)
        bus.startService()
        self.clock.advance(0)
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
