"""
The bounds of C{docs/bounds.rst} against the real C{twistd -n chat}: each
test tries to pass one, checks what the client is told, and checks that the
server's resident memory stays within a figure stated in the test.

Every class starts a server of its own per test (both front-ends), so that
what one attack leaves behind is never counted against another.  Memory is
read from C{/proc/<pid>/status}: the idle figure (C{VmRSS} once the
server's own clients are in), the peak (C{VmHWM} once the attack is over)
and the figure once the attackers have left (C{VmRSS}).  Each budget is what
the attack may add, peak over idle, chosen from measurement with headroom
(the measured figure is beside it); every test prints its figures (C{bound
<name>: ...}).  Memory freed by Python stays with the process, so the figure
after is near the peak: where an attack leaves a lasting cost (the history
store's first batches and SQLite cache), it comes in two identical rounds
and the second may add almost nothing.

Rows tested elsewhere, not repeated here:

 - connections in total and per address:
   L{tests.test_options_integration.MaxConnectionsTests},
   L{tests.test_options_integration.MaxPerAddressTests},
   L{tests.test_options_integration.PerAddressDefaultTests},
   L{tests.test_irc_integration.IRCLimitTests};
 - registration timeout (native; IRC silent, NICK only, and CAP LS followed
   by silence): L{tests.test_options_integration.RegisterTimeoutTests},
   L{tests.test_irc_integration.IRCRegistrationTimeoutTests} (here: a CAP
   negotiation that keeps talking and never ends);
 - flood control (burst, rate, cut off past the limit):
   L{tests.test_options_integration.FloodDefaultTests},
   L{tests.test_flood.FloodTests}, L{tests.test_irc_integration.IRCFloodTests}
   (here: NICK churn held to it);
 - the line limit: L{tests.test_integration.FramingTests},
   L{tests.test_irc_integration.RegistrationTests.test_tooLongLine};
 - the send queue of a reader that stopped: L{tests.test_faults.SlowReaderTests},
   L{tests.test_integration.InputTests.test_neverReading},
   L{tests.test_integration.LeavingTests.test_cutOffByServer};
 - crowd summaries: L{tests.test_options_integration.CrowdDefaultTests},
   L{tests.test_integration.CrowdTests};
 - a silent native peer (TCP keepalive): L{tests.test_integration.KeepAliveTests},
   L{tests.test_options_integration.NativeDefaultsTests.test_keepAliveAfter90Seconds}.
"""

from __future__ import annotations

import time
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from tests.harness import TIMEOUT, LineClient, ServerProcess

SERVER = "chatsvc"
# Ten characters that show where a text was cut.
DIGITS = "0123456789"


def closingLink(host: str, why: str) -> str:
    return f"ERROR :Closing Link: {host} ({why})"


def text(length: int) -> str:
    """
    C{length} ASCII characters, each tenth one a letter that counts them.
    """
    return "".join(
        chr(ord("a") + (index // 10) % 26) if index % 10 == 0 else DIGITS[index % 10]
        for index in range(length)
    )


def takeAvailable(client: LineClient) -> bool:
    """
    Read whatever has arrived for C{client}, without waiting; whether the
    server has closed the connection.
    """
    client.socket.setblocking(False)
    try:
        while True:
            chunk = client.socket.recv(65536)
            if not chunk:
                return True
            client.buffer += chunk
            client.received += chunk
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True
    finally:
        client.socket.settimeout(client.timeout)


def takeLines(client: LineClient) -> list[str]:
    """
    The complete lines read so far and not yet taken.
    """
    *lines, client.buffer = client.buffer.split(b"\n")
    return [line.rstrip(b"\r").decode("utf-8") for line in lines]


def readCounting(client: LineClient, wanted: str, count: int) -> list[str]:
    """
    What C{client} hears until it has heard C{count} lines ending in
    C{wanted}, those included.
    """
    deadline = time.monotonic() + TIMEOUT
    lines = []
    while count:
        line = client.readLine(deadline)
        lines.append(line)
        count -= line.endswith(wanted)
    return lines


def attackerSource(number: int) -> str:
    """
    The loopback address of attacker C{number}: 127.0.0.2 and on, so that
    no address reaches the per-address limit.
    """
    return f"127.0.0.{2 + number % 60}"


class BoundTestCase(SynchronousTestCase):
    """
    Tests that each start a server of their own, with its IRC front-end, and
    attack one bound of it.
    """

    server: ServerProcess

    def startServer(self, *arguments: str, floodControl: bool = False) -> ServerProcess:
        server = ServerProcess(*arguments, irc=True, floodControl=floodControl)
        server.start(str(Path(self.mktemp()).resolve()))
        self.addCleanup(server.stop)
        # Before it is stopped (cleanups run last first), after the clients
        # have closed.
        self.addCleanup(self.assertServerSurvived, server)
        self.server = server
        return server

    def assertServerSurvived(self, server: ServerProcess) -> None:
        """
        Whatever the attack did, the server still runs and never crashed a
        handler.
        """
        self.assertTrue(server.running(), server.output.decode()[-2000:])
        self.assertNotIn(b"Traceback", server.output)

    # Clients

    def connect(self, port: int, source: str | None = None) -> LineClient:
        client = LineClient(port, source=source)
        self.addCleanup(client.close)
        return client

    def native(self, nickname: str, source: str | None = None) -> LineClient:
        client = self.connect(self.server.port, source)
        client.register(nickname)
        return client

    def irc(
        self, nickname: str, channel: str | None = None, source: str | None = None
    ) -> LineClient:
        """
        A raw IRC client, registered (its welcome read) and in C{channel}.
        """
        assert self.server.ircPort is not None
        client = self.connect(self.server.ircPort, source)
        self.sendRegistration(client, nickname)
        self.readWelcome(client, nickname)
        if channel is not None:
            client.sendLine(f"JOIN {channel}")
            client.readUntil(f":{SERVER} 366 {nickname} {channel} :End of /NAMES list")
        return client

    def sendRegistration(self, client: LineClient, nickname: str) -> None:
        client.sendLine(f"NICK {nickname}")
        client.sendLine(f"USER {nickname.lower()[:10]} 0 * :{nickname}")

    def readWelcome(self, client: LineClient, nickname: str) -> list[str]:
        return client.readUntil(f":{SERVER} 376 {nickname} :End of /MOTD command.")

    def ircCrowd(
        self, count: int, prefix: str, channel: str | None = None
    ) -> list[tuple[str, LineClient]]:
        """
        C{count} registered IRC clients from addresses other than 127.0.0.1,
        all registering at once.
        """
        assert self.server.ircPort is not None
        crowd = []
        for number in range(count):
            nickname = f"{prefix}{number}"
            client = self.connect(self.server.ircPort, attackerSource(number))
            self.sendRegistration(client, nickname)
            if channel is not None:
                client.sendLine(f"JOIN {channel}")
            crowd.append((nickname, client))
        for nickname, client in crowd:
            self.readWelcome(client, nickname)
            if channel is not None:
                client.readUntil(f":{SERVER} 366 {nickname} {channel} :End of /NAMES list")
        return crowd

    def quitAll(self, crowd: list[tuple[str, LineClient]]) -> None:
        for _, client in crowd:
            client.sendLine("QUIT")
        for _, client in crowd:
            client.readUntilClosed()
            client.close()

    # What the server holds, as IRC's LUSERS and LIST tell it

    def lusers(self, client: LineClient) -> list[str]:
        """
        C{client}'s LUSERS answer, 251 to 255, without the prefix and target
        (265 and 266, which end it, are read and left out).
        """
        client.sendLine("LUSERS")
        deadline = time.monotonic() + TIMEOUT
        lines = []
        while True:
            line = client.readLine(deadline)
            numeric = line.split()[1:2]
            if numeric == ["266"]:
                return lines
            if numeric in (["251"], ["252"], ["253"], ["254"], ["255"]):
                lines.append(line.split(" ", 3)[1] + " " + line.split(" ", 3)[3])

    def waitForUsers(self, client: LineClient, users: int) -> None:
        """
        Wait until the server holds C{users} registered connections and no
        unregistered ones (everyone else has left).
        """
        deadline = time.monotonic() + TIMEOUT
        wanted = f"251 :There are {users} users and 0 invisible on 1 servers"
        while True:
            lines = self.lusers(client)
            if lines[0] == wanted and lines[2] == "253 0 :unknown connection(s)":
                return
            self.assertLess(time.monotonic(), deadline, f"still connected: {lines}")
            time.sleep(0.05)

    def channels(self, client: LineClient, nickname: str) -> list[str]:
        """
        Every channel LIST gives C{client}: C{"#name users :topic"}.
        """
        client.sendLine("LIST")
        lines = client.readUntil(f":{SERVER} 323 {nickname} :End of /LIST")
        self.assertIn(f":{SERVER} 321 {nickname} Channel :Users  Name", lines)
        prefix = f":{SERVER} 322 {nickname} "
        # Whatever else it heard meanwhile (others coming and going) aside.
        return [line[len(prefix) :] for line in lines if line.startswith(prefix)]

    # Memory

    def idleMemory(self) -> int:
        """
        The server's resident memory in KiB once it has settled.
        """
        time.sleep(0.2)
        return self.server.memory()["VmRSS"]

    def assertMemoryWithin(
        self,
        what: str,
        idle: int,
        budget: int,
        first: int | None = None,
        growth: int | None = None,
    ) -> None:
        """
        The server's peak resident memory is at most C{budget} KiB over
        C{idle}, and so is what it holds now; if the attack came in two
        identical rounds, the second added at most C{growth} KiB to what
        the server held after the C{first}.  The figures are printed.
        """
        memory = self.server.memory()
        peak, after = memory["VmHWM"], memory["VmRSS"]
        rounds = "" if first is None else f"after round 1 {first} (+{first - idle}), "
        print(
            f"\nbound {what}: RSS KiB idle {idle}, peak {peak} (+{peak - idle}), "
            f"{rounds}after {after} (+{after - idle}); budget +{budget}"
            + ("" if growth is None else f", second round +{growth}")
        )
        self.assertLessEqual(peak - idle, budget, (what, idle, peak, after))
        if first is not None and growth is not None:
            self.assertLessEqual(after - first, growth, (what, idle, first, after))


class RoomsPerConnectionTests(BoundTestCase):
    """
    Rooms (IRC channels) one connection may be in: 20 by default,
    C{--max-rooms-per-user}; IRC clients are told C{CHANLIMIT=#:20}, native
    users are in one room at a time.
    """

    # Forty connections in twenty channels each: 800 rooms of one member
    # (measured: +1.5 MB at the peak).
    BUDGET_KIB = 4 * 1024

    def test_twentyThenRefused(self) -> None:
        """
        A JOIN of 25 channels joins the first 20 and answers 405 for each of
        the other 5; 40 connections trying 40 channels each hold 20 each,
        and the rooms go with them.
        """
        self.startServer()
        ola = self.irc("Ola")
        idle = self.idleMemory()
        channels = [f"#c{number}" for number in range(25)]
        ola.sendLine("JOIN " + ",".join(channels))
        heard = ola.readUntil(f":{SERVER} 405 Ola #c24 :You have joined too many channels")
        joined = [line for line in heard if " JOIN " in line]
        self.assertEqual(joined, [f":Ola!~ola@127.0.0.1 JOIN {c}" for c in channels[:20]])
        self.assertEqual(
            [line for line in heard if " 405 " in line],
            [f":{SERVER} 405 Ola {c} :You have joined too many channels" for c in channels[20:24]],
        )
        # One more, alone, is refused too.
        ola.sendLine("JOIN #more")
        ola.expect(f":{SERVER} 405 Ola #more :You have joined too many channels")

        crowd = self.ircCrowd(40, "many")
        for nickname, client in crowd:
            names = [f"#{nickname}x{k}" for k in range(40)]
            client.sendLine("JOIN " + ",".join(names[:20]))
            client.sendLine("JOIN " + ",".join(names[20:]))
        for nickname, client in crowd:
            heard = client.readUntil(
                f":{SERVER} 405 {nickname} #{nickname}x39 :You have joined too many channels"
            )
            self.assertEqual(sum(" JOIN " in line for line in heard), 20, heard)
            self.assertEqual(sum(f" 405 {nickname} " in line for line in heard), 19, heard)
        ola.sendLine(f"WHOIS {crowd[0][0]}")
        (whois,) = [
            line for line in ola.readUntil(f":{SERVER} 318 Ola many0 :End of /WHOIS list")
            if " 319 " in line
        ]
        self.assertEqual(len(whois.split(":", 2)[2].split()), 20, whois)
        self.assertEqual(self.lusers(ola)[3], "254 820 :channels formed")
        self.assertEqual(len(self.channels(ola, "Ola")), 820)

        self.quitAll(crowd)
        self.waitForUsers(ola, 1)
        self.assertEqual(
            sorted(self.channels(ola, "Ola")), sorted(f"{c} 1 :" for c in channels[:20])
        )
        self.assertMemoryWithin("rooms per connection", idle, self.BUDGET_KIB)

    def test_option(self) -> None:
        """
        C{--max-rooms-per-user 3}: the server says C{CHANLIMIT=#:3}, a
        fourth channel is refused, and a PART makes room for it again.
        """
        self.startServer("--max-rooms-per-user", "3")
        assert self.server.ircPort is not None
        ola = self.connect(self.server.ircPort)
        self.sendRegistration(ola, "Ola")
        welcome = self.readWelcome(ola, "Ola")
        self.assertIn(" CHANLIMIT=#:3 ", "\n".join(welcome))
        ola.sendLine("JOIN #a,#b,#c,#d")
        self.assertEqual(
            ola.readUntil(f":{SERVER} 405 Ola #d :You have joined too many channels")[-1],
            f":{SERVER} 366 Ola #c :End of /NAMES list",
        )
        ola.sendLine("PART #a")
        ola.expect(":Ola!~ola@127.0.0.1 PART #a")
        ola.sendLine("JOIN #d")
        ola.expect(":Ola!~ola@127.0.0.1 JOIN #d")

    def test_nativeInOneRoom(self) -> None:
        """
        A native user who goes from room to room is in one at a time: the
        default room stays, the others go as it leaves them.
        """
        self.startServer()
        bob = self.native("Bob")
        for number in range(30):
            bob.sendLine(f"/join r{number}")
        for number in range(30):
            bob.expect(f"You are now in room r{number} (1 member).")
        bob.sendLine("/rooms")
        bob.expect("2 rooms: lobby (0), r29 (1)")


class RoomsInTotalTests(BoundTestCase):
    """
    Rooms the server holds: C{--max-rooms} (10,000 by default; 50 here).
    """

    # 100 connections from 60 addresses trying to make 2,000 rooms, of which
    # 50 are made (measured: +0.7 MB).
    BUDGET_KIB = 4 * 1024
    FULL_IRC = ":The server holds 50 channels; join one of them"
    FULL_NATIVE = "! The server holds as many rooms as it may (50); join one of them (/rooms)."

    def test_fiftyThenRefused(self) -> None:
        """
        Many connections making rooms make 50 (the default room counted);
        then a new one is refused on IRC (405) and on the native protocol,
        while the rooms there are still joinable, and one that empties makes
        room for a new one.
        """
        self.startServer("--max-rooms", "50")
        bob = self.native("Bob")  # lobby: the first room
        probe = self.irc("Probe")
        idle = self.idleMemory()

        crowd = self.ircCrowd(100, "maker")
        for nickname, client in crowd:
            client.sendLine("JOIN " + ",".join(f"#{nickname}x{k}" for k in range(20)))
        made: list[tuple[str, LineClient, str]] = []
        refused = 0
        for number, (nickname, client) in enumerate(crowd):
            for k in range(20):
                channel = f"#{nickname}x{k}"
                line = client.readLine()
                if line == f":{SERVER} 405 {nickname} {channel} {self.FULL_IRC}":
                    refused += 1
                    continue
                mask = f"{nickname}!~{nickname}@{attackerSource(number)}"
                self.assertEqual(line, f":{mask} JOIN {channel}")
                client.readUntil(f":{SERVER} 366 {nickname} {channel} :End of /NAMES list")
                made.append((mask, client, channel))
        self.assertEqual(len(made), 49)
        self.assertEqual(refused, 2000 - 49)
        self.assertEqual(self.lusers(probe)[3], "254 50 :channels formed")
        self.assertEqual(len(self.channels(probe, "Probe")), 50)

        bob.sendLine("/join newroom")
        bob.expect(self.FULL_NATIVE)
        bob.sendLine("/who")
        bob.expect("In room lobby (1): Bob")
        # The rooms there are still open to everyone.
        first, second = made[0][2], made[1][2]
        bob.sendLine(f"/join {first[1:]}")
        bob.expect(f"You are now in room {first[1:]} (2 members).")
        probe.sendLine(f"JOIN {second},#newchannel")
        probe.expect(f":Probe!~probe@127.0.0.1 JOIN {second}")
        probe.readUntil(f":{SERVER} 366 Probe {second} :End of /NAMES list")
        probe.expect(f":{SERVER} 405 Probe #newchannel {self.FULL_IRC}")
        # A room whose last member leaves makes room for a new one.
        mask, client, last = made[-1]
        client.sendLine(f"PART {last}")
        client.expect(f":{mask} PART {last}")
        probe.sendLine("JOIN #newchannel")
        probe.expect(":Probe!~probe@127.0.0.1 JOIN #newchannel")
        probe.readUntil(f":{SERVER} 366 Probe #newchannel :End of /NAMES list")

        self.quitAll(crowd)
        bob.sendLine("/join lobby")
        bob.readUntil("You are now in room lobby (1 member).")
        self.waitForUsers(probe, 2)
        self.assertEqual(
            sorted(self.channels(probe, "Probe")),
            sorted([f"{second} 1 :", "#newchannel 1 :", "#lobby 1 :"]),
        )
        self.assertMemoryWithin("rooms in total", idle, self.BUDGET_KIB)


class EmptyRoomsTests(BoundTestCase):
    """
    A room exists while it has members: churn leaves only the default room.
    """

    # Each round: 8,000 rooms made and dropped by 40 IRC connections, 2,000
    # by 20 native ones.  The first costs the history store its batches and
    # SQLite cache (measured: +13 to 15 MB); a second adds little (measured:
    # up to +1.2 MB), where a server that kept every room would add as much
    # again.
    BUDGET_KIB = 24 * 1024
    GROWTH_KIB = 5 * 1024

    def churn(self, round: int, probe: LineClient) -> None:
        """
        A round of room churn, by IRC and native users, who then leave.
        """
        crowd = self.ircCrowd(40, f"churn{round}x")
        for nickname, client in crowd:
            client.send(
                b"".join(
                    b"JOIN #%sx%d\r\nPART #%sx%d\r\n" % (nickname.encode(), k, nickname.encode(), k)
                    for k in range(200)
                )
                + b"JOIN #a,#b,#c\r\nJOIN 0\r\nPING :done\r\n"
            )
        natives = []
        for number in range(20):
            client = self.connect(self.server.port, attackerSource(number))
            client.register(f"walker{round}x{number}")
            client.send(b"".join(b"/join w%dx%dx%d\n" % (round, number, k) for k in range(100)))
            natives.append(client)
        for nickname, client in crowd:
            heard = client.readUntil(f":{SERVER} PONG {SERVER} :done")
            own = [line for line in heard if line.startswith(f":{nickname}!")]
            self.assertEqual(sum(" PART " in line for line in own), 203, own[-10:])
        for number, client in enumerate(natives):
            client.readUntil(f"You are now in room w{round}x{number}x99 (1 member).")
        self.assertEqual(
            sorted(self.channels(probe, "Probe")),
            sorted(["#lobby 1 :", *(f"#w{round}x{number}x99 1 :" for number in range(20))]),
        )
        for client in natives:
            client.sendLine("/join lobby")
            client.readUntil("You are now in room lobby (2 members).")
            client.sendLine("/quit")
            client.readUntilClosed()
            client.close()
        self.quitAll(crowd)
        self.waitForUsers(probe, 2)
        self.assertEqual(self.channels(probe, "Probe"), ["#lobby 1 :"])

    def test_joinPartChurn(self) -> None:
        """
        40 IRC connections joining and parting 200 new channels each, and
        20 native users going through 100 rooms each, leave only the
        default room (and the rooms people are still in); a second round
        of as many new rooms leaves the server's memory where the first did.
        """
        self.startServer()
        bob = self.native("Bob")
        probe = self.irc("Probe")
        idle = self.idleMemory()
        self.churn(1, probe)
        first = self.server.memory()["VmRSS"]
        self.churn(2, probe)
        bob.sendLine("/rooms")
        bob.readUntil("1 room: lobby (1)")
        self.assertMemoryWithin("empty rooms", idle, self.BUDGET_KIB, first, self.GROWTH_KIB)


class TopicLengthTests(BoundTestCase):
    """
    A room's topic: cut at 390 characters (C{TOPICLEN}), for IRC and native
    users alike.
    """

    # Each round: 40 connections setting 100 topics of 496 characters each,
    # in rooms of their own and in #lobby; one topic per room is kept (and
    # remembered when the room goes, at most --max-rooms of them).  The
    # first round costs the history store its batches and SQLite cache
    # (measured: +10 to 22 MB); a second adds less, all of it heap that
    # Python keeps after the round's peak (measured alone: +1.5 to +5.9 MB;
    # in a CI run on a machine busy with other work, +10.1 MB; in the whole
    # suite under -j2 on two cores, +12.2 and +12.7 MB), where a server
    # that kept every topic set would add at least round one's again on top
    # of that heap.  So the second round shows a gross leak, not a small
    # one: the hub's unit tests hold topics to one per room.
    BUDGET_KIB = 24 * 1024
    GROWTH_KIB = 16 * 1024

    def test_cutAt390(self) -> None:
        """
        The longest TOPIC a client can send (496 characters) is cut to 390:
        in the TOPIC everyone in the channel sees, in 332 and in LIST, and
        for native users; topic churn keeps one topic per room, and a second
        round of it leaves the server's memory where the first did.
        """
        self.startServer()
        bob = self.native("Bob")
        # Bob made the lobby, +t as every room: he lets anyone set its topic.
        bob.sendLine("/mode -t")
        bob.expect("Bob set the modes of room lobby: -t")
        ola = self.connect(self.server.ircPort)
        self.sendRegistration(ola, "Ola")
        welcome = self.readWelcome(ola, "Ola")
        self.assertIn(" TOPICLEN=390 ", "\n".join(welcome))
        ola.sendLine("JOIN #lobby")
        ola.readUntil(f":{SERVER} 366 Ola #lobby :End of /NAMES list")
        bob.expect("Ola joined the chat!")
        idle = self.idleMemory()

        command = "TOPIC #lobby :"
        topic = text(510 - len(command))
        self.assertEqual(len(topic), 496)
        ola.sendLine(command + topic)
        ola.expect(f":Ola!~ola@127.0.0.1 TOPIC #lobby :{topic[:390]}")
        bob.expect(f"Ola set the topic of room lobby: {topic[:390]}")
        ola.sendLine("TOPIC #lobby")
        ola.expect(f":{SERVER} 332 Ola #lobby :{topic[:390]}")
        self.assertEqual(self.channels(ola, "Ola"), [f"#lobby 2 :{topic[:390]}"])

        def longest(number: int, channel: str) -> str:
            # The longest topic for channel that attacker number can send.
            return f"{number:02}" + text(510 - len(f"TOPIC {channel} :") - 2)

        def churn(round: int) -> None:
            crowd = self.ircCrowd(40, f"topic{round}x", channel="#lobby")
            for nickname, client in crowd:
                client.sendLine(f"JOIN #{nickname}")
            for nickname, client in crowd:
                client.readUntil(f":{SERVER} 366 {nickname} #{nickname} :End of /NAMES list")
            # Every 25th step in #lobby, where everyone hears it.
            for step in range(100):
                for number, (nickname, client) in enumerate(crowd):
                    channel = "#lobby" if step % 25 == 0 else f"#{nickname}"
                    client.sendLine(f"TOPIC {channel} :{longest(number, channel)}")
                for _, client in crowd:
                    client.catchUp()
                bob.catchUp()
                ola.catchUp()
            for nickname, client in crowd:
                client.sendLine("PING :done")
                client.readUntil(f":{SERVER} PONG {SERVER} :done")
            topics = dict(line.split(" ", 1) for line in self.channels(ola, "Ola"))
            self.assertEqual(len(topics), 41)
            for number, (nickname, _) in enumerate(crowd):
                self.assertEqual(
                    topics[f"#{nickname}"], f"1 :{longest(number, f'#{nickname}')[:390]}"
                )
            lobbyTopics = {f"42 :{longest(number, '#lobby')[:390]}" for number in range(40)}
            self.assertIn(topics["#lobby"], lobbyTopics)
            self.quitAll(crowd)
            self.waitForUsers(ola, 2)
            self.assertEqual(
                self.channels(ola, "Ola"), ["#lobby 2 " + topics["#lobby"].split(" ", 1)[1]]
            )

        churn(1)
        first = self.server.memory()["VmRSS"]
        churn(2)
        self.assertMemoryWithin("topic", idle, self.BUDGET_KIB, first, self.GROWTH_KIB)


class AwayLengthTests(BoundTestCase):
    """
    An away message: cut at 390 characters (C{AWAYLEN}).
    """

    # 40 connections setting 100 away messages of 504 characters each
    # (measured: +0.4 MB).
    BUDGET_KIB = 4 * 1024

    def test_cutAt390(self) -> None:
        """
        The longest AWAY a client can send (504 characters) comes back cut
        to 390, in WHOIS (301) and to whoever messages the away user.
        """
        self.startServer()
        ola = self.irc("Ola")
        ewa = self.connect(self.server.ircPort)
        self.sendRegistration(ewa, "Ewa")
        self.assertIn(" AWAYLEN=390 ", "\n".join(self.readWelcome(ewa, "Ewa")))
        idle = self.idleMemory()

        away = text(510 - len("AWAY :"))
        self.assertEqual(len(away), 504)
        ewa.sendLine(f"AWAY :{away}")
        ewa.expect(f":{SERVER} 306 Ewa :You have been marked as being away")
        ola.sendLine("WHOIS Ewa")
        heard = ola.readUntil(f":{SERVER} 318 Ola Ewa :End of /WHOIS list")
        self.assertIn(f":{SERVER} 301 Ola Ewa :{away[:390]}", heard)
        ola.sendLine("PRIVMSG Ewa :are you there?")
        ola.expect(f":{SERVER} 301 Ola Ewa :{away[:390]}")
        ewa.expect(":Ola!~ola@127.0.0.1 PRIVMSG Ewa :are you there?")

        crowd = self.ircCrowd(40, "away")
        for round in range(100):
            for nickname, client in crowd:
                client.sendLine(f"AWAY :{round:03}{away[3:]}")
            for _, client in crowd:
                client.catchUp()
        for nickname, client in crowd:
            client.sendLine("PING :done")
            client.readUntil(f":{SERVER} PONG {SERVER} :done")
        ola.sendLine("WHOIS away7")
        heard = ola.readUntil(f":{SERVER} 318 Ola away7 :End of /WHOIS list")
        self.assertIn(f":{SERVER} 301 Ola away7 :099{away[3:390]}", heard)
        self.quitAll(crowd)
        self.waitForUsers(ola, 2)
        self.assertMemoryWithin("away message", idle, self.BUDGET_KIB)


class RealNameLengthTests(BoundTestCase):
    """
    An IRC user's real name: cut at 128 characters; its user name at 10.
    """

    # 200 connections with the longest USER line each (measured: +0.7 MB).
    BUDGET_KIB = 4 * 1024

    def test_cutAt128(self) -> None:
        """
        The longest real name a USER line can carry comes back cut to 128
        characters in WHOIS (311) and WHO (352), the user name cut to 10.
        """
        self.startServer()
        ola = self.irc("Ola")
        idle = self.idleMemory()

        ewa = self.connect(self.server.ircPort)
        command = "USER abcdefghijklmnopqrstuvwxyz 0 * :"
        realname = text(510 - len(command))
        ewa.sendLine(command + realname)
        ewa.sendLine("NICK Ewa")
        ewa.expect(
            f":{SERVER} 001 Ewa :Welcome to the chatsvc IRC network "
            "Ewa!~abcdefghij@127.0.0.1"
        )
        ola.sendLine("WHOIS Ewa")
        ola.expect(f":{SERVER} 311 Ola Ewa ~abcdefghij 127.0.0.1 * :{realname[:128]}")
        ola.readUntil(f":{SERVER} 318 Ola Ewa :End of /WHOIS list")
        ola.sendLine("WHO Ewa")
        ola.expect(
            f":{SERVER} 352 Ola * ~abcdefghij 127.0.0.1 {SERVER} Ewa H :0 {realname[:128]}"
        )
        ola.expect(f":{SERVER} 315 Ola Ewa :End of /WHO list")

        crowd = []
        for number in range(200):
            client = self.connect(self.server.ircPort, attackerSource(number))
            client.sendLine(f"USER {'u' * 26} 0 * :{number:03}{realname[3:]}")
            client.sendLine(f"NICK real{number}")
            crowd.append((f"real{number}", client))
        for nickname, client in crowd:
            self.readWelcome(client, nickname)
        ola.sendLine("WHO real199")
        ola.expect(
            f":{SERVER} 352 Ola * ~uuuuuuuuuu {attackerSource(199)} {SERVER} real199 H "
            f":0 199{realname[3:128]}"
        )
        self.quitAll(crowd)
        self.waitForUsers(ola, 2)
        self.assertMemoryWithin("real name", idle, self.BUDGET_KIB)


class NicknameLengthTests(BoundTestCase):
    """
    A nickname: at most 32 characters (C{NICKLEN}); a longer one is refused
    (432, or the native error), never cut.
    """

    # 40 connections each asking for 200 nicknames that are too long
    # (measured: +1.3 MB).
    BUDGET_KIB = 4 * 1024
    LONG = "! That name is too long: at most 32 characters."

    def test_over32Refused(self) -> None:
        """
        33 characters get 432 before and after registering, and the native
        error for /nick; 32 are accepted.
        """
        self.startServer()
        bob = self.native("Bob")
        idle = self.idleMemory()
        longest, tooLong = "N" + "n" * 31, "N" + "n" * 32
        ola = self.connect(self.server.ircPort)
        ola.sendLine(f"NICK {tooLong}")
        ola.expect(f":{SERVER} 432 * {tooLong} :Erroneous nickname")
        ola.sendLine("NICK " + "N" * 400)
        ola.expect(f":{SERVER} 432 * {'N' * 400} :Erroneous nickname")
        ola.sendLine(f"NICK {longest}")
        ola.sendLine("USER ola 0 * :Ola")
        welcome = self.readWelcome(ola, longest)
        self.assertIn(" NICKLEN=32 ", "\n".join(welcome))
        ola.sendLine(f"NICK {tooLong}x")
        ola.expect(f":{SERVER} 432 {longest} {tooLong}x :Erroneous nickname")
        bob.sendLine(f"/nick {tooLong}")
        bob.expect(self.LONG)
        bob.sendLine("/who")
        bob.expect("In room lobby (1): Bob")
        native = self.connect(self.server.port)
        native.expect("NICK")
        native.sendLine(tooLong)
        native.expect(self.LONG)
        native.expect("NICK")
        native.close()

        crowd = self.ircCrowd(40, "long")
        for nickname, client in crowd:
            client.send(
                b"".join(b"NICK %s%03d\r\n" % (b"x" * 60, k) for k in range(200))
                + b"PING :done\r\n"
            )
        for nickname, client in crowd:
            heard = client.readUntil(f":{SERVER} PONG {SERVER} :done")
            self.assertEqual(len(heard), 200)
            self.assertEqual(heard[-1], f":{SERVER} 432 {nickname} {'x' * 60}199 :Erroneous nickname")
        self.quitAll(crowd)
        self.waitForUsers(ola, 2)
        self.assertMemoryWithin("nickname", idle, self.BUDGET_KIB)


class WhowasTests(BoundTestCase):
    """
    WHOWAS keeps at most 10,000 entries, 5 of one nickname: whoever has
    left is remembered until then.
    """

    # 500 connections registering and quitting, 60 at a time (measured:
    # +1.0 MB with nothing kept).
    BUDGET_KIB = 4 * 1024

    def test_keptWithinBounds(self) -> None:
        """
        After 500 users have come and gone, WHOWAS of each of them tells who
        they were, and their nicknames are free again.
        """
        self.startServer()
        ola = self.irc("Ola")
        bob = self.native("Bob")
        idle = self.idleMemory()
        for start in range(0, 500, 60):
            crowd = []
            for number in range(start, min(start + 60, 500)):
                client = self.connect(self.server.ircPort, attackerSource(number))
                self.sendRegistration(client, f"gone{number}")
                client.sendLine("JOIN #lobby")
                client.sendLine(f"QUIT :bye {number}")
                crowd.append(client)
            for client in crowd:
                client.readUntilClosed()
                client.close()
            bob.catchUp()
        self.waitForUsers(ola, 2)
        ola.send(b"".join(b"WHOWAS gone%d\r\n" % number for number in range(500)))
        for number in range(500):
            self.assertTrue(ola.readLine().startswith(f":{SERVER} 314 Ola gone{number} "))
            self.assertTrue(ola.readLine().startswith(f":{SERVER} 312 Ola gone{number} {SERVER} :"))
            ola.expect(f":{SERVER} 369 Ola gone{number} :End of WHOWAS")
        ola.sendLine("WHOIS gone499")
        ola.expect(f":{SERVER} 401 Ola gone499 :No such nick/channel")
        ola.expect(f":{SERVER} 318 Ola gone499 :End of /WHOIS list")
        ola.sendLine("NICK gone0")
        ola.expect(":Ola!~ola@127.0.0.1 NICK gone0")
        self.assertMemoryWithin("WHOWAS", idle, self.BUDGET_KIB)


class NicknameChurnTests(BoundTestCase):
    """
    NICK churn: the nickname index holds one entry per registered
    connection, and flood control holds a churner to its rate.
    """

    # 30 churners, each with a few hundred NICK lines waiting; or 40
    # renaming 500 times each (measured: +0.4 MB and +1.7 MB), which fills
    # WHOWAS's 10,000 entries as well (+5.4 MB in all).
    BUDGET_KIB = 4 * 1024
    WHOWAS_BUDGET_KIB = 8 * 1024
    WARNING = "*** Slow down: 10 lines at once, then 5 a second; the rest wait their turn."

    def test_heldToFloodControl(self) -> None:
        """
        With the default burst and rate (10 lines, then 5 a second) and a
        flood limit of 10, a client sending 300 NICK changes at once makes
        at most about 20 of them before it is told and cut off for excess
        flood; the room hears those and its leaving.
        """
        self.startServer("--flood-limit", "10", floodControl=True)
        bob = self.native("Bob")
        idle = self.idleMemory()
        churners = []
        for number in range(30):
            client = self.connect(self.server.ircPort, attackerSource(number))
            self.sendRegistration(client, f"churn{number}x0")
            client.sendLine("JOIN #lobby")
            churners.append(client)
        for number, client in enumerate(churners):
            client.readUntil(f":{SERVER} 366 churn{number}x0 #lobby :End of /NAMES list")
        bob.readUntil("churn29x0 joined the chat!")
        started = time.monotonic()
        for number, client in enumerate(churners):
            client.send(
                b"".join(b"NICK churn%dx%d\r\n" % (number, k) for k in range(1, 301))
            )
        for number, client in enumerate(churners):
            heard = client.readUntilClosed()
            self.assertEqual(heard[-1], closingLink(attackerSource(number), "Excess Flood"))
            # Its own renames, which it hears among everyone else's.
            renames = [
                line for line in heard
                if line.startswith(f":churn{number}x") and " NICK " in line
            ]
            self.assertEqual(
                renames,
                [
                    f":churn{number}x{k}!~churn{number}x0@{attackerSource(number)} "
                    f"NICK churn{number}x{k + 1}"
                    for k in range(len(renames))
                ],
            )
            # Told once, when the first line was held back.
            notices = [line for line in heard if " NOTICE " in line]
            self.assertEqual(len(notices), 1, heard)
            self.assertRegex(
                notices[0], rf"^:{SERVER} NOTICE churn{number}x\d+ :\*\*\* Slow down: "
            )
            self.assertTrue(notices[0].endswith(" :" + self.WARNING), notices)
            # Three tokens went on NICK, USER and JOIN; the bucket refills
            # at 5 a second while the flood is held, 11 lines at most.
            self.assertLessEqual(len(renames), 7 + 11 + 2, renames)
            self.assertGreaterEqual(len(renames), 7, renames)
        elapsed = time.monotonic() - started
        # Ten delayed lines at 5 a second.
        self.assertGreater(elapsed, 1.5)
        heard = readCounting(bob, " left the chat (Excess Flood).", 30)
        self.assertLessEqual(sum(" is now known as " in line for line in heard), 30 * 20)
        bob.sendLine("/who")
        bob.expect("In room lobby (1): Bob")
        self.assertMemoryWithin("nickname churn (flood control)", idle, self.BUDGET_KIB)

    def test_noGrowth(self) -> None:
        """
        Without flood control, 40 clients renaming 500 times each leave one
        nickname each: the old ones are free and unknown.
        """
        self.startServer()
        ola = self.irc("Ola")
        idle = self.idleMemory()
        crowd = self.ircCrowd(40, "n")
        for nickname, client in crowd:
            client.send(
                b"".join(b"NICK %sx%d\r\n" % (nickname.encode(), k) for k in range(500))
                + b"PING :done\r\n"
            )
        for number, (nickname, client) in enumerate(crowd):
            heard = client.readUntil(f":{SERVER} PONG {SERVER} :done")
            self.assertEqual(len(heard), 500)
            self.assertEqual(
                heard[-1],
                f":{nickname}x498!~{nickname}@{attackerSource(number)} NICK {nickname}x499",
            )
        ola.sendLine("ISON n0 n0x0 n0x498 n0x499 n39x499")
        ola.expect(f":{SERVER} 303 Ola :n0x499 n39x499")
        ola.sendLine("NICK n0x0")
        ola.expect(":Ola!~ola@127.0.0.1 NICK n0x0")
        self.quitAll(crowd)
        self.waitForUsers(ola, 1)
        # WHOWAS keeps the last 10,000 of the 20,000 nicknames given up:
        # those the crowd quit with are among them.
        ola.sendLine("WHOWAS n39x499")
        self.assertTrue(ola.readLine().startswith(f":{SERVER} 314 n0x0 n39x499 "))
        ola.readLine()
        ola.expect(f":{SERVER} 369 n0x0 n39x499 :End of WHOWAS")
        self.assertMemoryWithin("nickname churn", idle, self.WHOWAS_BUDGET_KIB)


class PingTimeoutTests(BoundTestCase):
    """
    A silent, half-open IRC peer: probed with a PING after
    C{--ping-interval} seconds of silence, closed after C{--ping-timeout}
    more (1 and 1 here).
    """

    # 100 silent connections, half of them registered and in channels
    # (measured: +0.5 MB).
    BUDGET_KIB = 4 * 1024

    def answering(self, client: LineClient, until: str) -> list[str]:
        """
        What C{client} hears before C{until}, answering every PING.
        """
        deadline = time.monotonic() + TIMEOUT
        lines = []
        while True:
            line = client.readLine(deadline)
            if line == until:
                return lines
            if line == f":{SERVER} PING {SERVER}":
                client.sendLine(f"PONG {SERVER}")
            else:
                lines.append(line)

    def untilClosed(self, clients: dict[int, LineClient], answering: LineClient) -> list[str]:
        """
        Wait until the server has closed every one of C{clients}, while
        C{answering} answers every PING it is sent; what it heard else.
        Bounded: 10 seconds in steps of 50 ms.
        """
        pending = dict(clients)
        heard = []
        for _ in range(200):
            for number, client in list(pending.items()):
                if takeAvailable(client):
                    del pending[number]
            takeAvailable(answering)
            for line in takeLines(answering):
                if line == f":{SERVER} PING {SERVER}":
                    answering.sendLine(f"PONG {SERVER}")
                else:
                    heard.append(line)
            if not pending:
                break
            time.sleep(0.05)
        self.assertEqual(list(pending), [], "never closed")
        return heard

    def test_neverAnswersPing(self) -> None:
        """
        A client that stops answering is sent a PING, then told
        C{ERROR ... (Ping timeout)} and closed; its room hears it quit for
        that reason, on IRC and natively, while a client that answers stays.
        """
        self.startServer("--ping-interval", "1", "--ping-timeout", "1")
        bob = self.native("Bob")
        ewa = self.irc("Ewa", "#lobby")
        ghost = self.irc("Ghost", "#lobby")
        bob.readUntil("Ghost joined the chat!")
        self.answering(ewa, ":Ghost!~ghost@127.0.0.1 JOIN #lobby")
        idle = self.idleMemory()
        started = time.monotonic()
        heard = self.untilClosed({0: ghost}, answering=ewa)
        self.assertGreater(time.monotonic() - started, 1.5)
        self.assertEqual(
            takeLines(ghost),
            [f":{SERVER} PING {SERVER}", closingLink("127.0.0.1", "Ping timeout")],
        )
        quit = ":Ghost!~ghost@127.0.0.1 QUIT :Ping timeout"
        if not heard:
            # The ghost is cut off at once; the room's QUIT leaves with the
            # next commit of history, a moment later.
            heard = [*self.answering(ewa, quit), quit]
        self.assertEqual(heard, [quit])
        bob.expect("Ghost left the chat (Ping timeout).")

        silent = {}
        for number in range(100):
            client = self.connect(self.server.ircPort, attackerSource(number))
            if number % 2:
                self.sendRegistration(client, f"silent{number}")
                client.sendLine(f"JOIN #lobby,#silent{number}")
            silent[number] = client
        heard = self.untilClosed(silent, answering=ewa)
        expected = {
            f":silent{number}!~silent{number}@{attackerSource(number)} QUIT :Ping timeout"
            for number in range(1, 100, 2)
        }
        # The last QUITs may leave with a commit of history just after the
        # last connection closed.
        deadline = time.monotonic() + TIMEOUT
        while not expected <= set(heard) and time.monotonic() < deadline:
            line = ewa.readLine(deadline)
            if line == f":{SERVER} PING {SERVER}":
                ewa.sendLine(f"PONG {SERVER}")
            else:
                heard.append(line)
        self.assertEqual(sorted(line for line in heard if " QUIT " in line), sorted(expected))
        for number, client in silent.items():
            self.assertEqual(
                takeLines(client)[-1], closingLink(attackerSource(number), "Ping timeout")
            )
        heard = readCounting(bob, " left the chat (Ping timeout).", 50)
        self.assertEqual(
            sorted(line for line in heard if line.endswith("(Ping timeout).")),
            sorted(f"silent{number} left the chat (Ping timeout)." for number in range(1, 100, 2)),
        )
        # Ewa, who answered every PING, is still here.
        ewa.sendLine("PING :still")
        self.answering(ewa, f":{SERVER} PONG {SERVER} :still")
        self.waitForUsers(ewa, 2)
        self.assertGreater(time.monotonic() - started, 3)
        self.assertMemoryWithin("silent peer", idle, self.BUDGET_KIB)


class EndlessCapTests(BoundTestCase):
    """
    Registration held back in CAP negotiation that never ends is cut at
    C{--register-timeout} (2 seconds here), however busily it negotiates.
    (L{tests.test_irc_integration.IRCRegistrationTimeoutTests} has one that
    negotiates once and then waits.)
    """

    # 100 connections negotiating, each sending 30 lines a second
    # (measured: +0.3 MB).
    BUDGET_KIB = 4 * 1024

    def test_cutAtRegisterTimeout(self) -> None:
        """
        Clients that keep sending CAP LS and CAP REQ (and PING), and never
        CAP END, are told C{ERROR ... (Registration timeout)} and closed
        after two seconds, not before, even though they are never silent.
        """
        self.startServer("--register-timeout", "2")
        ola = self.irc("Ola")
        idle = self.idleMemory()
        started = time.monotonic()
        negotiating = []
        for number in range(100):
            client = self.connect(self.server.ircPort, attackerSource(number))
            client.sendLine("CAP LS 302")
            self.sendRegistration(client, f"cap{number}")
            negotiating.append(client)
        open = set(range(100))
        closed: dict[int, float] = {}
        # Bounded: at most 100 rounds of 100 ms, 10 seconds.
        for _ in range(100):
            if not open:
                break
            for number in sorted(open):
                client = negotiating[number]
                try:
                    client.sendLine("CAP REQ :sasl")
                    client.sendLine("CAP LS 302")
                    client.sendLine(f"PING :{number}")
                except (BrokenPipeError, ConnectionResetError):
                    pass
                if takeAvailable(client):
                    closed[number] = time.monotonic() - started
                    open.discard(number)
            time.sleep(0.1)
        self.assertEqual(open, set())
        for number, client in enumerate(negotiating):
            lines = client.buffer.decode().splitlines()
            self.assertEqual(lines[-1], closingLink(attackerSource(number), "Registration timeout"))
            self.assertTrue(lines[0].startswith(f":{SERVER} CAP * LS "), lines[0])
            self.assertNotIn(f":{SERVER} 001 cap{number} ", client.buffer.decode())
        self.assertGreater(min(closed.values()), 1.9)
        self.assertLess(max(closed.values()), 2 + 5)
        self.waitForUsers(ola, 1)
        self.assertMemoryWithin("endless CAP", idle, self.BUDGET_KIB)
