"""
What the hub tells participants: small immutable values, one class per kind.

Every event carries its identity, stamped once by the hub when it accepted
what caused it: C{id}, unique and stable (an IRCv3 C{msgid}, a history
row's key), and C{time}, the hub clock's reading then (but never before
an event it has already stamped or, in a cluster, received:
L{chatsvc.times}).  Events that someone caused name that someone by
L{Identity}, whole, so no front-end ever asks the hub who a nickname is
while rendering, and a second node needs no hub of its own to describe a
sender.

Events carry no wording: each front-end renders them for its own wire
format and language.  Being frozen, one event object is shared by every
recipient, so a front-end renders it once and reuses the result.  Two
events are equal when they say the same thing: C{id} and C{time} take no
part in comparisons.
"""

from __future__ import annotations

from attrs import field, frozen

from chatsvc.moderation import ModeChange


@frozen
class Identity:
    """
    Who someone is, as every front-end needs to show it.

    @ivar username: the user name of an IRC mask (C{nick!user@host}).
    @ivar host: where the connection comes from.
    @ivar account: the account logged in to, if any.
    @ivar realname: the free text IRC calls the real name (for WHOWAS and
        C{extended-join}, which name it after its owner is gone or with
        the event itself).
    """

    nickname: str
    username: str = "user"
    host: str = "unknown"
    account: str | None = None
    realname: str = ""

    @property
    def mask(self) -> str:
        """
        C{nick!user@host}, as IRC prefixes name people.
        """
        return f"{self.nickname}!{self.username}@{self.host}"


@frozen
class _Event:
    """
    What every event has: its id and the time it was accepted.
    """

    id: str = field(default="", eq=False, kw_only=True)
    time: float = field(default=0.0, eq=False, kw_only=True)


@frozen
class _Caused(_Event):
    """
    An event someone caused; C{nickname} is theirs, for short.
    """

    @property
    def nickname(self) -> str:
        return self.sender.nickname  # type: ignore[attr-defined]


@frozen
class Welcome(_Event):
    """
    Your nickname was accepted and you are in C{room} (empty: in no room).
    """

    nickname: str
    room: str


@frozen
class Joined(_Caused):
    """
    C{sender} connected and entered C{room}; C{away} is their away message,
    if they come in away (IRCv3 C{away-notify} tells it with the JOIN).
    """

    sender: Identity
    room: str
    away: str | None = None


@frozen
class Left(_Caused):
    """
    C{sender} disconnected; C{reason} is theirs, if they gave one.

    Delivered once to everyone who shared a room with them, however many
    rooms that was.
    """

    sender: Identity
    reason: str | None = None


@frozen
class Parted(_Caused):
    """
    C{sender} left C{room} but stays connected (an IRC PART).
    """

    sender: Identity
    room: str
    reason: str | None = None


@frozen
class TopicChanged(_Caused):
    """
    C{sender} set the topic of C{room} to C{topic} (empty: no topic).
    """

    sender: Identity
    room: str
    topic: str


@frozen
class Said(_Caused):
    """
    C{sender} said C{text} in C{room}.

    C{notice} marks an IRC NOTICE: text that automatic clients must not
    answer.  Published to the sender too, who sees it as its own line:
    front-ends whose clients do not expect an echo render nothing for it.
    """

    sender: Identity
    room: str
    text: str
    notice: bool = False


@frozen
class Acted(_Caused):
    """
    C{sender} performed C{text} (C{/me}, an IRC CTCP ACTION) in C{room}.
    """

    sender: Identity
    room: str
    text: str


@frozen
class Whispered(_Caused):
    """
    A private message from C{sender} to C{recipient}; published to the
    recipient and echoed to the sender.
    """

    sender: Identity
    recipient: str
    text: str
    action: bool = False
    notice: bool = False


@frozen
class Renamed(_Caused):
    """
    C{sender} (by its old nickname) is now called C{new}; delivered once to
    everyone who shares a room with them, and to themselves.
    """

    sender: Identity
    new: str

    @property
    def old(self) -> str:
        return self.sender.nickname


@frozen
class Departed(_Caused):
    """
    C{sender} left C{room} for the room C{destination}.
    """

    sender: Identity
    room: str
    destination: str


@frozen
class Arrived(_Caused):
    """
    C{sender} came into C{room} from the room C{origin} (C{away}: as for
    L{Joined}).
    """

    sender: Identity
    room: str
    origin: str
    away: str | None = None


@frozen
class Moved(_Event):
    """
    You are now in C{room}, with C{count} members including you.
    """

    room: str
    count: int


@frozen
class Crowd(_Event):
    """
    A summary of who came and went in a crowded C{room} since the last one.

    Sent instead of individual L{Joined} and L{Left} events (and their room
    move counterparts) once a room reaches the hub's crowd size, so that a
    crowd of n joining costs O(n) lines rather than O(n^2).
    """

    room: str
    joined: tuple[str, ...]
    left: tuple[str, ...]


@frozen
class TimedOut(_Event):
    """
    The connection from C{host} did not choose a nickname in time; it ends
    after this.
    """

    host: str = "unknown"


@frozen
class Closing(_Event):
    """
    The server is shutting down; the connection ends after this.
    """


@frozen
class Announcement(_Event):
    """
    The server tells everyone something about itself: C{what} names it
    (C{"history-failing"}: history is not being saved; C{"history-back"}:
    it is again), and each front-end words it.
    """

    what: str


@frozen
class ModeChanged(_Caused):
    """
    C{sender} changed the modes of C{room}: C{changes} are those made, in
    order (roles given and taken, bans, settings), none of them a no-op.
    """

    sender: Identity
    room: str
    changes: tuple[ModeChange, ...]


@frozen
class Kicked(_Caused):
    """
    C{sender} put C{nickname} out of C{room}; delivered to the room, the
    one kicked included.
    """

    sender: Identity
    room: str
    nickname: str
    reason: str | None = None


@frozen
class Invited(_Caused):
    """
    C{sender} invited C{nickname} into C{room}; delivered to the guest.
    """

    sender: Identity
    room: str
    nickname: str


@frozen
class InviteNotice(_Caused):
    """
    C{sender} invited C{nickname} into C{room}; delivered to the room's
    other operators (IRCv3 C{invite-notify}), apart from L{Invited} so that
    a front-end can tell the guest and leave the operators alone.
    """

    sender: Identity
    room: str
    nickname: str


@frozen
class AccountChanged(_Caused):
    """
    C{sender} logged in to C{account} (or out, with C{None}); delivered to
    everyone who shares a room with them (IRCv3 C{account-notify}).

    C{sender} is who they were before.
    """

    sender: Identity
    account: str | None


@frozen
class AwayChanged(_Caused):
    """
    C{sender} is away with C{message}, or back (C{None}); delivered to
    everyone who shares a room with them (IRCv3 C{away-notify}).
    """

    sender: Identity
    message: str | None


@frozen
class RealnameChanged(_Caused):
    """
    C{sender} now calls itself C{realname} (IRCv3 C{setname}).
    """

    sender: Identity
    realname: str


@frozen
class Wallops(_Caused):
    """
    A server operator's message to everyone connected.
    """

    sender: Identity
    text: str


@frozen
class Killed(_Caused):
    """
    A server operator, C{sender}, put you off the server; the connection
    ends after this.
    """

    sender: Identity
    reason: str


@frozen
class Dropped(_Event):
    """
    The cluster let you go, not an operator (C{docs/cluster.rst}); the
    connection ends after this, and connecting again will likely work.
    Each front-end words C{why}:

      - C{"lost"}: this node lost touch with the others (its lease in
        Redis ran out), so it let its users go before another node could
        hand out their nicknames;
      - C{"unreachable"}: the others cannot be asked whether C{nickname}
        is free;
      - C{"taken"}: another node gave C{nickname} to someone else first.
    """

    why: str
    nickname: str = ""


Event = (
    Welcome
    | Joined
    | Left
    | Parted
    | TopicChanged
    | Said
    | Acted
    | Whispered
    | Renamed
    | Departed
    | Arrived
    | Moved
    | Crowd
    | TimedOut
    | Closing
    | Announcement
    | ModeChanged
    | Kicked
    | Invited
    | InviteNotice
    | AccountChanged
    | AwayChanged
    | RealnameChanged
    | Wallops
    | Killed
    | Dropped
)

# Events published to an audience (recorded, and later carried between
# nodes), as opposed to the notices the hub sends one connection about itself.
PUBLISHED = (
    Joined,
    Left,
    Parted,
    TopicChanged,
    Said,
    Acted,
    Whispered,
    Renamed,
    Departed,
    Arrived,
    Crowd,
    ModeChanged,
    Kicked,
    Invited,
    InviteNotice,
    AccountChanged,
    AwayChanged,
    RealnameChanged,
    Wallops,
)
