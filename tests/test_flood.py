"""
Flood control against the real twistd.
"""

from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from tests.harness import LineClient, ServerProcess


class FloodTests(SynchronousTestCase):
    def start(self, *arguments: str) -> ServerProcess:
        server = ServerProcess(*arguments)
        server.start(str(Path(self.mktemp()).resolve()))
        self.addCleanup(server.stop)
        return server

    def test_delayedNotLost(self) -> None:
        """
        Lines beyond the burst arrive later but all arrive, in order, and the
        sender is told once.
        """
        server = self.start("--flood-burst", "5", "--flood-rate", "20")
        watcher = LineClient(server.port)
        watcher.register("Watcher")
        flooder = LineClient(server.port)
        flooder.register("Flooder")
        watcher.readLine()
        flooder.send(b"".join(b"line %d\n" % n for n in range(30)))
        seen = watcher.readUntil("Flooder: line 29")
        self.assertEqual(seen, [f"Flooder: line {n}" for n in range(29)])
        mine = flooder.readUntil("Flooder: line 29")
        warnings = [line for line in mine if line.startswith("! Slow down")]
        self.assertEqual(
            warnings,
            ["! Slow down: 5 lines at once, then 20 a second; the rest wait their turn."],
        )

    def test_persistentFlooderCutOff(self) -> None:
        """
        A client that keeps flooding far past the limit is disconnected with a
        reason, and the room hears it left.
        """
        server = self.start("--flood-burst", "2", "--flood-rate", "50", "--flood-limit", "20")
        watcher = LineClient(server.port)
        watcher.register("Watcher")
        flooder = LineClient(server.port)
        flooder.register("Flooder")
        watcher.readLine()
        flooder.send(b"spam\n" * 200)
        lines = flooder.readUntilClosed()
        self.assertEqual(lines[-1], "! Excess flood. Goodbye!")
        # The same reason on every front-end (IRC's QUIT says it too).
        before = watcher.readUntil("Flooder left the chat (Excess Flood).")
        self.assertTrue(set(before) <= {"Flooder: spam"}, before)
