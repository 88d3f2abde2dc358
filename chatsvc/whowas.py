"""
Who had a nickname: a bounded record of the nicknames people left or were
renamed away from, for IRC's WHOWAS or any front-end that asks.

L{Whowas} is an observer on the one delivery path
(L{chatsvc.delivery.Delivery}): it reads L{chatsvc.events.Left} and
L{chatsvc.events.Renamed}, whose sender is the identity as it was, so it
needs nothing from the hub and works the same beside a bus to other nodes.
It keeps at most C{perNickname} entries of one nickname and C{limit} in
all, the oldest forgotten first, so no churn of nicknames makes it grow.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable
from itertools import count

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
    The last few holders of each nickname that was given up.

    @param limit: the most entries kept in all.
    @param perNickname: the most entries kept of one nickname.
    """

    def __init__(self, limit: int = DEFAULT_LIMIT, perNickname: int = DEFAULT_PER_NICKNAME) -> None:
        self.limit = limit
        self.perNickname = perNickname
        # Every entry by its sequence number, oldest first, and each
        # nickname's sequence numbers, oldest first: the oldest entry of all
        # is always the oldest of its nickname.
        self._entries: OrderedDict[int, tuple[str, Gone]] = OrderedDict()
        self._byKey: dict[str, deque[int]] = {}
        self._sequence = count()

    def __len__(self) -> int:
        return len(self._entries)

    def published(self, event: events.Event, audience: Audience) -> None:
        if isinstance(event, (events.Left, events.Renamed)):
            self.record(event.sender, event.time)

    def record(self, identity: events.Identity, time: float) -> None:
        """
        C{identity} gave up its nickname at C{time}.
        """
        key = nameKey(identity.nickname)
        number = next(self._sequence)
        self._entries[number] = (key, Gone(identity, time))
        numbers = self._byKey.setdefault(key, deque())
        numbers.append(number)
        if len(numbers) > self.perNickname:
            del self._entries[numbers.popleft()]
        if len(self._entries) > self.limit:
            _, (oldest, _) = self._entries.popitem(last=False)
            numbers = self._byKey[oldest]
            numbers.popleft()
            if not numbers:
                del self._byKey[oldest]

    def find(self, nicknames: Iterable[str], limit: int | None = None) -> list[Gone]:
        """
        Who held any of C{nicknames} (compared by key), the most recent
        first: at most C{limit} entries of each nickname (C{None}: all kept).
        """
        found: dict[int, Gone] = {}
        for key in dict.fromkeys(nameKey(nickname) for nickname in nicknames):
            numbers = list(self._byKey.get(key, ()))[::-1][:limit]
            found.update((number, self._entries[number][1]) for number in numbers)
        return [found[number] for number in sorted(found, reverse=True)]
