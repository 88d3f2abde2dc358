"""
Tests for L{chatsvc.cluster.leases}: node leases and nickname claims on an
in-memory Redis, by the clock.
"""

from __future__ import annotations

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from chatsvc.cluster.leases import (
    DEFAULT_INTERVAL,
    DEFAULT_MARGIN,
    DEFAULT_TTL,
    NodeLease,
    nicknameKey,
)
from chatsvc.testing import MemoryBus, MemoryRedis


class LeaseTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.redis = MemoryRedis(self.clock)
        self.lost: list[str] = []
        self.taken: list[tuple[str, str]] = []
        self.a, self.busA = self.lease("a")
        self.b, self.busB = self.lease("b")
        self.settle()

    def lease(self, node: str, run: str = "1") -> tuple[NodeLease, MemoryBus]:
        bus = MemoryBus(self.redis, self.clock)
        bus.startService()
        lease = NodeLease(
            bus,
            self.clock,
            node,
            run,
            onLost=lambda: self.lost.append(node),
            onTaken=lambda nickname: self.taken.append((node, nickname)),
        )
        lease.start()
        return lease, bus

    def settle(self, seconds: float = 0.0) -> None:
        for _ in range(20):
            self.clock.advance(0)
        while seconds > 0:
            self.clock.advance(min(0.5, seconds))
            seconds -= 0.5
            for _ in range(20):
                self.clock.advance(0)

    def claim(self, lease: NodeLease, nickname: str) -> bool:
        claimed = lease.claim(nickname)
        self.settle()
        return self.successResultOf(claimed)

    def test_key(self) -> None:
        """
        Nicknames that differ in case are one key.
        """
        self.assertEqual(nicknameKey("Alice"), nicknameKey("alice"))

    def test_oneHolder(self) -> None:
        """
        A nickname is given to one node; the other is refused until it is
        released; the holder's own claim again is granted.
        """
        self.assertTrue(self.claim(self.a, "alice"))
        self.assertFalse(self.claim(self.b, "Alice"))
        self.assertTrue(self.claim(self.a, "ALICE"))
        self.a.release("alice")
        self.settle()
        self.assertTrue(self.claim(self.b, "alice"))

    def test_renewed(self) -> None:
        """
        Keys held are kept alive well past their time to live, and both
        nodes are listed as alive, each with its run.
        """
        self.assertTrue(self.claim(self.a, "alice"))
        self.settle(DEFAULT_TTL * 3)
        self.assertFalse(self.claim(self.b, "alice"))
        nodes = self.a.nodes()
        self.settle()
        self.assertEqual(self.successResultOf(nodes), {"a": "1", "b": "1"})
        self.assertEqual(self.lost, [])

    def test_killedNodeExpires(self) -> None:
        """
        A node that stops renewing (killed) loses its keys within the time
        to live: its nicknames are free, and it is no longer listed.
        """
        self.assertTrue(self.claim(self.a, "alice"))
        self.a._loop.stop()
        self.busA.stopService()
        self.settle(DEFAULT_TTL + DEFAULT_INTERVAL)
        self.assertTrue(self.claim(self.b, "alice"))
        nodes = self.b.nodes()
        self.settle()
        self.assertEqual(self.successResultOf(nodes), {"b": "1"})

    def test_partitionedGivesUpFirst(self) -> None:
        """
        A node cut off from Redis gives its clients up before its keys can
        expire, so nobody else can take a nickname it still serves.
        """
        self.assertTrue(self.claim(self.a, "alice"))
        self.settle(DEFAULT_INTERVAL)
        self.redis.partition(self.busA)
        self.settle(DEFAULT_TTL - DEFAULT_MARGIN)
        self.assertEqual(self.lost, ["a"])
        self.assertFalse(self.a.holds("alice"))
        self.assertFalse(self.claim(self.b, "alice"))

    def test_redisRestarted(self) -> None:
        """
        Redis restarted empty: each node claims its keys again on
        reconnecting, within its renewal, and nobody is given up.
        """
        self.assertTrue(self.claim(self.a, "alice"))
        self.redis.stop()
        self.settle(2)
        self.redis.start()
        self.settle(DEFAULT_INTERVAL + 1)
        self.assertEqual(self.redis.get(nicknameKey("alice")), "a 1")
        self.assertFalse(self.claim(self.b, "alice"))
        self.assertEqual(self.lost, [])

    def test_takenWhileAway(self) -> None:
        """
        If another node claimed a nickname while Redis had lost this node's
        key, this node hears that it is taken and stops holding it.
        """
        self.assertTrue(self.claim(self.a, "alice"))
        self.redis.stop()
        self.settle(0.5)
        self.redis.start()
        # b reconnects first and takes it.
        self.redis.partition(self.busA)
        self.settle(1.5)
        self.assertTrue(self.claim(self.b, "alice"))
        self.redis.heal(self.busA)
        self.settle(DEFAULT_INTERVAL + 1)
        self.assertEqual(self.taken, [("a", "alice")])
        self.assertFalse(self.a.holds("alice"))

    def test_otherRun(self) -> None:
        """
        A node restarted under the same name is another run: it cannot
        renew or release its earlier run's nicknames.
        """
        self.assertTrue(self.claim(self.a, "alice"))
        again, _ = self.lease("a", run="2")
        self.settle()
        self.assertFalse(self.claim(again, "alice"))

    def test_cleanStop(self) -> None:
        """
        Stopping lets go of every key at once.
        """
        self.assertTrue(self.claim(self.a, "alice"))
        self.a.stop()
        self.settle()
        self.assertIsNone(self.redis.get(nicknameKey("alice")))
        self.assertIsNone(self.redis.get("chatsvc:node:a"))
