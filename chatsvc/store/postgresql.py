"""
History, rooms and accounts in PostgreSQL, shared by every node of a chat
that runs on several (C{--store postgresql://user@host:port/dbname}).

As Synapse runs it: psycopg2 through L{twisted.enterprise.adbapi}, a pool
of a few connections, each on a thread of its own off the reactor.  The
schema is the SQLite store's, made by whichever connection finds it
missing; the rows are L{chatsvc.store.rows}' as they are, ids as text and
times as the same doubles.

Isolation is PostgreSQL's default, read committed, and not Synapse's
repeatable read: every transaction here is one statement but expiry's, so
there is nothing a stricter level would protect, and upserts of the same
key by two nodes at once then never fail to serialize, so nothing has to
be retried for them.  What is retried, at once and on another connection,
is a transaction whose connection PostgreSQL had closed (a restart, a
failover): it cannot have committed, and the first transaction on each
connection after a restart would otherwise fail for nothing.  Anything
else fails with a one-line L{StoreError}, which history and the service
handle as they do SQLite's: the chat goes on, saving resumes when
PostgreSQL is back.  (A commit whose answer was lost is not retried: it
may have committed.)

Writes of the same key must land in the order they were made, which a
pool of connections does not promise: topics, accounts and rooms' states
are saved one after another (L{_ordered}); history keeps one batch in
flight at a time already.
"""

from __future__ import annotations

import re

import psycopg2
import psycopg2.extensions
from psycopg2.extras import execute_values
from twisted.enterprise import adbapi
from twisted.internet.defer import Deferred, DeferredLock, succeed
from zope.interface import implementer

from chatsvc.errors import StoreError
from chatsvc.interfaces import IStore
from chatsvc.store.rows import Row
from chatsvc.store.sql import SQLReads, pyformat

SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS events (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text NOT NULL,
        time double precision NOT NULL,
        target text NOT NULL,
        kind text NOT NULL,
        data text NOT NULL
    )
    """,
    # seq in the index too: rows of one target are read by (time, seq).
    "CREATE INDEX IF NOT EXISTS events_by_target ON events (target, time, seq)",
    "CREATE INDEX IF NOT EXISTS events_by_time ON events (time)",
    # IRC clients name a place in history by a message's id (CHATHISTORY).
    "CREATE INDEX IF NOT EXISTS events_by_id ON events (id)",
    """
    CREATE TABLE IF NOT EXISTS rooms (
        key text PRIMARY KEY,
        name text NOT NULL,
        topic text NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS room_states (
        key text PRIMARY KEY,
        name text NOT NULL,
        state text NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS accounts (
        key text PRIMARY KEY,
        name text NOT NULL,
        hash text NOT NULL,
        created double precision NOT NULL
    )
    """,
)
# What SCHEMA makes, to tell whether it is all there.
SCHEMA_NAMES = (
    "events", "events_by_target", "events_by_time", "events_by_id", "rooms", "room_states",
    "accounts",
)

# Advisory lock keys (any bigint; these spell "chatschm" and "chatexpi").
SCHEMA_LOCK = 0x63686174_7363686D
EXPIRY_LOCK = 0x63686174_65787069

# Connections to PostgreSQL at most, each on a thread of its own.
POOL_SIZE = 4

# Rows inserted by one statement.
ROWS_PER_INSERT = 1000

# Seconds a statement may take before PostgreSQL cancels it: a table locked
# by hand, say, fails history as a locked SQLite file does, and the chat
# goes on, rather than holding every line for the durability gate.
STATEMENT_TIMEOUT = 10.0
# Expiry, hourly and off the path of any message, may take longer.
EXPIRY_TIMEOUT = 600.0

# Connection parameters unless the DSN gives its own: a host that does not
# answer fails in seconds, not minutes; the server's activity view names us.
DEFAULTS = {"connect_timeout": "5", "application_name": "chatsvc"}

# PostgreSQL's text holds any character but NUL; a topic may hold one.
_NUL = str.maketrans({"\x00": "\u2400"})
# libpq's preamble to why a connection failed, and the severity of a report.
_PREAMBLE = re.compile(r'^connection to server (at|on) ".*?"(, port \d+)? failed: ')
_SEVERITY = re.compile(r"^(FATAL|ERROR|PANIC):\s+")


def describe(dsn: str) -> str:
    """
    Where C{dsn} points, for messages: C{user@host:port/dbname}, never its
    password.

    @raise StoreError: C{dsn} is not one libpq takes.
    """
    try:
        parts = psycopg2.extensions.parse_dsn(dsn)
    except psycopg2.Error as error:
        raise StoreError(f"not a PostgreSQL URI: {_reason(error, parts=None)}") from None
    host = parts.get("host") or "localhost"
    if ":" in host and not host.startswith("/"):
        host = f"[{host}]"
    if "port" in parts:
        host += f":{parts['port']}"
    user = parts.get("user")
    return f"{user + '@' if user else ''}{host}/{parts.get('dbname', '')}"


def _reason(error: Exception, parts: dict[str, str] | None) -> str:
    """
    The first line of what C{error} says, without libpq's preamble, and
    without the password of C{parts} (the DSN's) should it appear.
    """
    lines = str(error).strip().splitlines() or [type(error).__name__]
    reason = _SEVERITY.sub("", _PREAMBLE.sub("", lines[0].strip()))
    if reason[:2].istitle():
        reason = reason[0].lower() + reason[1:]
    password = (parts or {}).get("password")
    return reason.replace(password, "***") if password else reason


def _prepare(connection) -> None:
    """
    Ready a new connection: its session, and the schema if any of it is
    missing, made under a lock so that nodes starting together do not race
    to make the same tables (PostgreSQL's C{IF NOT EXISTS} does not stop
    that).  The common case, a schema already there, takes no lock on the
    tables.
    """
    try:
        connection.set_session(isolation_level="READ COMMITTED", autocommit=False)
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = %s", (int(STATEMENT_TIMEOUT * 1000),))
            cursor.execute(
                "SELECT " + ", ".join(["to_regclass(%s) IS NOT NULL"] * len(SCHEMA_NAMES)),
                SCHEMA_NAMES,
            )
            if not all(cursor.fetchone()):
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                for statement in SCHEMA:
                    cursor.execute(statement)
        connection.commit()
    except BaseException:
        # adbapi keeps only a connection that was readied.
        connection.close()
        raise


class _Connection(adbapi.Connection):
    """
    adbapi's pooled connection, letting go quietly of one PostgreSQL closed.

    With C{cp_reconnect}, adbapi's own drops such a connection too, so that
    the next transaction on its thread connects anew, but logs a traceback
    twice for each: every restart of PostgreSQL would leave a few in the
    log, for what history already reports in one line.
    """

    def rollback(self) -> None:
        try:
            self._connection.rollback()
        except psycopg2.Error:
            self._pool.disconnect(self._connection)


class _Lost(Exception):
    """
    The connection was closed under a transaction, which did not commit.
    """


@implementer(IStore)
class PostgreSQLStore(SQLReads):
    """
    History in the PostgreSQL database C{dsn} names (a C{postgresql://}
    URI or libpq's C{key=value} words), through at most C{connections}
    connections.

    @ivar where: the database, for messages, without the DSN's password.
    @raise StoreError: C{dsn} is not one libpq takes.
    """

    durable = True

    def __init__(self, dsn: str, reactor=None, connections: int = POOL_SIZE) -> None:
        self.where = describe(dsn)
        self._dsn = dsn
        self._parts = psycopg2.extensions.parse_dsn(dsn)
        self._reactor = reactor
        self._connections = connections
        self._pool: adbapi.ConnectionPool | None = None
        self._saving = DeferredLock()

    def open(self) -> Deferred[None]:
        if self._pool is None:
            kwargs = {} if self._reactor is None else {"cp_reactor": self._reactor}
            self._pool = adbapi.ConnectionPool(
                "psycopg2",
                self._dsn,
                cp_min=1,
                cp_max=self._connections,
                cp_noisy=False,
                # A connection whose cursor cannot be made is made anew.
                cp_reconnect=True,
                cp_openfun=_prepare,
                **{key: value for key, value in DEFAULTS.items() if key not in self._parts},
                **kwargs,
            )
            self._pool.connectionFactory = _Connection
        return self._run(lambda cursor: None)

    def close(self) -> Deferred[None]:
        def closed(_: None) -> None:
            pool, self._pool = self._pool, None
            if pool is not None:
                pool.close()

        # Saves still waiting their turn go first.
        return self._saving.run(succeed, None).addCallback(closed)

    def _run(self, work, *args, lost: int = 0) -> Deferred:
        """
        C{work(cursor, *args)} in a transaction on one of the pool's
        threads; again at once if PostgreSQL had closed the connection it
        ran on, which is then dropped (after a restart, every connection of
        the pool may turn out closed, one after another: C{lost} of them
        have); any error fails the Deferred with a one-line L{StoreError}.
        """
        # Whether a connection was had at all: else PostgreSQL could not be
        # reached.  Written on the pool's thread before the Deferred fires.
        connected: list[bool] = []

        def transaction(cursor):
            connected.append(True)
            try:
                return work(cursor, *args)
            except psycopg2.Error as error:
                if cursor.connection.closed:
                    raise _Lost() from error
                raise

        def failed(failure):
            failure.trap(psycopg2.Error, _Lost)
            if failure.check(_Lost):
                if lost < self._connections:
                    return self._run(work, *args, lost=lost + 1)
                error = failure.value.__cause__
            else:
                error = failure.value
            reason = _reason(error, self._parts)
            if not connected:
                raise StoreError(f"cannot connect to PostgreSQL at {self.where}: {reason}")
            raise StoreError(f"PostgreSQL at {self.where}: {reason}")

        return self._pool.runInteraction(transaction).addErrback(failed)

    def _sql(self, query: str) -> str:
        return pyformat(query)

    def _ordered(self, statement: str, parameters: tuple) -> Deferred[None]:
        """
        One statement that returns nothing, in a transaction of its own,
        after every one made through here before it has finished.
        """

        def execute(cursor) -> None:
            cursor.execute(statement, parameters)

        return self._saving.run(self._run, execute).addCallback(lambda _: None)

    def record(self, rows: list[Row]) -> Deferred[None]:
        def insert(cursor) -> None:
            # JSON made here, on the pool's thread, and sent in statements
            # of ROWS_PER_INSERT rows rather than one a row.
            execute_values(
                cursor,
                "INSERT INTO events (id, time, target, kind, data) VALUES %s",
                [(row.id, row.time, row.target, row.kind, row.data) for row in rows],
                page_size=ROWS_PER_INSERT,
            )

        return self._run(insert)

    def saveTopic(self, key: str, room: str, topic: str) -> Deferred[None]:
        return self._ordered(
            "INSERT INTO rooms (key, name, topic) VALUES (%s, %s, %s) "
            "ON CONFLICT (key) DO UPDATE SET name = excluded.name, topic = excluded.topic",
            (key, room, topic.translate(_NUL)),
        )

    def saveAccount(self, key: str, name: str, hash: str, created: float) -> Deferred[None]:
        return self._ordered(
            "INSERT INTO accounts (key, name, hash, created) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (key) DO UPDATE SET"
            " name = excluded.name, hash = excluded.hash, created = excluded.created",
            (key, name, hash, created),
        )

    def dropAccount(self, key: str) -> Deferred[None]:
        return self._ordered("DELETE FROM accounts WHERE key = %s", (key,))

    def saveRoomState(self, key: str, name: str, state: str) -> Deferred[None]:
        return self._ordered(
            "INSERT INTO room_states (key, name, state) VALUES (%s, %s, %s) "
            "ON CONFLICT (key) DO UPDATE SET name = excluded.name, state = excluded.state",
            (key, name, state),
        )

    def dropRoomState(self, key: str) -> Deferred[None]:
        return self._ordered("DELETE FROM room_states WHERE key = %s", (key,))

    def expire(self, olderThan: float, perTarget: int) -> Deferred[int]:
        def delete(cursor) -> int:
            # One node at a time: another expiring the same history now
            # leaves this one nothing to do.
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", (EXPIRY_LOCK,))
            if not cursor.fetchone()[0]:
                return 0
            cursor.execute("SET LOCAL statement_timeout = %s", (int(EXPIRY_TIMEOUT * 1000),))
            cursor.execute("DELETE FROM events WHERE time < %s", (olderThan,))
            removed = cursor.rowcount
            cursor.execute(
                "SELECT target FROM events GROUP BY target HAVING count(*) > %s", (perTarget,)
            )
            for (target,) in cursor.fetchall():
                cursor.execute(
                    "DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE target = %s"
                    " ORDER BY seq DESC OFFSET %s)",
                    (target, perTarget),
                )
                removed += cursor.rowcount
            return removed

        return self._run(delete)
