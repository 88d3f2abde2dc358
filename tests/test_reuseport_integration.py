"""
Two real C{twistd -n chat} processes on the same C{reuseport:} ports.

Which process accepted a connection is read from C{ss -p}: the server's
side of each established connection names the process that holds it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

from twisted.trial.unittest import SkipTest, SynchronousTestCase

from tests.harness import TIMEOUT, LineClient, ServerProcess

CLIENTS = 20


def holders(*selection: str) -> Counter[int]:
    """
    How many of the TCP sockets C{selection} picks (C{ss} filter words)
    each process holds, by process id.
    """
    if shutil.which("ss") is None:
        raise SkipTest("needs ss (iproute2) to see who holds the sockets")
    shown = subprocess.run(
        ["ss", "-tnHp", *selection], capture_output=True, text=True, timeout=TIMEOUT, check=True
    ).stdout
    return Counter(int(pid) for pid in re.findall(r"pid=(\d+),", shown))


class SharedPortTests(SynchronousTestCase):
    def startNode(self, port: str, ircPort: str, webPort: str) -> ServerProcess:
        """
        A server with no files of its own whose front-ends listen on
        C{reuseport:} ports of 127.0.0.1 (C{0}: one the system picks).
        """
        server = ServerProcess(
            "--store", "memory",
            "--port", f"reuseport:{port}:interface=127.0.0.1",
            "--irc-port", f"reuseport:{ircPort}:interface=127.0.0.1",
            "--web-port", f"reuseport:{webPort}:interface=127.0.0.1",
        )
        server.start(str(Path(self.mktemp()).resolve()))
        self.addCleanup(server.stop)
        return server

    def prompted(self, port: int, count: int) -> list[LineClient]:
        """
        C{count} clients of C{port}, each asked for its nickname, still
        connected.
        """
        clients = []
        for _ in range(count):
            client = LineClient(port)
            self.addCleanup(client.close)
            client.expect("NICK")
            clients.append(client)
        return clients

    def test_twoNodesOnePort(self) -> None:
        """
        A second server listens on the native, IRC and web ports a first
        one took; native clients are all asked for a nickname, some by each
        server; once the first has stopped, the second takes every new one.
        """
        first = self.startNode("0", "0", "0")
        second = self.startNode(str(first.port), str(first.ircPort), str(first.webPort))
        assert first.process is not None and second.process is not None
        both = {first.process.pid, second.process.pid}
        self.assertEqual(
            (second.port, second.ircPort, second.webPort),
            (first.port, first.ircPort, first.webPort),
        )
        for port in (first.port, first.ircPort, first.webPort):
            self.assertEqual(set(holders("-l", f"( sport = :{port} )")), both)

        self.prompted(first.port, CLIENTS)
        established = ("state", "established", f"( sport = :{first.port} )")
        accepted = holders(*established)
        self.assertEqual(sum(accepted.values()), CLIENTS, accepted)
        # All to one of the two: once in half a million runs.
        self.assertEqual(set(accepted), both, accepted)

        self.assertEqual(first.stop(), 0)
        self.prompted(first.port, 5)
        self.assertEqual(
            holders(*established),
            Counter({second.process.pid: accepted[second.process.pid] + 5}),
        )
        self.assertEqual(second.stop(), 0)
        for server in (first, second):
            self.assertNotIn(b"Traceback", server.output)
