"""
IRC commands that ask about people: WHO, WHOIS, WHOWAS, ISON, USERHOST,
and AWAY, which sets what WHOIS and private messages answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatsvc.errors import InvalidName, NoSuchNickname, NoSuchRoom
from chatsvc.irc import wire
from chatsvc.irc.commands.channels import prefixes, visible
from chatsvc.irc.commands.server import SERVER_INFO, wallTime
from chatsvc.names import nameKey

if TYPE_CHECKING:
    from chatsvc.hub import Member, Room
    from chatsvc.irc.session import IRCSession

# Nicknames one WHOWAS may name (TARGMAX); the rest are not looked up.
MAX_WHOWAS_TARGETS = 4


def WHO(session: IRCSession, params: tuple[str, ...]) -> None:
    mask = params[0] if params and params[0] else "*"
    hub = session.hub
    if mask.startswith("#"):
        try:
            room = hub.room(mask[1:])
            found = [(room, member) for member in room.members] if visible(session, room) else []
        except NoSuchRoom:
            found = []
    else:
        try:
            member = hub.find(mask)
            found = [(member.room, member)]
        except (NoSuchNickname, InvalidName):
            found = []
    lines = [
        session.numeric(
            wire.RPL_WHOREPLY,
            wire.channelName(room.name) if room else "*",
            member.username,
            member.host,
            session.server.serverName,
            member.nickname,
            whoFlags(session, room, member),
            f"0 {member.realname}",
        )
        for room, member in found
    ]
    lines.append(session.numeric(wire.RPL_ENDOFWHO, mask, "End of /WHO list"))
    session.sendMany(lines)


def whoFlags(session: IRCSession, room: Room | None, member: Member) -> str:
    """
    352's flags: H (here) or G (gone, away), C{*} for a server operator,
    then the member's signs in C{room}.
    """
    flags = "G" if member.away else "H"
    if member.operator is not None:
        flags += "*"
    if room is not None:
        flags += prefixes(session, room, member)
    return flags


def WHOIS(session: IRCSession, params: tuple[str, ...]) -> None:
    if not params or not params[-1]:
        session.reply(wire.ERR_NONICKNAMEGIVEN, "No nickname given")
        return
    nickname = params[-1].split(",")[0]
    try:
        member = session.hub.find(nickname)
    except (NoSuchNickname, InvalidName):
        session.sendMany(
            [
                session.numeric(wire.ERR_NOSUCHNICK, nickname, "No such nick/channel"),
                session.numeric(wire.RPL_ENDOFWHOIS, nickname, "End of /WHOIS list"),
            ]
        )
        return
    server = session.server
    name = member.nickname
    lines = [
        session.numeric(
            wire.RPL_WHOISUSER, name, member.username, member.host, "*", member.realname
        )
    ]
    shown = [room for room in member.rooms if visible(session, room)]
    if shown:
        lines.append(
            session.numeric(
                wire.RPL_WHOISCHANNELS,
                name,
                " ".join(
                    prefixes(session, room, member) + wire.channelName(room.name) for room in shown
                ),
            )
        )
    lines.append(session.numeric(wire.RPL_WHOISSERVER, name, server.serverName, SERVER_INFO))
    if member.operator is not None:
        lines.append(session.numeric(wire.RPL_WHOISOPERATOR, name, "is an IRC operator"))
    if member.away:
        lines.append(session.numeric(wire.RPL_AWAY, name, member.away))
    if member.account is not None:
        lines.append(session.numeric(wire.RPL_WHOISACCOUNT, name, member.account, "is logged in as"))
    lines.append(
        session.numeric(
            wire.RPL_WHOISIDLE,
            name,
            str(int(server.clock.seconds() - member.lastSpoke)),
            str(int(server.epoch(member.signon))),
            "seconds idle, signon time",
        )
    )
    lines.append(session.numeric(wire.RPL_ENDOFWHOIS, name, "End of /WHOIS list"))
    session.sendMany(lines)


def WHOWAS(session: IRCSession, params: tuple[str, ...]) -> None:
    """
    Who held the nicknames (up to L{MAX_WHOWAS_TARGETS}), newest first
    across them all, as RFC 1459 searches its history backward: at most
    C{count} of each if it is positive, else all that are kept.
    """
    nicknames = [nickname for nickname in params[0].split(",") if nickname] if params else []
    if not nicknames:
        session.reply(wire.ERR_NONICKNAMEGIVEN, "No nickname given")
        return
    nicknames = nicknames[:MAX_WHOWAS_TARGETS]
    server = session.server
    found = server.whowas.find(nicknames, _whowasCount(params[1:2]))
    lines = []
    for gone in found:
        who = gone.identity
        name = who.nickname
        lines.append(
            session.numeric(wire.RPL_WHOWASUSER, name, who.username, who.host, "*", who.realname)
        )
        lines.append(
            session.numeric(
                wire.RPL_WHOISSERVER, name, server.serverName, wallTime(session, gone.time)
            )
        )
        if who.account:
            lines.append(
                session.numeric(wire.RPL_WHOISACCOUNT, name, who.account, "was logged in as")
            )
    known = {nameKey(gone.identity.nickname) for gone in found}
    lines += [
        session.numeric(wire.ERR_WASNOSUCHNICK, nickname, "There was no such nickname")
        for nickname in nicknames
        if nameKey(nickname) not in known
    ]
    lines.append(session.numeric(wire.RPL_ENDOFWHOWAS, params[0], "End of WHOWAS"))
    session.sendMany(lines)


def _whowasCount(given: tuple[str, ...]) -> int | None:
    # Anything but a positive number asks for a full search.
    try:
        count = int(given[0])
    except (IndexError, ValueError):
        return None
    return count if count > 0 else None


def ISON(session: IRCSession, params: tuple[str, ...]) -> None:
    online = []
    for nickname in " ".join(params).split():
        try:
            online.append(session.hub.find(nickname).nickname)
        except (NoSuchNickname, InvalidName):
            pass
    session.reply(wire.RPL_ISON, " ".join(online))


def USERHOST(session: IRCSession, params: tuple[str, ...]) -> None:
    found = []
    for nickname in params[:5]:
        try:
            member = session.hub.find(nickname)
        except (NoSuchNickname, InvalidName):
            continue
        sign = "-" if member.away else "+"
        found.append(f"{member.nickname}={sign}{member.username}@{member.host}")
    session.reply(wire.RPL_USERHOST, " ".join(found))


def AWAY(session: IRCSession, params: tuple[str, ...]) -> None:
    message = params[0] if params else ""
    session.hub.setAway(session.member, message or None)
    if message:
        session.reply(wire.RPL_NOWAWAY, "You have been marked as being away")
    else:
        session.reply(wire.RPL_UNAWAY, "You are no longer marked as being away")


COMMANDS = {
    "WHO": WHO,
    "WHOIS": WHOIS,
    "WHOWAS": WHOWAS,
    "ISON": ISON,
    "USERHOST": USERHOST,
    "AWAY": AWAY,
}
