"""
TLS against the real twistd: C{--port ssl:...}, C{--irc-port ssl:...} and
C{--web-port ssl:...},
and the terminal client's C{--tls}, which verifies the server's certificate
and never falls back to plain text.
"""

import json
import os
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import trustme
from twisted.trial.unittest import SynchronousTestCase
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.harness import TIMEOUT, ServerProcess

ROOT = str(Path(__file__).resolve().parent.parent)


def clientCommand(port: int, *arguments: str) -> list[str]:
    return [sys.executable, "-m", "chatsvc.client", "--host", "localhost",
            "--port", str(port), *arguments]


def clientEnvironment() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=ROOT, LANG="C.UTF-8")


def runClient(port: int, *arguments: str, input: str) -> subprocess.CompletedProcess:
    """
    The terminal client on pipes, given all of C{input}, run to its end.
    """
    return subprocess.run(
        clientCommand(port, *arguments), input=input, capture_output=True, text=True,
        timeout=TIMEOUT * 2, env=clientEnvironment(),
    )


def tlsRecords(data: bytes) -> list[tuple[int, bytes]]:
    """
    The TLS records C{data} is made of, as (content type, payload) pairs.

    @raise ValueError: C{data} is not a whole number of TLS records.
    """
    records = []
    while data:
        if len(data) < 5 or data[1] != 3:
            raise ValueError(f"not a TLS record: {data[:16]!r}")
        length = int.from_bytes(data[3:5], "big")
        if len(data) < 5 + length:
            raise ValueError(f"a TLS record cut short: {data[:16]!r}")
        records.append((data[0], data[5 : 5 + length]))
        data = data[5 + length :]
    return records


class TLSTests(SynchronousTestCase):
    def setUp(self) -> None:
        workdir = Path(self.mktemp()).resolve()
        workdir.mkdir(parents=True)
        self.ca = trustme.CA()
        self.caFile = workdir / "ca.pem"
        self.ca.cert_pem.write_to_path(str(self.caFile))
        serverPem = workdir / "server.pem"
        self.ca.issue_cert("localhost", "127.0.0.1").private_key_and_cert_chain_pem.write_to_path(
            str(serverPem)
        )
        tls = f"ssl:0:privateKey={serverPem}:certKey={serverPem}:interface=127.0.0.1"
        self.server = ServerProcess("--port", tls, "--irc-port", tls, "--web-port", tls)
        self.server.start(str(workdir))
        self.addCleanup(self.server.stop)
        assert self.server.ircPort is not None
        self.ircPort = self.server.ircPort

    def secureSocket(self, port: int) -> ssl.SSLSocket:
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        raw = socket.create_connection(("127.0.0.1", port), TIMEOUT)
        return context.wrap_socket(raw, server_hostname="localhost")

    def readLines(self, connection: ssl.SSLSocket, count: int) -> list[str]:
        data = b""
        while data.count(b"\n") < count:
            chunk = connection.recv(65536)
            if not chunk:
                break
            data += chunk
        return data.decode("utf-8").splitlines()

    def client(self, *arguments: str, input: str) -> subprocess.CompletedProcess:
        return runClient(self.server.port, *arguments, input=input)

    def test_nativeOverTLS(self) -> None:
        """
        A native client speaks the usual protocol inside TLS.
        """
        with self.secureSocket(self.server.port) as connection:
            self.assertEqual(self.readLines(connection, 1), ["NICK"])
            connection.sendall("Żaneta\n".encode())
            self.assertEqual(self.readLines(connection, 1), ["Connected to server!"])

    def test_webSocketOverTLS(self) -> None:
        """
        The page's WebSocket inside TLS (wss://), where the page's own
        origin is its https:// one.
        """
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        url = f"wss://localhost:{self.server.webPort}/chat"
        with connect(url, ssl=context, origin=f"https://localhost:{self.server.webPort}") as page:
            self.assertEqual(json.loads(page.recv(timeout=TIMEOUT))["type"], "prompt")
        with self.assertRaises(InvalidStatus):
            connect(url, ssl=context, origin=f"http://localhost:{self.server.webPort}")

    def test_ircOverTLS(self) -> None:
        """
        An IRC client registers inside TLS.
        """
        with self.secureSocket(self.ircPort) as connection:
            connection.sendall(b"NICK Ola\r\nUSER ola 0 * :Ola\r\n")
            lines = self.readLines(connection, 1)
            self.assertIn(" 001 Ola ", lines[0])

    def test_clientVerifiesWithCafile(self) -> None:
        """
        The terminal client with --tls and the private CA chats and leaves
        cleanly.
        """
        result = self.client("--tls", "--cafile", str(self.caFile), "--nick", "Ola",
                             input="hello over TLS\nexit\n")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("Connected to server!", result.stdout)
        self.assertIn("Ola: hello over TLS", result.stdout)

    def test_clientRefusesUntrustedCertificate(self) -> None:
        """
        Without the private CA the certificate is not trusted: the client
        exits with status 1 and a one-line reason, says nothing in plain
        text, and shows no traceback.
        """
        result = self.client("--tls", "--nick", "Ola", input="secret words\nexit\n")
        self.assertEqual(result.returncode, 1)
        said = result.stdout + result.stderr
        self.assertEqual(len(said.splitlines()), 1, said)
        self.assertNotIn("Traceback", said)
        self.assertNotIn("Connected to server!", result.stdout)
        self.assertNotIn(b"secret words", self.server.output)

    def test_plainClientGetsNoService(self) -> None:
        """
        A plain-text client on the TLS port gets no chat service, so nothing
        it sends is taken as chat.
        """
        with socket.create_connection(("127.0.0.1", self.server.port), TIMEOUT) as plain:
            plain.sendall(b"Mallory\nhello\n")
            plain.settimeout(2)
            try:
                data = plain.recv(1024)
            except (socket.timeout, ConnectionResetError):
                data = b""
        self.assertNotIn(b"NICK", data)
        with self.secureSocket(self.server.port) as connection:
            self.readLines(connection, 1)
            connection.sendall(b"Ola\n/who\n")
            lines = self.readLines(connection, 2)
        self.assertEqual(lines[-1], "In room lobby (1): Ola")

    def test_missingCafile(self) -> None:
        """
        An unreadable --cafile is a one-line complaint, not a traceback.
        """
        result = self.client("--tls", "--cafile", "/nonexistent/ca.pem", input="")
        self.assertEqual(result.returncode, 2)
        self.assertIn("/nonexistent/ca.pem", result.stdout + result.stderr)
        self.assertNotIn("Traceback", result.stdout + result.stderr)


class PlainTextServerTests(SynchronousTestCase):
    HANDSHAKE, ALERT = 0x16, 0x15
    CLIENT_HELLO = 0x01

    def test_clientNeverFallsBackToPlainText(self) -> None:
        """
        The terminal client with --tls, meeting a server that speaks plain
        text, sends nothing but its TLS handshake, tries no second time, and
        exits with status 1 and a one-line reason.
        """
        # A plain-text chat server of our own, recording every byte it gets.
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(listener.close)
        listener.bind(("127.0.0.1", 0))
        listener.listen(5)
        listener.settimeout(TIMEOUT)
        client = subprocess.Popen(
            clientCommand(listener.getsockname()[1], "--tls", "--nick", "Ola"),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=clientEnvironment(),
        )
        self.addCleanup(lambda: client.poll() is None and client.kill())
        # Typed ahead, so that there is chat text to leak.
        assert client.stdin is not None
        client.stdin.write(b"secret words\n")
        client.stdin.flush()
        connection, _ = listener.accept()
        self.addCleanup(connection.close)
        connection.settimeout(TIMEOUT)
        connection.sendall(b"NICK\r\n")
        received = b""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline and (chunk := connection.recv(65536)):
            received += chunk
        stdout, stderr = client.communicate(b"exit\n", timeout=TIMEOUT)

        records = tlsRecords(received)
        self.assertEqual((records[0][0], records[0][1][0]), (self.HANDSHAKE, self.CLIENT_HELLO))
        self.assertLessEqual({kind for kind, _ in records}, {self.HANDSHAKE, self.ALERT})
        self.assertNotIn(b"Ola", received)
        self.assertNotIn(b"secret", received)
        listener.setblocking(False)
        self.assertRaises(BlockingIOError, listener.accept)

        self.assertEqual(client.returncode, 1)
        said = (stdout + stderr).decode("utf-8")
        self.assertEqual(len(said.splitlines()), 1, said)
        self.assertNotIn("Traceback", said)
        self.assertNotIn("Connected to server!", said)
