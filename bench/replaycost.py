"""
What showing a room's last lines to a client joining it costs the server,
in-process.

Usage: python bench/replaycost.py [--clients 1000] [--replay 20] [--rounds 5]

The real hub, history (in memory), native factory, outbox and socket
writer, with a test clock for the reactor and Unix socket pairs for the
connections, as C{fanoutcost.py} has them.  One client says C{--replay}
lines in the lobby; then C{--clients} clients register into it, each
registration followed by the end of its reactor turn (the outbox's flush),
once with C{--replay} lines shown to each and once with none.  Prints the
time per registration of both, and what the replay's parts cost on their
own: the replay's rendering (C{wording.historyLines}), and within it the time
stamps (C{wire._when}) and the visible-text filter (C{wire.visible}).
S7 in C{run.py} measures the same over TCP.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from twisted.internet.task import Clock  # noqa: E402

from chatsvc.history import History  # noqa: E402
from chatsvc.hub import Hub  # noqa: E402
from chatsvc.i18n import translation  # noqa: E402
from chatsvc.native import wire, wording  # noqa: E402
from chatsvc.native.protocol import NativeFactory  # noqa: E402
from chatsvc.net import output  # noqa: E402
from chatsvc.net.connection import Limits  # noqa: E402
from chatsvc.net.output import Outbox, SocketWriter  # noqa: E402
from chatsvc.store.memory import MemoryStore  # noqa: E402
from chatsvc.testing import SocketTransport  # noqa: E402


def socketWriter(transport: SocketTransport, limit: int) -> SocketWriter:
    return SocketWriter(transport, transport.getHandle(), limit)


def registrations(clients: int, replay: int) -> tuple[float, History]:
    """
    Seconds per registration of C{clients} into a lobby where C{replay}
    lines were said, shown to each (or not, with C{replay} 0).
    """
    output.writerFor = socketWriter
    clock = Clock()
    clock.advance(time.time())
    hub = Hub(clock, maxConnections=clients + 1, maxPerAddress=clients + 1)
    history = History(MemoryStore(), clock, replay=replay)
    history.start(hub)
    hub.delivery.observe(history)
    outbox = Outbox(clock, gate=history)
    factory = NativeFactory(hub, limits=Limits(flood=None), outbox=outbox, clock=clock, history=history)
    pairs = []

    def connect() -> object:
        ours, theirs = socket.socketpair()
        ours.setblocking(False)
        theirs.setblocking(False)
        protocol = factory.buildProtocol(None)
        protocol.makeConnection(SocketTransport(ours))
        pairs.append((ours, theirs))
        return protocol

    def drain() -> None:
        for _, theirs in pairs:
            try:
                while theirs.recv(1 << 20):
                    pass
            except BlockingIOError:
                pass

    seeder = connect()
    seeder.dataReceived(b"seeder\n")
    for k in range(max(replay, 20)):
        seeder.dataReceived(b"history seed line %d\n" % k)
    clock.advance(0)
    drain()
    elapsed = 0.0
    for n in range(clients):
        protocol = connect()
        start = time.perf_counter()
        protocol.dataReceived(b"user%d\n" % n)
        clock.advance(0)
        elapsed += time.perf_counter() - start
        if n % 50 == 49:
            drain()
    for ours, theirs in pairs:
        ours.close()
        theirs.close()
    return elapsed / clients, history


def best(function, repeat: int = 2000) -> float:
    times = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeat):
            function()
        times.append((time.perf_counter() - start) / repeat)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--replay", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    withReplay, without = [], []
    for _ in range(arguments.rounds):
        seconds, history = registrations(arguments.clients, arguments.replay)
        withReplay.append(seconds)
        without.append(registrations(arguments.clients, 0)[0])
    a, b = min(withReplay), min(without)
    print(
        f"one registration into a lobby of up to {arguments.clients:,} (best of {arguments.rounds}): "
        f"{a * 1e6:.1f} us with {arguments.replay} lines replayed, {b * 1e6:.1f} us without "
        f"({a / b:.2f}x, +{(a - b) * 1e6:.1f} us)"
    )
    recent = history.recent("lobby")
    t = translation("en")
    now = time.time()
    lines = best(lambda: wording.historyLines(recent, "someone", t, now, room="lobby"))
    when = best(lambda: [wire._when(event.time, now) for event in recent])
    shown = best(lambda: [wire.visible(event.text) for event in recent])
    render = best(lambda: [wording.renderEvent(event, t) for event in recent])
    print(
        f"rendering the {len(recent)} lines once (wording.historyLines): {lines * 1e6:.1f} us, of which "
        f"time stamps (wire._when, two time.localtime and a strftime each) {when * 1e6:.1f} us, "
        f"the lines (wording.renderEvent) {render * 1e6:.1f} us, "
        f"and within those wire.visible (str.translate with a dict) {shown * 1e6:.1f} us"
    )


if __name__ == "__main__":
    main()
