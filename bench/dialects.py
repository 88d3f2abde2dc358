"""
What a load-generator client says and expects, per wire protocol.

A dialect knows the registration handshake (as a tiny state machine over
whole lines), how to join a room, and how to frame one chat line.  Chat
lines carry a marker byte (L{MARK}) that nothing else on any of these wires
contains, so the generator counts deliveries with C{bytes.count} and never
has to split a line in its hot path.
"""

from __future__ import annotations

MARK = b"%"

# Registration states.
CONNECTING = 0
WAIT_PROMPT = 1
WAIT_WELCOME = 2
WAIT_ROOM = 3
DONE = 4
FAILED = 5
WAIT_REPLAY = 6


class Native:
    """
    The native protocol: C{NICK}, the nickname, C{Connected to server!};
    C{/join room} answered by C{You are now in room ...}.

    @ivar awaitReplay: whether a client is done only once the room's last
        lines, replayed after the welcome, have ended (C{End of history.});
        the room must have some, or the client waits for nothing.
    """

    name = "native"
    echo = True  # a sender hears its own lines
    awaitReplay = False

    def __init__(self, defaultRoom: str = "lobby", password: str | None = None) -> None:
        self.defaultRoom = defaultRoom

    def greeting(self, nickname: str) -> bytes:
        """
        What to send as soon as the connection is up.
        """
        return b""

    def needsJoin(self, room: str) -> bool:
        return room != self.defaultRoom

    def joinLine(self, room: str) -> bytes:
        return f"/join {room}\n".encode()

    def chatPrefix(self, room: str) -> bytes:
        return b""

    chatSuffix = b"\n"

    def lineReceived(self, state: int, line: bytes, nickname: str) -> tuple[int, bytes]:
        """
        The next state and what to send, given one server line (no line end).
        """
        if state == WAIT_PROMPT:
            if line == b"NICK":
                return WAIT_WELCOME, nickname.encode() + b"\n"
        elif state == WAIT_WELCOME:
            if line == b"Connected to server!":
                return (WAIT_REPLAY if self.awaitReplay else DONE), b""
            if line.startswith(b"! "):
                return FAILED, b""
        elif state == WAIT_REPLAY:
            if line == b"End of history.":
                return DONE, b""
        elif state == WAIT_ROOM:
            if line.startswith(b"You are now in room"):
                return DONE, b""
            if line.startswith(b"! "):
                return FAILED, b""
        return state, b""


class Irc:
    """
    IRC: C{[PASS] NICK USER} answered by 001, C{JOIN #room} answered by 366
    (end of names).  Servers answer C{PING} at any time with C{PONG}.
    """

    name = "irc"
    echo = False  # IRC servers do not echo a PRIVMSG to its sender

    def __init__(self, defaultRoom: str = "lobby", password: str | None = None) -> None:
        self.defaultRoom = defaultRoom
        self.password = password

    def greeting(self, nickname: str) -> bytes:
        lines = []
        if self.password is not None:
            lines.append(f"PASS {self.password}")
        lines += [f"NICK {nickname}", f"USER {nickname} 0 * :{nickname}"]
        return "".join(line + "\r\n" for line in lines).encode()

    def needsJoin(self, room: str) -> bool:
        return room is not None

    def joinLine(self, room: str) -> bytes:
        return f"JOIN #{room}\r\n".encode()

    def chatPrefix(self, room: str) -> bytes:
        return f"PRIVMSG #{room} :".encode()

    chatSuffix = b"\r\n"

    def lineReceived(self, state: int, line: bytes, nickname: str) -> tuple[int, bytes]:
        if line.startswith(b"PING"):
            return state, b"PONG" + line[4:] + b"\r\n"
        parts = line.split(b" ", 3)
        code = parts[1] if len(parts) > 1 else b""
        if state == WAIT_WELCOME:
            if code == b"001":
                return DONE, b""
            if code in (b"432", b"433", b"436", b"464", b"465") or line.startswith(
                b"ERROR"
            ) or b"Login failed" in line:
                return FAILED, b""
        elif state == WAIT_ROOM:
            if code == b"366":
                return DONE, b""
            if code in (b"403", b"405", b"471", b"473", b"474", b"475"):
                return FAILED, b""
        return state, b""


DIALECTS = {"native": Native, "irc": Irc}
