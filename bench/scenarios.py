"""
The scenarios S1 to S10: what each asks of a server, and one run of it.

A run starts a fresh server pinned to the server core, starts the load
generator's worker process(es) pinned to the other core, has them register
every client, measures, closes everything and stops the server.  It returns
a flat dict of numbers for the report; for a server that keeps its history
in a SQLite file, what the file holds once the server has stopped.
"""

from __future__ import annotations

import json
import resource
import selectors
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from loadgen import processCpu, processRss
from servers import BENCH, Server, pinned

WORKER_TIMEOUT = 120.0


class Worker:
    """
    One load-generator process, driven a JSON line at a time.
    """

    def __init__(self, plan: dict, cpu: int | None, log: Path, script: str = "loadgen.py") -> None:
        with open(log, "ab") as errors:
            self.process = subprocess.Popen(
                [*pinned(cpu), sys.executable, str(BENCH / script)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                cwd=BENCH,
            )
        self.log = log
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.process.stdout, selectors.EVENT_READ)
        self.buffer = b""
        self.tell(json.dumps(plan))
        self.pid = self.expect("loaded")["pid"]

    def tell(self, line: str) -> None:
        self.process.stdin.write(line.encode() + b"\n")
        self.process.stdin.flush()

    def expect(self, event: str, timeout: float = WORKER_TIMEOUT) -> dict:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not self.selector.select(left):
                self.kill()
                raise RuntimeError(f"load generator: no {event!r} within {timeout} s")
            chunk = self.process.stdout.read1(65536)
            if not chunk:
                raise RuntimeError(
                    f"load generator exited before {event!r}:\n"
                    + self.log.read_text(errors="replace")[-2000:]
                )
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        message = json.loads(line)
        if message.get("event") != event:
            raise RuntimeError(f"load generator said {message!r}, expected {event!r}")
        return message

    def finish(self) -> None:
        try:
            self.tell("close")
            self.expect("closed", 30)
            self.process.stdin.close()
            self.process.wait(10)
        except (RuntimeError, OSError, subprocess.TimeoutExpired):
            self.kill()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@dataclass
class Load:
    """
    The clients of a run and what they do once registered.

    @ivar room: everyone's room when C{roomSize} is 0; C{None} for IRC
        clients that register and join nothing.
    @ivar measure: the measurement phase (see L{loadgen.Generator.measure}),
        or C{None} to register, hold and close.
    """

    clients: int
    workers: int = 1
    roomSize: int = 0
    room: str | None = "lobby"
    samples: list[int] = field(default_factory=list)
    rcvbuf: dict[int, int] = field(default_factory=dict)
    measure: dict | None = None
    registerDeadline: float = 60.0
    quietMin: float = 1.2
    quietMax: float = 15.0
    # More options for the server's command (chatsvc's variants only).
    serverOptions: list[str] = field(default_factory=list)
    # Lines a client of its own says in the lobby before anyone registers.
    seedLines: int = 0
    # Native clients count as registered once shown the room's replay.
    awaitReplay: bool = False
    # Which of several runs of the same case in one repetition (S7).
    round: int = 0
    # Login attempts while measuring a second time (S8): see L{logins}.
    logins: dict | None = None
    # The server not pinned to the server core: free to use every core (S8).
    serverUnpinned: bool = False


def run(
    server: Server,
    load: Load,
    workdir: Path,
    serverCpu: int | None,
    generatorCpu: int | None,
    watch: Callable[[str, int], None] | None = None,
) -> dict:
    """
    One run of C{load} against a fresh C{server}; the numbers it gave.

    @param watch: called with a phase (C{"register"}, C{"measure"}) and the
        server's PID just before that phase starts (to attach a profiler).
    """
    rooms = (
        [f"room{k}" for k in range((load.clients + load.roomSize - 1) // load.roomSize)]
        if load.roomSize
        else []
    )
    # Timed here, before anything of the run's is started.
    hashing = verificationTimes() if load.logins is not None else None
    server.start(
        workdir,
        None if load.serverUnpinned else serverCpu,
        users=load.clients,
        rooms=rooms,
        options=load.serverOptions,
    )
    workers: list[Worker] = []
    logins: Worker | None = None
    try:
        pid = server.pid
        if load.seedLines:
            seed(server.port, load.seedLines)
        if load.logins is not None:
            logins = Worker(
                {"host": "127.0.0.1", "port": server.port, **load.logins},
                generatorCpu,
                workdir / "logins.log",
                script="logins.py",
            )
            logins.tell("accounts")
            accounts = logins.expect("accounts", load.logins["registerDeadline"] + 30)
            if accounts["registered"] != load.logins["accounts"]:
                raise RuntimeError(
                    f"registered {accounts['registered']} of {load.logins['accounts']} accounts: "
                    f"{accounts['failures']}"
                )
        rssIdle = processRss(pid)
        share = -(-load.clients // load.workers)
        for w in range(load.workers):
            first = w * share
            count = min(share, load.clients - first)
            plan = {
                "host": "127.0.0.1",
                "port": server.port,
                # A cluster's nodes, which share the clients (bench/cluster.py).
                "ports": getattr(server, "ports", None),
                "dialect": server.dialect,
                "password": server.password,
                "first": first,
                "count": count,
                "roomSize": load.roomSize,
                "room": load.room,
                "samples": load.samples,
                "rcvbuf": {str(k): v for k, v in load.rcvbuf.items()},
                "window": max(1, server.window // load.workers),
                "registerDeadline": load.registerDeadline,
                "quietMin": load.quietMin,
                "quietMax": load.quietMax,
                "serverPid": pid,
                # Loopback source addresses of its own for each worker.
                "sources": [f"127.0.0.{10 + 4 * w + j}" for j in range(4)],
                "measure": load.measure,
                "awaitReplay": load.awaitReplay,
                # For the generator to check, while it measures, that no
                # line reached the tracker before it was in the file.
                "storePath": str(server.storePath) if server.storePath else None,
            }
            workers.append(Worker(plan, generatorCpu, workdir / "loadgen.log"))
        if watch is not None:
            watch("register", pid)
        cpu0 = processCpu(pid)
        for worker in workers:
            worker.tell("register")
        registered = [w.expect("registered", load.registerDeadline + 30) for w in workers]
        ready = [w.expect("ready", load.quietMax + 30) for w in workers]
        result = registration(registered, load.clients)
        result["rssIdle"] = rssIdle
        result["rssRegistered"] = processRss(pid)
        result["serverCpuRegistration"] = processCpu(pid) - cpu0
        result["lostDuringSetup"] = sum(r["lost"] for r in ready)
        if load.measure is not None:
            if watch is not None:
                watch("measure", pid)
            if len(workers) > 1:
                result.update(measureTogether(workers, load.measure))
            elif logins is None:
                result.update(measureOnce(workers[0], load.measure))
            else:
                result.update(measureUnderLogins(workers[0], logins, load))
                result["accounts"] = {k: v for k, v in accounts.items() if k != "event"}
                result["verificationMs"] = hashing
    finally:
        for worker in workers:
            worker.finish()
        if logins is not None:
            logins.finish()
        server.stop()
    if server.storePath is not None:
        result.update(stored(server.storePath))
    return result


def resultTimeout(measure: dict) -> float:
    """
    How long a measurement phase's result may take: its own seconds and 30.
    """
    return measure.get("warmup", 1) + measure["duration"] + measure.get("drain", 5) + 30


def measureOnce(worker: Worker, measure: dict) -> dict:
    """
    One measurement phase of C{worker}'s clients: its numbers.
    """
    worker.tell("go")
    result = worker.expect("result", resultTimeout(measure))
    del result["event"]
    return result


def measureTogether(workers: list[Worker], measure: dict) -> dict:
    """
    One measurement phase of several workers' clients at once (S12: more
    clients than one process may hold sockets): their numbers summed, and
    C{reachSeconds}, from the first line sent to the last delivery any of
    them saw.
    """
    for worker in workers:
        worker.tell("go")
    results = [worker.expect("result", resultTimeout(measure)) for worker in workers]
    summed = {
        key: sum(r[key] for r in results)
        for key in ("deliveries", "deliveriesPerSecond", "sent", "expected", "received", "lost", "extra")
    }
    sends = [r["firstSend"] for r in results if r["firstSend"]]
    if sends:
        summed["reachSeconds"] = max(r["lastDelivery"] for r in results) - min(sends)
    summed["generatorCpu"] = max(r["generatorCpu"] for r in results)
    summed["serverCpu"] = results[0]["serverCpu"]
    summed["disconnects"] = [d for r in results for d in r["disconnects"]]
    return summed


def measureUnderLogins(worker: Worker, logins: Worker, load: Load) -> dict:
    """
    S8: C{worker}'s chat load measured quiet, then again while C{logins}
    attempts logins (started C{lead} seconds before, so that the server's
    hashing queue has filled, and going on past the end of the measured
    seconds).  The quiet phase's numbers under C{quiet}, the other's under
    C{underLogins}, the login generator's under C{logins}.
    """
    quiet = measureOnce(worker, load.measure)
    logins.tell("go")
    logins.expect("started")
    time.sleep(load.logins["lead"])
    loaded = measureOnce(worker, load.measure)
    attempts = logins.expect("result", load.logins["deadline"] + 30)
    del attempts["event"]
    return {
        "quiet": quiet,
        "underLogins": loaded,
        "logins": attempts,
        # For the checks every scenario gets (a generator at a full core).
        "generatorCpu": max(quiet["generatorCpu"], loaded["generatorCpu"], attempts["generatorCpu"]),
    }


def verificationTimes(count: int = 7) -> dict:
    """
    What one verification of the server's own hasher
    (L{chatsvc.passwords.PASSWORD_HASHER}) takes in this process, in ms:
    C{count} of them, after one to warm up.
    """
    from chatsvc.passwords import PASSWORD_HASHER

    hash = PASSWORD_HASHER.hash("s8-bench-password")
    PASSWORD_HASHER.verify(hash, "s8-bench-password")
    times = []
    for _ in range(count):
        began = time.perf_counter()
        PASSWORD_HASHER.verify(hash, "s8-bench-password")
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    return {"n": count, "median": times[count // 2], "min": times[0], "max": times[-1]}


SEED_TIMEOUT = 10.0
SEED_TEXT = "history seed line"


def seed(port: int, lines: int) -> None:
    """
    Say C{lines} lines in the lobby from a client of its own, and return
    once it has heard the last of them (so they are committed), having
    left.  Native protocol; the lines carry no marker byte.
    """
    deadline = time.monotonic() + SEED_TIMEOUT
    with socket.create_connection(("127.0.0.1", port), SEED_TIMEOUT) as sock:
        reader = sock.makefile("rb")

        def waitFor(wanted: bytes) -> None:
            while time.monotonic() < deadline:
                line = reader.readline()
                if not line:
                    raise RuntimeError(f"seeding: the server closed before {wanted!r}")
                if line.rstrip(b"\r\n").endswith(wanted):
                    return
            raise RuntimeError(f"seeding: no {wanted!r} within {SEED_TIMEOUT} s")

        waitFor(b"NICK")
        sock.sendall(b"seeder\n")
        waitFor(b"Connected to server!")
        sock.sendall(b"".join(f"{SEED_TEXT} {k}\n".encode() for k in range(lines)))
        waitFor(f"{SEED_TEXT} {lines - 1}".encode())


def stored(path: Path) -> dict:
    """
    What the server's SQLite file holds once the server has stopped: lines
    said (C{kind = 'said'}), rows in all, and its size with its journal.
    """
    if not path.exists():
        return {"storeError": f"{path.name} does not exist"}
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
            (said,) = db.execute("SELECT count(*) FROM events WHERE kind = 'said'").fetchone()
            (rows,) = db.execute("SELECT count(*) FROM events").fetchone()
        db.close()
    except sqlite3.Error as error:
        return {"storeError": str(error)}
    size = sum(
        Path(f"{path}{suffix}").stat().st_size
        for suffix in ("", "-wal")
        if Path(f"{path}{suffix}").exists()
    )
    return {"storedLines": said, "storedRows": rows, "storeBytes": size}


def registration(events: list[dict], clients: int) -> dict:
    """
    Registration across all workers: from the first connect to the last welcome.
    """
    begin = min(e["begin"] for e in events)
    end = max(e["end"] for e in events)
    registered = sum(e["registered"] for e in events)
    seconds = max(end - begin, 1e-9)
    failures: dict[str, int] = {}
    for e in events:
        for why, n in e["failures"].items():
            failures[why] = failures.get(why, 0) + n
    return {
        "clients": clients,
        "registered": registered,
        "registerSeconds": seconds,
        "registerRate": registered / seconds,
        "registerFailures": failures,
        "registerTimedOut": any(e["timedOut"] for e in events),
        "registerPerClientP99": max(e["perClient"].get("p99", 0) for e in events),
        "generatorCpuRegistration": sum(e["generatorCpu"] for e in events) / seconds,
        # The server's CPU from the first connect to the last client done
        # (the workers measure the same process: the longest), in seconds.
        "serverCpuRegistering": max(e.get("serverCpuPrecise", 0.0) for e in events),
    }


# The scenarios.  Each is a function of (server, quick) to a list of
# (case, Load) pairs; a server a scenario does not apply to gets none.

# The chatsvc variants that keep history in S6 and S7; chatsvc-sqlite runs
# S1 and S2 beside them and sits out S3 to S5 (the core, not the store).
HISTORY = ("chatsvc", "chatsvc-sqlite")


def fanOut(window: int, quick: bool) -> Load:
    """
    S1's load: 100 clients in one room, 10 senders, closed loop with
    C{window} lines in flight per sender.
    """
    clients = 100
    return Load(
        clients=clients,
        samples=[clients - 1, 25, 50, 75],
        measure={
            "mode": "closed",
            "senders": list(range(10)),
            "window": window,
            "tracker": clients - 1,
            "warmup": 1.0,
            "duration": 2.0 if quick else 5.0,
            "drain": 5.0,
            "textBytes": 40,
            "bulkInterval": 0.01,
        },
    )


def s1(server: Server, quick: bool) -> list[tuple[str, Load]]:
    """
    Fan-out: 100 clients in one room, 10 senders, closed loop with 8 lines
    in flight per sender; throughput and latency.  A second case keeps one
    line in flight per sender: the latency of a server that is not queueing.
    """
    if quick:
        return [("8 in flight", fanOut(8, quick))]
    return [("8 in flight", fanOut(8, quick)), ("1 in flight", fanOut(1, quick))]


def s2(server: Server, quick: bool) -> list[tuple[str, Load]]:
    """
    Big room: 1,000 clients in one room, 5 senders at 20 lines/s (open loop).
    """
    clients = 1000
    return [
        (
            "1,000 clients",
            Load(
                clients=clients,
                samples=[clients - 1 - 100 * k for k in range(10)],
                measure={
                    "mode": "open",
                    "senders": list(range(5)),
                    "rate": 20.0,
                    "warmup": 1.0,
                    "duration": 3.0 if quick else 8.0,
                    "drain": 5.0,
                    "textBytes": 40,
                    "bulkInterval": 0.05,
                },
            ),
        )
    ]


def s3(server: Server, quick: bool) -> list[tuple[str, Load]]:
    """
    Capacity: idle connections; registration time and memory per connection.

    The threaded original announces every arrival to everyone with blocking
    sends (O(n^2) lines), so it gets a deadline and only the smaller size.
    IRC clients register and join no channel: twistd words, too, announces
    every JOIN to every member.
    """
    if server.name == "chatsvc-sqlite":
        return []
    # ~20,000 is what 20,000 open files per process allow the server.
    ceiling = resource.getrlimit(resource.RLIMIT_NOFILE)[1] - 100
    sizes = [min(size, ceiling) for size in ([5_000] if quick else [10_000, 19_900])]
    if server.name == "threaded":
        sizes = [1_000] if quick else sizes[:1]
    deadline = 8.0 if quick else 30.0
    room = None if server.dialect == "irc" else "lobby"
    return [
        (
            f"{size:,} clients",
            Load(
                clients=size,
                workers=2,
                room=room,
                registerDeadline=deadline if server.name == "threaded" else 60.0,
                quietMax=10.0,
            ),
        )
        for size in sizes
    ]


def s4(server: Server, quick: bool) -> list[tuple[str, Load]]:
    """
    Many rooms: 5,000 clients in 500 rooms of 10, one sender in every room.
    """
    if not server.rooms or server.name == "chatsvc-sqlite":
        return []
    clients = 1_000 if quick else 5_000
    return [
        (
            f"{clients:,} clients, {clients // 10} rooms",
            Load(
                clients=clients,
                roomSize=10,
                samples=[k for k in range(9, clients, 100)],
                measure={
                    "mode": "open",
                    "senders": list(range(0, clients, 10)),
                    "rate": 4.0,
                    "warmup": 1.0,
                    "duration": 3.0 if quick else 8.0,
                    "drain": 5.0,
                    "textBytes": 40,
                    "bulkInterval": 0.05,
                },
            ),
        )
    ]


def s5(server: Server, quick: bool) -> list[tuple[str, Load]]:
    """
    Slow reader: 20 clients, 5 senders at 400 lines/s of 440 bytes (about
    1 MB/s to each reader; short enough to be relayed whole by any IRC
    server, prefix included: chatsvc answers a longer line 417, as IRCv3
    asks, rather than cut it); one client,
    with a small receive buffer, stops reading 2 s in.

    Loopback TCP buffers about 3.5 MB for a reader that stopped before the
    server's own buffers see any of it, so the server's bound (64 KiB plus
    1 MiB for chatsvc) is reached about 5 s after the reader stops.
    """
    if server.name == "chatsvc-sqlite":
        return []
    clients = 20
    slow = clients - 1
    return [
        (
            f"{clients} clients, 1 stops reading",
            Load(
                clients=clients,
                samples=[4, 8, 12, 16, slow],
                rcvbuf={slow: 8192},
                measure={
                    "mode": "open",
                    "senders": list(range(5)),
                    "rate": 400.0,
                    "warmup": 0.5 if quick else 1.0,
                    "duration": 6.0 if quick else 10.0,
                    "drain": 3.0,
                    "textBytes": 440,
                    "bulkInterval": 0.02,
                    "slow": {"index": slow, "stopAfter": 1.5 if quick else 2.0},
                },
            ),
        )
    ]


def s6(server: Server, quick: bool) -> list[tuple[str, Load]]:
    """
    History write: 20 clients in one room, 10 of them senders, closed loop
    with 8 lines in flight per sender (as S1, with a fifth of its fan-out):
    as many lines a second as the server takes, every one committed before
    it is delivered.  Bounded in time (the measured seconds) and in count
    (C{sendLimit} lines per sender).  With the SQLite store, the generator
    checks twice a second that the file holds at least as many lines as the
    tracker has received, and after the run the file is counted.  chatsvc
    with its history in memory runs it too, for reference.  The full run
    adds a case with 32 lines in flight per sender (SQLite only): what the
    server takes when latency does not hold the senders back.
    """
    if server.name not in HISTORY:
        return []
    clients = 20
    warmup, duration = 1.0, 3.0 if quick else 6.0

    def load(window: int) -> Load:
        return Load(
            clients=clients,
            samples=[clients - 1, 10, 13, 16],
            measure={
                "mode": "closed",
                "senders": list(range(10)),
                "window": window,
                "tracker": clients - 1,
                "warmup": warmup,
                "duration": duration,
                "drain": 5.0,
                "textBytes": 40,
                "bulkInterval": 0.01,
                # 10 senders at most 10,000 lines/s each: more than
                # twice what the server takes.
                "sendLimit": int((warmup + duration) * 10_000),
                "storeCheckEvery": 0.5,
            },
        )

    if quick or server.name != "chatsvc-sqlite":
        return [("8 in flight", load(8))]
    return [("8 in flight", load(8)), ("32 in flight", load(32))]


def s7(server: Server, quick: bool) -> list[tuple[str, Load]]:
    """
    Replay on joining: 20 lines said in the lobby, then 1,000 clients
    register into it (as in S3), each counted once shown the 20 lines
    (C{End of history.}); the same with C{--replay 0}, counted at the
    welcome.  The time from the first connect to the last client done.

    It takes about 0.2 s, so each repetition runs both cases
    L{REPLAY_ROUNDS} times (4, 3 with C{--quick}), alternating which goes
    first, each on a fresh server; the report pairs them round by round.
    C{--quick} runs it with the SQLite store only (the target's).
    """
    if server.name not in HISTORY or (quick and server.name != "chatsvc-sqlite"):
        return []
    clients = 1000

    def load(replay: int, round: int) -> Load:
        return Load(
            clients=clients,
            room="lobby",
            serverOptions=["--replay", str(replay)],
            seedLines=20,
            awaitReplay=replay > 0,
            # Nothing is measured after registering: no need to wait for
            # the crowd summaries.
            quietMin=0.3,
            quietMax=5.0,
            round=round,
        )

    cases = []
    for round in range(REPLAY_ROUNDS[quick]):
        pair = [("20 lines replayed", load(20, round)), ("no replay", load(0, round))]
        cases += pair if round % 2 == 0 else pair[::-1]
    return cases


# Rounds of S7 per repetition: full, quick.
REPLAY_ROUNDS = {False: 4, True: 3}


# S8's login load: the issue's rate; what the server's limits allow each
# account and address in a minute (chatsvc.accounts), less a margin, so
# that no attempt is refused by them before it is hashed.
LOGIN_RATE = 50.0
ATTEMPTS_PER_ACCOUNT = 4  # of 5 a minute
ATTEMPTS_PER_ADDRESS = 15  # of 60 a minute; registrations count too
LOGIN_PASSWORD = "s8-right-password"


def s8(server: Server, quick: bool) -> list[tuple[str, Load]]:
    """
    Logins beside chat: S1's load (100 clients, 10 senders, 8 lines in
    flight each) measured quiet, then again on the same server while a
    login generator of its own (L{logins}) attempts L{LOGIN_RATE} logins a
    second against accounts registered before anything is measured, every
    fifth with a wrong password.  The logins start 1 s before the second
    measurement's warm-up and last until its end and half a second more.

    The chat clients are in a room of their own (C{s8}), so that a login,
    which enters the lobby, costs the server its hashing and handshake but
    no announcement to the measured room.  Attempts are spread over enough
    accounts and source addresses (127.0.1.N; registrations from 127.0.2.N)
    that the per-account and per-address limits refuse none: what is
    measured is the hashing.  chatsvc only (native, history in memory).

    C{taskset} pins every thread of the server, its hashing thread with its
    reactor, to the server core; so a second case runs the server unpinned,
    free to hash on the other core (which it shares with the generators):
    the deployment the hashing thread was written for.
    """
    if server.name != "chatsvc":
        return []
    clients = 100
    warmup, duration, lead, tail = 1.0, 2.0 if quick else 5.0, 1.0, 0.5
    count = int(LOGIN_RATE * (lead + warmup + duration + tail))
    accounts = -(-count // ATTEMPTS_PER_ACCOUNT)
    loginSources = -(-count // ATTEMPTS_PER_ADDRESS)
    registerSources = -(-accounts // ATTEMPTS_PER_ADDRESS)

    def load(unpinned: bool) -> Load:
        return Load(
            clients=clients,
            serverUnpinned=unpinned,
            room="s8",
            samples=[clients - 1, 25, 50, 75],
            measure={
                "mode": "closed",
                "senders": list(range(10)),
                "window": 8,
                "tracker": clients - 1,
                "warmup": warmup,
                "duration": duration,
                "drain": 5.0,
                "textBytes": 40,
                "bulkInterval": 0.01,
            },
            logins={
                "accounts": accounts,
                "password": LOGIN_PASSWORD,
                "wrongPassword": "s8-wrong-password",
                "wrongEvery": 5,
                "rate": LOGIN_RATE,
                "count": count,
                "lead": lead,
                # Every attempt answered by then, or counted unanswered:
                # the server's queue (100) drains in 7 s at 70 ms each.
                "deadline": lead + warmup + duration + tail + 20.0,
                "perAddress": ATTEMPTS_PER_ADDRESS,
                "registerSources": [f"127.0.2.{1 + k}" for k in range(registerSources)],
                "loginSources": [f"127.0.1.{1 + k}" for k in range(loginSources)],
                "registerWindow": 20,
                "registerDeadline": 120.0,
            },
        )

    return [(S8_PINNED, load(False)), (S8_UNPINNED, load(True))]


S8_PINNED = "server on 1 core"
S8_UNPINNED = "server on every core"


# The browser's WebSockets (issue 12): each set against the same server on
# its native port, in the same run.
BROWSER = ("chatsvc", "chatsvc-web")


def s9(server: Server, quick: bool) -> list[tuple[str, Load]]:
    """
    S1 over the page's WebSocket: S1's clients, senders and closed loop,
    every client on C{/chat} (C{chatsvc-web}) or, for the ratio, on the
    native port (C{chatsvc}), on fresh servers one after the other.
    """
    if server.name not in BROWSER:
        return []
    return s1(server, quick)


def s10(server: Server, quick: bool) -> list[tuple[str, Load]]:
    """
    Idle WebSockets: 5,000 clients registered into the lobby over C{/chat},
    or over native TCP for the ratio, as S3 registers them (two generator
    processes); resident memory per connection.  The same size with
    C{--quick}: it is the target's.
    """
    if server.name not in BROWSER:
        return []
    return [
        (
            "5,000 clients",
            Load(clients=5_000, workers=2, room="lobby", registerDeadline=60.0, quietMax=10.0),
        )
    ]


def lineServersOnly(scenario: Callable[[Server, bool], list[tuple[str, Load]]]) -> Callable[[Server, bool], list[tuple[str, Load]]]:
    """
    C{scenario} for the servers it was written for, none for a WebSocket
    front-end (S9 and S10 measure those).
    """

    def cases(server: Server, quick: bool) -> list[tuple[str, Load]]:
        return [] if server.dialect == "page" else scenario(server, quick)

    cases.__doc__ = scenario.__doc__
    return cases


SCENARIOS = {
    **{
        name: lineServersOnly(scenario)
        for name, scenario in (
            ("S1", s1), ("S2", s2), ("S3", s3), ("S4", s4), ("S5", s5), ("S6", s6), ("S7", s7), ("S8", s8)
        )
    },
    "S9": s9,
    "S10": s10,
}
