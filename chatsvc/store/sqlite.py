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
from chatsvc.store.rows import LINES, Mark, Row

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
class SQLiteStore:
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

    def _select(
        self, conditions: list[str], parameters: list, limit: int, newest: bool
    ) -> Deferred[list[Row]]:
        """
        Up to C{limit} rows that meet every one of C{conditions}, oldest
        first: the newest such rows, or (not C{newest}) the oldest.
        """
        order = "DESC" if newest else "ASC"
        query = (
            "SELECT id, time, target, kind, data FROM events WHERE "
            + " AND ".join(conditions)
            + f" ORDER BY time {order}, seq {order} LIMIT ?"
        )

        def select(cursor) -> list[Row]:
            cursor.execute(query, (*parameters, max(0, limit)))
            rows = [Row(*found) for found in cursor.fetchall()]
            return rows[::-1] if newest else rows

        return self._run(select)

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

    def history(
        self,
        target: str,
        limit: int,
        before: float | None = None,
        after: float | None = None,
    ) -> Deferred[list[Row]]:
        conditions, parameters = ["target = ?"], [target]
        if before is not None:
            conditions.append("time < ?")
            parameters.append(before)
        if after is not None:
            conditions.append("time > ?")
            parameters.append(after)
        forwards = after is not None and before is None
        return self._select(conditions, parameters, limit, newest=not forwards)

    def latest(self, limit: int) -> Deferred[dict[str, list[Row]]]:
        def select(cursor) -> dict[str, list[Row]]:
            cursor.execute(
                "SELECT id, time, target, kind, data FROM ("
                " SELECT *, row_number() OVER (PARTITION BY target ORDER BY seq DESC) AS n"
                " FROM events WHERE target LIKE '#%'"
                ") WHERE n <= ? ORDER BY seq",
                (limit,),
            )
            found: dict[str, list[Row]] = {}
            for values in cursor.fetchall():
                row = Row(*values)
                found.setdefault(row.target, []).append(row)
            return found

        return self._run(select)

    def find(self, target: str, id: str) -> Deferred[Row | None]:
        def select(cursor) -> Row | None:
            cursor.execute(
                "SELECT id, time, target, kind, data FROM events WHERE id = ? AND target = ?"
                " ORDER BY seq LIMIT 1",
                (id, target),
            )
            found = cursor.fetchone()
            return None if found is None else Row(*found)

        return self._run(select)

    def between(
        self,
        target: str,
        limit: int,
        after: Mark | None = None,
        before: Mark | None = None,
        newest: bool = True,
        kinds: tuple[str, ...] | None = None,
    ) -> Deferred[list[Row]]:
        conditions, parameters = ["target = ?"], [target]
        for mark, sign in ((after, ">"), (before, "<")):
            if mark is None:
                continue
            if mark.id is None:
                conditions.append("time >= ?" if sign == ">" else "time < ?")
                parameters.append(mark.time)
            else:
                # The time narrows the index range; the row's own (time,
                # seq) places it among rows of the same time.
                conditions.append(
                    f"time {sign}= ? AND (time, seq) {sign} "
                    "(SELECT time, seq FROM events WHERE id = ? AND target = ?)"
                )
                parameters += [mark.time, mark.id, target]
        if kinds is not None:
            conditions.append(f"kind IN ({', '.join('?' * len(kinds))})")
            parameters += kinds
        return self._select(conditions, parameters, limit, newest)

    def conversations(
        self,
        nickname: str,
        rooms: list[str],
        since: float,
        until: float,
        limit: int,
        newest: bool = False,
    ) -> Deferred[list[Row]]:
        # A private target is @first/second, the keys in order; keys hold
        # no "/", and LIKE would take their "_" for a wildcard.
        first, second = f"@{nickname}/", f"/{nickname}"
        ours = [
            "substr(target, 1, ?) = ?",
            "(substr(target, 1, 1) = '@' AND substr(target, -?) = ?)",
        ]
        parameters: list[object] = [len(first), first, len(second), second]
        if rooms:
            ours.append(f"target IN ({', '.join('?' * len(rooms))})")
            parameters += rooms
        order = "DESC" if newest else "ASC"
        query = (
            "SELECT id, time, target, kind, data FROM ("
            " SELECT *, row_number() OVER (PARTITION BY target ORDER BY time DESC, seq DESC) AS n"
            f" FROM events WHERE kind IN ({', '.join('?' * len(LINES))})"
            " AND time >= ? AND time < ? AND (" + " OR ".join(ours) + ")"
            f") WHERE n = 1 ORDER BY time {order}, seq {order} LIMIT ?"
        )
        values = (*LINES, since, until, *parameters, max(0, limit))

        def select(cursor) -> list[Row]:
            cursor.execute(query, values)
            rows = [Row(*found) for found in cursor.fetchall()]
            return rows[::-1] if newest else rows

        return self._run(select)

    def saveTopic(self, key: str, room: str, topic: str) -> Deferred[None]:
        def save(cursor) -> None:
            cursor.execute(
                "INSERT INTO rooms (key, name, topic) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET name = excluded.name, topic = excluded.topic",
                (key, room, topic),
            )

        return self._run(save)

    def topics(self) -> Deferred[dict[str, tuple[str, str]]]:
        def select(cursor) -> dict[str, tuple[str, str]]:
            cursor.execute("SELECT key, name, topic FROM rooms")
            return {key: (name, topic) for key, name, topic in cursor.fetchall()}

        return self._run(select)

    def accounts(self) -> Deferred[dict[str, tuple[str, str, float]]]:
        def select(cursor) -> dict[str, tuple[str, str, float]]:
            cursor.execute("SELECT key, name, hash, created FROM accounts")
            return {key: (name, hash, created) for key, name, hash, created in cursor.fetchall()}

        return self._run(select)

    def saveAccount(self, key: str, name: str, hash: str, created: float) -> Deferred[None]:
        return self._execute(
            "INSERT OR REPLACE INTO accounts (key, name, hash, created) VALUES (?, ?, ?, ?)",
            (key, name, hash, created),
        )

    def dropAccount(self, key: str) -> Deferred[None]:
        return self._execute("DELETE FROM accounts WHERE key = ?", (key,))

    def roomStates(self) -> Deferred[dict[str, tuple[str, str]]]:
        def select(cursor) -> dict[str, tuple[str, str]]:
            cursor.execute("SELECT key, name, state FROM room_states")
            return {key: (name, state) for key, name, state in cursor.fetchall()}

        return self._run(select)

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
