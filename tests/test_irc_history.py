"""
Tests for IRCv3 on the IRC front-end, in memory: capability negotiation,
tags (server-time, msgid, batch), echo-message, CHATHISTORY and the replay on
joining, against a L{History} on a L{MemoryStore}.
"""

from __future__ import annotations

from attrs import evolve
from twisted.internet.defer import Deferred, fail
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from chatsvc import events
from chatsvc.errors import StoreError
from chatsvc.history import MAX_FETCH, History
from chatsvc.hub import Hub
from chatsvc.irc.commands.chathistory import CANNOT
from chatsvc.irc.protocol import IRCFactory
from chatsvc.irc.render import RENDERING, IRCRenderer
from chatsvc.irc.wire import Message, parseMessage, parseTags, splitTags
from chatsvc.native.protocol import NativeFactory
from chatsvc.net.output import Outbox
from chatsvc.store.memory import MemoryStore
from tests.test_irc_protocol import IRCConnection
from tests.test_native import UNLIMITED, Connection
from tests.test_render import SAMPLES

# 2026-12-01T22:14:27.000Z
START = 1_796_163_267.0
EVERYTHING = "server-time message-tags batch echo-message draft/chathistory"
SERVER = "chatsvc"


class Client(IRCConnection):
    """
    An IRC client's end, as raw lines, tagged messages or plain ones.
    """

    def lines(self) -> list[str]:
        data = self.raw().decode("utf-8")
        assert data.count("\n") == data.count("\r\n"), data
        return [line for line in data.split("\r\n") if line]

    def tagged(self) -> list[tuple[dict[str, str | None], Message]]:
        found = []
        for line in self.lines():
            tags, _ = splitTags(line)
            found.append((parseTags(tags), parseMessage(line)))
        return found


class IRCHistoryTestCase(SynchronousTestCase):
    replay = 3

    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(START)
        self.hub = Hub(self.clock)
        self.store = self.makeStore()
        self.history = History(self.store, self.clock, replay=self.replay)
        self.successResultOf(self.history.start(self.hub))
        self.hub.delivery.observe(self.history)
        outbox = Outbox(self.clock, gate=self.history)
        self.factory = IRCFactory(
            self.hub,
            self.clock,
            wallClock=lambda: START,
            limits=UNLIMITED,
            outbox=outbox,
            history=self.history,
        )
        self.factory.startFactory()
        self.native = NativeFactory(self.hub, limits=UNLIMITED, outbox=outbox)

    def makeStore(self) -> MemoryStore:
        return MemoryStore()

    def irc(self, nickname: str, caps: str = "", *channels: str) -> Client:
        """
        A registered client with C{caps}, in C{channels}, nothing unread.
        """
        client = Client(self.factory)
        if caps:
            client.send("CAP LS 302", f"CAP REQ :{caps}")
        client.send(f"NICK {nickname}", f"USER {nickname.lower()} 0 * :{nickname}")
        if caps:
            client.send("CAP END")
        if channels:
            client.send("JOIN " + ",".join(channels))
        client.raw()
        return client

    def nativeUser(self, nickname: str) -> Connection:
        connection = Connection(self.native)
        connection.say(nickname)
        self.clock.advance(0)
        connection.lines()
        return connection

    def say(
        self, client: Client, *texts: str, target: str = "#lobby", apart: float = 1.5
    ) -> None:
        """
        C{texts} from C{client}, C{apart} seconds apart.
        """
        for text in texts:
            self.clock.advance(apart)
            client.send(f"PRIVMSG {target} :{text}")
        self.clock.advance(0)

    def ids(self, room: str = "lobby") -> dict[str, str]:
        """
        The id of every line said in C{room}, by its text.
        """
        found = self.successResultOf(self.history.fetch("#" + room, MAX_FETCH))
        return {event.text: event.id for event in found if hasattr(event, "text")}


class CapabilityTests(IRCHistoryTestCase):
    def test_lsOffersEverything(self) -> None:
        """
        CAP LS 302 lists every capability, history's too, and enables
        cap-notify; CAP LIST shows what is enabled.
        """
        client = Client(self.factory)
        client.send("CAP LS 302", "CAP LIST")
        everything = (
            "account-notify account-tag away-notify batch cap-notify draft/chathistory "
            "draft/event-playback echo-message extended-join invite-notify message-tags "
            "multi-prefix server-time setname userhost-in-names"
        )
        self.assertEqual(
            [m.params for m in client.messages()],
            [("*", "LS", everything), ("*", "LIST", "cap-notify")],
        )

    def test_requestAllOrNothing(self) -> None:
        """
        A request with one unknown capability is refused whole; a good one
        is granted whole; a capability can be turned off again.
        """
        client = Client(self.factory)
        client.send("CAP LS", "CAP REQ :server-time sasl", "CAP LIST")
        client.send("CAP REQ :server-time batch", "CAP REQ :-batch", "CAP LIST", "CAP REQ :")
        self.assertEqual(
            [m.params for m in client.messages()][1:],
            [
                ("*", "NAK", "server-time sasl"),
                ("*", "LIST", ""),
                ("*", "ACK", "server-time batch"),
                ("*", "ACK", "-batch"),
                ("*", "LIST", "server-time"),
                ("*", "NAK", ""),
            ],
        )

    def test_capNotifyStaysWith302(self) -> None:
        """
        cap-notify cannot be turned off by a client that sent CAP LS 302;
        one that did not may take it and leave it.
        """
        modern = Client(self.factory)
        modern.send("CAP LS 302", "CAP REQ :-cap-notify")
        self.assertEqual(modern.messages()[-1].params, ("*", "NAK", "-cap-notify"))
        old = Client(self.factory)
        old.send("CAP REQ :cap-notify", "CAP REQ :-cap-notify", "CAP LIST")
        self.assertEqual(
            [m.params[1:] for m in old.messages()],
            [("ACK", "cap-notify"), ("ACK", "-cap-notify"), ("LIST", "")],
        )

    def test_afterRegistration(self) -> None:
        """
        CAP works after registration too, addressed to the nickname, and
        does not hold anything back; an unknown subcommand gets 410.
        """
        client = self.irc("Ola")
        client.send("CAP REQ :server-time", "CAP FOO", "PING x")
        self.assertEqual(
            [(m.command, m.params) for m in client.messages()],
            [
                ("CAP", ("Ola", "ACK", "server-time")),
                ("410", ("Ola", "FOO", "Invalid CAP command")),
                ("PONG", (SERVER, "x")),
            ],
        )

    def test_isupport(self) -> None:
        """
        005 says how much one CHATHISTORY returns and how places are named.
        """
        client = Client(self.factory)
        client.send("NICK Ola", "USER ola 0 * :Ola")
        tokens = [p for m in client.messages() if m.command == "005" for p in m.params[1:-1]]
        self.assertIn(f"CHATHISTORY={MAX_FETCH}", tokens)
        self.assertIn("MSGREFTYPES=msgid,timestamp", tokens)
        self.assertEqual(tokens, sorted(tokens))

    def test_renderersShared(self) -> None:
        """
        Clients with the same capabilities that change what they are sent
        share one renderer; batch changes nothing of it; asking for more
        after registration swaps the connection's renderer.
        """
        plain = self.irc("Ala")
        batch = self.irc("Bob", "batch")
        tags = self.irc("Ola", "server-time message-tags")
        same = self.irc("Ewa", "message-tags server-time batch")
        renderer = lambda client: client.protocol.connection.renderer  # noqa: E731
        self.assertIs(renderer(plain), renderer(batch))
        self.assertIs(renderer(tags), renderer(same))
        self.assertIsNot(renderer(plain), renderer(tags))
        plain.send("CAP REQ :message-tags server-time")
        self.assertIs(renderer(plain), renderer(tags))
        self.assertIs(plain.protocol.connection.session.renderer, renderer(tags))


class TagTests(IRCHistoryTestCase):
    def test_timeAndMsgid(self) -> None:
        """
        A client with server-time and message-tags gets each line with its
        time and its id, as history keeps it; one without gets it bare.
        """
        ola = self.irc("Ola", "", "#lobby")
        ewa = self.irc("Ewa", "server-time message-tags", "#lobby")
        iga = self.irc("Iga", "server-time", "#lobby")
        ola.raw()
        ewa.raw()
        self.clock.advance(0.25)
        ola.send("PRIVMSG #lobby :hello")
        [line] = ewa.lines()
        msgid = self.ids()["hello"]
        self.assertEqual(
            line,
            f"@time=2026-12-01T22:14:27.250Z;msgid={msgid} :Ola!~ola@192.168.1.1 "
            "PRIVMSG #lobby :hello",
        )
        self.assertEqual(iga.lines(), [
            "@time=2026-12-01T22:14:27.250Z :Ola!~ola@192.168.1.1 PRIVMSG #lobby :hello"
        ])

    def test_plainStaysPlain(self) -> None:
        """
        A client that asked for nothing gets no tags.
        """
        ola = self.irc("Ola", "", "#lobby")
        ewa = self.irc("Ewa", "", "#lobby")
        ola.raw()
        ewa.send("PRIVMSG #lobby :hi")
        self.assertEqual(ola.lines(), [":Ewa!~ewa@192.168.1.1 PRIVMSG #lobby :hi"])

    def test_echoMessage(self) -> None:
        """
        With echo-message a client gets its own lines and private messages
        back as everyone else with its capabilities gets them; without, it
        does not.
        """
        ola = self.irc("Ola", "echo-message server-time message-tags", "#lobby")
        ewa = self.irc("Ewa", "server-time message-tags", "#lobby")
        ola.raw()
        ola.send("PRIVMSG #lobby :mine", "PRIVMSG Ewa :psst", "NOTICE #lobby :note")
        self.assertEqual(ola.lines(), ewa.lines())
        ewa.send("PRIVMSG #lobby :not echoed")
        self.assertEqual(ewa.lines(), [])
        self.assertEqual(len(ola.lines()), 1)

    def test_longLinesHaveAnIdEach(self) -> None:
        """
        A native line cut into several PRIVMSGs gives each piece an id of
        its own, the line's and then C{-2}, C{-3}; the 512 bytes of each
        are its own, tags aside.
        """
        ola = self.irc("Ola", "server-time message-tags", "#lobby")
        bob = self.nativeUser("Bob")
        ola.raw()
        bob.say("słowo " * 290)
        self.clock.advance(0)
        lines = ola.lines()
        self.assertEqual(len(lines), 5)
        ids = [parseTags(splitTags(line)[0])["msgid"] for line in lines]
        [said] = self.successResultOf(self.history.fetch("#lobby", 1))
        self.assertEqual(ids, [said.id, *[f"{said.id}-{n}" for n in (2, 3, 4, 5)]])
        for line in lines:
            self.assertLessEqual(len(splitTags(line)[1].encode("utf-8")), 510)

    def test_clientTagsHaveTheirOwnBudget(self) -> None:
        """
        Up to 4094 bytes of tags may come before the 510 of a line; TAGMSG is
        taken and answered with nothing; 511 bytes after the tags get 417,
        and so does a line that fits as sent but not once relayed with the
        sender's mask in front.
        """
        ola = self.irc("Ola", "message-tags", "#lobby")
        ewa = self.irc("Ewa", "", "#lobby")
        ola.raw()
        relayed = f":{self.hub.find('Ola').identity.mask} PRIVMSG #lobby :"
        text = "x" * (510 - len(relayed))
        tags = "@+draft/reply=" + "r" * 2000
        ola.send(f"{tags} PRIVMSG #lobby :{text}", f"{tags} TAGMSG #lobby")
        self.assertEqual([m.params[-1] for m in ewa.messages()], [text])
        ola.send(f"{tags} PRIVMSG #lobby :{text}x")
        tooLong = "x" * (510 - len("PRIVMSG #lobby :") + 1)
        ola.send(f"{tags} PRIVMSG #lobby :{tooLong}")
        self.assertEqual(ola.commands(), ["417", "417"])
        self.assertEqual(ewa.lines(), [])


class TaggedRenderingTests(SynchronousTestCase):
    def test_everyEvent(self) -> None:
        """
        With every capability that changes rendering, each published event
        is its lines, each with the event's time and an id of its own, in a
        batch when asked; the ERROR that ends a connection gets no tags.
        """
        tagging = IRCRenderer.forServer("irc.example", "en", RENDERING)
        for kind, sample in SAMPLES.items():
            event = evolve(sample, id="e1", time=START + 0.5)
            lines = tagging.tagged(event, "b7")
            self.assertEqual([splitTags(line)[1] for line in lines], tagging.lines(event), kind)
            for n, line in enumerate(lines):
                tags = parseTags(splitTags(line)[0])
                if kind in events.PUBLISHED:
                    self.assertEqual(
                        tags,
                        {
                            "batch": "b7",
                            "time": "2026-12-01T22:14:27.500Z",
                            "msgid": "e1" if n == 0 else f"e1-{n + 1}",
                        },
                        kind,
                    )
                else:
                    self.assertEqual(tags, {}, kind)


class ChatHistoryTestCase(IRCHistoryTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.ewa = self.irc("Ewa", "", "#lobby")
        self.ola = self.irc("Ola", EVERYTHING, "#lobby")
        self.say(self.ewa, *[f"line {n}" for n in range(6)])
        self.ola.raw()
        self.msgid = self.ids()

    def fetched(self, request: str, client: Client | None = None) -> list[str]:
        """
        The texts of what C{request} brings, in its batch, checked to be
        one with every line tagged.
        """
        client = client or self.ola
        client.send(request)
        found = client.tagged()
        (opening, start), *inside, (closing, end) = found
        self.assertEqual(start.command, "BATCH")
        reference = start.params[0]
        self.assertEqual((reference[0], start.params[1:]), ("+", ("chathistory", "#lobby")))
        self.assertEqual(end, Message("BATCH", ("-" + reference[1:],), SERVER))
        texts = []
        for tags, message in inside:
            self.assertEqual(tags["batch"], reference[1:])
            self.assertIn("time", tags)
            self.assertIn("msgid", tags)
            texts.append(message.params[-1])
        return texts


class ChatHistoryTests(ChatHistoryTestCase):
    def test_latest(self) -> None:
        """
        LATEST * gives the last lines, oldest first, in a chathistory batch,
        with the time and id each was first sent with.
        """
        self.assertEqual(
            self.fetched("CHATHISTORY LATEST #lobby * 3"), ["line 3", "line 4", "line 5"]
        )
        self.ola.send("CHATHISTORY LATEST #lobby * 1")
        [_, (tags, message), _] = self.ola.tagged()
        self.assertEqual(tags["msgid"], self.msgid["line 5"])
        self.assertEqual(tags["time"], "2026-12-01T22:14:36.000Z")
        self.assertEqual(message.prefix, "Ewa!~ewa@192.168.1.1")

    def test_beforeAndAfterMessages(self) -> None:
        """
        BEFORE and AFTER a message id leave the message out.
        """
        middle = self.msgid["line 3"]
        self.assertEqual(
            self.fetched(f"CHATHISTORY BEFORE #lobby msgid={middle} 2"), ["line 1", "line 2"]
        )
        self.assertEqual(
            self.fetched(f"CHATHISTORY AFTER #lobby msgid={middle} 2"), ["line 4", "line 5"]
        )

    def test_beforeAndAfterTimestamps(self) -> None:
        """
        BEFORE and AFTER a timestamp leave out the message shown at it.
        """
        # line 2 was said at START + 4.5.
        at = "timestamp=2026-12-01T22:14:31.500Z"
        self.assertEqual(self.fetched(f"CHATHISTORY BEFORE #lobby {at} 10"), ["line 0", "line 1"])
        self.assertEqual(
            self.fetched(f"CHATHISTORY AFTER #lobby {at} 2"), ["line 3", "line 4"]
        )

    def test_latestSince(self) -> None:
        """
        LATEST with a place gives the newest lines after it.
        """
        since = self.msgid["line 1"]
        self.assertEqual(
            self.fetched(f"CHATHISTORY LATEST #lobby msgid={since} 2"), ["line 4", "line 5"]
        )
        self.assertEqual(
            self.fetched(f"CHATHISTORY LATEST #lobby msgid={since} 10"),
            ["line 2", "line 3", "line 4", "line 5"],
        )

    def test_around(self) -> None:
        """
        AROUND a message gives half before it, then it and what follows.
        """
        self.assertEqual(
            self.fetched(f"CHATHISTORY AROUND #lobby msgid={self.msgid['line 3']} 4"),
            ["line 1", "line 2", "line 3", "line 4"],
        )
        self.assertEqual(
            self.fetched("CHATHISTORY AROUND #lobby timestamp=2026-12-01T22:14:31.500Z 3"),
            ["line 1", "line 2", "line 3"],
        )

    def test_betweenBothWays(self) -> None:
        """
        BETWEEN leaves both ends out, and counts from the first, whichever
        way in time the second lies.
        """
        first, last = self.msgid["line 0"], self.msgid["line 5"]
        self.assertEqual(
            self.fetched(f"CHATHISTORY BETWEEN #lobby msgid={first} msgid={last} 2"),
            ["line 1", "line 2"],
        )
        self.assertEqual(
            self.fetched(f"CHATHISTORY BETWEEN #lobby msgid={last} msgid={first} 2"),
            ["line 3", "line 4"],
        )
        self.assertEqual(
            self.fetched(
                f"CHATHISTORY BETWEEN #lobby timestamp=2026-12-01T22:14:30.000Z msgid={last} 10"
            ),
            ["line 2", "line 3", "line 4"],
        )

    def test_pieceIdNamesItsLine(self) -> None:
        """
        The id of the second piece of a cut line names the line.
        """
        middle = self.msgid["line 3"]
        self.assertEqual(
            self.fetched(f"CHATHISTORY AFTER #lobby msgid={middle}-2 1"), ["line 4"]
        )

    def test_emptyBatch(self) -> None:
        """
        Nothing to give is an empty batch, not silence.
        """
        self.assertEqual(
            self.fetched(f"CHATHISTORY AFTER #lobby msgid={self.msgid['line 5']} 10"), []
        )

    def test_limitBounded(self) -> None:
        """
        No more than CHATHISTORY= lines come back, however many are asked.
        """
        self.say(self.ewa, *[f"more {n}" for n in range(MAX_FETCH)], apart=0.01)
        self.ola.raw()
        found = self.fetched("CHATHISTORY LATEST #lobby * 100000")
        self.assertEqual(len(found), MAX_FETCH)
        self.assertEqual(found[-1], f"more {MAX_FETCH - 1}")
        self.assertEqual(len(self.fetched("CHATHISTORY LATEST #lobby * 0")), MAX_FETCH)

    def test_onlyMessagesWithoutEventPlayback(self) -> None:
        """
        Without draft/event-playback only PRIVMSG and NOTICE come back; with
        it, joins, parts, renames and topics too.
        """
        iga = self.irc("Iga", "", "#lobby")
        # Ewa came in first: the topic is hers to set.
        self.ewa.send("TOPIC #lobby :news")
        iga.send("NICK Ida", "NOTICE #lobby :noted", "PART #lobby :bye")
        self.ola.raw()
        self.ola.send("CHATHISTORY LATEST #lobby * 4")
        commands = [message.command for _, message in self.ola.tagged()[1:-1]]
        self.assertEqual(commands, ["PRIVMSG", "PRIVMSG", "PRIVMSG", "NOTICE"])
        self.ola.send("CAP REQ draft/event-playback", "CHATHISTORY LATEST #lobby * 5")
        commands = [message.command for _, message in self.ola.tagged()[2:-1]]
        self.assertEqual(commands, ["JOIN", "TOPIC", "NICK", "NOTICE", "PART"])

    def test_withoutBatch(self) -> None:
        """
        A client without batch gets the lines alone.
        """
        iga = self.irc("Iga", "draft/chathistory server-time", "#lobby")
        iga.send("CHATHISTORY LATEST #lobby * 2")
        self.assertEqual(
            iga.lines(),
            [
                "@time=2026-12-01T22:14:34.500Z :Ewa!~ewa@192.168.1.1 PRIVMSG #lobby :line 4",
                "@time=2026-12-01T22:14:36.000Z :Ewa!~ewa@192.168.1.1 PRIVMSG #lobby :line 5",
            ],
        )


class PrivateHistoryTests(IRCHistoryTestCase):
    def test_conversationWithSomeoneGone(self) -> None:
        """
        A nickname's history is the private conversation with them, both
        ways, even once they have gone.
        """
        ola = self.irc("Ola", EVERYTHING)
        ewa = self.irc("Ewa")
        self.say(ola, "hi Ewa", target="Ewa")
        self.say(ewa, "hi Ola", target="Ola")
        ewa.send("QUIT")
        self.clock.advance(0)
        ola.raw()
        ola.send("CHATHISTORY LATEST Ewa * 10")
        found = ola.tagged()
        self.assertEqual(found[0][1].params[1:], ("chathistory", "Ewa"))
        self.assertEqual(
            [message for _, message in found[1:-1]],
            [
                Message("PRIVMSG", ("Ewa", "hi Ewa"), "Ola!~ola@192.168.1.1"),
                Message("PRIVMSG", ("Ola", "hi Ola"), "Ewa!~ewa@192.168.1.1"),
            ],
        )


class TargetsTests(IRCHistoryTestCase):
    def test_targets(self) -> None:
        """
        TARGETS lists the channels one is in and the people one talked to
        privately, by the time of their latest line in the window, in a
        batch of its own; other people's talk and channels one left are not
        listed.
        """
        ola = self.irc("Ola", EVERYTHING, "#lobby", "#kitchen", "#attic")
        ewa = self.irc("Ewa", "", "#lobby", "#kitchen", "#attic")
        bob = self.irc("Bob")
        self.say(ewa, "in the kitchen", target="#kitchen")
        self.say(ewa, "psst", target="Ola")
        self.say(ewa, "to Bob", target="Bob")
        self.say(ewa, "upstairs", target="#attic")
        self.say(bob, "hello", target="Ola")
        self.say(ewa, "in the lobby")
        ola.send("PART #attic")
        ola.raw()
        ola.send(
            "CHATHISTORY TARGETS timestamp=2026-12-01T22:14:27.000Z "
            "timestamp=2026-12-01T22:15:00.000Z 10"
        )
        (_, start), *inside, (_, end) = ola.tagged()
        self.assertEqual(start.params[1:], ("draft/chathistory-targets",))
        self.assertEqual(end.params, ("-" + start.params[0][1:],))
        self.assertEqual(
            [message.params for _, message in inside],
            [
                ("TARGETS", "#kitchen", "2026-12-01T22:14:28.500Z"),
                ("TARGETS", "Ewa", "2026-12-01T22:14:30.000Z"),
                ("TARGETS", "Bob", "2026-12-01T22:14:34.500Z"),
                ("TARGETS", "#lobby", "2026-12-01T22:14:36.000Z"),
            ],
        )
        ola.send(
            "CHATHISTORY TARGETS timestamp=2026-12-01T22:15:00.000Z "
            "timestamp=2026-12-01T22:14:28.500Z 2"
        )
        found = [message.params[1] for _, message in ola.tagged()[1:-1]]
        self.assertEqual(found, ["Bob", "#lobby"])


class BadRequestTests(ChatHistoryTestCase):
    def test_failures(self) -> None:
        """
        Bad requests are answered with FAIL CHATHISTORY and the reason.
        """
        known = self.msgid["line 1"]
        cases = {
            "CHATHISTORY": ("NEED_MORE_PARAMS", "*", "Insufficient parameters"),
            "CHATHISTORY SOMETIME #lobby * 5": ("INVALID_PARAMS", "SOMETIME", "Unknown command"),
            "CHATHISTORY LATEST #lobby *": (
                "NEED_MORE_PARAMS", "LATEST", "Insufficient parameters"
            ),
            "CHATHISTORY LATEST #lobby * 5 6": ("INVALID_PARAMS", "LATEST", "Too many parameters"),
            "CHATHISTORY LATEST #lobby * many": (
                "INVALID_PARAMS", "LATEST", "many", "Invalid limit"
            ),
            "CHATHISTORY BEFORE #lobby * 5": (
                "INVALID_PARAMS", "BEFORE", "*", "Invalid message reference"
            ),
            "CHATHISTORY BEFORE #lobby id=x 5": (
                "INVALID_PARAMS", "BEFORE", "id=x", "Invalid message reference"
            ),
            "CHATHISTORY AFTER #lobby timestamp=yesterday 5": (
                "INVALID_PARAMS", "AFTER", "timestamp=yesterday", "Invalid message reference"
            ),
            f"CHATHISTORY TARGETS msgid={known} timestamp=2026-12-01T22:15:00.000Z 5": (
                "INVALID_PARAMS", "TARGETS", f"msgid={known}", "Invalid timestamp"
            ),
            "CHATHISTORY LATEST #attic * 5": (
                "INVALID_TARGET", "LATEST", "#attic", "Messages could not be retrieved"
            ),
            "CHATHISTORY LATEST 9lives * 5": (
                "INVALID_TARGET", "LATEST", "9lives", "Messages could not be retrieved"
            ),
            "CHATHISTORY BEFORE #lobby msgid=nosuchid 5": (
                "MESSAGE_ERROR", "BEFORE", "#lobby", "Unknown message id"
            ),
            f"CHATHISTORY BETWEEN #lobby msgid={known} msgid=nosuchid 5": (
                "MESSAGE_ERROR", "BETWEEN", "#lobby", "Unknown message id"
            ),
        }
        for request, expected in cases.items():
            self.ola.send(request)
            self.assertEqual(
                self.ola.messages(), [Message("FAIL", ("CHATHISTORY", *expected), SERVER)], request
            )

    def test_noHistoryNoCommand(self) -> None:
        """
        A server that keeps no history does not know CHATHISTORY.
        """
        factory = IRCFactory(self.hub, self.clock, limits=UNLIMITED)
        client = Client(factory)
        client.send("NICK Iga", "USER iga 0 * :Iga")
        client.raw()
        client.send("CHATHISTORY LATEST #lobby * 5")
        self.assertEqual(
            client.messages(), [Message("421", ("Iga", "CHATHISTORY", "Unknown command"), SERVER)]
        )


class FailingStore(MemoryStore):
    """
    A store whose reads fail, or wait for the test to finish them.
    """

    def __init__(self) -> None:
        super().__init__()
        self.failing = False
        self.held: list[Deferred] | None = None

    def between(self, *args, **kwargs):
        if self.failing:
            return fail(StoreError("disk on fire"))
        found = MemoryStore.between(self, *args, **kwargs)
        if self.held is None:
            return found
        waiting: Deferred = Deferred()
        found.addCallback(lambda rows: self.held.append((waiting, rows)))
        return waiting


class StoreTroubleTests(ChatHistoryTestCase):
    def makeStore(self) -> MemoryStore:
        return FailingStore()

    def test_failingStore(self) -> None:
        """
        A store that cannot answer gets MESSAGE_ERROR.
        """
        self.store.failing = True
        self.ola.send("CHATHISTORY LATEST #lobby * 5")
        self.assertEqual(
            self.ola.messages(),
            [
                Message(
                    "FAIL",
                    ("CHATHISTORY", "MESSAGE_ERROR", "LATEST", "#lobby", CANNOT),
                    SERVER,
                )
            ],
        )

    def test_answerAfterTheConnectionClosed(self) -> None:
        """
        A reply that comes after the connection closed is sent nowhere.
        """
        self.store.held = []
        self.ola.send("CHATHISTORY LATEST #lobby * 5")
        self.assertEqual(self.ola.raw(), b"")
        self.ola.protocol.connectionLost(None)
        [(waiting, rows)] = self.store.held
        waiting.callback(rows)
        self.assertEqual(self.ola.raw(), b"")

    def test_answerWhenTheStoreDoes(self) -> None:
        """
        A reply goes out when the store answers, whole, after what the
        client was sent meanwhile.
        """
        self.store.held = []
        self.ola.send("CHATHISTORY LATEST #lobby * 2", "PING x")
        self.assertEqual(self.ola.commands(), ["PONG"])
        [(waiting, rows)] = self.store.held
        waiting.callback(rows)
        self.assertEqual(self.ola.commands(), ["BATCH", "PRIVMSG", "PRIVMSG", "BATCH"])


class ReplayOnJoinTests(IRCHistoryTestCase):
    def setUp(self) -> None:
        super().setUp()
        ewa = self.irc("Ewa", "", "#lobby")
        self.say(ewa, *[f"line {n}" for n in range(5)])

    def join(self, caps: str) -> list[str]:
        client = self.irc("Ola", caps)
        client.send("JOIN #lobby")
        return client.lines()

    def test_plainLines(self) -> None:
        """
        A client without capabilities gets the last lines as plain messages
        after the names, as InspIRCd's chanhistory sends them.
        """
        lines = self.join("")
        self.assertEqual(lines[-4].split()[1], "366")
        self.assertEqual(
            lines[-3:],
            [f":Ewa!~ewa@192.168.1.1 PRIVMSG #lobby :line {n}" for n in (2, 3, 4)],
        )

    def test_batchAndTimes(self) -> None:
        """
        With batch and server-time, the replay is a chathistory batch of
        lines with their times.
        """
        lines = self.join("batch server-time")
        self.assertEqual(lines[-6].split()[1], "366")
        reference = lines[-5].split()[2][1:]
        self.assertEqual(lines[-5], f":{SERVER} BATCH +{reference} chathistory :#lobby")
        self.assertEqual(
            lines[-4:-1],
            [
                f"@batch={reference};time=2026-12-01T22:14:{seconds}Z :Ewa!~ewa@192.168.1.1 "
                f"PRIVMSG #lobby :line {n}"
                for n, seconds in [(2, "31.500"), (3, "33.000"), (4, "34.500")]
            ],
        )
        self.assertEqual(lines[-1], f":{SERVER} BATCH -{reference}")

    def test_notForChathistoryClients(self) -> None:
        """
        A client that fetches history itself is replayed nothing.
        """
        self.assertEqual(self.join("draft/chathistory batch")[-1].split()[1], "366")


class NoReplayTests(IRCHistoryTestCase):
    replay = 0

    def test_off(self) -> None:
        """
        --replay 0 replays nothing.
        """
        ewa = self.irc("Ewa", "", "#lobby")
        self.say(ewa, "line")
        ola = self.irc("Ola")
        ola.send("JOIN #lobby")
        self.assertEqual(ola.lines()[-1].split()[1], "366")
