"""
What one delivery costs the server in Python, in-process.

Usage: python bench/fanoutcost.py [--recipients 1000] [--lines 200]

The real hub, delivery path, native factory, outbox and socket writer, with a test clock
for the reactor and Unix socket pairs for the connections: one member says
C{lines} lines to a room of C{recipients}, each line followed by the end of
its reactor turn (the outbox's flush).  Prints the time per delivery (best
line and mean), and beside it the time of a bare C{send()} of the same size
to the same sockets, so the difference is what our code adds per delivery.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from twisted.internet.task import Clock  # noqa: E402

from chatsvc.hub import Hub  # noqa: E402
from chatsvc.native.protocol import NativeFactory  # noqa: E402
from chatsvc.net import output  # noqa: E402
from chatsvc.net.connection import Limits  # noqa: E402
from chatsvc.net.output import Outbox, SocketWriter  # noqa: E402
from chatsvc.testing import SocketTransport  # noqa: E402


def socketWriter(transport: SocketTransport, limit: int) -> SocketWriter:
    """
    The writer the server uses on its own TCP transport, here on a socket
    pair (the server chooses it only for Twisted's C{tcp.Server}).
    """
    return SocketWriter(transport, transport.getHandle(), limit)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument("--lines", type=int, default=200)
    arguments = parser.parse_args()
    count = arguments.recipients

    output.writerFor = socketWriter
    clock = Clock()
    hub = Hub(clock, crowdSize=count + 1, maxConnections=count, maxPerAddress=count)
    # The test clock stands still, so flood control would hold every line.
    factory = NativeFactory(hub, limits=Limits(flood=None), outbox=Outbox(clock), clock=clock)
    pairs, protocols = [], []
    for n in range(count):
        ours, theirs = socket.socketpair()
        ours.setblocking(False)
        theirs.setblocking(False)
        protocol = factory.buildProtocol(None)
        protocol.makeConnection(SocketTransport(ours))
        protocol.dataReceived(b"user%d\n" % n)
        pairs.append((ours, theirs))
        protocols.append(protocol)
    clock.advance(0)

    def drain() -> None:
        for _, theirs in pairs:
            try:
                while theirs.recv(1 << 20):
                    pass
            except BlockingIOError:
                pass

    drain()
    times = []
    for n in range(arguments.lines):
        line = b"an ordinary chat line of ordinary length, number %5d\n" % n
        start = time.perf_counter()
        protocols[0].dataReceived(line)
        clock.advance(0)
        times.append(time.perf_counter() - start)
        drain()
    sends = []
    data = b"x" * 70
    for n in range(arguments.lines):
        start = time.perf_counter()
        for ours, _ in pairs:
            ours.send(data)
        sends.append(time.perf_counter() - start)
        drain()
    print(
        f"per delivery: {min(times) / count * 1e6:.2f} us best, "
        f"{sum(times) / len(times) / count * 1e6:.2f} us mean; "
        f"a bare send(): {min(sends) / count * 1e6:.2f} us best"
    )


if __name__ == "__main__":
    main()
