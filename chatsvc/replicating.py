"""
The hub's side of a cluster: records changed for what another node
accepted, with no checks and nothing published.

The node that accepted a change checked it (permissions, modes, limits) and
published it; every other node only makes its records say the same, so
that NAMES, WHO and WHOIS and its own members' audiences span the cluster.
The members another node holds are L{Member}s like any other, whose
participant (L{chatsvc.cluster.replica.RemoteParticipant}) renders nothing:
they are in C{_byNickname} and in their rooms, never in C{members}, which
counts this node's connections (its limits, LUSERS' local figures).
"""

from __future__ import annotations

from chatsvc import events
from chatsvc.errors import ChatError
from chatsvc.interfaces import IParticipant
from chatsvc.moderation import ModeChange, Role
from chatsvc.names import nameKey
from chatsvc.records import Member, Room


class Replicating:
    """
    Mixed into L{chatsvc.hub.Hub}: what a cluster link calls.

    @ivar remoteCount: how many members other nodes hold.
    @ivar nodeCount: how many nodes the chat spans, this one included.
    """

    remoteCount = 0
    nodeCount = 1

    def adopt(
        self,
        participant: IParticipant,
        identity: events.Identity,
        away: str | None = None,
        signon: float = 0.0,
    ) -> Member:
        """
        Record a member another node holds; one recorded under the same
        nickname before (a node that was lost and came back) is forgotten.
        """
        key = nameKey(identity.nickname)
        stale = self._byNickname.get(key)  # type: ignore[attr-defined]
        if stale is not None:
            self.forget(stale)
        member = Member(
            participant,
            username=identity.username,
            host=identity.host,
            realname=identity.realname,
            nickname=identity.nickname,
            away=away,
            signon=signon,
            lastSpoke=signon,
            identity=identity,
            account=identity.account,
        )
        self._byNickname[key] = member  # type: ignore[attr-defined]
        self.remoteCount += 1
        return member

    def forget(self, member: Member) -> None:
        """
        Take a member out of every room and of the registry, telling nobody
        (the caller tells those who must hear of it).
        """
        for room in member.rooms:
            self._leave(member, room)  # type: ignore[attr-defined]
        member.connected = False
        if member.nickname is not None:
            key = nameKey(member.nickname)
            if self._byNickname.get(key) is member:  # type: ignore[attr-defined]
                del self._byNickname[key]  # type: ignore[attr-defined]
                self.remoteCount -= 1

    def place(self, member: Member, roomName: str, role: Role) -> Room:
        """
        Put C{member} in a room (made if needed) with the role the node
        that let it in gave it.
        """
        room = self.existing(roomName)
        if room is not None and member in room.members:
            return room
        room = self._enter(member, roomName)  # type: ignore[attr-defined]
        room.operators.discard(member)
        room.voiced.discard(member)
        if role is Role.OPERATOR:
            room.operators.add(member)
        elif role is Role.VOICE:
            room.voiced.add(member)
        return room

    def remove(self, member: Member, roomName: str) -> None:
        """
        Take C{member} out of a room, if it is there.
        """
        room = self.existing(roomName)
        if room is not None and member in room.members:
            self._leave(member, room)  # type: ignore[attr-defined]

    def renamed(self, member: Member, nickname: str) -> None:
        """
        C{member} is now called C{nickname}.
        """
        old = nameKey(member.nickname)
        if self._byNickname.get(old) is member:  # type: ignore[attr-defined]
            del self._byNickname[old]  # type: ignore[attr-defined]
        self._byNickname[nameKey(nickname)] = member  # type: ignore[attr-defined]
        self._name(member, nickname)  # type: ignore[attr-defined]

    def described(
        self,
        member: Member,
        account: str | None = None,
        realname: str | None = None,
    ) -> None:
        """
        C{member}'s account or real name changed.
        """
        if account is not None:
            member.account = account or None
        if realname is not None:
            member.realname = realname
        self._name(member, member.nickname)  # type: ignore[attr-defined]

    def topicSet(self, roomName: str, topic: str, setter: str, time: float) -> None:
        """
        A room's topic, as its node set it.
        """
        room = self.existing(roomName)
        if room is None:
            return
        room.topic, room.topicSetter, room.topicTime = topic, setter, time
        self._rememberTopic(nameKey(room.name), topic)  # type: ignore[attr-defined]

    def modesChanged(
        self, roomName: str, setter: events.Identity, changes: tuple[ModeChange, ...]
    ) -> None:
        """
        Make changes another node made (and checked) to a room's modes.
        """
        room = self.existing(roomName)
        if room is None:
            return
        for change in changes:
            try:
                self._change(setter, room, change)  # type: ignore[attr-defined]
            except ChatError:
                # Someone named has gone meanwhile, or the list is full
                # here: the change as far as it can be made.
                pass

    def invitedTo(self, roomName: str, nickname: str) -> None:
        """
        C{nickname} may come into a room past its modes, once.
        """
        room = self.existing(roomName)
        if room is not None:
            room.invited[nameKey(nickname)] = None

    def holder(self, nickname: str) -> Member | None:
        """
        Who holds C{nickname} on any node, if anyone: a cluster asks of
        names that may have gone since they were sent.
        """
        return self._byNickname.get(nameKey(nickname))  # type: ignore[attr-defined]

    def existing(self, roomName: str) -> Room | None:
        """
        The room called C{roomName}, if it is there.
        """
        return self._rooms.get(nameKey(roomName))  # type: ignore[attr-defined]

    def localCount(self) -> int:
        """
        How many of this node's connections have a nickname.
        """
        return self.registeredCount() - self.remoteCount  # type: ignore[attr-defined]
