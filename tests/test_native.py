"""
Tests for L{chatsvc.native.protocol}, one connection at a time over
L{StringTransport}.
"""

from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from chatsvc.hub import Hub
from chatsvc.interfaces import IParticipant
from chatsvc.native.protocol import NativeFactory
from chatsvc.net.connection import Limits, ServerConnection
from chatsvc.net.output import Outbox

# Unit tests send in bursts at one moment of a Clock; flood control has
# tests of its own.
UNLIMITED = Limits(flood=None)


class Connection:
    """
    One client's end of a native connection, as plain text lines.
    """

    def __init__(self, factory: NativeFactory) -> None:
        self.factory = factory
        self.protocol = factory.buildProtocol(None)
        self.transport = StringTransport()
        self.protocol.makeConnection(self.transport)

    def send(self, data: bytes) -> None:
        self.protocol.dataReceived(data)

    def say(self, text: str) -> None:
        self.send(text.encode("utf-8") + b"\r\n")

    def lines(self) -> list[str]:
        """
        What arrived since the last call, once the reactor turn is over.
        """
        self.factory.clock.advance(0)
        data = self.transport.value()
        self.transport.clear()
        self.assertCrlf(data)
        return data.decode("utf-8").splitlines()

    def assertCrlf(self, data: bytes) -> None:
        assert data.count(b"\n") == data.count(b"\r\n"), data


class NativeTestCase(SynchronousTestCase):
    language = "en"

    def setUp(self) -> None:
        self.clock = Clock()
        self.hub = Hub(self.clock)
        self.factory = NativeFactory(
            self.hub, self.language, limits=UNLIMITED, outbox=Outbox(self.clock)
        )

    def connect(self, nickname: str | None = None) -> Connection:
        connection = Connection(self.factory)
        if nickname is not None:
            self.assertEqual(connection.lines(), ["NICK"])
            connection.say(nickname)
            self.assertEqual(connection.lines(), ["Connected to server!" if self.language == "en" else "Połączono z serwerem!"])
        return connection


class HandshakeTests(NativeTestCase):
    def test_providesParticipant(self) -> None:
        """
        The protocol is a hub participant.
        """
        connection = self.connect().protocol.connection
        self.assertIsInstance(connection, ServerConnection)
        self.assertTrue(verifyObject(IParticipant, connection))

    def test_seedTranscript(self) -> None:
        """
        The classic exchange: NICK, a nickname, the welcome, the announcement,
        and every line to everyone as "nick: text".
        """
        alicja = self.connect("Alicja")
        bob = self.connect()
        self.assertEqual(bob.lines(), ["NICK"])
        bob.say("Bob")
        self.assertEqual(bob.lines(), ["Connected to server!"])
        self.assertEqual(alicja.lines(), ["Bob joined the chat!"])
        bob.say("Hi everyone!")
        self.assertEqual(alicja.lines(), ["Bob: Hi everyone!"])
        self.assertEqual(bob.lines(), ["Bob: Hi everyone!"])
        bob.say("/quit")
        self.assertTrue(bob.transport.disconnecting)
        bob.protocol.connectionLost(None)
        self.assertEqual(alicja.lines(), ["Bob left the chat."])

    def test_takenNicknameAsksAgain(self) -> None:
        """
        A taken nickname gets the reason, then NICK again on the same
        connection.
        """
        self.connect("Alicja")
        bob = self.connect()
        bob.lines()
        bob.say("alicja")
        self.assertEqual(bob.lines(), ["! The nickname alicja is taken.", "NICK"])
        bob.say("  Bob  ")
        self.assertEqual(bob.lines(), ["Connected to server!"])

    def test_malformedNicknameAsksAgain(self) -> None:
        """
        A malformed nickname gets the rule it broke, then NICK again.
        """
        bob = self.connect()
        bob.lines()
        bob.say("Bob Smith")
        self.assertEqual(
            bob.lines(),
            ["! A name may hold only letters, digits, _ and -, not \u201c \u201d.", "NICK"],
        )
        bob.say("x" * 33)
        self.assertEqual(
            bob.lines(), ["! That name is too long: at most 32 characters.", "NICK"]
        )
        bob.say("server")
        self.assertEqual(bob.lines(), ["! The name server is reserved.", "NICK"])

    def test_commandsBeforeNickname(self) -> None:
        """
        /lang works during the handshake with exactly one reply; other
        commands ask for a nickname first.
        """
        bob = self.connect()
        bob.lines()
        bob.say("/lang pl")
        self.assertEqual(bob.lines(), ["Wybrany język: polski (pl)."])
        bob.say("/who")
        self.assertEqual(bob.lines(), ["! Najpierw wybierz pseudonim.", "NICK"])
        bob.say("Bob")
        self.assertEqual(bob.lines(), ["Połączono z serwerem!"])

    def test_quitDuringHandshake(self) -> None:
        """
        /quit before a nickname just closes.
        """
        bob = self.connect()
        bob.say("/quit")
        self.clock.advance(0)
        self.assertTrue(bob.transport.disconnecting)


class CommandTests(NativeTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.alicja = self.connect("Alicja")
        self.bob = self.connect("Bob")
        self.alicja.lines()

    def test_who(self) -> None:
        """
        /who lists the room's members in joining order.
        """
        self.bob.say("/who")
        self.assertEqual(self.bob.lines(), ["In room lobby (2): Alicja and Bob"])

    def test_privateMessage(self) -> None:
        """
        /msg reaches the recipient as a private line and echoes to the sender.
        """
        self.alicja.say("/msg bob psst")
        self.assertEqual(self.bob.lines(), ["*Alicja* psst"])
        self.assertEqual(self.alicja.lines(), ["-> *Bob* psst"])

    def test_privateMessageToNobody(self) -> None:
        """
        /msg to an unknown nickname is an error, with the name made safe.
        """
        self.alicja.say("/msg Zed\x1b hi")
        self.assertEqual(self.alicja.lines(), ["! Nobody called Zed\u241b is here."])

    def test_action(self) -> None:
        """
        /me is shown to the room as an action.
        """
        self.alicja.say("/me waves")
        self.assertEqual(self.bob.lines(), ["* Alicja waves"])

    def test_nick(self) -> None:
        """
        /nick is announced to the room, the renamed included.
        """
        self.alicja.say("/nick Ala")
        self.assertEqual(self.bob.lines(), ["Alicja is now known as Ala."])
        self.assertEqual(self.alicja.lines(), ["Alicja is now known as Ala."])
        self.alicja.say("hi")
        self.assertEqual(self.bob.lines(), ["Ala: hi"])

    def test_join(self) -> None:
        """
        /join moves to another room; lines no longer cross.
        """
        self.alicja.say("/join kitchen")
        self.assertEqual(self.alicja.lines(), ["You are now in room kitchen (1 member)."])
        self.assertEqual(self.bob.lines(), ["Alicja went to room kitchen."])
        self.bob.say("anyone?")
        self.assertEqual(self.bob.lines(), ["Bob: anyone?"])
        self.assertEqual(self.alicja.lines(), [])
        self.bob.say("/rooms")
        self.assertEqual(self.bob.lines(), ["2 rooms: kitchen (1), lobby (1)"])

    def test_unknownCommandNeverBroadcast(self) -> None:
        """
        An unknown command is an error for the sender only.
        """
        self.alicja.say("/frobnicate now")
        self.assertEqual(self.alicja.lines(), ["! Unknown command /frobnicate; try /help."])
        self.assertEqual(self.bob.lines(), [])

    def test_usage(self) -> None:
        """
        A command missing its argument shows how to use it.
        """
        self.alicja.say("/msg Bob")
        self.assertEqual(self.alicja.lines(), ["! Usage: /msg <nickname> <text>"])

    def test_slashEscape(self) -> None:
        """
        // sends a literal slash.
        """
        self.alicja.say("//shrug")
        self.assertEqual(self.bob.lines(), ["Alicja: /shrug"])

    def test_help(self) -> None:
        """
        /help lists every command, each on a notice line.
        """
        self.alicja.say("/help")
        lines = self.alicja.lines()
        for command in ["/who", "/msg", "/me", "/nick", "/join", "/rooms", "/lang", "/quit", "/help"]:
            self.assertTrue(any(line.startswith(command) for line in lines), command)

    def test_langPerConnection(self) -> None:
        """
        /lang changes the language of one connection only.
        """
        self.bob.say("/lang pl")
        self.assertEqual(self.bob.lines(), ["Wybrany język: polski (pl)."])
        self.connect("Carol")
        self.assertEqual(self.bob.lines(), ["Carol dołączył do czatu!"])
        self.assertEqual(self.alicja.lines(), ["Carol joined the chat!"])

    def test_unknownLanguage(self) -> None:
        """
        An unknown language is refused, listing the available ones.
        """
        self.bob.say("/lang xx")
        self.assertEqual(
            self.bob.lines(),
            [
                "! Unknown language xx.",
                "Your language is English (en); available: en (English), pl (polski).",
            ],
        )

    def test_quitWithReason(self) -> None:
        """
        /quit with a reason shares it, made safe.
        """
        self.bob.say("/quit off\x1b[2J")
        self.bob.protocol.connectionLost(None)
        self.assertEqual(self.alicja.lines(), ["Bob left the chat (off\u241b[2J)."])


class BadInputTests(NativeTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.alicja = self.connect("Alicja")
        self.bob = self.connect("Bob")
        self.alicja.lines()

    def test_tooLong(self) -> None:
        """
        An over-long line is refused with the limit, and the next line is
        delivered as usual.
        """
        self.bob.send(b"x" * 3000 + b"\nstill here\n")
        self.assertEqual(
            self.bob.lines(),
            ["! Line too long (at most 2048 bytes); it was dropped.", "Bob: still here"],
        )
        self.assertEqual(self.alicja.lines(), ["Bob: still here"])

    def test_invalidUtf8(self) -> None:
        """
        Invalid UTF-8 is refused for the sender alone.
        """
        self.bob.send(b"caf\xe9\n")
        self.assertEqual(self.bob.lines(), ["! That line is not valid UTF-8; it was dropped."])
        self.assertEqual(self.alicja.lines(), [])

    def test_controlCharactersNeverReachOthers(self) -> None:
        """
        Escape sequences reach others only as visible pictures.
        """
        self.bob.send(b"\x1b]0;pwned\x07\x1b[31mred\n")
        data = self.alicja.transport.value()
        self.assertNotIn(b"\x1b", data)
        self.assertEqual(self.alicja.lines(), ["Bob: \u241b]0;pwned\u2407\u241b[31mred"])

    def test_emptyLinesIgnored(self) -> None:
        """
        Empty and blank lines produce nothing.
        """
        self.bob.send(b"\n\r\n   \n")
        self.assertEqual(self.bob.lines(), [])
        self.assertEqual(self.alicja.lines(), [])

    def test_halfLineAtDisconnect(self) -> None:
        """
        A line without its ending when the client vanishes is never said.
        """
        self.bob.send(b"half a li")
        self.bob.protocol.connectionLost(None)
        self.assertEqual(self.alicja.lines(), ["Bob left the chat."])

    def test_neverReads(self) -> None:
        """
        A client that stops reading is cut off past the send-queue limit; the
        room hears that it left.
        """
        self.bob.transport.producer.pauseProducing()
        for number in range(1000):
            self.alicja.say("x" * 2000)
        self.clock.advance(0)
        self.assertTrue(self.bob.transport.disconnecting)
        self.bob.protocol.connectionLost(None)
        heard = self.alicja.lines()
        self.assertEqual(heard[-1], "Bob left the chat.")
        self.assertEqual(set(heard[:-1]), {"Alicja: " + "x" * 2000})
        self.alicja.say("after")
        self.assertEqual(self.alicja.lines(), ["Alicja: after"])


class ShutdownTests(NativeTestCase):
    def test_closingNotice(self) -> None:
        """
        On shutdown each connection, with or without a nickname, is told and
        then closed; nothing is written after.
        """
        alicja = self.connect("Alicja")
        anonymous = self.connect()
        anonymous.lines()
        self.hub.shutdown()
        for connection in (alicja, anonymous):
            self.assertEqual(connection.lines(), ["The server is shutting down. Goodbye!"])
            self.assertTrue(connection.transport.disconnecting)
        alicja.say("late")
        self.assertEqual(alicja.lines(), [])


class PolishServerTests(NativeTestCase):
    language = "pl"

    def test_seedTranscriptInPolish(self) -> None:
        """
        With Polish as the server default, the seed's own lines appear.
        """
        alicja = self.connect("Alicja")
        bob = self.connect("Bob")
        self.assertEqual(alicja.lines(), ["Bob dołączył do czatu!"])
        bob.say("Cześć wszystkim!")
        self.assertEqual(alicja.lines(), ["Bob: Cześć wszystkim!"])
        alicja.say("Cześć Bob!")
        self.assertEqual(bob.lines(), ["Bob: Cześć wszystkim!", "Alicja: Cześć Bob!"])
        bob.say("/quit")
        bob.protocol.connectionLost(None)
        self.assertEqual(alicja.lines(), ["Alicja: Cześć Bob!", "Bob opuścił czat."])


class LimitTests(SynchronousTestCase):
    def test_fullServerSaysWhy(self) -> None:
        """
        A connection over the per-address limit gets a one-line reason and is
        closed, without ever being asked for a nickname.
        """
        hub = Hub(Clock(), maxPerAddress=1)
        factory = NativeFactory(hub)
        Connection(factory)
        refused = Connection(factory)
        self.assertEqual(
            refused.lines(),
            ["! Too many connections from your address (at most 1); try again later."],
        )
        self.assertTrue(refused.transport.disconnecting)
        refused.say("Bob")
        refused.protocol.connectionLost(None)
        self.assertEqual(len(hub.members), 1)

    def test_tooSlowToChoose(self) -> None:
        """
        A connection that never picks a nickname is told and closed.
        """
        clock = Clock()
        factory = NativeFactory(Hub(clock, registrationTimeout=60))
        idle = Connection(factory)
        idle.lines()
        clock.advance(60)
        self.assertEqual(idle.lines(), ["! You took too long to choose a nickname. Goodbye!"])
        self.assertTrue(idle.transport.disconnecting)


class RenderOnceTests(NativeTestCase):
    def test_oneRenderingPerLanguage(self) -> None:
        """
        A line said to a room is worded and encoded once per language, however
        many hear it.
        """
        from chatsvc.native import render

        connections = [self.connect(f"user{n}") for n in range(5)]
        connections[0].say("/lang pl")
        calls = []
        original = render.encodeEvent

        def counting(event, language, own=False):
            calls.append((language, own))
            return original(event, language, own)

        self.patch(render, "encodeEvent", counting)
        connections[1].say("hello all")
        # The sender's own view is the others' view: not worded again.
        self.assertEqual(sorted(calls), [("en", False), ("pl", False)])
        for connection in connections[1:]:
            self.assertEqual(connection.lines()[-1], "user1: hello all")


class RoomLimitTests(SynchronousTestCase):
    def test_joinPastTheServersLimit(self) -> None:
        """
        /join of a new room past the server's room limit is refused with
        the limit and a hint; the user stays where they were.
        """
        clock = Clock()
        factory = NativeFactory(Hub(clock, maxRooms=2), limits=UNLIMITED)
        ola = Connection(factory)
        ola.lines()
        ola.say("Ola")
        ola.say("/join kitchen")
        ewa = Connection(factory)
        ewa.lines()
        ewa.say("Ewa")
        ola.lines()
        ewa.lines()
        ewa.say("/join attic")
        self.assertEqual(
            ewa.lines(),
            ["! The server holds as many rooms as it may (2); join one of them (/rooms)."],
        )
        ewa.say("/join kitchen")
        self.assertEqual(ewa.lines(), ["You are now in room kitchen (2 members)."])
