"""
The PostgreSQL store: the contract every store keeps, what sharing one
database between nodes asks of it, and a chat server that goes on while
PostgreSQL is down.

The store's tests use the server C{CHATSVC_TEST_POSTGRESQL} names (a
C{postgresql://} URI of a role that may create databases; C{.ci/postgresql
start} prints one), each test a database of its own.  The outage tests
start a throwaway server of their own with C{.ci/postgresql}, to stop and
start at will.  Without either, these tests are skipped, but fail under CI
(C{CI} set), which must run them.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import threading
from pathlib import Path
from urllib.parse import urlsplit

from twisted.internet.defer import gatherResults, inlineCallbacks
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SkipTest, SynchronousTestCase, TestCase

from chatsvc.errors import StoreError
from chatsvc.interfaces import IStore
from chatsvc.store.rows import fromRow, roomTarget
from chatsvc.tap import Options, makeService
from tests.harness import LineClient, ServerProcess
from tests.test_store import StoreContract, said

try:
    import psycopg2
except ImportError:
    psycopg2 = None
else:
    from chatsvc.store import postgresql
    from chatsvc.store.postgresql import PostgreSQLStore, describe

SCRIPT = Path(__file__).resolve().parent.parent / ".ci" / "postgresql"


def unavailable(testCase: SynchronousTestCase, why: str) -> None:
    """
    Skip C{testCase} for C{why}; under CI, fail it.
    """
    if os.environ.get("CI"):
        testCase.fail(f"CI must run the PostgreSQL tests, but {why}")
    raise SkipTest(why)


def adminDSN(testCase: SynchronousTestCase) -> str:
    """
    The URI of the PostgreSQL server the tests may create databases on.
    """
    if psycopg2 is None:
        unavailable(testCase, "psycopg2 is not installed (pip install '.[postgresql]')")
    dsn = os.environ.get("CHATSVC_TEST_POSTGRESQL")
    if not dsn:
        unavailable(
            testCase,
            "CHATSVC_TEST_POSTGRESQL is not set (.ci/postgresql start prints a URI for it)",
        )
    return dsn


def withDatabase(uri: str, name: str) -> str:
    return urlsplit(uri)._replace(path="/" + name).geturl()


def freshDatabase(testCase: SynchronousTestCase) -> str:
    """
    The URI of a new, empty database, dropped when C{testCase} is done.
    """
    admin = adminDSN(testCase)
    name = "chatsvc_test_" + secrets.token_hex(6)

    def run(statement: str) -> None:
        connection = psycopg2.connect(admin)
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(statement)
        finally:
            connection.close()

    run(f"CREATE DATABASE {name}")
    # WITH (FORCE): a connection a failed test left open does not keep it.
    testCase.addCleanup(run, f"DROP DATABASE {name} WITH (FORCE)")
    return withDatabase(admin, name)


def refusingPort(testCase: SynchronousTestCase) -> int:
    """
    A loopback port bound but not listening, so that connecting is refused,
    for as long as C{testCase} runs.
    """
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    testCase.addCleanup(sock.close)
    return sock.getsockname()[1]


class PostgreSQLStoreTests(StoreContract, TestCase):
    def makeStore(self) -> IStore:
        self.dsn = freshDatabase(self)
        return PostgreSQLStore(self.dsn)

    def another(self) -> PostgreSQLStore:
        """
        A second store on the same database, as another node has.
        """
        store = PostgreSQLStore(self.dsn)
        self.addCleanup(store.close)
        return store

    @inlineCallbacks
    def test_sharedByNodes(self):
        """
        Two stores on one database, as two nodes have, see what the other
        wrote: history, accounts, rooms' states and topics.
        """
        other = self.another()
        yield other.open()
        yield self.store.record([said("from one", 1.0)])
        yield other.record([said("from two", 2.0)])
        yield other.saveAccount("ola", "Ola", "$argon2id$h", 1.5)
        yield other.saveRoomState("lobby", "Lobby", "{}")
        yield other.saveTopic("lobby", "Lobby", "hi")
        rows = yield self.store.history(roomTarget("lobby"), 10)
        self.assertEqual([fromRow(row).text for row in rows], ["from one", "from two"])
        self.assertEqual((yield self.store.accounts()), {"ola": ("Ola", "$argon2id$h", 1.5)})
        self.assertEqual((yield self.store.roomStates()), {"lobby": ("Lobby", "{}")})
        self.assertEqual((yield self.store.topics()), {"lobby": ("Lobby", "hi")})

    @inlineCallbacks
    def test_nodesStartingTogether(self):
        """
        Several nodes opening a database without a schema at once all open
        it: one makes the schema, the others wait for it.
        """
        dsn = freshDatabase(self)
        stores = [PostgreSQLStore(dsn) for _ in range(6)]
        for store in stores:
            self.addCleanup(store.close)
        yield gatherResults([store.open() for store in stores])
        yield stores[0].saveAccount("ola", "Ola", "h", 1.0)
        self.assertEqual(list((yield stores[-1].accounts())), ["ola"])

    @inlineCallbacks
    def test_savesKeepTheirOrder(self):
        """
        Saves of one key made without waiting land in the order made, though
        the store has several connections.
        """
        saved = [self.store.saveTopic("lobby", "Lobby", str(n)) for n in range(30)]
        saved += [self.store.saveRoomState("lobby", "Lobby", str(n)) for n in range(30)]
        saved.append(self.store.dropRoomState("lobby"))
        yield gatherResults(saved)
        self.assertEqual((yield self.store.topics()), {"lobby": ("Lobby", "29")})
        self.assertEqual((yield self.store.roomStates()), {})

    @inlineCallbacks
    def test_topicWithNul(self):
        """
        A topic holding a NUL, which PostgreSQL's text cannot, is kept with
        it shown as the native front-end shows it, U+2400.
        """
        yield self.store.saveTopic("lobby", "Lobby", "a\x00b")
        self.assertEqual((yield self.store.topics()), {"lobby": ("Lobby", "a\u2400b")})

    @inlineCallbacks
    def test_connectionClosedByServer(self):
        """
        A connection PostgreSQL closed (as a restart does) costs nothing: the
        next transaction runs on a new one.
        """
        yield self.store.record([said("before", 1.0)])
        admin = psycopg2.connect(adminDSN(self))
        self.addCleanup(admin.close)
        with admin.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (urlsplit(self.dsn).path[1:],),
            )
            self.assertTrue(all(done for (done,) in cursor.fetchall()))
        admin.commit()
        yield self.store.record([said("after", 2.0)])
        rows = yield self.store.history(roomTarget("lobby"), 10)
        self.assertEqual([fromRow(row).text for row in rows], ["before", "after"])

    @inlineCallbacks
    def test_lockedFailsClearly(self):
        """
        Saving an account while another session holds its table locked
        fails, after the statement timeout, with a one-line StoreError.
        """
        yield self.store.close()
        self.patch(postgresql, "STATEMENT_TIMEOUT", 0.2)
        store = self.another()
        yield store.open()
        holder = psycopg2.connect(self.dsn)
        self.addCleanup(holder.close)
        with holder.cursor() as cursor:
            cursor.execute("LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE")
        error = yield self.assertFailure(store.saveAccount("ola", "Ola", "h", 1.0), StoreError)
        self.assertIn("statement timeout", error.reason)
        self.assertNotIn("\n", error.reason)

    @inlineCallbacks
    def test_unreachable(self):
        """
        A server that refuses connections fails opening in one line that
        says where and why, without the DSN's password.
        """
        port = refusingPort(self)
        store = PostgreSQLStore(f"postgresql://ola:sekret@127.0.0.1:{port}/chat")
        self.addCleanup(store.close)
        error = yield self.assertFailure(store.open(), StoreError)
        self.assertEqual(
            error.reason,
            f"cannot connect to PostgreSQL at ola@127.0.0.1:{port}/chat: connection refused",
        )

    @inlineCallbacks
    def test_noSuchDatabase(self):
        """
        A database that is not there fails opening in one line naming it.
        """
        store = PostgreSQLStore(withDatabase(adminDSN(self), "chatsvc_nowhere"))
        self.addCleanup(store.close)
        error = yield self.assertFailure(store.open(), StoreError)
        self.assertIn('database "chatsvc_nowhere" does not exist', error.reason)
        self.assertNotIn("\n", error.reason)


class DescribeTests(SynchronousTestCase):
    def setUp(self) -> None:
        if psycopg2 is None:
            unavailable(self, "psycopg2 is not installed (pip install '.[postgresql]')")

    def test_withoutPassword(self) -> None:
        """
        A DSN is described by its user, host, port and database, never its
        password.
        """
        self.assertEqual(describe("postgresql://ola:sekret@db:6543/chat"), "ola@db:6543/chat")
        self.assertEqual(describe("postgres://[::1]/chat"), "[::1]/chat")
        self.assertEqual(describe("postgresql:///chat?host=/run/pg"), "/run/pg/chat")

    def test_notAURI(self) -> None:
        """
        What libpq cannot read is refused in one line.
        """
        error = self.assertRaises(StoreError, describe, "postgresql://db/chat?colour=red")
        self.assertEqual(
            error.reason, 'not a PostgreSQL URI: invalid dsn: invalid URI query parameter: "colour"'
        )


class OptionTests(SynchronousTestCase):
    def setUp(self) -> None:
        if psycopg2 is None:
            unavailable(self, "psycopg2 is not installed (pip install '.[postgresql]')")

    def service(self, uri: str):
        options = Options()
        options.parseOptions(["--store", uri])
        return makeService(options, MemoryReactorClock())

    def test_store(self) -> None:
        """
        --store postgresql://... keeps everything in PostgreSQL, without
        reaching it yet: that is for the running service.
        """
        service = self.service("postgresql://ola:sekret@127.0.0.1:1/chat")
        self.assertIsInstance(service.history.store, PostgreSQLStore)
        self.assertEqual(service.history.store.where, "ola@127.0.0.1:1/chat")

    def test_notAURI(self) -> None:
        """
        A URI libpq cannot read stops the server with one line.
        """
        error = self.assertRaises(SystemExit, self.service, "postgres://db/chat?colour=red")
        self.assertEqual(
            str(error),
            'chatsvc: cannot keep history: not a PostgreSQL URI: invalid dsn:'
            ' invalid URI query parameter: "colour"',
        )


class ThrowawayServer:
    """
    A PostgreSQL server of a test's own, made by C{.ci/postgresql}, that
    it may stop and start again (on the same port, with the same data).
    """

    def __init__(self, testCase: SynchronousTestCase) -> None:
        if subprocess.run([SCRIPT, "available"], check=False).returncode != 0:
            unavailable(testCase, "there is no PostgreSQL to run (install Debian's postgresql)")
        self.directory = None
        self.start()
        testCase.addCleanup(self._run, "stop", self.directory)

    def _run(self, *arguments: str) -> str:
        return subprocess.run(
            [SCRIPT, *arguments], check=True, capture_output=True, text=True, timeout=60
        ).stdout

    def start(self) -> None:
        self.directory, self.dsn = self._run("start", *filter(None, [self.directory])).split()

    def halt(self) -> None:
        self._run("halt", self.directory)


class OutageTests(SynchronousTestCase):
    def test_chatGoesOnAndSavingResumes(self) -> None:
        """
        While PostgreSQL is down the chat goes on and everyone hears so;
        once it is back what was said meanwhile is saved.
        """
        postgres = ThrowawayServer(self)
        server = ServerProcess("--store", postgres.dsn)
        server.start(self.mktemp())
        self.addCleanup(server.stop)
        ala, bob = LineClient(server.port), LineClient(server.port)
        ala.register("Ala")
        bob.register("Bob")
        ala.sendLine("before")
        bob.readUntil("Ala: before")
        postgres.halt()
        ala.sendLine("during")
        bob.readUntil("Ala: during")
        bob.readUntil(
            "The server cannot save history just now; the chat goes on, "
            "but what is said may not be kept."
        )
        postgres.start()
        # History tries again every 5 seconds.
        bob.readUntil("The server saves history again.")
        connection = psycopg2.connect(postgres.dsn)
        self.addCleanup(connection.close)
        with connection.cursor() as cursor:
            cursor.execute("SELECT data FROM events WHERE kind = 'said' ORDER BY seq")
            texts = [json.loads(data)["text"] for (data,) in cursor.fetchall()]
        self.assertEqual(texts, ["before", "during"])
        self.assertIn(
            b"history is not being saved: cannot connect to PostgreSQL at postgres@127.0.0.1:",
            server.output,
        )
        self.assertNotIn(b"Traceback", server.output)

    def test_startingWhileDown(self) -> None:
        """
        A server started while PostgreSQL is down says why and keeps trying;
        once PostgreSQL is up, it listens.
        """
        postgres = ThrowawayServer(self)
        postgres.halt()
        server = ServerProcess("--store", postgres.dsn)
        self.addCleanup(server.stop)
        # The server tries again 5 seconds after failing, well within the
        # time it is given to listen.
        threading.Timer(1.0, postgres.start).start()
        server.start(self.mktemp())
        port = urlsplit(postgres.dsn).port
        self.assertIn(
            b"cannot load what the store keeps (cannot connect to PostgreSQL at "
            b"postgres@127.0.0.1:%d/postgres: connection refused); nobody may connect until"
            b" it can be read: trying again in 5.0 seconds" % port,
            server.output,
        )
        ala = LineClient(server.port)
        ala.register("Ala")
        self.assertNotIn(b"Traceback", server.output)
