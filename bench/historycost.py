"""
What keeping a line in history costs the server, in-process, part by part.

Usage: python bench/historycost.py [--batches 1,10,50,200] [--seconds 2] [--busy MS]

 - on the reactor thread: the rows of a line (C{rows.toRows}: the event's
   fields as JSON) and all that L{History.published} does with them (the
   batch, the replay's recent lines), per line;
 - on the store's thread: a row's values (its JSON, made there since the
   rows keep their event), one C{INSERT} per row (C{executemany}) and the
   commit, on a fresh SQLite file prepared as the server prepares it (WAL,
   C{synchronous=NORMAL}), per row, by rows per commit;
 - the round trip of one commit through L{SQLiteStore} as the server runs
   it (adbapi, one connection, its own thread) from a running reactor:
   C{record()} to its Deferred firing, one batch after another.  Every turn
   of output waits for one, so it is the least latency the store adds to a
   line, and at 8 lines in flight per sender (S6) what bounds the rate.
   With C{--busy MS}, the reactor also runs Python for MS milliseconds
   every turn meanwhile (as the server's does, handling input), so the
   store's thread has to win the GIL from it.

S6 in C{run.py} measures the same over TCP.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from twisted.internet.task import Clock  # noqa: E402

from chatsvc import events  # noqa: E402
from chatsvc.delivery import Audience  # noqa: E402
from chatsvc.history import History  # noqa: E402
from chatsvc.store import sqlite as sqlitestore  # noqa: E402
from chatsvc.store.memory import MemoryStore  # noqa: E402
from chatsvc.store.rows import toRows  # noqa: E402


class Room:
    name = "lobby"


def said(n: int) -> events.Said:
    """
    A line as S6's generator says it, with an id and a time of its own.
    """
    sender = events.Identity(f"u{n % 10}", "native", "127.0.0.1")
    return events.Said(
        sender, "lobby", f"%{time.monotonic_ns() // 1000} {n % 10} {n} xxxxxxxxxxxxxxxx",
        id=f"d4i5gy{n:07x}", time=time.time(),
    )


def perCall(function, count: int) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for n in range(count):
            function(n)
        best = min(best, (time.perf_counter() - start) / count)
    return best


def reactorSide(count: int = 20_000) -> None:
    lines = [said(n) for n in range(count)]
    rooms = ("lobby",)
    rows = perCall(lambda n: toRows(lines[n], rooms), count)
    history = History(MemoryStore(), Clock(), replay=20)
    audience = Audience(rooms=(Room(),))
    published = perCall(lambda n: history.published(lines[n], audience), count)
    print(
        f"reactor thread, per line: toRows {rows * 1e6:.2f} us; History.published "
        f"(rows, batch, recent lines) {published * 1e6:.2f} us"
    )


def storeSide(batches: list[int], seconds: float) -> None:
    import sqlite3

    for size in batches:
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "h.sqlite3"
            connection = sqlite3.connect(str(path), check_same_thread=False)
            sqlitestore._prepare(connection)
            done = 0
            encode = insert = commit = 0.0
            deadline = time.perf_counter() + seconds
            while time.perf_counter() < deadline:
                # Rows of their own every time, as the server's are (ids, times).
                rows = [toRows(said(done + n), ("lobby",))[0] for n in range(size)]
                z = time.perf_counter()
                values = [(r.id, r.time, r.target, r.kind, r.data) for r in rows]
                encode += time.perf_counter() - z
                a = time.perf_counter()
                connection.executemany(
                    "INSERT INTO events (id, time, target, kind, data) VALUES (?, ?, ?, ?, ?)",
                    values,
                )
                b = time.perf_counter()
                connection.commit()
                c = time.perf_counter()
                insert += b - a
                commit += c - b
                done += size
            connection.close()
        print(
            f"store thread, {size:4d} rows a commit: values (the JSON) {encode / done * 1e6:5.2f} us, "
            f"insert {insert / done * 1e6:5.2f} us, commit {commit / done * 1e6:5.2f} us a row "
            f"({commit / (done / size) * 1e6:6.1f} us a commit); "
            f"{done / (encode + insert + commit):8,.0f} rows/s"
        )


def roundTrips(batches: list[int], seconds: float, busy: float = 0.0) -> None:
    from twisted.internet import reactor
    from twisted.internet.task import LoopingCall

    results = []

    def burn() -> None:
        end = time.perf_counter() + busy / 1000
        while time.perf_counter() < end:
            pass

    if busy:
        LoopingCall(burn).start(0.0002)

    def measure(size: int, directory: str):
        store = sqlitestore.SQLiteStore(str(Path(directory) / "h.sqlite3"), reactor)
        made = [0]
        times: list[float] = []

        def opened(_):
            deadline = time.perf_counter() + seconds
            d = Deferred()

            def again(_=None):
                if time.perf_counter() >= deadline:
                    d.callback(None)
                    return
                rows = [toRows(said(made[0] + n), ("lobby",))[0] for n in range(size)]
                made[0] += size
                start = time.perf_counter()
                store.record(rows).addCallback(lambda _: times.append(time.perf_counter() - start)).addCallback(again)

            again()
            return d

        return store.open().addCallback(opened).addCallback(lambda _: store.close()).addCallback(
            lambda _: results.append((size, sorted(times)))
        )

    from twisted.internet.defer import Deferred, inlineCallbacks

    @inlineCallbacks
    def everything():
        for size in batches:
            with tempfile.TemporaryDirectory() as directory:
                yield measure(size, directory)
        reactor.stop()

    reactor.callWhenRunning(everything)
    reactor.run()
    for size, times in results:
        n = len(times)
        print(
            f"round trip of one commit of {size:4d} rows (record() to its Deferred, from the reactor"
            + (f" busy {busy:g} ms a turn" if busy else "") + "): "
            f"p50 {times[n // 2] * 1e3:.2f} ms, p99 {times[min(n - 1, int(n * 0.99))] * 1e3:.2f} ms, "
            f"{n / sum(times):,.0f} commits/s, {n * size / sum(times):,.0f} rows/s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    parser.add_argument("--batches", default="1,10,50,200")
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--busy", type=float, default=0.0, help="ms of Python the reactor runs a turn")
    arguments = parser.parse_args()
    batches = [int(b) for b in arguments.batches.split(",")]
    reactorSide()
    storeSide(batches, arguments.seconds)
    roundTrips(batches, arguments.seconds, arguments.busy)


if __name__ == "__main__":
    main()
