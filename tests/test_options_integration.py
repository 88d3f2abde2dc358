"""
C{twistd -n chat} options, and the defaults README.rst documents, as the
real server shows them over TCP.

Each option is checked on a server started with it; each default that can
be seen within a few seconds, on a server started without it.  (Not
checked here: the 10,000 connections of C{--max-connections}, the 60
seconds of C{--register-timeout}, the 5 of C{--grace}, the flood limit of
100 delayed lines, and port 5555, which listens beyond loopback.)
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

from twisted.trial.unittest import SkipTest, SynchronousTestCase

from tests.harness import TIMEOUT, LineClient, ServerProcess, ServerTestCase

FULL = "! The server is full; try again later."
TIMED_OUT = "! You took too long to choose a nickname. Goodbye!"


def tooMany(count: int) -> str:
    return f"! Too many connections from your address (at most {count}); try again later."


def ss(*arguments: str) -> str:
    """
    What C{ss} (iproute2) shows of the TCP sockets C{arguments} select.
    """
    if shutil.which("ss") is None:
        raise SkipTest("needs ss (iproute2) to see the server's sockets")
    return subprocess.run(
        ["ss", "-tnH", *arguments], capture_output=True, text=True, timeout=TIMEOUT,
        check=True,
    ).stdout


class OwnServerTestCase(SynchronousTestCase):
    """
    Tests that each start a server of their own.
    """

    def startServer(self, *arguments: str, **options: object) -> ServerProcess:
        server = ServerProcess(*arguments, **options)  # type: ignore[arg-type]
        server.start(str(Path(self.mktemp()).resolve()))
        self.addCleanup(server.stop)
        return server

    def connect(self, port: int, **options: object) -> LineClient:
        client = LineClient(port, **options)  # type: ignore[arg-type]
        self.addCleanup(client.close)
        return client

    def registerEventually(self, port: int, nickname: str, source: str = "127.0.0.1") -> None:
        """
        Register C{nickname} from C{source} once the server admits a native
        client again: it has to notice first that someone left.
        """
        deadline = time.monotonic() + TIMEOUT
        while True:
            client = self.connect(port, source=source)
            first = client.readLine()
            if first == "NICK":
                client.sendLine(nickname)
                client.expect("Connected to server!")
                return
            client.close()
            self.assertLess(time.monotonic(), deadline, f"never admitted again: {first!r}")
            time.sleep(0.05)


class RoomOptionTests(ServerTestCase):
    """
    C{--room kuchnia}: the room everyone starts in.
    """

    serverArguments = ("--room", "kuchnia")
    room = "kuchnia"

    def test_everyoneStartsThere(self) -> None:
        """
        Newcomers find themselves and each other in kuchnia, the only room.
        """
        alicja, bob = self.connectAll("Alicja", "Bob")
        bob.sendLine("/who")
        bob.expect("In room kuchnia (2): Alicja and Bob")
        bob.sendLine("/rooms")
        bob.expect("1 room: kuchnia (2)")

    def test_lobbyIsAnyOtherRoom(self) -> None:
        """
        lobby is then a room like any other: made on demand, gone when left.
        """
        alicja, bob = self.connectAll("Alicja", "Bob")
        alicja.sendLine("/join lobby")
        bob.expect("Alicja went to room lobby.")
        alicja.expect("You are now in room lobby (1 member).")
        alicja.sendLine("/join kuchnia")
        bob.expect("Alicja came over from room lobby.")
        bob.sendLine("/rooms")
        bob.expect("1 room: kuchnia (2)")


class MaxConnectionsTests(OwnServerTestCase):
    """
    C{--max-connections 3}: connections allowed at once, all front-ends
    together, from any addresses.
    """

    def test_nativeRefusedWhenFull(self) -> None:
        """
        With three connected (from three addresses, none registered), a
        fourth is told the server is full and closed; once one leaves, a
        newcomer is let in.
        """
        server = self.startServer("--max-connections", "3")
        clients = [self.connect(server.port, source=f"127.0.0.{n}") for n in (1, 2, 3)]
        for client in clients:
            client.expect("NICK")
        refused = self.connect(server.port, source="127.0.0.4")
        self.assertEqual(refused.readUntilClosed(), [FULL])
        clients[0].close()
        self.registerEventually(server.port, "Newcomer", source="127.0.0.4")

    def test_IRCCountsToo(self) -> None:
        """
        IRC connections count against the same limit: two IRC clients and
        one native fill it, and the next native client is refused.
        """
        server = self.startServer("--max-connections", "3", irc=True)
        assert server.ircPort is not None
        for number in (1, 2):
            irc = self.connect(server.ircPort, source=f"127.0.0.{number}")
            # Answered, so admitted: a refused one gets ERROR instead.
            irc.sendLine(f"PING :admitted{number}")
            irc.expect(f":chatsvc PONG chatsvc :admitted{number}")
        self.connect(server.port, source="127.0.0.3").expect("NICK")
        refused = self.connect(server.port, source="127.0.0.4")
        self.assertEqual(refused.readUntilClosed(), [FULL])


class MaxPerAddressTests(OwnServerTestCase):
    """
    C{--max-per-address 2}: connections allowed at once from one address.
    """

    def test_thirdFromOneAddressRefused(self) -> None:
        """
        A third connection from one address is told the limit and closed,
        while another address is still let in; once one of the two leaves,
        the first address may connect again.
        """
        server = self.startServer("--max-per-address", "2")
        first = self.connect(server.port)
        first.expect("NICK")
        self.connect(server.port).expect("NICK")
        self.assertEqual(self.connect(server.port).readUntilClosed(), [tooMany(2)])
        self.connect(server.port, source="127.0.0.2").expect("NICK")
        first.close()
        self.registerEventually(server.port, "Newcomer")


class RegisterTimeoutTests(OwnServerTestCase):
    """
    C{--register-timeout 1}: seconds a connection has to choose a nickname.
    """

    def test_toldAndClosed(self) -> None:
        """
        A connection without a nickname is told and closed after a second,
        not before; one that registered before it stays.
        """
        server = self.startServer("--register-timeout", "1")
        # Connected first, so that its own deadline, were it not cancelled
        # by registering, would come first too.
        registered = self.connect(server.port)
        registered.register("Ola")
        started = time.monotonic()
        silent = self.connect(server.port)
        silent.expect("NICK")
        self.assertEqual(silent.readUntilClosed(), [TIMED_OUT])
        self.assertGreaterEqual(time.monotonic() - started, 0.9)
        registered.sendLine("/who")
        registered.expect("In room lobby (1): Ola")


class IRCNameOptionTests(ServerTestCase):
    """
    C{--irc-name chat.example.org}: the server name IRC clients see.
    """

    serverArguments = ("--irc-name", "chat.example.org")
    irc = True

    def test_everyServerLineCarriesIt(self) -> None:
        """
        Every line of the welcome, and the answer to a PING, comes from
        chat.example.org, which also names itself as the host.
        """
        assert self.server.ircPort is not None
        irc = LineClient(self.server.ircPort)
        self.addCleanup(irc.close)
        irc.sendLine("NICK Ola")
        irc.sendLine("USER ola 0 * :Ola")
        welcome = irc.readUntil(":chat.example.org 376 Ola :End of /MOTD command.")
        self.assertEqual(
            [line for line in welcome if not line.startswith(":chat.example.org ")], []
        )
        self.assertIn(
            ":chat.example.org 002 Ola :Your host is chat.example.org, running version ",
            "\n".join(welcome),
        )
        irc.sendLine("PING :token")
        irc.expect(":chat.example.org PONG chat.example.org :token")


class NativeDefaultsTests(ServerTestCase):
    """
    What a server started with no options of its own (but the loopback
    port) is like for native clients.
    """

    def test_lobbyEnglishNoPassword(self) -> None:
        """
        A newcomer is asked its nickname (no password), welcomed in English,
        and is in room lobby.
        """
        client = self.connect()
        client.expect("NICK")
        client.sendLine("Ola")
        client.expect("Connected to server!")
        client.sendLine("/who")
        client.expect("In room lobby (1): Ola")

    def test_noIRCUnlessGiven(self) -> None:
        """
        Only the native front-end listens.
        """
        output = self.server.output
        self.assertEqual(len(re.findall(rb"\] native listening on ", output)), 1, output)
        self.assertNotIn(b"irc listening", output)

    def test_backlog(self) -> None:
        """
        The listening socket takes a backlog of 1,024 connections (or the
        system's most, if lower).
        """
        shown = ss("-l", f"( sport = :{self.server.port} )")
        most = int(Path("/proc/sys/net/core/somaxconn").read_text())
        # State, Recv-Q (connections waiting), Send-Q (the backlog), address.
        backlogs = [int(line.split()[2]) for line in shown.splitlines()]
        self.assertEqual(backlogs, [min(1024, most)], shown)

    def test_keepAliveAfter90Seconds(self) -> None:
        """
        The kernel's keepalive timer on the server's side of a native
        connection runs for 90 seconds (--ping-interval), not the 60 of the
        module's own default nor the system's two hours.
        """
        client = self.connect("Ola")
        client.catchUp()
        mine = client.socket.getsockname()[1]
        # ss shows one timer per socket: retransmission while output is
        # unacknowledged, keepalive once the connection is idle.
        deadline = time.monotonic() + TIMEOUT
        while True:
            shown = ss(
                "-o", "state", "established",
                f"( sport = :{self.server.port} and dport = :{mine} )",
            )
            # As ss writes them: 59sec, 1min29sec.
            timers = [
                int(minutes or 0) * 60 + int(seconds)
                for minutes, seconds in re.findall(
                    r"timer:\(keepalive,(?:(\d+)min)?(\d+)sec", shown
                )
            ]
            if timers or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(len(timers), 1, shown)
        self.assertGreater(timers[0], 60)
        self.assertLessEqual(timers[0], 90)


class IRCDefaultsTests(ServerTestCase):
    """
    What a server started with only C{--irc-port} is like for IRC clients.
    """

    irc = True

    def test_serverNameChatsvc(self) -> None:
        """
        The server calls itself chatsvc.
        """
        assert self.server.ircPort is not None
        irc = LineClient(self.server.ircPort)
        self.addCleanup(irc.close)
        irc.sendLine("NICK Ola")
        irc.sendLine("USER ola 0 * :Ola")
        irc.expect(":chatsvc 001 Ola :Welcome to the chatsvc IRC network Ola!~ola@127.0.0.1")
        irc.sendLine("PING :token")
        irc.readUntil(":chatsvc PONG chatsvc :token")


class PerAddressDefaultTests(OwnServerTestCase):
    def test_hundredFromOneAddress(self) -> None:
        """
        One address may hold 100 connections; the 101st is told the limit,
        while another address is still let in.
        """
        server = self.startServer()
        for _ in range(100):
            self.connect(server.port).expect("NICK")
        self.assertEqual(self.connect(server.port).readUntilClosed(), [tooMany(100)])
        self.connect(server.port, source="127.0.0.2").expect("NICK")


class FloodDefaultTests(OwnServerTestCase):
    def test_tenAtOnceThenFiveASecond(self) -> None:
        """
        With the server's own flood control, ten lines go through at once,
        the sender is told the policy, and the twelfth line cannot be said
        before 0.4 seconds have passed; none is lost.
        """
        server = self.startServer(floodControl=True)
        flooder = self.connect(server.port)
        flooder.register("Flooder")
        # The nickname took a token; let the bucket fill up again.
        time.sleep(0.3)
        started = time.monotonic()
        flooder.send(b"".join(b"line %d\n" % n for n in range(12)))
        heard = flooder.readUntil("Flooder: line 11")
        elapsed = time.monotonic() - started
        warning = "! Slow down: 10 lines at once, then 5 a second; the rest wait their turn."
        self.assertEqual(heard.count(warning), 1, heard)
        self.assertEqual(
            [line for line in heard if line != warning],
            [f"Flooder: line {n}" for n in range(11)],
        )
        # The tenth line at the latest went through at once.
        self.assertGreaterEqual(heard.index(warning), 10, heard)
        # Twelve lines take twelve tokens: ten at the start, two at 5 a second.
        self.assertGreaterEqual(elapsed, 0.35)


class CrowdDefaultTests(OwnServerTestCase):
    def test_summariesFromHundredMembers(self) -> None:
        """
        Arrivals are told one by one while the room has fewer than 100
        members, even two at once; from the 100th on, two arriving at once
        are told in one summary.
        """
        # 101 members from one address.
        server = self.startServer("--max-per-address", "200")
        first = self.connect(server.port)
        first.register("Member001")
        for number in range(2, 98):
            self.connect(server.port).register(f"Member{number:03}")
            first.expect(f"Member{number:03} joined the chat!")

        def arriveTogether(*nicknames: str) -> None:
            clients = [self.connect(server.port) for _ in nicknames]
            for client in clients:
                client.expect("NICK")
            # Frozen, the server finds both nicknames waiting at once.
            with server.paused():
                for client, nickname in zip(clients, nicknames):
                    client.sendLine(nickname)
                time.sleep(0.1)
            for client in clients:
                client.expect("Connected to server!")

        arriveTogether("Member098", "Member099")
        first.expect("Member098 joined the chat!")
        first.expect("Member099 joined the chat!")
        arriveTogether("Member100", "Member101")
        first.expect("Member100 and Member101 joined the chat!")
        first.sendLine("marker")
        self.assertEqual(first.readUntil("Member001: marker"), [])
