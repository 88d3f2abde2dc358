"""
The few server lines the client has to understand, not just show.

To come back after a lost connection as it was, the client follows where
it is (C{You are now in room pub (3 members).}, and in none after
C{Ola put Bob out of room pub.} or C{! You are banned from room lobby.}),
what it is called (C{Ala is now known as Ola.}), which account it is logged
in to and with which password (to log in again), and what it is shown on
entering a room (the topic, C{The topic of room pub: ...}, then the replay,
C{Earlier in room pub:} ... C{End of history.}); and it must tell a
nickname still held by its own old connection, the notice that comes before
the C{PASS <nick>} prompt, and a goodbye for a reason that will not change
(a wrong password, a C{/kill}), from everything else.

These are the server's own messages, from the same catalog the server
words them with, recognized in every language the catalog has (a user may
have switched the server's language with C{/lang}).  Pure functions of a
line, no state.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache

from chatsvc.i18n import LANGUAGES, translation
from chatsvc.names import nameKey

# A field of a message and what it may match: names hold no spaces.
_FIELDS = {"count": r"\d+", "topic": r".*", "reason": r".*"}
_NAME = r"\S+"

# "[21:30] " today, "[2026-11-30 21:30] " another day (wording.historyLines).
_TIME_PREFIX = re.compile(r"\[(?:\d{4}-\d{2}-\d{2} )?\d{2}:\d{2}\] ")


def _pattern(template: str) -> re.Pattern[str]:
    parts = []
    for literal, name, _, _ in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name is not None:
            parts.append(f"(?P<{name}>{_FIELDS.get(name, _NAME)})")
    return re.compile("".join(parts))


def _messages(language: str) -> dict[str, list[str]]:
    t = translation(language)
    return {
        "heading": [t.gettext("Earlier in room {room}:")],
        "topic": [t.gettext("The topic of room {room}: {topic}")],
        "end": [t.gettext("End of history.")],
        "moved": [
            t.ngettext(
                "You are now in room {room} ({count} member).",
                "You are now in room {room} ({count} members).",
                count,
            )
            # One, a few and many: every plural form Polish has.
            for count in (1, 2, 5)
        ],
        "renamed": [t.gettext("{old} is now known as {new}.")],
        "taken": [t.gettext("The nickname {nickname} is taken.")],
        "already": [t.gettext("You are in room {room} already.")],
        "final": [
            t.gettext("Wrong password. Goodbye!"),
            t.gettext("Excess flood. Goodbye!"),
            t.gettext("You took too long to choose a nickname. Goodbye!"),
            t.gettext(
                "Server operator {nickname} put you off the server ({reason}). Goodbye!"
            ),
        ],
        "registered": [
            t.gettext(
                "The nickname {nickname} is registered: send its password on the next line."
            )
        ],
        "loggedIn": [t.gettext("You are now logged in to the account {account}.")],
        "loggedOut": [t.gettext("You are no longer logged in to an account.")],
        "changed": [t.gettext("Your password is changed.")],
        "dropped": [t.gettext("The account {account} is dropped.")],
        "loginFailed": [t.gettext("The name {name} and that password do not match.")],
        "kicked": [
            t.gettext("{nickname} put {target} out of room {room}."),
            t.gettext("{nickname} put {target} out of room {room} ({reason})."),
        ],
        "banned": [t.gettext("You are banned from room {room}.")],
        "noRoom": [t.gettext("You are in no room; /join one.")],
    }


@lru_cache(maxsize=None)
def _patterns(kind: str) -> tuple[re.Pattern[str], ...]:
    templates = {
        template for language in LANGUAGES for template in _messages(language)[kind]
    }
    return tuple(_pattern(template) for template in sorted(templates))


def _match(kind: str, text: str) -> dict[str, str] | None:
    for pattern in _patterns(kind):
        found = pattern.fullmatch(text)
        if found is not None:
            return found.groupdict()
    return None


def historyHeading(line: str) -> str | None:
    """
    The room whose history starts with C{line}, if it is such a heading.
    """
    found = _match("heading", line)
    return None if found is None else found["room"]


def topicOf(line: str) -> str | None:
    """
    The room whose topic C{line} shows, as it is shown on entering a room
    (before the replay).
    """
    found = _match("topic", line)
    return None if found is None else found["room"]


def isHistoryEnd(line: str) -> bool:
    """
    Whether C{line} ends a block of history.
    """
    return _match("end", line) is not None


def stripTime(line: str) -> str | None:
    """
    A line of history without its C{[time] } prefix; C{None} if it has none.
    """
    found = _TIME_PREFIX.match(line)
    return None if found is None else line[found.end() :]


def movedTo(line: str) -> str | None:
    """
    The room C{line} says we are now in, if it says so.
    """
    found = _match("moved", line)
    return None if found is None else found["room"]


def renamed(line: str) -> tuple[str, str] | None:
    """
    The old and new nickname, if C{line} announces a change of nickname.
    """
    found = _match("renamed", line)
    return None if found is None else (found["old"], found["new"])


def takenNickname(error: str) -> str | None:
    """
    The nickname refused as taken, if the error C{error} (without its
    C{"! "}) says so.
    """
    found = _match("taken", error)
    return None if found is None else found["nickname"]


def alreadyIn(error: str) -> str | None:
    """
    The room we were already in, if the error C{error} says so.
    """
    found = _match("already", error)
    return None if found is None else found["room"]


def isFinalRefusal(error: str) -> bool:
    """
    Whether the error C{error} is the server ending the connection for a
    reason that trying again would not change: a wrong password, a flood,
    a nickname never chosen, a server operator's C{/kill}.
    """
    return _match("final", error) is not None


def registeredNickname(line: str) -> str | None:
    """
    The nickname C{line} says is registered, if it is the notice before the
    server's C{PASS <nick>} prompt.
    """
    found = _match("registered", line)
    return None if found is None else found["nickname"]


def loggedIn(line: str) -> str | None:
    """
    The account C{line} says we are now logged in to, if it says so.
    """
    found = _match("loggedIn", line)
    return None if found is None else found["account"]


def isLoggedOut(line: str) -> bool:
    """
    Whether C{line} says we are logged in to no account any more.
    """
    return _match("loggedOut", line) is not None


def isPasswordChanged(line: str) -> bool:
    """
    Whether C{line} confirms a C{/password}.
    """
    return _match("changed", line) is not None


def droppedAccount(line: str) -> str | None:
    """
    The account C{line} says is dropped, if it says so.
    """
    found = _match("dropped", line)
    return None if found is None else found["account"]


def failedLogin(error: str) -> str | None:
    """
    The name whose password the error C{error} says was wrong, if it does.
    """
    found = _match("loginFailed", error)
    return None if found is None else found["name"]


def kicked(line: str) -> tuple[str, str] | None:
    """
    Who was put out of which room, if C{line} says someone was
    (C{Ola put Bob out of room pub (spam).}).
    """
    found = _match("kicked", line)
    return None if found is None else (found["target"], found["room"])


def bannedFrom(error: str) -> str | None:
    """
    The room the error C{error} says we are banned from (and so not let in).
    """
    found = _match("banned", error)
    return None if found is None else found["room"]


def isNoRoom(error: str) -> bool:
    """
    Whether the error C{error} says we are in no room.
    """
    return _match("noRoom", error) is not None


def noRoomHint(language: str) -> str:
    """
    What to tell a user put out of their room: the server's own words for
    being in none.
    """
    return translation(language).gettext("You are in no room; /join one.")


def sameName(one: str | None, other: str | None) -> bool:
    """
    Whether two nicknames or room names are the same name to the server.
    """
    if one is None or other is None:
        return one is other
    return nameKey(one) == nameKey(other)
