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

from twisted.internet.testing import StringTransport
from zope.interface import implementer

from chatsvc import events
from chatsvc.interfaces import IParticipant, IRenderer


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
