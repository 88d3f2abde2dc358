"""
The login generator of S8: registers accounts, then attempts logins at a
fixed rate, each on a connection of its own, over the native protocol.

Usage (normally started by C{bench/run.py}): python bench/logins.py

Like C{loadgen.py} it reads a JSON plan as its first line of standard
input, then obeys one command a line and answers each with one JSON line:

 - C{accounts}: register accounts C{acct0} .. C{acct<n-1>} (C{NICK},
   C{/register <password>}, C{The account ... is registered.}), a few at a
   time, from loopback source addresses of their own (at most
   C{perAddress} registrations from each: the server counts them against
   the address); answers C{accounts};
 - C{go}: answers C{started}, then starts C{count} login attempts at
   C{rate} a second, open loop (each at its fixed time, whatever the
   answers), attempt I{i} on account I{i mod n} from source address
   I{i mod sources}, every C{wrongEvery}-th one with a wrong password;
   answers C{result} once every attempt has its answer, or at C{deadline}
   seconds after the first;
 - C{close}: answers C{closed} and exits (so does the end of input).

An attempt: C{NICK} → the account's name → C{PASS <name>} → the password
→ one of C{Connected to server!} (succeeded), C{! The name ... do not
match.} (wrong password), C{! Too many login attempts; try again in 1
second.} (refused as busy: the server's hashing queue was full), another
C{! Too many login attempts ...} (refused by the per-account or
per-address limit), another error, or the connection closed.  The time
from the password sent to that answer is each attempt's latency.

Standard library only; one thread, C{select.epoll}.
"""

from __future__ import annotations

import errno
import json
import os
import select
import socket
import sys
import time

from loadgen import Commands, emit, ownCpu, percentiles

IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)
IN = select.EPOLLIN
OUT = select.EPOLLOUT

# What an attempt ends with.
SUCCEEDED = "succeeded"
WRONG = "wrongPassword"
BUSY = "refusedBusy"
LIMITED = "refusedLimit"
OTHER = "otherError"
CLOSED = "closed"
UNANSWERED = "unanswered"
OUTCOMES = (SUCCEEDED, WRONG, BUSY, LIMITED, OTHER, CLOSED, UNANSWERED)


def outcome(line: bytes) -> str | None:
    """
    What a server line says of a login attempt, or C{None} if it says
    nothing yet.
    """
    if line == b"Connected to server!":
        return SUCCEEDED
    if not line.startswith(b"! "):
        return None
    if b"do not match" in line:
        return WRONG
    if line.startswith(b"! Too many login attempts"):
        # The hashing queue refuses with "retry in a second"; the limits say
        # when their window lets the next attempt in, rarely so soon.
        return BUSY if line.endswith(b" 1 second.") else LIMITED
    return OTHER


class Connection:
    """
    One scripted client: a registration or a login attempt.
    """

    def __init__(self, index: int, name: str, password: str, register: bool) -> None:
        self.index = index
        self.name = name
        self.password = password
        self.register = register
        self.sock: socket.socket | None = None
        self.buffer = b""
        self.started = 0.0
        self.passwordSent = 0.0
        self.answered = 0.0
        self.result: str | None = None
        self.detail = b""


class Logins(Commands):
    def __init__(self, plan: dict) -> None:
        self.plan = plan
        self.address = (plan["host"], plan["port"])
        self.poll = select.epoll()
        self.byFd: dict[int, Connection] = {}
        self.listenForCommands(self.poll)

    # Commands

    def nextCommand(self) -> str:
        while not self.commands:
            for fd, _ in self.poll.poll(0.1):
                if fd == self.stdin:
                    self.readCommands()
        return self.commands.pop(0)

    # Connections

    def open(self, c: Connection, source: str) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
        sock.bind((source, 0))
        c.started = time.monotonic()
        code = sock.connect_ex(self.address)
        if code not in (0, errno.EINPROGRESS):
            sock.close()
            self.finish(c, CLOSED, f"connect: {errno.errorcode.get(code, code)}".encode())
            return
        c.sock = sock
        self.byFd[sock.fileno()] = c
        self.poll.register(sock.fileno(), IN)

    def finish(self, c: Connection, result: str, detail: bytes = b"") -> None:
        if c.result is not None:
            return
        c.result = result
        c.detail = detail
        c.answered = time.monotonic()
        if c.sock is not None:
            fd = c.sock.fileno()
            self.poll.unregister(fd)
            del self.byFd[fd]
            c.sock.close()
            c.sock = None

    def readable(self, c: Connection) -> None:
        try:
            data = c.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            data = b""
            c.detail = type(e).__name__.encode()
        if not data:
            self.finish(c, CLOSED, c.detail or c.buffer[-80:])
            return
        c.buffer += data
        while c.result is None and b"\n" in c.buffer:
            line, c.buffer = c.buffer.split(b"\n", 1)
            self.lineReceived(c, line.rstrip(b"\r"))

    def lineReceived(self, c: Connection, line: bytes) -> None:
        send = c.sock.send
        if line == b"NICK" and not c.passwordSent:
            send(c.name.encode() + b"\n")
        elif c.register:
            if line == b"Connected to server!":
                send(f"/register {c.password}\n".encode())
            elif line == f"The account {c.name} is registered.".encode():
                self.finish(c, SUCCEEDED)
            elif line.startswith(b"! "):
                self.finish(c, OTHER, line)
        elif line == f"PASS {c.name}".encode():
            c.passwordSent = time.monotonic()
            send(c.password.encode() + b"\n")
        elif c.passwordSent:
            result = outcome(line)
            if result is not None:
                self.finish(c, result, line)
        elif line.startswith(b"! "):
            self.finish(c, OTHER, line)

    def pump(self, timeout: float) -> None:
        for fd, _ in self.poll.poll(timeout):
            if fd == self.stdin:
                self.readCommands()
                continue
            c = self.byFd.get(fd)
            if c is not None:
                self.readable(c)

    # The two phases

    def accounts(self) -> None:
        """
        Register every account, at most C{registerWindow} at a time.
        """
        plan = self.plan
        n = plan["accounts"]
        sources = plan["registerSources"]
        perAddress = plan["perAddress"]
        window = plan.get("registerWindow", 20)
        deadline = time.monotonic() + plan.get("registerDeadline", 120.0)
        begin = time.monotonic()
        pending = [Connection(k, f"acct{k}", plan["password"], register=True) for k in range(n)]
        waiting = list(reversed(pending))
        inFlight: list[Connection] = []
        cpu0 = ownCpu()
        while (waiting or inFlight) and time.monotonic() < deadline and "close" not in self.commands:
            while waiting and len(inFlight) < window:
                c = waiting.pop()
                self.open(c, sources[c.index // perAddress])
                inFlight.append(c)
            self.pump(0.05)
            inFlight = [c for c in inFlight if c.result is None]
        for c in inFlight:
            self.finish(c, UNANSWERED)
        failures: dict[str, int] = {}
        for c in pending:
            if c.result != SUCCEEDED:
                why = f"{c.result}: {c.detail.decode('utf-8', 'replace')[:80]}"
                failures[why] = failures.get(why, 0) + 1
        emit(
            event="accounts",
            registered=sum(c.result == SUCCEEDED for c in pending),
            seconds=time.monotonic() - begin,
            failures=failures,
            generatorCpu=ownCpu() - cpu0,
        )

    def go(self) -> None:
        """
        C{count} login attempts at C{rate} a second, open loop.
        """
        plan = self.plan
        n = plan["accounts"]
        rate = plan["rate"]
        count = plan["count"]
        sources = plan["loginSources"]
        wrongEvery = plan.get("wrongEvery", 0)
        attempts = [
            Connection(
                i,
                f"acct{i % n}",
                plan["wrongPassword"] if wrongEvery and i % wrongEvery == wrongEvery - 1 else plan["password"],
                register=False,
            )
            for i in range(count)
        ]
        emit(event="started")
        cpu0 = ownCpu()
        begin = time.monotonic()
        deadline = begin + plan["deadline"]
        late = 0.0
        opened = 0
        while time.monotonic() < deadline and "close" not in self.commands:
            now = time.monotonic()
            while opened < count and begin + opened / rate <= now:
                late = max(late, now - (begin + opened / rate))
                self.open(attempts[opened], sources[opened % len(sources)])
                opened += 1
            if opened == count and not self.byFd:
                break
            due = begin + opened / rate if opened < count else deadline
            self.pump(max(0.0, min(0.05, due - time.monotonic())))
        end = time.monotonic()
        for c in attempts[:opened]:
            self.finish(c, UNANSWERED)
        counts = {name: 0 for name in OUTCOMES}
        latency: dict[str, list[int]] = {name: [] for name in OUTCOMES}
        details: dict[str, int] = {}
        for c in attempts[:opened]:
            counts[c.result] += 1
            if c.passwordSent and c.result != UNANSWERED:
                latency[c.result].append(int((c.answered - c.passwordSent) * 1e6))
            if c.result in (OTHER, CLOSED):
                why = c.detail.decode("utf-8", "replace")[:80]
                details[why] = details.get(why, 0) + 1
        # The server checks one password at a time: while its queue is
        # never empty, the gap between answers is one verification.
        verified = sorted(
            c.answered for c in attempts[:opened] if c.result in (SUCCEEDED, WRONG)
        )
        emit(
            event="result",
            attempted=opened,
            planned=count,
            rate=rate,
            sendingSeconds=(opened - 1) / rate if opened else 0.0,
            latestStart=late,
            seconds=end - begin,
            counts=counts,
            details=details,
            latency={name: percentiles(values) for name, values in latency.items() if values},
            verified=len(verified),
            verifiedFirst=(verified[0] - begin) if verified else None,
            verifiedLast=(verified[-1] - begin) if verified else None,
            generatorCpu=(ownCpu() - cpu0) / max(end - begin, 1e-9),
        )

    def close(self) -> None:
        for c in list(self.byFd.values()):
            self.finish(c, UNANSWERED)
        emit(event="closed")


def main() -> None:
    plan = json.loads(sys.stdin.readline())
    logins = Logins(plan)
    emit(event="loaded", pid=os.getpid())
    while True:
        command = logins.nextCommand()
        if command == "accounts":
            logins.accounts()
        elif command == "go":
            logins.go()
        elif command == "close":
            logins.close()
            return


if __name__ == "__main__":
    main()
