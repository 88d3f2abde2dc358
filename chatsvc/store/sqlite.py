"""
History in SQLite, the embedded default: one file, one connection, WAL; with
rooms' topics and states and the accounts, in tables of their own.

As Synapse runs it: through L{twisted.enterprise.adbapi} with a pool of one
connection, so every query runs in order on one thread off the reactor;
the journal in WAL mode, so readers never wait for the writer.

Durability: C{synchronous=NORMAL} in WAL mode.  A transaction is in the
WAL file, in the operating system's hands, when its commit returns, so a
server killed with SIGKILL loses nothing it committed; a power cut or a
kernel crash may lose the transactions since the last checkpoint's sync
(at most the last second or so of chat), but never corrupts the file.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from twisted.enterprise import adbapi
from twisted.internet.defer import Deferred, succeed
from zope.interface import implementer

from chatsvc.errors import StoreError
from chatsvc.interfaces import IStore
from chatsvc.store.rows import Row
from chatsvc.store.sql import SQLReads

SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS events (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL,
        time REAL NOT NULL,
        target TEXT NOT NULL,
        kind TEXT NOT NULL,
        data TEXT NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS events_by_target ON events (target, time)",
    "CREATE INDEX IF NOT EXISTS events_by_time ON events (time)",
    # IRC clients name a place in history by a message's id (CHATHISTORY).
    "CREATE INDEX IF NOT EXISTS events_by_id ON events (id)",
    """
    CREATE TABLE IF NOT EXISTS rooms (
        key TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        topic TEXT NOT NULL
    )
    """,
    # Apart from rooms: every room's topic is remembered, only a registered
    # room has a state, and dropping a registration keeps the topic.  A
    # file made before these tables gets them here, with nothing to alter.
    """
    CREATE TABLE IF NOT EXISTS room_states (
        key TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        state TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS accounts (
        key TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        hash TEXT NOT NULL,
        created REAL NOT NULL
    )
    """,
)

# Rows inserted by one statement: SQLite allows 32,766 parameters.
ROWS_PER_INSERT = 1000

# How long a statement waits for a lock held by another process.
BUSY_TIMEOUT = 2.0


def _prepare(connection: sqlite3.Connection) -> None:
    connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
    mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if mode.lower() != "wal":
        raise sqlite3.OperationalError(f"cannot use WAL journal mode (got {mode})")
    connection.execute("PRAGMA synchronous = NORMAL")
    for statement in SCHEMA:
        connection.execute(statement)
    connection.commit()


def check(path: str) -> None:
    """
    Open the database at C{path} once, blocking, and make its schema: for
    start-up, so that a file that cannot be used stops the server with a
    one-line reason before it listens.

    @raise StoreError: why it cannot be used.
    """
    try:
        connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT)
    except sqlite3.Error as error:
        raise StoreError(f"cannot open {path}: {error}") from None
    try:
        _prepare(connection)
        connection.execute("SELECT count(*) FROM events WHERE seq < 0").fetchone()
    except sqlite3.Error as error:
        raise StoreError(f"cannot use {path}: {error}") from None
    finally:
        connection.close()


@implementer(IStore)
class SQLiteStore(SQLReads):
    """
    History in the SQLite file at C{path}.
    """

    durable = True

    def __init__(self, path: str, reactor=None) -> None:
        self.path = str(Path(path))
        self._reactor = reactor
        self._pool: adbapi.ConnectionPool | None = None

    def open(self) -> Deferred[None]:
        # Opened again after failing (the service retries at start): the
        # pool it has makes its connection anew.
        if self._pool is None:
            kwargs = {} if self._reactor is None else {"cp_reactor": self._reactor}
            self._pool = adbapi.ConnectionPool(
                "sqlite3",
                self.path,
                timeout=BUSY_TIMEOUT,
                check_same_thread=False,
                cp_min=1,
                cp_max=1,
                cp_openfun=_prepare,
                **kwargs,
            )
        return self._run(lambda cursor: None)

    def close(self) -> Deferred[None]:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()
        return succeed(None)

    def _run(self, work, *args) -> Deferred:
        """
        C{work(cursor, *args)} in a transaction on the store's thread; an
        error fails the Deferred with a one-line L{StoreError}.
        """

        def failed(failure):
            failure.trap(sqlite3.Error)
            raise StoreError(f"{self.path}: {failure.value}")

        return self._pool.runInteraction(work, *args).addErrback(failed)

    def record(self, rows: list[Row]) -> Deferred[None]:
        def insert(cursor) -> None:
            # JSON made here, on the store's thread; then one statement per
            # ROWS_PER_INSERT rows rather than one per row, since the thread
            # must win the reactor's GIL back after every statement.
            for start in range(0, len(rows), ROWS_PER_INSERT):
                chunk = rows[start : start + ROWS_PER_INSERT]
                values = [
                    value
                    for row in chunk
                    for value in (row.id, row.time, row.target, row.kind, row.data)
                ]
                cursor.execute(
                    "INSERT INTO events (id, time, target, kind, data) VALUES "
                    + ",".join(["(?, ?, ?, ?, ?)"] * len(chunk)),
                    values,
                )

        return self._run(insert)

    def saveTopic(self, key: str, room: str, topic: str) -> Deferred[None]:
        def save(cursor) -> None:
            cursor.execute(
                "INSERT INTO rooms (key, name, topic) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET name = excluded.name, topic = excluded.topic",
                (key, room, topic),
            )

        return self._run(save)

    def saveAccount(self, key: str, name: str, hash: str, created: float) -> Deferred[None]:
        return self._execute(
            "INSERT OR REPLACE INTO accounts (key, name, hash, created) VALUES (?, ?, ?, ?)",
            (key, name, hash, created),
        )

    def dropAccount(self, key: str) -> Deferred[None]:
        return self._execute("DELETE FROM accounts WHERE key = ?", (key,))

    def saveRoomState(self, key: str, name: str, state: str) -> Deferred[None]:
        return self._execute(
            "INSERT OR REPLACE INTO room_states (key, name, state) VALUES (?, ?, ?)",
            (key, name, state),
        )

    def dropRoomState(self, key: str) -> Deferred[None]:
        return self._execute("DELETE FROM room_states WHERE key = ?", (key,))

    def _execute(self, statement: str, parameters: tuple) -> Deferred[None]:
        """
        One statement that returns nothing, in a transaction of its own.
        """
        return self._run(lambda cursor: cursor.execute(statement, parameters)).addCallback(
            lambda _: None
        )

    def expire(self, olderThan: float, perTarget: int) -> Deferred[int]:
        def delete(cursor) -> int:
            cursor.execute("DELETE FROM events WHERE time < ?", (olderThan,))
            removed = cursor.rowcount
            cursor.execute(
                "SELECT target FROM events GROUP BY target HAVING count(*) > ?", (perTarget,)
            )
            for (target,) in cursor.fetchall():
                cursor.execute(
                    "DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE target = ?"
                    " ORDER BY seq DESC LIMIT -1 OFFSET ?)",
                    (target, perTarget),
                )
                removed += cursor.rowcount
            return removed

        return self._run(delete)
