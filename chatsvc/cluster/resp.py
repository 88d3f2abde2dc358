"""
RESP2, the protocol Redis speaks, as much of it as the cluster's bus needs:
commands out as arrays of bulk strings, replies in, parsed a piece at a
time; replies answer commands in order (pipelining), except the messages
Redis pushes to a connection that subscribed.

Why not txredisapi: it drives itself by the global reactor (its timeouts
and reconnection cannot be put on a test's clock), it reconnects by
C{ReconnectingClientFactory} where we keep connections up with
C{ClientService} and its backoff, and it is a 2,900-line module for the
nine commands we send.  The protocol is small: the parser below is pure,
so that property tests can cut its input anywhere.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from typing import Union

from attrs import frozen
from twisted.internet.defer import Deferred, fail
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.internet.protocol import Protocol
from twisted.python.failure import Failure

from chatsvc.errors import BusError

# The longest status or error line, and the longest bulk string (Redis's own
# proto-max-bulk-len) and array we accept; nesting deeper than any reply of
# the commands we send is refused too.
MAX_LINE = 64 * 1024
MAX_BULK = 512 * 1024 * 1024
MAX_ARRAY = 1 << 20
MAX_DEPTH = 8

# How long a connection may stay quiet before we ask Redis whether it is
# there, and how long it then has to answer before we drop the connection.
PING_INTERVAL = 2.0
PING_TIMEOUT = 5.0

_KINDS = frozenset(b"+-:$*")
# What an array's header parses to: a marker, never a reply.
_STARTED = object()
_NUMBER = re.compile(rb"-?[0-9]{1,19}")
# A message Redis pushes to a subscriber, up to its channel's length; and a
# length, up to what it measures.
_MESSAGE = re.compile(rb"\*3\r\n\$7\r\nmessage\r\n\$([0-9]{1,10})\r\n")
_LENGTH = re.compile(rb"\r\n\$([0-9]{1,10})\r\n")
_PARTIAL_NUMBER = re.compile(rb"-?[0-9]{0,19}\r?")


class ProtocolError(Exception):
    """
    What Redis sent is not RESP2 (or passes our bounds): the connection
    cannot be trusted any more and is dropped.
    """


@frozen
class ReplyError:
    """
    An error reply (C{-ERR ...}): a value, since it answers one command of
    a pipeline and the others go on.
    """

    message: str


Reply = Union[str, bytes, int, None, ReplyError, list["Reply"]]


def encodeCommand(*args: bytes | str | int) -> bytes:
    """
    A command as Redis reads it: an array of bulk strings (text as UTF-8,
    numbers in decimal).
    """
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, str):
            arg = arg.encode("utf-8")
        elif isinstance(arg, int):
            arg = b"%d" % arg
        parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(parts)


class ReplyParser:
    """
    Replies from a byte stream cut anywhere: L{feed} returns the replies
    completed so far and keeps the rest.  Status lines come back as
    C{str}, bulk strings as C{bytes}, integers as C{int}, nil as C{None},
    errors as L{ReplyError}, arrays as lists.

    Input that cannot become a reply raises L{ProtocolError} as soon as it
    is seen, not when more arrives, so a confused peer is dropped rather
    than waited for.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        # The arrays being filled, outermost first: (items, length).
        self._arrays: list[tuple[list[Reply], int]] = []

    def feed(self, data: bytes) -> list[Reply]:
        buffer = self._buffer
        buffer += data
        replies: list[Reply] = []
        offset = 0
        try:
            while offset < len(buffer):
                parsed = self._message(buffer, offset) or self._element(buffer, offset)
                if parsed is None:
                    break
                value, offset = parsed
                self._complete(value, replies)
        finally:
            del buffer[:offset]
        return replies

    def _message(self, buffer: bytearray, offset: int) -> tuple[list[Reply], int] | None:
        """
        The message pushed to a subscriber at C{offset}, whole, and where
        the next reply starts; C{None} for anything else, or for a message
        not all here yet, which L{_element} then reads piece by piece with
        every check.

        Most of what a node hears is these, one for every event of the
        cluster: read at once, a message costs two regular expressions and
        three slices rather than four elements' worth of the general parser.
        """
        if self._arrays:
            return None
        head = _MESSAGE.match(buffer, offset)
        if head is None:
            return None
        start = head.end()
        stop = start + int(head.group(1))
        length = _LENGTH.match(buffer, stop)
        if length is None:
            return None
        begin = length.end()
        size = int(length.group(1))
        end = begin + size
        if size > MAX_BULK or buffer[end : end + 2] != b"\r\n":
            return None
        return [b"message", bytes(buffer[start:stop]), bytes(buffer[begin:end])], end + 2

    def _element(self, buffer: bytearray, offset: int) -> tuple[object, int] | None:
        """
        The element at C{offset} and where the next one starts, or C{None}
        if it is not all here yet; an array's header pushes the array and
        is returned as C{_STARTED}.
        """
        kind = buffer[offset]
        if kind not in _KINDS:
            raise ProtocolError(f"a reply cannot start with {bytes([kind])!r}")
        end = buffer.find(b"\r\n", offset + 1)
        if end == -1:
            self._checkPartialLine(kind, bytes(buffer[offset + 1 :]))
            return None
        line = bytes(buffer[offset + 1 : end])
        after = end + 2
        if kind == ord("+"):
            return line.decode("utf-8", "replace"), after
        if kind == ord("-"):
            return ReplyError(line.decode("utf-8", "replace")), after
        number = _number(line)
        if kind == ord(":"):
            return number, after
        if number == -1:
            return None, after
        if number < -1:
            raise ProtocolError(f"a length of {number}")
        if kind == ord("$"):
            return self._bulk(buffer, after, number)
        if number > MAX_ARRAY:
            raise ProtocolError(f"an array of {number} elements, over {MAX_ARRAY}")
        if number == 0:
            return [], after
        if len(self._arrays) >= MAX_DEPTH:
            raise ProtocolError(f"arrays nested deeper than {MAX_DEPTH}")
        self._arrays.append(([], number))
        return _STARTED, after

    def _bulk(self, buffer: bytearray, start: int, length: int) -> tuple[Reply, int] | None:
        if length > MAX_BULK:
            raise ProtocolError(f"a bulk string of {length} bytes, over {MAX_BULK}")
        stop = start + length
        terminator = bytes(buffer[stop : stop + 2])
        if not b"\r\n".startswith(terminator):
            raise ProtocolError(f"a bulk string of {length} bytes not followed by CRLF")
        if len(terminator) < 2:
            return None
        return bytes(buffer[start:stop]), stop + 2

    def _checkPartialLine(self, kind: int, partial: bytes) -> None:
        if kind in b"+-":
            if len(partial) > MAX_LINE:
                raise ProtocolError(f"a line longer than {MAX_LINE} bytes")
        elif not _PARTIAL_NUMBER.fullmatch(partial):
            raise ProtocolError(f"{partial[:30]!r} is not the start of a number")

    def _complete(self, value: object, replies: list[Reply]) -> None:
        """
        C{value} goes into the array being filled, completing it and maybe
        those around it, or is a reply of its own.
        """
        if value is _STARTED:
            return
        arrays = self._arrays
        while arrays:
            items, length = arrays[-1]
            items.append(value)  # type: ignore[arg-type]
            if len(items) < length:
                return
            arrays.pop()
            value = items
        replies.append(value)  # type: ignore[arg-type]


def _number(line: bytes) -> int:
    if not _NUMBER.fullmatch(line):
        raise ProtocolError(f"{line[:30]!r} is not a number")
    return int(line)


class RedisProtocol(Protocol):
    """
    One connection to Redis: L{command} sends a command and returns a
    Deferred for its reply, replies answering commands in the order they
    were sent.

    After L{subscribe}, the messages Redis pushes go to C{onMessage}.  A
    connection quiet for C{pingInterval} seconds is asked a PING, and
    dropped if nothing arrives within C{pingTimeout} more: a Redis that
    hangs (a stopped process, a cut network) is noticed, not waited for.

    @ivar onConnected: called with the protocol once connected.
    @ivar onLost: called with the protocol and why, in a few words, when
        the connection is gone; every command awaiting its reply has failed
        with L{BusError} by then.
    """

    def __init__(
        self,
        clock: IReactorTime,
        onConnected: Callable[[RedisProtocol], None],
        onLost: Callable[[RedisProtocol, str], None],
        onMessage: Callable[[bytes, bytes], None] | None = None,
        pingInterval: float = PING_INTERVAL,
        pingTimeout: float = PING_TIMEOUT,
    ) -> None:
        self.clock = clock
        self.onConnected = onConnected
        self.onLost = onLost
        self.onMessage = onMessage
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self._parser = ReplyParser()
        self._awaiting: deque[tuple[Deferred[Reply], bytes]] = deque()
        self._subscribed = False
        self._problem: str | None = None
        self._quiet: IDelayedCall | None = None
        self._deadline: IDelayedCall | None = None

    def connectionMade(self) -> None:
        self._quiet = self.clock.callLater(self.pingInterval, self._ping)
        self.onConnected(self)

    def command(self, *args: bytes | str | int) -> Deferred[Reply]:
        """
        Send a command; the Deferred fires with its reply, or fails with
        L{BusError} if Redis answers with an error or the connection is
        lost first.
        """
        if not self.connected:
            return fail(BusError("not connected to Redis"))
        reply: Deferred[Reply] = Deferred()
        name = args[0] if isinstance(args[0], bytes) else str(args[0]).encode()
        self._awaiting.append((reply, name))
        self.transport.write(encodeCommand(*args))
        return reply

    def subscribe(self, channel: str) -> Deferred[Reply]:
        """
        SUBSCRIBE to C{channel}; fires once Redis has confirmed it.  From
        then on the connection only takes (UN)SUBSCRIBE and PING.
        """
        self._subscribed = True
        return self.command("SUBSCRIBE", channel)

    def dataReceived(self, data: bytes) -> None:
        self._heard()
        try:
            replies = self._parser.feed(data)
        except ProtocolError as error:
            self._drop(f"Redis sent what is not RESP2: {error}")
            return
        for reply in replies:
            if not self.connected or self._problem is not None:
                return
            self._replyReceived(reply)

    def _replyReceived(self, reply: Reply) -> None:
        if (
            self._subscribed
            and isinstance(reply, list)
            and len(reply) == 3
            and reply[0] == b"message"
        ):
            if self.onMessage is not None:
                self.onMessage(reply[1], reply[2])  # type: ignore[arg-type]
            return
        if not self._awaiting:
            self._drop("Redis sent a reply to no command")
            return
        waiting, name = self._awaiting.popleft()
        if isinstance(reply, ReplyError):
            waiting.errback(BusError(f"Redis refused {name.decode()}: {reply.message}"))
        else:
            waiting.callback(reply)

    def _heard(self) -> None:
        """
        Redis said something, so it is there: no answer is due, and the
        next PING waits for another quiet spell.
        """
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        if self._quiet is not None and self._quiet.active():
            self._quiet.reset(self.pingInterval)
        else:
            self._quiet = self.clock.callLater(self.pingInterval, self._ping)

    def _ping(self) -> None:
        self.command("PING").addErrback(lambda failure: None)
        self._deadline = self.clock.callLater(self.pingTimeout, self._hung)

    def _hung(self) -> None:
        self._deadline = None
        self._drop(f"Redis did not answer within {self.pingTimeout:g} s")

    def _drop(self, problem: str) -> None:
        self._problem = problem
        self.transport.abortConnection()

    def connectionLost(self, reason: Failure = None) -> None:  # type: ignore[assignment]
        self.connected = False
        for timer in (self._quiet, self._deadline):
            if timer is not None and timer.active():
                timer.cancel()
        self._quiet = self._deadline = None
        why = self._problem or (reason.getErrorMessage() if reason else "closed")
        awaiting, self._awaiting = self._awaiting, deque()
        for waiting, name in awaiting:
            waiting.errback(BusError(f"the connection to Redis was lost ({why})"))
        self.onLost(self, why)
