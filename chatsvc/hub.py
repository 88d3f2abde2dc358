"""
The hub: nickname registry, rooms, membership and delivery of events.

It knows nothing of bytes, sockets or wording.  Front-ends call it with
decoded requests and it answers by raising L{chatsvc.errors.ChatError} or by
publishing L{chatsvc.events}, each once, on the one delivery path
(L{chatsvc.delivery}), stamped with an id, the time and its sender's
identity.

A member may be in several rooms at once (IRC channels); the native front-end
keeps its members in exactly one, moving them with L{Hub.move}.
"""

from __future__ import annotations

from typing import Callable

from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger

from chatsvc import events
from chatsvc.delivery import Audience, Delivery
from chatsvc.errors import (
    AlreadyInRoom,
    AlreadyRegistered,
    CannotSpeak,
    NicknameInUse,
    NicknameReserved,
    NoSuchNickname,
    NoSuchRoom,
    NotInRoom,
    NotRegistered,
    TooManyConnections,
    TooManyRooms,
)
from chatsvc.ids import MessageIds
from chatsvc.interfaces import IParticipant
from chatsvc.moderating import Moderating
from chatsvc.replicating import Replicating
from chatsvc.moderation import (
    Action,
    Modes,
    Role,
    can,
)
from chatsvc.names import (
    MAX_AWAY_LENGTH,
    MAX_REALNAME_LENGTH,
    MAX_TOPIC_LENGTH,
    checkNickname,
    checkRoomName,
    nameKey,
)
from chatsvc.records import Member, Room
from chatsvc.storm import StormLog
from chatsvc.times import ServerClock

DEFAULT_ROOM = "lobby"
DEFAULT_CROWD_SIZE = 100
DEFAULT_CROWD_INTERVAL = 1.0
DEFAULT_MAX_CONNECTIONS = 10_000
# Generous: a class or an office behind one NAT address is normal.
DEFAULT_MAX_PER_ADDRESS = 100
DEFAULT_REGISTRATION_TIMEOUT = 60.0
# ngircd allows 10 channels per user, InspIRCd 20, Ergo 100.
DEFAULT_MAX_ROOMS_PER_MEMBER = 20
# A room costs about a kilobyte; this many is a big school's worth.
DEFAULT_MAX_ROOMS = 10_000


class Hub(Moderating, Replicating):
    """
    Everyone connected, by nickname and by room.

    Crowd policy: in a room of fewer than C{crowdSize} members every arrival
    and departure is announced at once.  From C{crowdSize} members on they are
    gathered and announced as one L{events.Crowd} summary at most every
    C{crowdInterval} seconds, so that n people joining one room costs O(n)
    deliveries per interval instead of O(n^2).  Chat lines are never delayed.

    Limits: at most C{maxConnections} connections in all and
    C{maxPerAddress} from one host, whatever their front-end; a connection
    that has no nickname C{registrationTimeout} seconds after connecting is
    told so and closed.  A member may be in C{maxRoomsPerMember} rooms at
    once and the server holds at most C{maxRooms}; topics, away messages and
    real names are cut to the lengths in L{chatsvc.names}.  So nothing a
    client does makes the hub hold more than these bounds
    (C{docs/bounds.rst}).

    Roles: whoever makes a room (enters it empty) is its operator, unless
    the room is registered, when each account gets the role the room keeps
    for it.  Every request that changes something asks
    L{chatsvc.moderation.can} (or L{joinRefusal}) first, so both front-ends
    follow one set of rules; server operators may do everything.

    @ivar nicknameOwner: the account a nickname is registered to, if any
        (the service sets it once accounts are loaded): such a nickname is
        for that account's holder only.
    @ivar roomChanged: called with a registered room whenever what it keeps
        across restarts changes (the service saves it).
    @ivar outgoing: where every published event leaves the hub: the
        delivery path itself, unless a cluster link takes it round the
        other nodes first.
    @ivar nicknameTaken: called with a member once it has its first
        nickname, before anything it does is published (a cluster claims
        the nickname on every node).
    @ivar crowdMoved: called with the arrival or departure a crowded room
        only summarises (L{events.Crowd} names no identities, and other
        nodes must still know who is where).
    @ivar serverClock: what stamps events with their times; a cluster
        tells it the times of other nodes' events (L{ServerClock.witness}),
        so that what is said here after them is after them in history.
    """

    log = Logger()

    def __init__(
        self,
        clock: IReactorTime,
        defaultRoom: str = DEFAULT_ROOM,
        crowdSize: int = DEFAULT_CROWD_SIZE,
        crowdInterval: float = DEFAULT_CROWD_INTERVAL,
        maxConnections: int = DEFAULT_MAX_CONNECTIONS,
        maxPerAddress: int = DEFAULT_MAX_PER_ADDRESS,
        registrationTimeout: float = DEFAULT_REGISTRATION_TIMEOUT,
        maxRoomsPerMember: int = DEFAULT_MAX_ROOMS_PER_MEMBER,
        maxRooms: int = DEFAULT_MAX_ROOMS,
        ids: MessageIds | None = None,
    ) -> None:
        self.maxRoomsPerMember = maxRoomsPerMember
        self.maxRooms = maxRooms
        self._clock = clock
        self._ids = ids if ids is not None else MessageIds()
        self.serverClock = ServerClock(clock)
        # Where every event leaves; observers (history, a bus) attach to it.
        self.delivery = Delivery(self._failed)
        self._failing: set[Member] = set()
        self._maxConnections = maxConnections
        self._maxPerAddress = maxPerAddress
        self._registrationTimeout = registrationTimeout
        self._perAddress: dict[str, int] = {}
        # Connections without a nickname yet, oldest first, with deadlines.
        self._unnamed: dict[Member, float] = {}
        self._deadlines: IDelayedCall | None = None
        self.defaultRoom = checkRoomName(defaultRoom)
        self._crowdSize = crowdSize
        self._crowdInterval = crowdInterval
        self.members: set[Member] = set()
        self._byNickname: dict[str, Member] = {}
        self._rooms: dict[str, Room] = {}
        # Topics of rooms that are gone, by key, for when they come back (a
        # restart, a room that empties): at most maxRooms, oldest dropped.
        self._topics: dict[str, str] = {}
        self._emptyWaiters: list[Callable[[], None]] = []
        self._logArrival = StormLog(
            self.log, clock, "{who} registered", "{count} more registered: {who}"
        )
        self._logDeparture = StormLog(self.log, clock, "{who} left", "{count} more left: {who}")
        # Connections that proved they are server operators (for LUSERS).
        self.operatorCount = 0
        self.nicknameOwner: Callable[[str], str | None] = lambda nickname: None
        self.roomChanged: Callable[[Room], None] = lambda room: None
        # The seams a cluster (chatsvc.cluster.link) attaches to; alone, a
        # hub delivers at once and tells nobody else.
        self.outgoing: Callable[[events.Event, Audience], None] = self.delivery.publish
        self.nicknameTaken: Callable[[Member], None] = lambda member: None
        self.crowdMoved: Callable[[events.Event], None] = lambda event: None

    @property
    def clock(self) -> IReactorTime:
        """
        The clock events are stamped by, for front-ends that keep time.
        """
        return self._clock

    # Connections

    def connect(
        self, participant: IParticipant, username: str = "user", host: str = "unknown"
    ) -> Member:
        """
        Admit a new connection that has no nickname yet.

        @raise TooManyConnections: the server, or C{host}'s share of it, is
            full; the front-end should say so and close.
        """
        if len(self.members) >= self._maxConnections:
            raise TooManyConnections("total", self._maxConnections)
        count = self._perAddress.get(host, 0)
        if count >= self._maxPerAddress:
            raise TooManyConnections("address", self._maxPerAddress)
        self._perAddress[host] = count + 1
        member = Member(participant, username=username, host=host)
        self.members.add(member)
        self._unnamed[member] = self._clock.seconds() + self._registrationTimeout
        if self._deadlines is None:
            self._deadlines = self._clock.callLater(self._registrationTimeout, self._timeOut)
        return member

    def _timeOut(self) -> None:
        """
        Tell every connection past its deadline without a nickname so, and
        wait for the next deadline.

        One timer for all of them rather than one per connection: they
        connected in order and all get the same time, so the oldest is
        always the next due, and a registration costs a dictionary deletion
        instead of a timer's scheduling and cancelling.
        """
        self._deadlines = None
        now = self._clock.seconds()
        while self._unnamed:
            member, deadline = next(iter(self._unnamed.items()))
            if deadline > now:
                self._deadlines = self._clock.callLater(deadline - now, self._timeOut)
                return
            del self._unnamed[member]
            self.log.info("a connection from {host} never chose a nickname", host=member.host)
            self.delivery.direct(member, events.TimedOut(member.host, **self.stamp()))

    def _forgetDeadline(self, member: Member) -> None:
        if (
            self._unnamed.pop(member, None) is not None
            and not self._unnamed
            and self._deadlines is not None
        ):
            self._deadlines.cancel()
            self._deadlines = None

    def register(
        self,
        member: Member,
        nickname: str,
        enter: bool = True,
        username: str | None = None,
        realname: str | None = None,
    ) -> None:
        """
        Give C{member} its first nickname (and, if given, its user name and
        real name) and, if C{enter}, put it in the default room.

        @raise InvalidName: the nickname breaks the rule.
        @raise NicknameInUse: someone holds it.
        """
        if member.nickname is not None:
            raise AlreadyRegistered()
        nickname = self.checkAvailable(nickname, member.account)
        if enter:
            room = self._rooms.get(nameKey(self.defaultRoom))
            if room is not None:
                self._checkEntry(
                    member,
                    room,
                    events.Identity(nickname, username or member.username, member.host,
                                    member.account),
                )
        self._forgetDeadline(member)
        if username is not None:
            member.username = username
        if realname is not None:
            member.realname = realname[:MAX_REALNAME_LENGTH]
        self._byNickname[nameKey(nickname)] = member
        self._name(member, nickname)
        member.signon = member.lastSpoke = self._clock.seconds()
        self.nicknameTaken(member)
        self._logArrival(f"{nickname} ({member.username}@{member.host})")
        if enter:
            room = self._enter(member, self.defaultRoom)
            self.delivery.direct(member, events.Welcome(nickname, room.name, **self.stamp()))
            self._announceArrival(
                room, member, events.Joined(member.identity, room.name, **self.stamp())
            )
        else:
            self.delivery.direct(member, events.Welcome(nickname, "", **self.stamp()))

    def checkAvailable(self, nickname: str, account: str | None = None) -> str:
        """
        The display form of C{nickname} if the holder of C{account} (or of
        none) could take it now.

        @raise InvalidName: the nickname breaks the rule.
        @raise NicknameInUse: someone holds it.
        @raise NicknameReserved: it is registered to another account.
        """
        nickname = checkNickname(nickname)
        if nameKey(nickname) in self._byNickname:
            raise NicknameInUse(nickname)
        self._checkReserved(nickname, account)
        return nickname

    def _checkReserved(self, nickname: str, account: str | None) -> None:
        owner = self.nicknameOwner(nickname)
        if owner is not None and (account is None or nameKey(owner) != nameKey(account)):
            raise NicknameReserved(nickname)

    def disconnect(self, member: Member, reason: str | None = None) -> None:
        """
        Forget C{member}; announce the leave if it had a nickname.

        Safe to call more than once: only the first call announces anything,
        so every way out (quit, EOF, reset, server close) leaves exactly once.
        Everyone who shared a room with it hears of it once.
        """
        if member not in self.members:
            return
        self.members.discard(member)
        member.connected = False
        if member.operator is not None:
            self.operatorCount -= 1
        self._failing.discard(member)
        self._forgetDeadline(member)
        remaining = self._perAddress.pop(member.host) - 1
        if remaining:
            self._perAddress[member.host] = remaining
        if member.nickname is not None:
            del self._byNickname[nameKey(member.nickname)]
            told: list[Room] = []
            for room in member.rooms:
                self._leave(member, room)
                if self._isCrowded(room, len(room.members) + 1):
                    self._batchDeparture(room, member)
                else:
                    told.append(room)
            self._publish(
                events.Left(member.identity, reason, **self.stamp()), rooms=tuple(told)
            )
            self._logDeparture(member.nickname)
        else:
            self._logDeparture(f"a connection from {member.host} without a nickname")
        if not self.members:
            # Nobody left to group with: log what is held now.
            self._logArrival.flush()
            self._logDeparture.flush()
            waiters, self._emptyWaiters = self._emptyWaiters, []
            for waiter in waiters:
                waiter()

    # Requests of registered members

    def say(
        self,
        member: Member,
        text: str,
        roomName: str | None = None,
        notice: bool = False,
    ) -> None:
        """
        Send C{text} to everyone in a room, C{member} included.

        @param roomName: the room; by default C{member}'s first.
        @raise NotInRoom: C{member} is in no room (and named none).
        @raise CannotSpeak: the room's modes keep C{member} quiet there.
        """
        room = self._speakingRoom(member, roomName)
        stamp = self.stamp()
        member.lastSpoke = self._clock.seconds()
        self._publish(
            events.Said(member.identity, room.name, text, notice, **stamp),
            rooms=(room,),
            actor=member,
        )

    def act(self, member: Member, text: str, roomName: str | None = None) -> None:
        """
        Like L{say}, for an action ("/me waves").
        """
        room = self._speakingRoom(member, roomName)
        stamp = self.stamp()
        member.lastSpoke = self._clock.seconds()
        self._publish(
            events.Acted(member.identity, room.name, text, **stamp),
            rooms=(room,),
            actor=member,
        )

    def whisper(
        self,
        member: Member,
        nickname: str,
        text: str,
        action: bool = False,
        notice: bool = False,
    ) -> Member:
        """
        Send C{text} to C{nickname} alone, and echo it to the sender.

        @return: the recipient, whose away message the sender may want.
        @raise NoSuchNickname: nobody by that name is here.
        """
        self._registered(member)
        target = self.find(nickname)
        stamp = self.stamp()
        member.lastSpoke = self._clock.seconds()
        event = events.Whispered(
            member.identity, target.nickname, text, action, notice, **stamp
        )
        if target is member:
            # A note to oneself arrives once, as a message received.
            self._publish(event, members=(target,))
        else:
            self._publish(event, members=(target,), actor=member)
        return target

    def rename(self, member: Member, nickname: str) -> None:
        """
        Change C{member}'s nickname and tell everyone who shares a room with it.

        A change of case only ("bob" to "Bob") is allowed.
        """
        old = self._registered(member)
        nickname = checkNickname(nickname)
        key, oldKey = nameKey(nickname), nameKey(old)
        if nickname == old:
            return
        if key != oldKey:
            if key in self._byNickname:
                raise NicknameInUse(nickname)
            self._checkReserved(nickname, member.account)
            del self._byNickname[oldKey]
            self._byNickname[key] = member
        identity = member.identity
        self._name(member, nickname)
        for room in member.rooms:
            if old in room.joined:
                del room.joined[old]
                room.joined[nickname] = None
        self.log.info("{old} is now {new}", old=old, new=nickname)
        self._publish(
            events.Renamed(identity, nickname, **self.stamp()),
            rooms=member.rooms,
            actor=member,
        )

    def move(self, member: Member, roomName: str, key: str | None = None) -> None:
        """
        Move C{member} from its room to the room called C{roomName}, making
        it if needed (the native C{/join}).

        A member in no room (kicked out of its last) comes in as if it
        joined.

        @raise InvalidName: the room name breaks the rule.
        @raise AlreadyInRoom: C{member} is in that room.
        @raise TooManyRooms: the server holds as many rooms as it may.
        @raise CannotJoin: the room's modes keep C{member} out.
        """
        self._registered(member)
        current = member.room
        roomName = checkRoomName(roomName)
        if current is not None and nameKey(roomName) == nameKey(current.name):
            raise AlreadyInRoom(current.name)
        self._checkRoomCount(roomName)
        existing = self._rooms.get(nameKey(roomName))
        if existing is not None:
            self._checkEntry(member, existing, member.identity, key)
        identity = member.identity
        if current is not None:
            self._leave(member, current)
        room = self._enter(member, roomName)
        if current is not None:
            self._announceDeparture(
                current,
                member,
                events.Departed(identity, current.name, room.name, **self.stamp()),
            )
        self.delivery.direct(member, events.Moved(room.name, len(room.members), **self.stamp()))
        if current is None:
            arrival: events.Event = events.Joined(
                identity, room.name, member.away, **self.stamp()
            )
        else:
            arrival = events.Arrived(
                identity, room.name, current.name, member.away, **self.stamp()
            )
        self._announceArrival(room, member, arrival)

    def enter(self, member: Member, roomName: str, key: str | None = None) -> Room:
        """
        Add C{member} to the room called C{roomName}, making it if needed,
        while it stays in its other rooms (IRC JOIN).

        The others in the room hear of it; the front-end tells C{member}.

        @raise InvalidName: the room name breaks the rule.
        @raise AlreadyInRoom: C{member} is in that room.
        @raise TooManyRooms: C{member} is in as many rooms as it may be, or
            the server holds as many as it may.
        @raise CannotJoin: the room's modes keep C{member} out (C{key}: the
            word it gave for a C{+k} room).
        """
        self._registered(member)
        roomName = checkRoomName(roomName)
        room = self._rooms.get(nameKey(roomName))
        if room is not None and member in room.members:
            raise AlreadyInRoom(room.name)
        if len(member.rooms) >= self.maxRoomsPerMember:
            raise TooManyRooms("member", self.maxRoomsPerMember, roomName)
        if room is None:
            self._checkRoomCount(roomName)
        else:
            self._checkEntry(member, room, member.identity, key)
        room = self._enter(member, roomName)
        self._announceArrival(
            room, member, events.Joined(member.identity, room.name, member.away, **self.stamp())
        )
        return room

    def part(self, member: Member, roomName: str, reason: str | None = None) -> Room:
        """
        Take C{member} out of a room while it stays connected (IRC PART).

        @raise NoSuchRoom: there is no such room.
        @raise NotInRoom: C{member} is not in it.
        """
        room = self._roomOf(member, roomName)
        self._leave(member, room)
        self._announceDeparture(
            room, member, events.Parted(member.identity, room.name, reason, **self.stamp())
        )
        return room

    def setTopic(self, member: Member, roomName: str, topic: str) -> None:
        """
        Set a room's topic (cut to L{MAX_TOPIC_LENGTH} characters) and tell
        its members, C{member} included.

        @raise NotPermitted: the topic is locked (C{+t}) and C{member} is no
            operator.
        """
        room = self._roomOf(member, roomName)
        self._require(member, room, Action.TOPIC)
        topic = topic[:MAX_TOPIC_LENGTH]
        room.topic = topic
        room.topicSetter = member.nickname
        room.topicTime = self._clock.seconds()
        self._rememberTopic(nameKey(room.name), topic)
        self._changed(room)
        self._publish(
            events.TopicChanged(member.identity, room.name, topic, **self.stamp()),
            rooms=(room,),
            actor=member,
        )

    def setAway(self, member: Member, message: str | None) -> None:
        """
        Mark C{member} away with C{message} (cut to L{MAX_AWAY_LENGTH}
        characters), or back with C{None}.
        """
        self._registered(member)
        away = message[:MAX_AWAY_LENGTH] if message else None
        if away == member.away:
            return
        member.away = away
        self._publish(
            events.AwayChanged(member.identity, away, **self.stamp()),
            rooms=member.rooms,
            actor=member,
            echo=False,
        )

    def setRealname(self, member: Member, realname: str) -> None:
        """
        Change C{member}'s real name (cut to L{MAX_REALNAME_LENGTH}
        characters) and tell it and everyone who shares a room with it.
        """
        self._registered(member)
        member.realname = realname[:MAX_REALNAME_LENGTH]
        self._name(member, member.nickname)
        self._publish(
            events.RealnameChanged(member.identity, member.realname, **self.stamp()),
            rooms=member.rooms,
            actor=member,
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

    def room(self, roomName: str) -> Room:
        """
        The room called C{roomName} (compared by key).

        @raise NoSuchRoom: there is none.
        """
        try:
            key = nameKey(checkRoomName(roomName))
        except Exception:
            raise NoSuchRoom(roomName)
        room = self._rooms.get(key)
        if room is None:
            raise NoSuchRoom(roomName)
        return room

    def who(self, member: Member, roomName: str | None = None) -> list[str]:
        """
        The nicknames in a room (by default C{member}'s first), in the order
        they came in.
        """
        return [m.nickname for m in self._roomOf(member, roomName).members]

    def rooms(self) -> list[Room]:
        """
        Every room, by name.
        """
        return sorted(self._rooms.values(), key=lambda room: nameKey(room.name))

    def listedRooms(self, member: Member) -> list[Room]:
        """
        The rooms C{member} may see listed (L{Room.listedTo}), by name.
        """
        return [room for room in self.rooms() if room.listedTo(member)]

    def registeredCount(self) -> int:
        """
        How many connections have a nickname.
        """
        return len(self._byNickname)

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
        for member in list(self.members):
            self.delivery.direct(member, events.Closing(**self.stamp()))

    def announce(self, what: str) -> None:
        """
        Tell every registered connection something about the server
        (L{events.Announcement}); not published, not kept.
        """
        event = events.Announcement(what, **self.stamp())
        for member in list(self._byNickname.values()):
            self.delivery.direct(member, event)

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

    def _registered(self, member: Member) -> str:
        if member.nickname is None:
            raise NotRegistered()
        return member.nickname

    def _roomOf(self, member: Member, roomName: str | None = None) -> Room:
        self._registered(member)
        if roomName is None:
            room = member.room
            if room is None:
                raise NotInRoom("")
            return room
        room = self.room(roomName)
        if room not in member.rooms:
            raise NotInRoom(room.name)
        return room

    def _speakingRoom(self, member: Member, roomName: str | None) -> Room:
        """
        The room C{member} would speak to, if its modes let it.
        """
        self._registered(member)
        if roomName is None:
            room = member.room
            if room is None:
                raise NotInRoom("")
        else:
            room = self.room(roomName)
        if member.operator is not None:
            return room
        if member not in room.members:
            if room.modes.noOutside:
                raise CannotSpeak(room.name, "outside")
            role = Role.MEMBER
        else:
            role = room.role(member)
        if not can(Action.SPEAK, role, room.modes):
            raise CannotSpeak(room.name, "moderated")
        if room.bans and role < Role.VOICE and self._banned(room, member.identity):
            raise CannotSpeak(room.name, "banned")
        return room

    def rememberTopics(self, topics: dict[str, str]) -> None:
        """
        The topics rooms had (by their names' keys), from the history store:
        a room that comes back has its topic again.
        """
        for key, topic in topics.items():
            self._rememberTopic(key, topic)
            room = self._rooms.get(key)
            if room is not None and not room.topic:
                room.topic = topic

    def _rememberTopic(self, key: str, topic: str) -> None:
        self._topics.pop(key, None)
        if topic:
            self._topics[key] = topic
            if len(self._topics) > self.maxRooms:
                del self._topics[next(iter(self._topics))]

    def _checkRoomCount(self, roomName: str) -> None:
        if nameKey(roomName) not in self._rooms and len(self._rooms) >= self.maxRooms:
            raise TooManyRooms("server", self.maxRooms, roomName)

    def _enter(self, member: Member, roomName: str) -> Room:
        """
        Put C{member} in a room (its entry checked), making it if needed:
        whoever enters an empty room nobody registered makes it anew and
        is its operator.
        """
        key = nameKey(roomName)
        room = self._rooms.get(key)
        if room is None:
            room = self._rooms[key] = Room(
                roomName, topic=self._topics.get(key, ""), created=self._clock.seconds()
            )
        elif not room.members and room.owner is None:
            # The default room stays when empty; it is new all the same.
            room.modes, room.bans, room.created = Modes(), {}, self._clock.seconds()
            room.invited.clear()
        if room.owner is not None:
            self._keepRole(room, member)
        elif not room.members:
            room.operators.add(member)
        room.invited.pop(nameKey(member.nickname), None)
        room.members[member] = None
        member.rooms = (*member.rooms, room)
        return room

    def _leave(self, member: Member, room: Room) -> None:
        del room.members[member]
        room.operators.discard(member)
        room.voiced.discard(member)
        member.rooms = tuple(other for other in member.rooms if other is not room)
        if (
            not room.members
            and room.owner is None
            and nameKey(room.name) != nameKey(self.defaultRoom)
        ):
            if room.summary is not None:
                room.summary.cancel()
                room.summary = None
            del self._rooms[nameKey(room.name)]

    def stamp(self) -> dict[str, object]:
        """
        The identity of an event accepted now: a new id and the time.

        Public for the cluster's link, which makes events the hub then
        publishes or tells one connection (a drop, a rename undone).
        """
        return {"id": self._ids.next(), "time": self.serverClock.stamp()}

    def _name(self, member: Member, nickname: str) -> None:
        member.nickname = nickname
        member.identity = events.Identity(
            nickname, member.username, member.host, member.account, member.realname
        )

    def _publish(
        self,
        event: events.Event,
        rooms: tuple[Room, ...] = (),
        members: tuple[Member, ...] = (),
        actor: Member | None = None,
        echo: bool = True,
    ) -> None:
        """
        Every event that someone other than its own connection hears leaves
        the hub here, once.
        """
        self.outgoing(event, Audience(rooms, members, actor, echo and actor is not None))

    def _failed(self, member: Member) -> None:
        """
        C{member}'s participant raised while being told something: drop it
        after this turn, once, so that the delivery under way goes on.
        """
        if member in self._failing or member not in self.members:
            return
        self._failing.add(member)
        try:
            member.participant.close()
        except Exception:
            self.log.failure("closing a failed participant failed too")
        self._clock.callLater(0, self.disconnect, member, "Internal error")

    def _isCrowded(self, room: Room, size: int) -> bool:
        return room.summary is not None or size >= self._crowdSize

    def _announceArrival(self, room: Room, member: Member, event: events.Event) -> None:
        if self._isCrowded(room, len(room.members)):
            room.joined[member.nickname] = None
            self._scheduleSummary(room)
            self.crowdMoved(event)
        else:
            self._publish(event, rooms=(room,), actor=member, echo=False)

    def _announceDeparture(
        self, room: Room, member: Member, event: events.Event
    ) -> None:
        if self._isCrowded(room, len(room.members) + 1):
            self._batchDeparture(room, member)
            self.crowdMoved(event)
        else:
            self._publish(event, rooms=(room,))

    def _batchDeparture(self, room: Room, member: Member) -> None:
        if not room.members:
            return
        if member.nickname in room.joined:
            # Came and went within one summary: nobody needs to hear of it.
            del room.joined[member.nickname]
        else:
            room.left[member.nickname] = None
        self._scheduleSummary(room)

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
            self._publish(events.Crowd(room.name, joined, left, **self.stamp()), rooms=(room,))
