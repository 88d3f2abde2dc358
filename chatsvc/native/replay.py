"""
The replay shown to whoever enters a room, worded once for all of them.
"""

from __future__ import annotations

import time

from chatsvc import events
from chatsvc.i18n import translation
from chatsvc.native import wording

# Rooms (times languages) whose replay is kept worded at once.
MAX_CACHED = 256


class ReplayCache:
    """
    The replay block of a room as wire bytes, per language, reused by every
    joiner until a line is said there or the minute changes (the lines carry
    their times, and today's are shown without the date).

    A thousand clients joining a room after a restart would otherwise have
    the same twenty lines worded, with their times, a thousand times.
    """

    def __init__(self) -> None:
        self._cached: dict[tuple, bytes] = {}

    def block(
        self, room: str, recent: list[events.Event], viewer: str, language: str, now: float
    ) -> bytes:
        """
        The replay of C{recent} (not empty) in C{room}, as C{viewer} sees it.
        """
        key = (room, language, recent[-1].id, len(recent), time.strftime("%Y%m%d%H%M", time.localtime(now)))
        data = self._cached.get(key)
        if data is None:
            lines = wording.historyLines(recent, viewer, translation(language), now, room=room)
            data = "".join(line + "\r\n" for line in lines).encode("utf-8")
            if len(self._cached) >= MAX_CACHED:
                del self._cached[next(iter(self._cached))]
            self._cached[key] = data
        return data
