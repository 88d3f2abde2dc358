"""
Test doubles for code built on the hub, shipped so that front-ends and
plugins outside this package can test against the same fakes; and what
the integration tests and the benchmark share to start the real server.
"""

from __future__ import annotations

import signal
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.internet.testing import StringTransport
from twisted.logger import Logger
from zope.interface import implementer

from chatsvc import events
from chatsvc.errors import AccountExists, BusError, ChatError, LoginFailed, WeakPassword
from chatsvc.cluster.bus import BusService
from chatsvc.interfaces import IBus, IParticipant, IRenderer
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


@implementer(IReactorTime)
class SkewedClock:
    """
    C{clock}, read C{offset} seconds off: another machine's clock, for
    several nodes run on one L{twisted.internet.task.Clock}.  Its timers
    are C{clock}'s, so they fire as C{clock} advances.
    """

    def __init__(self, clock: IReactorTime, offset: float) -> None:
        self._clock = clock
        self._offset = offset

    def seconds(self) -> float:
        return self._clock.seconds() + self._offset

    def callLater(
        self, delay: float, callable: Callable[..., object], *args: object, **kw: object
    ) -> IDelayedCall:
        return self._clock.callLater(delay, callable, *args, **kw)

    def getDelayedCalls(self) -> list[IDelayedCall]:
        return self._clock.getDelayedCalls()


class MemoryRedis:
    """
    The Redis that L{MemoryBus}es share, in memory and on a clock: keys
    that expire by C{clock}, channels, and the outages a cluster must
    survive (a restart, one node cut off), at the test's command.

    @ivar running: False between L{stop} and L{start}.
    """

    def __init__(self, clock: IReactorTime) -> None:
        self.clock = clock
        self.running = True
        self._values: dict[str, tuple[str, float]] = {}
        self._connected: list[MemoryBus] = []
        self._cut: set[MemoryBus] = set()

    def stop(self) -> None:
        """
        Go down as a Redis without persistence restarting does: every bus
        is disconnected, every key lost, and nobody can connect until
        L{start}.
        """
        self.running = False
        self._values.clear()
        for bus in list(self._connected):
            self.drop(bus)

    def start(self) -> None:
        """
        Come back up: buses reconnect at their next attempt.
        """
        self.running = True

    def partition(self, bus: MemoryBus) -> None:
        """
        Cut C{bus} off (it is disconnected and cannot reconnect) until
        L{heal}, while the others go on.
        """
        self._cut.add(bus)
        self.drop(bus)

    def heal(self, bus: MemoryBus) -> None:
        """
        Let C{bus} reconnect again, at its next attempt.
        """
        self._cut.discard(bus)

    def accept(self, bus: MemoryBus) -> bool:
        """
        Whether C{bus} may connect now; if so it is connected.
        """
        if not self.running or bus in self._cut:
            return False
        self._connected.append(bus)
        return True

    def drop(self, bus: MemoryBus) -> None:
        """
        Close C{bus}'s connections, if it has any.
        """
        if bus in self._connected:
            self._connected.remove(bus)
            bus.connectionLost()

    def publish(self, channel: str, data: bytes) -> int:
        """
        Hand C{data} to every connected bus subscribed to C{channel}, in
        the order of publishing; how many there were.
        """
        receivers = [bus for bus in self._connected if bus.subscribedTo(channel)]
        for bus in receivers:
            bus.messageReceived(channel, data)
        return len(receivers)

    # The key commands a bus sends, run when it sends them.

    def setIfAbsent(self, key: str, value: str, ttl: float) -> bool:
        if self.get(key) is not None:
            return False
        self._values[key] = (value, self.clock.seconds() + ttl)
        return True

    def expireIfHolds(self, key: str, value: str, ttl: float) -> bool:
        if self.get(key) != value:
            return False
        self._values[key] = (value, self.clock.seconds() + ttl)
        return True

    def deleteIfHolds(self, key: str, value: str) -> bool:
        if self.get(key) != value:
            return False
        del self._values[key]
        return True

    def get(self, key: str) -> str | None:
        """
        The value of C{key}, if it has not expired by now.
        """
        entry = self._values.get(key)
        if entry is None:
            return None
        if entry[1] <= self.clock.seconds():
            del self._values[key]
            return None
        return entry[0]

    def scan(self, prefix: str) -> dict[str, str]:
        found = {}
        for key in [key for key in self._values if key.startswith(prefix)]:
            value = self.get(key)
            if value is not None:
                found[key] = value
        return found


@implementer(IBus)
class MemoryBus(BusService):
    """
    An L{IBus} on a L{MemoryRedis}, timed like the real one: it connects
    a turn of C{clock} after starting, every reply and message arrives a
    turn after the server saw the command, and a lost connection is tried
    again every C{reconnectDelay} seconds.  What arrives, arrives for all
    buses of one server in the one order the server saw it.

    C{clock} must be C{redis}'s, or that order is lost.
    """

    log = Logger()

    def __init__(
        self, redis: MemoryRedis, clock: IReactorTime, reconnectDelay: float = 1.0
    ) -> None:
        self.redis = redis
        self.clock = clock
        self.reconnectDelay = reconnectDelay
        super().__init__()
        self._receivers: dict[str, list[Callable[[bytes], None]]] = {}
        self._attempt: IDelayedCall | None = None
        # What the server sent that has not arrived yet, and the replies
        # awaited: both lost with the connection.
        self._arriving: list[IDelayedCall] = []
        self._awaited: list[Deferred] = []

    def startService(self) -> None:
        super().startService()
        self._attempt = self.clock.callLater(0, self._connect)

    def stopService(self) -> None:
        super().stopService()
        if self._attempt is not None and self._attempt.active():
            self._attempt.cancel()
        self._attempt = None
        self.redis.drop(self)

    def _connect(self) -> None:
        self._attempt = None
        if not self.redis.accept(self):
            self._attempt = self.clock.callLater(self.reconnectDelay, self._connect)
            return
        self._became(True)

    def connectionLost(self) -> None:
        """
        The server dropped this bus: what was on its way is lost, awaited
        replies fail, and, unless stopped, it tries again later.
        """
        # Not connected before the replies fail: their errbacks must see it.
        self.connected = False
        arriving, self._arriving = self._arriving, []
        for call in arriving:
            call.cancel()
        awaited, self._awaited = self._awaited, []
        for waiting in awaited:
            waiting.errback(BusError("the connection to Redis was lost"))
        if self.running:
            self._attempt = self.clock.callLater(self.reconnectDelay, self._connect)
        self._became(False)

    def subscribedTo(self, channel: str) -> bool:
        return channel in self._receivers

    def messageReceived(self, channel: str, data: bytes) -> None:
        """
        The server sent C{data} from C{channel}; it arrives a turn later.
        """
        self._arrive(self._deliver, channel, data)

    def _deliver(self, channel: str, data: bytes) -> None:
        for receiver in list(self._receivers.get(channel, ())):
            try:
                receiver(data)
            except Exception:
                self.log.failure("A receiver of {channel} failed", channel=channel)

    def _arrive(self, f: Callable[..., None], *args: object) -> None:
        def arrived() -> None:
            self._arriving.remove(call)
            f(*args)

        call = self.clock.callLater(0, arrived)
        self._arriving.append(call)

    def _command(self, run: Callable[..., object], *args: object) -> Deferred:
        """
        Run C{run} on the server now, if connected; its result is the reply,
        which arrives a turn later.
        """
        if not self.connected:
            return fail(BusError("not connected to Redis"))
        reply = run(*args)
        waiting: Deferred = Deferred()
        self._awaited.append(waiting)

        def answer() -> None:
            self._awaited.remove(waiting)
            waiting.callback(reply)

        self._arrive(answer)
        return waiting

    def publish(self, channel: str, data: bytes) -> Deferred[int]:
        return self._command(self.redis.publish, channel, data)

    def subscribe(self, channel: str, receiver: Callable[[bytes], None]) -> None:
        self._receivers.setdefault(channel, []).append(receiver)

    def claim(self, key: str, value: str, ttl: float) -> Deferred[bool]:
        return self._command(self.redis.setIfAbsent, key, value, ttl)

    def renew(self, keys: Sequence[str], value: str, ttl: float) -> Deferred[list[bool]]:
        return self._command(
            lambda: [self.redis.expireIfHolds(key, value, ttl) for key in keys]
        )

    def release(self, key: str, value: str) -> Deferred[bool]:
        return self._command(self.redis.deleteIfHolds, key, value)

    def get(self, key: str) -> Deferred[str | None]:
        return self._command(self.redis.get, key)

    def scan(self, prefix: str) -> Deferred[dict[str, str]]:
        return self._command(self.redis.scan, prefix)
