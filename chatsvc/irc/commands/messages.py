"""
IRC commands that carry text: PRIVMSG and NOTICE, to channels and people;
and TAGMSG, which carries only client tags, accepted and dropped.

An IRC client's message is never cut in pieces: one that would not fit in
one line once relayed, from the sender's mask, is refused with 417.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatsvc.errors import ChatError
from chatsvc.irc import render, wire
from chatsvc.names import MAX_NAME_LENGTH

if TYPE_CHECKING:
    from chatsvc.irc.session import IRCSession

# Targets one message may name (TARGMAX).
MAX_TARGETS = 4
# What a relayed line holds beside its text and the sender's mask, at most:
# ":", " PRIVMSG ", the longest channel name in UTF-8, " :".
_MOST_BESIDE_TEXT_AND_MASK = 1 + 9 + 4 * (MAX_NAME_LENGTH + 1) + 2


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
    targets = params[0].split(",")[:MAX_TARGETS]
    if not _fitsWhole(session, command, targets, text, action):
        # As for a line over 512 bytes, and so for a NOTICE too: an IRC
        # client's line reaches everyone as it was sent, or nobody.
        session.reply(wire.ERR_INPUTTOOLONG, "Input line was too long")
        return
    hub = session.hub
    for target in targets:
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


def _fitsWhole(
    session: IRCSession, command: str, targets: list[str], text: str, action: str | None
) -> bool:
    """
    Whether every target's copy of the message fits in one IRC line (tags,
    which have their own budget, aside), from the sender's own mask to the
    target as the hub spells it, as the renderer will word it.
    """
    relayed = render.relayedText(text if action is None else action, action is not None)
    size = len(relayed.encode("utf-8")) + len(session.mask.encode("utf-8"))
    if size + _MOST_BESIDE_TEXT_AND_MASK <= wire.MAX_LINE_BYTES:
        return True
    for target in targets:
        if target.startswith("#"):
            # Actions in a channel are PRIVMSGs, even sent as a NOTICE.
            relayedCommand = "PRIVMSG" if action is not None else command
        else:
            relayedCommand = command
        space = render.room(relayedCommand, session.mask, _spelled(session, target))
        if len(relayed.encode("utf-8")) > space:
            return False
    return True


def _spelled(session: IRCSession, target: str) -> str:
    """
    A channel or nickname as the hub spells it (as given if there is none:
    the hub refuses it then).
    """
    try:
        if target.startswith("#"):
            return wire.channelName(session.hub.room(target[1:]).name)
        return session.hub.find(target).nickname
    except ChatError:
        return target


def NOTICE(session: IRCSession, params: tuple[str, ...]) -> None:
    PRIVMSG(session, params, notice=True)


def TAGMSG(session: IRCSession, params: tuple[str, ...]) -> None:
    # Tags only (typing notices, reactions): client tags are not relayed,
    # so there is nothing to deliver, and, as for a NOTICE, no error.
    pass


COMMANDS = {"PRIVMSG": PRIVMSG, "NOTICE": NOTICE, "TAGMSG": TAGMSG}
