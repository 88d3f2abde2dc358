"""
Integration-test support: the real C{twistd -n chat} in a subprocess, and
plain blocking TCP clients that talk to it as C{nc} would.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

TIMEOUT = 10.0


def freePort() -> int:
    """
    A loopback TCP port that was free a moment ago.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def twistdCommand() -> list[str]:
    """
    How to run this interpreter's twistd, whether or not its script exists.
    """
    script = Path(sys.executable).parent / "twistd"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from twisted.scripts.twistd import run; run()"]


class ServerProcess:
    """
    C{twistd -n chat} on a free loopback port, its output kept for asserts.
    """

    def __init__(self, *arguments: str, environ: dict[str, str] | None = None) -> None:
        self.port = freePort()
        self.arguments = arguments
        self.environ = environ
        self.process: subprocess.Popen[bytes] | None = None
        self.output = b""

    def start(self, workdir: str) -> None:
        environment = dict(os.environ if self.environ is None else self.environ)
        # Let the subprocess import this checkout's chatsvc and plugin first.
        root = str(Path(__file__).resolve().parent.parent)
        environment["PYTHONPATH"] = os.pathsep.join(
            filter(None, [root, environment.get("PYTHONPATH")])
        )
        self.process = subprocess.Popen(
            [
                *twistdCommand(),
                "--pidfile=",
                "-n",
                "chat",
                "--port",
                f"tcp:{self.port}:interface=127.0.0.1",
                *self.arguments,
            ],
            cwd=workdir,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(
                    "twistd exited early:\n" + self.process.stdout.read().decode()
                )
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("twistd did not start listening")
                time.sleep(0.05)

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """
        Signal the server, wait for it, and return its exit status.
        """
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            self.output, _ = self.process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.output, _ = self.process.communicate()
        return self.process.returncode


class LineClient:
    """
    A blocking TCP client reading and writing CRLF/LF lines, like C{nc}.
    """

    def __init__(self, port: int, timeout: float = TIMEOUT) -> None:
        self.socket = socket.create_connection(("127.0.0.1", port), timeout)
        self.socket.settimeout(timeout)
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.socket.sendall(data)

    def sendLine(self, text: str) -> None:
        self.send(text.encode("utf-8") + b"\n")

    def readLine(self) -> str:
        """
        The next line, decoded, without its line ending.

        @raise EOFError: the server closed the connection first.
        """
        while b"\n" not in self.buffer:
            chunk = self.socket.recv(65536)
            if not chunk:
                raise EOFError(self.buffer)
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8")

    def readLines(self, count: int) -> list[str]:
        return [self.readLine() for _ in range(count)]

    def expect(self, line: str) -> None:
        """
        Read one line and insist it is C{line}.
        """
        got = self.readLine()
        if got != line:
            raise AssertionError(f"expected {line!r}, got {got!r}")

    def register(self, nickname: str, welcome: str = "Connected to server!") -> None:
        self.expect("NICK")
        self.sendLine(nickname)
        self.expect(welcome)

    def readUntilClosed(self) -> list[str]:
        """
        Every line until the server closes the connection.
        """
        lines = []
        while True:
            try:
                lines.append(self.readLine())
            except EOFError:
                return lines

    def close(self) -> None:
        self.socket.close()
