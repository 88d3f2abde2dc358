"""
Tests for L{chatsvc.irc.protocol}: IRC connections in memory, beside native
ones on the same hub.
"""

from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from chatsvc.events import Identity
from chatsvc.hub import Hub
from chatsvc.interfaces import IParticipant
from chatsvc.irc.commands import COMMANDS
from chatsvc.irc.commands.help import TEXTS
from chatsvc.irc.protocol import IRCFactory
from chatsvc.irc.wire import parseMessage
from chatsvc.native.protocol import NativeFactory
from chatsvc.net.output import Outbox
from tests.test_native import UNLIMITED, Connection


class IRCConnection:
    """
    One IRC client's end, as parsed messages.
    """

    def __init__(self, factory: IRCFactory) -> None:
        self.factory = factory
        self.protocol = factory.buildProtocol(None)
        self.transport = StringTransport()
        self.protocol.makeConnection(self.transport)

    def send(self, *lines: str) -> None:
        self.protocol.dataReceived("".join(line + "\r\n" for line in lines).encode("utf-8"))

    def raw(self) -> bytes:
        self.factory.clock.advance(0)
        data = self.transport.value()
        self.transport.clear()
        return data

    def messages(self):
        data = self.raw()
        assert data.count(b"\n") == data.count(b"\r\n"), data
        return [parseMessage(line) for line in data.decode("utf-8").split("\r\n") if line]

    def commands(self) -> list[str]:
        return [message.command for message in self.messages()]


class IRCTestCase(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.hub = Hub(self.clock)
        outbox = Outbox(self.clock)
        self.factory = IRCFactory(
            self.hub, self.clock, wallClock=lambda: 1_000_000.0, limits=UNLIMITED, outbox=outbox
        )
        self.factory.startFactory()
        self.native = NativeFactory(self.hub, limits=UNLIMITED, outbox=outbox)

    def irc(self, nickname: str | None = None, *channels: str) -> IRCConnection:
        connection = IRCConnection(self.factory)
        if nickname is not None:
            connection.send(f"NICK {nickname}", f"USER {nickname.lower()} 0 * :{nickname} Real")
            if channels:
                connection.send("JOIN " + ",".join(channels))
            connection.raw()
        return connection

    def nativeUser(self, nickname: str) -> Connection:
        connection = Connection(self.native)
        connection.lines()
        connection.say(nickname)
        connection.lines()
        return connection


class RegistrationTests(IRCTestCase):
    def test_providesParticipant(self) -> None:
        """
        The IRC protocol is a hub participant like the native one.
        """
        self.assertTrue(verifyObject(IParticipant, self.irc().protocol.connection))

    def test_welcomeBurst(self) -> None:
        """
        NICK and USER, in either order, bring 001-005, the users and the MOTD.
        """
        client = self.irc()
        client.send("USER ola 0 * :Ola Nowak", "NICK Ola")
        commands = client.commands()
        self.assertEqual(commands[:5], ["001", "002", "003", "004", "005"])
        self.assertIn("251", commands)
        self.assertEqual(commands[-3:], ["375", "372", "376"])

    def test_isupportTellsTheTruth(self) -> None:
        """
        005 names our limits, UTF-8 only, the operator and voice prefixes
        and the channel modes the hub keeps; 004 the same modes.
        """
        client = self.irc()
        client.send("NICK Ola", "USER ola 0 * :Ola")
        messages = client.messages()
        tokens = [p for m in messages if m.command == "005" for p in m.params[1:-1]]
        for token in [
            "NICKLEN=32",
            "CHANTYPES=#",
            "PREFIX=(ov)@+",
            "CHANMODES=b,k,l,imnst",
            "MAXLIST=b:100",
            "MODES=4",
            "UTF8ONLY",
            "CHANNELLEN=33",
            "TOPICLEN=390",
        ]:
            self.assertIn(token, tokens)
        [myInfo] = [m for m in messages if m.command == "004"]
        self.assertEqual(myInfo.params[3:], ("iow", "biklmnostv", "bklov"))

    def test_capHoldsRegistration(self) -> None:
        """
        A client that starts CAP negotiation registers only after CAP END, and
        is refused a capability that is not offered (history ones are not,
        by a server that keeps none, nor SASL by one without accounts).
        """
        client = self.irc()
        client.send("CAP LS 302", "NICK Ola", "USER ola 0 * :Ola", "CAP REQ :draft/chathistory")
        offered = (
            "account-notify account-tag away-notify batch cap-notify echo-message "
            "extended-join invite-notify message-tags multi-prefix server-time setname "
            "userhost-in-names"
        )
        self.assertEqual(
            [(m.command, m.params) for m in client.messages()],
            [("CAP", ("*", "LS", offered)), ("CAP", ("*", "NAK", "draft/chathistory"))],
        )
        client.send("CAP REQ sasl")
        self.assertEqual(client.messages()[0].params, ("*", "NAK", "sasl"))
        client.send("CAP END")
        self.assertEqual(client.commands()[0], "001")

    def test_pingBeforeRegistration(self) -> None:
        """
        PING is answered with its token, spaces and all, even unregistered.
        """
        client = self.irc()
        client.send("PING :token with spaces")
        [pong] = client.messages()
        self.assertEqual((pong.command, pong.params[-1]), ("PONG", "token with spaces"))

    def test_commandsNeedRegistration(self) -> None:
        """
        Anything but registration commands before registering gets 451.
        """
        client = self.irc()
        client.send("JOIN #lobby", "PRIVMSG x :y")
        self.assertEqual(client.commands(), ["451", "451"])

    def test_badAndTakenNicknames(self) -> None:
        """
        A malformed nickname gets 432, a taken one 433 (by key), and a good
        one registers on the same connection.
        """
        self.irc("Ola")
        client = self.irc()
        client.send("NICK 9lives", "NICK OLA", "NICK")
        self.assertEqual(client.commands(), ["432", "433", "431"])
        client.send("NICK Ewa", "USER e 0 * :E")
        self.assertEqual(client.commands()[0], "001")

    def test_userNeedsFourParameters(self) -> None:
        """
        A short USER gets 461, a second one 462.
        """
        client = self.irc()
        client.send("USER a b")
        self.assertEqual(client.commands(), ["461"])
        client = self.irc("Ola")
        client.send("USER a 0 * :b")
        self.assertEqual(client.commands(), ["462"])

    def test_userNeedsARealName(self) -> None:
        """
        A USER with an empty real name gets 461 and registers nobody; a
        proper one then does.
        """
        client = self.irc()
        client.send("NICK Ola", "USER ola 0 * :")
        [refused] = client.messages()
        self.assertEqual(refused, parseMessage(":chatsvc 461 Ola USER :Not enough parameters"))
        self.assertEqual(self.hub.registeredCount(), 0)
        client.send("USER ola 0 * :Ola")
        self.assertEqual(client.commands()[0], "001")


class ChannelTests(IRCTestCase):
    def test_joinSharesTheNativeRoom(self) -> None:
        """
        Joining #lobby puts an IRC user beside native users: the names reply
        lists them (the first one in, its operator, with @), and they hear
        of the join.
        """
        bob = self.nativeUser("Bob")
        ola = self.irc("Ola")
        ola.send("JOIN #lobby")
        messages = ola.messages()
        self.assertEqual(messages[0], parseMessage(":Ola!~ola@192.168.1.1 JOIN #lobby"))
        names = [m for m in messages if m.command == "353"][0]
        self.assertEqual(names.params[-1].split(), ["@Bob", "Ola"])
        self.assertEqual(messages[-1].command, "366")
        self.assertEqual(bob.lines(), ["Ola joined the chat!"])

    def test_linesCrossBothWays(self) -> None:
        """
        Native chat reaches IRC as PRIVMSG from the native user's mask; IRC
        chat reaches native users, and is not echoed to its IRC sender.
        """
        bob = self.nativeUser("Bob")
        ola = self.irc("Ola", "#lobby")
        bob.lines()
        bob.say("cześć")
        self.assertEqual(ola.messages(), [parseMessage(":Bob!Bob@192.168.1.1 PRIVMSG #lobby :cześć")])
        ola.send("PRIVMSG #lobby :hej Bob", "NOTICE #lobby :a notice")
        self.assertEqual(bob.lines(), ["Bob: cześć", "Ola: hej Bob", "Ola: a notice"])
        self.assertEqual(ola.messages(), [])

    def test_actionsCrossBothWays(self) -> None:
        """
        CTCP ACTION and /me are the same thing on either side.
        """
        bob = self.nativeUser("Bob")
        ola = self.irc("Ola", "#lobby")
        bob.lines()
        ola.send("PRIVMSG #lobby :\x01ACTION waves\x01")
        self.assertEqual(bob.lines(), ["* Ola waves"])
        bob.say("/me bows")
        self.assertEqual(ola.messages()[-1].params, ("#lobby", "\x01ACTION bows\x01"))

    def test_privateMessagesAndAway(self) -> None:
        """
        Private messages cross both ways; messaging someone away tells so.
        """
        bob = self.nativeUser("Bob")
        ola = self.irc("Ola")
        ola.send("PRIVMSG bob :psst")
        self.assertEqual(bob.lines(), ["*Ola* psst"])
        bob.say("/msg Ola hi")
        self.assertEqual(ola.messages(), [parseMessage(":Bob!Bob@192.168.1.1 PRIVMSG Ola :hi")])
        ola.send("AWAY :lunch")
        self.assertEqual(ola.commands(), ["306"])
        other = self.irc("Ewa")
        other.send("PRIVMSG Ola :there?")
        [away] = other.messages()
        self.assertEqual((away.command, away.params[1:]), ("301", ("Ola", "lunch")))

    def test_sendingErrors(self) -> None:
        """
        PRIVMSG to an unknown nick, unknown channel or a channel one is not in
        gets its numeric; NOTICE never gets any reply.
        """
        self.nativeUser("Bob")
        ola = self.irc("Ola")
        ola.send("PRIVMSG zed :x", "PRIVMSG #attic :x", "PRIVMSG #lobby :x", "PRIVMSG #lobby", "PRIVMSG")
        self.assertEqual(ola.commands(), ["401", "403", "404", "412", "411"])
        ola.send("NOTICE zed :x", "NOTICE #attic :x", "NOTICE #lobby :x")
        self.assertEqual(ola.commands(), [])

    def test_longNativeLinesAreSplit(self) -> None:
        """
        A native line longer than IRC allows arrives as several PRIVMSGs, each
        a legal IRC line, that make up the whole text.
        """
        bob = self.nativeUser("Bob")
        ola = self.irc("Ola", "#lobby")
        text = " ".join(["zażółć"] * 150)
        bob.say(text)
        data = ola.raw()
        lines = data.split(b"\r\n")[:-1]
        self.assertGreater(len(lines), 2)
        for line in lines:
            self.assertLessEqual(len(line) + 2, 512)
        parts = [parseMessage(line.decode("utf-8")).params[-1] for line in lines]
        self.assertEqual(" ".join(parts), text)

    def test_partAndQuit(self) -> None:
        """
        PART leaves one channel with its reason; QUIT tells the others and
        closes with ERROR.
        """
        bob = self.nativeUser("Bob")
        ola = self.irc("Ola", "#lobby", "#kuchnia")
        bob.lines()
        ola.send("PART #kuchnia :later")
        self.assertEqual(ola.messages(), [parseMessage(":Ola!~ola@192.168.1.1 PART #kuchnia :later")])
        ola.send("PART #attic", "PART #lobby,#kuchnia")
        # #kuchnia vanished with its last member.
        self.assertEqual(ola.commands(), ["403", "PART", "403"])
        self.nativeUser("Ewa")
        ola.send("PART #lobby")
        self.assertEqual(ola.commands(), ["442"])
        ola.send("JOIN #lobby")
        ola.raw()
        bob.lines()
        ola.send("QUIT :bye all")
        self.assertEqual(ola.commands(), ["ERROR"])
        self.assertTrue(ola.transport.disconnecting)
        ola.protocol.connectionLost(None)
        self.assertEqual(bob.lines(), ["Ola left the chat (bye all)."])

    def test_nickChangesCross(self) -> None:
        """
        An IRC NICK is a native rename, and the other way round.
        """
        bob = self.nativeUser("Bob")
        ola = self.irc("Ola", "#lobby")
        bob.lines()
        ola.send("NICK Aleksandra")
        self.assertEqual(bob.lines(), ["Ola is now known as Aleksandra."])
        self.assertEqual(ola.messages(), [parseMessage(":Ola!~ola@192.168.1.1 NICK Aleksandra")])
        bob.say("/nick Robert")
        self.assertEqual(ola.messages(), [parseMessage(":Bob!Bob@192.168.1.1 NICK Robert")])

    def test_topic(self) -> None:
        """
        TOPIC sets, shows and announces a room's topic (its operator, the
        first one in, sets it); nobody can inject a line through it.
        """
        ola = self.irc("Ola", "#lobby")
        bob = self.nativeUser("Bob")
        bob.lines()
        ola.raw()
        ola.send("TOPIC #lobby")
        self.assertEqual(ola.commands(), ["331"])
        ola.send("TOPIC #lobby :Witamy\x1b[2J")
        self.assertEqual(ola.messages(), [parseMessage(":Ola!~ola@192.168.1.1 TOPIC #lobby :Witamy\x1b[2J")])
        self.assertEqual(bob.lines(), ["Ola set the topic of room lobby: Witamy\u241b[2J"])
        ola.send("TOPIC #lobby")
        topic, whoTime = ola.messages()
        self.assertEqual(topic.params[-1], "Witamy\x1b[2J")
        self.assertEqual((whoTime.command, whoTime.params[1:]), ("333", ("#lobby", "Ola", "1000000")))

    def test_crowdSummaryIsANotice(self) -> None:
        """
        In a crowded room, IRC clients get the join summary as a NOTICE.
        """
        hub = Hub(self.clock, crowdSize=2)
        factory = IRCFactory(hub, self.clock)
        ola = IRCConnection(factory)
        ola.send("NICK Ola", "USER o 0 * :O", "JOIN #lobby")
        for name in ["Ewa", "Iga"]:
            other = IRCConnection(factory)
            other.send(f"NICK {name}", "USER x 0 * :x", "JOIN #lobby")
        ola.raw()
        self.clock.advance(1)
        [notice] = ola.messages()
        self.assertEqual(notice.command, "NOTICE")
        self.assertEqual(notice.params, ("#lobby", "Joined #lobby: Ewa and Iga"))

    def test_crowdSummaryInTheServersLanguage(self) -> None:
        """
        The summary is worded by the IRC front-end itself, in the language
        the server was given (--lang).
        """
        hub = Hub(self.clock, crowdSize=2)
        factory = IRCFactory(hub, self.clock, language="pl")
        ola = IRCConnection(factory)
        ola.send("NICK Ola", "USER o 0 * :O", "JOIN #lobby")
        for name in ["Ewa", "Iga", "Ula", "Zoe"]:
            other = IRCConnection(factory)
            other.send(f"NICK {name}", "USER x 0 * :x", "JOIN #lobby")
        ola.raw()
        self.clock.advance(1)
        [notice] = ola.messages()
        self.assertEqual(notice.params, ("#lobby", "Do #lobby dołączyli: Ewa, Iga, Ula i 1 inna osoba"))


class QueryTests(IRCTestCase):
    def test_whois(self) -> None:
        """
        WHOIS tells the mask, channels (with the sign of its role there),
        idle time and sign-on of a native user.
        """
        self.clock.advance(50)
        self.nativeUser("Bob")
        self.clock.advance(10)
        ola = self.irc("Ola")
        ola.send("WHOIS bob")
        messages = {m.command: m.params for m in ola.messages()}
        self.assertEqual(messages["311"][1:4], ("Bob", "Bob", "192.168.1.1"))
        self.assertEqual(messages["319"][-1], "@#lobby")
        self.assertEqual(messages["317"][2:4], ("10", str(1_000_000 + 50)))
        self.assertIn("318", messages)
        ola.send("WHOIS nobody")
        self.assertEqual(ola.commands(), ["401", "318"])

    def test_listNamesWho(self) -> None:
        """
        LIST, NAMES and WHO describe rooms and people.
        """
        self.nativeUser("Bob")
        ola = self.irc("Ola", "#kuchnia")
        ola.send("LIST")
        listing = [m.params[1:3] for m in ola.messages() if m.command == "322"]
        self.assertEqual(listing, [("#kuchnia", "1"), ("#lobby", "1")])
        ola.send("NAMES #lobby,#nowhere")
        self.assertEqual(ola.commands(), ["353", "366"])
        ola.send("WHO #lobby")
        who = ola.messages()
        self.assertEqual(who[0].command, "352")
        self.assertEqual(who[0].params[5], "Bob")
        self.assertEqual(who[-1].command, "315")

    def test_modes(self) -> None:
        """
        MODE answers queries; setting channel modes needs an operator, and
        who came in after the first is none.
        """
        self.nativeUser("Bob")
        ola = self.irc("Ola", "#lobby")
        ola.send("MODE #lobby", "MODE #lobby +b", "MODE #lobby +m", "MODE Ola", "MODE Ola +i", "MODE Ola +z")
        self.assertEqual(ola.commands(), ["324", "329", "368", "482", "221", "MODE", "501"])

    def test_isonUserhost(self) -> None:
        """
        ISON and USERHOST answer for the people who are here.
        """
        self.nativeUser("Bob")
        ola = self.irc("Ola")
        ola.send("ISON Bob zed", "USERHOST Bob")
        ison, userhost = ola.messages()
        self.assertEqual(ison.params[-1], "Bob")
        self.assertEqual(userhost.params[-1], "Bob=+Bob@192.168.1.1")

    def test_unknownAndOperatorCommands(self) -> None:
        """
        Unknown commands get 421; KICK by someone who is no channel operator
        gets 482; OPER on a server without operators 491.
        """
        self.nativeUser("Bob")
        ola = self.irc("Ola", "#lobby")
        ola.send("FROBNICATE x", "KICK #lobby Bob", "OPER a b", "DIE")
        self.assertEqual(ola.commands(), ["421", "482", "491", "481"])


class FramingTests(IRCTestCase):
    def test_tooLong(self) -> None:
        """
        A line over 512 bytes gets 417 and the connection carries on.
        """
        ola = self.irc("Ola")
        ola.send("PRIVMSG x :" + "y" * 600, "PING :still")
        self.assertEqual(ola.commands(), ["417", "PONG"])

    def test_invalidUtf8(self) -> None:
        """
        A line that is not UTF-8 is refused with FAIL ... INVALID_UTF8 and
        the connection carries on.
        """
        ola = self.irc("Ola", "#lobby")
        ola.protocol.dataReceived(b"PRIVMSG #lobby :caf\xe9\r\nPING :ok\r\n")
        fail, pong = ola.messages()
        self.assertEqual(fail.params[:2], ("PRIVMSG", "INVALID_UTF8"))
        self.assertEqual(pong.command, "PONG")

    def test_shutdown(self) -> None:
        """
        On server shutdown IRC clients get ERROR and the connection closes.
        """
        ola = self.irc("Ola")
        self.hub.shutdown()
        self.assertEqual(ola.commands(), ["ERROR"])
        self.assertTrue(ola.transport.disconnecting)


class KeepAliveTests(IRCTestCase):
    def test_silentClientIsPinged(self) -> None:
        """
        After 90 s of silence the server sends PING; any reply keeps the
        client.
        """
        ola = self.irc("Ola")
        self.clock.advance(89)
        self.assertEqual(ola.commands(), [])
        self.clock.advance(1)
        [ping] = ola.messages()
        self.assertEqual((ping.command, ping.params), ("PING", ("chatsvc",)))
        ola.send("PONG :chatsvc")
        self.clock.advance(89)
        self.assertEqual(ola.commands(), [])
        self.assertFalse(ola.transport.disconnecting)

    def test_deadClientIsDropped(self) -> None:
        """
        A client that does not answer the PING within 60 s is dropped, and its
        rooms hear why.
        """
        bob = self.nativeUser("Bob")
        ola = self.irc("Ola", "#lobby")
        bob.lines()
        self.clock.advance(90)
        ola.raw()
        self.clock.advance(60)
        self.assertEqual(ola.commands(), ["ERROR"])
        self.assertEqual(bob.lines(), ["Ola left the chat (Ping timeout)."])
        ola.protocol.connectionLost(None)
        self.assertEqual(self.clock.getDelayedCalls(), [])


class NativeTextTests(IRCTestCase):
    def test_nativeTextCannotBeACtcpQuery(self) -> None:
        """
        A native line holding CTCP markers reaches IRC clients as plain text,
        so no IRC client answers a query nobody meant.
        """
        bob = self.nativeUser("Bob")
        ola = self.irc("Ola", "#lobby")
        bob.lines()
        bob.say("\x01VERSION\x01")
        [message] = ola.messages()
        self.assertNotIn("\x01", message.params[-1])
        self.assertEqual(bob.lines(), ["Bob: \u2401VERSION\u2401"])


class BoundsTests(IRCTestCase):
    def test_tooManyChannels(self) -> None:
        """
        Past CHANLIMIT a JOIN gets 405 for each channel over, and the server
        keeps none of them.
        """
        hub = Hub(self.clock, maxRoomsPerMember=2)
        factory = IRCFactory(hub, self.clock, limits=UNLIMITED)
        ola = IRCConnection(factory)
        ola.send("NICK Ola", "USER o 0 * :O")
        tokens = [p for m in ola.messages() if m.command == "005" for p in m.params[1:-1]]
        self.assertIn("CHANLIMIT=#:2", tokens)
        ola.send("JOIN #a,#b,#c,#d")
        replies = [(m.command, m.params[1:2]) for m in ola.messages() if m.command in ("JOIN", "405")]
        self.assertEqual(
            replies,
            [("JOIN", ()), ("JOIN", ()), ("405", ("#c",)), ("405", ("#d",))],
        )
        self.assertEqual([room.name for room in hub.rooms()], ["a", "b"])

    def test_serverRoomLimit(self) -> None:
        """
        Past the server's room limit a JOIN of a new channel gets 405 saying
        so; joining an existing channel still works.
        """
        hub = Hub(self.clock, maxRooms=2)
        factory = IRCFactory(hub, self.clock, limits=UNLIMITED)
        ola = IRCConnection(factory)
        ola.send("NICK Ola", "USER o 0 * :O", "JOIN #a,#b")
        ola.raw()
        ola.send("JOIN #c")
        [refused] = [m for m in ola.messages() if m.command in ("JOIN", "405")]
        self.assertEqual(refused.params, ("Ola", "#c", "The server holds 2 channels; join one of them"))
        ewa = IRCConnection(factory)
        ewa.send("NICK Ewa", "USER e 0 * :E", "JOIN #a")
        self.assertIn("JOIN", ewa.commands())

    def test_topicIsCutToTopiclen(self) -> None:
        """
        A topic longer than TOPICLEN is cut there, for everyone alike.
        """
        ola = self.irc("Ola", "#lobby")
        ola.send("TOPIC #lobby :" + "t" * 480)
        [topic] = ola.messages()
        self.assertEqual(topic.params[-1], "t" * 390)


class LusersTests(IRCTestCase):
    def test_localAndGlobalUsers(self) -> None:
        """
        LUSERS ends with 265 and 266: everyone registered, on either
        front-end, and the most there have been at once, which stays after
        they leave.
        """
        self.nativeUser("Bob")
        ewa = self.irc("Ewa")
        ola = self.irc("Ola")
        ewa.send("QUIT")
        ewa.protocol.connectionLost(None)
        ola.send("LUSERS")
        messages = ola.messages()
        self.assertEqual([m.command for m in messages], ["251", "252", "253", "254", "255", "265", "266"])
        self.assertEqual(
            messages[-2:],
            [
                parseMessage(":chatsvc 265 Ola 2 3 :Current local users 2, max 3"),
                parseMessage(":chatsvc 266 Ola 2 3 :Current global users 2, max 3"),
            ],
        )
        self.assertEqual(messages[4].params[1], "I have 2 clients and 0 servers")

    def test_peakOfACrowdedRoom(self) -> None:
        """
        The most at once counts a native user who came and went in a crowded
        room, of whom nobody heard but in a summary.
        """
        hub = Hub(self.clock, crowdSize=1)
        factory = IRCFactory(hub, self.clock, limits=UNLIMITED)
        factory.startFactory()
        ola = IRCConnection(factory)
        ola.send("NICK Ola", "USER o 0 * :O")
        ola.raw()
        native = Connection(NativeFactory(hub, limits=UNLIMITED))
        native.say("Bob")
        native.protocol.connectionLost(None)
        ola.send("LUSERS")
        self.assertEqual(ola.messages()[-1].params[1:3], ("1", "2"))

    def test_inTheWelcomeBurst(self) -> None:
        """
        Registering shows 265 and 266 with the rest of LUSERS, before the MOTD.
        """
        client = self.irc()
        client.send("NICK Ola", "USER ola 0 * :Ola")
        commands = client.commands()
        self.assertEqual(commands[-5:], ["265", "266", "375", "372", "376"])


class WhowasTests(IRCTestCase):
    def test_whoLeft(self) -> None:
        """
        WHOWAS of someone who quit gives their user, host and real name,
        the server and when they left, then the end.
        """
        ewa = self.irc("Ewa")
        self.clock.advance(60)
        ewa.send("QUIT :bye")
        ewa.protocol.connectionLost(None)
        ola = self.irc("Ola")
        ola.send("WHOWAS ewa")
        self.assertEqual(
            ola.messages(),
            [
                parseMessage(":chatsvc 314 Ola Ewa ~ewa 192.168.1.1 * :Ewa Real"),
                parseMessage(":chatsvc 312 Ola Ewa chatsvc :Mon Jan 12 1970 13:47:40 UTC"),
                parseMessage(":chatsvc 369 Ola ewa :End of WHOWAS"),
            ],
        )

    def test_renamedAwayAndNativeUsers(self) -> None:
        """
        A nickname someone was renamed away from is remembered too, and so
        is a native user's.
        """
        bob = self.nativeUser("Bob")
        bob.say("/nick Robert")
        ola = self.irc("Ola")
        ola.send("WHOWAS Bob")
        [user, _, end] = ola.messages()
        self.assertEqual(user.params[1:], ("Bob", "Bob", "192.168.1.1", "*", ""))
        self.assertEqual(end.command, "369")

    def test_newestFirstAndCount(self) -> None:
        """
        Several holders of a nickname come newest first; a positive count
        keeps that many, zero, a negative or no count all of them.
        """
        for username in ["first", "second"]:
            gone = self.irc()
            gone.send("NICK Ewa", f"USER {username} 0 * :Ewa")
            gone.send("QUIT")
            gone.protocol.connectionLost(None)
        ola = self.irc("Ola")

        def users(line: str) -> list[str]:
            ola.send(line)
            return [m.params[2] for m in ola.messages() if m.command == "314"]

        self.assertEqual(users("WHOWAS Ewa"), ["~second", "~first"])
        self.assertEqual(users("WHOWAS Ewa 1"), ["~second"])
        self.assertEqual(users("WHOWAS Ewa 2"), ["~second", "~first"])
        self.assertEqual(users("WHOWAS Ewa 0"), ["~second", "~first"])
        self.assertEqual(users("WHOWAS Ewa -1"), ["~second", "~first"])
        self.assertEqual(users("WHOWAS Ewa lots"), ["~second", "~first"])

    def test_severalNicknames(self) -> None:
        """
        Nicknames separated by commas are answered together, newest first,
        406 for each nobody held, and one end naming them as asked.
        """
        for name in ["Ewa", "Iga"]:
            gone = self.irc(name)
            gone.send("QUIT")
            gone.protocol.connectionLost(None)
            self.clock.advance(1)
        ola = self.irc("Ola")
        ola.send("WHOWAS Ewa,Zed,Iga")
        self.assertEqual(
            [(m.command, m.params[1]) for m in ola.messages()],
            [("314", "Iga"), ("312", "Iga"), ("314", "Ewa"), ("312", "Ewa"), ("406", "Zed"), ("369", "Ewa,Zed,Iga")],
        )

    def test_unknownAndMissing(self) -> None:
        """
        A nickname nobody held gets 406 then 369; no nickname gets 431 alone.
        """
        ola = self.irc("Ola")
        ola.send("WHOWAS zed", "WHOWAS", "WHOWAS ,")
        self.assertEqual(
            ola.messages(),
            [
                parseMessage(":chatsvc 406 Ola zed :There was no such nickname"),
                parseMessage(":chatsvc 369 Ola zed :End of WHOWAS"),
                parseMessage(":chatsvc 431 Ola :No nickname given"),
                parseMessage(":chatsvc 431 Ola :No nickname given"),
            ],
        )

    def test_account(self) -> None:
        """
        Someone who was logged in to an account is shown with it (330).
        """
        self.factory.whowas.record(Identity("Ewa", "~ewa", "192.0.2.7", "ewa", "Ewa Real"), 0.0)
        ola = self.irc("Ola")
        ola.send("WHOWAS Ewa")
        self.assertEqual(
            ola.messages()[2], parseMessage(":chatsvc 330 Ola Ewa ewa :was logged in as")
        )

    def test_watchesOnce(self) -> None:
        """
        A factory that starts listening again records a departure once.
        """
        self.factory.stopFactory()
        self.factory.startFactory()
        ewa = self.irc("Ewa")
        ewa.send("QUIT")
        ewa.protocol.connectionLost(None)
        self.assertEqual(len(self.factory.whowas), 1)


class HelpTests(IRCTestCase):
    def test_helpOnACommand(self) -> None:
        """
        HELP and HELPOP about a command, in any case, give its usage and what
        it does between 704 and 706, every line naming the subject.
        """
        ola = self.irc("Ola")
        for command in ["HELP privmsg", "HELPOP PRIVMSG"]:
            ola.send(command)
            self.assertEqual(
                ola.messages(),
                [
                    parseMessage(":chatsvc 704 Ola PRIVMSG :** PRIVMSG <target>{,<target>} :<text> **"),
                    parseMessage(":chatsvc 705 Ola PRIVMSG :"),
                    parseMessage(
                        ":chatsvc 705 Ola PRIVMSG :Sends text to channels or people, up to 4 at once, "
                        "in one line as it was sent."
                    ),
                    parseMessage(":chatsvc 706 Ola PRIVMSG :End of /HELP."),
                ],
            )

    def test_helpListsTheCommandTable(self) -> None:
        """
        HELP alone lists every command the server knows, from its command
        table, under the subject *; CHATHISTORY only where there is history.
        """
        ola = self.irc("Ola")
        ola.send("HELP")
        messages = ola.messages()
        self.assertEqual((messages[0].command, messages[-1].command), ("704", "706"))
        self.assertEqual({m.params[1] for m in messages}, {"*"})
        listed = " ".join(m.params[2] for m in messages[3:-1]).split()
        self.assertEqual(listed, sorted(set(COMMANDS) - {"CHATHISTORY"}))

    def test_everyCommandHasHelp(self) -> None:
        """
        The help texts describe exactly the commands of the table.
        """
        self.assertEqual(sorted(TEXTS), sorted(COMMANDS))

    def test_unknownSubject(self) -> None:
        """
        HELP about something else gets 524 alone.
        """
        ola = self.irc("Ola")
        ola.send("HELP frobnicate", "HELP SQUIT")
        self.assertEqual(
            ola.messages(),
            [
                parseMessage(":chatsvc 524 Ola frobnicate :No help available on this topic"),
                parseMessage(":chatsvc 524 Ola SQUIT :No help available on this topic"),
            ],
        )

    def test_info(self) -> None:
        """
        INFO is a few 371 lines, then 374.
        """
        ola = self.irc("Ola")
        ola.send("INFO")
        messages = ola.messages()
        self.assertEqual({m.command for m in messages[:-1]}, {"371"})
        self.assertEqual([len(m.params) for m in messages[:-1]], [2, 2, 2])
        self.assertEqual(messages[-1], parseMessage(":chatsvc 374 Ola :End of INFO list"))

    def test_links(self) -> None:
        """
        LINKS names this one server, at no hops, then ends.
        """
        ola = self.irc("Ola")
        ola.send("LINKS")
        self.assertEqual(
            ola.messages(),
            [
                parseMessage(":chatsvc 364 Ola chatsvc chatsvc :0 chatsvc"),
                parseMessage(":chatsvc 365 Ola * :End of /LINKS list"),
            ],
        )


class InputTooLongTests(IRCTestCase):
    # ":Ola!~ola@192.168.1.1 PRIVMSG #lobby :" is 38 bytes of the 510.
    FITS = 510 - 38

    def test_fitsWhole(self) -> None:
        """
        A line that fits in 510 bytes once relayed from the sender's mask
        reaches IRC and native users whole, in one message, whatever tags
        the IRC recipient takes beside it.
        """
        bob = self.nativeUser("Bob")
        ewa = IRCConnection(self.factory)
        ewa.send("CAP REQ :server-time message-tags", "NICK Ewa", "USER e 0 * :E", "CAP END", "JOIN #lobby")
        ola = self.irc("Ola", "#lobby")
        ewa.raw()
        bob.lines()
        text = "x" * (self.FITS - 2) + "ż"
        ola.send("PRIVMSG #lobby :" + text)
        [line] = ewa.raw().split(b"\r\n")[:-1]
        tags, _, message = line.partition(b" ")
        self.assertTrue(tags.startswith(b"@time="))
        self.assertEqual(len(message), 510)
        self.assertEqual(parseMessage(message.decode("utf-8")).params, ("#lobby", text))
        self.assertEqual(bob.lines(), ["Ola: " + text])
        self.assertEqual(ola.messages(), [])

    def test_tooLongOnceRelayed(self) -> None:
        """
        A line that fits as sent but not once relayed gets 417, and nobody
        hears any of it: to a channel, a person, as a NOTICE or an action.
        """
        bob = self.nativeUser("Bob")
        ewa = self.irc("Ewa", "#lobby")
        ola = self.irc("Ola", "#lobby")
        ewa.raw()
        bob.lines()
        # A NOTICE is a byte shorter, and so are the nicknames than #lobby.
        ola.send(
            "PRIVMSG #lobby :" + "x" * (self.FITS + 1),
            "NOTICE #LOBBY :" + "x" * (self.FITS + 2),
            "PRIVMSG ewa,bob :" + "x" * (self.FITS + 4),
            "PRIVMSG #lobby :\x01ACTION " + "x" * (self.FITS - 8),
        )
        refusal = parseMessage(":chatsvc 417 Ola :Input line was too long")
        self.assertEqual(ola.messages(), [refusal] * 4)
        self.assertEqual(ewa.messages(), [])
        self.assertEqual(bob.lines(), [])

    def test_exactForEachTarget(self) -> None:
        """
        The limit is reckoned for the command and target as relayed: a
        NOTICE, or a message to a shorter nickname, may carry more.
        """
        bob = self.nativeUser("Bob")
        ola = self.irc("Ola", "#lobby")
        bob.lines()
        ola.send("NOTICE #lobby :" + "x" * (self.FITS + 1), "PRIVMSG BOB :" + "y" * (self.FITS + 3))
        self.assertEqual(bob.lines(), ["Ola: " + "x" * (self.FITS + 1), "*Ola* " + "y" * (self.FITS + 3)])
        self.assertEqual(ola.messages(), [])

    def test_actionThatFits(self) -> None:
        """
        An action counts with its CTCP markers, whether the client closed
        them or not.
        """
        ewa = self.irc("Ewa", "#lobby")
        ola = self.irc("Ola", "#lobby")
        ewa.raw()
        action = "x" * (self.FITS - 9)
        ola.send("PRIVMSG #lobby :\x01ACTION " + action)
        [message] = ewa.messages()
        self.assertEqual(message.params, ("#lobby", "\x01ACTION " + action + "\x01"))
        self.assertEqual(ola.messages(), [])
