"""
IRCv3 and history on the real server: C{twistd -n chat --irc-port} with its
SQLite store, and raw-socket clients that negotiate capabilities, chat, and
fetch history with CHATHISTORY, or are replayed a channel on joining it.

Every test talks in channels of its own, so that the history one test
leaves on the shared server is not another's.
"""

from __future__ import annotations

import time
from itertools import count

from chatsvc.irc.wire import Message, parseMessage, parseTags, splitTags
from tests.harness import LineClient, ServerProcess
from tests.test_irc_integration import (
    OFFERED,
    SERVER,
    IRCTestCase,
    OwnIRCServerTestCase,
)

EVERYTHING = "server-time message-tags batch echo-message draft/chathistory"
_channels = count()


def parse(line: str) -> tuple[dict[str, str | None], Message]:
    tags, _ = splitTags(line)
    return parseTags(tags), parseMessage(line)


class HistoryClient:
    """
    A raw IRC client that can read tagged lines and batches.
    """

    def __init__(self, client: LineClient, nickname: str) -> None:
        self.client = client
        self.nickname = nickname

    def sendLine(self, line: str) -> None:
        self.client.sendLine(line)

    def read(self) -> tuple[dict[str, str | None], Message]:
        return parse(self.client.readLine())

    def join(self, channel: str) -> list[str]:
        """
        Join C{channel}; the lines after its names (a replay, if any).
        """
        self.sendLine(f"JOIN {channel}")
        self.client.readUntil(f":{SERVER} 366 {self.nickname} {channel} :End of /NAMES list")
        return self.pending()

    def pending(self, quiet: float = 0.3) -> list[str]:
        """
        The lines that arrive until none has for C{quiet} seconds.
        """
        lines = []
        deadline = time.monotonic() + 5
        self.client.socket.settimeout(quiet)
        try:
            while time.monotonic() < deadline:
                try:
                    lines.append(self.client.readLine(time.monotonic() + quiet))
                except (TimeoutError, OSError):
                    break
        finally:
            self.client.socket.settimeout(self.client.timeout)
        return lines

    def batch(self, request: str) -> tuple[list[str], list[tuple[dict[str, str | None], Message]]]:
        """
        Send C{request}; the type and parameters of the batch it brings, and
        what is in it, each checked to carry the batch's tag.
        """
        self.sendLine(request)
        tags, start = self.read()
        assert start.command == "BATCH" and start.params[0].startswith("+"), start
        reference = start.params[0][1:]
        inside = []
        while True:
            tags, message = self.read()
            if message == Message("BATCH", ("-" + reference,), SERVER):
                return list(start.params[1:]), inside
            assert tags.get("batch") == reference, (tags, message)
            inside.append((tags, message))

    def texts(self, request: str, channel: str) -> list[str]:
        """
        The texts of the messages C{request} brings of C{channel}.
        """
        kind, inside = self.batch(request)
        assert kind == ["chathistory", channel], kind
        return [message.params[-1] for tags, message in inside]


class IRCv3Tests(IRCTestCase):
    """
    Capabilities, tags and CHATHISTORY against the real server.
    """

    serverArguments = ("--replay", "5")

    def channel(self) -> str:
        return f"#h{next(_channels)}"

    def negotiate(self, nickname: str, caps: str = EVERYTHING) -> HistoryClient:
        """
        A client that asks for C{caps} with CAP LS 302 and registers.
        """
        client = self.rawIRC()
        client.sendLine("CAP LS 302")
        client.sendLine(f"NICK {nickname}")
        client.sendLine(f"USER {nickname.lower()} 0 * :{nickname}")
        client.expect(f":{SERVER} CAP * LS :{OFFERED}")
        if caps:
            client.sendLine(f"CAP REQ :{caps}")
            client.expect(f":{SERVER} CAP * ACK :{caps}")
        client.sendLine("CAP END")
        client.readUntil(f":{SERVER} 376 {nickname} :End of /MOTD command.")
        return HistoryClient(client, nickname)

    def plain(self, nickname: str) -> HistoryClient:
        client = self.rawIRC()
        self.register(client, nickname)
        return HistoryClient(client, nickname)

    def chat(self, speaker: HistoryClient, channel: str, *texts: str) -> None:
        """
        C{texts} said in C{channel}, each in a millisecond of its own.
        """
        for text in texts:
            time.sleep(0.005)
            speaker.sendLine(f"PRIVMSG {channel} :{text}")

    def test_negotiation(self) -> None:
        """
        CAP LS 302 offers everything, CAP LIST shows what was granted (and
        cap-notify, which 302 implies), 005 tells CHATHISTORY's limit and
        reference types, and an unknown capability is refused.
        """
        client = self.rawIRC()
        client.sendLine("CAP LS 302")
        client.expect(f":{SERVER} CAP * LS :{OFFERED}")
        client.sendLine("CAP REQ :server-time bogus")
        client.expect(f":{SERVER} CAP * NAK :server-time bogus")
        client.sendLine("CAP REQ :server-time batch")
        client.expect(f":{SERVER} CAP * ACK :server-time batch")
        client.sendLine("CAP LIST")
        client.expect(f":{SERVER} CAP * LIST :batch cap-notify server-time")
        client.sendLine("NICK Ola")
        client.sendLine("USER ola 0 * :Ola")
        client.sendLine("CAP END")
        welcome = client.readUntil(f":{SERVER} 376 Ola :End of /MOTD command.")
        tokens = [token for line in welcome if " 005 " in line for token in line.split()]
        self.assertIn("CHATHISTORY=200", tokens)
        self.assertIn("MSGREFTYPES=msgid,timestamp", tokens)

    def test_tagsAndEcho(self) -> None:
        """
        A client with server-time and message-tags gets every line with its
        time and id, and with echo-message its own lines back, tagged the
        same; a plain client gets plain lines and no echo.
        """
        channel = self.channel()
        ola = self.negotiate("Ola")
        ewa = self.plain("Ewa")
        ola.join(channel)
        ewa.join(channel)
        self.assertEqual(parse(ola.client.readLine())[1].command, "JOIN")
        ewa.sendLine(f"PRIVMSG {channel} :from Ewa")
        tags, message = ola.read()
        self.assertEqual(message, Message("PRIVMSG", (channel, "from Ewa"), "Ewa!~ewa@127.0.0.1"))
        self.assertRegex(tags["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertTrue(tags["msgid"])
        ola.sendLine(f"PRIVMSG {channel} :from Ola")
        echoTags, echo = ola.read()
        self.assertEqual(echo, Message("PRIVMSG", (channel, "from Ola"), "Ola!~ola@127.0.0.1"))
        self.assertNotEqual(echoTags["msgid"], tags["msgid"])
        ewa.client.expect(f":Ola!~ola@127.0.0.1 PRIVMSG {channel} :from Ola")
        ewa.sendLine("PING :done")
        ewa.client.expect(f":{SERVER} PONG {SERVER} :done")

    def test_chathistory(self) -> None:
        """
        LATEST, BEFORE, AFTER, AROUND and BETWEEN, by message id and by
        timestamp, each in a chathistory batch of tagged lines.
        """
        channel = self.channel()
        ola = self.negotiate("Ola")
        ewa = self.plain("Ewa")
        ola.join(channel)
        ewa.join(channel)
        ola.read()
        # One by one, each heard before the next is said, so that each has
        # a millisecond of its own and timestamps tell them apart.
        seen = []
        for n in range(8):
            self.chat(ewa, channel, f"line {n}")
            seen.append(ola.read())
        ids = [tags["msgid"] for tags, _ in seen]
        times = [tags["time"] for tags, _ in seen]
        lines = [f"line {n}" for n in range(8)]

        def fetch(request: str) -> list[str]:
            return ola.texts(f"CHATHISTORY {request}", channel)

        kind, inside = ola.batch(f"CHATHISTORY LATEST {channel} * 10")
        self.assertEqual(kind, ["chathistory", channel])
        self.assertEqual([tags["msgid"] for tags, _ in inside], ids)
        self.assertEqual([tags["time"] for tags, _ in inside], times)
        self.assertEqual(fetch(f"LATEST {channel} * 3"), lines[5:])
        self.assertEqual(fetch(f"LATEST {channel} msgid={ids[5]} 10"), lines[6:])
        self.assertEqual(fetch(f"BEFORE {channel} msgid={ids[4]} 2"), lines[2:4])
        self.assertEqual(fetch(f"AFTER {channel} msgid={ids[4]} 2"), lines[5:7])
        self.assertEqual(fetch(f"BEFORE {channel} timestamp={times[4]} 10"), lines[:4])
        self.assertEqual(fetch(f"AFTER {channel} timestamp={times[4]} 10"), lines[5:])
        self.assertEqual(fetch(f"AROUND {channel} msgid={ids[4]} 5"), lines[2:7])
        self.assertEqual(fetch(f"BETWEEN {channel} msgid={ids[1]} msgid={ids[6]} 10"), lines[2:6])
        self.assertEqual(fetch(f"BETWEEN {channel} msgid={ids[6]} msgid={ids[1]} 2"), lines[4:6])
        self.assertEqual(
            fetch(f"BETWEEN {channel} timestamp={times[0]} timestamp={times[3]} 10"), lines[1:3]
        )
        self.assertEqual(fetch(f"AFTER {channel} msgid={ids[7]} 10"), [])

    def test_privateAndTargets(self) -> None:
        """
        A nickname's history is the private conversation with them; TARGETS
        lists the channels one is in and the people one talked to, with the
        time of the latest line, in a batch of its own.
        """
        channel = self.channel()
        ola = self.negotiate("Ola")
        ewa = self.plain("Ewa")
        ola.join(channel)
        ewa.join(channel)
        ola.read()
        self.chat(ewa, "Ola", "psst")
        psst, _ = ola.read()
        self.chat(ewa, channel, "aloud")
        aloud, _ = ola.read()
        self.chat(ola, "Ewa", "what?")
        ola.read()
        ewa.client.expect(":Ola!~ola@127.0.0.1 PRIVMSG Ewa :what?")
        kind, inside = ola.batch("CHATHISTORY LATEST Ewa * 10")
        self.assertEqual(kind, ["chathistory", "Ewa"])
        self.assertEqual(
            [message for _, message in inside],
            [
                Message("PRIVMSG", ("Ola", "psst"), "Ewa!~ewa@127.0.0.1"),
                Message("PRIVMSG", ("Ewa", "what?"), "Ola!~ola@127.0.0.1"),
            ],
        )
        kind, inside = ola.batch(
            f"CHATHISTORY TARGETS timestamp={psst['time']} timestamp=2100-01-01T00:00:00.000Z 10"
        )
        self.assertEqual(kind, ["draft/chathistory-targets"])
        found = [message.params for _, message in inside]
        self.assertEqual(found[0], ("TARGETS", channel, aloud["time"]))
        self.assertEqual(found[1][:2], ("TARGETS", "Ewa"))

    def test_failures(self) -> None:
        """
        Bad requests get FAIL CHATHISTORY with a code the specification
        names, and the connection goes on.
        """
        ola = self.negotiate("Ola")
        cases = {
            "CHATHISTORY LATEST #lobby": "NEED_MORE_PARAMS LATEST :Insufficient parameters",
            "CHATHISTORY WHENEVER #lobby * 5": "INVALID_PARAMS WHENEVER :Unknown command",
            "CHATHISTORY BEFORE #lobby yesterday 5": (
                "INVALID_PARAMS BEFORE yesterday :Invalid message reference"
            ),
            "CHATHISTORY LATEST #lobby * lots": "INVALID_PARAMS LATEST lots :Invalid limit",
            "CHATHISTORY LATEST #nowhere * 5": (
                "INVALID_TARGET LATEST #nowhere :Messages could not be retrieved"
            ),
            "CHATHISTORY AFTER Ewa msgid=gone 5": (
                "MESSAGE_ERROR AFTER Ewa :Unknown message id"
            ),
        }
        for request, reply in cases.items():
            ola.sendLine(request)
            ola.client.expect(f":{SERVER} FAIL CHATHISTORY {reply}")
        ola.sendLine("PING :still")
        ola.client.expect(f":{SERVER} PONG {SERVER} :still")

    def test_replayOnJoin(self) -> None:
        """
        A client without draft/chathistory is replayed the channel's last
        lines after the names: plain without capabilities, in a batch with
        times with batch and server-time; one with draft/chathistory is
        replayed nothing.
        """
        channel = self.channel()
        ewa = self.plain("Ewa")
        ewa.join(channel)
        self.chat(ewa, channel, *[f"line {n}" for n in range(7)])
        ewa.sendLine("PING :said")
        ewa.client.expect(f":{SERVER} PONG {SERVER} :said")
        plain = self.plain("Ala")
        self.assertEqual(
            plain.join(channel),
            [f":Ewa!~ewa@127.0.0.1 PRIVMSG {channel} :line {n}" for n in range(2, 7)],
        )
        tagged = self.negotiate("Ola", "batch server-time")
        found = [parse(line) for line in tagged.join(channel)]
        (_, start), *inside, (_, end) = found
        self.assertEqual(start.params[1:], ("chathistory", channel))
        self.assertEqual(end.params, ("-" + start.params[0][1:],))
        self.assertEqual([message.params[-1] for _, message in inside], [
            f"line {n}" for n in range(2, 7)
        ])
        for tags, _ in inside:
            self.assertEqual(set(tags), {"batch", "time"})
        fetcher = self.negotiate("Iga", EVERYTHING)
        self.assertEqual(fetcher.join(channel), [])


class HistoryAcrossRestartsTests(OwnIRCServerTestCase):
    def test_idsAndTimesKept(self) -> None:
        """
        After a restart, CHATHISTORY gives the lines said before it, with
        the ids and times they were first sent with.
        """
        workdir = self.mktemp()
        server = ServerProcess(irc=True)
        server.start(workdir)
        self.addCleanup(server.stop)
        ola = self.connect(server.ircPort)
        ola.sendLine("CAP REQ :message-tags server-time batch draft/chathistory")
        ola.sendLine("CAP END")
        self.register(ola, "Ola", "#kept")
        ewa = self.connect(server.ircPort)
        self.register(ewa, "Ewa", "#kept")
        ola.readLine()
        ewa.sendLine("PRIVMSG #kept :before the restart")
        first, _ = parse(ola.readLine())
        self.assertEqual(server.stop(), 0)
        again = ServerProcess(irc=True)
        again.start(workdir)
        self.addCleanup(again.stop)
        ola = self.connect(again.ircPort)
        ola.sendLine("CAP REQ :message-tags server-time batch draft/chathistory")
        ola.sendLine("CAP END")
        self.register(ola, "Ola", "#kept")
        ola.sendLine("CHATHISTORY LATEST #kept * 10")
        batch = ola.readLine()
        tags, message = parse(ola.readLine())
        self.assertEqual(batch.split()[1:], ["BATCH", "+1", "chathistory", ":#kept"])
        self.assertEqual(message.params, ("#kept", "before the restart"))
        self.assertEqual((tags["msgid"], tags["time"]), (first["msgid"], first["time"]))
