"""
IRCv3 capability negotiation (C{CAP LS}, C{LIST}, C{REQ}, C{END}), as
version 302 of the specification has it.

A connection's capabilities are its session's C{capabilities}; those that
change how events are worded (L{chatsvc.irc.render.RENDERING}) choose its
renderer, shared with every client that has the same ones, so a change
swaps the renderer of the connection.  No capability ever comes or goes
while the server runs, so C{cap-notify} (implied by C{CAP LS 302}) never
has anything to announce.

C{chghost} is not offered: a connection's user name and host never change
here, so there would never be a CHGHOST to send.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatsvc.irc import wire
from chatsvc.irc.commands.accounts import REGISTRATION_VALUE
from chatsvc.irc.commands.registration import advance
from chatsvc.irc.commands.sasl import MECHANISMS, abort
from chatsvc.irc.wire import formatMessage

if TYPE_CHECKING:
    from chatsvc.irc.session import IRCSession

# What every server offers, and what only one that keeps history does.
CAPABILITIES = frozenset(
    {
        "account-notify",
        "account-tag",
        "away-notify",
        "batch",
        "cap-notify",
        "echo-message",
        "extended-join",
        "invite-notify",
        "message-tags",
        "multi-prefix",
        "server-time",
        "setname",
        "userhost-in-names",
    }
)
HISTORY_CAPABILITIES = frozenset({"draft/chathistory", "draft/event-playback"})
# What only a server with accounts offers, with the values CAP LS 302 shows.
ACCOUNT_CAPABILITIES = {
    "draft/account-registration": REGISTRATION_VALUE,
    "sasl": ",".join(MECHANISMS),
}

# CAP LS versions, as clients send them.
CAP_302 = 302


def offered(session: IRCSession) -> frozenset[str]:
    """
    The capabilities this session's server offers.
    """
    names = CAPABILITIES
    if session.server.history is not None:
        names |= HISTORY_CAPABILITIES
    if session.server.accounts is not None:
        names |= frozenset(ACCOUNT_CAPABILITIES)
    return names


def advertised(session: IRCSession) -> list[str]:
    """
    CAP LS's list: with version 302, the values of those that have one.
    """
    names = sorted(offered(session))
    if session.capVersion < CAP_302:
        return names
    return [
        f"{name}={ACCOUNT_CAPABILITIES[name]}" if name in ACCOUNT_CAPABILITIES else name
        for name in names
    ]


def CAP(session: IRCSession, params: tuple[str, ...]) -> None:
    if not params:
        session.reply(wire.ERR_NEEDMOREPARAMS, "CAP", "Not enough parameters")
        return
    registration = session.registration
    subcommand = params[0].upper()
    if subcommand == "LS":
        registration.negotiating = not registration.done
        version = params[1] if len(params) > 1 else ""
        if version.isdigit() and int(version) >= CAP_302:
            session.capVersion = max(session.capVersion, CAP_302)
            setCapabilities(session, session.capabilities | {"cap-notify"})
        capReply(session, "LS", advertised(session))
    elif subcommand == "LIST":
        capReply(session, "LIST", sorted(session.capabilities))
    elif subcommand == "REQ":
        registration.negotiating = not registration.done
        request(session, params[1] if len(params) > 1 else "")
    elif subcommand == "END":
        if session.sasl is not None:
            abort(session)
        registration.negotiating = False
        advance(session)
    else:
        session.reply(wire.ERR_INVALIDCAPCMD, subcommand, "Invalid CAP command")


def request(session: IRCSession, requested: str) -> None:
    """
    Grant all of C{requested} (C{name} to enable, C{-name} to disable) with
    ACK, or none of it with NAK: a name not offered, an empty request, or
    turning off C{cap-notify} after C{CAP LS 302} (which the specification
    forbids) refuses the whole request.
    """
    names = requested.split()
    known = offered(session)
    wanted = set(session.capabilities)
    granted = bool(names)
    for name in names:
        off = name.startswith("-")
        name = name.removeprefix("-")
        if name not in known or (off and name == "cap-notify" and session.capVersion >= CAP_302):
            granted = False
            break
        if off:
            wanted.discard(name)
        else:
            wanted.add(name)
    capReply(session, "ACK" if granted else "NAK", names)
    if granted:
        setCapabilities(session, frozenset(wanted))


def setCapabilities(session: IRCSession, capabilities: frozenset[str]) -> None:
    """
    Give the session C{capabilities}, and its connection the renderer for
    them if that is another one.
    """
    session.capabilities = capabilities
    session.chooseRenderer()


def capReply(session: IRCSession, subcommand: str, names: list[str]) -> None:
    """
    C{CAP <nick> <subcommand> :<names>}: one line, as every list of the
    capabilities offered fits in one.
    """
    target = session.member.nickname or "*"
    session.send(
        formatMessage("CAP", target, subcommand, " ".join(names), prefix=session.server.serverName)
    )
