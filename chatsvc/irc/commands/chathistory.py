"""
History for IRC clients: the CHATHISTORY command (IRCv3 C{draft/chathistory})
and the replay shown on joining a channel to clients that do not ask for
history themselves.

A place in history is named by a message id (C{msgid=...}, as the C{msgid}
tag gave it) or by a time (C{timestamp=...}, to the millisecond, as the
C{time} tag gave it).  A message shown at a millisecond was received during
it, so it is neither before nor after that timestamp.  History is read from
the store, asynchronously: the reply goes out when the store answers, in
one piece, and not at all if the connection closed meanwhile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from attrs import frozen
from twisted.internet.defer import Deferred, FirstError, gatherResults, succeed
from twisted.python.failure import Failure

from chatsvc import events
from chatsvc.errors import InvalidName, NoSuchNickname
from chatsvc.history import MAX_FETCH
from chatsvc.irc import wire
from chatsvc.irc.wire import formatMessage, formatTime, withTags
from chatsvc.names import checkNickname, nameKey
from chatsvc.store.rows import LINES, Mark, privateTarget, roomTarget

if TYPE_CHECKING:
    from chatsvc.history import History
    from chatsvc.hub import Room
    from chatsvc.irc.session import IRCSession

# Parameters after the subcommand.
SUBCOMMANDS = {"LATEST": 3, "BEFORE": 3, "AFTER": 3, "AROUND": 3, "BETWEEN": 4, "TARGETS": 3}

CANNOT = "Messages could not be retrieved"


@frozen
class Place:
    """
    Where a reference points: the messages after it start after C{lower},
    those before it end before C{upper} (the same row for a message id).
    """

    lower: Mark
    upper: Mark

    @classmethod
    def atMillisecond(cls, milliseconds: int) -> Place:
        return cls(Mark((milliseconds + 1) / 1000), Mark(milliseconds / 1000))

    @classmethod
    def ofEvent(cls, event: events.Event) -> Place:
        mark = Mark(event.time, event.id)
        return cls(mark, mark)


def parseReference(text: str) -> tuple[str, str | int] | None:
    """
    C{("*", "")}, C{("msgid", id)} or C{("timestamp", milliseconds)}, or
    C{None} for what is none of them.  The id of the second or later piece
    of a cut line (C{id-2}) names the line's.
    """
    if text == "*":
        return ("*", "")
    kind, equals, value = text.partition("=")
    if not equals or not value:
        return None
    if kind == "msgid":
        return ("msgid", value.partition("-")[0])
    if kind == "timestamp":
        milliseconds = wire.parseTime(value)
        return None if milliseconds is None else ("timestamp", milliseconds)
    return None


def parseLimit(text: str) -> int | None:
    """
    How many messages a request may have, at most L{MAX_FETCH} (0: that
    many, as for Ergo), or C{None} if C{text} is not a count.
    """
    if not (text.isdigit() and text.isascii()):
        return None
    return min(int(text), MAX_FETCH) or MAX_FETCH


def fail(session: IRCSession, code: str, *context: str) -> None:
    """
    C{FAIL CHATHISTORY <code> <context...> :<description>}, the last of
    C{context} being the description.
    """
    session.send(
        formatMessage("FAIL", "CHATHISTORY", code, *context, prefix=session.server.serverName)
    )


def CHATHISTORY(session: IRCSession, params: tuple[str, ...]) -> None:
    history = session.server.history
    if history is None:
        session.reply(wire.ERR_UNKNOWNCOMMAND, "CHATHISTORY", "Unknown command")
        return
    if not params:
        fail(session, "NEED_MORE_PARAMS", "*", "Insufficient parameters")
        return
    subcommand = params[0].upper()
    wanted = SUBCOMMANDS.get(subcommand)
    if wanted is None:
        fail(session, "INVALID_PARAMS", params[0], "Unknown command")
        return
    arguments = params[1:]
    if len(arguments) < wanted:
        fail(session, "NEED_MORE_PARAMS", subcommand, "Insufficient parameters")
        return
    if len(arguments) > wanted:
        fail(session, "INVALID_PARAMS", subcommand, "Too many parameters")
        return
    limit = parseLimit(arguments[-1])
    if limit is None:
        fail(session, "INVALID_PARAMS", subcommand, arguments[-1], "Invalid limit")
        return
    # TARGETS names no target: its references come first.
    texts = arguments[:-1] if subcommand == "TARGETS" else arguments[1:-1]
    references = [parseReference(text) for text in texts]
    for text, reference in zip(texts, references):
        star = reference is not None and reference[0] == "*"
        if reference is None or (star and subcommand != "LATEST"):
            fail(session, "INVALID_PARAMS", subcommand, text, "Invalid message reference")
            return
        if subcommand == "TARGETS" and reference[0] != "timestamp":
            fail(session, "INVALID_PARAMS", subcommand, text, "Invalid timestamp")
            return
    if subcommand == "TARGETS":
        targets(session, history, references[0][1], references[1][1], limit)
    else:
        messages(session, history, subcommand, arguments[0], references, limit)


def messages(
    session: IRCSession,
    history: History,
    subcommand: str,
    name: str,
    references: list[tuple[str, str | int]],
    limit: int,
) -> None:
    """
    The messages of C{name}, a channel the client is in or a nickname,
    that C{subcommand} at C{references} asks for.
    """
    found = conversation(session, name)
    if found is None:
        fail(session, "INVALID_TARGET", subcommand, name, CANNOT)
        return
    target, shown = found
    kinds = None if "draft/event-playback" in session.capabilities else LINES

    def place(reference: tuple[str, str | int]) -> Deferred[Place | None]:
        kind, value = reference
        if kind == "msgid":
            return history.find(target, value).addCallback(
                lambda event: None if event is None else Place.ofEvent(event)
            )
        return succeed(Place.atMillisecond(value))

    def query(places: list[Place | None]) -> Deferred[list[events.Event]] | None:
        if None in places:
            fail(session, "MESSAGE_ERROR", subcommand, name, "Unknown message id")
            return None
        if subcommand == "LATEST":
            after = places[0].lower if places else None
            return history.between(target, limit, after=after, kinds=kinds)
        if subcommand == "BEFORE":
            return history.between(target, limit, before=places[0].upper, kinds=kinds)
        if subcommand == "AFTER":
            return history.between(target, limit, after=places[0].lower, newest=False, kinds=kinds)
        if subcommand == "AROUND":
            return history.around(target, places[0].upper, limit, kinds=kinds)
        # BETWEEN, forwards or backwards in time; counted from the first.
        first, second = places
        forwards = first.upper.time <= second.upper.time
        earlier, later = (first, second) if forwards else (second, first)
        return history.between(
            target, limit, earlier.lower, later.upper, newest=not forwards, kinds=kinds
        )

    def send(found: list[events.Event] | None) -> None:
        if found is not None:
            sendHistory(session, shown, found)

    # "*" (LATEST only) is no place at all.
    places = [place(reference) for reference in references if reference[0] != "*"]
    gatherResults(places, consumeErrors=True).addCallback(query).addCallback(send).addErrback(
        failed, session, subcommand, name
    )


def failed(failure: Failure, session: IRCSession, subcommand: str, name: str) -> None:
    """
    The store could not answer: say so in the log and to the client.
    """
    if failure.check(FirstError):
        failure = failure.value.subFailure
    session.connection.log.warn(
        "fetching history failed: {reason}", reason=failure.getErrorMessage()
    )
    fail(session, "MESSAGE_ERROR", subcommand, name, CANNOT)


def conversation(session: IRCSession, name: str) -> tuple[str, str] | None:
    """
    The history target and the canonical name of C{name}: a channel the
    client is in, or a nickname (of someone gone, too); C{None} for any
    other.
    """
    me = session.member.nickname
    if name.startswith("#"):
        key = nameKey(name[1:])
        for room in session.member.rooms:
            if nameKey(room.name) == key:
                return roomTarget(room.name), wire.channelName(room.name)
        return None
    try:
        other = session.hub.find(name).nickname
    except (NoSuchNickname, InvalidName):
        try:
            other = checkNickname(name)
        except InvalidName:
            return None
    return privateTarget(me, other), other


def targets(
    session: IRCSession, history: History, first: int, second: int, limit: int
) -> None:
    """
    The channels the client is in and the private conversations it had
    with a message between two timestamps (milliseconds), each with the
    time of its latest one there; the earliest C{limit} from C{first} on,
    or, when C{first} is the later, the latest C{limit} back from it.
    """
    newest = first > second
    earlier, later = (second, first) if newest else (first, second)
    me = session.member.nickname
    rooms = [roomTarget(room.name) for room in session.member.rooms]

    def send(found: list[tuple[str, events.Event]]) -> None:
        batch = session.server.newBatch() if "batch" in session.capabilities else None
        server = session.server.serverName
        lines = []
        for target, event in found:
            if isinstance(event, events.Whispered):
                sender = event.nickname
                shown = event.recipient if nameKey(sender) == nameKey(me) else sender
            else:
                shown = wire.channelName(event.room)
            line = formatMessage(
                "CHATHISTORY", "TARGETS", shown, formatTime(event.time), prefix=server
            )
            lines.append(withTags([("batch", batch)] if batch else [], line))
        session.sendMany(batched(session, batch, "draft/chathistory-targets", (), lines))

    since = Place.atMillisecond(earlier).lower.time
    until = Place.atMillisecond(later).upper.time
    history.conversations(me, rooms, since, until, limit, newest).addCallback(send).addErrback(
        failed, session, "TARGETS", "*"
    )


def batched(
    session: IRCSession, batch: str | None, kind: str, params: tuple[str, ...], lines: list[str]
) -> list[str]:
    """
    C{lines} between C{BATCH +<batch> <kind> <params>} and C{BATCH -<batch>},
    or alone if there is no batch.
    """
    if batch is None:
        return lines
    server = session.server.serverName
    return [
        formatMessage("BATCH", "+" + batch, kind, *params, prefix=server),
        *lines,
        formatMessage("BATCH", "-" + batch, prefix=server),
    ]


def sendHistory(session: IRCSession, name: str, found: list[events.Event]) -> None:
    """
    C{found}, the history of C{name} (a channel or a nickname), as this
    client's renderer words events, with their tags, in a C{chathistory}
    batch if the client has C{batch}: empty if nothing was found.
    """
    batch = session.server.newBatch() if "batch" in session.capabilities else None
    renderer = session.renderer
    lines = [line for event in found for line in renderer.tagged(event, batch)]
    session.sendMany(batched(session, batch, "chathistory", (name,), lines))


def replayOnJoin(session: IRCSession, room: Room) -> None:
    """
    The last lines said in C{room}, just joined, for a client that does not
    fetch history itself (C{draft/chathistory}, which asks the server not to
    replay anything unasked): in a batch if it has C{batch}, with their
    times if it has C{server-time}, and as plain messages otherwise.
    """
    history = session.server.history
    if history is None or not history.replay or "draft/chathistory" in session.capabilities:
        return
    recent = history.recent(room.name)
    if recent:
        sendHistory(session, wire.channelName(room.name), recent)


COMMANDS = {"CHATHISTORY": CHATHISTORY}
