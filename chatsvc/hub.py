"""
The hub: nickname registry, rooms, membership and delivery of events.

It knows nothing of bytes, sockets or wording.  Front-ends call it with
decoded requests and it answers by raising L{chatsvc.errors.ChatError} or by
delivering L{chatsvc.events} to L{chatsvc.interfaces.IParticipant}s.
"""

from __future__ import annotations

from typing import Callable, Iterable

from attrs import define, field
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger

from chatsvc import events
from chatsvc.errors import (
    AlreadyInRoom,
    AlreadyRegistered,
    NicknameInUse,
    NoSuchNickname,
    NotRegistered,
)
from chatsvc.interfaces import IParticipant
from chatsvc.names import checkNickname, checkRoomName, nameKey

DEFAULT_ROOM = "lobby"
DEFAULT_CROWD_SIZE = 100
DEFAULT_CROWD_INTERVAL = 1.0


@define(eq=False)
class Member:
    """
    The hub's record of one connection.

    Front-ends hold on to it and pass it back with every request; its fields
    are for reading only.
    """

    participant: IParticipant
    nickname: str | None = None
    room: Room | None = None


@define(eq=False)
class Room:
    """
    A set of members who hear each other, in the order they came in.

    C{joined} and C{left} collect comings and goings while a crowd summary is
    pending (see L{Hub}).
    """

    name: str
    members: dict[Member, None] = field(factory=dict)
    joined: dict[str, None] = field(factory=dict)
    left: dict[str, None] = field(factory=dict)
    summary: IDelayedCall | None = None


class Hub:
    """
    Everyone connected, by nickname and by room.

    Crowd policy: in a room of fewer than C{crowdSize} members every arrival
    and departure is announced at once.  From C{crowdSize} members on they are
    gathered and announced as one L{events.Crowd} summary at most every
    C{crowdInterval} seconds, so that n people joining one room costs O(n)
    deliveries per interval instead of O(n^2).  Chat lines are never delayed.
    """

    log = Logger()

    def __init__(
        self,
        clock: IReactorTime,
        defaultRoom: str = DEFAULT_ROOM,
        crowdSize: int = DEFAULT_CROWD_SIZE,
        crowdInterval: float = DEFAULT_CROWD_INTERVAL,
    ) -> None:
        self._clock = clock
        self.defaultRoom = checkRoomName(defaultRoom)
        self._crowdSize = crowdSize
        self._crowdInterval = crowdInterval
        self.members: set[Member] = set()
        self._byNickname: dict[str, Member] = {}
        self._rooms: dict[str, Room] = {}
        self._emptyWaiters: list[Callable[[], None]] = []

    # Connections

    def connect(self, participant: IParticipant) -> Member:
        """
        Admit a new connection that has no nickname yet.
        """
        member = Member(participant)
        self.members.add(member)
        return member

    def register(self, member: Member, nickname: str) -> None:
        """
        Give C{member} its first nickname and put it in the default room.

        @raise InvalidName: the nickname breaks the rule.
        @raise NicknameInUse: someone holds it.
        """
        if member.nickname is not None:
            raise AlreadyRegistered()
        nickname = checkNickname(nickname)
        key = nameKey(nickname)
        if key in self._byNickname:
            raise NicknameInUse(nickname)
        self._byNickname[key] = member
        member.nickname = nickname
        room = self._enter(member, self.defaultRoom)
        self.log.info("{nickname} registered", nickname=nickname)
        member.participant.deliver(events.Welcome(nickname, room.name))
        self._announceArrival(room, member, events.Joined(nickname, room.name))

    def disconnect(self, member: Member, reason: str | None = None) -> None:
        """
        Forget C{member}; announce the leave if it had a nickname.

        Safe to call more than once: only the first call announces anything,
        so every way out (quit, EOF, reset, server close) leaves exactly once.
        """
        if member not in self.members:
            return
        self.members.discard(member)
        if member.nickname is not None:
            del self._byNickname[nameKey(member.nickname)]
            room = self._leave(member)
            self._announceDeparture(
                room, member, events.Left(member.nickname, room.name, reason)
            )
            self.log.info("{nickname} left", nickname=member.nickname)
        if not self.members:
            waiters, self._emptyWaiters = self._emptyWaiters, []
            for waiter in waiters:
                waiter()

    # Requests of registered members

    def say(self, member: Member, text: str) -> None:
        """
        Send C{text} to everyone in C{member}'s room, C{member} included.
        """
        room = self._roomOf(member)
        self._broadcast(room.members, events.Said(member.nickname, room.name, text))

    def act(self, member: Member, text: str) -> None:
        """
        Like L{say}, for an action ("/me waves").
        """
        room = self._roomOf(member)
        self._broadcast(
            room.members, events.Acted(member.nickname, room.name, text)
        )

    def whisper(
        self, member: Member, nickname: str, text: str, action: bool = False
    ) -> None:
        """
        Send C{text} to C{nickname} alone, and echo it to the sender.

        @raise NoSuchNickname: nobody by that name is here.
        """
        self._roomOf(member)
        target = self.find(nickname)
        event = events.Whispered(member.nickname, target.nickname, text, action)
        target.participant.deliver(event)
        if target is not member:
            member.participant.deliver(event)

    def rename(self, member: Member, nickname: str) -> None:
        """
        Change C{member}'s nickname and tell its room.

        A change of case only ("bob" to "Bob") is allowed.
        """
        room = self._roomOf(member)
        old = member.nickname
        nickname = checkNickname(nickname)
        key, oldKey = nameKey(nickname), nameKey(old)
        if nickname == old:
            return
        if key != oldKey:
            if key in self._byNickname:
                raise NicknameInUse(nickname)
            del self._byNickname[oldKey]
            self._byNickname[key] = member
        member.nickname = nickname
        if old in room.joined:
            del room.joined[old]
            room.joined[nickname] = None
        self.log.info("{old} is now {new}", old=old, new=nickname)
        self._broadcast(room.members, events.Renamed(old, nickname, room.name))

    def join(self, member: Member, roomName: str) -> None:
        """
        Move C{member} to the room called C{roomName}, making it if needed.

        @raise InvalidName: the room name breaks the rule.
        @raise AlreadyInRoom: C{member} is in that room.
        """
        current = self._roomOf(member)
        roomName = checkRoomName(roomName)
        if nameKey(roomName) == nameKey(current.name):
            raise AlreadyInRoom(current.name)
        nickname = member.nickname
        self._leave(member)
        room = self._enter(member, roomName)
        self._announceDeparture(
            current, member, events.Departed(nickname, current.name, room.name)
        )
        member.participant.deliver(events.Moved(room.name, len(room.members)))
        self._announceArrival(
            room, member, events.Arrived(nickname, room.name, current.name)
        )

    # Questions

    def find(self, nickname: str) -> Member:
        """
        The member who holds C{nickname} (compared by key).

        @raise NoSuchNickname: nobody does.
        """
        member = self._byNickname.get(nameKey(nickname))
        if member is None:
            raise NoSuchNickname(nickname)
        return member

    def who(self, member: Member) -> list[str]:
        """
        The nicknames in C{member}'s room, in the order they came in.
        """
        return [m.nickname for m in self._roomOf(member).members]

    def rooms(self) -> list[tuple[str, int]]:
        """
        Every room with its member count, by name.
        """
        return sorted(
            ((room.name, len(room.members)) for room in self._rooms.values()),
            key=lambda pair: nameKey(pair[0]),
        )

    # Shutting down

    def shutdown(self) -> None:
        """
        Tell every connection that the server is closing.

        Front-ends answer L{events.Closing} by closing gracefully; pending
        crowd summaries are dropped.
        """
        for room in self._rooms.values():
            if room.summary is not None:
                room.summary.cancel()
                room.summary = None
        self._broadcast(list(self.members), events.Closing())

    def whenEmpty(self, callback: Callable[[], None]) -> None:
        """
        Call C{callback} once no connection is left (now, if none is).
        """
        if self.members:
            self._emptyWaiters.append(callback)
        else:
            callback()

    def closeAll(self) -> None:
        """
        End every remaining connection at once.
        """
        for member in list(self.members):
            member.participant.close()

    # Internals

    def _roomOf(self, member: Member) -> Room:
        if member.room is None:
            raise NotRegistered()
        return member.room

    def _enter(self, member: Member, roomName: str) -> Room:
        key = nameKey(roomName)
        room = self._rooms.get(key)
        if room is None:
            room = self._rooms[key] = Room(roomName)
        room.members[member] = None
        member.room = room
        return room

    def _leave(self, member: Member) -> Room:
        room = self._roomOf(member)
        del room.members[member]
        member.room = None
        if not room.members and nameKey(room.name) != nameKey(self.defaultRoom):
            if room.summary is not None:
                room.summary.cancel()
            del self._rooms[nameKey(room.name)]
        return room

    def _broadcast(self, members: Iterable[Member], event: events.Event) -> None:
        for member in members:
            member.participant.deliver(event)

    def _others(self, room: Room, member: Member) -> Iterable[Member]:
        return (m for m in room.members if m is not member)

    def _isCrowded(self, room: Room, size: int) -> bool:
        return room.summary is not None or size >= self._crowdSize

    def _announceArrival(self, room: Room, member: Member, event: events.Event) -> None:
        if self._isCrowded(room, len(room.members)):
            room.joined[member.nickname] = None
            self._scheduleSummary(room)
        else:
            self._broadcast(self._others(room, member), event)

    def _announceDeparture(
        self, room: Room, member: Member, event: events.Event
    ) -> None:
        if not room.members:
            return
        if self._isCrowded(room, len(room.members) + 1):
            if member.nickname in room.joined:
                # Came and went within one summary: nobody needs to hear of it.
                del room.joined[member.nickname]
            else:
                room.left[member.nickname] = None
            self._scheduleSummary(room)
        else:
            self._broadcast(room.members, event)

    def _scheduleSummary(self, room: Room) -> None:
        if room.summary is None:
            room.summary = self._clock.callLater(
                self._crowdInterval, self._summarize, room
            )

    def _summarize(self, room: Room) -> None:
        room.summary = None
        joined, left = tuple(room.joined), tuple(room.left)
        room.joined.clear()
        room.left.clear()
        if joined or left:
            self._broadcast(room.members, events.Crowd(room.name, joined, left))
