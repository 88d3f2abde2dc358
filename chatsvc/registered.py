"""
Registered rooms across restarts: what the hub keeps of each, as the text
the store holds, and the keeper that saves every change and loads them all
at start-up.

A registered room's whole state is written each time it changes (it is a
few hundred bytes: modes, at most L{chatsvc.moderation.MAX_BANS} bans, the
roles of accounts), so a write that failed is mended by the next one and
nothing needs merging.
"""

from __future__ import annotations

import json
from typing import Any

from twisted.internet.defer import Deferred
from twisted.logger import Logger

from chatsvc.hub import Hub
from chatsvc.moderation import Modes, Role
from chatsvc.names import nameKey
from chatsvc.records import Ban, Room

_ROLES = {Role.OPERATOR: "o", Role.VOICE: "v"}
_BY_LETTER = {letter: role for role, letter in _ROLES.items()}


def encodeRoom(room: Room) -> str:
    """
    The text that keeps what a registered C{room} should have after a
    restart (its topic the store keeps already).
    """
    modes = room.modes
    return json.dumps(
        {
            "owner": room.owner,
            "created": room.created,
            "modes": {
                "i": modes.inviteOnly,
                "m": modes.moderated,
                "n": modes.noOutside,
                "s": modes.secret,
                "t": modes.topicLock,
                "k": modes.key,
                "l": modes.limit,
            },
            "bans": [[ban.mask, ban.setter, ban.time] for ban in room.bans.values()],
            "access": {key: _ROLES[role] for key, role in room.access.items()},
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def decodeRoom(text: str) -> dict[str, Any]:
    """
    The arguments of L{Hub.restoreRoom} (but the name) from L{encodeRoom}'s
    text.

    @raise ValueError: the text is not one this code wrote.
    """
    data = json.loads(text)
    try:
        flags = data["modes"]
        return {
            "owner": str(data["owner"]),
            "created": float(data["created"]),
            "modes": Modes(
                inviteOnly=bool(flags["i"]),
                moderated=bool(flags["m"]),
                noOutside=bool(flags["n"]),
                secret=bool(flags["s"]),
                topicLock=bool(flags["t"]),
                key=flags["k"],
                limit=flags["l"],
            ),
            "bans": [Ban(str(mask), str(setter), float(time)) for mask, setter, time in data["bans"]],
            "access": {str(key): _BY_LETTER[letter] for key, letter in data["access"].items()},
        }
    except (KeyError, TypeError) as error:
        raise ValueError(f"not a registered room: {error}") from error


class RoomKeeper:
    """
    Saves a registered room each time it changes, and brings every one
    back at start-up.

    Failed writes are logged; the room's next change writes it whole
    again.
    """

    log = Logger()

    def __init__(self, hub: Hub, store: Any) -> None:
        self._hub = hub
        self._store = store
        self._registered: set[str] = set()
        hub.roomChanged = self.changed

    def load(self) -> Deferred[None]:
        """
        Bring back every registered room the store keeps.
        """
        return self._store.roomStates().addCallback(self._restore)

    def _restore(self, states: dict[str, tuple[str, str]]) -> None:
        for key, (name, text) in states.items():
            try:
                state = decodeRoom(text)
            except ValueError as error:
                self.log.error("room {room} cannot be restored: {error}", room=name, error=error)
                continue
            self._hub.restoreRoom(name, **state)
            self._registered.add(key)
        self.log.info("{count} registered rooms", count=len(states))

    def changed(self, room: Room) -> None:
        """
        Save C{room} as it is now (or forget it, if its owner let it go).
        """
        key = nameKey(room.name)
        if room.owner is None:
            if key not in self._registered:
                return
            self._registered.discard(key)
            saved = self._store.dropRoomState(key)
        else:
            self._registered.add(key)
            saved = self._store.saveRoomState(key, room.name, encodeRoom(room))
        saved.addErrback(
            lambda failure: self.log.error(
                "room {room} not saved: {reason}",
                room=room.name,
                reason=getattr(failure.value, "reason", failure.getErrorMessage()),
            )
        )
