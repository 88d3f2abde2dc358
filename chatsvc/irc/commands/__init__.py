"""
Every IRC command the server knows, by name: one module per group, each
with a C{COMMANDS} table of handlers C{(session, params) -> None}.
"""

from __future__ import annotations

from chatsvc.irc.commands import (
    accounts,
    caps,
    channels,
    chathistory,
    help,
    messages,
    moderation,
    operators,
    profile,
    queries,
    registration,
    sasl,
    server,
)

COMMANDS = {
    "CAP": caps.CAP,
    "PASS": registration.PASS,
    "NICK": registration.NICK,
    "USER": registration.USER,
    **server.COMMANDS,
    **channels.COMMANDS,
    **moderation.COMMANDS,
    **messages.COMMANDS,
    **queries.COMMANDS,
    **chathistory.COMMANDS,
    **operators.COMMANDS,
    **profile.COMMANDS,
    **sasl.COMMANDS,
    **accounts.COMMANDS,
}
# HELP lists this very table.
COMMANDS.update(help.commands(COMMANDS))

# Commands a client may send before it is registered (logging in and
# creating an account included: draft/account-registration's
# before-connect).
BEFORE_REGISTRATION = frozenset(
    {"CAP", "PASS", "NICK", "USER", "PING", "PONG", "QUIT", "AUTHENTICATE", "REGISTER"}
)

# Commands of RFC 2812 that need powers nobody has here.
OPERATOR_ONLY = frozenset({"SQUIT", "CONNECT", "REHASH", "DIE", "RESTART"})
