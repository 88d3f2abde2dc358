"""
The optional server password, on both front-ends and in the client.
"""

import os
import subprocess
import sys
from pathlib import Path

from twisted.internet.task import Clock
from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase

from chatsvc.client.protocol import ChatClientProtocol
from chatsvc.client.testing import RecordingView
from chatsvc.hub import Hub
from chatsvc.irc.protocol import IRCFactory
from chatsvc.native import wire
from chatsvc.native.protocol import NativeFactory
from chatsvc.net.connection import Limits
from chatsvc.tap import Options
from tests.harness import TIMEOUT, ServerProcess
from tests.test_irc_protocol import IRCConnection
from tests.test_native import Connection

ROOT = str(Path(__file__).resolve().parent.parent)


class NativePasswordTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.factory = NativeFactory(Hub(Clock()), limits=Limits(password="sezam otwórz".encode()))

    def test_rightPassword(self) -> None:
        """
        With a password set the server asks PASS first, then NICK; /lang works
        before either.
        """
        client = Connection(self.factory)
        self.assertEqual(client.lines(), ["PASS"])
        client.say("/lang pl")
        self.assertEqual(client.lines(), ["Wybrany język: polski (pl)."])
        client.say("sezam otwórz")
        self.assertEqual(client.lines(), ["NICK"])
        client.say("Ola")
        self.assertEqual(client.lines(), ["Połączono z serwerem!"])

    def test_wrongPassword(self) -> None:
        """
        A wrong password gets a one-line answer and the connection closes;
        the attempt is never logged.
        """
        logged = []
        from twisted.logger import globalLogPublisher

        globalLogPublisher.addObserver(logged.append)
        self.addCleanup(globalLogPublisher.removeObserver, logged.append)
        client = Connection(self.factory)
        client.lines()
        client.say("guess123")
        self.assertEqual(client.lines(), ["! Wrong password. Goodbye!"])
        self.assertTrue(client.transport.disconnecting)
        self.assertFalse(any("guess123" in repr(event) for event in logged))

    def test_promptIsItsOwnKind(self) -> None:
        """
        PASS is a prompt of its own, and nobody can be called PASS.
        """
        self.assertEqual(wire.classify("PASS").kind, "password")
        self.assertFalse(wire.isNickname("Pass"))


class IRCPasswordTests(SynchronousTestCase):
    def setUp(self) -> None:
        clock = Clock()
        self.factory = IRCFactory(Hub(clock), clock, limits=Limits(password=b"sesame"))

    def test_rightPassword(self) -> None:
        """
        PASS before NICK/USER lets an IRC client register.
        """
        client = IRCConnection(self.factory)
        client.send("PASS sesame", "NICK Ola", "USER o 0 * :O")
        self.assertEqual(client.commands()[0], "001")

    def test_missingOrWrongPassword(self) -> None:
        """
        Without the right PASS registration ends in 464 and ERROR.
        """
        for lines in (["NICK Ola", "USER o 0 * :O"], ["PASS nope", "NICK Ola", "USER o 0 * :O"]):
            client = IRCConnection(self.factory)
            client.send(*lines)
            self.assertEqual(client.commands(), ["464", "ERROR"])
            self.assertTrue(client.transport.disconnecting)


class ClientPasswordTests(SynchronousTestCase):
    def test_answersFromTheFile(self) -> None:
        """
        The client answers PASS with the password it was given.
        """
        from twisted.internet.testing import StringTransport

        view = RecordingView()
        protocol = ChatClientProtocol(view, Clock(), "en", "Ola", "sesame")
        transport = StringTransport()
        protocol.makeConnection(transport)
        transport.clear()
        protocol.dataReceived(b"PASS\r\n")
        self.assertEqual(transport.value(), b"sesame\r\n")

    def test_noPasswordGiven(self) -> None:
        """
        Asked for a password it does not have, the client says how to give
        one and gives up.
        """
        from twisted.internet.testing import StringTransport

        view = RecordingView()
        protocol = ChatClientProtocol(view, Clock(), "en", "Ola")
        transport = StringTransport()
        protocol.makeConnection(transport)
        protocol.dataReceived(b"PASS\r\n")
        self.assertIn(
            ("connectionFailed", "The server asks for a password; give it with --password-file."),
            view.take(),
        )


class EndToEndTests(SynchronousTestCase):
    def test_realServerAndClient(self) -> None:
        """
        twistd --password-file and the client's --password-file chat; the
        password never appears in the server's log.
        """
        workdir = Path(self.mktemp()).resolve()
        workdir.mkdir(parents=True)
        secret = workdir / "password"
        secret.write_text("tajne-hasło-42\n", encoding="utf-8")
        server = ServerProcess("--password-file", str(secret))
        server.start(str(workdir))
        self.addCleanup(server.stop)
        result = subprocess.run(
            [sys.executable, "-m", "chatsvc.client", "--host", "127.0.0.1",
             "--port", str(server.port), "--nick", "Ola", "--password-file", str(secret)],
            input="hello\nexit\n", capture_output=True, text=True, timeout=TIMEOUT * 2,
            env=dict(os.environ, PYTHONPATH=ROOT),
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("Ola: hello", result.stdout)
        server.stop()
        self.assertNotIn("tajne-hasło-42".encode(), server.output)

    def test_optionChecks(self) -> None:
        """
        An unreadable or empty password file is a usage error.
        """
        options = Options()
        self.assertRaises(usage.UsageError, options.parseOptions, ["--password-file", "/nonexistent"])
        empty = Path(self.mktemp())
        empty.write_text("\n")
        self.assertRaises(usage.UsageError, Options().parseOptions, ["--password-file", str(empty)])
