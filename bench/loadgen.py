"""
The load generator: thousands of chat clients in one process, cheaply.

Usage (normally started by C{bench/run.py}): python bench/loadgen.py

It reads a JSON plan as its first line of standard input, then obeys one
command a line (C{register}, C{go}, C{close}) and answers each with one JSON
line on standard output.  Standard library only.

How it stays out of the way (see README.rst, "The generator"):

 - one thread, C{select.epoll} over non-blocking sockets, no per-connection
   objects in the hot path: parallel lists indexed by client;
 - after the handshake, a delivery is counted with C{bytes.count(MARK)} over
   whatever one big C{recv} returned, never by splitting lines;
 - only a fixed subset of receivers (the I{samples}, and the I{tracker} that
   paces a closed loop) sits in the I{prompt} epoll and is read as soon as
   data arrives, with its send timestamps parsed by one regular expression
   per read; every other socket sits in the I{bulk} epoll, which is polled
   every C{bulkInterval} seconds, so one C{recv} carries many lines;
 - each chat line carries C{MARK}, the sending time in microseconds of
   C{CLOCK_MONOTONIC} (shared by every process on the machine), the
   sender's index and a sequence number.

Every phase has a deadline; end of standard input closes everything.
"""

from __future__ import annotations

import errno
import heapq
import json
import os
import re
import resource
import select
import socket
import sqlite3
import struct
import sys
import threading
import time

from dialects import (
    CONNECTING,
    DIALECTS,
    DONE,
    FAILED,
    MARK,
    WAIT_PROMPT,
    WAIT_REPLAY,
    WAIT_ROOM,
    WAIT_WELCOME,
)

IN = select.EPOLLIN
OUT = select.EPOLLOUT
STAMP = re.compile(rb"%(\d+) (\d+) ")
TCP_CLOSE = 7
CLOCK_TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
RESET = struct.pack("ii", 1, 0)
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)


def micros() -> int:
    return time.monotonic_ns() // 1000


def ownCpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def processCpu(pid: int) -> float:
    """
    User plus system CPU seconds of process C{pid}, all its threads.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICK


def processCpuPrecise(pid: int) -> float:
    """
    CPU seconds of process C{pid}, all its threads, to the nanosecond
    (C{/proc/<pid>/task/*/schedstat}; C{/proc/<pid>/stat} counts 10 ms ticks,
    too coarse for a phase of a fraction of a second).
    """
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0.0
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat", "rb") as f:
                total += int(f.read().split()[0])
        except (OSError, IndexError, ValueError):
            pass
    return total / 1e9


def threadsCpu(pid: int) -> tuple[float, float]:
    """
    CPU seconds of process C{pid}'s main thread (a Twisted server's
    reactor) and of all its other threads together, to the nanosecond.
    """
    main = others = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0.0, 0.0
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat", "rb") as f:
                used = int(f.read().split()[0])
        except (OSError, IndexError, ValueError):
            continue
        if int(task) == pid:
            main += used
        else:
            others += used
    return main / 1e9, others / 1e9


def processRss(pid: int) -> int:
    """
    Resident memory of process C{pid}, in bytes.
    """
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * PAGE
    except OSError:
        return 0


def percentiles(values: list[int]) -> dict[str, float]:
    """
    Nearest-rank p50, p90, p99 and max of microsecond values, in ms.
    """
    if not values:
        return {"n": 0}
    values = sorted(values)
    n = len(values)

    def rank(p: float) -> float:
        return values[min(n - 1, int(p * n))] / 1000.0

    return {
        "n": n,
        "p50": rank(0.50),
        "p90": rank(0.90),
        "p99": rank(0.99),
        "max": values[-1] / 1000.0,
    }


class StoreWatch:
    """
    A thread that checks, every C{every} seconds while the generator
    measures, that the server's SQLite file holds at least as many lines as
    the tracker has received: nothing delivered before it was committed.

    The tracker's count is read first, then the file's (a read transaction
    of its own, which in WAL mode never waits for the writer): every line
    counted at the tracker was committed before it was sent, so the file
    must have it by the time it is read.  SQLite lets go of the GIL while it
    counts, so the generator's loop goes on meanwhile.
    """

    def __init__(self, path: str, counts: list[int], tracker: int, every: float) -> None:
        self.path = path
        self.counts = counts
        self.tracker = tracker
        self.every = every
        self.checks = 0
        self.violations = 0
        self.worst = 0  # most lines delivered and not (yet) in the file
        self.aheadMax = 0  # most lines in the file and not yet at the tracker
        self.errors: list[str] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        db = None
        while not self.stopping.wait(self.every):
            try:
                if db is None:
                    db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=1)
                delivered = self.counts[self.tracker]
                (stored,) = db.execute(
                    "SELECT count(*) FROM events WHERE kind = 'said'"
                ).fetchone()
            except sqlite3.Error as error:
                if len(self.errors) < 5:
                    self.errors.append(str(error))
                continue
            self.checks += 1
            if stored < delivered:
                self.violations += 1
                self.worst = max(self.worst, delivered - stored)
            self.aheadMax = max(self.aheadMax, stored - delivered)
        if db is not None:
            db.close()

    def stop(self) -> dict:
        self.stopping.set()
        self.thread.join(10)
        return {
            "checks": self.checks,
            "violations": self.violations,
            "worst": self.worst,
            "aheadMax": self.aheadMax,
            "errors": self.errors,
        }


def emit(**fields: object) -> None:
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


class Commands:
    """
    Reading the orchestrator's commands, a line each on stdin, without
    blocking: a mixin for the generators (this one and C{logins.py}).
    """

    def listenForCommands(self, poll: select.epoll) -> None:
        self.stdin = sys.stdin.fileno()
        os.set_blocking(self.stdin, False)
        self.commandPoll = poll
        poll.register(self.stdin, IN)
        self.commands: list[str] = []
        self.stdinBuffer = b""

    def readCommands(self) -> None:
        try:
            chunk = os.read(self.stdin, 4096)
        except BlockingIOError:
            return
        if not chunk:
            self.commands.append("close")
            self.commandPoll.unregister(self.stdin)
            return
        self.stdinBuffer += chunk
        while b"\n" in self.stdinBuffer:
            line, self.stdinBuffer = self.stdinBuffer.split(b"\n", 1)
            if line.strip():
                self.commands.append(line.decode().strip())


class Generator(Commands):
    """
    One process's share of the clients of one run.

    Client I{i} (a global index) is local index C{i - first}.  Its nickname
    is C{u<i>} and its room C{room<i // roomSize>} when C{roomSize} is set,
    else the plan's C{room} (C{null}: an IRC client that joins nothing).
    """

    def __init__(self, plan: dict) -> None:
        self.plan = plan
        # Client i connects to ports[i % len(ports)]: several nodes of one
        # cluster share a run's clients (the default: the one port).
        self.ports = plan.get("ports") or [plan["port"]]
        self.dialect = DIALECTS[plan["dialect"]](
            plan.get("defaultRoom", "lobby"), plan.get("password")
        )
        self.dialect.awaitReplay = bool(plan.get("awaitReplay"))
        self.first = plan["first"]
        self.count = plan["count"]
        self.serverPid = plan.get("serverPid")
        roomSize = plan.get("roomSize") or 0
        n = self.count
        self.nicks = [f"u{self.first + k}" for k in range(n)]
        self.rooms = [
            f"room{(self.first + k) // roomSize}" if roomSize else plan.get("room", "lobby")
            for k in range(n)
        ]
        self.socks: list[socket.socket | None] = [None] * n
        self.fds = [-1] * n
        self.byFd: dict[int, int] = {}
        self.state = [CONNECTING] * n
        self.buffers = [b""] * n
        self.started = [0.0] * n
        self.finished = [0.0] * n
        self.closed = [False] * n
        self.prompt = select.epoll()
        self.bulk = select.epoll()
        self.inPrompt = [False] * n
        local = self.local
        self.samples = {local(i) for i in plan.get("samples", []) if local(i) is not None}
        self.rcvbuf = {
            local(int(i)): size
            for i, size in plan.get("rcvbuf", {}).items()
            if local(int(i)) is not None
        }
        self.sources = plan.get("sources", [])
        self.buffer = bytearray(262144)
        self.listenForCommands(self.prompt)
        self.lastData = 0.0

    def local(self, index: int) -> int | None:
        k = index - self.first
        return k if 0 <= k < self.count else None

    # Commands from the orchestrator

    def nextCommand(self) -> str:
        while not self.commands:
            for fd, _ in self.prompt.poll(0.05):
                if fd == self.stdin:
                    self.readCommands()
                else:
                    self.discard(fd)
            self.pollBulk()
        return self.commands.pop(0)

    # Registration

    def startConnect(self, k: int) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if k in self.rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf[k])
        if self.sources:
            # Pick the source address now, the port at connect time: the
            # kernel then needs a port free for this 4-tuple only.  From one
            # address, Linux tries the even ephemeral ports first and scans
            # them all once they are taken, so connect() slows to a crawl
            # past ~14,000 connections.
            sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            sock.bind((self.sources[k % len(self.sources)], 0))
        self.started[k] = time.monotonic()
        ports = self.ports
        code = sock.connect_ex((self.plan["host"], ports[(self.first + k) % len(ports)]))
        if code not in (0, errno.EINPROGRESS):
            sock.close()
            self.fail(k, f"connect: {errno.errorcode.get(code, code)}")
            return
        fd = sock.fileno()
        self.socks[k] = sock
        self.fds[k] = fd
        self.byFd[fd] = k
        self.prompt.register(fd, OUT)
        self.inPrompt[k] = True

    def connected(self, k: int) -> None:
        sock = self.socks[k]
        code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code:
            self.fail(k, f"connect: {errno.errorcode.get(code, code)}")
            return
        self.prompt.modify(self.fds[k], IN)
        greeting = self.dialect.greeting(self.nicks[k])
        if greeting:
            sock.send(greeting)
            self.state[k] = self.dialect.greetingState
        else:
            self.state[k] = WAIT_PROMPT

    def fail(self, k: int, why: str) -> None:
        if self.state[k] in (DONE, FAILED):
            return
        self.state[k] = FAILED
        self.failures[why] = self.failures.get(why, 0) + 1
        self.inflight -= 1
        self.dropSocket(k)

    def dropSocket(self, k: int) -> None:
        sock = self.socks[k]
        if sock is None:
            return
        fd = self.fds[k]
        (self.prompt if self.inPrompt[k] else self.bulk).unregister(fd)
        sock.close()
        self.socks[k] = None
        self.closed[k] = True
        del self.byFd[fd]

    def readHandshake(self, k: int) -> None:
        try:
            data = self.socks[k].recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            self.fail(k, f"recv: {type(e).__name__}")
            return
        if not data:
            self.fail(k, "closed by server")
            return
        self.lastData = time.monotonic()
        buffer = self.buffers[k] + data
        lineReceived = self.dialect.lineReceived
        nextMessage = self.dialect.nextMessage
        state = self.state[k]
        line = b""
        while state not in (DONE, FAILED):
            # A line, or for a WebSocket the upgrade's answer or a frame.
            line, rest = nextMessage(buffer, state)
            if line is None:
                break
            buffer = rest
            before = state
            state, reply = lineReceived(state, line, self.nicks[k])
            if (
                state == DONE
                and before in (WAIT_WELCOME, WAIT_REPLAY)
                and self.dialect.needsJoin(self.rooms[k])
            ):
                state = WAIT_ROOM
                reply += self.dialect.joinLine(self.rooms[k])
            if reply:
                self.socks[k].send(reply)
        self.buffers[k] = b""
        if state == FAILED:
            self.state[k] = WAIT_WELCOME
            self.fail(k, "refused: " + line.decode("utf-8", "replace")[:60])
        elif state == DONE:
            self.state[k] = DONE
            self.finished[k] = time.monotonic()
            self.registered += 1
            self.inflight -= 1
            if k not in self.samples:
                fd = self.fds[k]
                self.prompt.unregister(fd)
                self.bulk.register(fd, IN)
                self.inPrompt[k] = False
        else:
            self.state[k] = state
            self.buffers[k] = buffer

    def discard(self, fd: int) -> None:
        k = self.byFd.get(fd)
        if k is None:
            return
        buffer = self.buffer
        try:
            size = self.socks[k].recv_into(buffer)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            size = 0
        if not size:
            self.dropSocket(k)
            self.lost += 1
            return
        self.lastData = time.monotonic()
        if self.dialect.name == "irc" and buffer.find(b"PING", 0, size) != -1:
            self.answerPings(k, bytes(buffer[:size]))

    def answerPings(self, k: int, data: bytes) -> None:
        for line in data.split(b"\n"):
            if line.startswith(b"PING"):
                self.socks[k].send(b"PONG" + line[4:].rstrip(b"\r") + b"\r\n")

    def pollBulk(self) -> None:
        for fd, _ in self.bulk.poll(0):
            self.discard(fd)

    def register(self) -> None:
        plan = self.plan
        window = plan.get("window", 200)
        setupInterval = plan.get("setupInterval", 0.1)
        deadline = time.monotonic() + plan.get("registerDeadline", 60.0)
        self.failures: dict[str, int] = {}
        self.inflight = 0
        self.registered = 0
        self.lost = 0
        pending = list(range(self.count - 1, -1, -1))
        cpu0, serverCpu0 = ownCpu(), self.serverCpu()
        serverPrecise0 = processCpuPrecise(self.serverPid) if self.serverPid else 0.0
        begin = time.monotonic()
        nextBulk = begin + setupInterval
        timedOut = False
        while pending or self.inflight > 0:
            now = time.monotonic()
            if now > deadline:
                timedOut = True
                break
            while pending and self.inflight < window:
                self.inflight += 1
                self.startConnect(pending.pop())
            for fd, events in self.prompt.poll(max(0.0, min(0.02, nextBulk - now))):
                if fd == self.stdin:
                    self.readCommands()
                    continue
                k = self.byFd.get(fd)
                if k is None:
                    continue
                state = self.state[k]
                if state == CONNECTING:
                    self.connected(k)
                elif state == DONE:
                    self.discard(fd)
                else:
                    self.readHandshake(k)
            if time.monotonic() >= nextBulk:
                self.pollBulk()
                nextBulk = time.monotonic() + setupInterval
            if "close" in self.commands:
                break
        serverPrecise = (processCpuPrecise(self.serverPid) if self.serverPid else 0.0) - serverPrecise0
        end = max([t for t in self.finished if t] or [begin])
        times = [
            int((self.finished[k] - self.started[k]) * 1e6)
            for k in range(self.count)
            if self.state[k] == DONE
        ]
        emit(
            event="registered",
            begin=begin,
            end=end,
            registered=self.registered,
            failed=sum(self.failures.values()),
            failures=self.failures,
            timedOut=timedOut,
            unfinished=len(pending) + max(self.inflight, 0),
            perClient=percentiles(times),
            generatorCpu=ownCpu() - cpu0,
            serverCpu=self.serverCpu() - serverCpu0,
            serverCpuPrecise=serverPrecise,
        )
        self.abandonUnfinished()
        self.quiet(begin=end)

    def abandonUnfinished(self) -> None:
        for k in range(self.count):
            if self.state[k] not in (DONE, FAILED) and self.socks[k] is not None:
                self.dropSocket(k)

    def quiet(self, begin: float) -> None:
        """
        Read and discard until the server has said everything it had to say
        about arrivals (crowd summaries come a second later).
        """
        plan = self.plan
        quietMin = plan.get("quietMin", 1.2)
        quietGap = plan.get("quietGap", 0.3)
        quietMax = plan.get("quietMax", 10.0)
        setupInterval = plan.get("setupInterval", 0.1)
        nextBulk = time.monotonic()
        while True:
            now = time.monotonic()
            if now - begin >= quietMax:
                break
            if now - begin >= quietMin and now - self.lastData >= quietGap:
                break
            for fd, _ in self.prompt.poll(max(0.0, min(0.05, nextBulk - now))):
                if fd == self.stdin:
                    self.readCommands()
                else:
                    self.discard(fd)
            if time.monotonic() >= nextBulk:
                self.pollBulk()
                nextBulk = time.monotonic() + setupInterval
        emit(event="ready", quietSeconds=time.monotonic() - begin, lost=self.lost)

    # Measurement

    def serverCpu(self) -> float:
        return processCpu(self.serverPid) if self.serverPid else 0.0

    def measure(self) -> None:
        m = self.plan["measure"]
        n = self.count
        local = self.local
        socks = self.socks
        byFd = self.byFd
        dialect = self.dialect
        pingy = dialect.name == "irc"
        bulkInterval = m.get("bulkInterval", 0.02)
        senders = [local(i) for i in m["senders"] if local(i) is not None]
        senderIndex = {k: self.first + k for k in senders}
        tracker = local(m["tracker"]) if m.get("tracker") is not None else None
        closedLoop = m["mode"] == "closed"
        rate = m.get("rate", 1.0)
        pad = b"x" * max(0, m.get("textBytes", 40) - 24)
        prefixes = {k: dialect.chatPrefix(self.rooms[k]) for k in senders}
        suffix = dialect.chatSuffix
        # A WebSocket's own framing of each line (masked), or None.
        encoders = {k: dialect.chatEncoder() for k in senders}
        sendQueueLimit = m.get("sendQueueLimit", 65536)
        slow = m.get("slow")
        slowK = local(slow["index"]) if slow else None
        rssEvery = m.get("rssEvery", 0.25)
        sendLimit = m.get("sendLimit")
        sendTimes = [0.0, 0.0]  # first and last send
        # When the last line arrived, in microseconds of CLOCK_MONOTONIC:
        # for how long one line takes to reach every client of several
        # generators (S12), read to within a bulk interval.
        lastDelivery = [0]

        counts = [0] * n
        # One buffer for every read: recv() would allocate (and, at this
        # size, map and unmap) a new bytes object each time.
        buffer = bytearray(262144)
        sent = {k: 0 for k in senders}
        outbox: dict[int, bytes] = {}
        blocked = 0
        latencies: list[int] = []
        latenciesAfter: list[int] = []
        disconnects: list[tuple[int, float]] = []

        start = time.monotonic()
        t0 = start + m.get("warmup", 1.0)
        t1 = t0 + m["duration"]
        t0Us, t1Us = int(t0 * 1e6), int(t1 * 1e6)
        slowStop = start + slow["stopAfter"] if slow else None
        slowStopUs = int(slowStop * 1e6) if slow else None
        for k in self.samples:
            if not self.inPrompt[k] and socks[k] is not None:
                self.bulk.unregister(self.fds[k])
                self.prompt.register(self.fds[k], IN)
                self.inPrompt[k] = True

        def send(k: int, count: int) -> None:
            nonlocal blocked
            sock = socks[k]
            if sock is None:
                return
            seq = sent[k]
            if sendLimit is not None:
                count = min(count, sendLimit - seq)
                if count <= 0:
                    return
            now = micros()
            if not sendTimes[0]:
                sendTimes[0] = now / 1e6
            sendTimes[1] = now / 1e6
            sender = senderIndex[k]
            prefix = prefixes[k]
            encode = encoders[k]
            if encode is None:
                data = b"".join(
                    [
                        prefix + b"%%%d %d %d " % (now, sender, seq + j) + pad + suffix
                        for j in range(count)
                    ]
                )
            else:
                data = b"".join(
                    [
                        encode(prefix + b"%%%d %d %d " % (now, sender, seq + j) + pad + suffix)
                        for j in range(count)
                    ]
                )
            pending = outbox.get(k)
            if pending is not None:
                if len(pending) > sendQueueLimit:
                    blocked += count
                    return
                outbox[k] = pending + data
                sent[k] = seq + count
                return
            try:
                written = sock.send(data)
            except (BlockingIOError, InterruptedError):
                written = 0
            except OSError:
                return
            sent[k] = seq + count
            if written < len(data):
                outbox[k] = data[written:]

        def flushOutbox() -> None:
            for k in list(outbox):
                data = outbox[k]
                try:
                    written = socks[k].send(data)
                except (BlockingIOError, InterruptedError):
                    continue
                except (OSError, AttributeError):
                    del outbox[k]
                    continue
                if written == len(data):
                    del outbox[k]
                else:
                    outbox[k] = data[written:]

        def gone(k: int) -> None:
            disconnects.append((self.first + k, time.monotonic() - start))
            self.dropSocket(k)

        def readBulk(fd: int) -> None:
            k = byFd.get(fd)
            if k is None:
                return
            try:
                size = socks[k].recv_into(buffer)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                size = 0
            if not size:
                gone(k)
                return
            marks = buffer.count(MARK, 0, size)
            if marks:
                counts[k] += marks
                lastDelivery[0] = micros()
            if pingy and buffer.find(b"PING", 0, size) != -1:
                self.answerPings(k, bytes(buffer[:size]))

        sending = True

        def readPrompt(fd: int) -> None:
            k = byFd.get(fd)
            if k is None:
                return
            try:
                size = socks[k].recv_into(buffer)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                size = 0
            if not size:
                gone(k)
                return
            now = micros()
            marks = buffer.count(MARK, 0, size)
            if marks:
                counts[k] += marks
                lastDelivery[0] = now
            if pingy and buffer.find(b"PING", 0, size) != -1:
                self.answerPings(k, bytes(buffer[:size]))
            stamps = STAMP.findall(buffer, 0, size)
            if k == slowK:
                return
            for stamp, sender in stamps:
                ts = int(stamp)
                if t0Us <= ts < t1Us:
                    if slowStopUs is not None and ts >= slowStopUs:
                        latenciesAfter.append(now - ts)
                    else:
                        latencies.append(now - ts)
            if k == tracker and closedLoop and sending:
                credit: dict[int, int] = {}
                for _, sender in stamps:
                    s = local(int(sender))
                    if s is not None:
                        credit[s] = credit.get(s, 0) + 1
                for s, c in credit.items():
                    send(s, c)

        watch = None
        storePath = self.plan.get("storePath")
        if storePath and m.get("storeCheckEvery") and tracker is not None:
            watch = StoreWatch(storePath, counts, tracker, m["storeCheckEvery"])

        # Schedule: a closed loop starts with a full window per sender; an
        # open loop sends each sender's lines at fixed times, phases spread.
        schedule: list[tuple[float, int]] = []
        if closedLoop:
            for k in senders:
                send(k, m["window"])
        else:
            period = 1.0 / rate
            everyone = m["senders"]
            for k in senders:
                phase = everyone.index(self.first + k) / len(everyone) * period
                schedule.append((start + phase, k))
            heapq.heapify(schedule)

        own0 = ownCpu()
        server0 = self.serverCpu()
        rss0 = processRss(self.serverPid) if self.serverPid else 0
        rssTrace: list[tuple[float, int]] = [(0.0, rss0)]
        nextRss = start + rssEvery
        nextBulk = start + bulkInterval
        mark0 = None
        mark1 = None
        own1 = server1 = 0.0
        drainUntil = t1 + m.get("drain", 5.0)
        nextCheck = t1
        slowStopped = False
        prompt = self.prompt
        bulk = self.bulk
        while True:
            now = time.monotonic()
            if mark0 is None and now >= t0:
                mark0 = sum(counts)
                own0, server0 = ownCpu(), self.serverCpu()
                threads0 = threadsCpu(self.serverPid) if self.serverPid else (0.0, 0.0)
                sent0 = sum(sent.values())
            if sending and now >= t1:
                sending = False
                mark1 = sum(counts)
                own1, server1 = ownCpu(), self.serverCpu()
                threads1 = threadsCpu(self.serverPid) if self.serverPid else (0.0, 0.0)
                sent1 = sum(sent.values())
            if not sending and now >= nextCheck:
                nextCheck = now + 0.1
                if now >= drainUntil or self.allArrived(counts, sent, senders, slowK):
                    break
            if slow and not slowStopped and now >= slowStop:
                slowStopped = True
                if socks[slowK] is not None and self.inPrompt[slowK]:
                    prompt.unregister(self.fds[slowK])
                    self.inPrompt[slowK] = False
                    bulk.register(self.fds[slowK], 0)
            wake = min(nextBulk, nextRss, t0 if mark0 is None else t1 if sending else nextCheck)
            if schedule and sending:
                wake = min(wake, schedule[0][0])
            for fd, events in prompt.poll(max(0.0, wake - now)):
                if fd == self.stdin:
                    self.readCommands()
                else:
                    readPrompt(fd)
            now = time.monotonic()
            if sending:
                while schedule and schedule[0][0] <= now:
                    due, k = schedule[0]
                    heapq.heapreplace(schedule, (due + 1.0 / rate, k))
                    send(k, 1)
            if outbox:
                flushOutbox()
            if now >= nextBulk:
                for fd, events in bulk.poll(0):
                    if slowK is not None and byFd.get(fd) == slowK:
                        # A reader that stopped: only notice the server's reset.
                        if events & (select.EPOLLERR | select.EPOLLHUP):
                            gone(slowK)
                        continue
                    readBulk(fd)
                nextBulk = now + bulkInterval
            if now >= nextRss:
                rssTrace.append((now - start, processRss(self.serverPid) if self.serverPid else 0))
                nextRss = now + rssEvery

        storeWatch = watch.stop() if watch is not None else None
        # Deliveries expected per receiver: every line sent in its room,
        # less its own when the server does not echo.
        sentByRoom: dict[str, int] = {}
        for k in senders:
            sentByRoom[self.rooms[k]] = sentByRoom.get(self.rooms[k], 0) + sent[k]
        expected = received = lost = extra = 0
        for k in range(n):
            if k == slowK or self.state[k] != DONE:
                continue
            want = sentByRoom.get(self.rooms[k], 0)
            if not dialect.echo and k in sent:
                want -= sent[k]
            expected += want
            received += counts[k]
            if counts[k] < want:
                lost += want - counts[k]
            else:
                extra += counts[k] - want
        slowResult = None
        if slow:
            slowResult = {
                "disconnected": socks[slowK] is None or self.tcpState(slowK) == TCP_CLOSE,
                "at": next((t for i, t in disconnects if i == slow["index"]), None),
                "stoppedAt": slow["stopAfter"],
            }
        seconds = t1 - t0
        emit(
            event="result",
            seconds=seconds,
            deliveries=(mark1 - mark0) if mark1 is not None else 0,
            deliveriesPerSecond=((mark1 - mark0) / seconds) if mark1 is not None else 0,
            messagesPerSecond=(sent1 - sent0) / seconds,
            sent=sum(sent.values()),
            sendBlocked=blocked,
            expected=expected,
            received=received,
            lost=lost,
            extra=extra,
            latency=percentiles(latencies),
            latencyAfterStop=percentiles(latenciesAfter) if slow else None,
            generatorCpu=(own1 - own0) / seconds,
            serverCpu=(server1 - server0) / seconds,
            # Its main thread (the reactor) and its other threads, apart.
            serverMainThreadCpu=(threads1[0] - threads0[0]) / seconds if mark1 is not None else None,
            serverOtherThreadsCpu=(threads1[1] - threads0[1]) / seconds if mark1 is not None else None,
            rssBefore=rss0,
            rssMax=max(r for _, r in rssTrace),
            rssTrace=rssTrace,
            disconnects=disconnects,
            slow=slowResult,
            drainSeconds=time.monotonic() - t1,
            sendingSeconds=sendTimes[1] - sendTimes[0],
            firstSend=sendTimes[0],
            lastDelivery=lastDelivery[0] / 1e6,
            trackerReceived=counts[tracker] if tracker is not None else None,
            storeWatch=storeWatch,
        )

    def allArrived(self, counts: list[int], sent: dict[int, int], senders: list[int], slowK: int | None) -> bool:
        byRoom: dict[str, int] = {}
        for k in senders:
            byRoom[self.rooms[k]] = byRoom.get(self.rooms[k], 0) + sent[k]
        echo = self.dialect.echo
        for k in range(self.count):
            if k == slowK or self.socks[k] is None:
                continue
            want = byRoom.get(self.rooms[k], 0)
            if not echo and k in sent:
                want -= sent[k]
            if counts[k] < want:
                return False
        return True

    def tcpState(self, k: int) -> int:
        sock = self.socks[k]
        if sock is None:
            return TCP_CLOSE
        return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]

    def close(self) -> None:
        for k in range(self.count):
            sock = self.socks[k]
            if sock is not None:
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET)
                except OSError:
                    pass
                sock.close()
                self.socks[k] = None
        emit(event="closed")


def main() -> None:
    plan = json.loads(sys.stdin.readline())
    generator = Generator(plan)
    emit(event="loaded", pid=os.getpid())
    while True:
        command = generator.nextCommand()
        if command == "register":
            generator.register()
        elif command == "go":
            generator.measure()
        elif command == "close":
            generator.close()
            return


if __name__ == "__main__":
    main()
