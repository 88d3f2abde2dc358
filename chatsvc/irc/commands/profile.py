"""
IRCv3 C{setname}: SETNAME changes one's real name while connected, and
everyone who shares a channel and negotiated C{setname} hears of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatsvc.irc import wire
from chatsvc.irc.wire import formatMessage
from chatsvc.names import MAX_REALNAME_LENGTH

if TYPE_CHECKING:
    from chatsvc.irc.session import IRCSession


def SETNAME(session: IRCSession, params: tuple[str, ...]) -> None:
    if not params:
        session.reply(wire.ERR_NEEDMOREPARAMS, "SETNAME", "Not enough parameters")
        return
    realname = params[0]
    if not realname or len(realname) > MAX_REALNAME_LENGTH:
        # Refused rather than cut, as the specification asks: the client
        # shows what it sent as accepted otherwise.
        session.send(
            formatMessage(
                "FAIL",
                "SETNAME",
                "INVALID_REALNAME",
                "Realname is not valid",
                prefix=session.server.serverName,
            )
        )
        return
    # The client hears its own change back (with setname) from the hub.
    session.hub.setRealname(session.member, realname)


COMMANDS = {"SETNAME": SETNAME}
