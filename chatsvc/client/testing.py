"""
Test doubles for the client: a view and an input that remember what they
were told, a screen that shows what a terminal would, and a server's
factory reached in memory.

Shipped with the package so that other views or front-ends of the client
can be tested against the same fakes.
"""

from __future__ import annotations

import re

from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IProtocolFactory
from twisted.internet.task import Clock
from twisted.test import iosim
from zope.interface import implementer

from chatsvc.client.interfaces import IChatInput, IChatView


@implementer(IChatView)
class RecordingView:
    """
    A view that remembers every call, as tuples in L{calls}.

    @ivar calls: C{("showLine", kind, line)}, C{("askNickname", reason)},
        C{("askPassword", nickname)}, C{("nicknameAccepted",)}, C{("reconnecting", message)},
        C{("connectionClosed", clean)},
        C{("connectionFailed", message)}, in order.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []

    def showLine(self, kind: str, line: str) -> None:
        self.calls.append(("showLine", kind, line))

    def askNickname(self, reason: str | None) -> None:
        self.calls.append(("askNickname", reason))

    def askPassword(self, nickname: str) -> None:
        self.calls.append(("askPassword", nickname))

    def nicknameAccepted(self) -> None:
        self.calls.append(("nicknameAccepted",))

    def reconnecting(self, message: str) -> None:
        self.calls.append(("reconnecting", message))

    def connectionClosed(self, clean: bool) -> None:
        self.calls.append(("connectionClosed", clean))

    def connectionFailed(self, message: str) -> None:
        self.calls.append(("connectionFailed", message))

    def take(self) -> list[tuple[object, ...]]:
        """
        The calls since the last C{take}, forgetting them.
        """
        taken, self.calls = self.calls, []
        return taken

    def shown(self) -> list[str]:
        """
        The lines shown so far, without their kinds.
        """
        return [call[2] for call in self.calls if call[0] == "showLine"]  # type: ignore[misc]


@implementer(IChatInput)
class RecordingInput:
    """
    A client that remembers what the view passed on.

    @ivar submitted: every line submitted, in order.
    @ivar leaves: how many times the view asked to leave.
    """

    def __init__(self) -> None:
        self.submitted: list[str] = []
        self.leaves = 0

    def submit(self, text: str) -> None:
        self.submitted.append(text)

    def leave(self, insist: bool = False) -> None:
        self.leaves += 1


_SEQUENCE = re.compile(rb"\x1b(\[[0-9;?]*[@-~]|[^\[])")


class Screen:
    """
    Just enough of a VT100 to read what the terminal view draws.

    It understands UTF-8 text, CR, LF, erasing (C{ESC [ K}, C{ESC [ 2 K}),
    and moving the cursor sideways (C{ESC [ n C}, C{ESC [ n D}); other
    escape sequences are ignored.  A character fills one column.  Rows are
    kept forever (no scrolling off the top), so a test can read them all.

    @ivar rows: the screen's text, one list of characters per row.
    @ivar x: the cursor's column.
    @ivar y: the cursor's row.
    """

    def __init__(self, width: int = 80) -> None:
        self.width = width
        self.rows: list[list[str]] = [[]]
        self.x = 0
        self.y = 0
        self._pending = b""

    def feed(self, data: bytes) -> None:
        """
        Interpret C{data}, written by the program, as a terminal would.
        """
        data = self._pending + data
        self._pending = b""
        position = 0
        while position < len(data):
            byte = data[position : position + 1]
            if byte == b"\x1b":
                match = _SEQUENCE.match(data, position)
                if match is None:
                    self._pending = data[position:]
                    return
                self._control(match.group(1))
                position = match.end()
            elif byte == b"\r":
                self.x = 0
                position += 1
            elif byte == b"\n":
                self.y += 1
                while len(self.rows) <= self.y:
                    self.rows.append([])
                position += 1
            elif byte < b" ":
                position += 1
            else:
                end = position + 1
                while end < len(data) and data[end] >= 0x80 and data[end] < 0xC0:
                    end += 1
                if end == len(data) and not _complete(data[position:end]):
                    self._pending = data[position:]
                    return
                self._put(data[position:end].decode("utf-8", "replace"))
                position = end

    def _control(self, sequence: bytes) -> None:
        if not sequence.startswith(b"["):
            return
        final, parameter = sequence[-1:], sequence[1:-1]
        count = int(parameter) if parameter.isdigit() else 0
        row = self.rows[self.y]
        if final == b"K":
            if count == 2:
                row[:] = []
            elif count == 0:
                del row[self.x :]
            else:
                row[: self.x] = [" "] * min(self.x, len(row))
        elif final == b"C":
            self.x = min(self.width - 1, self.x + max(count, 1))
        elif final == b"D":
            self.x = max(0, self.x - max(count, 1))

    def _put(self, character: str) -> None:
        if self.x >= self.width:
            self.x = 0
            self.y += 1
            while len(self.rows) <= self.y:
                self.rows.append([])
        row = self.rows[self.y]
        while len(row) < self.x:
            row.append(" ")
        if self.x < len(row):
            row[self.x] = character
        else:
            row.append(character)
        self.x += 1

    def lines(self) -> list[str]:
        """
        Every row, trailing blanks removed, trailing empty rows dropped.
        """
        lines = ["".join(row).rstrip() for row in self.rows]
        while lines and not lines[-1]:
            lines.pop()
        return lines

    def cursorRow(self) -> str:
        """
        The row the cursor is on.
        """
        return "".join(self.rows[self.y]).rstrip()


class InMemoryServer:
    """
    A server's C{factory} that clients reach in memory: C{connect} is the
    client's way to dial it, C{pump} delivers what is in flight both ways,
    C{stop} drops every connection as a server that stops does.
    """

    def __init__(self, clock: Clock, factory: IProtocolFactory) -> None:
        self.clock = clock
        self.factory = factory
        self.pumps: list[iosim.IOPump] = []

    def connect(self, protocol: object) -> Deferred[object]:
        server = self.factory.buildProtocol(None)
        pump = iosim.connect(
            server,
            iosim.makeFakeServer(server),
            protocol,
            iosim.makeFakeClient(protocol),
            greet=False,
            clock=self.clock,
        )
        self.pumps.append(pump)
        return succeed(protocol)

    def pump(self) -> None:
        # A few rounds: an answer can start another exchange.
        for _ in range(4):
            for pump in self.pumps:
                pump.flush()

    def stop(self) -> None:
        for pump in self.pumps:
            pump.serverIO.loseConnection()
        self.pump()


def _complete(encoded: bytes) -> bool:
    try:
        encoded.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.reason != "unexpected end of data"
    return True
