"""
What one idle connection costs our server in memory, object by object.

Usage: python bench/connmemory.py [--clients 5000] [--irc | --web]

Runs the chat service in this process (built by C{chatsvc.tap.makeService},
as C{twistd chat} does, on a free loopback port) with C{tracemalloc} on,
has one load-generator worker register C{clients} clients (native, IRC
with C{--irc}, or the page's WebSocket with C{--web}), and prints per
connection: the growth of resident memory, of what C{tracemalloc} sees (by
source line), and of the live objects the garbage collector knows (by
type, with C{sys.getsizeof}); then one connection object by object (for a
WebSocket, each object with what it alone holds: L{owned}).
"""

from __future__ import annotations

import argparse
import ctypes
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


def measure(clients: int, irc: bool, web: bool = False) -> None:
    port = freePort()
    arguments = ["--port", f"tcp:{port}:interface=127.0.0.1", *limitOptions()]
    if irc:
        ircPort = freePort()
        arguments += ["--irc-port", f"tcp:{ircPort}:interface=127.0.0.1"]
    if web:
        webPort = freePort()
        arguments += ["--web-port", f"tcp:{webPort}:interface=127.0.0.1"]
    options = Options()
    options.parseOptions(arguments)
    service = makeService(options, reactor)
    service.startService()
    workdir = Path(tempfile.mkdtemp(prefix="chatsvc-connmemory-"))

    def drive() -> None:
        try:
            plan = {
                "host": "127.0.0.1",
                "port": ircPort if irc else webPort if web else port,
                "dialect": "irc" if irc else "page" if web else "native",
                "first": 0,
                "count": clients,
                "room": None if irc else "lobby",
                "window": 200,
                "sources": [f"127.0.0.{10 + j}" for j in range(4)],
                "quietMin": 1.5,
                "registerDeadline": 150.0,
            }
            worker = Worker(plan, None, workdir / "loadgen.log")
            tracing = tracemalloc.is_tracing()
            rss0 = processRss_self() if tracing else blockingCallFromThread(reactor, trimmed)
            if tracing:
                snapshot0 = blockingCallFromThread(reactor, tracemalloc.take_snapshot)
                counts0, sizes0 = blockingCallFromThread(reactor, census)
            worker.tell("register")
            registered = worker.expect("registered", 180)["registered"]
            worker.expect("ready")
            rss1 = processRss_self()
            if tracing:
                snapshot1 = blockingCallFromThread(reactor, tracemalloc.take_snapshot)
                counts1, sizes1 = blockingCallFromThread(reactor, census)
            else:
                rssTrimmed = blockingCallFromThread(reactor, trimmed)
            sample = blockingCallFromThread(reactor, describeWeb if web else describeOne, service)
            worker.finish()
            if tracing:
                report(registered, rss0, rss1, snapshot0, snapshot1, counts0, sizes0, counts1, sizes1, sample)
            else:
                print(f"{registered:,} connections registered (no tracemalloc)")
                print(f"resident memory: +{(rss1 - rss0) / registered:,.0f} bytes per connection")
                print(
                    f"after a collection and malloc_trim(0): +{(rssTrimmed - rss0) / registered:,.0f} "
                    "bytes per connection (the rest of the C allocator's free memory given back)"
                )
                print("one connection, object by object:")
                for name, size in sample:
                    print(f"  {size:6,} B  {name}")
        finally:
            reactor.callFromThread(reactor.stop)

    threading.Thread(target=drive, daemon=True).start()
    reactor.run()


def trimmed() -> int:
    """
    Resident memory once glibc has given back what it can of the memory
    freed since (C{malloc_trim(0)}, after a collection).
    """
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    return processRss_self()


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


# Where L{owned} stops: what many connections share, or the process has.
_SHARED = (type, type(sys), type(len), type(_size), type(_size.__code__), type(None))


def owned(root, prefixes: tuple[str, ...], seen: set[int]) -> int:
    """
    The size of C{root} and of everything it alone reaches: containers,
    strings and bytes, and instances of classes from modules named by
    C{prefixes}; not classes, modules, functions, nor other objects (the
    hub, a factory, the reactor), nor anything in C{seen}, which it fills.
    """
    total = 0
    stack = [root]
    while stack:
        value = stack.pop()
        if id(value) in seen or isinstance(value, _SHARED):
            continue
        module = type(value).__module__ or ""
        plain = type(value).__module__ == "builtins"
        if value is not root and not plain and not module.startswith(prefixes):
            continue
        seen.add(id(value))
        total += sys.getsizeof(value)
        stack.extend(gc.get_referents(value))
    return total


def describeWeb(service) -> list[tuple[str, int]]:
    """
    What one registered connection of the page's WebSocket holds, object
    by object, each with what it alone reaches (L{owned}), in the order of
    a byte's way up: Twisted's transport and socket, the message adapter
    (which C{_takeOver} made the transport's protocol, the HTTP channel
    freed) and its frame reader, then our connection, session, output and
    writer, flood bucket and the hub's member.
    """
    hub = service.hub
    member = next(m for m in hub.members if m.nickname)
    connection = member.participant
    transport = connection._transport
    adapter = connection._input
    output = connection._output
    seen: set[int] = {id(adapter._framer), id(connection.renderer), id(hub)}
    parts = [
        ("transport", transport, ()),
        ("socket.socket", transport.socket, ("socket",)),
        ("message adapter (the transport's protocol)", adapter, ()),
        ("frame reader", adapter._reader, ()),
        ("connection", connection, ()),
        ("session", connection.session, ()),
        ("output", output, ()),
        ("writer", output._writer, ()),
        ("flood bucket", connection._bucket, ("chatsvc.net",)),
        ("member", member, ("chatsvc.events",)),
    ]
    rows = []
    for label, value, prefixes in parts:
        rows.append((f"{label} {type(value).__module__}.{type(value).__name__}", owned(value, prefixes, seen)))
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
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--irc", action="store_true")
    which.add_argument("--web", action="store_true", help="the page's WebSocket, /chat")
    parser.add_argument("--rss-only", action="store_true",
                        help="no tracemalloc: resident memory as twistd has it, and after malloc_trim(0)")
    arguments = parser.parse_args()
    if not arguments.rss_only:
        tracemalloc.start(1)
    measure(arguments.clients, arguments.irc, arguments.web)


if __name__ == "__main__":
    main()
