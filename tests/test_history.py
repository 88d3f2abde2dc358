"""
Tests for L{chatsvc.history}: recording, the durability gate, backpressure,
a failing store, replay and /history, with a store whose commits the test
finishes by hand.
"""

from __future__ import annotations

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer
from zope.interface.verify import verifyObject

from chatsvc import events
from chatsvc.errors import StoreError
from chatsvc.history import CONGESTION_BYTES, RETRY_INTERVAL, History
from chatsvc.hub import Hub
from chatsvc.interfaces import IObserver, IStore
from chatsvc.native.protocol import NativeFactory
from chatsvc.net.connection import Limits
from chatsvc.net.output import Outbox
from chatsvc.store.memory import MemoryStore
from tests.test_native import Connection


@implementer(IStore)
class ManualStore(MemoryStore):
    """
    A durable store whose commits are finished (or failed) by the test.
    """

    durable = True

    def __init__(self) -> None:
        super().__init__()
        self.pending: list[tuple[list, Deferred[None]]] = []

    def record(self, rows) -> Deferred[None]:
        done: Deferred[None] = Deferred()
        self.pending.append((list(rows), done))
        return done

    def finish(self) -> list:
        rows, done = self.pending.pop(0)
        MemoryStore.record(self, rows)
        done.callback(None)
        return rows

    def breakDown(self, reason: str = "database or disk is full") -> None:
        rows, done = self.pending.pop(0)
        done.errback(StoreError(reason))


class HistoryTestCase(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.store = ManualStore()
        self.hub = Hub(self.clock)
        self.history = History(self.store, self.clock, replay=3)
        self.successResultOf(self.history.start(self.hub))
        self.hub.delivery.observe(self.history)
        self.outbox = Outbox(self.clock, gate=self.history)
        self.factory = NativeFactory(
            self.hub, limits=Limits(flood=None), outbox=self.outbox, history=self.history
        )

    def connect(self, nickname: str) -> Connection:
        connection = Connection(self.factory)
        connection.say(nickname)
        self.commitAll()
        connection.lines()
        return connection

    def commitAll(self) -> None:
        self.clock.advance(0)
        while self.store.pending:
            self.store.finish()
            self.clock.advance(0)


class GateTests(HistoryTestCase):
    def test_observer(self) -> None:
        """
        History is an observer of the delivery path.
        """
        self.assertTrue(verifyObject(IObserver, self.history))

    def test_nothingBeforeTheCommit(self) -> None:
        """
        A line reaches nobody, its sender included, until the store has
        committed it; then everyone at once.
        """
        ala, bob = self.connect("Ala"), self.connect("Bob")
        ala.lines()
        ala.say("hello")
        self.clock.advance(0)
        self.assertEqual((ala.transport.value(), bob.transport.value()), (b"", b""))
        [rows] = [self.store.finish()]
        self.assertEqual([row.kind for row in rows], ["said"])
        self.clock.advance(0)
        self.assertEqual(bob.lines(), ["Ala: hello"])
        self.assertEqual(ala.lines(), ["Ala: hello"])

    def test_groupCommit(self) -> None:
        """
        Lines said while a commit is under way go together in the next one,
        and each connection still gets everything in order.
        """
        ala, bob = self.connect("Ala"), self.connect("Bob")
        ala.lines()
        ala.say("one")
        self.clock.advance(0)
        for text in ["two", "three", "four"]:
            bob.say(text)
            self.clock.advance(0)
        self.assertEqual(len(self.store.pending), 1)
        self.store.finish()
        self.clock.advance(0)
        self.assertEqual(ala.lines(), ["Ala: one"])
        self.assertEqual(len(self.store.pending), 1)
        self.assertEqual(len(self.store.pending[0][0]), 3)
        self.store.finish()
        self.clock.advance(0)
        self.assertEqual(ala.lines(), ["Bob: two", "Bob: three", "Bob: four"])

    def test_repliesKeepTheirPlace(self) -> None:
        """
        A reply that needs no commit waits behind a line that does, so a
        connection's output keeps its order.
        """
        ala = self.connect("Ala")
        ala.send(b"hello\n/rooms\n")
        self.clock.advance(0)
        self.assertEqual(ala.transport.value(), b"")
        self.commitAll()
        self.assertEqual(ala.lines(), ["Ala: hello", "1 room: lobby (1)"])

    def test_backpressure(self) -> None:
        """
        When much waits behind a commit under way, the connection is not read
        until the store catches up; nothing is lost.
        """
        ala, bob = self.connect("Ala"), self.connect("Bob")
        ala.lines()
        line = "x" * 2000
        ala.say("first")
        self.clock.advance(0)
        count = CONGESTION_BYTES // 2000 + 20
        ala.send(b"".join(f"{line}{n}\n".encode() for n in range(count)))
        self.assertTrue(self.history.congested)
        self.assertEqual(ala.transport.producerState, "paused")
        self.commitAll()
        self.assertEqual(ala.transport.producerState, "producing")
        said = [text for text in bob.lines() if text.startswith("Ala: x")]
        self.assertEqual(said, [f"Ala: {line}{n}" for n in range(count)])


class FailingStoreTests(HistoryTestCase):
    def test_chatGoesOnAndSavingResumes(self) -> None:
        """
        A store that fails is logged once; the chat goes on without waiting
        for it; what it could not save is saved when it is back.
        """
        from twisted.logger import formatEvent, globalLogPublisher

        logged: list[str] = []

        def observer(event: dict) -> None:
            if event.get("log_namespace", "").startswith("chatsvc.history"):
                logged.append(formatEvent(event))

        globalLogPublisher.addObserver(observer)
        self.addCleanup(globalLogPublisher.removeObserver, observer)
        ala, bob = self.connect("Ala"), self.connect("Bob")
        ala.lines()
        ala.say("one")
        self.clock.advance(0)
        self.store.breakDown()
        self.clock.advance(0)
        self.assertEqual(
            bob.lines(),
            [
                "Ala: one",
                "The server cannot save history just now; the chat goes on, "
                "but what is said may not be kept.",
            ],
        )
        self.assertTrue(self.history.failing)
        ala.say("two")
        self.clock.advance(0)
        self.assertEqual(bob.lines(), ["Ala: two"])
        self.assertEqual(self.store.pending, [])
        self.clock.advance(RETRY_INTERVAL)
        self.store.breakDown()
        self.clock.advance(RETRY_INTERVAL)
        rows = self.store.finish()
        self.assertEqual([row.kind for row in rows], ["said", "said"])
        self.assertFalse(self.history.failing)
        self.clock.advance(0)
        self.assertEqual(bob.lines(), ["The server saves history again."])
        self.assertEqual(len(logged), 2, logged)
        self.assertIn("history is not being saved: database or disk is full", logged[0])
        self.assertIn("history is being saved again", logged[1])


class ReplayTests(HistoryTestCase):
    def test_joinShowsRecentLines(self) -> None:
        """
        Whoever joins a room is shown its last lines, marked with their time
        as history, and no more than --replay.
        """
        ala = self.connect("Ala")
        for n in range(5):
            ala.say(f"line {n}")
        self.commitAll()
        bob = Connection(self.factory)
        bob.say("Bob")
        self.commitAll()
        lines = bob.lines()
        self.assertEqual(lines[:2], ["NICK", "Connected to server!"])
        self.assertEqual(lines[2], "Earlier in room lobby:")
        self.assertEqual([line[8:] for line in lines[3:6]], [f"Ala: line {n}" for n in (2, 3, 4)])
        self.assertRegex(lines[3], r"^\[\d\d:\d\d\] ")
        self.assertEqual(lines[6:], ["End of history."])

    def test_historyCommand(self) -> None:
        """
        /history shows more from the store, /history <nick> a private
        conversation's, and a bad count gets the usage.
        """
        ala, bob = self.connect("Ala"), self.connect("Bob")
        ala.say("/msg Bob psst")
        bob.say("/msg Ala what?")
        self.commitAll()
        ala.lines()
        ala.say("/history Bob")
        self.commitAll()
        self.assertEqual(
            [line[8:] for line in ala.lines()[1:-1]], ["-> *Bob* psst", "*Bob* what?"]
        )
        ala.say("/history 0")
        self.assertEqual(ala.lines(), ["! Usage: /history [nickname] [count]"])


class ExpiryTests(SynchronousTestCase):
    def test_hourlyJobDeletesOldHistory(self) -> None:
        """
        Every hour, and at start, history older than the days it is kept
        is deleted; what is fresh stays.
        """
        from chatsvc.store.rows import roomTarget, toRows

        clock = Clock()
        clock.advance(40 * 86400)
        store = MemoryStore()
        who = events.Identity("Ala")
        old = events.Said(who, "lobby", "old", id="a", time=clock.seconds() - 31 * 86400)
        fresh = events.Said(who, "lobby", "fresh", id="b", time=clock.seconds() - 86400)
        store.record(toRows(old, ("lobby",)) + toRows(fresh, ("lobby",)))
        history = History(store, clock, keepDays=30)
        self.successResultOf(history.start(Hub(clock)))
        kept = self.successResultOf(store.history(roomTarget("lobby"), 10))
        self.assertEqual([row.id for row in kept], ["b"])
        clock.advance(29 * 86400)
        clock.advance(3600)
        kept = self.successResultOf(store.history(roomTarget("lobby"), 10))
        self.assertEqual(kept, [])


class ReplayCacheTests(SynchronousTestCase):
    def test_wordedOncePerRoomLanguageAndMinute(self) -> None:
        """
        Joiners of a room share one worded replay until a line is said there
        or the minute changes; another language gets its own.
        """
        from chatsvc.native import replay

        calls = []
        original = replay.wording.historyLines

        def counting(*args, **kwargs):
            calls.append(args[2])
            return original(*args, **kwargs)

        self.patch(replay.wording, "historyLines", counting)
        cache = replay.ReplayCache()
        who = events.Identity("Ala")
        recent = [events.Said(who, "lobby", "hi", id="a", time=1000.0)]
        # 1200 to 1259 is one minute, 1260 the next.
        first = cache.block("lobby", recent, "Bob", "en", 1200.0)
        self.assertEqual(cache.block("lobby", recent, "Ewa", "en", 1250.0), first)
        self.assertEqual(len(calls), 1)
        cache.block("lobby", recent, "Ewa", "pl", 1250.0)
        more = recent + [events.Said(who, "lobby", "more", id="b", time=1230.0)]
        cache.block("lobby", more, "Iga", "en", 1250.0)
        cache.block("lobby", recent, "Ola", "en", 1260.0)
        self.assertEqual(len(calls), 4)
        self.assertIn(b"Ala: hi", first)


class ReadYourWritesTests(HistoryTestCase):
    def test_historyHasWhatWasJustSaid(self) -> None:
        """
        /history sent right after a line, in the same read, finds that line:
        the query waits for the batch that holds it.
        """
        ala = self.connect("Ala")
        ala.send(b"fresh line\n/history 5\n")
        self.commitAll()
        lines = ala.lines()
        self.assertEqual(lines[0], "Ala: fresh line")
        self.assertEqual(lines[1], "Earlier in room lobby:")
        self.assertEqual(lines[-2][8:], "Ala: fresh line")
