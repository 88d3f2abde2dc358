"""
The native protocol's grammar, as pure functions on text.

Client to server: a line is chat, or a command when it starts with C{/}
(C{//} escapes a literal slash).  Server to client: every line is one of a
few kinds that a reader tells apart by its first characters alone (see
L{classify}); the server words notices so that none of them can pass for
another kind, and user text can never begin a line.
"""

from __future__ import annotations

import time
from gettext import NullTranslations
from typing import Union

from attrs import frozen

from chatsvc import events
from chatsvc.errors import (
    AlreadyInRoom,
    AlreadyRegistered,
    ChatError,
    InvalidName,
    NicknameInUse,
    NoSuchNickname,
    NoSuchRoom,
    NotInRoom,
    NotRegistered,
    TooManyConnections,
    TooManyRooms,
)
from chatsvc.i18n import LANGUAGES, translation
from chatsvc.text import listNames
from chatsvc.names import MAX_NAME_LENGTH, isNickname

# The longest line a client may send, in bytes of UTF-8 without its line
# ending.  Generous for chat, small enough that a flood of maximal lines
# costs little.  Server lines may be longer (a nickname and prefix are added).
MAX_LINE_BYTES = 2048

NICK_PROMPT = "NICK"
PASSWORD_PROMPT = "PASS"
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


Command = Union[
    Say, Act, Whisper, Rename, Join, Help, Who, Rooms, Language, Quit, History, Unknown, Usage
]

USAGES = {
    "msg": "/msg <nickname> <text>",
    "me": "/me <action>",
    "nick": "/nick <nickname>",
    "join": "/join <room>",
    "history": "/history [nickname] [count]",
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
    if name == "nick":
        return Rename(rest)
    return Join(rest)


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

    @ivar kind: C{"prompt"}, C{"password"}, C{"chat"}, C{"action"}, C{"private"} (received),
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
    for the server password; C{"! "} starts an error;
    C{"* nick "} an action; C{"*nick* "} a private message to you;
    C{"-> *nick* "} your own private message; C{"nick: "} a chat line.  Any
    other line is a notice from the server.
    """
    if line == NICK_PROMPT:
        return Line("prompt", "")
    if line == PASSWORD_PROMPT:
        return Line("password", "")
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
    Word C{event} for a client; several lines are separated by C{"\\n"}.

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
    raise TypeError(f"no rendering for {event!r}")


def encodeEvent(event: events.Event, language: str, own: bool = False) -> bytes:
    """
    L{renderEvent} as wire bytes, each line ending in CRLF.
    """
    text = renderEvent(event, translation(language), own)
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
        raise TypeError(f"no rendering for {error!r}")
    return ERROR_PREFIX + message


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
        t.gettext("/join <room> \u2014 go to another room (made if needed)"),
        t.gettext("/rooms \u2014 the rooms and how many are in each"),
        t.gettext("/history [nickname] [count] \u2014 earlier lines of your room, or of a private conversation"),
        t.gettext("/lang <code> \u2014 the language of server messages ({codes})").format(
            codes=", ".join(LANGUAGES)
        ),
        t.gettext("/quit [reason] \u2014 leave"),
        t.gettext("/help \u2014 this list; start a line with // to say something beginning with /"),
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
