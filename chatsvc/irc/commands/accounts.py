"""
Logging in to accounts from IRC: what every way in shares (900 and the
hub's record), PASS-style login for old clients (C{PASS account:password}
on a server without a server password), and IRCv3
C{draft/account-registration} (REGISTER).  SASL is
L{chatsvc.irc.commands.sasl}.

The account store answers asynchronously (it hashes passwords): while it
does, the session reads no further command (L{IRCSession.wait}), so what a
client sends next sees the answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from twisted.python.failure import Failure

from chatsvc.errors import (
    AccountExists,
    InvalidName,
    LoginFailed,
    TooManyAttempts,
    WeakPassword,
)
from chatsvc.irc import wire
from chatsvc.irc.wire import formatMessage
from chatsvc.names import checkNickname

if TYPE_CHECKING:
    from chatsvc.irc.session import IRCSession

# CAP LS 302 value of draft/account-registration: REGISTER works before the
# connection registers.
REGISTRATION_VALUE = "before-connect"


def logIn(session: IRCSession, account: str) -> None:
    """
    C{account} was proved: record it and say so (900).

    A connection that has not registered yet gets the account before its
    nickname, so that the account's own reserved nickname is its to take.
    """
    member = session.member
    session.hub.logIn(member, account)
    if member.nickname is not None:
        mask = session.mask
    else:
        registration = session.registration
        username = registration.user[0] if registration.user else "*"
        mask = f"{registration.nickname or '*'}!{username}@{member.host}"
    session.reply(wire.RPL_LOGGEDIN, mask, account, f"You are now logged in as {account}")


def passLogin(session: IRCSession, then: Callable[[IRCSession], None]) -> bool:
    """
    If the client gave C{PASS account:password} to a server that has
    accounts and no server password, start logging in with it and return
    True: C{then} goes on with registration when the answer comes, logged
    in or not (a NOTICE says why not).
    """
    registration = session.registration
    password = registration.password
    accounts = session.server.accounts
    if (
        accounts is None
        or session.connection.passwordRequired
        or session.member.account is not None
        or not password
        or ":" not in password
    ):
        return False
    registration.password = None
    name, _, secret = password.partition(":")

    def failed(failure: Failure) -> None:
        if failure.check(TooManyAttempts):
            seconds = int(failure.value.retryAfter) + 1
            why = f"too many attempts; try again in {seconds} seconds"
        else:
            if not failure.check(LoginFailed):
                session.log.failure("logging in with PASS failed", failure)
            why = "wrong account or password"
        notice(session, f"*** Not logged in: {why}")

    check = accounts.login(name, secret, session.connection.host)
    check.addCallbacks(lambda account: logIn(session, account), failed)
    check.addCallback(lambda _: then(session))
    session.wait(check)
    return True


def notice(session: IRCSession, text: str) -> None:
    """
    A NOTICE from the server to this client, registered or not.
    """
    target = session.member.nickname or session.registration.nickname or "*"
    session.send(formatMessage("NOTICE", target, text, prefix=session.server.serverName))


def fail(session: IRCSession, code: str, subject: str, text: str) -> None:
    """
    C{FAIL REGISTER <code> <subject> :<text>}, as the specification words
    a refused registration.
    """
    session.send(
        formatMessage("FAIL", "REGISTER", code, subject, text, prefix=session.server.serverName)
    )


def REGISTER(session: IRCSession, params: tuple[str, ...]) -> None:
    accounts = session.server.accounts
    if accounts is None:
        session.reply(wire.ERR_UNKNOWNCOMMAND, "REGISTER", "Unknown command")
        return
    if len(params) < 3:
        session.reply(wire.ERR_NEEDMOREPARAMS, "REGISTER", "Not enough parameters")
        return
    account, _, password = params[:3]
    if session.member.account is not None:
        fail(session, "ALREADY_AUTHENTICATED", session.member.account, "You are already logged in")
        return
    if account == "*":
        account = session.member.nickname or session.registration.nickname
        if account is None:
            fail(session, "NEED_NICK", "*", "Choose a nickname first, or name the account")
            return
    try:
        account = checkNickname(account)
    except InvalidName:
        fail(session, "BAD_ACCOUNT_NAME", account, "An account is named as a nickname is")
        return

    def registered(name: str) -> None:
        session.send(
            formatMessage(
                "REGISTER", "SUCCESS", name, "Account created", prefix=session.server.serverName
            )
        )
        logIn(session, name)

    def refused(failure: Failure) -> None:
        if failure.check(AccountExists):
            fail(session, "ACCOUNT_EXISTS", account, "Account already exists")
        elif failure.check(WeakPassword):
            error = failure.value
            fail(
                session,
                "WEAK_PASSWORD",
                account,
                f"A password has {error.minimum} to {error.maximum} characters",
            )
        else:
            if not failure.check(TooManyAttempts):
                session.log.failure("registering an account failed", failure)
            fail(session, "TEMPORARILY_UNAVAILABLE", account, "Try again later")

    check = accounts.register(account, password, session.connection.host)
    check.addCallbacks(registered, refused)
    session.wait(check)


COMMANDS = {"REGISTER": REGISTER}
