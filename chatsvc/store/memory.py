"""
A store that keeps history in memory only: for tests, and for
C{--store memory}, which forgets everything at exit.
"""

from __future__ import annotations

from collections import deque
from operator import attrgetter

from twisted.internet.defer import Deferred, succeed
from zope.interface import implementer

from chatsvc.interfaces import IStore
from chatsvc.store.rows import LINES, Mark, Row, privateParties

# Rooms and private conversations whose rows are kept at most.
MAX_TARGETS = 10_000


@implementer(IStore)
class MemoryStore:
    """
    Rows per target, oldest first, at most C{perTarget} of each kept, for at
    most C{maxTargets} targets: the one least recently written is forgotten
    first, so churning through rooms cannot grow it without bound.
    """

    durable = False

    def __init__(self, perTarget: int = 10_000, maxTargets: int = MAX_TARGETS) -> None:
        self._perTarget = perTarget
        self._maxTargets = maxTargets
        self._rows: dict[str, deque[Row]] = {}
        self._topics: dict[str, tuple[str, str]] = {}
        self._accounts: dict[str, tuple[str, str, float]] = {}
        self._roomStates: dict[str, tuple[str, str]] = {}

    def open(self) -> Deferred[None]:
        return succeed(None)

    def close(self) -> Deferred[None]:
        return succeed(None)

    def record(self, rows: list[Row]) -> Deferred[None]:
        targets = self._rows
        for row in rows:
            kept = targets.pop(row.target, None)
            if kept is None:
                kept = deque(maxlen=self._perTarget)
                if len(targets) >= self._maxTargets:
                    del targets[next(iter(targets))]
            # Re-inserted: the dictionary's order is the order of writing.
            targets[row.target] = kept
            kept.append(row)
        return succeed(None)

    def history(
        self,
        target: str,
        limit: int,
        before: float | None = None,
        after: float | None = None,
    ) -> Deferred[list[Row]]:
        rows = [
            row
            for row in self._rows.get(target, ())
            if (before is None or row.time < before) and (after is None or row.time > after)
        ]
        chosen = rows[:limit] if after is not None and before is None else rows[-limit:]
        return succeed(chosen if limit > 0 else [])

    def latest(self, limit: int) -> Deferred[dict[str, list[Row]]]:
        return succeed(
            {
                target: list(kept)[-limit:]
                for target, kept in self._rows.items()
                if target.startswith("#") and limit > 0
            }
        )

    def _ordered(self, target: str) -> list[Row]:
        # Recorded in time order but for a clock set back; a stable sort of
        # a sorted list is linear.
        return sorted(self._rows.get(target, ()), key=attrgetter("time"))

    def find(self, target: str, id: str) -> Deferred[Row | None]:
        for row in self._rows.get(target, ()):
            if row.id == id:
                return succeed(row)
        return succeed(None)

    def between(
        self,
        target: str,
        limit: int,
        after: Mark | None = None,
        before: Mark | None = None,
        newest: bool = True,
        kinds: tuple[str, ...] | None = None,
    ) -> Deferred[list[Row]]:
        rows = self._ordered(target)
        start, end = 0, len(rows)
        if after is not None:
            start = self._place(rows, after, 1)
        if before is not None:
            end = self._place(rows, before, 0)
        if start is None or end is None or limit <= 0:
            return succeed([])
        chosen = [row for row in rows[start:end] if kinds is None or row.kind in kinds]
        return succeed(chosen[-limit:] if newest else chosen[:limit])

    def _place(self, rows: list[Row], mark: Mark, past: int) -> int | None:
        """
        The index of the first row after C{mark} if C{past}, else of the
        first row not before it; C{None} for a row that is not there.
        """
        if mark.id is None:
            return next((n for n, row in enumerate(rows) if row.time >= mark.time), len(rows))
        found = next((n for n, row in enumerate(rows) if row.id == mark.id), None)
        return None if found is None else found + past

    def conversations(
        self,
        nickname: str,
        rooms: list[str],
        since: float,
        until: float,
        limit: int,
        newest: bool = False,
    ) -> Deferred[list[Row]]:
        wanted = set(rooms)
        found = []
        for target in self._rows:
            parties = privateParties(target)
            if target not in wanted and (parties is None or nickname not in parties):
                continue
            lines = [
                row
                for row in self._ordered(target)
                if row.kind in LINES and since <= row.time < until
            ]
            if lines:
                found.append(lines[-1])
        found.sort(key=attrgetter("time"))
        if limit <= 0:
            return succeed([])
        return succeed(found[-limit:] if newest else found[:limit])

    def saveTopic(self, key: str, room: str, topic: str) -> Deferred[None]:
        self._topics[key] = (room, topic)
        return succeed(None)

    def topics(self) -> Deferred[dict[str, tuple[str, str]]]:
        return succeed(dict(self._topics))

    def accounts(self) -> Deferred[dict[str, tuple[str, str, float]]]:
        return succeed(dict(self._accounts))

    def saveAccount(self, key: str, name: str, hash: str, created: float) -> Deferred[None]:
        self._accounts[key] = (name, hash, created)
        return succeed(None)

    def dropAccount(self, key: str) -> Deferred[None]:
        self._accounts.pop(key, None)
        return succeed(None)

    def roomStates(self) -> Deferred[dict[str, tuple[str, str]]]:
        return succeed(dict(self._roomStates))

    def saveRoomState(self, key: str, name: str, state: str) -> Deferred[None]:
        self._roomStates[key] = (name, state)
        return succeed(None)

    def dropRoomState(self, key: str) -> Deferred[None]:
        self._roomStates.pop(key, None)
        return succeed(None)

    def expire(self, olderThan: float, perTarget: int) -> Deferred[int]:
        removed = 0
        for target, kept in list(self._rows.items()):
            fresh = deque(
                [row for row in kept if row.time >= olderThan][-perTarget:],
                maxlen=self._perTarget,
            )
            removed += len(kept) - len(fresh)
            if fresh:
                self._rows[target] = fresh
            else:
                del self._rows[target]
        return succeed(removed)
