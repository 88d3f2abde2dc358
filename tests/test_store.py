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
from chatsvc.store.rows import Row, fromRow, privateTarget, roomTarget, toRows
from chatsvc.store.sqlite import SQLiteStore

OLA = events.Identity("Ola", "~ola", "192.0.2.7")


def said(text: str, time: float, id: str | None = None, room: str = "lobby") -> Row:
    event = events.Said(OLA, room, text, id=id or f"id{time}", time=time)
    return toRows(event, (room,))[0]


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


class MemoryStoreTests(StoreContract, TestCase):
    def makeStore(self) -> IStore:
        return MemoryStore()


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
