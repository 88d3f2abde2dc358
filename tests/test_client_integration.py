"""
The real client, C{python -m chatsvc.client}, against the real server.

Each client is a subprocess: through pipes (as a script would run it) or on
a pseudo-terminal (as a person would), its output read with deadlines.  The
other end of a conversation is usually a plain line client
(L{tests.harness.LineClient}), as an C{nc} user would be.  Every wait is
bounded by L{TIMEOUT}; a client still running at the end of a test is
killed.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import socket
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from chatsvc.client.testing import Screen
from tests.harness import TIMEOUT, LineClient, ServerProcess, ServerTestCase

ROOT = str(Path(__file__).resolve().parent.parent)
PROMPT_EN = "Choose your nickname: "
PROMPT_PL = "Wybierz swój pseudonim: "


def clientEnvironment(**variables: str) -> dict[str, str]:
    """
    The environment for a client: this checkout first on the path, no
    locale settings but the ones given.
    """
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
    }
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [ROOT, os.environ.get("PYTHONPATH")])
    )
    environment.update(variables)
    return environment


class ClientProcess:
    """
    C{python -m chatsvc.client} in a subprocess, on pipes or on a pty.

    @ivar output: everything the client wrote so far.
    """

    def __init__(
        self,
        port: int,
        *arguments: str,
        terminal: bool = False,
        environ: dict[str, str] | None = None,
        width: int = 80,
    ) -> None:
        self.output = b""
        command = [
            sys.executable,
            "-m",
            "chatsvc.client",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *arguments,
        ]
        environment = environ if environ is not None else clientEnvironment()
        self.terminal = terminal
        if terminal:
            master, slave = pty.openpty()
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, width, 0, 0))
            self.settings = termios.tcgetattr(slave)
            self.process = subprocess.Popen(
                command,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=environment,
                start_new_session=True,
            )
            # Kept open, to check the settings after the client is gone.
            self.slave = slave
            self.readFd = self.writeFd = master
        else:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=environment,
            )
            assert self.process.stdin is not None and self.process.stdout is not None
            self.readFd = self.process.stdout.fileno()
            self.writeFd = self.process.stdin.fileno()

    def send(self, text: str) -> None:
        os.write(self.writeFd, text.encode("utf-8"))

    def closeInput(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()

    def _read(self, deadline: float) -> bool:
        """
        Read what there is, waiting until C{deadline}; C{False} at the end.
        """
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        readable, _, _ = select.select([self.readFd], [], [], remaining)
        if not readable:
            return False
        try:
            chunk = os.read(self.readFd, 65536)
        except OSError:
            return False
        self.output += chunk
        return bool(chunk)

    def text(self) -> str:
        return self.output.decode("utf-8", "replace")

    def readUntil(self, marker: str) -> str:
        """
        Read until C{marker} has been written; return all output so far.
        """
        deadline = time.monotonic() + TIMEOUT
        while marker not in self.text():
            if not self._read(deadline):
                raise AssertionError(f"no {marker!r} in {self.text()!r}")
        return self.text()

    def wait(self) -> int:
        """
        Read everything until the client exits; its exit status.
        """
        deadline = time.monotonic() + TIMEOUT
        while self.process.poll() is None and time.monotonic() < deadline:
            self._read(min(deadline, time.monotonic() + 0.1))
        status = self.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        while self._read(time.monotonic() + 0.1):
            pass
        return status

    def screen(self, width: int = 80) -> Screen:
        screen = Screen(width)
        screen.feed(self.output)
        return screen

    def lines(self) -> list[str]:
        """
        What the user sees: the screen of a terminal, or the lines of a pipe.
        """
        if self.terminal:
            return self.screen().lines()
        return self.text().splitlines()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=TIMEOUT)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
        if self.terminal:
            os.close(self.readFd)
            os.close(self.slave)


class ClientTestCase(ServerTestCase):
    def client(self, *arguments: str, **options: object) -> ClientProcess:
        client = ClientProcess(self.server.port, *arguments, **options)  # type: ignore[arg-type]
        self.addCleanup(client.stop)
        return client


class PipeTests(ClientTestCase):
    def test_twoClientsChat(self) -> None:
        """
        Two scripted clients chat; the one that says exit leaves with status
        0 and the other hears it.
        """
        alicja = self.client()
        alicja.send("Alicja\n")
        alicja.readUntil("Connected to server!\n")
        bob = self.client("--nick", "Bob")
        bob.readUntil("Connected to server!\n")
        alicja.readUntil("Bob joined the chat!\n")
        bob.send("Hi everyone!\n")
        alicja.readUntil("Bob: Hi everyone!\n")
        alicja.send("Hi Bob!\n")
        bob.readUntil("Alicja: Hi Bob!\n")
        alicja.send("exit\n")
        self.assertEqual(alicja.wait(), 0)
        bob.readUntil("Alicja left the chat.\n")
        self.assertEqual(
            alicja.text(),
            f"{PROMPT_EN}Alicja\nConnected to server!\nBob joined the chat!\n"
            "Bob: Hi everyone!\nAlicja: Hi Bob!\n",
        )
        self.assertEqual(
            bob.text(),
            "Connected to server!\nBob: Hi everyone!\nAlicja: Hi Bob!\n"
            "Alicja left the chat.\n",
        )
        bob.closeInput()
        self.assertEqual(bob.wait(), 0)

    def test_wholeScript(self) -> None:
        """
        A script given all at once: every line goes out in order, the end
        of input leaves, and the status is 0.
        """
        listener = self.connect("Ewa")
        alicja = self.client()
        alicja.send("Alicja\nHi!\n/me waves\n")
        alicja.closeInput()
        self.assertEqual(alicja.wait(), 0)
        self.assertEqual(
            listener.readUntil("Alicja left the chat."),
            ["Alicja joined the chat!", "Alicja: Hi!", "* Alicja waves"],
        )

    def test_refusedGivenNickname(self) -> None:
        """
        A taken --nick is refused with the reason; the next input line is
        the next try.
        """
        self.connect("Bob")
        alicja = self.client("--nick", "bob")
        alicja.readUntil("! The nickname bob is taken.\n" + PROMPT_EN)
        alicja.send("Alicja\n")
        alicja.readUntil("Connected to server!\n")
        alicja.closeInput()
        self.assertEqual(alicja.wait(), 0)

    def test_uninstalledLocale(self) -> None:
        """
        A locale this machine lacks does no harm: English it is.
        """
        alicja = self.client(environ=clientEnvironment(LANG="xx_YY.UTF-8"))
        alicja.readUntil(PROMPT_EN)
        alicja.closeInput()
        self.assertEqual(alicja.wait(), 0)
        self.assertNotIn("Traceback", alicja.text())

    def test_polishTranscript(self) -> None:
        """
        With LC_ALL=pl_PL.UTF-8 (not installed here) everything is Polish,
        from the prompt on.
        """
        alicja = self.client(environ=clientEnvironment(LC_ALL="pl_PL.UTF-8"))
        self.assertEqual(alicja.readUntil(": "), PROMPT_PL)
        alicja.send("Alicja\n")
        alicja.readUntil("Połączono z serwerem!\n")
        bob = self.connect("Bob")
        alicja.readUntil("Bob dołączył do czatu!\n")
        bob.sendLine("Cześć wszystkim!")
        alicja.readUntil("Bob: Cześć wszystkim!\n")
        alicja.send("Cześć Bob!\n")
        alicja.readUntil("Alicja: Cześć Bob!\n")
        self.assertEqual(
            alicja.text(),
            "Wybierz swój pseudonim: Alicja\n"
            "Połączono z serwerem!\n"
            "Bob dołączył do czatu!\n"
            "Bob: Cześć wszystkim!\n"
            "Alicja: Cześć Bob!\n",
        )
        alicja.closeInput()
        self.assertEqual(alicja.wait(), 0)


class TerminalTests(ClientTestCase):
    def test_typingWhileMessagesArrive(self) -> None:
        """
        On a terminal: the prompt, a nickname, a message arriving while half
        a line is typed (which is redrawn intact below it), the rest of the
        line sent, and exit with status 0 and the terminal as it was.
        """
        alicja = self.client(terminal=True)
        alicja.readUntil(PROMPT_EN)
        alicja.send("Alicja\r")
        alicja.readUntil("Connected to server!")
        bob = self.connect("Bob")
        alicja.readUntil("Bob joined the chat!")
        alicja.send("Cześć Bo")
        alicja.readUntil("Cześć Bo")
        bob.sendLine("Hi Alicja!")
        before = len(alicja.output)
        alicja.readUntil("Bob: Hi Alicja!")
        # The half line is drawn again after the message.
        deadline = time.monotonic() + TIMEOUT
        while "Cześć Bo" not in alicja.output[before:].decode("utf-8", "replace"):
            self.assertTrue(alicja._read(deadline), alicja.text())
        screen = alicja.screen()
        self.assertEqual(screen.lines()[-2:], ["Bob: Hi Alicja!", "Cześć Bo"])
        self.assertEqual(screen.x, len("Cześć Bo"))
        alicja.send("b!\r")
        bob.expect("Bob: Hi Alicja!")
        bob.expect("Alicja: Cześć Bob!")
        alicja.send("exit\r")
        self.assertEqual(alicja.wait(), 0)
        bob.expect("Alicja left the chat.")
        self.assertEqual(
            alicja.screen().lines(),
            [
                PROMPT_EN + "Alicja",
                "Connected to server!",
                "Bob joined the chat!",
                "Bob: Hi Alicja!",
                "Alicja: Cześć Bob!",
            ],
        )
        self.assertEqual(termios.tcgetattr(alicja.slave), alicja.settings)

    def test_polishTyping(self) -> None:
        """
        A Polish user types and corrects Polish, and the server gets it.
        """
        bob = self.connect("Bob")
        alicja = self.client("--lang", "pl", "--nick", "Alicja", terminal=True)
        alicja.readUntil("Połączono z serwerem!")
        bob.expect("Alicja joined the chat!")
        alicja.send("zażółć gęślą jaźx\x7fń\r")
        bob.expect("Alicja: zażółć gęślą jaźń")
        alicja.send("\x04")
        self.assertEqual(alicja.wait(), 0)
        self.assertEqual(termios.tcgetattr(alicja.slave), alicja.settings)


def restartedServer(
    server: ServerProcess, workdir: str, *arguments: str
) -> ServerProcess:
    """
    A new server on the port C{server} listened on, in the same working
    directory (so with the same history store), once C{server} is stopped.

    The port is free once the old process is gone, but binding is tried
    again for a while in case something else had it for a moment.
    """
    assert server.port is not None
    port = server.port
    deadline = time.monotonic() + TIMEOUT
    while True:
        again = ServerProcess(*arguments, "--port", f"tcp:{port}:interface=127.0.0.1")
        try:
            again.start(workdir)
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
            continue
        assert again.port == port
        return again


def readUntilCount(client: ClientProcess, marker: str, count: int) -> str:
    """
    Read until C{marker} has been written C{count} times.
    """
    deadline = time.monotonic() + TIMEOUT
    while client.text().count(marker) < count:
        if not client._read(deadline):
            raise AssertionError(f"not {count} {marker!r} in {client.text()!r}")
    return client.text()


class ServerGoneTests(SynchronousTestCase):
    def test_serverKilled(self) -> None:
        """
        When the server dies, the client says the connection was lost and
        keeps trying, with the waits it says; exit still leaves, with
        status 0 and the terminal as it was.
        """
        server = ServerProcess()
        server.start(self.mktemp())
        self.addCleanup(server.stop)
        piped = ClientProcess(server.port, "--nick", "Alicja")
        self.addCleanup(piped.stop)
        kept = ClientProcess(server.port, "--nick", "Bob", terminal=True)
        self.addCleanup(kept.stop)
        for client in (piped, kept):
            client.readUntil("Connected to server!")
        server.stop(signal.SIGKILL)
        for client in (piped, kept):
            client.readUntil("Connection lost; reconnecting in 1 s…")
            client.readUntil(
                f"Cannot connect to 127.0.0.1 port {server.port}: Connection refused. "
                "Trying again in "
            )
        piped.send("exit\n")
        kept.send("exit\r")
        for client in (piped, kept):
            self.assertEqual(client.wait(), 0)
            self.assertNotIn("Traceback", client.text())
        self.assertEqual(termios.tcgetattr(kept.slave), kept.settings)

    def test_serverRestarts(self) -> None:
        """
        The server is stopped and started again on the same port with its
        history: the clients (on a pipe and on a terminal) come back by
        themselves, show the line said while they were away once and none
        they had shown, chat on, and exit with status 0.
        """
        workdir = os.path.abspath(self.mktemp())
        server = ServerProcess("--replay", "20")
        server.start(workdir)
        self.addCleanup(server.stop)
        bob = LineClient(server.port)
        self.addCleanup(bob.close)
        bob.register("Bob")
        bob.sendLine("before you came")
        bob.expect("Bob: before you came")
        piped = ClientProcess(server.port, "--nick", "Alicja")
        self.addCleanup(piped.stop)
        piped.readUntil("End of history.")
        kept = ClientProcess(server.port, "--nick", "Celina", terminal=True)
        self.addCleanup(kept.stop)
        kept.readUntil("End of history.")
        piped.readUntil("Celina joined the chat!")
        bob.sendLine("seen by both")
        for client in (piped, kept):
            client.readUntil("Bob: seen by both")
        self.assertEqual(server.stop(), 0)
        for client in (piped, kept):
            client.readUntil("The server is shutting down. Goodbye!")
            client.readUntil("reconnecting in")
            # Held still, so that Bob speaks before they are back.
            client.process.send_signal(signal.SIGSTOP)
        try:
            again = restartedServer(server, workdir, "--replay", "20")
            self.addCleanup(again.stop)
            bob.close()
            bob = LineClient(again.port)
            self.addCleanup(bob.close)
            bob.register("Bob")
            bob.sendLine("said while away")
            bob.readUntil("Bob: said while away")
        finally:
            for client in (piped, kept):
                client.process.send_signal(signal.SIGCONT)
        for client in (piped, kept):
            readUntilCount(client, "End of history.", 2)
        piped.send("back again\n")
        bob.readUntil("Alicja: back again")
        piped.send("exit\n")
        kept.send("exit\r")
        for client in (piped, kept):
            self.assertEqual(client.wait(), 0)
            self.assertNotIn("Traceback", client.text())
        lines = piped.lines()
        self.assertEqual(
            lines[:6],
            [
                "Connected to server!",
                "Earlier in room lobby:",
                lines[2],
                "End of history.",
                "Celina joined the chat!",
                "Bob: seen by both",
            ],
        )
        self.assertTrue(lines[2].endswith("] Bob: before you came"), lines)
        back = lines.index("The server is shutting down. Goodbye!")
        welcome = lines.index("Connected to server!", back)
        self.assertTrue(
            lines[back + 1].startswith("Connection lost; reconnecting in"), lines
        )
        self.assertEqual(
            lines[welcome + 1 : welcome + 4],
            [
                "Said in room lobby while you were away:",
                lines[welcome + 2],
                "End of history.",
            ],
        )
        self.assertTrue(lines[welcome + 2].endswith("] Bob: said while away"), lines)
        self.assertGreater(lines.index("Alicja: back again"), welcome)
        screen = kept.lines()
        for client, shown in ((piped, lines), (kept, screen)):
            joined = "\n".join(shown)
            self.assertEqual(joined.count("before you came"), 1, shown)
            self.assertEqual(joined.count("seen by both"), 1, shown)
            self.assertEqual(joined.count("said while away"), 1, shown)
            self.assertEqual(joined.count("Connected to server!"), 2, shown)
        self.assertIn("Said in room lobby while you were away:", screen)
        self.assertEqual(termios.tcgetattr(kept.slave), kept.settings)

    def test_nothingListening(self) -> None:
        """
        With nobody listening: one line saying why, a non-zero status, no
        traceback; on a terminal too.
        """
        # Bound but not listening: connections are refused, and no other
        # process can take the port while the test runs.
        unused = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(unused.close)
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
        for terminal in (False, True):
            client = ClientProcess(port, terminal=terminal)
            self.addCleanup(client.stop)
            self.assertEqual(client.wait(), 1)
            self.assertEqual(
                client.lines(),
                [f"Cannot connect to 127.0.0.1 port {port}: Connection refused."],
            )
            self.assertNotIn("Traceback", client.text())


class AccountTests(SynchronousTestCase):
    def test_registeredNicknameThroughARestart(self) -> None:
        """
        A registered nickname's password is asked for on a terminal and not
        shown; after the server restarts (with its store) the client logs
        in again by itself, keeping the nickname.
        """
        workdir = os.path.abspath(self.mktemp())
        server = ServerProcess()
        server.start(workdir)
        self.addCleanup(server.stop)
        owner = LineClient(server.port)
        self.addCleanup(owner.close)
        owner.register("Ala")
        owner.sendLine("/register sezamie-otworz")
        owner.expect("The account Ala is registered.")
        owner.close()
        kept = ClientProcess(server.port, "--nick", "Ala", terminal=True)
        self.addCleanup(kept.stop)
        kept.readUntil("Password for Ala: ")
        kept.send("sezamie-otworz\r")
        kept.readUntil("You are now logged in to the account Ala.")
        self.assertEqual(server.stop(), 0)
        kept.readUntil("reconnecting in")
        again = restartedServer(server, workdir)
        self.addCleanup(again.stop)
        readUntilCount(kept, "You are now logged in to the account Ala.", 2)
        self.assertNotIn("sezamie", kept.text())
        self.assertEqual("\n".join(kept.lines()).count("Password for Ala:"), 1)
        kept.send("exit\r")
        self.assertEqual(kept.wait(), 0)
        self.assertNotIn(b"sezamie", again.output)
