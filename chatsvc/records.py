"""
The hub's records of connections and rooms.

Front-ends hold on to them and read them (NAMES, WHO, MODE); only the hub
changes them.
"""

from __future__ import annotations

from attrs import define, field, frozen
from twisted.internet.interfaces import IDelayedCall

from chatsvc import events
from chatsvc.interfaces import IParticipant
from chatsvc.moderation import Modes, Role


@define(eq=False)
class Member:
    """
    The hub's record of one connection.

    Front-ends hold on to it and pass it back with every request; its fields
    are for reading only.

    @ivar rooms: the rooms it is in, in the order it entered them (a tuple:
        a few at most, and for native members one, so smaller than a set).
    @ivar username: the user name shown in IRC masks (C{nick!user@host}).
    @ivar host: where the connection comes from, as the front-end words it.
    @ivar realname: free text about the user (IRC's "real name").
    @ivar away: the away message, if the user is away.
    @ivar signon: when the connection registered, by the hub's clock.
    @ivar lastSpoke: when it last said anything, by the hub's clock.
    @ivar identity: who it is, as events name it (once it has a nickname).
    @ivar connected: until the hub forgets it.
    @ivar account: the account it has proved it holds, if any.
    @ivar operator: the name of the server operator it proved it is, if any.
    """

    participant: IParticipant
    username: str = "user"
    host: str = "unknown"
    realname: str = ""
    nickname: str | None = None
    rooms: tuple[Room, ...] = ()
    away: str | None = None
    signon: float = 0.0
    lastSpoke: float = 0.0
    identity: events.Identity | None = None
    connected: bool = True
    account: str | None = None
    operator: str | None = None

    @property
    def room(self) -> Room | None:
        """
        The room it entered first: for native clients, the one room.
        """
        return next(iter(self.rooms), None)


@frozen
class Ban:
    """
    One entry of a room's ban list: the mask, who set it and when.
    """

    mask: str
    setter: str
    time: float


@define(eq=False)
class Room:
    """
    A set of members who hear each other, in the order they came in, and
    who may do what there.

    C{joined} and C{left} collect comings and goings while a crowd summary is
    pending (see L{chatsvc.hub.Hub}).

    @ivar operators: the members who may change its modes, kick and invite.
    @ivar voiced: the members who may speak when it is moderated.
    @ivar bans: its ban list, by normalized mask (casefolded), in the order
        set.
    @ivar invited: the keys of the nicknames invited in and not yet come.
    @ivar owner: the account that registered it, if one did: a registered
        room stays, with its modes, bans and C{access}, when it empties and
        across restarts.
    @ivar access: in a registered room, the role each account (by key) gets
        when it comes in.
    @ivar created: when it was made, by the hub's clock.
    @ivar topicSetter: who set the topic, and C{topicTime} when.
    """

    name: str
    members: dict[Member, None] = field(factory=dict)
    topic: str = ""
    joined: dict[str, None] = field(factory=dict)
    left: dict[str, None] = field(factory=dict)
    summary: IDelayedCall | None = None
    modes: Modes = Modes()
    operators: set[Member] = field(factory=set)
    voiced: set[Member] = field(factory=set)
    bans: dict[str, Ban] = field(factory=dict)
    invited: dict[str, None] = field(factory=dict)
    owner: str | None = None
    access: dict[str, Role] = field(factory=dict)
    created: float = 0.0
    topicSetter: str = ""
    topicTime: float = 0.0

    def listedTo(self, member: Member) -> bool:
        """
        Whether C{member} may see it in a list of rooms: a secret one
        (C{+s}) only from inside.
        """
        return not self.modes.secret or member in self.members

    def role(self, member: Member) -> Role:
        """
        C{member}'s standing here.
        """
        if member in self.operators:
            return Role.OPERATOR
        if member in self.voiced:
            return Role.VOICE
        return Role.MEMBER
