"""
What the hub tells participants: small immutable values, one class per kind.

Events name people and rooms by their display names and carry no wording:
each front-end renders them for its own wire format and language.  Being
frozen and hashable, one event object is shared by every recipient, so a
front-end may render it once and reuse the result.
"""

from __future__ import annotations

from attrs import frozen


@frozen
class Welcome:
    """
    Your nickname was accepted and you are in C{room}.
    """

    nickname: str
    room: str


@frozen
class Joined:
    """
    C{nickname} connected and entered C{room}.
    """

    nickname: str
    room: str


@frozen
class Left:
    """
    C{nickname} disconnected; C{reason} is theirs, if they gave one.

    Delivered once to everyone who shared a room with them, however many
    rooms that was.
    """

    nickname: str
    reason: str | None = None


@frozen
class Parted:
    """
    C{nickname} left C{room} but stays connected (an IRC PART).
    """

    nickname: str
    room: str
    reason: str | None = None


@frozen
class TopicChanged:
    """
    C{nickname} set the topic of C{room} to C{topic} (empty: no topic).
    """

    nickname: str
    room: str
    topic: str


@frozen
class Said:
    """
    C{nickname} said C{text} in C{room}.

    C{notice} marks an IRC NOTICE: text that automatic clients must not
    answer.  Delivered to the sender too; front-ends whose clients do not
    expect an echo skip their own lines.
    """

    nickname: str
    room: str
    text: str
    notice: bool = False


@frozen
class Acted:
    """
    C{nickname} performed C{text} (C{/me}, an IRC CTCP ACTION) in C{room}.
    """

    nickname: str
    room: str
    text: str


@frozen
class Whispered:
    """
    A private message; delivered to the recipient and echoed to the sender.
    """

    sender: str
    recipient: str
    text: str
    action: bool = False
    notice: bool = False


@frozen
class Renamed:
    """
    C{old} is now called C{new}; delivered once to everyone who shares a room
    with them, and to themselves.
    """

    old: str
    new: str


@frozen
class Departed:
    """
    C{nickname} left C{room} for the room C{destination}.
    """

    nickname: str
    room: str
    destination: str


@frozen
class Arrived:
    """
    C{nickname} came into C{room} from the room C{origin}.
    """

    nickname: str
    room: str
    origin: str


@frozen
class Moved:
    """
    You are now in C{room}, with C{count} members including you.
    """

    room: str
    count: int


@frozen
class Crowd:
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
class TimedOut:
    """
    The connection did not choose a nickname in time; it ends after this.
    """


@frozen
class Closing:
    """
    The server is shutting down; the connection ends after this.
    """


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
)
