"""
Tests for L{chatsvc.cluster.link}: several hubs on one clock, joined over
an in-memory bus that behaves like Redis pub/sub (L{chatsvc.testing}).
"""

from __future__ import annotations

from prometheus_client import generate_latest
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import Clock
from twisted.logger import globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from chatsvc import events
from chatsvc.cluster.leases import DEFAULT_MARGIN, DEFAULT_TTL
from chatsvc.cluster.link import ClusterLink
from chatsvc.delivery import Audience
from chatsvc.errors import NicknameInUse
from chatsvc.history import History
from chatsvc.hub import Hub
from chatsvc.metrics import Metrics
from chatsvc.moderation import ModeChange
from chatsvc.native.protocol import NativeFactory
from chatsvc.net.connection import Limits
from chatsvc.net.output import Outbox
from chatsvc.records import Member
from chatsvc.store.memory import MemoryStore
from chatsvc.store.rows import roomTarget
from chatsvc.testing import MemoryBus, MemoryRedis, RecordingParticipant, SkewedClock
from tests.test_native import Connection


class Recorder:
    """
    An observer (history's place): what was recorded on one node.
    """

    def __init__(self) -> None:
        self.events: list[events.Event] = []
        self.remote: list[events.Event] = []

    def published(self, event: events.Event, audience: Audience) -> None:
        (self.remote if audience.remote else self.events).append(event)


class Node:
    def __init__(self, name: str, redis: MemoryRedis, clock: Clock, crowdSize: int = 100) -> None:
        self.hub = Hub(clock, crowdSize=crowdSize)
        self.recorded = Recorder()
        self.hub.delivery.observe(self.recorded)
        self.bus = MemoryBus(redis, clock)
        self.metrics = Metrics()
        self.link = ClusterLink(self.hub, self.bus, clock, name, metrics=self.metrics)
        self.bus.startService()
        self.link.startService()

    def join(self, nickname: str, enter: bool = True) -> tuple[Member, RecordingParticipant]:
        participant = RecordingParticipant()
        member = self.hub.connect(participant)
        self.hub.register(member, nickname, enter=enter)
        return member, participant


class SkewedClockTests(SynchronousTestCase):
    def test_interface(self) -> None:
        """
        A skewed clock is a reactor's clock, read off by its offset.
        """
        clock = Clock()
        skewed = SkewedClock(clock, -5.0)
        verifyObject(IReactorTime, skewed)
        clock.advance(10)
        self.assertEqual(skewed.seconds(), 5.0)


def said(participant: RecordingParticipant) -> list[tuple[str, str]]:
    return [(e.nickname, e.text) for e in participant.events if isinstance(e, events.Said)]


class ClusterTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.redis = MemoryRedis(self.clock)
        self.a = Node("a", self.redis, self.clock)
        self.b = Node("b", self.redis, self.clock)
        self.settle()

    def cutOff(self, node: Node) -> None:
        """
        Cut C{node} off from Redis until it has given up its lease (and let
        its clients go), the others going on.
        """
        self.redis.partition(node.bus)
        self.settle(DEFAULT_TTL - DEFAULT_MARGIN + 0.5)

    def settle(self, seconds: float = 0.0) -> None:
        """
        Let every message and reply arrive, then C{seconds} pass.
        """
        for _ in range(50):
            self.clock.advance(0)
        step = 0.5
        while seconds > 0:
            self.clock.advance(min(step, seconds))
            seconds -= step
            for _ in range(50):
                self.clock.advance(0)

    def test_oneRoom(self) -> None:
        """
        Members on two nodes are in one room: each sees the other come in
        and speak, with the id and time given where the line was accepted,
        and NAMES on either node lists both.
        """
        alice, alicep = self.a.join("alice")
        self.settle()
        bob, bobp = self.b.join("bob")
        self.settle()
        self.assertIn(
            "bob", [e.nickname for e in alicep.events if isinstance(e, events.Joined)]
        )
        self.a.hub.say(alice, "hello")
        self.settle()
        [line] = [e for e in bobp.events if isinstance(e, events.Said)]
        [own] = [e for e in alicep.events if isinstance(e, events.Said)]
        self.assertEqual((line.nickname, line.text, line.id, line.time), ("alice", "hello", own.id, own.time))
        self.assertEqual(self.b.hub.who(bob), ["alice", "bob"])
        self.assertEqual(self.a.hub.who(alice), ["alice", "bob"])

    def test_recordedOnce(self) -> None:
        """
        A line is recorded (history) by the node that accepted it only;
        the others' observers see it as remote (for replay, WHOWAS).
        """
        alice, _ = self.a.join("alice")
        self.b.join("bob")
        self.settle()
        self.a.hub.say(alice, "once")
        self.settle()
        recorded = lambda node: [e for e in node.recorded.events if isinstance(e, events.Said)]
        self.assertEqual([e.text for e in recorded(self.a)], ["once"])
        self.assertEqual(recorded(self.b), [])
        self.assertEqual(
            [e.text for e in self.b.recorded.remote if isinstance(e, events.Said)], ["once"]
        )

    def test_oneOrder(self) -> None:
        """
        Lines said at once on two nodes reach every member, on both, in one
        order.
        """
        alice, alicep = self.a.join("alice")
        carol, carolp = self.a.join("carol")
        bob, bobp = self.b.join("bob")
        self.settle()
        for i in range(5):
            self.a.hub.say(alice, f"a{i}")
            self.b.hub.say(bob, f"b{i}")
        self.settle()
        seen = said(carolp)
        self.assertEqual(len(seen), 10)
        self.assertEqual(said(bobp), seen)
        self.assertEqual(said(alicep), seen)

    def test_replyAfterLineThoughClockBehind(self) -> None:
        """
        A reply from a node whose clock is 5 s behind is stamped after the
        line it answers, and history lists the two in that order.
        """
        store = MemoryStore()
        behind = Node("c", self.redis, SkewedClock(self.clock, -5.0))
        histories = [self.keep(node, store) for node in (self.a, behind)]
        self.settle()
        alice, alicep = self.a.join("alice")
        carol, carolp = behind.join("carol")
        self.settle()
        self.a.hub.say(alice, "who's there?")
        self.settle()
        self.assertEqual(said(carolp), [("alice", "who's there?")])
        behind.hub.say(carol, "carol")
        self.settle()
        line, reply = [e for e in alicep.events if isinstance(e, events.Said)]
        self.assertGreater(reply.time, line.time)
        listed = self.successResultOf(histories[0].between(roomTarget("lobby"), 10))
        self.assertEqual(
            [e.text for e in listed if isinstance(e, events.Said)], ["who's there?", "carol"]
        )

    def keep(self, node: Node, store: MemoryStore) -> History:
        """
        Record C{node}'s history in C{store}, which every node shares (as
        they share PostgreSQL).
        """
        history = History(store, self.clock)
        self.successResultOf(history.start(node.hub))
        node.hub.delivery.observe(history)
        self.addCleanup(history.stop)
        return history

    def test_lateComerMissesEarlierLine(self) -> None:
        """
        Who comes in after a line was said does not get it, though it
        comes back from the bus after they came in.
        """
        alice, _ = self.a.join("alice")
        self.settle()
        self.a.hub.say(alice, "before")
        dave, davep = self.a.join("dave")
        self.settle()
        self.assertEqual(said(davep), [])

    def test_nicknameAcrossNodes(self) -> None:
        """
        A nickname held on one node is in use on the other.
        """
        self.a.join("alice")
        self.settle()
        member = self.b.hub.connect(RecordingParticipant())
        self.assertRaises(NicknameInUse, self.b.hub.register, member, "Alice")

    def test_nicknameHeldOnce(self) -> None:
        """
        Two nodes that take one nickname in the same moment: Redis gives it
        to one, the other's taker is told and let go, and nobody on either
        node ever hears of the loser.
        """
        watcherA, watcherAp = self.a.join("wa")
        watcherB, watcherBp = self.b.join("wb")
        self.settle()
        watcherAp.take()
        watcherBp.take()
        one, onep = self.a.join("dave")
        two, twop = self.b.join("dave")
        self.settle()
        self.assertEqual(sorted([one.connected, two.connected]), [False, True])
        loser, loserp = (one, onep) if not one.connected else (two, twop)
        self.assertEqual(loserp.events[-1], events.Dropped("taken", "dave"))
        for watcher in (watcherAp, watcherBp):
            joined = [e for e in watcher.events if isinstance(e, events.Joined)]
            self.assertEqual([e.nickname for e in joined], ["dave"])
            self.assertEqual([e for e in watcher.events if isinstance(e, events.Left)], [])
        self.assertEqual(self.a.hub.find("dave").connected, True)
        self.assertEqual(self.b.hub.find("dave").connected, True)

    def test_nodeLost(self) -> None:
        """
        A node that stops renewing its lease (killed) is taken for gone by
        the others within the lease time: its members leave "Node lost"
        and their nicknames are free.  The cut-off node itself drops its
        clients before its lease can expire.
        """
        alice, alicep = self.a.join("alice")
        bob, bobp = self.b.join("bob")
        self.settle(DEFAULT_TTL + 1)
        self.cutOff(self.a)
        self.assertFalse(alice.connected)
        self.assertEqual(alicep.events[-1], events.Dropped("lost"))
        self.settle(DEFAULT_MARGIN + 1.5)
        left = [e for e in bobp.events if isinstance(e, events.Left)]
        self.assertEqual([(e.nickname, e.reason) for e in left], [("alice", "Node lost")])
        self.assertEqual(self.b.hub.who(bob), ["bob"])
        self.b.join("alice")
        self.settle()
        self.assertTrue(self.b.hub.find("alice").connected)

    def test_cutOffNodeRecordsNoFalseDepartures(self) -> None:
        """
        A node that lost the cluster lets its own clients go, and records
        their leaving; the other nodes' members it knew of have not left,
        so it records nothing of them, and once back it knows them again.
        """
        alice, _ = self.a.join("alice")
        bob, _ = self.b.join("bob")
        self.settle(DEFAULT_TTL + 1)
        self.cutOff(self.a)
        self.assertFalse(alice.connected)
        left = [e.nickname for e in self.a.recorded.events if isinstance(e, events.Left)]
        self.assertEqual(left, ["alice"])
        self.redis.heal(self.a.bus)
        self.settle(5)
        carol, _ = self.a.join("carol")
        self.settle()
        self.assertEqual(self.a.hub.who(carol), ["bob", "carol"])
        self.assertTrue(bob.connected)

    def test_droppedUserReadsWhy(self) -> None:
        """
        A terminal user its node lets go on losing the cluster reads why,
        naming no operator, before the connection closes.
        """
        factory = NativeFactory(self.a.hub, limits=Limits(flood=None), outbox=Outbox(self.clock))
        user = Connection(factory)
        user.say("ula")
        self.settle()
        self.assertIn("Connected to server!", user.lines())
        self.cutOff(self.a)
        self.assertEqual(
            user.lines(), ["! This server lost touch with the rest of the chat; please reconnect."]
        )
        self.assertTrue(user.transport.disconnecting)

    def test_redisRestart(self) -> None:
        """
        Redis restarted: local chat goes on meanwhile, nobody is dropped,
        and afterwards presence is whole again and lines cross.
        """
        alice, alicep = self.a.join("alice")
        carol, carolp = self.a.join("carol")
        bob, bobp = self.b.join("bob")
        self.settle(DEFAULT_TTL + 1)
        self.redis.stop()
        self.settle(1)
        self.a.hub.say(alice, "meanwhile")
        self.assertIn(("alice", "meanwhile"), said(carolp))
        self.redis.start()
        self.settle(5)
        self.assertTrue(all(m.connected for m in (alice, carol, bob)))
        self.a.hub.say(alice, "after")
        self.settle(DEFAULT_TTL)
        self.assertIn(("alice", "after"), said(bobp))
        self.assertEqual(sorted(self.b.hub.who(bob)), ["alice", "bob", "carol"])
        self.assertTrue(all(m.connected for m in (alice, carol, bob)))

    def test_newNodeLearnsPresence(self) -> None:
        """
        A node that starts later learns who is on the others, with rooms,
        roles and topics.
        """
        alice, _ = self.a.join("alice")
        self.a.hub.setTopic(alice, "lobby", "welcome")
        self.settle()
        c = Node("c", self.redis, self.clock)
        self.settle()
        room = c.hub.room("lobby")
        self.assertEqual([m.nickname for m in room.members], ["alice"])
        self.assertEqual(room.topic, "welcome")
        self.assertIn(c.hub.find("alice"), room.operators)

    def test_stateChanges(self) -> None:
        """
        Topics, modes, roles, renames and away messages set on one node are
        in the other's records.
        """
        alice, _ = self.a.join("alice")
        self.settle()
        bob, bobp = self.b.join("bob")
        self.settle()
        self.a.hub.setTopic(alice, "lobby", "news")
        self.a.hub.setModes(alice, "lobby", [ModeChange(True, "m"), ModeChange(True, "v", "bob")])
        self.a.hub.setAway(alice, "lunch")
        self.a.hub.rename(alice, "alicia")
        self.settle()
        room = self.b.hub.room("lobby")
        self.assertEqual(room.topic, "news")
        self.assertTrue(room.modes.moderated)
        self.assertIn(bob, room.voiced)
        alicia = self.b.hub.find("alicia")
        self.assertEqual(alicia.away, "lunch")
        self.assertIn(alicia, room.operators)
        self.assertIn(
            ("alice", "alicia"),
            [(e.old, e.new) for e in bobp.events if isinstance(e, events.Renamed)],
        )
        self.b.join("alice")
        self.settle()
        self.assertTrue(self.b.hub.find("alice").connected)

    def test_kickAcrossNodes(self) -> None:
        """
        An operator on one node puts out a member on another: the member
        hears it and is out of the room on both nodes.
        """
        alice, _ = self.a.join("alice")
        self.settle()
        bob, bobp = self.b.join("bob")
        self.settle()
        self.a.hub.kick(alice, "lobby", "bob", "bye")
        self.settle()
        self.assertIn(
            ("bob", "bye"),
            [(e.nickname, e.reason) for e in bobp.events if isinstance(e, events.Kicked)],
        )
        self.assertEqual(bob.rooms, ())
        self.assertEqual(self.a.hub.who(alice), ["alice"])

    def test_whisperAcrossNodes(self) -> None:
        alice, alicep = self.a.join("alice", enter=False)
        bob, bobp = self.b.join("bob", enter=False)
        self.settle()
        self.a.hub.whisper(alice, "bob", "psst")
        self.settle()
        self.assertEqual(
            [(e.nickname, e.text) for e in bobp.events if isinstance(e, events.Whispered)],
            [("alice", "psst")],
        )

    def test_killAcrossNodes(self) -> None:
        """
        A server operator's kill reaches the member on its own node, which
        lets it go; the others hear it leave.
        """
        alice, alicep = self.a.join("alice")
        self.a.hub.becomeOperator(alice, "root")
        bob, bobp = self.b.join("bob")
        self.settle()
        self.a.hub.kill(alice, "bob", "spam")
        self.settle()
        self.assertFalse(bob.connected)
        self.assertIn("spam", [e.reason for e in bobp.events if isinstance(e, events.Killed)])
        self.assertIn("bob", [e.nickname for e in alicep.events if isinstance(e, events.Left)])

    def test_killAcrossNodesIsRead(self) -> None:
        """
        A terminal user killed from another node reads the operator's
        reason before the connection closes.
        """
        alice, _ = self.a.join("alice")
        self.a.hub.becomeOperator(alice, "root")
        factory = NativeFactory(self.b.hub, limits=Limits(flood=None), outbox=Outbox(self.clock))
        user = Connection(factory)
        user.say("ula")
        self.settle()
        user.lines()
        self.a.hub.kill(alice, "ula", "spam")
        self.settle()
        self.assertEqual(
            user.lines(), ["! Server operator alice put you off the server (spam). Goodbye!"]
        )
        self.assertTrue(user.transport.disconnecting)

    def test_crowdedRoom(self) -> None:
        """
        Comings and goings a crowded room only summarises still reach the
        other node's records.
        """
        self.a.hub._crowdSize = self.b.hub._crowdSize = 2
        members = [self.a.join(f"m{i}")[0] for i in range(4)]
        self.settle(2)
        self.assertEqual(len(self.b.hub.room("lobby").members), 4)
        self.a.hub.disconnect(members[0])
        self.settle(2)
        self.assertEqual(len(self.b.hub.room("lobby").members), 3)

    def test_counts(self) -> None:
        """
        LUSERS' local and global counts, and the node count.
        """
        self.a.join("alice")
        self.b.join("bob")
        self.b.join("carol")
        self.settle(2)
        self.assertEqual((self.a.hub.localCount(), self.a.hub.registeredCount()), (1, 3))
        self.assertEqual((self.b.hub.localCount(), self.b.hub.registeredCount()), (2, 3))
        self.assertEqual(self.a.hub.nodeCount, 2)

    def test_quitFreesNickname(self) -> None:
        """
        Whoever leaves lets go of the nickname at once: another node's
        newcomer may take it.
        """
        alice, _ = self.a.join("alice")
        self.settle()
        self.a.hub.disconnect(alice, "bye")
        self.settle()
        again, againp = self.b.join("alice")
        self.settle()
        self.assertTrue(again.connected)
        self.assertFalse(againp.closed)

    def test_cleanStop(self) -> None:
        """
        A node stopped cleanly gives up its lease and nicknames at once,
        rather than when they would expire.
        """
        self.a.join("alice")
        self.settle()
        ready = self.a.link.whenReady()
        self.assertIsNone(self.successResultOf(ready))
        self.a.link.stopService()
        self.settle()
        self.assertEqual(self.redis.get("chatsvc:node:a"), None)
        self.assertEqual(self.redis.get("chatsvc:nick:alice"), None)

    def test_unreachableRefusesNewcomers(self) -> None:
        """
        While Redis cannot be reached nobody can be vouched for: a newcomer
        is told why and let go, and those already in chat on.
        """
        alice, alicep = self.a.join("alice")
        carol, carolp = self.a.join("carol")
        self.settle(1)
        self.redis.stop()
        self.settle(0.5)
        dave, davep = self.a.join("dave")
        self.settle()
        self.assertFalse(dave.connected)
        self.assertEqual(davep.events[-1], events.Dropped("unreachable", "dave"))
        self.a.hub.say(alice, "still here")
        self.assertIn(("alice", "still here"), said(carolp))

    def test_metrics(self) -> None:
        """
        Each node's metrics name it and say whether it reaches Redis, how
        many nodes and others' members it knows, and how long its events
        took to come back.
        """
        alice, _ = self.a.join("alice")
        self.b.join("bob")
        self.settle(2)
        self.a.hub.say(alice, "measured")
        self.settle()
        text = generate_latest(self.a.metrics.registry).decode()
        self.assertIn('chatsvc_cluster_node{node="a"} 1.0', text)
        self.assertIn("chatsvc_cluster_connected 1.0", text)
        self.assertIn("chatsvc_cluster_nodes 2.0", text)
        self.assertIn("chatsvc_cluster_remote_members 1.0", text)
        counts = [l for l in text.splitlines() if l.startswith("chatsvc_cluster_hop_seconds_count")]
        self.assertGreaterEqual(float(counts[0].split()[-1]), 2)
        self.redis.stop()
        self.settle()
        text = generate_latest(self.a.metrics.registry).decode()
        self.assertIn("chatsvc_cluster_connected 0.0", text)

    def test_settingsConverge(self) -> None:
        """
        Two nodes that change one room's topic and modes at the same moment
        end with the same ones: the change later in the bus's order, on
        both.
        """
        alice, _ = self.a.join("alice")
        self.settle()
        bob, _ = self.b.join("bob")
        self.settle()
        self.a.hub.setModes(alice, "lobby", [ModeChange(True, "o", "bob")])
        self.settle()
        self.a.hub.setTopic(alice, "lobby", "from a")
        self.b.hub.setTopic(bob, "lobby", "from b")
        self.a.hub.setModes(alice, "lobby", [ModeChange(True, "k", "alpha")])
        self.b.hub.setModes(bob, "lobby", [ModeChange(True, "k", "beta")])
        self.settle()
        roomA, roomB = self.a.hub.room("lobby"), self.b.hub.room("lobby")
        self.assertEqual(roomA.topic, roomB.topic)
        self.assertEqual(roomA.modes, roomB.modes)
        self.assertIn(roomA.topic, ("from a", "from b"))

    def test_arrivalOrderedByTheBus(self) -> None:
        """
        Who comes into a room on one node just after another node's member
        said something there (in the bus's order) does not get that line,
        though it reaches the newcomer's node after the newcomer came in;
        the others there do.
        """
        carol, carolp = self.a.join("carol")
        bob, _ = self.b.join("bob")
        self.settle()
        self.b.hub.say(bob, "before dave")
        dave, davep = self.a.join("dave")
        self.settle()
        self.b.hub.say(bob, "after dave")
        self.settle()
        self.assertEqual(said(carolp), [("bob", "before dave"), ("bob", "after dave")])
        self.assertEqual(said(davep), [("bob", "after dave")])

    def test_cleanStopIsNoLoss(self) -> None:
        """
        A node stopped cleanly does not log that it lost the cluster.
        """
        logged: list[dict] = []
        globalLogPublisher.addObserver(logged.append)
        self.addCleanup(globalLogPublisher.removeObserver, logged.append)
        self.a.link.stopService()
        self.a.bus.stopService()
        self.settle()
        self.assertEqual([e for e in logged if "lost the cluster" in e.get("log_format", "")], [])
        self.redis.partition(self.b.bus)
        self.settle()
        self.assertEqual(
            len([e for e in logged if "lost the cluster" in e.get("log_format", "")]), 1
        )
