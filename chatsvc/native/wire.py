"""
The native protocol's grammar, as pure functions on text.

Client to server: a line is chat, or a command when it starts with C{/}
(C{//} escapes a literal slash).  Server to client: every line is one of a
few kinds that a reader tells apart by its first characters alone (see
L{classify}); the server words notices so that none of them can pass for
another kind, and user text can never begin a line.
"""

from __future__ import annotations

from typing import Union

from attrs import frozen

from chatsvc.moderation import (
    FLAG_MODES,
    KEY_MODES,
    LIMIT_MODES,
    LIST_MODES,
    ROLE_MODES,
    ModeChange,
)
from chatsvc.names import isNickname

# The longest line a client may send, in bytes of UTF-8 without its line
# ending.  Generous for chat, small enough that a flood of maximal lines
# costs little.  Server lines may be longer (a nickname and prefix are added).
MAX_LINE_BYTES = 2048

NICK_PROMPT = "NICK"
PASSWORD_PROMPT = "PASS"
# Followed by the registered nickname whose account's password comes next.
ACCOUNT_PROMPT = "PASS "
ERROR_PREFIX = "! "
ACTION_PREFIX = "* "
SENT_PRIVATE_PREFIX = "-> "



# Client-to-server commands


@frozen
class Say:
    text: str


@frozen
class Act:
    text: str


@frozen
class Whisper:
    nickname: str
    text: str


@frozen
class Rename:
    nickname: str


@frozen
class Join:
    room: str
    key: str | None = None


@frozen
class Help:
    pass


@frozen
class Who:
    pass


@frozen
class Rooms:
    pass


@frozen
class Language:
    code: str | None


@frozen
class Quit:
    reason: str | None


@frozen
class Unknown:
    """
    A C{/name} that is no command; never broadcast.
    """

    name: str


@frozen
class Usage:
    """
    A known command without the argument it needs.
    """

    name: str


@frozen
class History:
    """
    C{/history [nickname] [count]}: more of the room's history, or of the
    private conversation with C{nickname}.
    """

    nickname: str | None
    count: int | None


# Moderation


@frozen
class ChangeModes:
    """
    C{/mode +letters args}, and the shorthands C{/op}, C{/deop}, C{/voice},
    C{/devoice}, C{/ban} and C{/unban}: changes to the sender's room.
    """

    changes: tuple[ModeChange, ...]


@frozen
class ShowModes:
    """
    C{/mode} alone: the modes of the sender's room.
    """


@frozen
class Bans:
    """
    C{/bans}: the ban list of the sender's room.
    """


@frozen
class Kick:
    nickname: str
    reason: str | None


@frozen
class Invite:
    nickname: str


@frozen
class Topic:
    """
    C{/topic}: show the room's topic, or set it to C{text}.
    """

    text: str | None


@frozen
class RegisterRoom:
    pass


# Accounts and server operators.  Passwords are single words: what follows
# the words a command takes is a usage error, never part of a password.


@frozen
class RegisterAccount:
    password: str


@frozen
class Identify:
    """
    C{/identify [account] password}: without an account, the one named
    like the sender's nickname.
    """

    account: str | None
    password: str


@frozen
class ChangePassword:
    old: str
    new: str


@frozen
class Drop:
    password: str


@frozen
class Oper:
    name: str
    password: str


@frozen
class Kill:
    nickname: str
    reason: str


@frozen
class Wallops:
    text: str


Command = Union[
    Say,
    Act,
    Whisper,
    Rename,
    Join,
    Help,
    Who,
    Rooms,
    Language,
    Quit,
    History,
    ChangeModes,
    ShowModes,
    Bans,
    Kick,
    Invite,
    Topic,
    RegisterRoom,
    RegisterAccount,
    Identify,
    ChangePassword,
    Drop,
    Oper,
    Kill,
    Wallops,
    Unknown,
    Usage,
]

# The letters /mode takes, as IRC's MODE does (see chatsvc.moderation).
MODE_LETTERS = ROLE_MODES + LIST_MODES + FLAG_MODES + KEY_MODES + LIMIT_MODES

USAGES = {
    "msg": "/msg <nickname> <text>",
    "me": "/me <action>",
    "nick": "/nick <nickname>",
    "join": "/join <room> [key]",
    "history": "/history [nickname] [count]",
    "mode": "/mode [+|-letters [arguments]] (letters: " + " ".join(MODE_LETTERS) + ")",
    "op": "/op <nickname>",
    "deop": "/deop <nickname>",
    "voice": "/voice <nickname>",
    "devoice": "/devoice <nickname>",
    "ban": "/ban <mask or nickname>",
    "unban": "/unban <mask>",
    "kick": "/kick <nickname> [reason]",
    "invite": "/invite <nickname>",
    "register": "/register <password>",
    "identify": "/identify [account] <password>",
    "password": "/password <old> <new>",
    "drop": "/drop <password>",
    "oper": "/oper <name> <password>",
    "kill": "/kill <nickname> <reason>",
    "wallops": "/wallops <text>",
}

# Commands that change one mode of one argument, as what they change.
_MODE_SHORTHANDS = {
    "op": (True, "o"),
    "deop": (False, "o"),
    "voice": (True, "v"),
    "devoice": (False, "v"),
    "ban": (True, "b"),
    "unban": (False, "b"),
}


def parseLine(line: str) -> Command:
    """
    Parse one decoded line (without its line ending) from a client.
    """
    if line.startswith("//"):
        return Say(line[1:])
    if not line.startswith("/"):
        return Say(line)
    name, _, rest = line[1:].partition(" ")
    name = name.lower()
    rest = rest.strip(" ")
    if name == "help":
        return Help()
    if name == "who":
        return Who()
    if name == "rooms":
        return Rooms()
    if name == "lang":
        return Language(rest or None)
    if name == "quit":
        return Quit(rest or None)
    if name == "history":
        return _history(rest)
    if name == "topic":
        return Topic(rest or None)
    if name == "bans":
        return Bans()
    if name == "registerroom":
        return RegisterRoom()
    if name == "mode":
        if not rest:
            return ShowModes()
        changes = parseModes(rest)
        return Usage(name) if changes is None else ChangeModes(changes)
    if name not in USAGES:
        return Unknown(name)
    if not rest:
        return Usage(name)
    if name == "msg":
        nickname, _, text = rest.partition(" ")
        text = text.lstrip(" ")
        return Whisper(nickname, text) if text else Usage(name)
    if name == "me":
        return Act(rest)
    if name == "wallops":
        return Wallops(rest)
    if name in ("kick", "kill"):
        nickname, _, reason = rest.partition(" ")
        reason = reason.strip(" ")
        if name == "kick":
            return Kick(nickname, reason or None)
        return Kill(nickname, reason) if reason else Usage(name)
    return _words(name, rest.split())


def _words(name: str, words: list[str]) -> Command:
    """
    A command of single words (nicknames, rooms, masks, passwords): the
    right number of them, or its usage.
    """
    if name in _MODE_SHORTHANDS and len(words) == 1:
        adding, letter = _MODE_SHORTHANDS[name]
        return ChangeModes((ModeChange(adding, letter, words[0]),))
    if name == "nick" and len(words) == 1:
        return Rename(words[0])
    if name == "join" and len(words) <= 2:
        return Join(words[0], words[1] if len(words) == 2 else None)
    if name == "invite" and len(words) == 1:
        return Invite(words[0])
    if name == "register" and len(words) == 1:
        return RegisterAccount(words[0])
    if name == "identify" and len(words) <= 2:
        return Identify(words[0], words[1]) if len(words) == 2 else Identify(None, words[0])
    if name == "password" and len(words) == 2:
        return ChangePassword(words[0], words[1])
    if name == "drop" and len(words) == 1:
        return Drop(words[0])
    if name == "oper" and len(words) == 2:
        return Oper(words[0], words[1])
    return Usage(name)


def parseModes(text: str) -> tuple[ModeChange, ...] | None:
    """
    The changes C{+o-v Bob Ewa} asks for, or C{None} if it is malformed:
    letters after C{+} or C{-}, then one argument for each letter that
    takes one (a role's nickname, a ban's mask, a key, a limit when set),
    in order, and nothing more.

    Unlike IRC, C{-k} takes no argument: the key is known.
    """
    letters, *arguments = text.split()
    if letters[0] not in "+-":
        return None
    changes = []
    adding = True
    for letter in letters:
        if letter in "+-":
            adding = letter == "+"
            continue
        if letter not in MODE_LETTERS:
            return None
        change = ModeChange(adding, letter)
        if change.takesArgument() and not (letter in KEY_MODES and not adding):
            if not arguments:
                return None
            change = ModeChange(adding, letter, arguments.pop(0))
        changes.append(change)
    if not changes or arguments:
        return None
    return tuple(changes)


def formatModes(changes: tuple[ModeChange, ...]) -> str:
    """
    C{changes} as C{/mode} takes them (C{+o-v Bob Ewa}): what
    L{parseModes} reads back.
    """
    letters = ""
    adding = None
    for change in changes:
        if change.adding != adding:
            adding = change.adding
            letters += "+" if adding else "-"
        letters += change.letter
    arguments = [change.argument for change in changes if change.argument is not None]
    return " ".join([letters, *arguments])


def _history(rest: str) -> History | Usage:
    words = rest.split()
    nickname = count = None
    if words and not words[-1].isdigit():
        nickname = words.pop(0)
    if words:
        if len(words) > 1 or not words[0].isascii() or not words[0].isdigit():
            return Usage("history")
        count = int(words[0])
        if count < 1:
            return Usage("history")
    return History(nickname, count)


# Making text safe for a terminal

_C1_AND_BIDI = {
    **{code: "\ufffd" for code in range(0x80, 0xA0)},
    # Embeddings, overrides and isolates can reorder how a line is shown.
    **{code: "\ufffd" for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))},
    0x2028: " ",
    0x2029: " ",
}
_VISIBLE = str.maketrans(
    {
        **{code: chr(0x2400 + code) for code in range(0x20)},
        0x09: " ",
        0x7F: "\u2421",
        **_C1_AND_BIDI,
    }
)


def visible(text: str) -> str:
    """
    C{text} with every control character replaced by a harmless visible one.

    C0 controls become their Unicode control pictures (ESC shows as "␛"),
    a tab becomes a space, C1 controls and bidirectional overrides become
    "�".  So one user's text can never drive another user's terminal, nor
    end or reorder the line it is shown on.
    """
    return text.translate(_VISIBLE)


def plainText(text: str) -> str:
    """
    What a native user typed, as text that other front-ends cannot mistake
    for a command of theirs.

    The one case is IRC's CTCP marker (\\x01): a native line holding
    C{"\\x01VERSION\\x01"} must not make IRC clients answer a query nobody
    meant.  The marker becomes its visible picture, as natives would see it
    anyway.
    """
    return text.replace("\x01", "\u2401")


# Server-to-client lines


@frozen
class Line:
    """
    A server line, classified.

    @ivar kind: C{"prompt"}, C{"password"}, C{"account"} (the password of
        the account C{nickname} is registered to), C{"chat"}, C{"action"},
        C{"private"} (received),
        C{"sent"} (your own private message, echoed), C{"error"} or
        C{"notice"}.
    @ivar nickname: who spoke, for chat and actions; the other party, for
        private messages.
    """

    kind: str
    text: str
    nickname: str | None = None


def classify(line: str) -> Line:
    """
    Tell what kind of server line C{line} is, by its first characters alone.

    The rules, in order: C{NICK} alone is the prompt; C{PASS} alone asks
    for the server password; C{PASS nick} for the password of the account
    that nickname is registered to (C{pass} being a reserved nickname, no
    notice can start so); C{"! "} starts an error;
    C{"* nick "} an action; C{"*nick* "} a private message to you;
    C{"-> *nick* "} your own private message; C{"nick: "} a chat line.  Any
    other line is a notice from the server.
    """
    if line == NICK_PROMPT:
        return Line("prompt", "")
    if line == PASSWORD_PROMPT:
        return Line("password", "")
    if line.startswith(ACCOUNT_PROMPT) and isNickname(line[len(ACCOUNT_PROMPT) :]):
        return Line("account", "", line[len(ACCOUNT_PROMPT) :])
    if line.startswith(ERROR_PREFIX):
        return Line("error", line[len(ERROR_PREFIX) :])
    if line.startswith(ACTION_PREFIX):
        nickname, _, text = line[len(ACTION_PREFIX) :].partition(" ")
        if isNickname(nickname):
            return Line("action", text, nickname)
    kind = "private"
    private = line
    if line.startswith(SENT_PRIVATE_PREFIX):
        kind = "sent"
        private = line[len(SENT_PRIVATE_PREFIX) :]
    if private.startswith("*"):
        nickname, star, text = private[1:].partition("* ")
        if star and isNickname(nickname):
            return Line(kind, text, nickname)
    nickname, colon, text = line.partition(": ")
    if colon and isNickname(nickname):
        return Line("chat", text, nickname)
    return Line("notice", line)
