"""
The native protocol's grammar, as pure functions on text.

Client to server: a line is chat, or a command when it starts with C{/}
(C{//} escapes a literal slash).  Server to client: every line is one of a
few kinds that a reader tells apart by its first characters alone (see
L{classify}); the server words notices so that none of them can pass for
another kind, and user text can never begin a line.
"""

from __future__ import annotations

import math
import time
from gettext import NullTranslations
from typing import Union

from attrs import frozen

from chatsvc import events
from chatsvc.errors import (
    AccountExists,
    AlreadyInRoom,
    AlreadyRegistered,
    AlreadyThere,
    CannotJoin,
    CannotSpeak,
    ChatError,
    InvalidName,
    ListFull,
    LoginFailed,
    NicknameInUse,
    NicknameReserved,
    NoSuchNickname,
    NoSuchRoom,
    NotInRoom,
    NotInThatRoom,
    NotLoggedIn,
    NotPermitted,
    NotRegistered,
    RoomRegistered,
    TooManyAccounts,
    TooManyAttempts,
    TooManyConnections,
    TooManyRooms,
    WeakPassword,
)
from chatsvc.i18n import LANGUAGES, translation
from chatsvc.moderation import (
    FLAG_MODES,
    KEY_MODES,
    LIMIT_MODES,
    LIST_MODES,
    ROLE_MODES,
    ModeChange,
    Modes,
)
from chatsvc.names import MAX_NAME_LENGTH, isNickname
from chatsvc.records import Ban
from chatsvc.text import listNames

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

# How many names a /who reply or a crowd summary spells out.
MAX_NAMES_SHOWN = 50
MAX_CROWD_NAMES = 3


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


def renderEvent(event: events.Event, t: NullTranslations, own: bool = False) -> str:
    """
    Word C{event} for a client; several lines are separated by C{"\\n"},
    and C{""} is nothing to show.

    @param own: for the client who caused it; only a private message reads
        differently to its sender (C{-> *recipient* text}).
    """
    if isinstance(event, events.Said):
        return f"{event.nickname}: {visible(event.text)}"
    if isinstance(event, events.Acted):
        return f"{ACTION_PREFIX}{event.nickname} {visible(event.text)}"
    if isinstance(event, events.Whispered):
        text = visible(event.text)
        if event.action:
            text = f"{ACTION_PREFIX}{event.nickname} {text}"
        if own:
            return f"{SENT_PRIVATE_PREFIX}*{event.recipient}* {text}"
        return f"*{event.nickname}* {text}"
    if isinstance(event, events.Welcome):
        return t.gettext("Connected to server!")
    if isinstance(event, events.Joined):
        return t.gettext("{nickname} joined the chat!").format(nickname=event.nickname)
    if isinstance(event, events.Left):
        if event.reason:
            return t.gettext("{nickname} left the chat ({reason}).").format(
                nickname=event.nickname, reason=visible(event.reason)
            )
        return t.gettext("{nickname} left the chat.").format(nickname=event.nickname)
    if isinstance(event, events.Parted):
        if event.reason:
            return t.gettext("{nickname} left room {room} ({reason}).").format(
                nickname=event.nickname, room=event.room, reason=visible(event.reason)
            )
        return t.gettext("{nickname} left room {room}.").format(
            nickname=event.nickname, room=event.room
        )
    if isinstance(event, events.TopicChanged):
        if not event.topic:
            return t.gettext("{nickname} cleared the topic of room {room}.").format(
                nickname=event.nickname, room=event.room
            )
        return t.gettext("{nickname} set the topic of room {room}: {topic}").format(
            nickname=event.nickname, room=event.room, topic=visible(event.topic)
        )
    if isinstance(event, events.Renamed):
        return t.gettext("{old} is now known as {new}.").format(
            old=event.old, new=event.new
        )
    if isinstance(event, events.Departed):
        return t.gettext("{nickname} went to room {room}.").format(
            nickname=event.nickname, room=event.destination
        )
    if isinstance(event, events.Arrived):
        return t.gettext("{nickname} came over from room {room}.").format(
            nickname=event.nickname, room=event.origin
        )
    if isinstance(event, events.Moved):
        return t.ngettext(
            "You are now in room {room} ({count} member).",
            "You are now in room {room} ({count} members).",
            event.count,
        ).format(room=event.room, count=event.count)
    if isinstance(event, events.Crowd):
        lines = []
        if event.joined:
            lines.append(
                t.ngettext(
                    "{names} joined the chat!",
                    "{names} joined the chat!",
                    len(event.joined),
                ).format(names=listNames(event.joined, MAX_CROWD_NAMES, t))
            )
        if event.left:
            lines.append(
                t.ngettext(
                    "{names} left the chat.",
                    "{names} left the chat.",
                    len(event.left),
                ).format(names=listNames(event.left, MAX_CROWD_NAMES, t))
            )
        return "\n".join(lines)
    if isinstance(event, events.Announcement):
        if event.what == "history-failing":
            return t.gettext(
                "The server cannot save history just now; the chat goes on, "
                "but what is said may not be kept."
            )
        if event.what == "history-back":
            return t.gettext("The server saves history again.")
        raise TypeError(f"no rendering for {event!r}")
    if isinstance(event, events.Closing):
        return t.gettext("The server is shutting down. Goodbye!")
    if isinstance(event, events.TimedOut):
        return ERROR_PREFIX + t.gettext(
            "You took too long to choose a nickname. Goodbye!"
        )
    return _renderModeration(event, t, own)


def _renderModeration(event: events.Event, t: NullTranslations, own: bool) -> str:
    """
    The events of moderation, accounts and server operators.

    Native clients have no away messages or real names to show: those
    changes say nothing, and so does someone else's logging in (who holds
    which account matters to the server, not to the room); one's own
    account changing is worth a line.
    """
    if isinstance(event, events.ModeChanged):
        return t.gettext("{nickname} set the modes of room {room}: {modes}").format(
            nickname=event.nickname, room=event.room, modes=visible(formatModes(event.changes))
        )
    # Kicked and Invited name whom they concern C{nickname}, their sender
    # C{sender}.
    if isinstance(event, events.Kicked):
        if event.reason:
            return t.gettext("{nickname} put {target} out of room {room} ({reason}).").format(
                nickname=event.sender.nickname,
                target=event.nickname,
                room=event.room,
                reason=visible(event.reason),
            )
        return t.gettext("{nickname} put {target} out of room {room}.").format(
            nickname=event.sender.nickname, target=event.nickname, room=event.room
        )
    if isinstance(event, events.Invited):
        return t.gettext("{nickname} invited {guest} to room {room} (/join {room}).").format(
            nickname=event.sender.nickname, guest=event.nickname, room=event.room
        )
    if isinstance(event, events.InviteNotice):
        return t.gettext("{nickname} invited {guest} to room {room}.").format(
            nickname=event.sender.nickname, guest=event.nickname, room=event.room
        )
    if isinstance(event, events.AccountChanged):
        if not own:
            return ""
        if event.account is None:
            return t.gettext("You are no longer logged in to an account.")
        return loggedInLine(event.account, t)
    if isinstance(event, (events.AwayChanged, events.RealnameChanged)):
        return ""
    if isinstance(event, events.Wallops):
        return t.gettext("Server operator {nickname} to everyone: {text}").format(
            nickname=event.nickname, text=visible(event.text)
        )
    if isinstance(event, events.Killed):
        return ERROR_PREFIX + t.gettext(
            "Server operator {nickname} put you off the server ({reason}). Goodbye!"
        ).format(nickname=event.nickname, reason=visible(event.reason))
    raise TypeError(f"no rendering for {event!r}")


def encodeEvent(event: events.Event, language: str, own: bool = False) -> bytes:
    """
    L{renderEvent} as wire bytes, each line ending in CRLF (C{b""} for an
    event that says nothing).
    """
    text = renderEvent(event, translation(language), own)
    if not text:
        return b""
    return text.replace("\n", "\r\n").encode("utf-8") + b"\r\n"


def _when(seconds: float, now: float) -> str:
    """
    When something was said, as the server's local time: the time alone
    for today, with the date before.
    """
    moment = time.localtime(seconds)
    if time.localtime(now)[:3] == moment[:3]:
        return time.strftime("%H:%M", moment)
    return time.strftime("%Y-%m-%d %H:%M", moment)


def historyLines(
    history: list[events.Event],
    viewer: str,
    t: NullTranslations,
    now: float,
    room: str | None = None,
    nickname: str | None = None,
) -> list[str]:
    """
    Lines said before in C{room} (or in the private conversation with
    C{nickname}), each marked with its time (C{[21:30] Ala: hi}), so that
    none can pass for a line said now: every one is a notice.

    @param viewer: who is shown them, to tell their own private messages.
    """
    if room is not None:
        heading = t.gettext("Earlier in room {room}:").format(room=room)
        empty = t.gettext("Nothing was said in room {room} yet.").format(room=room)
    else:
        heading = t.gettext("Earlier with {nickname}:").format(nickname=nickname)
        empty = t.gettext("You and {nickname} have no history yet.").format(nickname=nickname)
    if not history:
        return [empty]
    lines = [heading]
    for event in history:
        own = isinstance(event, events.Whispered) and event.nickname == viewer
        text = renderEvent(event, t, own).split("\n")[0]
        lines.append(f"[{_when(event.time, now)}] {text}")
    lines.append(t.gettext("End of history."))
    return lines


def renderError(error: ChatError, t: NullTranslations) -> str:
    """
    Word a refusal from the hub as an error line.
    """
    if isinstance(error, InvalidName):
        if error.problem == "empty":
            message = t.gettext("A name cannot be empty.")
        elif error.problem == "long":
            message = t.gettext(
                "That name is too long: at most {count} characters."
            ).format(count=MAX_NAME_LENGTH)
        elif error.problem == "reserved":
            message = t.gettext("The name {name} is reserved.").format(name=error.name)
        elif error.problem == "start":
            message = t.gettext(
                "A name must start with a letter or _, not \u201c{character}\u201d."
            ).format(character=visible(error.character))
        else:
            message = t.gettext(
                "A name may hold only letters, digits, _ and -, not \u201c{character}\u201d."
            ).format(character=visible(error.character))
    elif isinstance(error, NicknameInUse):
        message = t.gettext("The nickname {nickname} is taken.").format(
            nickname=error.nickname
        )
    elif isinstance(error, NoSuchNickname):
        message = t.gettext("Nobody called {nickname} is here.").format(
            nickname=visible(error.nickname)
        )
    elif isinstance(error, AlreadyInRoom):
        message = t.gettext("You are in room {room} already.").format(room=error.room)
    elif isinstance(error, NoSuchRoom):
        message = t.gettext("There is no room {room}.").format(room=visible(error.room))
    elif isinstance(error, NotInRoom):
        if not error.room:
            message = t.gettext("You are in no room; /join one.")
        else:
            message = t.gettext("You are not in room {room}.").format(room=error.room)
    elif isinstance(error, TooManyConnections):
        if error.scope == "address":
            message = t.ngettext(
                "Too many connections from your address (at most {count}); try again later.",
                "Too many connections from your address (at most {count}); try again later.",
                error.limit,
            ).format(count=error.limit)
        else:
            message = t.gettext("The server is full; try again later.")
    elif isinstance(error, TooManyRooms):
        message = t.gettext(
            "The server holds as many rooms as it may ({count}); join one of them (/rooms)."
        ).format(count=error.limit)
    elif isinstance(error, NotRegistered):
        message = t.gettext("Choose a nickname first.")
    elif isinstance(error, AlreadyRegistered):
        message = t.gettext("You have a nickname already; use /nick to change it.")
    else:
        message = _moderationError(error, t)
    return ERROR_PREFIX + message


def _moderationError(error: ChatError, t: NullTranslations) -> str:
    """
    The refusals of moderation, accounts and server operators.
    """
    if isinstance(error, NotPermitted):
        return _notPermitted(error, t)
    if isinstance(error, CannotJoin):
        return _cannotJoin(error, t)
    if isinstance(error, CannotSpeak):
        if error.reason == "moderated":
            return t.gettext(
                "Room {room} is moderated: only voiced members and operators speak there."
            ).format(room=error.room)
        if error.reason == "banned":
            return t.gettext("You are banned from room {room}: you cannot speak there.").format(
                room=error.room
            )
        return t.gettext("You are not in room {room}.").format(room=error.room)
    if isinstance(error, NicknameReserved):
        return t.gettext("The nickname {nickname} is registered; choose another.").format(
            nickname=error.nickname
        )
    if isinstance(error, NotInThatRoom):
        return t.gettext("{nickname} is not in room {room}.").format(
            nickname=error.nickname, room=error.room
        )
    if isinstance(error, AlreadyThere):
        return t.gettext("{nickname} is in room {room} already.").format(
            nickname=error.nickname, room=error.room
        )
    if isinstance(error, ListFull):
        return t.gettext("The ban list of room {room} is full ({count}); /unban someone first.").format(
            room=error.room, count=error.limit
        )
    if isinstance(error, AccountExists):
        return t.gettext("The account {name} exists already.").format(name=visible(error.name))
    if isinstance(error, LoginFailed):
        # The same words whether the name or the password is wrong.
        return t.gettext("The name {name} and that password do not match.").format(
            name=visible(error.name)
        )
    if isinstance(error, TooManyAttempts):
        seconds = max(1, math.ceil(error.retryAfter))
        return t.ngettext(
            "Too many login attempts; try again in {count} second.",
            "Too many login attempts; try again in {count} seconds.",
            seconds,
        ).format(count=seconds)
    if isinstance(error, TooManyAccounts):
        return t.gettext(
            "The server holds as many accounts as it may ({count}); ask whoever runs it."
        ).format(count=error.limit)
    if isinstance(error, WeakPassword):
        return t.gettext("A password needs {minimum} to {maximum} characters.").format(
            minimum=error.minimum, maximum=error.maximum
        )
    if isinstance(error, NotLoggedIn):
        return t.gettext("Log in first: /identify <password>, or /register <password>.")
    if isinstance(error, RoomRegistered):
        return t.gettext("Room {room} is registered to {owner} already.").format(
            room=error.room, owner=error.owner
        )
    raise TypeError(f"no rendering for {error!r}")


def _notPermitted(error: NotPermitted, t: NullTranslations) -> str:
    if error.room is None:
        return t.gettext("Only server operators may use /{command}.").format(
            command=error.action
        )
    if error.action == "topic":
        message = t.gettext("Only operators of room {room} may change its topic.")
    elif error.action == "mode":
        message = t.gettext("Only operators of room {room} may change its modes.")
    elif error.action == "kick":
        message = t.gettext("Only operators of room {room} may put people out of it.")
    elif error.action == "invite":
        message = t.gettext("Room {room} is invite-only: only its operators may invite.")
    elif error.action == "register":
        message = t.gettext("Only operators of room {room} may register it.")
    else:
        message = t.gettext("Only operators of room {room} may do that.")
    return message.format(room=error.room)


def _cannotJoin(error: CannotJoin, t: NullTranslations) -> str:
    if error.reason == "banned":
        message = t.gettext("You are banned from room {room}.")
    elif error.reason == "invite-only":
        message = t.gettext("Room {room} is invite-only; ask one of its operators to /invite you.")
    elif error.reason == "key":
        message = t.gettext("Room {room} needs a key: /join {room} <key>.")
    else:
        message = t.gettext("Room {room} is full.")
    return message.format(room=error.room)


def error(message: str) -> str:
    """
    An error line for a refusal the hub was not asked about (framing, usage).
    """
    return ERROR_PREFIX + message


def helpLines(t: NullTranslations) -> list[str]:
    """
    The reply to /help.
    """
    return [
        t.gettext("Available commands (a line without / is said to your room):"),
        t.gettext("/who \u2014 who is in your room"),
        t.gettext("/msg <nickname> <text> \u2014 a private message"),
        t.gettext("/me <action> \u2014 an action, as in \u201c* Bob waves\u201d"),
        t.gettext("/nick <nickname> \u2014 change your nickname"),
        t.gettext("/join <room> [key] \u2014 go to another room (made if needed)"),
        t.gettext("/rooms \u2014 the rooms and how many are in each"),
        t.gettext("/history [nickname] [count] \u2014 earlier lines of your room, or of a private conversation"),
        t.gettext("/lang <code> \u2014 the language of server messages ({codes})").format(
            codes=", ".join(LANGUAGES)
        ),
        t.gettext("/quit [reason] \u2014 leave"),
        t.gettext("/help \u2014 this list; start a line with // to say something beginning with /"),
        t.gettext("For operators of your room (whoever makes a room is its first):"),
        t.gettext("/topic [text] \u2014 show the topic, or set it"),
        t.gettext("/op, /deop, /voice, /devoice <nickname> \u2014 give or take a role"),
        t.gettext("/kick <nickname> [reason] \u2014 put someone out"),
        t.gettext("/ban <mask or nickname>, /unban <mask>, /bans \u2014 the ban list"),
        t.gettext("/invite <nickname> \u2014 let someone in past the modes, once"),
        t.gettext(
            "/mode [+|-letters [arguments]] \u2014 show or change the modes "
            "(i invite-only, m moderated, n members only speak, s secret, t topic lock, "
            "k key, l limit)"
        ),
        t.gettext("/registerroom \u2014 keep the room, its modes and roles, for your account"),
        t.gettext("Accounts:"),
        t.gettext("/register <password> \u2014 register your nickname as an account"),
        t.gettext("/identify [account] <password> \u2014 log in"),
        t.gettext("/password <old> <new> \u2014 change your account's password"),
        t.gettext("/drop <password> \u2014 delete your account"),
        t.gettext("Server operators:"),
        t.gettext("/oper <name> <password> \u2014 become a server operator"),
        t.gettext("/kill <nickname> <reason> \u2014 put someone off the server"),
        t.gettext("/wallops <text> \u2014 tell everyone connected"),
    ]


def whoLine(room: str, nicknames: list[str], t: NullTranslations) -> str:
    """
    The reply to /who.
    """
    return t.gettext("In room {room} ({count}): {names}").format(
        room=room, count=len(nicknames), names=listNames(nicknames, MAX_NAMES_SHOWN, t)
    )


def topicLine(room: str, topic: str, t: NullTranslations) -> str:
    """
    The topic of a room, shown on entering it.
    """
    return t.gettext("The topic of room {room}: {topic}").format(room=room, topic=visible(topic))


def roomsLine(rooms: list[tuple[str, int]], t: NullTranslations) -> str:
    """
    The reply to /rooms.
    """
    listing = ", ".join(f"{name} ({count})" for name, count in rooms)
    return t.ngettext(
        "{count} room: {rooms}", "{count} rooms: {rooms}", len(rooms)
    ).format(count=len(rooms), rooms=listing)


def languageLine(language: str, t: NullTranslations) -> str:
    """
    The reply to /lang, in the newly chosen language.
    """
    return t.gettext("Language set to {name} ({code}).").format(
        name=LANGUAGES[language], code=language
    )



def languagesLine(language: str, t: NullTranslations) -> str:
    """
    The reply to /lang without a code: the current language and the choice.
    """
    return t.gettext("Your language is {name} ({code}); available: {choice}.").format(
        name=LANGUAGES[language],
        code=language,
        choice=", ".join(f"{code} ({name})" for code, name in LANGUAGES.items()),
    )


def loggedInLine(account: str, t: NullTranslations) -> str:
    """
    That the client is logged in to C{account}.
    """
    return t.gettext("You are now logged in to the account {account}.").format(account=account)


def accountPromptLines(nickname: str, t: NullTranslations) -> list[str]:
    """
    What asks for the password of the account C{nickname} is registered to.
    """
    return [
        t.gettext(
            "The nickname {nickname} is registered: send its password on the next line."
        ).format(nickname=nickname),
        ACCOUNT_PROMPT + nickname,
    ]


def topicReplyLine(room: str, topic: str, t: NullTranslations) -> str:
    """
    The reply to /topic without text.
    """
    if not topic:
        return t.gettext("Room {room} has no topic.").format(room=room)
    return topicLine(room, topic, t)


def modesLine(room: str, modes: Modes, t: NullTranslations) -> str:
    """
    The reply to /mode without changes: the room's settings, its key
    included (its members may know it).
    """
    letters, arguments = modes.letters()
    return t.gettext("The modes of room {room}: {modes}").format(
        room=room, modes=visible(" ".join([letters, *arguments]))
    )


def bansLines(room: str, bans: list[Ban], t: NullTranslations, now: float) -> list[str]:
    """
    The reply to /bans: each mask, indented, with who set it and when.
    """
    if not bans:
        return [t.gettext("Nobody is banned from room {room}.").format(room=room)]
    lines = [
        t.ngettext(
            "Room {room} bans {count} mask:", "Room {room} bans {count} masks:", len(bans)
        ).format(room=room, count=len(bans))
    ]
    for ban in bans:
        lines.append(
            "  "
            + t.gettext("{mask} (set by {setter}, {when})").format(
                mask=visible(ban.mask), setter=visible(ban.setter), when=_when(ban.time, now)
            )
        )
    return lines

