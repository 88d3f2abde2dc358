"""
HELP, and HELPOP, its other name on some servers: a few lines about each
command, as the modern IRC documents answer it (704, 705, 706; 524 for a
subject there is no help on).

The commands HELP lists are those of the command table itself, and a test
holds the table and L{TEXTS} to the same commands, so that the help can
name neither a command the server does not know nor miss one it does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from chatsvc.irc import wire

if TYPE_CHECKING:
    from chatsvc.irc.session import IRCSession

Handler = Callable[["IRCSession", tuple[str, ...]], None]

# Each command's usage, then what it does.
TEXTS: dict[str, tuple[str, str]] = {
    "AUTHENTICATE": (
        "AUTHENTICATE PLAIN | AUTHENTICATE <base64> | AUTHENTICATE *",
        "Logs in to an account with SASL PLAIN (cap sasl); * aborts.",
    ),
    "AWAY": (
        "AWAY [:<message>]",
        (
            "Marks you away with a message that WHOIS and private messages to you show; "
            "without one, you are back."
        ),
    ),
    "CAP": (
        "CAP LS [302] | CAP REQ :<caps> | CAP LIST | CAP END",
        "Negotiates IRCv3 capabilities; registration waits for CAP END.",
    ),
    "CHATHISTORY": (
        "CHATHISTORY <LATEST|BEFORE|AFTER|AROUND|BETWEEN|TARGETS> <target> <places> <limit>",
        "Fetches what was said in a channel you are in or a private conversation.",
    ),
    "HELP": (
        "HELP [<command>]",
        "Lists the commands, or tells about one.",
    ),
    "HELPOP": (
        "HELPOP [<command>]",
        "The same as HELP.",
    ),
    "INFO": (
        "INFO",
        "Tells about the server.",
    ),
    "INVITE": (
        "INVITE <nick> <channel>",
        "Invites someone into a channel, past its modes, once.",
    ),
    "ISON": (
        "ISON <nick> [<nick>...]",
        "Tells which of the nicknames are online.",
    ),
    "JOIN": (
        "JOIN <channel>{,<channel>} | JOIN 0",
        "Joins channels, making them if need be; JOIN 0 parts them all.",
    ),
    "KICK": (
        "KICK <channel> <nick>{,<nick>} [:<reason>]",
        "Puts people out of a channel you are an operator of.",
    ),
    "KILL": (
        "KILL <nick> :<reason>",
        "Puts someone off the server (server operators only).",
    ),
    "LINKS": (
        "LINKS",
        "Lists the servers of the network: this one.",
    ),
    "LIST": (
        "LIST",
        "Lists the channels with their sizes and topics.",
    ),
    "LUSERS": (
        "LUSERS",
        "Counts the users and channels, now and at most.",
    ),
    "MODE": (
        "MODE <channel> [{+|-}<modes> [<arguments>]] | MODE <nick> [+i|-i]",
        (
            "Shows or sets a channel's modes (o v b k l i m n s t; an operator's), "
            "or your own user modes."
        ),
    ),
    "MOTD": (
        "MOTD",
        "Shows the message of the day.",
    ),
    "NAMES": (
        "NAMES [<channel>{,<channel>}]",
        "Lists who is in channels.",
    ),
    "NICK": (
        "NICK <nick>",
        "Chooses your nickname, or changes it.",
    ),
    "NOTICE": (
        "NOTICE <target>{,<target>} :<text>",
        "Like PRIVMSG, for text that no one should answer automatically.",
    ),
    "OPER": (
        "OPER <name> <password>",
        "Makes you a server operator, if the server has one by that name and password.",
    ),
    "PART": (
        "PART <channel>{,<channel>} [:<reason>]",
        "Leaves channels.",
    ),
    "PASS": (
        "PASS <password>",
        "Gives the server password, before NICK and USER.",
    ),
    "PING": (
        "PING <token>",
        "Asks the server to answer PONG with the token.",
    ),
    "PONG": (
        "PONG <token>",
        "Answers the server's PING.",
    ),
    "PRIVMSG": (
        "PRIVMSG <target>{,<target>} :<text>",
        "Sends text to channels or people, up to 4 at once, in one line as it was sent.",
    ),
    "QUIT": (
        "QUIT [:<reason>]",
        "Leaves the server, telling your channels why.",
    ),
    "REGISTER": (
        "REGISTER <account|*> <email|*> <password>",
        "Registers your nickname as an account and logs you in to it.",
    ),
    "SETNAME": (
        "SETNAME :<realname>",
        "Changes your real name.",
    ),
    "TAGMSG": (
        "TAGMSG <target>",
        "Taken and dropped: client-only tags are not relayed.",
    ),
    "TIME": (
        "TIME",
        "Tells the server's time.",
    ),
    "TOPIC": (
        "TOPIC <channel> [:<topic>]",
        "Shows a channel's topic, or sets it (empty: clears it).",
    ),
    "USER": (
        "USER <user> 0 * :<real name>",
        "Gives your user name and real name, when registering.",
    ),
    "USERHOST": (
        "USERHOST <nick> [<nick>...]",
        "Tells the user and host of up to 5 people.",
    ),
    "VERSION": (
        "VERSION",
        "Tells the server's version.",
    ),
    "WALLOPS": (
        "WALLOPS :<text>",
        "Tells everyone connected something (server operators only).",
    ),
    "WHO": (
        "WHO <channel>|<nick>",
        "Lists people in a channel, or one person.",
    ),
    "WHOIS": (
        "WHOIS <nick>",
        "Tells about someone online: who, where, how long idle.",
    ),
    "WHOWAS": (
        "WHOWAS <nick>{,<nick>} [<count>]",
        "Tells who held nicknames that were given up, newest first.",
    ),
}

# Commands a server without history does not know.
NEEDS_HISTORY = frozenset({"CHATHISTORY"})

# Command names per line of the list.
PER_LINE = 10


def commands(table: Mapping[str, Handler]) -> dict[str, Handler]:
    """
    HELP and HELPOP, listing the commands of C{table} (which holds them too,
    once they are added to it).
    """

    def HELP(session: IRCSession, params: tuple[str, ...]) -> None:
        known = sorted(
            name
            for name in table
            if session.server.history is not None or name not in NEEDS_HISTORY
        )
        subject = params[0].upper() if params and params[0] else "*"
        if subject == "*":
            lines = ["", "HELP <command> tells about one of these:"]
            lines += [" ".join(known[n : n + PER_LINE]) for n in range(0, len(known), PER_LINE)]
            first = f"** {session.server.serverName} help **"
        elif subject in known and subject in TEXTS:
            usage, text = TEXTS[subject]
            first, lines = f"** {usage} **", ["", text]
        else:
            session.reply(wire.ERR_HELPNOTFOUND, params[0], "No help available on this topic")
            return
        session.sendMany(
            [
                session.numeric(wire.RPL_HELPSTART, subject, first),
                *(session.numeric(wire.RPL_HELPTXT, subject, line) for line in lines),
                session.numeric(wire.RPL_ENDOFHELP, subject, "End of /HELP."),
            ]
        )

    return {"HELP": HELP, "HELPOP": HELP}
