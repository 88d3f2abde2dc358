"""
Every IRC command the server knows, by name: one module per group, each
with a C{COMMANDS} table of handlers C{(session, params) -> None}.
"""

from __future__ import annotations

from chatsvc.irc.commands import registration
from chatsvc.irc.commands import caps, channels, chathistory, help, messages, queries, server

COMMANDS = {
    "CAP": caps.CAP,
    "PASS": registration.PASS,
    "NICK": registration.NICK,
    "USER": registration.USER,
    **server.COMMANDS,
    **channels.COMMANDS,
    **messages.COMMANDS,
    **queries.COMMANDS,
    **chathistory.COMMANDS,
}
# HELP lists this very table.
COMMANDS.update(help.commands(COMMANDS))

# Commands a client may send before it is registered.
BEFORE_REGISTRATION = frozenset({"CAP", "PASS", "NICK", "USER", "PING", "PONG", "QUIT"})

# Commands of RFC 2812 that need powers nobody has here.
OPERATOR_ONLY = frozenset(
    {"KICK", "KILL", "INVITE", "SQUIT", "CONNECT", "REHASH", "DIE", "RESTART", "WALLOPS"}
)
