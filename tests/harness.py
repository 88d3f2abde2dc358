"""
Integration-test support: the real C{twistd -n chat} in a subprocess, and
plain blocking TCP clients that talk to it as C{nc} would.

Everything here listens and connects on 127.0.0.1 only, stops only the
processes it started (by their own handle), and bounds every wait by
L{TIMEOUT}.
"""

from __future__ import annotations

import atexit
import os
import re
import signal
import socket
import struct
import subprocess
import tempfile
import time
from contextlib import contextmanager
from itertools import count
from pathlib import Path
from typing import Iterator

from twisted.trial.unittest import SynchronousTestCase

from chatsvc.testing import dieWithParent, twistdCommand

TIMEOUT = 10.0

GOODBYE = "The server is shutting down. Goodbye!"


# How each front-end says where it listens (chatsvc.tap.AnnouncedEndpoint),
# after twistd's timestamp and log namespace.
ANNOUNCEMENT = re.compile(rb"\] (native|irc|web) listening on (\S+)\r?\n")
LOOPBACK = re.compile(rb"127\.0\.0\.1:(\d+)")


def residentMemory(pid: int) -> dict[str, int]:
    """
    How much memory process C{pid} holds, in KiB, as C{/proc} tells it:
    C{VmRSS} (resident now), C{VmHWM} (the most it has been resident), and
    the two parts of C{VmRSS} that matter here, C{RssAnon} (the heap: what
    the server's tables cost) and C{RssFile} (mapped files: code, and any
    database pages).
    """
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            values[key] = int(rest.split()[0])
    return values


class ServerProcess:
    """
    C{twistd -n chat} on loopback ports the system picks, its output kept
    for asserts.

    Every front-end listens on port 0 of 127.0.0.1 unless the arguments say
    otherwise (a later C{--port} or C{--irc-port} wins), and the real ports
    are read from the lines the server logs once it listens.  No port is
    ever chosen by binding and releasing it, which another process could
    take in between.

    The output goes to a file in the working directory rather than a pipe,
    so a chatty server can never block on a pipe nobody reads, and a test
    may look at the log while the server runs.

    @ivar port: the native front-end's port, once started.
    @ivar ircPort: the IRC front-end's port, once started, if it has one.
    @ivar webPort: the web site's port, likewise.
    """

    def __init__(
        self,
        *arguments: str,
        environ: dict[str, str] | None = None,
        irc: bool = False,
        floodControl: bool = False,
        web: bool = False,
    ) -> None:
        """
        @param irc: whether the IRC front-end listens too (on a port of its
            own, also picked by the system).
        @param web: whether the web site listens too (likewise).
        @param floodControl: whether the server keeps its own flood control
            (the defaults, or what C{arguments} set); otherwise it is lifted,
            because tests send in bursts.
        """
        if irc:
            arguments = (*arguments, "--irc-port", "tcp:0:interface=127.0.0.1")
        if web:
            arguments = (*arguments, "--web-port", "tcp:0:interface=127.0.0.1")
        if not floodControl:
            arguments = ("--flood-burst", "1000000", "--flood-rate", "1000000", *arguments)
        # Tests share a server per class and expect to hear only each other:
        # no replay on joining, unless a test asks for it (the last one
        # given counts).
        arguments = ("--replay", "0", *arguments)
        self.arguments = arguments
        self.environ = environ
        self.port: int | None = None
        self.ircPort: int | None = None
        self.webPort: int | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.logPath: Path | None = None
        self._launched = 0.0

    @property
    def output(self) -> bytes:
        """
        Everything the server has written to stdout and stderr so far.
        """
        if self.logPath is None or not self.logPath.exists():
            return b""
        return self.logPath.read_bytes()

    def frontEnds(self) -> set[str]:
        """
        The front-ends the arguments start: native always, IRC when given
        C{--irc-port}, the web site when given C{--web-port}.
        """
        names = {"native"}
        for option, name in (("--irc-port", "irc"), ("--web-port", "web")):
            if any(a == option or a.startswith(option + "=") for a in self.arguments):
                names.add(name)
        return names

    def start(self, workdir: str) -> None:
        """
        Start the server and wait, at most L{TIMEOUT} seconds, until every
        front-end has said where it listens.

        @raise RuntimeError: the server exited, listened beyond loopback, or
            did not say where it listens in time (then it is stopped).
        """
        self.launch(workdir)
        self.waitUntilListening()

    def launch(self, workdir: str) -> None:
        """
        Start the server without waiting for it: several may then start at
        once, each waited for with L{waitUntilListening}.
        """
        environment = dict(os.environ if self.environ is None else self.environ)
        # Let the subprocess import this checkout's chatsvc and plugin first.
        root = str(Path(__file__).resolve().parent.parent)
        environment["PYTHONPATH"] = os.pathsep.join(
            filter(None, [root, environment.get("PYTHONPATH")])
        )
        os.makedirs(workdir, exist_ok=True)
        self.logPath = Path(workdir) / "twistd.log"
        with open(self.logPath, "wb") as log:
            self.process = subprocess.Popen(
                [
                    *twistdCommand(),
                    "--pidfile=",
                    "-n",
                    "chat",
                    "--port",
                    "tcp:0:interface=127.0.0.1",
                    *self.arguments,
                ],
                cwd=workdir,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=dieWithParent,
            )
        self._launched = time.monotonic()

    def waitUntilListening(self) -> None:
        """
        Wait until every front-end of the server L{launch} started has said
        where it listens, at most L{TIMEOUT} seconds from its launch.

        @raise RuntimeError: as L{start} does.
        """
        ports = self._waitForAnnouncements(self._launched + TIMEOUT)
        self.port = ports["native"]
        self.ircPort = ports.get("irc")
        self.webPort = ports.get("web")

    def _waitForAnnouncements(self, deadline: float) -> dict[str, int]:
        assert self.process is not None
        expected = self.frontEnds()
        while True:
            # Read the output before asking whether the server still runs,
            # so that a server that announced and then exited is not missed.
            output = self.output
            exited = self.process.poll() is not None
            ports: dict[str, int] = {}
            for name, where in ANNOUNCEMENT.findall(output):
                match = LOOPBACK.fullmatch(where)
                if match is None:
                    self.stop()
                    raise RuntimeError(
                        f"twistd listens beyond loopback ({where.decode()}):\n"
                        + output.decode()
                    )
                ports[name.decode()] = int(match.group(1))
            if set(ports) >= expected:
                return ports
            if exited:
                raise RuntimeError("twistd exited early:\n" + output.decode())
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"twistd did not say where it listens ({', '.join(sorted(expected))}) "
                    f"within {TIMEOUT} seconds:\n" + output.decode()
                )
            time.sleep(0.02)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """
        Freeze the server (SIGSTOP) for the duration of a C{with} block.

        The kernel still accepts connections and queues what clients send,
        so everything sent meanwhile is waiting at once when it resumes.
        """
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            self.process.send_signal(signal.SIGCONT)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def memory(self) -> dict[str, int]:
        """
        The server's L{residentMemory}, in KiB.
        """
        assert self.process is not None
        return residentMemory(self.process.pid)

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """
        Signal the server, wait for it, and return its exit status.

        A server still running after L{TIMEOUT} seconds is killed.  Safe to
        call again: later calls return the same status.
        """
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            self.process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return self.process.returncode


class LineClient:
    """
    A blocking TCP client reading and writing CRLF/LF lines, like C{nc}.

    @ivar received: every byte read from the server so far, for asserts on
        the raw stream.
    """

    def __init__(
        self,
        port: int,
        timeout: float = TIMEOUT,
        receiveBuffer: int | None = None,
        noDelay: bool = False,
        source: str | None = None,
    ) -> None:
        """
        @param source: the loopback address to connect from, such as
            C{127.0.0.2}, to be another address to the server (Linux routes
            all of 127.0.0.0/8 to loopback).
        """
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if source is not None:
            self.socket.bind((source, 0))
        if receiveBuffer is not None:
            # Before connecting, so that the window offered is small from
            # the start.
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receiveBuffer)
        if noDelay:
            self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.socket.settimeout(timeout)
        self.socket.connect(("127.0.0.1", port))
        self.timeout = timeout
        self.buffer = b""
        self.received = bytearray()

    def send(self, data: bytes) -> None:
        self.socket.sendall(data)

    def sendLine(self, text: str) -> None:
        self.send(text.encode("utf-8") + b"\n")

    def sendInPieces(self, *pieces: bytes, pause: float = 0.05) -> None:
        """
        Send each of C{pieces} in a TCP segment of its own.

        Needs C{noDelay}; the pause lets the server read each piece alone.
        """
        for index, piece in enumerate(pieces):
            if index:
                time.sleep(pause)
            self.send(piece)

    def _receive(self, deadline: float) -> None:
        if time.monotonic() > deadline:
            raise socket.timeout("no complete line before the deadline")
        chunk = self.socket.recv(65536)
        if not chunk:
            raise EOFError(self.buffer)
        self.buffer += chunk
        self.received += chunk

    def catchUp(self) -> None:
        """
        Take in whatever has arrived, without waiting, so that a client that
        is meant to keep up does not become a slow reader while a test sends.
        """
        self.socket.setblocking(False)
        try:
            while True:
                chunk = self.socket.recv(1 << 20)
                if not chunk:
                    break
                self.buffer += chunk
                self.received += chunk
        except BlockingIOError:
            pass
        finally:
            self.socket.settimeout(self.timeout)

    def readLine(self, deadline: float | None = None) -> str:
        """
        The next line, decoded, without its line ending.

        @raise EOFError: the server closed the connection first.
        """
        if deadline is None:
            deadline = time.monotonic() + self.timeout
        while b"\n" not in self.buffer:
            self._receive(deadline)
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8")

    def lineBefore(self, deadline: float) -> str | None:
        """
        The next line, decoded, if it has come by C{deadline} (a
        C{time.monotonic()} value; one already past looks without
        waiting), else C{None}: for a test that listens to several clients
        in turn.

        @raise EOFError: the server closed the connection first.
        """
        while b"\n" not in self.buffer:
            self.socket.settimeout(max(0.0, deadline - time.monotonic()))
            try:
                chunk = self.socket.recv(65536)
            except (BlockingIOError, socket.timeout):
                return None
            finally:
                self.socket.settimeout(self.timeout)
            if not chunk:
                raise EOFError(self.buffer)
            self.buffer += chunk
            self.received += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8")

    def readLines(self, count: int) -> list[str]:
        deadline = time.monotonic() + self.timeout
        return [self.readLine(deadline) for _ in range(count)]

    def expect(self, line: str) -> None:
        """
        Read one line and insist it is C{line}.
        """
        got = self.readLine()
        if got != line:
            raise AssertionError(f"expected {line!r}, got {got!r}")

    def readUntil(self, marker: str) -> list[str]:
        """
        The lines before the next line equal to C{marker}, which is consumed.
        """
        deadline = time.monotonic() + self.timeout
        lines = []
        while True:
            try:
                line = self.readLine(deadline)
            except (EOFError, OSError) as e:
                raise AssertionError(
                    f"no {marker!r} before {type(e).__name__}; got {lines!r}"
                ) from e
            if line == marker:
                return lines
            lines.append(line)

    def register(self, nickname: str, welcome: str = "Connected to server!") -> None:
        self.expect("NICK")
        self.sendLine(nickname)
        self.expect(welcome)

    def readUntilClosed(self) -> list[str]:
        """
        Every line until the server closes the connection.

        A reset counts as a close; an incomplete last line is dropped.
        """
        deadline = time.monotonic() + self.timeout
        lines = []
        while True:
            try:
                lines.append(self.readLine(deadline))
            except (EOFError, ConnectionResetError):
                return lines

    def shutdownWrite(self) -> None:
        """
        Send EOF (as C{nc} does at the end of its input) but keep reading.
        """
        self.socket.shutdown(socket.SHUT_WR)

    def reset(self) -> None:
        """
        Close abortively: the server gets a RST instead of a FIN.
        """
        self.socket.setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
        )
        self.socket.close()

    def close(self) -> None:
        self.socket.close()


def _testNames(testCase: type) -> list[str]:
    return [name for name in dir(testCase) if name.startswith("test")]


class ServerTestCase(SynchronousTestCase):
    """
    Tests that share one running server per class.

    trial has no C{setUpClass}: the first test of a class starts the server
    and the last one stops it (an C{atexit} hook stops it when only some of
    the tests were selected).  After each test every client it opened is
    closed, and the next test waits until the server has processed their
    departures, so that no test hears another's goings.

    @cvar serverArguments: extra C{twistd chat} options for this class.
    @cvar room: the server's default room, as C{--room} names it.
    @cvar irc: whether the server runs its IRC front-end too (on
        C{self.server.ircPort}); then the next test also waits until no IRC
        client, in a channel or not, is left registered.
    @cvar web: whether the server runs its web site too (on
        C{self.server.webPort}).
    """

    serverArguments: tuple[str, ...] = ()
    room = "lobby"
    irc = False
    web = False

    _server: ServerProcess | None = None
    _remaining = 0
    _probes = count()

    @classmethod
    def sharedServer(cls) -> ServerProcess:
        if cls.__dict__.get("_server") is None:
            server = ServerProcess(*cls.serverArguments, irc=cls.irc, web=cls.web)
            # trial runs tests in its own working directory (_trial_temp).
            server.start(
                os.path.abspath(tempfile.mkdtemp(prefix=f"{cls.__name__}-", dir="."))
            )
            atexit.register(server.stop)
            cls._server = server
            cls._remaining = len(_testNames(cls))
        server = cls.__dict__["_server"]
        assert server.running(), "the shared server died:\n" + server.output.decode()
        return server

    @property
    def server(self) -> ServerProcess:
        return self.sharedServer()

    def setUp(self) -> None:
        self.sharedServer()
        self.waitUntilQuiet()

    def tearDown(self) -> None:
        cls = type(self)
        cls._remaining -= 1
        server = cls.__dict__.get("_server")
        if server is None:
            return
        if cls._remaining <= 0:
            cls._server = None
            server.stop()
        # Whatever a test did, the server must never have crashed a handler.
        self.assertNotIn(b"Traceback", server.output)

    def connect(self, nickname: str | None = None, **options: object) -> LineClient:
        """
        A new client, closed after the test; registered if given a nickname.
        """
        client = LineClient(self.server.port, **options)  # type: ignore[arg-type]
        self.addCleanup(client.close)
        if nickname is not None:
            client.register(nickname)
        return client

    def connectAll(self, *nicknames: str) -> list[LineClient]:
        """
        Register clients one after another, each earlier one reading the
        arrival of every later one, so all start with nothing unread.
        """
        clients: list[LineClient] = []
        for nickname in nicknames:
            client = self.connect(nickname)
            for earlier in clients:
                earlier.expect(f"{nickname} joined the chat!")
            clients.append(client)
        return clients

    def waitUntilQuiet(self) -> None:
        """
        Wait until nobody is registered anywhere on the server.

        A probe registers and asks C{/rooms} until it is alone in the
        default room, then quits; nobody is left to hear it.
        """
        probe = LineClient(self.server.port)
        try:
            # In English whatever the server's language.
            probe.sendLine("/lang en")
            probe.expect("NICK")
            probe.readLine()
            probe.sendLine(f"probe{next(self._probes)}")
            probe.expect("Connected to server!")
            alone = f"1 room: {self.room} (1)"
            deadline = time.monotonic() + TIMEOUT
            while True:
                probe.sendLine("/rooms")
                line = probe.readLine(deadline)
                if line == alone:
                    break
                if time.monotonic() > deadline:
                    raise AssertionError(f"the server never got quiet: {line!r}")
                time.sleep(0.02)
            probe.sendLine("/quit")
            probe.readUntilClosed()
        finally:
            probe.close()
        if self.server.ircPort is not None:
            self.waitUntilNoIRCUsers()

    def waitUntilNoIRCUsers(self) -> None:
        """
        Wait until an IRC probe is the only one registered (C{LUSERS}).

        A native probe cannot see IRC clients that are in no channel; this
        one counts everybody.  It joins no channel, so nobody hears it.
        """
        assert self.server.ircPort is not None
        probe = LineClient(self.server.ircPort)
        try:
            name = f"probe{next(self._probes)}"
            probe.sendLine(f"NICK {name}")
            probe.sendLine(f"USER {name} 0 * :probe")
            # Whatever the server calls itself (--irc-name).
            alone = f" 251 {name} :There are 1 users and 0 invisible on 1 servers"
            deadline = time.monotonic() + TIMEOUT
            while True:
                probe.sendLine("LUSERS")
                lines = []
                while not lines or " 266 " not in lines[-1]:
                    lines.append(probe.readLine(deadline))
                if any(line.endswith(alone) for line in lines):
                    break
                if time.monotonic() > deadline:
                    raise AssertionError(f"IRC users never left: {lines!r}")
                time.sleep(0.02)
            probe.sendLine("QUIT")
            probe.readUntilClosed()
        finally:
            probe.close()
