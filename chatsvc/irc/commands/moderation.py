"""
IRC commands that run a channel: MODE on a channel (modes, roles, bans),
KICK and INVITE.  The hub decides who may (L{chatsvc.moderation}); these
read the request, and word what the hub made and refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatsvc.errors import (
    AlreadyThere,
    ChatError,
    ListFull,
    NoSuchNickname,
    NoSuchRoom,
    NotInThatRoom,
)
from chatsvc.irc import wire
from chatsvc.irc.modes import parseModes
from chatsvc.moderation import KEY_MODES, LIMIT_MODES, ModeChange, Modes, applySetting

if TYPE_CHECKING:
    from chatsvc.hub import Room
    from chatsvc.irc.session import IRCSession


def channelMode(session: IRCSession, channel: str, params: tuple[str, ...]) -> None:
    """
    C{MODE #channel [modes [arguments]]}: show the modes, list the bans,
    or change them.
    """
    try:
        room = session.hub.room(channel.removeprefix("#"))
    except NoSuchRoom:
        session.reply(wire.ERR_NOSUCHCHANNEL, channel, "No such channel")
        return
    channel = wire.channelName(room.name)
    if not params:
        showModes(session, room)
        return
    parsed = parseModes(params[0], params[1:])
    for letter in parsed.unknown:
        session.reply(wire.ERR_UNKNOWNMODE, letter, "is unknown mode char to me")
    if parsed.listed:
        banList(session, room)
    changes = [change for change in parsed.changes if _valid(session, channel, change)]
    if not changes:
        return
    try:
        _, refused = session.hub.setModes(session.member, room.name, changes)
    except ChatError as error:
        session.refuse("MODE", error, channel)
        return
    for error in refused:
        _refuseChange(session, channel, error)


def _valid(session: IRCSession, channel: str, change: ModeChange) -> bool:
    """
    Whether a key or limit to set could be one (696 if not): the hub
    would leave out one that cannot without a word.  A refused key is
    written as C{*}, never echoed: it may be a password mistyped.
    """
    settable = change.letter in KEY_MODES + LIMIT_MODES
    if change.adding and settable and applySetting(Modes(), change) is None:
        key = change.letter in KEY_MODES
        session.reply(
            wire.ERR_INVALIDMODEPARAM,
            channel,
            change.letter,
            "*" if key else change.argument or "*",
            "Invalid key" if key else "Invalid limit",
        )
        return False
    return True


def _refuseChange(session: IRCSession, channel: str, error: ChatError) -> None:
    if isinstance(error, NoSuchNickname):
        session.refuse("MODE", error, error.nickname)
    elif isinstance(error, NotInThatRoom):
        session.refuse("MODE", error, error.nickname, channel)
    elif isinstance(error, ListFull):
        session.refuse("MODE", error, channel, "b")
    else:
        session.refuse("MODE", error, channel)


def showModes(session: IRCSession, room: Room) -> None:
    """
    324 with the room's modes (the key only to its members), then 329.
    """
    channel = wire.channelName(room.name)
    letters, arguments = room.modes.letters()
    if session.member not in room.members and room.modes.key is not None:
        arguments = tuple("*" if value == room.modes.key else value for value in arguments)
    session.sendMany(
        [
            session.numeric(wire.RPL_CHANNELMODEIS, channel, letters, *arguments),
            session.numeric(
                wire.RPL_CREATIONTIME, channel, str(int(session.server.epoch(room.created)))
            ),
        ]
    )


def banList(session: IRCSession, room: Room) -> None:
    """
    367 for each ban, in the order set, then 368.
    """
    channel = wire.channelName(room.name)
    lines = [
        session.numeric(
            wire.RPL_BANLIST, channel, ban.mask, ban.setter, str(int(session.server.epoch(ban.time)))
        )
        for ban in room.bans.values()
    ]
    lines.append(session.numeric(wire.RPL_ENDOFBANLIST, channel, "End of channel ban list"))
    session.sendMany(lines)


def KICK(session: IRCSession, params: tuple[str, ...]) -> None:
    if len(params) < 2 or not params[0] or not params[1]:
        session.reply(wire.ERR_NEEDMOREPARAMS, "KICK", "Not enough parameters")
        return
    channel = params[0]
    reason = params[2] if len(params) > 2 and params[2] else None
    for nickname in params[1].split(","):
        try:
            session.hub.kick(session.member, channel.removeprefix("#"), nickname, reason)
        except NotInThatRoom as error:
            session.refuse("KICK", error, error.nickname, wire.channelName(error.room))
        except NoSuchNickname as error:
            session.refuse("KICK", error, nickname)
        except ChatError as error:
            session.refuse("KICK", error, channel)
            return


def INVITE(session: IRCSession, params: tuple[str, ...]) -> None:
    if len(params) < 2 or not params[0] or not params[1]:
        session.reply(wire.ERR_NEEDMOREPARAMS, "INVITE", "Not enough parameters")
        return
    nickname, channel = params[0], params[1]
    try:
        guest = session.hub.invite(session.member, channel.removeprefix("#"), nickname)
    except NoSuchNickname as error:
        session.refuse("INVITE", error, nickname)
        return
    except AlreadyThere as error:
        session.refuse("INVITE", error, error.nickname, channel)
        return
    except ChatError as error:
        session.refuse("INVITE", error, channel)
        return
    channel = wire.channelName(session.hub.room(channel.removeprefix("#")).name)
    session.reply(wire.RPL_INVITING, guest.nickname, channel)
    if guest.away:
        session.reply(wire.RPL_AWAY, guest.nickname, guest.away)


COMMANDS = {"KICK": KICK, "INVITE": INVITE}
