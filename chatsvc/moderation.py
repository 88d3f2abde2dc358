"""
Who may do what in a room: the one permission check every mutating verb of
the hub calls, and the modes a room can have.

Pure: no hub, no clock, no members, only values, so the rules can be read in
one table and tested by every combination.  Both front-ends get the same
rules because neither decides them: the hub asks L{can} and L{joinRefusal}
and raises what they answer.
"""

from __future__ import annotations

import enum

from attrs import evolve, frozen

# The letters of the modes a room can have, grouped as IRC's CHANMODES
# token groups them: lists (a mask per entry), settings with an argument
# both ways, settings with an argument when set, and flags.
LIST_MODES = "b"
KEY_MODES = "k"
LIMIT_MODES = "l"
FLAG_MODES = "imnst"
# Modes that give a member of the room a role.
ROLE_MODES = "ov"

# A key is a word of at most this many characters (ngircd and InspIRCd
# allow 23 and 32).
MAX_KEY_LENGTH = 23
# Bans per room: ngircd allows 50, InspIRCd 100 by default.
MAX_BANS = 100
# A limit beyond any server's size is a mistake, not a setting.
MAX_LIMIT = 1_000_000


class Role(enum.IntEnum):
    """
    A member's standing in a room: each role may do all a lower one may.
    """

    MEMBER = 0
    VOICE = 1
    OPERATOR = 2


class Action(enum.Enum):
    """
    What a member may ask to do in a room.
    """

    SPEAK = "speak"
    TOPIC = "topic"
    MODE = "mode"
    KICK = "kick"
    INVITE = "invite"
    REGISTER = "register"


@frozen
class Modes:
    """
    A room's settings.

    Every new room is C{+nt}, as on every IRC server: only operators change
    its topic, and only its members speak in it.

    @ivar inviteOnly: C{+i}: only the invited (and operators) come in.
    @ivar moderated: C{+m}: only voiced members and operators speak.
    @ivar noOutside: C{+n}: only members speak to the room.
    @ivar secret: C{+s}: not listed to those outside it.
    @ivar topicLock: C{+t}: only operators set the topic.
    @ivar key: C{+k}: the word needed to come in.
    @ivar limit: C{+l}: how many members it takes at most.
    """

    inviteOnly: bool = False
    moderated: bool = False
    noOutside: bool = True
    secret: bool = False
    topicLock: bool = True
    key: str | None = None
    limit: int | None = None

    def letters(self) -> tuple[str, tuple[str, ...]]:
        """
        The set modes as IRC writes them (C{"+kl"}, C{("word", "30")}),
        flags first, in alphabetical order.
        """
        flags = "".join(letter for letter in FLAG_MODES if getattr(self, _FLAGS[letter]))
        arguments: list[str] = []
        if self.key is not None:
            flags += "k"
            arguments.append(self.key)
        if self.limit is not None:
            flags += "l"
            arguments.append(str(self.limit))
        return "+" + flags, tuple(arguments)


_FLAGS = {
    "i": "inviteOnly",
    "m": "moderated",
    "n": "noOutside",
    "s": "secret",
    "t": "topicLock",
}


@frozen
class ModeChange:
    """
    One mode set or unset, with its argument if it takes one.
    """

    adding: bool
    letter: str
    argument: str | None = None

    def takesArgument(self) -> bool:
        """
        Whether this change needs an argument to be made: a role's member, a
        ban's mask, a key, and a limit when set.
        """
        return (
            self.letter in ROLE_MODES + LIST_MODES + KEY_MODES
            or (self.letter in LIMIT_MODES and self.adding)
        )


def can(action: Action, role: Role, modes: Modes, serverOperator: bool = False) -> bool:
    """
    Whether a member of C{role} may do C{action} in a room with C{modes}.

    Server operators may do everything.  Speaking needs a voice in a
    moderated room; the topic needs an operator when locked; inviting needs
    one when the room is invite-only; changing modes, kicking and
    registering the room always need one.
    """
    if serverOperator:
        return True
    if action is Action.SPEAK:
        return role >= Role.VOICE or not modes.moderated
    if action is Action.TOPIC:
        return role >= Role.OPERATOR or not modes.topicLock
    if action is Action.INVITE:
        return role >= Role.OPERATOR or not modes.inviteOnly
    return role >= Role.OPERATOR


def joinRefusal(
    modes: Modes,
    *,
    banned: bool,
    invited: bool,
    key: str | None,
    size: int,
    serverOperator: bool = False,
) -> str | None:
    """
    Why someone may not come into a room, or C{None} if they may.

    An invitation lets its guest past every mode (as on Ergo and InspIRCd:
    whoever invited meant it); so does being a server operator.

    @param size: how many members the room has now.
    @return: C{"banned"}, C{"invite-only"}, C{"key"} or C{"full"}, as
        L{chatsvc.errors.CannotJoin} words them.
    """
    if serverOperator or invited:
        return None
    if banned:
        return "banned"
    if modes.inviteOnly:
        return "invite-only"
    if modes.key is not None and key != modes.key:
        return "key"
    if modes.limit is not None and size >= modes.limit:
        return "full"
    return None


def applySetting(modes: Modes, change: ModeChange) -> Modes | None:
    """
    C{modes} after C{change} of a flag, the key or the limit, or C{None} if
    it changes nothing (setting what is set) or is not valid (a key that is
    not a word, a limit that is not a positive number).

    Roles and bans are not settings: the hub keeps them per member and per
    room.
    """
    letter = change.letter
    if letter in _FLAGS:
        name = _FLAGS[letter]
        if getattr(modes, name) == change.adding:
            return None
        return evolve(modes, **{name: change.adding})
    if letter in KEY_MODES:
        if not change.adding:
            return None if modes.key is None else evolve(modes, key=None)
        key = change.argument or ""
        if not key or len(key) > MAX_KEY_LENGTH or any(c in key for c in " ,:") or key == modes.key:
            return None
        return evolve(modes, key=key)
    if letter in LIMIT_MODES:
        if not change.adding:
            return None if modes.limit is None else evolve(modes, limit=None)
        try:
            limit = int(change.argument or "")
        except ValueError:
            return None
        if not 0 < limit <= MAX_LIMIT or limit == modes.limit:
            return None
        return evolve(modes, limit=limit)
    raise ValueError(f"not a setting: {letter!r}")
