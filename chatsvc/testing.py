"""
Test doubles for code built on the hub, shipped so that front-ends and
plugins outside this package can test against the same fakes; and what
the integration tests and the benchmark share to start the real server.
"""

from __future__ import annotations

import signal
import socket
import sys
from pathlib import Path

from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.testing import StringTransport
from zope.interface import implementer

from chatsvc import events
from chatsvc.errors import AccountExists, ChatError, LoginFailed, WeakPassword
from chatsvc.interfaces import IParticipant, IRenderer
from chatsvc.names import nameKey


@implementer(IRenderer)
class EventRenderer:
    """
    Renders every event as itself, for fakes that record events rather than
    bytes; the delivery path hands its "rendering" on untouched.
    """

    def render(self, event: events.Event) -> events.Event:  # type: ignore[override]
        return event

    def renderOwn(self, event: events.Event) -> events.Event:  # type: ignore[override]
        return event


@implementer(IParticipant)
class RecordingParticipant:
    """
    A participant that remembers what it was told, published or direct.

    @ivar events: every event delivered, in order.
    @ivar closed: whether the hub asked it to close.
    """

    renderer = EventRenderer()

    def __init__(self) -> None:
        self.events: list[events.Event] = []
        self.closed = False

    def send(self, data: events.Event) -> None:  # type: ignore[override]
        self.events.append(data)

    def deliver(self, event: events.Event) -> None:
        self.events.append(event)

    def close(self) -> None:
        self.closed = True

    def take(self) -> list[events.Event]:
        """
        The events delivered since the last call, forgetting them.
        """
        taken, self.events = self.events, []
        return taken



class SocketTransport(StringTransport):
    """
    A test transport over a real socket, as Twisted's TCP transport is: what
    is written through it is recorded, and C{getHandle()} gives the socket
    for writers that send on it directly.
    """

    def __init__(self, handle: socket.socket) -> None:
        super().__init__()
        self.handle = handle

    def getHandle(self) -> socket.socket:
        return self.handle

    def setTcpNoDelay(self, enabled: bool) -> None:
        self.handle.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, enabled)

def freePort() -> int:
    """
    A loopback TCP port that was free a moment ago.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def twistdCommand() -> list[str]:
    """
    How to run this interpreter's twistd, whether or not its script exists.
    """
    script = Path(sys.executable).parent / "twistd"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from twisted.scripts.twistd import run; run()"]


def dieWithParent() -> None:
    """
    For C{preexec_fn}: on Linux, ask for SIGTERM when the parent dies, so
    that no server outlives a test run or a benchmark that crashed or exited
    without stopping it.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    """
    C{data} cut at C{cuts} (taken modulo its length), for feeding a stream
    to a protocol in arbitrary reads.
    """
    points = sorted({cut % (len(data) + 1) for cut in cuts} | {0, len(data)})
    return [data[start:end] for start, end in zip(points, points[1:])]


class FakeAccounts:
    """
    Accounts kept in plain text and answered at once: the interface of
    L{chatsvc.accounts.Accounts} for front-end tests, without hashing.

    @ivar passwords: account key to (display name, password).
    @ivar refuseWith: if set, the error every login fails with (to test how
        a front-end words C{TooManyAttempts}).
    """

    def __init__(self, passwords: dict[str, str] | None = None) -> None:
        self.passwords = {
            nameKey(name): (name, password) for name, password in (passwords or {}).items()
        }
        self.refuseWith: ChatError | None = None

    def exists(self, name: str) -> bool:
        return nameKey(name) in self.passwords

    def owner(self, nickname: str) -> str | None:
        entry = self.passwords.get(nameKey(nickname))
        return entry[0] if entry else None

    def register(self, name: str, password: str, address: str) -> Deferred[str]:
        if nameKey(name) in self.passwords:
            return fail(AccountExists(name))
        if len(password) < 8:
            return fail(WeakPassword(8, 256))
        self.passwords[nameKey(name)] = (name, password)
        return succeed(name)

    def login(self, name: str, password: str, address: str) -> Deferred[str]:
        if self.refuseWith is not None:
            return fail(self.refuseWith)
        entry = self.passwords.get(nameKey(name))
        if entry is None or entry[1] != password:
            return fail(LoginFailed(name))
        return succeed(entry[0])

    def changePassword(self, name: str, old: str, new: str, address: str) -> Deferred[None]:
        return self.login(name, old, address).addCallback(self._set, new)

    def drop(self, name: str, password: str, address: str) -> Deferred[None]:
        return self.login(name, password, address).addCallback(
            lambda display: self.passwords.pop(nameKey(display)) and None
        )

    def _set(self, name: str, password: str) -> None:
        if len(password) < 8:
            raise WeakPassword(8, 256)
        self.passwords[nameKey(name)] = (name, password)


class FakeOpers:
    """
    Server operators in plain text, answered at once: the interface of
    L{chatsvc.opers.Opers} for front-end tests.
    """

    def __init__(self, passwords: dict[str, str] | None = None) -> None:
        self.passwords = dict(passwords or {})

    def verify(self, name: str, password: str) -> Deferred[bool]:
        return succeed(self.passwords.get(name) == password)
