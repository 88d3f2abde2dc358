"""
IRC commands of server operators: OPER to become one (checked by the
server's operator list, asynchronously), KILL and WALLOPS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatsvc.errors import ChatError, NoSuchNickname, NotPermitted
from chatsvc.irc import wire
from chatsvc.irc.wire import formatMessage

if TYPE_CHECKING:
    from chatsvc.irc.session import IRCSession


def OPER(session: IRCSession, params: tuple[str, ...]) -> None:
    if len(params) < 2:
        session.reply(wire.ERR_NEEDMOREPARAMS, "OPER", "Not enough parameters")
        return
    opers = session.server.opers
    if opers is None:
        session.reply(wire.ERR_NOOPERHOST, "No O-lines for your host")
        return
    name, password = params[0], params[1]

    def verified(right: bool) -> None:
        if not session.member.connected:
            return
        if not right:
            session.connection.log.info(
                "failed OPER {name} from {peer}", name=name, peer=session.connection.host
            )
            session.reply(wire.ERR_PASSWDMISMATCH, "Password incorrect")
            return
        session.hub.becomeOperator(session.member, name)
        session.reply(wire.RPL_YOUREOPER, "You are now an IRC operator")
        nickname = session.member.nickname
        session.send(formatMessage("MODE", nickname, "+o", prefix=session.mask))

    session.wait(opers.verify(name, password).addCallback(verified))


def KILL(session: IRCSession, params: tuple[str, ...]) -> None:
    if len(params) < 2 or not params[0]:
        session.reply(wire.ERR_NEEDMOREPARAMS, "KILL", "Not enough parameters")
        return
    nickname = params[0]
    try:
        session.hub.kill(session.member, nickname, params[1] or session.member.nickname)
    except NotPermitted as error:
        session.refuse("KILL", error)
    except NoSuchNickname as error:
        session.refuse("KILL", error, nickname)


def WALLOPS(session: IRCSession, params: tuple[str, ...]) -> None:
    if not params or not params[0]:
        session.reply(wire.ERR_NEEDMOREPARAMS, "WALLOPS", "Not enough parameters")
        return
    try:
        session.hub.wallops(session.member, params[0])
    except ChatError as error:
        session.refuse("WALLOPS", error)


COMMANDS = {"OPER": OPER, "KILL": KILL, "WALLOPS": WALLOPS}
