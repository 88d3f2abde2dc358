"""
Another node's members, as this node's hub records them, and what each
kind of event another node accepted changes in those records.

The node that accepted an event checked it; here it is only applied
(L{chatsvc.replicating}), in the bus's order, which is the same on every
node: so every node's records of who is where, and with which role, and
of each room's topic and modes, end up the same.
"""

from __future__ import annotations

from typing import Callable

from zope.interface import implementer

from chatsvc import events
from chatsvc.hub import Hub
from chatsvc.interfaces import IParticipant, IRenderer
from chatsvc.moderation import Role
from chatsvc.names import nameKey
from chatsvc.records import Member


@implementer(IRenderer)
class _Silent:
    """
    What another node's member renders on this one: nothing, since its own
    node tells it.
    """

    def render(self, event: events.Event) -> bytes:
        return b""

    def renderOwn(self, event: events.Event) -> bytes:
        return b""


SILENT = _Silent()


@implementer(IParticipant)
class RemoteParticipant:
    """
    A member held by node C{node}.

    What the hub tells it directly is dropped, as its node tells it
    everything published; a server operator's kill is the exception, sent
    to its node by C{forward}.
    """

    renderer = SILENT
    member: Member | None = None

    def __init__(self, node: str, forward: Callable[[str, str, events.Event], None]) -> None:
        self.node = node
        self._forward = forward

    def send(self, data: bytes) -> None:
        pass

    def deliver(self, event: events.Event) -> None:
        if isinstance(event, events.Killed) and self.member is not None:
            self._forward(self.node, self.member.nickname, event)

    def close(self) -> None:
        pass


def nodeOf(member: Member) -> str | None:
    """
    The node that holds C{member}, if another does.
    """
    participant = member.participant
    return participant.node if isinstance(participant, RemoteParticipant) else None


_LETTERS = {Role.OPERATOR: "o", Role.VOICE: "v"}
_ROLES = {"o": Role.OPERATOR, "v": Role.VOICE}


def roleFrom(letter: str) -> Role:
    """
    The role a letter sent beside an arrival names.
    """
    return _ROLES.get(letter, Role.MEMBER)


class Replica:
    """
    Applies other nodes' events to C{hub}'s records.

    @param participant: makes the participant of a member another node
        holds.
    """

    def __init__(self, hub: Hub, participant: Callable[[str], RemoteParticipant]) -> None:
        self._hub = hub
        self._participant = participant
        # Each node's members, for when it is lost or resynchronises.
        self._byNode: dict[str, dict[Member, None]] = {}
        # Other nodes' members whose nickname a member of this node's holds
        # while its claim is answered, by nickname key: if the claim is
        # lost, they are the holders.
        self._shadowed: dict[str, tuple[str, events.Identity, str | None, float, list]] = {}

    def memberOf(self, node: str, nickname: str) -> Member | None:
        """
        C{node}'s member called C{nickname}, if this node knows of it.
        """
        member = self._hub.holder(nickname)
        return member if member is not None and nodeOf(member) == node else None

    def membersOf(self, node: str) -> list[Member]:
        """
        Every member this node knows C{node} holds.
        """
        return [m for m in self._byNode.get(node, ()) if m.connected]

    def nodes(self) -> list[str]:
        """
        The nodes this node holds members of.
        """
        return [node for node, members in self._byNode.items() if members]

    def unshadow(self, nickname: str, adopt: bool = True) -> None:
        """
        This node's member's claim of C{nickname} was answered: if it lost
        (C{adopt}), the other node's member that won it is its holder here
        too.
        """
        shadowed = self._shadowed.pop(nameKey(nickname), None)
        if shadowed is not None and adopt:
            node, identity, away, signon, rooms = shadowed
            self.adopt(node, identity, away, signon, tuple(rooms))

    def forget(self, member: Member) -> None:
        """
        C{member} is gone from its node.
        """
        self._hub.forget(member)
        self._byNode.get(nodeOf(member) or "", {}).pop(member, None)

    def adopt(
        self,
        node: str,
        identity: events.Identity,
        away: str | None = None,
        signon: float = 0.0,
        rooms: tuple[tuple[str, str], ...] = (),
    ) -> Member | None:
        """
        Record C{node}'s member, in C{rooms} (name, role letter) — unless
        a member of this node's holds its nickname: Redis gave it to one of
        them, and the other's node will hear so and give it up.
        """
        holder = self._hub.holder(identity.nickname)
        if holder is not None and nodeOf(holder) is None:
            self._shadowed[nameKey(identity.nickname)] = (node, identity, away, signon, list(rooms))
            return None
        participant = self._participant(node)
        member = self._hub.adopt(participant, identity, away, signon)
        participant.member = member
        self._byNode.setdefault(node, {})[member] = None
        for room, role in rooms:
            self._hub.place(member, room, roleFrom(role))
        return member

    def apply(self, node: str, event: events.Event, role: str = "") -> None:
        """
        Make this node's records say what C{event}, from C{node}, did.
        """
        hub = self._hub
        sender: events.Identity | None = getattr(event, "sender", None)
        member = None if sender is None else self.memberOf(node, sender.nickname)
        if isinstance(event, (events.Joined, events.Arrived)):
            if member is None:
                member = self.adopt(node, sender)  # type: ignore[arg-type]
                if member is None:
                    shadowed = self._shadowed.get(nameKey(sender.nickname))  # type: ignore[union-attr]
                    if shadowed is not None:
                        shadowed[4].append((event.room, role))
                    return
            if isinstance(event, events.Arrived):
                hub.remove(member, event.origin)
            hub.place(member, event.room, roleFrom(role))
            member.away = event.away
        elif isinstance(event, events.TopicChanged):
            hub.topicSet(event.room, event.topic, event.sender.nickname, event.time)
        elif isinstance(event, events.ModeChanged):
            hub.modesChanged(event.room, event.sender, event.changes)
        elif isinstance(event, events.Kicked):
            target = hub.holder(event.nickname)
            if target is not None:
                hub.remove(target, event.room)
        elif isinstance(event, events.Invited):
            hub.invitedTo(event.room, event.nickname)
        elif member is None:
            return
        elif isinstance(event, (events.Parted, events.Departed)):
            hub.remove(member, event.room)
        elif isinstance(event, events.Left):
            self.forget(member)
        elif isinstance(event, events.Renamed):
            hub.renamed(member, event.new)
        elif isinstance(event, events.AccountChanged):
            hub.described(member, account=event.account or "")
        elif isinstance(event, events.RealnameChanged):
            hub.described(member, realname=event.realname)
        elif isinstance(event, events.AwayChanged):
            member.away = event.message
        elif isinstance(event, (events.Said, events.Acted)):
            member.lastSpoke = event.time

    def roleIn(self, member: Member, roomName: str) -> str:
        """
        C{member}'s role letter in a room, as sent beside its arrival.
        """
        room = self._hub.existing(roomName)
        if room is None:
            return ""
        return _LETTERS.get(room.role(member), "")
