"""
The rules for nicknames and room names, as pure functions.

Both front-ends and the hub rely on these, so one rule holds everywhere: what
the native protocol accepts, IRC accepts too, and what a user sees in a chat
line can always be parsed back into the nickname that sent it.
"""

from __future__ import annotations

import unicodedata

from chatsvc.errors import InvalidName

MAX_NAME_LENGTH = 32

# The longest free texts a user may leave on the server, in characters; the
# rest is cut off (as IRC servers cut a topic at TOPICLEN) rather than
# refused, and both front-ends hold users to the same ones.
MAX_TOPIC_LENGTH = 390
MAX_AWAY_LENGTH = 390
MAX_REALNAME_LENGTH = 128
# The user name of an IRC mask (USERLEN), for IRC's USER and native users.
MAX_USERNAME_LENGTH = 10

# Compared by key (see nameKey), so "Server" and "SERVER" are reserved too.
# "pass" would make a chat line "PASS: ..." look like the account password
# prompt at a glance; the others would let a user pass for the server.
# ("nick" is free: the prompt is the whole line "NICK", and IRC clients and
# test suites use it.)
RESERVED_NICKNAMES = frozenset(
    {"pass", "server", "chatsvc", "system", "admin", "operator", "root", "everyone"}
)


def nameKey(name: str) -> str:
    """
    The identity of a name: two names with the same key are the same name.

    NFKC folds compatibility forms ("ﬁ" and "fi"), casefold folds case in
    every script ("Łukasz" and "łukasz"); the second NFKC pass catches the
    few characters whose case folding is no longer normalized.
    """
    return unicodedata.normalize(
        "NFKC", unicodedata.normalize("NFKC", name).casefold()
    )


def _isNameCharacter(character: str) -> bool:
    category = unicodedata.category(character)
    return (
        category[0] in "LM" or category == "Nd" or character in "_-"
    )


def _checkName(text: str) -> str:
    name = unicodedata.normalize("NFC", text)
    if not name:
        raise InvalidName("empty", name)
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidName("long", name)
    first = name[0]
    if not (unicodedata.category(first)[0] == "L" or first == "_"):
        raise InvalidName("start", name, first)
    for character in name:
        if not _isNameCharacter(character):
            raise InvalidName("character", name, character)
    return name


def checkNickname(text: str) -> str:
    """
    Validate a nickname and return the form to display (NFC).

    @raise InvalidName: with C{problem} one of C{"empty"}, C{"long"},
        C{"start"}, C{"character"} or C{"reserved"}.
    """
    name = _checkName(text)
    if nameKey(name) in RESERVED_NICKNAMES:
        raise InvalidName("reserved", name)
    return name


def checkRoomName(text: str) -> str:
    """
    Validate a room name and return the form to display.

    A leading C{#} is accepted and dropped, so IRC habits work: C{/join #pub}
    and C{/join pub} are the same room.
    """
    return _checkName(text[1:] if text.startswith("#") else text)


def isNickname(text: str) -> bool:
    """
    Whether C{text} is a nickname someone could hold, without raising.
    """
    try:
        return checkNickname(text) == text
    except InvalidName:
        return False
