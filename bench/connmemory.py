"""
What one idle connection costs our server in memory, object by object.

Usage: python bench/connmemory.py [--clients 5000] [--irc]

Runs the chat service in this process (built by C{chatsvc.tap.makeService},
as C{twistd chat} does, on a free loopback port) with C{tracemalloc} on,
has one load-generator worker register C{clients} clients (native, or IRC
with C{--irc}), and prints per connection: the growth of resident memory,
of what C{tracemalloc} sees (by source line), and of the live objects the
garbage collector knows (by type, with C{sys.getsizeof}).
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import threading
import tracemalloc
from collections import Counter
from pathlib import Path

from twisted.internet import reactor
from twisted.internet.threads import blockingCallFromThread

from loadgen import processRss
from scenarios import Worker
from servers import ROOT, freePort, limitOptions

sys.path.insert(0, str(ROOT))

from chatsvc.tap import Options, makeService  # noqa: E402


def census() -> tuple[Counter[str], Counter[str]]:
    """
    Live GC-tracked objects: how many of each type, and their own sizes.
    """
    gc.collect()
    counts: Counter[str] = Counter()
    sizes: Counter[str] = Counter()
    for obj in gc.get_objects():
        name = f"{type(obj).__module__}.{type(obj).__qualname__}"
        counts[name] += 1
        sizes[name] += sys.getsizeof(obj)
    return counts, sizes


def measure(clients: int, irc: bool) -> None:
    port = freePort()
    arguments = ["--port", f"tcp:{port}:interface=127.0.0.1", *limitOptions()]
    if irc:
        ircPort = freePort()
        arguments += ["--irc-port", f"tcp:{ircPort}:interface=127.0.0.1"]
    options = Options()
    options.parseOptions(arguments)
    service = makeService(options, reactor)
    service.startService()
    workdir = Path(tempfile.mkdtemp(prefix="chatsvc-connmemory-"))

    def drive() -> None:
        try:
            plan = {
                "host": "127.0.0.1",
                "port": ircPort if irc else port,
                "dialect": "irc" if irc else "native",
                "first": 0,
                "count": clients,
                "room": None if irc else "lobby",
                "window": 200,
                "sources": [f"127.0.0.{10 + j}" for j in range(4)],
                "quietMin": 1.5,
            }
            worker = Worker(plan, None, workdir / "loadgen.log")
            rss0 = processRss_self()
            snapshot0 = blockingCallFromThread(reactor, tracemalloc.take_snapshot)
            counts0, sizes0 = blockingCallFromThread(reactor, census)
            worker.tell("register")
            registered = worker.expect("registered")["registered"]
            worker.expect("ready")
            rss1 = processRss_self()
            snapshot1 = blockingCallFromThread(reactor, tracemalloc.take_snapshot)
            counts1, sizes1 = blockingCallFromThread(reactor, census)
            sample = blockingCallFromThread(reactor, describeOne, service)
            worker.finish()
            report(registered, rss0, rss1, snapshot0, snapshot1, counts0, sizes0, counts1, sizes1, sample)
        finally:
            reactor.callFromThread(reactor.stop)

    threading.Thread(target=drive, daemon=True).start()
    reactor.run()


def processRss_self() -> int:
    import os

    return processRss(os.getpid())


def _size(value) -> int:
    """
    C{value}'s own size, its instance dictionary included if it has one.
    """
    size = sys.getsizeof(value)
    if hasattr(value, "__dict__"):
        size += sys.getsizeof(vars(value))
    return size


def describeOne(service) -> list[tuple[str, int]]:
    """
    The objects one registered connection holds, with C{sys.getsizeof}:
    the hub's member, its connection (the participant), the session, the
    TCP adapter with its framer, the output with its writer, the flood
    bucket, and Twisted's transport and socket.
    """
    hub = service.hub
    member = next(m for m in hub.members if m.nickname)
    connection = member.participant
    transport = connection._transport
    output = connection._output
    parts = [
        ("member", member),
        ("connection", connection),
        ("session", connection.session),
        ("adapter", transport.protocol),
        ("framer", transport.protocol._framer),
        ("output", output),
        ("writer", output._writer),
        ("unsent list", output._unsent),
        ("flood bucket", connection._bucket),
        ("transport", transport),
        ("socket.socket", transport.socket),
        ("client address tuple", transport.client),
        ("logstr", transport.logstr),
        ("_tempDataBuffer list", transport._tempDataBuffer),
        ("member.nickname", member.nickname),
        ("member.identity", member.identity),
    ]
    rows = []
    for label, value in parts:
        slots = "" if hasattr(value, "__dict__") else " (no __dict__)"
        rows.append((f"{label} {type(value).__name__}{slots}", _size(value)))
    return rows


def report(n, rss0, rss1, snapshot0, snapshot1, counts0, sizes0, counts1, sizes1, sample) -> None:
    print(f"{n:,} connections registered")
    print(f"resident memory: +{(rss1 - rss0) / n:,.0f} bytes per connection "
          f"(tracemalloc itself adds to it)")
    stats = snapshot1.compare_to(snapshot0, "lineno")
    total = sum(s.size_diff for s in stats)
    print(f"tracemalloc: +{total / n:,.0f} bytes per connection; by line:")
    for stat in stats[:25]:
        if stat.size_diff <= 0:
            continue
        frame = stat.traceback[0]
        where = str(Path(frame.filename)).split("site-packages/")[-1].replace(str(ROOT) + "/", "")
        print(f"  {stat.size_diff / n:8,.1f} B  {stat.count_diff / n:5.2f} blocks  {where}:{frame.lineno}")
    print("GC-tracked objects per connection, by type (sys.getsizeof, own size only):")
    rows = []
    for name in counts1:
        dn = counts1[name] - counts0.get(name, 0)
        ds = sizes1[name] - sizes0.get(name, 0)
        if dn / n >= 0.5:
            rows.append((ds / n, dn / n, name))
    for size, count, name in sorted(rows, reverse=True):
        print(f"  {size:8,.1f} B  {count:5.2f} objects  {name}")
    print("one connection, object by object (sys.getsizeof):")
    for name, size in sample:
        print(f"  {size:6,} B  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--clients", type=int, default=5000)
    parser.add_argument("--irc", action="store_true")
    arguments = parser.parse_args()
    tracemalloc.start(1)
    measure(arguments.clients, arguments.irc)


if __name__ == "__main__":
    main()
