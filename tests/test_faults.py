"""
A fault test against the real twistd: a few hundred clients for a bounded
time, connecting, chatting, sending garbage and over-long or half lines,
invalid UTF-8, and vanishing mid-line or with a reset, many at once.

Afterwards the server still answers, the room holds exactly the clients
still connected, every line the server accepted reached every member
connected throughout, exactly once, and memory is reported before, at its
peak and after.
"""

import os
import random
import re
import socket
import struct
import time
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from tests.harness import LineClient, ServerProcess

SESSIONS = 300
AT_ONCE = 40
DEADLINE = 25.0
OBSERVERS = 3
MAX_LINE_BYTES = 2048
# A chat line from a chaos client: its nickname, a colon, a space.
CHAOS_CHAT = re.compile(r"chaos\d+: ")
# Fixed, so that a run is repeatable; CHATSVC_FAULT_SEED tries another.
SEED = int(os.environ.get("CHATSVC_FAULT_SEED", "20261124"))


def memory(pid: int) -> dict[str, int]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


def sayable(data: bytes) -> int:
    """
    How many of the lines in C{data} the native protocol says to the room:
    those of at most 2048 bytes that are UTF-8, not blank, and not commands
    (a line that starts with C{//} is said).
    """
    count = 0
    for line in data.split(b"\n")[:-1]:
        line = line.removesuffix(b"\r")
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if len(line) > MAX_LINE_BYTES or not text.strip(" \t"):
            continue
        if text.startswith("/") and not text.startswith("//"):
            continue
        count += 1
    return count


class Chaos:
    """
    One misbehaving (or well-behaved) client, driven a step at a time so
    that many are open at once from one thread.
    """

    KINDS = ["chat", "chat", "chat", "garbage", "toolong", "halfline", "badutf8", "reset", "silent"]

    def __init__(self, port: int, number: int, rng: random.Random) -> None:
        self.number = number
        self.kind = rng.choice(self.KINDS)
        self.rng = rng
        self.client = LineClient(port)
        self.token = f"t{number}x{rng.randrange(10**6)}"
        self.accepted: list[str] = []

    def run(self) -> None:
        client = self.client
        kind = self.kind
        client.expect("NICK")
        if kind == "silent":
            client.close()
            return
        client.sendLine(f"chaos{self.number}")
        client.expect("Connected to server!")
        if kind == "chat":
            for index in range(self.rng.randint(1, 3)):
                text = f"{self.token}-{index}"
                client.sendLine(text)
                client.readUntil(f"chaos{self.number}: {text}")
                self.accepted.append(f"chaos{self.number}: {text}")
            client.sendLine("/quit")
            client.readUntilClosed()
        elif kind == "garbage":
            garbage = bytes(self.rng.randrange(256) for _ in range(300)) + b"\n"
            client.send(garbage)
            # Random bytes hold a line break now and then, and what lies
            # between two may be a line the server rightly says to the room
            # (a lone "\x02" is shown as "␂"): the sender hears its own
            # lines, so a marker shows which, and there must be as many as
            # the protocol predicts.
            me = f"chaos{self.number}: "
            marker = f"{self.token}-end"
            client.sendLine(marker)
            said = [line for line in client.readUntil(me + marker) if line.startswith(me)]
            if len(said) != sayable(garbage):
                raise AssertionError(
                    f"{garbage!r} holds {sayable(garbage)} sayable lines, "
                    f"the server said {said!r}"
                )
            self.accepted.extend([*said, me + marker])
            client.close()
        elif kind == "toolong":
            client.send(b"y" * 5000 + b"\n" + b"z" * 3000)
            client.close()
        elif kind == "halfline":
            client.send(f"{self.token} never finished".encode())
            client.close()
        elif kind == "badutf8":
            client.send(b"\xc3\x28 bad\n")
            client.close()
        elif kind == "reset":
            client.send(b"half a line before the reset")
            client.socket.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            client.close()


class FaultTests(SynchronousTestCase):
    def test_chaos(self) -> None:
        """
        The server survives chaos with its registry, its deliveries and its
        memory intact.
        """
        workdir = Path(self.mktemp()).resolve()
        server = ServerProcess("--max-per-address", "1000")
        server.start(str(workdir))
        self.addCleanup(server.stop)
        pid = server.process.pid
        observers = []
        for number in range(OBSERVERS):
            observer = LineClient(server.port)
            observer.register(f"steady{number}")
            observers.append(observer)
        time.sleep(0.2)
        before = memory(pid)

        rng = random.Random(SEED)
        started = time.monotonic()
        accepted: list[str] = []
        kinds: dict[str, int] = {}
        sessions = 0
        while sessions < SESSIONS and time.monotonic() - started < DEADLINE:
            batch = [Chaos(server.port, sessions + n, rng) for n in range(AT_ONCE)]
            sessions += len(batch)
            for chaos in batch:
                kinds[chaos.kind] = kinds.get(chaos.kind, 0) + 1
                chaos.run()
                accepted.extend(chaos.accepted)
            # Keep the observers' buffers from filling while chaos goes on.
            for observer in observers:
                observer.catchUp()
        peak = memory(pid)

        # Every accepted line reached every observer, once and in order.
        observers[0].sendLine("end-of-chaos")
        for observer in observers:
            seen = observer.readUntil("steady0: end-of-chaos")
            chat = [line for line in seen if CHAOS_CHAT.match(line)]
            self.assertEqual(chat, accepted)

        # The room holds exactly the observers, once the last leaves are in.
        deadline = time.monotonic() + 10
        while True:
            observers[0].sendLine("/who")
            who = observers[0].readLine()
            while not who.startswith("In room lobby"):
                who = observers[0].readLine()
            if who == "In room lobby (3): steady0, steady1 and steady2":
                break
            self.assertLess(time.monotonic(), deadline, who)
            time.sleep(0.2)

        # The server still answers newcomers.
        probe = LineClient(server.port)
        probe.register("latecomer")
        probe.close()
        after = memory(pid)
        self.assertEqual(server.process.poll(), None)
        self.assertNotIn(b"Traceback", server.output)
        # Python keeps freed memory for reuse, so "near its starting level"
        # means within a few MB, not the same page count.
        self.assertLess(after["VmRSS"] - before["VmRSS"], 20_000, (before, peak, after))
        print(
            f"\nfault test: {sessions} sessions {kinds}, {len(accepted)} lines accepted "
            f"and delivered to {OBSERVERS} observers; RSS KiB before {before['VmRSS']}, "
            f"peak {peak['VmHWM']}, after {after['VmRSS']}"
        )


class SlowReaderTests(SynchronousTestCase):
    # What a reader that stopped may cost the server: its send queue (1 MiB)
    # and the transport's 64 KiB, plus the transient cost of 3 MB of chat
    # passing through, with room to spare.
    BOUND_KIB = 16 * 1024

    def test_slowReaderCutOffMemoryBounded(self) -> None:
        """
        A client that stops reading in a busy room is cut off at the
        send-queue limit, the others get every line, and the server's memory
        stays within the stated bound.
        """
        workdir = Path(self.mktemp()).resolve()
        server = ServerProcess()
        server.start(str(workdir))
        self.addCleanup(server.stop)
        pid = server.process.pid
        watcher = LineClient(server.port)
        watcher.register("Watcher")
        sleeper = LineClient(server.port, receiveBuffer=4096)
        sleeper.register("Sleeper")
        sender = LineClient(server.port)
        sender.register("Sender")
        time.sleep(0.2)
        before = memory(pid)
        line = "x" * 2000
        for batch in range(100):
            sender.send((line + "\n").encode() * 50)
            # Both readers that keep up read what has come so far (the sender
            # hears its own lines too).
            for reader in (watcher, sender):
                reader.catchUp()
        sender.sendLine("done")
        seen = watcher.readUntil("Sender: done")
        self.assertEqual(seen.count(f"Sender: {line}"), 5000)
        self.assertTrue("Sleeper left the chat." in seen, "the sleeper was not cut off")
        peak = memory(pid)
        self.assertLess(peak["VmHWM"] - before["VmRSS"], self.BOUND_KIB, (before, peak))
        print(
            f"\nslow reader: cut off while {5000 * 2008 // 1024} KiB went to the room; "
            f"RSS KiB before {before['VmRSS']}, peak {peak['VmHWM']} (bound +{self.BOUND_KIB})"
        )
