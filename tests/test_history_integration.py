"""
History against the real C{twistd -n chat}: what was said survives a
restart and a SIGKILL, and every line any client saw is in the store.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from tests.harness import LineClient, ServerProcess


class RestartTests(SynchronousTestCase):
    def start(self, workdir: Path, *arguments: str) -> ServerProcess:
        server = ServerProcess("--replay", "20", *arguments, irc=True)
        server.start(str(workdir))
        self.addCleanup(server.stop)
        return server

    def test_newcomerAfterRestartSeesLinesAndTopic(self) -> None:
        """
        Stopped (as with Ctrl-C) and started again, the server shows a
        newcomer the room's topic and its last lines, marked as history.
        """
        workdir = Path(self.mktemp()).resolve()
        server = self.start(workdir)
        ala = LineClient(server.port)
        ala.register("Ala")
        irc = LineClient(server.ircPort)
        irc.sendLine("NICK Ola")
        irc.sendLine("USER ola 0 * :Ola")
        irc.sendLine("JOIN #lobby")
        # Ala made the lobby, so she is its operator: she lets Ola set topics.
        ala.readUntil("Ola joined the chat!")
        ala.sendLine("/op Ola")
        ala.readUntil("Ala set the modes of room lobby: +o Ola")
        irc.sendLine("TOPIC #lobby :Witamy w klasie")
        ala.readUntil("Ola set the topic of room lobby: Witamy w klasie")
        for n in range(3):
            ala.sendLine(f"line {n}")
        ala.readUntil("Ala: line 2")
        ala.close()
        irc.close()
        self.assertEqual(server.stop(signal.SIGINT), 0)

        again = self.start(workdir)
        bob = LineClient(again.port)
        bob.register("Bob")
        self.assertEqual(bob.readLine(), "The topic of room lobby: Witamy w klasie")
        self.assertEqual(bob.readLine(), "Earlier in room lobby:")
        lines = bob.readUntil("End of history.")
        self.assertEqual([line.split("] ", 1)[1] for line in lines], [f"Ala: line {n}" for n in range(3)])
        for line in lines:
            self.assertRegex(line, r"^\[\d\d:\d\d\] ")
        ewa = LineClient(again.ircPort)
        ewa.sendLine("NICK Ewa")
        ewa.sendLine("USER ewa 0 * :Ewa")
        ewa.sendLine("JOIN #lobby")
        replies = ewa.readUntil(f":{'chatsvc'} 366 Ewa #lobby :End of /NAMES list")
        self.assertIn(":chatsvc 332 Ewa #lobby :Witamy w klasie", replies)


class KillTests(SynchronousTestCase):
    def test_everyLineSeenIsKept(self) -> None:
        """
        Killed with SIGKILL in the middle of a flood, the server has kept
        every line that any client received: a line reaches nobody before it
        is written.
        """
        workdir = Path(self.mktemp()).resolve()
        server = ServerProcess()
        server.start(str(workdir))
        self.addCleanup(server.stop)
        watcher = LineClient(server.port)
        watcher.register("Watcher")
        sender = LineClient(server.port)
        sender.register("Sender")
        watcher.readLine()
        sent = 0
        seen: list[str] = []
        deadline = time.monotonic() + 5
        while len(seen) < 300 and time.monotonic() < deadline:
            sender.send(b"".join(f"flood {sent + n}\n".encode() for n in range(100)))
            sent += 100
            sender.catchUp()
            watcher.catchUp()
            while b"\n" in watcher.buffer:
                seen.append(watcher.readLine())
        # The flood goes on while the server is killed: lines in flight are
        # the ones a weaker server would lose.
        sender.send(b"".join(f"flood {sent + n}\n".encode() for n in range(500)))
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()
        try:
            while True:
                seen.append(watcher.readLine())
        except (EOFError, ConnectionResetError, OSError):
            pass
        received = [line.split(": ", 1)[1] for line in seen if line.startswith("Sender: flood ")]
        self.assertGreater(len(received), 100)
        connection = sqlite3.connect(workdir / "chatsvc.sqlite3")
        self.addCleanup(connection.close)
        kept = {
            json.loads(data)["text"]
            for (data,) in connection.execute("SELECT data FROM events WHERE kind = 'said'")
        }
        missing = [text for text in received if text not in kept]
        self.assertEqual(missing, [])
        print(f"\nkill -9: {len(received)} lines seen, all kept; {len(kept)} kept in all")


class UnusableStoreTests(SynchronousTestCase):
    def refusal(self, workdir: Path) -> str:
        server = ServerProcess("--store", str(workdir / "chatsvc.sqlite3"))
        error = self.assertRaises(RuntimeError, server.start, str(workdir))
        self.assertEqual(server.process.returncode, 1)
        output = str(error).split("\n", 1)[1]
        self.assertNotIn("Traceback", output)
        return output.strip()

    def test_notADatabase(self) -> None:
        """
        A file that is not a database stops the server with one line.
        """
        workdir = Path(self.mktemp()).resolve()
        workdir.mkdir()
        (workdir / "chatsvc.sqlite3").write_bytes(b"\x00garbage" * 500)
        self.assertEqual(
            self.refusal(workdir),
            f"chatsvc: cannot keep history: cannot use {workdir}/chatsvc.sqlite3:"
            " file is not a database",
        )

    def test_lockedByAnotherProcess(self) -> None:
        """
        A file another process holds locked stops the server with one line.
        """
        workdir = Path(self.mktemp()).resolve()
        workdir.mkdir()
        holder = sqlite3.connect(workdir / "chatsvc.sqlite3", isolation_level=None)
        self.addCleanup(holder.close)
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("CREATE TABLE x (y)")
        holder.execute("BEGIN EXCLUSIVE")
        self.assertIn("database is locked", self.refusal(workdir))
