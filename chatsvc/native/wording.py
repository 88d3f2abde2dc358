"""
The native protocol's wording: events, refusals and replies as the lines
a client is sent, in its language.

Every line is worded so that L{chatsvc.native.wire.classify} tells its kind
by its first characters alone (the test suite checks every message of
every catalog); the grammar itself is in L{chatsvc.native.wire}.
"""

from __future__ import annotations

import math
import time
from gettext import NullTranslations

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
    Modes,
)
from chatsvc.names import MAX_NAME_LENGTH
from chatsvc.native.wire import (
    ACCOUNT_PROMPT,
    ACTION_PREFIX,
    ERROR_PREFIX,
    SENT_PRIVATE_PREFIX,
    formatModes,
    visible,
)
from chatsvc.records import Ban
from chatsvc.text import listNames

# How many names a /who reply or a crowd summary spells out.
MAX_NAMES_SHOWN = 50
MAX_CROWD_NAMES = 3



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
    if isinstance(event, events.Dropped):
        return ERROR_PREFIX + _droppedLine(event, t)
    raise TypeError(f"no rendering for {event!r}")


def _droppedLine(event: events.Dropped, t: NullTranslations) -> str:
    """
    Why the cluster let this user go: no operator did, and connecting again
    will likely work, which the terminal client does by itself (the line
    is no final refusal, L{chatsvc.client.notices}).
    """
    if event.why == "taken":
        return t.gettext(
            "Someone on another server has the nickname {nickname}; "
            "please reconnect and choose another."
        ).format(nickname=event.nickname)
    if event.why == "unreachable":
        return t.gettext(
            "This server cannot reach the rest of the chat to check nicknames just now; "
            "please reconnect shortly."
        )
    return t.gettext("This server lost touch with the rest of the chat; please reconnect.")


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

