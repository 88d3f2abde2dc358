"""
The one table from hub errors to IRC numerics.

A command that the hub refuses is answered by the numeric for the error's
class; a few commands answer some errors with a numeric of their own (a
message to a channel one is not in is "cannot send", not "not on
channel"), listed in L{OVERRIDES}.
"""

from __future__ import annotations

from chatsvc.errors import (
    AlreadyInRoom,
    AlreadyThere,
    CannotJoin,
    CannotSpeak,
    ChatError,
    InvalidName,
    ListFull,
    NicknameInUse,
    NicknameReserved,
    NoSuchNickname,
    NoSuchRoom,
    NotInRoom,
    NotInThatRoom,
    NotPermitted,
    NotRegistered,
    TooManyRooms,
)
from chatsvc.irc import wire

NUMERICS: dict[type[ChatError], tuple[str, str]] = {
    NicknameInUse: (wire.ERR_NICKNAMEINUSE, "Nickname is already in use"),
    NoSuchNickname: (wire.ERR_NOSUCHNICK, "No such nick/channel"),
    NoSuchRoom: (wire.ERR_NOSUCHCHANNEL, "No such channel"),
    NotInRoom: (wire.ERR_NOTONCHANNEL, "You're not on that channel"),
    NotRegistered: (wire.ERR_NOTREGISTERED, "You have not registered"),
    AlreadyInRoom: (wire.ERR_USERONCHANNEL, "is already on channel"),
    AlreadyThere: (wire.ERR_USERONCHANNEL, "is already on channel"),
    NicknameReserved: (wire.ERR_NICKNAMEINUSE, "Nickname is reserved by a different account"),
    CannotSpeak: (wire.ERR_CANNOTSENDTOCHAN, "Cannot send to channel"),
    NotInThatRoom: (wire.ERR_USERNOTINCHANNEL, "They aren't on that channel"),
    ListFull: (wire.ERR_BANLISTFULL, "Channel list is full"),
}


def _tooManyRooms(error: TooManyRooms) -> tuple[str, str]:
    if error.scope == "member":
        return wire.ERR_TOOMANYCHANNELS, "You have joined too many channels"
    return wire.ERR_TOOMANYCHANNELS, f"The server holds {error.limit} channels; join one of them"


def _notPermitted(error: NotPermitted) -> tuple[str, str]:
    # Refused in a room: a channel operator was needed; refused anywhere
    # else (KILL, WALLOPS): a server operator was.
    if error.room is None:
        return wire.ERR_NOPRIVILEGES, "Permission Denied- You're not an IRC operator"
    return wire.ERR_CHANOPRIVSNEEDED, "You're not channel operator"


_JOIN_REFUSALS = {
    "full": (wire.ERR_CHANNELISFULL, "Cannot join channel (+l)"),
    "invite-only": (wire.ERR_INVITEONLYCHAN, "Cannot join channel (+i)"),
    "banned": (wire.ERR_BANNEDFROMCHAN, "Cannot join channel (+b)"),
    "key": (wire.ERR_BADCHANNELKEY, "Cannot join channel (+k)"),
}


def _cannotJoin(error: CannotJoin) -> tuple[str, str]:
    return _JOIN_REFUSALS[error.reason]


# Errors whose numeric depends on what they carry.
BY_CONTENT = {TooManyRooms: _tooManyRooms, NotPermitted: _notPermitted, CannotJoin: _cannotJoin}

# (command, error class) -> numeric, where a command words an error its way.
OVERRIDES: dict[tuple[str, type[ChatError]], tuple[str, str]] = {
    ("NICK", InvalidName): (wire.ERR_ERRONEUSNICKNAME, "Erroneous nickname"),
    ("JOIN", InvalidName): (wire.ERR_BADCHANNAME, "Illegal channel name"),
    ("PRIVMSG", NotInRoom): (wire.ERR_CANNOTSENDTOCHAN, "Cannot send to channel"),
    ("PRIVMSG", InvalidName): (wire.ERR_NOSUCHCHANNEL, "No such channel"),
    ("NOTICE", NotInRoom): (wire.ERR_CANNOTSENDTOCHAN, "Cannot send to channel"),
    ("NOTICE", InvalidName): (wire.ERR_NOSUCHCHANNEL, "No such channel"),
    ("TOPIC", InvalidName): (wire.ERR_NOSUCHCHANNEL, "No such channel"),
    ("PART", InvalidName): (wire.ERR_NOSUCHCHANNEL, "No such channel"),
}


def numericFor(command: str, error: ChatError) -> tuple[str, str]:
    """
    The numeric and its text that answer C{command} refused with C{error}.

    @raise KeyError: the table has no entry, which is a bug to fix here.
    """
    kind = type(error)
    if kind in BY_CONTENT:
        return BY_CONTENT[kind](error)
    found = OVERRIDES.get((command, kind)) or NUMERICS.get(kind)
    if found is None:
        raise KeyError(f"no IRC numeric for {kind.__name__} in {command}")
    return found
