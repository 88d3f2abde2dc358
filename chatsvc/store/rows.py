"""
Events as rows of history and back: pure functions, shared by every store.

A row belongs to one I{target}: a room (by its name's key, C{#lobby}) or a
private conversation (C{@ala/bob}, the two nicknames' keys in order).  An
event heard in several rooms (a leave, a rename) is kept once per room, so
each room's history tells it.
"""

from __future__ import annotations

import json
from functools import lru_cache

from attrs import field, frozen

from chatsvc import events
from chatsvc.names import nameKey

# What history keeps, by kind: what was said, and who came, went and
# renamed themselves, and topics.
KINDS: dict[str, type] = {
    "said": events.Said,
    "acted": events.Acted,
    "whispered": events.Whispered,
    "joined": events.Joined,
    "left": events.Left,
    "parted": events.Parted,
    "renamed": events.Renamed,
    "topic": events.TopicChanged,
    "departed": events.Departed,
    "arrived": events.Arrived,
}
_KIND_OF = {kind: name for name, kind in KINDS.items()}

# Kinds that replay shows as "what was said".
LINES = ("said", "acted", "whispered")


@frozen
class Row:
    """
    One event as a store keeps it.

    A row made from an event keeps the event, and is turned into JSON only
    when a store writes it (on the store's thread, for SQLite): the memory
    store never pays for it.  A row read back from a store has its JSON.

    @ivar target: C{#room-key} or C{@key/key}.
    @ivar encoded: the event's fields other than id and time, as JSON, as
        read back from a store.
    @ivar event: the event itself, for a row made from one.
    """

    id: str
    time: float
    target: str
    kind: str
    encoded: str | None = None
    event: events.Event | None = field(default=None, eq=False, repr=False, kw_only=True)

    @property
    def data(self) -> str:
        """
        The event's fields other than id and time, as JSON.
        """
        if self.encoded is not None:
            return self.encoded
        return _encode(_fields(self.event))


@frozen
class Mark:
    """
    A place in one target's history, to fetch the rows on either side of.

    Without an C{id}, the place just before the first row at C{time} or
    later: rows before it are older than C{time}, rows after it are at
    C{time} or later.  With an C{id}, the place of that row (at C{time}),
    which is on neither side: rows at the same time keep the order they
    were recorded in.
    """

    time: float
    id: str | None = None


@lru_cache(maxsize=4096)
def roomTarget(room: str) -> str:
    return "#" + nameKey(room)


def privateTarget(one: str, other: str) -> str:
    first, second = sorted((nameKey(one), nameKey(other)))
    return f"@{first}/{second}"


def privateParties(target: str) -> tuple[str, str] | None:
    """
    The two nicknames' keys of a private conversation's target, or C{None}
    for a room's.
    """
    if not target.startswith("@"):
        return None
    first, _, second = target[1:].partition("/")
    return first, second


# One encoder for every row: json.dumps with options makes a new one a call.
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@lru_cache(maxsize=None)
def _names(kind: type) -> tuple[str, ...]:
    return tuple(a.name for a in kind.__attrs_attrs__ if a.name not in ("id", "time"))


def _fields(event: events.Event) -> dict[str, object]:
    fields = {}
    for name in _names(type(event)):
        value = getattr(event, name)
        if type(value) is events.Identity:
            value = [value.nickname, value.username, value.host, value.account]
        fields[name] = value
    return fields


def toRows(event: events.Event, rooms: tuple[str, ...]) -> list[Row]:
    """
    The rows that keep C{event}, published to C{rooms} (their names); none
    for what history does not keep.
    """
    kind = _KIND_OF.get(type(event))
    if kind is None:
        return []
    if isinstance(event, events.Whispered):
        targets = [privateTarget(event.nickname, event.recipient)]
    else:
        targets = [roomTarget(room) for room in rooms]
    return [Row(event.id, event.time, target, kind, event=event) for target in targets]


def fromRow(row: Row) -> events.Event:
    """
    The event a row keeps.

    @raise ValueError: the row is not one this code wrote.
    """
    if row.event is not None:
        return row.event
    kind = KINDS.get(row.kind)
    if kind is None:
        raise ValueError(f"unknown kind of row: {row.kind!r}")
    fields = json.loads(row.data)
    sender = fields.get("sender")
    if sender is not None:
        fields["sender"] = events.Identity(*sender)
    return kind(id=row.id, time=row.time, **fields)
