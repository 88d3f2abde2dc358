"""
Who had a nickname: a bounded record of the nicknames people left or were
renamed away from, for IRC's WHOWAS or any front-end that asks.

L{Whowas} is an observer on the one delivery path
(L{chatsvc.delivery.Delivery}): it reads L{chatsvc.events.Left} and
L{chatsvc.events.Renamed}, whose sender is the identity as it was, so it
needs nothing from the hub and works the same beside a bus to other nodes.
It remembers the last C{limit} nicknames given up and, of one nickname,
the last C{perNickname} holders, so no churn of nicknames makes it grow.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from attrs import frozen
from zope.interface import implementer

from chatsvc import events
from chatsvc.delivery import Audience
from chatsvc.interfaces import IObserver
from chatsvc.names import nameKey

# hybrid keeps 15,000 in all; this is as many as the memory store keeps rooms.
DEFAULT_LIMIT = 10_000
DEFAULT_PER_NICKNAME = 5


@frozen
class Gone:
    """
    Someone who held a nickname until C{time} (the hub's clock): C{identity}
    is who they were then, with their user, host, real name and account.
    """

    identity: events.Identity
    time: float


@implementer(IObserver)
class Whowas:
    """
    The last C{limit} nicknames given up, and of each nickname the last
    C{perNickname} who held it.

    Memory is what counts here (a few hundred bytes an entry,
    C{docs/bounds.rst}): one queue of entries and a tuple per nickname.
    """

    def __init__(self, limit: int = DEFAULT_LIMIT, perNickname: int = DEFAULT_PER_NICKNAME) -> None:
        self.limit = limit
        self.perNickname = perNickname
        # Every entry, oldest first, and each nickname's, oldest first: an
        # entry that is the oldest of all is the oldest of its nickname, if
        # its nickname still keeps it.
        self._entries: deque[Gone] = deque()
        self._byKey: dict[str, tuple[Gone, ...]] = {}

    def __len__(self) -> int:
        return sum(len(kept) for kept in self._byKey.values())

    def published(self, event: events.Event, audience: Audience) -> None:
        if isinstance(event, (events.Left, events.Renamed)):
            self.record(event.sender, event.time)

    def record(self, identity: events.Identity, time: float) -> None:
        """
        C{identity} gave up its nickname at C{time}.
        """
        if len(self._entries) >= self.limit:
            self._forget(self._entries.popleft())
        gone = Gone(identity, time)
        self._entries.append(gone)
        key = nameKey(identity.nickname)
        self._byKey[key] = (*self._byKey.get(key, ()), gone)[-self.perNickname :]

    def find(self, nicknames: Iterable[str], limit: int | None = None) -> list[Gone]:
        """
        Who held any of C{nicknames} (compared by key), the most recent
        first (at the same moment, in the order asked): at most C{limit}
        entries of each nickname (C{None}: all kept).
        """
        found = [
            gone
            for key in dict.fromkeys(nameKey(nickname) for nickname in nicknames)
            for gone in self._byKey.get(key, ())[::-1][:limit]
        ]
        return sorted(found, key=lambda gone: -gone.time)

    def _forget(self, oldest: Gone) -> None:
        key = nameKey(oldest.identity.nickname)
        kept = self._byKey.get(key, ())
        if kept and kept[0] is oldest:
            if len(kept) > 1:
                self._byKey[key] = kept[1:]
            else:
                del self._byKey[key]
