"""
The reads both SQL stores make, in the SQL that SQLite and PostgreSQL both
speak, written once (L{SQLReads}).

Queries are written with C{?} placeholders and no C{%}: a store whose driver
wants another style says so in L{SQLReads._sql}.  Writes stay with each
store, whose ways of ordering and retrying them differ.
"""

from __future__ import annotations

from functools import cache

from twisted.internet.defer import Deferred

from chatsvc.store.rows import LINES, Row

_ROW = "SELECT id, time, target, kind, data FROM"


def _marks(count: int) -> str:
    return ", ".join("?" * count)


class SQLReads:
    """
    What a SQL store reads, for a class with C{_run(work)} (C{work(cursor)}
    in a transaction, off the reactor) and the tables of both stores.
    """

    def _sql(self, query: str) -> str:
        """
        C{query} as the driver takes it: with C{?} placeholders, as here.
        """
        return query

    def _rows(self, query: str, values: tuple, newest: bool = False) -> Deferred[list[Row]]:
        """
        The rows C{query} selects, oldest first (C{newest}: it selects them
        newest first).
        """
        query = self._sql(query)

        def select(cursor) -> list[Row]:
            cursor.execute(query, values)
            rows = [Row(*found) for found in cursor.fetchall()]
            return rows[::-1] if newest else rows

        return self._run(select)

    def _select(
        self, conditions: list[str], parameters: list, limit: int, newest: bool
    ) -> Deferred[list[Row]]:
        """
        Up to C{limit} rows that meet every one of C{conditions}, oldest
        first: the newest such rows, or (not C{newest}) the oldest.
        """
        order = "DESC" if newest else "ASC"
        query = (
            f"{_ROW} events WHERE "
            + " AND ".join(conditions)
            + f" ORDER BY time {order}, seq {order} LIMIT ?"
        )
        return self._rows(query, (*parameters, max(0, limit)), newest)

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
        query = self._sql(
            f"{_ROW} ("
            " SELECT *, row_number() OVER (PARTITION BY target ORDER BY seq DESC) AS n"
            " FROM events WHERE substr(target, 1, 1) = '#'"
            ") AS ranked WHERE n <= ? ORDER BY seq"
        )

        def select(cursor) -> dict[str, list[Row]]:
            cursor.execute(query, (limit,))
            found: dict[str, list[Row]] = {}
            for values in cursor.fetchall():
                row = Row(*values)
                found.setdefault(row.target, []).append(row)
            return found

        return self._run(select)

    def find(self, target: str, id: str) -> Deferred[Row | None]:
        query = self._sql(f"{_ROW} events WHERE id = ? AND target = ? ORDER BY seq LIMIT 1")

        def select(cursor) -> Row | None:
            cursor.execute(query, (id, target))
            found = cursor.fetchone()
            return None if found is None else Row(*found)

        return self._run(select)

    def between(
        self,
        target: str,
        limit: int,
        after=None,
        before=None,
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
                # seq) places it among rows of the same time: the first row
                # of that id.
                conditions.append(
                    f"time {sign}= ? AND (time, seq) {sign} (SELECT time, seq FROM events"
                    " WHERE id = ? AND target = ? ORDER BY seq LIMIT 1)"
                )
                parameters += [mark.time, mark.id, target]
        if kinds is not None:
            conditions.append(f"kind IN ({_marks(len(kinds))})")
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
            "(substr(target, 1, 1) = '@' AND substr(target, length(target) - ? + 1) = ?)",
        ]
        parameters: list[object] = [len(first), first, len(second), second]
        if rooms:
            ours.append(f"target IN ({_marks(len(rooms))})")
            parameters += rooms
        order = "DESC" if newest else "ASC"
        query = (
            f"{_ROW} ("
            " SELECT *, row_number() OVER (PARTITION BY target ORDER BY time DESC, seq DESC) AS n"
            f" FROM events WHERE kind IN ({_marks(len(LINES))})"
            " AND time >= ? AND time < ? AND (" + " OR ".join(ours) + ")"
            f") AS latest WHERE n = 1 ORDER BY time {order}, seq {order} LIMIT ?"
        )
        return self._rows(query, (*LINES, since, until, *parameters, max(0, limit)), newest)

    def topics(self) -> Deferred[dict[str, tuple[str, str]]]:
        return self._table("SELECT key, name, topic FROM rooms")

    def accounts(self) -> Deferred[dict[str, tuple[str, str, float]]]:
        return self._table("SELECT key, name, hash, created FROM accounts")

    def roomStates(self) -> Deferred[dict[str, tuple[str, str]]]:
        return self._table("SELECT key, name, state FROM room_states")

    def _table(self, query: str) -> Deferred[dict]:
        """
        A whole table, by its first column: the rest of each row.
        """

        def select(cursor) -> dict:
            cursor.execute(query)
            return {key: tuple(rest) for key, *rest in cursor.fetchall()}

        return self._run(select)


@cache
def pyformat(query: str) -> str:
    """
    C{query} with C{%s} for C{?}, as psycopg2 wants it.
    """
    return query.replace("?", "%s")
