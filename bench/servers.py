"""
The servers under test, each started fresh on a free loopback port.

 - C{chatsvc}: C{twistd -n chat}, this checkout, native protocol, history
   in memory (C{--store memory}): the core, without a disk;
 - C{chatsvc-irc}: the same server through its IRC front-end
   (C{--irc-port}), when this checkout has one;
 - C{chatsvc-web}: the same server through the page's WebSocket
   (C{--web-port}, C{/chat}), when this checkout has one;
 - C{chatsvc-sqlite}: C{chatsvc} with the default store, a SQLite file in
   the run's directory, when this checkout keeps history;
 - C{threaded}: the classic threaded original (C{baselines/threaded.py});
 - C{words}: Twisted's C{twistd words} (C{baselines/words.py}), IRC;
 - C{ngircd}, C{inspircd}: two IRC servers in C, from their Debian packages
   (installed by L{packages}, configured by L{ircds}).

Every server listens on 127.0.0.1 only, is pinned to one core with
C{taskset} when the machine has two or more, writes its output to a log file
(never a pipe), and is stopped by its own process handle: SIGTERM, then
SIGKILL after a deadline.
"""

from __future__ import annotations

import os
import pwd
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import ircds
from packages import DAEMONS

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
# The checkout's helpers, whichever chatsvc is installed.
sys.path.insert(0, str(ROOT))

from chatsvc.testing import dieWithParent, freePort, twistdCommand  # noqa: E402

PASSWORD = "pw"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


def pinned(cpu: int | None) -> list[str]:
    """
    A C{taskset} prefix that pins a command to C{cpu}, or nothing.
    """
    if cpu is None or shutil.which("taskset") is None:
        return []
    return ["taskset", "-c", str(cpu)]


def hasIrcFrontEnd() -> bool:
    """
    Whether this checkout's C{twistd chat} takes C{--irc-port}.
    """
    return "irc-port" in (ROOT / "chatsvc" / "tap.py").read_text()


def hasWebFrontEnd() -> bool:
    """
    Whether this checkout's C{twistd chat} takes C{--web-port}.
    """
    return "web-port" in (ROOT / "chatsvc" / "tap.py").read_text()


def hasHistory() -> bool:
    """
    Whether this checkout's C{twistd chat} keeps history (C{--store}).
    """
    return '"store"' in (ROOT / "chatsvc" / "tap.py").read_text()


def historyOptions(store: str) -> list[str]:
    """
    C{--store STORE --replay 0}, where the checkout keeps history.

    No replay by default: a client joining a room would be shown its last
    lines, which only S7 measures (it adds C{--replay 20} to its case).
    """
    if not hasHistory():
        return []
    return ["--store", store, "--replay", "0"]


def limitOptions() -> list[str]:
    """
    Options that lift C{twistd chat}'s connection limits, where it has them.

    Every benchmark client comes from a handful of loopback addresses, and
    S3 holds ~20,000 at once: the defaults (100 per address, 10,000 in all)
    are for the Internet, not for this.
    """
    options = (ROOT / "chatsvc" / "tap.py").read_text()
    lifted = []
    if '"max-connections"' in options:
        lifted += ["--max-connections", "100000"]
    if '"max-per-address"' in options:
        lifted += ["--max-per-address", "100000"]
    if '"flood-rate"' in options:
        lifted += ["--flood-burst", "1000000", "--flood-rate", "1000000"]
    return lifted


class Server:
    """
    One kind of server; L{start} runs a fresh one, L{stop} ends it.

    @cvar dialect: what the generator speaks to it.
    @cvar window: at most this many registrations in flight at once (below
        the server's listen backlog, so no SYN is dropped and retried).
    @cvar rooms: whether it has rooms other than the one everyone is in.
    @cvar package: the Debian package it comes from, if any (L{packages}).
    """

    name = ""
    label = ""
    package: str | None = None
    dialect = "native"
    password: str | None = None
    window = 500
    rooms = True

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.logPath: Path | None = None
        self.wrapper: list[str] = []
        # Options a scenario's case adds to the command (chatsvc only).
        self.options: list[str] = []

    @property
    def storePath(self) -> Path | None:
        """
        The SQLite file the server keeps its history in, if any.
        """
        return None

    def command(self, workdir: Path, users: int, rooms: list[str]) -> list[str]:
        raise NotImplementedError()

    @property
    def pid(self) -> int:
        """
        The server's own process (not C{taskset}'s or a profiler's).
        """
        assert self.process is not None
        if not self.wrapper:
            return self.process.pid
        # A profiler wrapper starts the server as its child.
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            pids = children.read_text().split()
            if pids:
                return int(pids[0])
            time.sleep(0.05)
        raise RuntimeError("the profiled server has no process")

    def start(
        self,
        workdir: Path,
        cpu: int | None,
        users: int = 0,
        rooms: list[str] = (),
        options: list[str] = (),
    ) -> None:
        self.port = freePort()
        self.options = list(options)
        workdir.mkdir(parents=True, exist_ok=True)
        self.logPath = workdir / f"{self.name}.log"
        environment = dict(os.environ)
        environment["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(ROOT), environment.get("PYTHONPATH")])
        )
        with open(self.logPath, "wb") as log:
            self.process = subprocess.Popen(
                [*pinned(cpu), *self.wrapper, *self.command(workdir, users, list(rooms))],
                cwd=workdir,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=dieWithParent,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.logTail()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"{self.name} did not start listening")
                time.sleep(0.05)
        # Let the server finish with the probe connection (the threaded
        # original waits for its nickname until it sees the close).
        time.sleep(0.3)

    def logTail(self, lines: int = 20) -> str:
        if self.logPath is None or not self.logPath.exists():
            return ""
        return "\n".join(self.logPath.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def tracebacks(self) -> int:
        if self.logPath is None or not self.logPath.exists():
            return 0
        return self.logPath.read_bytes().count(b"Traceback")


class Chatsvc(Server):
    """
    C{twistd chat}, history in memory: nothing on disk, as the core issue's
    targets were set.
    """

    name = "chatsvc"
    label = "chatsvc (native)"
    store = "memory"

    def command(self, workdir: Path, users: int, rooms: list[str]) -> list[str]:
        return [
            *twistdCommand(),
            "--pidfile=",
            "-n",
            "chat",
            "--port",
            f"tcp:{self.port}:interface=127.0.0.1",
            *limitOptions(),
            *historyOptions(self.storeOption(workdir)),
            *self.options,
        ]

    def storeOption(self, workdir: Path) -> str:
        return self.store


class ChatsvcSqlite(Chatsvc):
    """
    The same server with its default store: a SQLite file, here a fresh
    one in the run's directory (every line committed before delivery).
    """

    name = "chatsvc-sqlite"
    label = "chatsvc (native, SQLite)"
    store = "sqlite"
    _path: Path | None = None

    @property
    def storePath(self) -> Path | None:
        return self._path

    def storeOption(self, workdir: Path) -> str:
        self._path = workdir / "history.sqlite3"
        # A fresh file for every run (the journal's files with it).
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self._path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:{self._path}"


class _BehindNative(Chatsvc):
    """
    The same server, measured through another front-end (C{frontEnd}, the
    option that makes it listen); the native port listens too, on a port
    nobody uses.
    """

    frontEnd = ""

    def command(self, workdir: Path, users: int, rooms: list[str]) -> list[str]:
        nativePort = freePort()
        return [
            *twistdCommand(),
            "--pidfile=",
            "-n",
            "chat",
            "--port",
            f"tcp:{nativePort}:interface=127.0.0.1",
            self.frontEnd,
            f"tcp:{self.port}:interface=127.0.0.1",
            *limitOptions(),
            *historyOptions("memory"),
            *self.options,
        ]


class ChatsvcIrc(_BehindNative):
    """
    The same server, measured through its IRC front-end; the native port
    listens too, on a port nobody uses.
    """

    name = "chatsvc-irc"
    label = "chatsvc (IRC)"
    dialect = "irc"
    frontEnd = "--irc-port"


class ChatsvcWeb(_BehindNative):
    """
    The same server, measured through the page's WebSocket (C{/chat} on
    C{--web-port}); the native port listens too, on a port nobody uses.
    The bench probes the web port as it does any other, with a TCP
    connection that sends nothing (twisted.web closes it when it closes).
    """

    name = "chatsvc-web"
    label = "chatsvc (page's WebSocket)"
    dialect = "page"
    frontEnd = "--web-port"


class Threaded(Server):
    name = "threaded"
    label = "threaded original"
    # Its accept loop does each handshake before the next accept, and it
    # listens with Python's default backlog (128).
    window = 100
    rooms = False

    def command(self, workdir: Path, users: int, rooms: list[str]) -> list[str]:
        return [sys.executable, str(BENCH / "baselines" / "threaded.py"), "--port", str(self.port)]


class Words(Server):
    name = "words"
    label = "twistd words (IRC)"
    dialect = "irc"
    password = PASSWORD

    def command(self, workdir: Path, users: int, rooms: list[str]) -> list[str]:
        accounts = workdir / "words-accounts"
        accounts.write_text(":".join(f"u{i}:{PASSWORD}" for i in range(max(users, 1))))
        groups = []
        for room in ["lobby", *rooms]:
            groups += ["--group", room]
        return [
            sys.executable,
            str(BENCH / "baselines" / "words.py"),
            "--pidfile=",
            "-n",
            "words",
            "--irc-port",
            f"tcp:{self.port}:interface=127.0.0.1:backlog=1024",
            "--auth",
            f"memory:@{accounts}",
            *groups,
        ]


class NgIrcd(Server):
    """
    ngircd, a single-threaded IRC server in C (one C{epoll} loop).
    """

    name = "ngircd"
    label = "ngircd (IRC, C)"
    dialect = "irc"
    package = "ngircd"
    # It listens with a backlog of 10 whatever it is configured to do.
    window = 10
    runtime: Path | None = None

    def command(self, workdir: Path, users: int, rooms: list[str]) -> list[str]:
        # Its PID file is written after it has become nobody, so it goes
        # to a directory of its own (the run's is readable by root only).
        self.runtime = Path(tempfile.mkdtemp(prefix="chatsvc-bench-ngircd-"))
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(self.runtime, nobody.pw_uid, nobody.pw_gid)
        config = workdir / "ngircd.conf"
        config.write_text(ircds.ngircdConfig(self.runtime, self.port))
        return [DAEMONS["ngircd"], "--nodaemon", "--config", str(config)]

    def stop(self) -> None:
        super().stop()
        if self.runtime is not None:
            shutil.rmtree(self.runtime, ignore_errors=True)


class InspIrcd(Server):
    """
    InspIRCd 3, a single-threaded IRC server in C++.

    It completes a registration in its once-a-second housekeeping, so every
    handshake waits for the next tick: the generator keeps up to 4,000 in
    flight (its backlog is 4,096), or S3 would measure the tick rather than
    the server.
    """

    name = "inspircd"
    label = "InspIRCd (IRC, C++)"
    dialect = "irc"
    package = "inspircd"
    window = 4000

    def command(self, workdir: Path, users: int, rooms: list[str]) -> list[str]:
        config = workdir / "inspircd.conf"
        softlimit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        config.write_text(ircds.inspircdConfig(workdir, self.port, softlimit))
        command = [DAEMONS["inspircd"], "--nofork", "--config", str(config)]
        # It refuses to run as root unless told to.
        return command + (["--runasroot"] if os.geteuid() == 0 else [])


SERVERS = {
    kind.name: kind
    for kind in (Chatsvc, ChatsvcIrc, ChatsvcSqlite, ChatsvcWeb, Threaded, Words, NgIrcd, InspIrcd)
}
