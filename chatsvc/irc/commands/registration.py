"""
IRC registration as an explicit state machine, and the commands that drive
it: PASS, NICK, USER, and CAP (L{chatsvc.irc.commands.caps}).

A client is I{negotiating} from C{CAP LS} or C{CAP REQ} until C{CAP END};
it is I{ready} once it has given a nickname and a user and is not
negotiating; then the server password (if any) is checked, the hub
registers it, and it is I{registered}.  Any order of NICK, USER and CAP
gets there, as clients send them in every order.

A client may log in to an account before it registers (SASL while
negotiating, C{PASS account:password} when ready): a nickname registered
to an account is then refused (433) only once it is clear that the client
has not logged in to that account.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from attrs import define

from chatsvc import __version__
from chatsvc.errors import ChatError, InvalidName, NicknameInUse, NicknameReserved
from chatsvc.irc import wire
from chatsvc.irc.commands.accounts import passLogin
from chatsvc.irc.commands.server import LUSERS, MOTD, NETWORK, isupportTokens, myInfo
from chatsvc.names import MAX_USERNAME_LENGTH, checkNickname

if TYPE_CHECKING:
    from chatsvc.irc.session import IRCSession


@define
class Registration:
    """
    What a client has said towards registering.

    @ivar nickname: the nickname asked for, checked as available then.
    @ivar user: the user name and real name (USER).
    @ivar password: the server password given (PASS), checked when ready.
    """

    nickname: str | None = None
    user: tuple[str, str] | None = None
    password: str | None = None
    negotiating: bool = False
    done: bool = False

    @property
    def state(self) -> str:
        """
        C{"registered"}, C{"negotiating"}, C{"ready"} or C{"waiting"}.
        """
        if self.done:
            return "registered"
        if self.negotiating:
            return "negotiating"
        if self.nickname is not None and self.user is not None:
            return "ready"
        return "waiting"


def PASS(session: IRCSession, params: tuple[str, ...]) -> None:
    if session.registration.done:
        session.reply(wire.ERR_ALREADYREGISTERED, "You may not reregister")
    elif not params:
        session.reply(wire.ERR_NEEDMOREPARAMS, "PASS", "Not enough parameters")
    else:
        # Checked when registration completes, as RFC 2812 has it.
        session.registration.password = params[0]


def NICK(session: IRCSession, params: tuple[str, ...]) -> None:
    if not params or not params[0]:
        session.reply(wire.ERR_NONICKNAMEGIVEN, "No nickname given")
        return
    wanted = params[0]
    registration = session.registration
    try:
        if registration.done:
            session.hub.rename(session.member, wanted)
            return
        try:
            registration.nickname = session.hub.checkAvailable(wanted, session.member.account)
        except NicknameReserved:
            if not mayLogIn(session):
                raise
            # Its owner may be about to log in: registering will tell.
            registration.nickname = checkNickname(wanted)
        advance(session)
    except (InvalidName, NicknameInUse, NicknameReserved) as error:
        session.refuse("NICK", error, wanted)


def mayLogIn(session: IRCSession) -> bool:
    """
    Whether this unregistered client may still log in before registering:
    it is negotiating capabilities (SASL may follow) or gave a PASS that
    names an account.
    """
    registration = session.registration
    return session.server.accounts is not None and (
        registration.negotiating or ":" in (registration.password or "")
    )


def USER(session: IRCSession, params: tuple[str, ...]) -> None:
    registration = session.registration
    if registration.done:
        session.reply(wire.ERR_ALREADYREGISTERED, "You may not reregister")
        return
    # An empty user name or real name is as good as none (modern IRC docs).
    if len(params) < 4 or not params[0] or not params[3]:
        session.reply(wire.ERR_NEEDMOREPARAMS, "USER", "Not enough parameters")
        return
    username = "".join(c for c in params[0] if c.isascii() and (c.isalnum() or c in "-_."))
    registration.user = ("~" + (username[:MAX_USERNAME_LENGTH] or "user"), params[3])
    advance(session)


def advance(session: IRCSession) -> None:
    """
    Register the client if it is ready: password first, then the hub.
    """
    registration = session.registration
    if registration.state != "ready":
        return
    connection = session.connection
    if connection.passwordRequired and not connection.checkPassword(
        registration.password or ""
    ):
        session.reply(wire.ERR_PASSWDMISMATCH, "Password incorrect")
        connection.goodbye([session.closingLink("Bad password")])
        return
    if passLogin(session, advance):
        return
    username, realname = registration.user
    try:
        session.hub.register(
            session.member, registration.nickname, enter=False, username=username, realname=realname
        )
    except ChatError as error:
        # Taken between NICK and now, or reserved for an account the
        # client did not log in to after all.
        session.refuse("NICK", error, registration.nickname)
        registration.nickname = None
        return
    registration.done = True
    welcome(session)


def welcome(session: IRCSession) -> None:
    """
    001 to 005, LUSERS and the MOTD, as clients expect on registering.
    """
    server = session.server
    tokens = isupportTokens(session.hub, session.server.history)
    lines = [
        session.numeric(wire.RPL_WELCOME, f"Welcome to the {NETWORK} IRC network {session.mask}"),
        session.numeric(
            wire.RPL_YOURHOST,
            f"Your host is {server.serverName}, running version chatsvc-{__version__}",
        ),
        session.numeric(wire.RPL_CREATED, f"This server was created {server.created}"),
        session.numeric(wire.RPL_MYINFO, server.serverName, f"chatsvc-{__version__}", *myInfo()),
    ]
    for start in range(0, len(tokens), 12):
        lines.append(
            session.numeric(
                wire.RPL_ISUPPORT, *tokens[start : start + 12], "are supported by this server"
            )
        )
    session.sendMany(lines)
    LUSERS(session, ())
    MOTD(session, ())
