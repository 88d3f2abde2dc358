"""
A store that keeps history in memory only: for tests, and for
C{--store memory}, which forgets everything at exit.
"""

from __future__ import annotations

from collections import deque

from twisted.internet.defer import Deferred, succeed
from zope.interface import implementer

from chatsvc.interfaces import IStore
from chatsvc.store.rows import Row


@implementer(IStore)
class MemoryStore:
    """
    Rows per target, oldest first, at most C{perTarget} of each kept.
    """

    durable = False

    def __init__(self, perTarget: int = 10_000) -> None:
        self._perTarget = perTarget
        self._rows: dict[str, deque[Row]] = {}
        self._topics: dict[str, tuple[str, str]] = {}

    def open(self) -> Deferred[None]:
        return succeed(None)

    def close(self) -> Deferred[None]:
        return succeed(None)

    def record(self, rows: list[Row]) -> Deferred[None]:
        for row in rows:
            kept = self._rows.get(row.target)
            if kept is None:
                kept = self._rows[row.target] = deque(maxlen=self._perTarget)
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

    def saveTopic(self, key: str, room: str, topic: str) -> Deferred[None]:
        self._topics[key] = (room, topic)
        return succeed(None)

    def topics(self) -> Deferred[dict[str, tuple[str, str]]]:
        return succeed(dict(self._topics))

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
