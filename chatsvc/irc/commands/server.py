"""
IRC commands about the connection and the server: PING, PONG, QUIT, LUSERS,
MOTD, VERSION, TIME, INFO, LINKS, MODE (a user's; a channel's is
L{chatsvc.irc.commands.moderation}'s); and what the server says of itself
(004, 005).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from chatsvc import __version__
from chatsvc.errors import InvalidName, NoSuchNickname
from chatsvc.history import MAX_FETCH
from chatsvc.irc import wire
from chatsvc.irc.commands.channels import PREFIX
from chatsvc.irc.commands.moderation import channelMode
from chatsvc.irc.modes import CHANNEL_MODES, MAX_MODES
from chatsvc.irc.render import quitReason
from chatsvc.irc.wire import formatMessage
from chatsvc.moderation import (
    FLAG_MODES,
    KEY_MODES,
    LIMIT_MODES,
    LIST_MODES,
    MAX_BANS,
    ROLE_MODES,
)
from chatsvc.names import MAX_AWAY_LENGTH, MAX_NAME_LENGTH, MAX_TOPIC_LENGTH

if TYPE_CHECKING:
    from chatsvc.history import History
    from chatsvc.hub import Hub
    from chatsvc.irc.session import IRCSession

NETWORK = "chatsvc"
# What WHOIS and LINKS say of the server.
SERVER_INFO = "chatsvc"

# User modes: invisible, and server operator (OPER).
USER_MODES = "iow"


def myInfo() -> tuple[str, str, str]:
    """
    004's user modes, channel modes, and channel modes that take an
    argument.
    """
    withArguments = LIST_MODES + KEY_MODES + LIMIT_MODES + ROLE_MODES
    return USER_MODES, "".join(sorted(CHANNEL_MODES)), "".join(sorted(withArguments))


def isupportTokens(hub: Hub, history: History | None = None) -> list[str]:
    """
    What the server tells clients about itself (005), truthfully.

    Nicknames are folded by Unicode case folding after NFKC, the nearest
    published mapping to which is RFC 8265's; nicknames and channel names
    never contain the characters on which ascii and rfc1459 disagree.
    Channels have operators and voice (PREFIX), a ban list (by mask or,
    with the C{~a:} extban, by account), a key, a limit and the flags
    C{imnst} (CHANMODES), as the hub keeps them.  The lengths and the
    channel limit are the hub's, the same for native users.  A server that
    keeps history says how much one CHATHISTORY returns at most, and that
    it finds places by message id or by time.
    """
    tokens = [
        "AWAYLEN=%d" % MAX_AWAY_LENGTH,
        "CASEMAPPING=rfc8265",
        "CHANLIMIT=#:%d" % hub.maxRoomsPerMember,
        f"CHANMODES={LIST_MODES},{KEY_MODES},{LIMIT_MODES},{FLAG_MODES}",
        "CHANNELLEN=%d" % (MAX_NAME_LENGTH + 1),
        "CHANTYPES=#",
        "EXTBAN=~,a",
        f"MAXLIST={LIST_MODES}:{MAX_BANS}",
        f"MODES={MAX_MODES}",
        "NETWORK=" + NETWORK,
        "NICKLEN=%d" % MAX_NAME_LENGTH,
        "PREFIX=" + PREFIX,
        "TARGMAX=JOIN:,PART:,PRIVMSG:4,NOTICE:4,NAMES:,WHOIS:1,WHOWAS:4",
        "TOPICLEN=%d" % MAX_TOPIC_LENGTH,
        "UTF8ONLY",
    ]
    if history is not None:
        tokens += ["CHATHISTORY=%d" % MAX_FETCH, "MSGREFTYPES=msgid,timestamp"]
    return sorted(tokens)


def PING(session: IRCSession, params: tuple[str, ...]) -> None:
    if not params or not params[0]:
        session.reply(wire.ERR_NOORIGIN, "No origin specified")
        return
    name = session.server.serverName
    session.send(formatMessage("PONG", name, params[0], prefix=name))


def PONG(session: IRCSession, params: tuple[str, ...]) -> None:
    # Hearing anything at all is what keeps a client alive.
    pass


def QUIT(session: IRCSession, params: tuple[str, ...]) -> None:
    reason = params[0] if params else None
    session.connection.leave(reason)
    session.connection.goodbye([session.closingLink(quitReason(reason))])


def LUSERS(session: IRCSession, params: tuple[str, ...]) -> None:
    hub = session.hub
    # Everyone on every node of a cluster, and this node's own.
    users, local = hub.registeredCount(), hub.localCount()
    unknown = len(hub.members) - local
    # Counts kept as they change, not walks: LUSERS comes with every
    # registration.  Native members are never +i; the invisible are
    # counted on this node only.
    invisible = session.server.invisibleCount
    servers = hub.nodeCount
    # The peak is this node's; the cluster's is at least it.
    highest = session.server.peak.highest()
    session.sendMany(
        [
            session.numeric(
                wire.RPL_LUSERCLIENT,
                f"There are {users - invisible} users and {invisible} invisible on {servers} servers",
            ),
            session.numeric(wire.RPL_LUSEROP, str(hub.operatorCount), "operator(s) online"),
            session.numeric(wire.RPL_LUSERUNKNOWN, str(unknown), "unknown connection(s)"),
            session.numeric(wire.RPL_LUSERCHANNELS, str(len(hub.rooms())), "channels formed"),
            session.numeric(wire.RPL_LUSERME, f"I have {local} clients and {servers - 1} servers"),
            session.numeric(
                wire.RPL_LOCALUSERS,
                str(local),
                str(highest),
                f"Current local users {local}, max {highest}",
            ),
            session.numeric(
                wire.RPL_GLOBALUSERS,
                str(users),
                str(max(highest, users)),
                f"Current global users {users}, max {max(highest, users)}",
            ),
        ]
    )


def MOTD(session: IRCSession, params: tuple[str, ...]) -> None:
    motd = session.server.motd
    if not motd:
        session.reply(wire.ERR_NOMOTD, "MOTD File is missing")
        return
    name = session.server.serverName
    lines = [session.numeric(wire.RPL_MOTDSTART, f"- {name} Message of the day - ")]
    lines += [session.numeric(wire.RPL_MOTD, f"- {line}") for line in motd]
    lines.append(session.numeric(wire.RPL_ENDOFMOTD, "End of /MOTD command."))
    session.sendMany(lines)


def VERSION(session: IRCSession, params: tuple[str, ...]) -> None:
    session.reply(wire.RPL_VERSION, f"chatsvc-{__version__}.", session.server.serverName, "")


def TIME(session: IRCSession, params: tuple[str, ...]) -> None:
    session.reply(
        wire.RPL_TIME, session.server.serverName, wallTime(session, session.server.clock.seconds())
    )


def wallTime(session: IRCSession, seconds: float) -> str:
    """
    A moment on the hub's clock as people read it, in UTC.
    """
    return time.strftime("%a %b %d %Y %H:%M:%S UTC", time.gmtime(session.server.epoch(seconds)))


def INFO(session: IRCSession, params: tuple[str, ...]) -> None:
    server = session.server
    lines = [
        f"chatsvc {__version__}, a chat server on Twisted: a native line protocol",
        "and IRC, one set of nicknames and rooms.",
        f"Started {server.created}.",
    ]
    session.sendMany(
        [
            *(session.numeric(wire.RPL_INFO, line) for line in lines),
            session.numeric(wire.RPL_ENDOFINFO, "End of INFO list"),
        ]
    )


def LINKS(session: IRCSession, params: tuple[str, ...]) -> None:
    # One server, linked to itself at no hops: "<server> <server> :0 <info>"
    # as servers answer and irctest expects (the modern documents' "*" in
    # the first place is an older reading).
    name = session.server.serverName
    session.sendMany(
        [
            session.numeric(wire.RPL_LINKS, name, name, f"0 {SERVER_INFO}"),
            session.numeric(wire.RPL_ENDOFLINKS, "*", "End of /LINKS list"),
        ]
    )


def MODE(session: IRCSession, params: tuple[str, ...]) -> None:
    if not params or not params[0]:
        session.reply(wire.ERR_NEEDMOREPARAMS, "MODE", "Not enough parameters")
        return
    target = params[0]
    if target.startswith("#"):
        channelMode(session, target, params[1:])
        return
    try:
        member = session.hub.find(target)
    except (NoSuchNickname, InvalidName):
        session.reply(wire.ERR_NOSUCHNICK, target, "No such nick/channel")
        return
    if member is not session.member:
        session.reply(wire.ERR_USERSDONTMATCH, "Can't change mode for other users")
        return
    if len(params) == 1:
        session.reply(wire.RPL_UMODEIS, userModes(session))
        return
    _setUserModes(session, params[1])


def userModes(session: IRCSession) -> str:
    """
    This client's user modes, as 221 shows them.
    """
    return (
        "+"
        + ("i" if session.invisible else "")
        + ("o" if session.member.operator is not None else "")
        + ("w" if session.wallops else "")
    )


def _setUserModes(session: IRCSession, modes: str) -> None:
    adding = True
    changed = ""
    unknown = False
    for flag in modes:
        if flag in "+-":
            adding = flag == "+"
        elif flag == "i":
            if session.invisible != adding:
                session.invisible = adding
                session.server.invisibleCount += 1 if adding else -1
                changed += ("+" if adding else "-") + "i"
        elif flag == "w":
            if session.wallops != adding:
                session.wallops = adding
                session.chooseRenderer()
                changed += ("+" if adding else "-") + "w"
        elif flag == "o":
            # Only OPER makes a server operator; the hub has no way back.
            pass
        else:
            unknown = True
    if changed:
        session.send(formatMessage("MODE", session.member.nickname, changed, prefix=session.mask))
    if unknown:
        session.reply(wire.ERR_UMODEUNKNOWNFLAG, "Unknown MODE flag")


COMMANDS = {
    "PING": PING,
    "PONG": PONG,
    "QUIT": QUIT,
    "LUSERS": LUSERS,
    "MOTD": MOTD,
    "VERSION": VERSION,
    "TIME": TIME,
    "INFO": INFO,
    "LINKS": LINKS,
    "MODE": MODE,
}
