"""
IRC commands about channels: JOIN, PART, TOPIC, NAMES, LIST; and how a
member's role in a channel is written (C{@} operator, C{+} voice).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatsvc.errors import (
    AlreadyInRoom,
    CannotJoin,
    ChatError,
    InvalidName,
    NoSuchRoom,
    TooManyRooms,
)
from chatsvc.irc import wire
from chatsvc.irc.commands.chathistory import replayOnJoin
from chatsvc.irc.render import joinLine
from chatsvc.irc.wire import formatMessage
from chatsvc.names import checkRoomName

if TYPE_CHECKING:
    from chatsvc.hub import Member, Room
    from chatsvc.irc.session import IRCSession

# ISUPPORT PREFIX: the roles, highest first, and their signs.
PREFIX = "(ov)@+"


def prefixes(session: IRCSession, room: Room, member: Member) -> str:
    """
    The signs of C{member}'s roles in C{room}: the highest only, or with
    IRCv3 C{multi-prefix} all of them, highest first.
    """
    signs = ""
    if member in room.operators:
        signs += "@"
    if member in room.voiced:
        signs += "+"
    return signs if "multi-prefix" in session.capabilities else signs[:1]


def visible(session: IRCSession, room: Room) -> bool:
    """
    Whether C{room} shows to this client: a secret (C{+s}) room shows only
    to its members.
    """
    return room.listedTo(session.member)


def sendTopic(session: IRCSession, room: Room) -> None:
    """
    332 and 333 (who set the topic, and when), or 331 when there is none.
    """
    channel = wire.channelName(room.name)
    if not room.topic:
        session.reply(wire.RPL_NOTOPIC, channel, "No topic is set")
        return
    lines = [session.numeric(wire.RPL_TOPIC, channel, room.topic)]
    if room.topicSetter:
        lines.append(
            session.numeric(
                wire.RPL_TOPICWHOTIME,
                channel,
                room.topicSetter,
                str(int(session.server.epoch(room.topicTime))),
            )
        )
    session.sendMany(lines)


def roomName(session: IRCSession, channel: str) -> str | None:
    """
    The room a channel name stands for, or None (after replying) if the
    name is not one.
    """
    if not channel.startswith("#"):
        session.reply(wire.ERR_NOSUCHCHANNEL, channel, "No such channel")
        return None
    try:
        return checkRoomName(channel[1:])
    except InvalidName as error:
        session.refuse("JOIN", error, channel)
        return None


def JOIN(session: IRCSession, params: tuple[str, ...]) -> None:
    if not params or not params[0]:
        session.reply(wire.ERR_NEEDMOREPARAMS, "JOIN", "Not enough parameters")
        return
    if params[0] == "0":
        for room in list(session.member.rooms):
            PART(session, (wire.channelName(room.name),))
        return
    keys = params[1].split(",") if len(params) > 1 else []
    for index, channel in enumerate(params[0].split(",")):
        name = roomName(session, channel)
        if name is None:
            continue
        key = keys[index] if index < len(keys) and keys[index] else None
        try:
            room = session.hub.enter(session.member, name, key)
        except AlreadyInRoom:
            continue
        except (TooManyRooms, CannotJoin) as error:
            session.refuse("JOIN", error, channel)
            continue
        extended = "extended-join" in session.capabilities
        session.send(joinLine(session.member.identity, room.name, extended))
        if room.topic:
            sendTopic(session, room)
        names(session, room)
        replayOnJoin(session, room)


def PART(session: IRCSession, params: tuple[str, ...]) -> None:
    if not params or not params[0]:
        session.reply(wire.ERR_NEEDMOREPARAMS, "PART", "Not enough parameters")
        return
    reason = params[1] if len(params) > 1 and params[1] else None
    for channel in params[0].split(","):
        try:
            room = session.hub.part(session.member, channel.removeprefix("#"), reason)
        except ChatError as error:
            session.refuse("PART", error, channel)
            continue
        extra = (reason,) if reason else ()
        session.send(
            formatMessage("PART", wire.channelName(room.name), *extra, prefix=session.mask)
        )


def TOPIC(session: IRCSession, params: tuple[str, ...]) -> None:
    if not params:
        session.reply(wire.ERR_NEEDMOREPARAMS, "TOPIC", "Not enough parameters")
        return
    channel = params[0]
    try:
        room = session.hub.room(channel.removeprefix("#"))
    except NoSuchRoom as error:
        session.refuse("TOPIC", error, channel)
        return
    channel = wire.channelName(room.name)
    if len(params) == 1:
        if visible(session, room):
            sendTopic(session, room)
        else:
            session.reply(wire.ERR_NOTONCHANNEL, channel, "You're not on that channel")
        return
    try:
        session.hub.setTopic(session.member, room.name, params[1])
    except ChatError as error:
        session.refuse("TOPIC", error, channel)


def names(session: IRCSession, room: Room, end: bool = True) -> None:
    """
    353 lines that name everyone in C{room}, as few as fit, then 366
    unless C{end} is false (NAMES of several channels ends them all at once).
    """
    channel = wire.channelName(room.name)
    kind = "@" if room.modes.secret else "="
    head = session.numeric(wire.RPL_NAMREPLY, kind, channel, "x")
    budget = 510 - len(head.encode("utf-8"))
    lines, current = [], []
    size = 0
    masks = "userhost-in-names" in session.capabilities
    for member in room.members:
        name = member.identity.mask if masks else member.nickname
        nickname = prefixes(session, room, member) + name
        length = len(nickname.encode("utf-8")) + 1
        if current and size + length > budget:
            lines.append(session.numeric(wire.RPL_NAMREPLY, kind, channel, " ".join(current)))
            current, size = [], 0
        current.append(nickname)
        size += length
    if current:
        lines.append(session.numeric(wire.RPL_NAMREPLY, kind, channel, " ".join(current)))
    if end:
        lines.append(session.numeric(wire.RPL_ENDOFNAMES, channel, "End of /NAMES list"))
    session.sendMany(lines)


def NAMES(session: IRCSession, params: tuple[str, ...]) -> None:
    if not params or not params[0]:
        session.reply(wire.RPL_ENDOFNAMES, "*", "End of /NAMES list")
        return
    # 353 for each channel that can be shown, then one 366 naming the
    # channels as asked, as Modern IRC and TARGMAX's NAMES:4 mean.
    for channel in params[0].split(","):
        try:
            room = session.hub.room(channel.removeprefix("#"))
        except NoSuchRoom:
            room = None
        if room is not None and visible(session, room):
            names(session, room, end=False)
    session.reply(wire.RPL_ENDOFNAMES, params[0], "End of /NAMES list")


def LIST(session: IRCSession, params: tuple[str, ...]) -> None:
    wanted = None
    if params and params[0]:
        wanted = {channel.removeprefix("#").casefold() for channel in params[0].split(",")}
    lines = [session.numeric(wire.RPL_LISTSTART, "Channel", "Users  Name")]
    for room in session.hub.rooms():
        if (wanted is None or room.name.casefold() in wanted) and visible(session, room):
            lines.append(
                session.numeric(
                    wire.RPL_LIST, wire.channelName(room.name), str(len(room.members)), room.topic
                )
            )
    lines.append(session.numeric(wire.RPL_LISTEND, "End of /LIST"))
    session.sendMany(lines)


COMMANDS = {"JOIN": JOIN, "PART": PART, "TOPIC": TOPIC, "NAMES": NAMES, "LIST": LIST}
