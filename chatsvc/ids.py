"""
Message ids: unique, stable, short, and safe wherever an id goes.
"""

from __future__ import annotations

import os
from base64 import b32encode


class MessageIds:
    """
    Hands out ids made of a prefix chosen once per process and a counter.

    The prefix is 60 random bits, so ids stay unique across restarts and
    across the nodes of a cluster without asking anyone; the counter makes
    each id cheap (no randomness per message) and unique within the
    process.  Ids hold only lower-case letters and digits: valid as an
    IRCv3 C{msgid} tag value, a URL part, a database key, unescaped.
    """

    def __init__(self, prefix: str | None = None) -> None:
        if prefix is None:
            prefix = b32encode(os.urandom(5)).decode("ascii").lower()[:12]
        self._prefix = prefix
        self._count = 0

    def next(self) -> str:
        self._count += 1
        return f"{self._prefix}{self._count:x}"
