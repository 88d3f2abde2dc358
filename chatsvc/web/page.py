"""
The page's session: a native session whose events, rooms and history go to
the browser as JSON (docs/web.rst), so that the page shows them without
reading text meant for people.

What the page sends is native lines, handled exactly as a terminal user's;
what the native session words for people (replies, refusals, prompts) is
turned into JSON objects by the page's framer (L{chatsvc.web.frames.pageLine}).
"""

from __future__ import annotations

import json
from functools import cache
from json.encoder import encode_basestring as _string

import attrs
from zope.interface import implementer

from chatsvc import events
from chatsvc.errors import ChatError
from chatsvc.interfaces import IRenderer
from chatsvc.moderation import Role
from chatsvc.native import wire
from chatsvc.native.session import NativeSession
from chatsvc.records import Room

# Members a room message lists at most; C{count} says how many there are.
MAX_MEMBERS_LISTED = 1000


@cache
def _fieldNames(kind: type) -> tuple[str, ...]:
    return tuple(field.name for field in attrs.fields(kind))


# What JSON takes as it is: most of an event's fields, checked first since
# every recipient's message is made of them.
_SCALARS = frozenset({str, int, float, bool, type(None)})


def _plain(value: object) -> object:
    if type(value) in _SCALARS:
        return value
    if isinstance(value, events.Identity):
        if value.account is None:
            return {"nickname": value.nickname}
        return {"nickname": value.nickname, "account": value.account}
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if attrs.has(type(value)):
        return _fields(value)
    return value


def _fields(value: object) -> dict[str, object]:
    """
    An attrs value's fields, but those that are C{None} or C{False}: the
    page takes a missing key for either, and every recipient's message is
    shorter for it (bench S9).
    """
    found = {}
    for name in _fieldNames(type(value)):
        field = getattr(value, name)
        if field is not None and field is not False:
            found[name] = _plain(field)
    return found


def eventObject(event: events.Event, own: bool = False) -> dict[str, object]:
    """
    C{event} as the page reads it: its kind, then its fields (those that
    are C{None} or C{False} left out), a sender without the address it
    connects from, the time to the millisecond.
    """
    found: dict[str, object] = {"type": "event", "kind": type(event).__name__}
    found.update(_fields(event))
    found["time"] = round(event.time, 3)
    if own:
        found["own"] = True
    return found


# json.dumps builds an encoder for every call given options; one will do.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def encode(message: dict[str, object]) -> bytes:
    """
    One message to the page, as the line its framer sends as one frame:
    compact JSON, in UTF-8 as it is (no C{\\u} escapes).
    """
    return _ENCODER.encode(message).encode("utf-8") + b"\r\n"


def roomObject(room: Room | None) -> dict[str, object]:
    """
    The room a page is in, with its members and their standing.
    """
    if room is None:
        return {"type": "room", "room": "", "topic": "", "modes": "", "count": 0, "members": []}
    members = []
    for member in room.members:
        if len(members) == MAX_MEMBERS_LISTED:
            break
        # What most members are (a plain member, here, logged in to
        # nothing) goes unsaid: a crowded room's list is a third the size.
        entry: dict[str, object] = {"nickname": member.nickname}
        role = room.role(member)
        if role is not Role.MEMBER:
            entry["role"] = role.name.lower()
        if member.away is not None:
            entry["away"] = member.away
        if member.account is not None:
            entry["account"] = member.account
        members.append(entry)
    letters, _ = room.modes.letters()
    return {
        "type": "room",
        "room": room.name,
        "topic": room.topic,
        "modes": letters,
        "count": len(room.members),
        "members": members,
    }


_SPOKEN = (
    '{{"type":"event","kind":"{kind}","id":{id},"time":{time!r},'
    '"sender":{{"nickname":{nickname}{account}}},"room":{room},"text":{text}{notice}}}\r\n'
)


def _spoken(event: events.Said | events.Acted) -> bytes:
    """
    A line said or acted in a room, as L{encode} of L{eventObject} has it,
    from a template: most of what a page is sent, and a third of the time
    (6 µs an event the general way, 2 this way; bench S9).
    """
    sender = event.sender
    account = sender.account
    return _SPOKEN.format(
        kind=type(event).__name__,
        id=_string(event.id),
        time=round(event.time, 3),
        nickname=_string(sender.nickname),
        account="" if account is None else ',"account":' + _string(account),
        room=_string(event.room),
        text=_string(event.text),
        notice=',"notice":true' if getattr(event, "notice", False) else "",
    ).encode("utf-8")


@implementer(IRenderer)
class PageRenderer:
    """
    Events as JSON, the same for every page whatever its language: the
    page words them itself.
    """

    def __init__(self) -> None:
        # As NativeRenderer: the sender's own view comes right after.
        self._last: tuple[object, bytes] = (None, b"")

    def render(self, event: events.Event) -> bytes:
        kind = type(event)
        if kind is events.Said or kind is events.Acted:
            data = _spoken(event)
        else:
            data = encode(eventObject(event))
        self._last = (event, data)
        return data

    def renderOwn(self, event: events.Event) -> bytes:
        if isinstance(event, (events.Whispered, events.AccountChanged)):
            return encode(eventObject(event, own=True))
        last, data = self._last
        return data if last is event else self.render(event)

    def __repr__(self) -> str:
        return "PageRenderer()"


PAGE_RENDERER = PageRenderer()


class PageSession(NativeSession):
    """
    A native session for the page: its room, the rooms, its scrollback and
    history as JSON; everything else as a terminal user has it.
    """

    name = "web"
    __slots__ = ()

    def rendererFor(self, language: str) -> IRenderer:
        return PAGE_RENDERER

    def errorLine(self, error: ChatError) -> str:
        """
        A refusal as the page reads it: its words and, in C{code}, the
        kind of refusal (C{NicknameInUse}...), so that a page can tell a
        taken nickname from a malformed one without reading the words.
        """
        text = super().errorLine(error).removeprefix(wire.ERROR_PREFIX)
        return json.dumps(
            {"type": "error", "text": text, "code": type(error).__name__}, ensure_ascii=False
        )

    def _send(self, message: dict[str, object]) -> None:
        self.connection.write(encode(message))

    def _replay(self) -> None:
        room = self.member.room
        self._send(roomObject(room))
        if room is None or self.history is None or not self.history.replay:
            return
        recent = self.history.recent(room.name)
        self._send(
            {
                "type": "scrollback",
                "room": room.name,
                "events": [eventObject(event) for event in recent],
            }
        )

    def command_Who(self, command: wire.Who) -> None:
        self._send(roomObject(self._room()))

    def command_Rooms(self, command: wire.Rooms) -> None:
        self._send(
            {
                "type": "rooms",
                "rooms": [
                    {"room": room.name, "count": len(room.members), "topic": room.topic}
                    for room in self.hub.listedRooms(self.member)
                ],
            }
        )

    def showHistory(
        self, found: list, room: str | None = None, nickname: str | None = None
    ) -> None:
        self._send(
            {
                "type": "history",
                "room": room,
                "nickname": nickname,
                "events": [eventObject(event, own=self._isOwn(event)) for event in found],
            }
        )

    def _isOwn(self, event: events.Event) -> bool:
        return isinstance(event, events.Whispered) and event.sender.nickname == self.member.nickname
