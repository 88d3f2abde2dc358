"""
C{--metrics-port} on the real C{twistd -n chat}: Prometheus' own parser
reads C{/metrics} over HTTP, and the numbers move as native clients (and a
web page) connect and talk.
"""

from __future__ import annotations

import re
import time
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from twisted.trial.unittest import SynchronousTestCase
from websockets.sync.client import connect

from tests.harness import TIMEOUT, LineClient, ServerProcess

METRICS_ANNOUNCEMENT = re.compile(rb"\] metrics listening on 127\.0\.0\.1:(\d+)\r?\n")


class MetricsIntegrationTests(SynchronousTestCase):
    def startServer(self) -> tuple[int, ServerProcess]:
        """
        Start a server with metrics on a loopback port the system picks:
        that port, once the server says where it serves them, and the
        server.
        """
        server = ServerProcess("--metrics-port", "tcp:0:interface=127.0.0.1", web=True)
        server.start(str(Path(self.mktemp()).resolve()))
        self.addCleanup(server.stop)
        deadline = time.monotonic() + TIMEOUT
        while (found := METRICS_ANNOUNCEMENT.search(server.output)) is None:
            self.assertLess(time.monotonic(), deadline, server.output.decode())
            time.sleep(0.02)
        return int(found.group(1)), server

    def scrape(self, port: int) -> dict[tuple[str, tuple], float]:
        """
        Every sample on the page, by name and labels.
        """
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=TIMEOUT) as page:
            self.assertEqual(page.status, 200)
            text = page.read().decode("utf-8")
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    def connect(self, port: int, nickname: str) -> LineClient:
        client = LineClient(port)
        self.addCleanup(client.close)
        client.register(nickname)
        return client

    def test_numbersMove(self) -> None:
        """
        Two native clients connect, one says a line the other hears: open
        connections, registrations, messages and deliveries move by as
        much, and the line's commit is timed; a web page that joins is
        counted as a front-end of its own.
        """
        metricsPort, server = self.startServer()
        native = (("frontend", "native"),)
        before = self.scrape(metricsPort)
        self.assertEqual(before["chatsvc_connections_open", native], 0.0)
        ala = self.connect(server.port, "Ala")
        bob = self.connect(server.port, "Bob")
        ala.expect("Bob joined the chat!")
        ala.sendLine("hello")
        bob.expect("Ala: hello")
        ala.expect("Ala: hello")
        after = self.scrape(metricsPort)

        def moved(name: str, labels: tuple = ()) -> float:
            return after[name, labels] - before[name, labels]

        self.assertEqual(after["chatsvc_connections_open", native], 2.0)
        self.assertEqual(moved("chatsvc_connections_accepted_total", native), 2.0)
        self.assertEqual(moved("chatsvc_registrations_total", native), 2.0)
        self.assertEqual(moved("chatsvc_messages_total", (("kind", "said"),)), 1.0)
        # Bob's arrival, heard by Ala; the line, by both.
        self.assertEqual(moved("chatsvc_deliveries_total"), 3.0)
        self.assertGreaterEqual(moved("chatsvc_history_commit_seconds_count"), 1.0)
        self.assertGreaterEqual(after["chatsvc_reactor_lag_seconds", ()], 0.0)
        self.assertGreater(after["process_resident_memory_bytes", ()], 0.0)
        bob.sendLine("/quit")
        bob.readUntilClosed()
        ala.expect("Bob left the chat.")
        # Closed on the server's side once its goodbye has left.
        deadline = time.monotonic() + TIMEOUT
        while self.scrape(metricsPort)["chatsvc_connections_open", native] != 1.0:
            self.assertLess(time.monotonic(), deadline, "Bob's connection still open")
            time.sleep(0.02)
        # A web page is a front-end of its own, named by its sessions.
        page = connect(f"ws://127.0.0.1:{server.webPort}/chat", open_timeout=TIMEOUT)
        self.addCleanup(page.close)
        page.recv(timeout=TIMEOUT)
        page.send("Cez")
        ala.expect("Cez joined the chat!")
        web = self.scrape(metricsPort)
        self.assertEqual(web["chatsvc_connections_open", (("frontend", "web"),)], 1.0)
        self.assertEqual(web["chatsvc_registrations_total", (("frontend", "web"),)], 1.0)
        page.close()
        self.assertEqual(server.stop(), 0)
        self.assertNotIn(b"Traceback", server.output)
        self.assertNotIn(b"GET /metrics", server.output)
