"""
The contract every history store keeps, run against each implementation
(klein's C{MemorySessionStore} tests are the model: one mixin, verified
against the interface).
"""

from __future__ import annotations

import os
import sqlite3
import stat
import tempfile

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.defer import inlineCallbacks
from twisted.trial.unittest import SynchronousTestCase, TestCase
from zope.interface.verify import verifyObject

from chatsvc import events
from chatsvc.errors import StoreError
from chatsvc.interfaces import IStore
from chatsvc.store import sqlite
from chatsvc.store.memory import MemoryStore
from chatsvc.store.rows import Mark, Row, fromRow, privateTarget, roomTarget, toRows
from chatsvc.store.sqlite import SQLiteStore

OLA = events.Identity("Ola", "~ola", "192.0.2.7")


def said(text: str, time: float, id: str | None = None, room: str = "lobby") -> Row:
    event = events.Said(OLA, room, text, id=id or f"id{time}", time=time)
    return toRows(event, (room,))[0]


def whispered(sender: str, recipient: str, time: float) -> Row:
    event = events.Whispered(
        events.Identity(sender), recipient, "psst", id=f"w{sender}{time}", time=time
    )
    return toRows(event, ())[0]


class StoreContract:
    """
    The tests every store passes; a subclass says how to make one.
    """

    def makeStore(self) -> IStore:
        raise NotImplementedError()

    @inlineCallbacks
    def setUp(self):
        self.store = self.makeStore()
        yield self.store.open()
        self.addCleanup(self.store.close)

    def test_interface(self) -> None:
        """
        The store is a real IStore.
        """
        self.assertTrue(verifyObject(IStore, self.store))

    @inlineCallbacks
    def test_latestOldestFirst(self):
        """
        The latest rows of a target come back oldest first, at most the
        limit, and only that target's.
        """
        yield self.store.record([said(str(n), float(n)) for n in range(10)])
        yield self.store.record([said("elsewhere", 5.5, room="kitchen")])
        rows = yield self.store.history(roomTarget("lobby"), 3)
        self.assertEqual([fromRow(row).text for row in rows], ["7", "8", "9"])

    @inlineCallbacks
    def test_beforeAndAfter(self):
        """
        Before a time: the last ones before it; after a time: the first
        ones after it.
        """
        yield self.store.record([said(str(n), float(n)) for n in range(10)])
        before = yield self.store.history(roomTarget("lobby"), 2, before=5.0)
        after = yield self.store.history(roomTarget("lobby"), 2, after=5.0)
        self.assertEqual([row.time for row in before], [3.0, 4.0])
        self.assertEqual([row.time for row in after], [6.0, 7.0])

    @inlineCallbacks
    def test_sameTimeKeepsOrder(self):
        """
        Rows recorded at the same time come back in the order recorded.
        """
        yield self.store.record([said(str(n), 1.0, id=f"x{n}") for n in range(5)])
        rows = yield self.store.history(roomTarget("lobby"), 10)
        self.assertEqual([row.id for row in rows], [f"x{n}" for n in range(5)])

    @inlineCallbacks
    def test_eventsComeBackWhole(self):
        """
        An event read back is the event recorded, id, time and sender too.
        """
        event = events.Whispered(OLA, "Bob", "psst", action=True, id="w1", time=3.0)
        yield self.store.record(toRows(event, ()))
        [row] = yield self.store.history(privateTarget("bob", "OLA"), 5)
        back = fromRow(row)
        self.assertEqual((back, back.id, back.time, back.sender), (event, "w1", 3.0, OLA))

    @inlineCallbacks
    def test_latestPerRoom(self):
        """
        The last rows of every room, oldest first; private conversations are
        not among them.
        """
        yield self.store.record([said(str(n), float(n)) for n in range(6)])
        yield self.store.record([said("k", 2.5, room="kitchen")])
        whisper = events.Whispered(OLA, "Bob", "psst", id="w", time=3.0)
        yield self.store.record(toRows(whisper, ()))
        found = yield self.store.latest(2)
        self.assertEqual(
            {target: [row.time for row in rows] for target, rows in found.items()},
            {"#lobby": [4.0, 5.0], "#kitchen": [2.5]},
        )

    @inlineCallbacks
    def test_topics(self):
        """
        Topics are remembered by room, the last one set winning.
        """
        yield self.store.saveTopic("lobby", "Lobby", "one")
        yield self.store.saveTopic("lobby", "Lobby", "two")
        yield self.store.saveTopic("kuchnia", "kuchnia", "zupa")
        topics = yield self.store.topics()
        self.assertEqual(topics, {"lobby": ("Lobby", "two"), "kuchnia": ("kuchnia", "zupa")})

    @inlineCallbacks
    def test_accounts(self):
        """
        Accounts are kept by key, saving one again replaces it, and a
        dropped one is gone; dropping an unknown one does nothing.
        """
        yield self.store.saveAccount("ola", "Ola", "$argon2id$one", 1.5)
        yield self.store.saveAccount("łukasz", "Łukasz", "$argon2id$x", 2.0)
        yield self.store.saveAccount("ola", "OLA", "$argon2id$two", 1.5)
        yield self.store.dropAccount("łukasz")
        yield self.store.dropAccount("nobody")
        accounts = yield self.store.accounts()
        self.assertEqual(accounts, {"ola": ("OLA", "$argon2id$two", 1.5)})

    @inlineCallbacks
    def test_roomStates(self):
        """
        A room's state is kept as given, the last one saved winning, and
        forgotten when dropped.
        """
        yield self.store.saveRoomState("lobby", "Lobby", '{"modes": "n"}')
        yield self.store.saveRoomState("lobby", "Lobby", '{"modes": "nt"}')
        yield self.store.saveRoomState("kuchnia", "kuchnia", '{"owner": "Łukasz"}')
        yield self.store.dropRoomState("kuchnia")
        yield self.store.dropRoomState("nowhere")
        states = yield self.store.roomStates()
        self.assertEqual(states, {"lobby": ("Lobby", '{"modes": "nt"}')})

    @inlineCallbacks
    def test_roomStateApartFromTopic(self):
        """
        A room's state and its topic are kept apart: dropping the state
        keeps the topic, and a room with a state alone has no topic.
        """
        yield self.store.saveTopic("lobby", "Lobby", "hi")
        yield self.store.saveRoomState("lobby", "Lobby", "{}")
        yield self.store.saveRoomState("attic", "Attic", "{}")
        yield self.store.dropRoomState("lobby")
        topics = yield self.store.topics()
        states = yield self.store.roomStates()
        self.assertEqual(topics, {"lobby": ("Lobby", "hi")})
        self.assertEqual(states, {"attic": ("Attic", "{}")})

    @inlineCallbacks
    def test_expire(self):
        """
        Expiry removes what is older than a time, and the oldest beyond a
        cap per target.
        """
        yield self.store.record([said(str(n), float(n)) for n in range(10)])
        yield self.store.record([said("k", 9.0, room="kitchen")])
        removed = yield self.store.expire(3.0, 4)
        rows = yield self.store.history(roomTarget("lobby"), 100)
        self.assertEqual([row.time for row in rows], [6.0, 7.0, 8.0, 9.0])
        self.assertEqual(removed, 6)
        kitchen = yield self.store.history(roomTarget("kitchen"), 100)
        self.assertEqual(len(kitchen), 1)

    @inlineCallbacks
    def test_find(self):
        """
        A row is found by its id within its target, and only there.
        """
        yield self.store.record([said("one", 1.0, id="a1"), said("k", 2.0, "k1", room="kitchen")])
        row = yield self.store.find(roomTarget("lobby"), "a1")
        self.assertEqual((row.id, fromRow(row).text), ("a1", "one"))
        elsewhere = yield self.store.find(roomTarget("kitchen"), "a1")
        unknown = yield self.store.find(roomTarget("lobby"), "nope")
        self.assertEqual((elsewhere, unknown), (None, None))

    @inlineCallbacks
    def test_betweenTimes(self):
        """
        A time splits history: before it, what is older; after it, what is
        that old or newer; the newest or the oldest of what lies between.
        """
        yield self.store.record([said(str(n), float(n)) for n in range(10)])
        lobby = roomTarget("lobby")
        cases = [
            ({"before": Mark(5.0)}, [3.0, 4.0]),
            ({"after": Mark(5.0)}, [8.0, 9.0]),
            ({"after": Mark(5.0), "newest": False}, [5.0, 6.0]),
            ({"after": Mark(2.5), "before": Mark(7.0), "newest": False}, [3.0, 4.0]),
            ({"after": Mark(2.5), "before": Mark(7.0)}, [5.0, 6.0]),
            ({}, [8.0, 9.0]),
            ({"newest": False}, [0.0, 1.0]),
        ]
        for where, times in cases:
            rows = yield self.store.between(lobby, 2, **where)
            self.assertEqual([row.time for row in rows], times, where)
        nothing = yield self.store.between(lobby, 0)
        self.assertEqual(nothing, [])

    @inlineCallbacks
    def test_betweenRows(self):
        """
        A row is a place of its own, on neither side, even among rows of the
        same time, which keep the order they were recorded in.
        """
        yield self.store.record([said(str(n), 1.0, id=f"x{n}") for n in range(5)])
        yield self.store.record([said("later", 2.0, id="y")])
        lobby = roomTarget("lobby")
        before = yield self.store.between(lobby, 10, before=Mark(1.0, "x2"))
        after = yield self.store.between(lobby, 10, after=Mark(1.0, "x2"), newest=False)
        inside = yield self.store.between(lobby, 10, after=Mark(1.0, "x0"), before=Mark(2.0, "y"))
        self.assertEqual([row.id for row in before], ["x0", "x1"])
        self.assertEqual([row.id for row in after], ["x3", "x4", "y"])
        self.assertEqual([row.id for row in inside], ["x1", "x2", "x3", "x4"])
        unknown = yield self.store.between(lobby, 10, before=Mark(1.0, "gone"))
        self.assertEqual(unknown, [])

    @inlineCallbacks
    def test_betweenKinds(self):
        """
        Only the kinds asked for come back, and a row of another kind still
        marks a place.
        """
        join = events.Joined(OLA, "lobby", id="j", time=2.0)
        yield self.store.record([said("0", 1.0), *toRows(join, ("lobby",)), said("3", 3.0)])
        lobby = roomTarget("lobby")
        lines = yield self.store.between(lobby, 10, kinds=("said",))
        after = yield self.store.between(lobby, 10, after=Mark(2.0, "j"), kinds=("said",))
        self.assertEqual([row.time for row in lines], [1.0, 3.0])
        self.assertEqual([row.time for row in after], [3.0])

    @inlineCallbacks
    def test_conversations(self):
        """
        The rooms asked about and the private conversations one nickname
        took part in, each by its latest line in the window, oldest first.
        """
        yield self.store.record(
            [
                said("a", 1.0),
                said("b", 4.0),
                said("late", 9.0),
                said("k", 2.0, room="kitchen"),
                said("elsewhere", 3.0, room="attic"),
                whispered("Ola", "Ewa", 3.0),
                whispered("Bob", "Ola", 5.0),
                whispered("Bob", "Ewa", 6.0),
                # "_" is a LIKE wildcard: o_a is not ola.
                whispered("o_a", "Iga", 6.5),
            ]
        )
        rooms = [roomTarget("lobby"), roomTarget("kitchen")]
        found = yield self.store.conversations("ola", rooms, 1.5, 8.0, 10)
        self.assertEqual(
            [(row.target, row.time) for row in found],
            [("#kitchen", 2.0), ("@ewa/ola", 3.0), ("#lobby", 4.0), ("@bob/ola", 5.0)],
        )
        newest = yield self.store.conversations("ola", rooms, 1.5, 8.0, 2, newest=True)
        earliest = yield self.store.conversations("ola", rooms, 1.5, 8.0, 2)
        self.assertEqual([row.time for row in newest], [4.0, 5.0])
        self.assertEqual([row.time for row in earliest], [2.0, 3.0])
        wild = yield self.store.conversations("o_a", [], 0.0, 10.0, 10)
        self.assertEqual([row.target for row in wild], ["@iga/o_a"])
        self.assertEqual((yield self.store.conversations("iga", [], 0.0, 6.5, 10)), [])


class MemoryStoreTests(StoreContract, TestCase):
    def makeStore(self) -> IStore:
        return MemoryStore()

    @inlineCallbacks
    def test_boundedTargets(self):
        """
        Past its number of rooms and conversations, the memory store forgets
        the one least recently written.
        """
        store = MemoryStore(maxTargets=3)
        for room in ["a", "b", "c"]:
            yield store.record([said(room, 1.0, room=room)])
        yield store.record([said("again", 2.0, room="a")])
        yield store.record([said("new", 3.0, room="d")])
        kept = {}
        for room in ["a", "b", "c", "d"]:
            rows = yield store.history(roomTarget(room), 10)
            kept[room] = [fromRow(row).text for row in rows]
        self.assertEqual(kept, {"a": ["a", "again"], "b": [], "c": ["c"], "d": ["new"]})


class SQLiteStoreTests(StoreContract, TestCase):
    def makeStore(self) -> IStore:
        self.path = os.path.join(tempfile.mkdtemp(dir="."), "history.sqlite3")
        return SQLiteStore(self.path)

    @inlineCallbacks
    def test_survivesReopening(self):
        """
        What was recorded is there when the file is opened again.
        """
        yield self.store.record([said("kept", 1.0)])
        yield self.store.close()
        again = SQLiteStore(self.path)
        yield again.open()
        self.addCleanup(again.close)
        rows = yield again.history(roomTarget("lobby"), 5)
        self.assertEqual([fromRow(row).text for row in rows], ["kept"])

    @inlineCallbacks
    def test_accountsAndStatesSurviveReopening(self):
        """
        Accounts and rooms' states are there when the file is opened again.
        """
        yield self.store.saveAccount("ola", "Ola", "$argon2id$h", 1.5)
        yield self.store.saveRoomState("lobby", "Lobby", "{}")
        yield self.store.close()
        again = SQLiteStore(self.path)
        yield again.open()
        self.addCleanup(again.close)
        accounts = yield again.accounts()
        states = yield again.roomStates()
        self.assertEqual(
            (accounts, states), ({"ola": ("Ola", "$argon2id$h", 1.5)}, {"lobby": ("Lobby", "{}")})
        )

    @inlineCallbacks
    def test_upgradesAnOlderFile(self):
        """
        A file made before accounts and rooms' states were kept opens with
        its topics and history, and keeps both from then on.
        """
        path = os.path.join(tempfile.mkdtemp(dir="."), "old.sqlite3")
        old = sqlite3.connect(path)
        old.execute(
            "CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL,"
            " time REAL NOT NULL, target TEXT NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL)"
        )
        old.execute("CREATE TABLE rooms (key TEXT PRIMARY KEY, name TEXT NOT NULL, topic TEXT NOT NULL)")
        old.execute("INSERT INTO rooms VALUES ('lobby', 'Lobby', 'old topic')")
        old.commit()
        old.close()
        store = SQLiteStore(path)
        yield store.open()
        self.addCleanup(store.close)
        yield store.saveAccount("ola", "Ola", "$argon2id$h", 1.5)
        yield store.saveRoomState("lobby", "Lobby", "{}")
        topics = yield store.topics()
        accounts = yield store.accounts()
        self.assertEqual(topics, {"lobby": ("Lobby", "old topic")})
        self.assertEqual(list(accounts), ["ola"])

    @inlineCallbacks
    def test_lockedFailsClearly(self):
        """
        Saving an account while another process holds the file locked fails
        with a one-line StoreError saying so.
        """
        yield self.store.close()
        self.patch(sqlite, "BUSY_TIMEOUT", 0.1)
        store = SQLiteStore(self.path)
        yield store.open()
        self.addCleanup(store.close)
        holder = sqlite3.connect(self.path, isolation_level=None)
        self.addCleanup(holder.close)
        holder.execute("BEGIN EXCLUSIVE")
        error = yield self.assertFailure(store.saveAccount("ola", "Ola", "h", 1.0), StoreError)
        self.assertIn("locked", error.reason)
        self.assertNotIn("\n", error.reason)


class StartUpCheckTests(SynchronousTestCase):
    def path(self) -> str:
        return os.path.join(tempfile.mkdtemp(dir="."), "history.sqlite3")

    def test_fresh(self) -> None:
        """
        A new file is made, with its schema, in WAL mode.
        """
        path = self.path()
        sqlite.check(path)
        connection = sqlite3.connect(path)
        self.addCleanup(connection.close)
        self.assertEqual(connection.execute("PRAGMA journal_mode").fetchone()[0], "wal")

    def test_notADatabase(self) -> None:
        """
        A file that is not a database is refused, in one line.
        """
        path = self.path()
        with open(path, "wb") as file:
            file.write(b"this is not a database, just some text\n" * 100)
        error = self.assertRaises(StoreError, sqlite.check, path)
        self.assertIn("not a database", error.reason)
        self.assertNotIn("\n", error.reason)

    def test_lockedByAnotherProcess(self) -> None:
        """
        A file another process holds an exclusive lock on is refused.
        """
        path = self.path()
        sqlite.check(path)
        holder = sqlite3.connect(path, isolation_level=None)
        self.addCleanup(holder.close)
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        self.patch(sqlite, "BUSY_TIMEOUT", 0.1)
        error = self.assertRaises(StoreError, sqlite.check, path)
        self.assertIn("locked", error.reason)

    def test_unwritableDirectory(self) -> None:
        """
        A file that cannot be made is refused, in one line.
        """
        directory = tempfile.mkdtemp(dir=".")
        os.chmod(directory, stat.S_IRUSR | stat.S_IXUSR)
        self.addCleanup(os.chmod, directory, stat.S_IRWXU)
        if os.geteuid() == 0:
            # root writes anywhere: a path under a file stands in.
            blocker = os.path.join(directory, "file")
            os.chmod(directory, stat.S_IRWXU)
            open(blocker, "w").close()
            path = os.path.join(blocker, "history.sqlite3")
        else:
            path = os.path.join(directory, "history.sqlite3")
        error = self.assertRaises(StoreError, sqlite.check, path)
        self.assertIn("unable to open", error.reason)


class RowTests(SynchronousTestCase):
    @given(st.text(max_size=50), st.floats(0, 2e9), st.sampled_from(["lobby", "Kuchnia"]))
    def test_roundTrip(self, text, time, room) -> None:
        """
        Any line said anywhere comes back from its row as it was.
        """
        event = events.Said(OLA, room, text, id="a1", time=time)
        [row] = toRows(event, (room,))
        back = fromRow(row)
        self.assertEqual((back, back.id, back.time), (event, "a1", time))

    def test_leaveKeptPerRoom(self) -> None:
        """
        A leave heard in two rooms is kept in each; a crowd summary and a
        welcome are not kept.
        """
        rows = toRows(events.Left(OLA, "bye", id="l1", time=1.0), ("lobby", "Kuchnia"))
        self.assertEqual([row.target for row in rows], ["#lobby", "#kuchnia"])
        self.assertEqual(toRows(events.Crowd("lobby", ("a",), ()), ("lobby",)), [])
        self.assertEqual(toRows(events.Welcome("Ola", "lobby"), ()), [])

    def test_privateTargetIsSymmetric(self) -> None:
        """
        Both ends of a private conversation name the same history.
        """
        self.assertEqual(privateTarget("Ola", "bob"), privateTarget("BOB", "ola"))

