"""
IRC commands that carry text: PRIVMSG and NOTICE, to channels and people;
and TAGMSG, which carries only client tags, accepted and dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatsvc.errors import ChatError
from chatsvc.irc import wire

if TYPE_CHECKING:
    from chatsvc.irc.session import IRCSession

# Targets one message may name (TARGMAX).
MAX_TARGETS = 4


def PRIVMSG(session: IRCSession, params: tuple[str, ...], notice: bool = False) -> None:
    command = "NOTICE" if notice else "PRIVMSG"
    if not params or not params[0]:
        if not notice:
            session.reply(wire.ERR_NORECIPIENT, f"No recipient given ({command})")
        return
    if len(params) < 2 or not params[1]:
        if not notice:
            session.reply(wire.ERR_NOTEXTTOSEND, "No text to send")
        return
    text = params[1]
    action = wire.ctcpAction(text)
    hub = session.hub
    for target in params[0].split(",")[:MAX_TARGETS]:
        try:
            if target.startswith("#"):
                room = target[1:]
                if action is not None:
                    hub.act(session.member, action, room)
                else:
                    hub.say(session.member, text, room, notice=notice)
            else:
                recipient = hub.whisper(
                    session.member,
                    target,
                    action if action is not None else text,
                    action=action is not None,
                    notice=notice,
                )
                if recipient.away and not notice:
                    session.reply(wire.RPL_AWAY, recipient.nickname, recipient.away)
        except ChatError as error:
            # A NOTICE never causes an automatic reply, errors included.
            if not notice:
                session.refuse(command, error, target)


def NOTICE(session: IRCSession, params: tuple[str, ...]) -> None:
    PRIVMSG(session, params, notice=True)


def TAGMSG(session: IRCSession, params: tuple[str, ...]) -> None:
    # Tags only (typing notices, reactions): client tags are not relayed,
    # so there is nothing to deliver, and, as for a NOTICE, no error.
    pass


COMMANDS = {"PRIVMSG": PRIVMSG, "NOTICE": NOTICE, "TAGMSG": TAGMSG}
