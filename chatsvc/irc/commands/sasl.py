"""
SASL PLAIN over IRC (IRCv3 C{sasl}, version 3.2): C{AUTHENTICATE PLAIN},
the server's C{AUTHENTICATE +}, the client's base64 response in chunks of
400 bytes (a shorter chunk, or C{+}, ends it), and 900 with 903, or 904.

The account store checks the password asynchronously; the session reads
nothing more until it answers (L{IRCSession.wait}), so a C{CAP END} right
behind the response registers the client logged in.
"""

from __future__ import annotations

import binascii
from base64 import b64decode
from typing import TYPE_CHECKING

from attrs import define
from twisted.python.failure import Failure

from chatsvc.errors import LoginFailed, TooManyAttempts
from chatsvc.irc import wire
from chatsvc.irc.commands.accounts import logIn
from chatsvc.irc.wire import formatMessage
from chatsvc.names import nameKey

if TYPE_CHECKING:
    from chatsvc.irc.session import IRCSession

MECHANISMS = ("PLAIN",)
# Bytes of base64 in one AUTHENTICATE line; a full one means more follow.
CHUNK = 400
# A PLAIN response is two names and a password: this is plenty.
MAX_RESPONSE = 4 * CHUNK


@define
class Exchange:
    """
    A SASL exchange under way: the mechanism chosen and the response read
    so far.
    """

    mechanism: str
    response: str = ""


def decodePlain(response: str) -> tuple[str, str] | None:
    """
    The account and password of a base64 PLAIN response
    (C{authzid NUL authcid NUL password}), or C{None} if it is not one or
    asks to act as another account than the one it proves.
    """
    try:
        raw = b64decode(response, validate=True)
        parts = raw.decode("utf-8").split("\0")
    except (binascii.Error, ValueError):
        return None
    if len(parts) != 3 or not parts[1]:
        return None
    authzid, authcid, password = parts
    if authzid and nameKey(authzid) != nameKey(authcid):
        return None
    return authcid, password


def abort(session: IRCSession) -> None:
    """
    End the exchange under way, if any, with 906.
    """
    session.sasl = None
    session.reply(wire.ERR_SASLABORTED, "SASL authentication aborted")


def _failed(session: IRCSession, why: str = "SASL authentication failed") -> None:
    session.sasl = None
    session.reply(wire.ERR_SASLFAIL, why)


def AUTHENTICATE(session: IRCSession, params: tuple[str, ...]) -> None:
    if session.server.accounts is None or "sasl" not in session.capabilities:
        session.reply(wire.ERR_UNKNOWNCOMMAND, "AUTHENTICATE", "Unknown command")
        return
    if not params or not params[0]:
        session.reply(wire.ERR_NEEDMOREPARAMS, "AUTHENTICATE", "Not enough parameters")
        return
    data = params[0]
    if data == "*":
        abort(session)
        return
    exchange = session.sasl
    if exchange is None:
        if session.member.account is not None:
            session.reply(wire.ERR_SASLALREADY, "You have already authenticated using SASL")
        elif data.upper() not in MECHANISMS:
            session.reply(wire.RPL_SASLMECHS, ",".join(MECHANISMS), "are available SASL mechanisms")
            _failed(session)
        else:
            session.sasl = Exchange(data.upper())
            session.send(formatMessage("AUTHENTICATE", "+"))
        return
    if len(data) > CHUNK or len(exchange.response) + len(data) > MAX_RESPONSE:
        session.sasl = None
        session.reply(wire.ERR_SASLTOOLONG, "SASL message too long")
        return
    if data != "+":
        exchange.response += data
    if len(data) == CHUNK:
        return
    session.sasl = None
    credentials = decodePlain(exchange.response)
    if credentials is None:
        _failed(session)
        return
    name, password = credentials

    def succeeded(account: str) -> None:
        if session.member.connected:
            logIn(session, account)
            session.reply(wire.RPL_SASLSUCCESS, "SASL authentication successful")

    def refused(failure: Failure) -> None:
        if failure.check(TooManyAttempts):
            seconds = int(failure.value.retryAfter) + 1
            _failed(session, f"SASL authentication failed: try again in {seconds} seconds")
            return
        if not failure.check(LoginFailed):
            session.log.failure("a SASL login failed", failure)
        _failed(session)

    check = session.server.accounts.login(name, password, session.connection.host)
    check.addCallbacks(succeeded, refused)
    session.wait(check)


COMMANDS = {"AUTHENTICATE": AUTHENTICATE}
