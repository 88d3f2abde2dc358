"""
Tests for accounts and server operators on the IRC front-end, in memory:
SASL PLAIN, REGISTER, PASS account:password, reserved nicknames, the IRCv3
notifications that follow accounts, away and real names, and OPER, KILL
and WALLOPS.
"""

from __future__ import annotations

from base64 import b64encode

from twisted.internet.defer import Deferred

from chatsvc.errors import TooManyAttempts
from chatsvc.irc.protocol import IRCFactory
from chatsvc.irc.wire import parseMessage
from chatsvc.net.output import Outbox
from chatsvc.testing import FakeAccounts, FakeOpers
from tests.test_irc_protocol import IRCTestCase
from tests.test_native import UNLIMITED


def plain(account: str, password: str, authzid: str = "") -> str:
    return b64encode(f"{authzid}\0{account}\0{password}".encode()).decode()


class SlowAccounts(FakeAccounts):
    """
    Accounts that answer a login only when the test says so.
    """

    def __init__(self, passwords: dict[str, str]) -> None:
        super().__init__(passwords)
        self.pending: list[tuple[Deferred, Deferred]] = []

    def login(self, name: str, password: str, address: str) -> Deferred:
        answer = super().login(name, password, address)
        later = Deferred()
        self.pending.append((answer, later))
        return later

    def answer(self) -> None:
        answer, later = self.pending.pop(0)
        answer.chainDeferred(later)


class AccountTestCase(IRCTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.accounts = self.makeAccounts()
        self.hub.nicknameOwner = self.accounts.owner
        self.factory = IRCFactory(
            self.hub,
            self.clock,
            wallClock=lambda: 1_000_000.0,
            limits=UNLIMITED,
            outbox=Outbox(self.clock),
            accounts=self.accounts,
            opers=FakeOpers({"root": "toor"}),
        )
        self.factory.startFactory()

    def makeAccounts(self) -> FakeAccounts:
        return FakeAccounts({"Ola": "hunter22", "Ewa": "secret99"})

    def commands(self, client) -> list[tuple[str, tuple[str, ...]]]:
        return [(m.command, m.params) for m in client.messages()]


class SaslTests(AccountTestCase):
    def test_capAdvertisesPlain(self) -> None:
        """
        CAP LS 302 offers sasl=PLAIN and account registration before
        connecting; older LS the names alone.
        """
        client, older = self.irc(), self.irc()
        client.send("CAP LS 302")
        older.send("CAP LS")
        [new], [old] = [[m.params[-1].split() for m in c.messages()] for c in (client, older)]
        self.assertIn("sasl=PLAIN", new)
        self.assertIn("draft/account-registration=before-connect", new)
        self.assertIn("sasl", old)

    def test_loginBeforeRegistering(self) -> None:
        """
        AUTHENTICATE PLAIN, +, the response: 900 and 903, and the client
        registers logged in, with the account's reserved nickname.
        """
        client = self.irc()
        client.send("CAP LS 302", "NICK Ola", "USER ola 0 * :Ola", "CAP REQ sasl")
        client.raw()
        client.send("AUTHENTICATE PLAIN")
        self.assertEqual(client.messages(), [parseMessage("AUTHENTICATE +")])
        client.send("AUTHENTICATE " + plain("ola", "hunter22"), "CAP END")
        replies = self.commands(client)
        self.assertEqual(
            replies[0],
            ("900", ("Ola", "Ola!~ola@192.168.1.1", "Ola", "You are now logged in as Ola")),
        )
        self.assertEqual(replies[1], ("903", ("Ola", "SASL authentication successful")))
        self.assertEqual(replies[2][0], "001")
        self.assertEqual(self.hub.find("Ola").account, "Ola")

    def test_wrongPasswordAndReservedNickname(self) -> None:
        """
        A wrong password gets 904; the client may not then take the
        account's nickname (433, reserved), but may take another.
        """
        client = self.irc()
        client.send("CAP LS 302", "NICK Ola", "USER ola 0 * :Ola", "CAP REQ sasl")
        client.raw()
        client.send("AUTHENTICATE PLAIN", "AUTHENTICATE " + plain("Ola", "wrong"), "CAP END")
        replies = self.commands(client)
        self.assertEqual(replies[1], ("904", ("Ola", "SASL authentication failed")))
        self.assertEqual(
            replies[2], ("433", ("Ola", "Ola", "Nickname is reserved by a different account"))
        )
        client.send("NICK Ola2")
        self.assertEqual(client.commands()[0], "001")

    def test_reservedAtNickWithoutNegotiating(self) -> None:
        """
        A client that does not negotiate cannot log in before registering:
        its NICK of someone's account gets 433 at once.
        """
        client = self.irc()
        client.send("NICK ola")
        self.assertEqual(
            self.commands(client),
            [("433", ("*", "ola", "Nickname is reserved by a different account"))],
        )

    def test_mechanismsAbortAndAlready(self) -> None:
        """
        An unknown mechanism gets 908 and 904; * aborts with 906; a
        second login gets 907; a chunk over 400 bytes 905.
        """
        client = self.irc()
        client.send("CAP REQ sasl", "AUTHENTICATE EXTERNAL")
        client.raw()
        self.assertEqual(self.commands(client), [])
        client = self.irc()
        client.send("CAP REQ sasl")
        client.raw()
        client.send("AUTHENTICATE SCRAM-SHA-256")
        self.assertEqual(
            self.commands(client),
            [
                ("908", ("*", "PLAIN", "are available SASL mechanisms")),
                ("904", ("*", "SASL authentication failed")),
            ],
        )
        client.send("AUTHENTICATE PLAIN", "AUTHENTICATE *")
        self.assertEqual([c for c, _ in self.commands(client)], ["AUTHENTICATE", "906"])
        client.send("AUTHENTICATE PLAIN", "AUTHENTICATE " + "A" * 401)
        self.assertEqual([c for c, _ in self.commands(client)], ["AUTHENTICATE", "905"])
        client.send("AUTHENTICATE PLAIN", "AUTHENTICATE " + plain("Ewa", "secret99"))
        client.send("AUTHENTICATE PLAIN")
        self.assertEqual(
            [c for c, _ in self.commands(client)], ["AUTHENTICATE", "900", "903", "907"]
        )

    def test_chunkedResponse(self) -> None:
        """
        A response of 400 bytes exactly is followed by AUTHENTICATE +.
        """
        password = "p" * 295
        self.accounts.passwords["ola"] = ("Ola", password)
        response = plain("Ola", password)
        self.assertEqual(len(response), 400)
        client = self.irc()
        client.send("CAP REQ sasl", "AUTHENTICATE PLAIN", "AUTHENTICATE " + response)
        client.raw()
        client.send("AUTHENTICATE +")
        self.assertEqual([c for c, _ in self.commands(client)], ["900", "903"])

    def test_tooManyAttempts(self) -> None:
        """
        A login refused for too many attempts says when to try again.
        """
        self.accounts.refuseWith = TooManyAttempts(29.5)
        client = self.irc()
        client.send("CAP REQ sasl", "AUTHENTICATE PLAIN")
        client.raw()
        client.send("AUTHENTICATE " + plain("Ola", "hunter22"))
        self.assertEqual(
            self.commands(client),
            [("904", ("*", "SASL authentication failed: try again in 30 seconds"))],
        )

    def test_afterRegistering(self) -> None:
        """
        A registered client may log in with SASL too; those who share a
        channel and asked for account-notify hear ACCOUNT.
        """
        ewa = self.irc("Ewa2", "#k")
        ewa.send("CAP REQ account-notify")
        ola = self.irc("Ola2", "#k")
        ola.send("CAP REQ sasl", "AUTHENTICATE PLAIN")
        ola.raw()
        ewa.raw()
        ola.send("AUTHENTICATE " + plain("Ola", "hunter22"))
        self.assertEqual([c for c, _ in self.commands(ola)], ["900", "903"])
        self.assertEqual(ewa.messages(), [parseMessage(":Ola2!~ola2@192.168.1.1 ACCOUNT Ola")])
        ewa.send("WHOIS Ola2")
        whois = dict(self.commands(ewa))
        self.assertEqual(whois["330"][1:], ("Ola2", "Ola", "is logged in as"))


class OrderTests(AccountTestCase):
    def makeAccounts(self) -> FakeAccounts:
        return SlowAccounts({"Ola": "hunter22"})

    def test_linesWaitForTheAnswer(self) -> None:
        """
        Lines sent while the password is checked wait for the answer and
        are then acted on in order: CAP END registers the client logged in.
        """
        client = self.irc()
        client.send("CAP LS 302", "NICK Ola", "USER ola 0 * :Ola", "CAP REQ sasl")
        client.raw()
        client.send("AUTHENTICATE PLAIN", "AUTHENTICATE " + plain("Ola", "hunter22"))
        client.send("CAP END", "JOIN #k", "PING :last")
        self.assertEqual(client.commands(), ["AUTHENTICATE"])
        self.accounts.answer()
        commands = client.commands()
        self.assertEqual(commands[:3], ["900", "903", "001"])
        self.assertEqual(commands[-1], "PONG")
        self.assertIn("JOIN", commands)
        self.assertEqual(self.hub.find("Ola").account, "Ola")

    def test_passLoginWaitsToo(self) -> None:
        """
        PASS account:password logs in when registration is ready, and the
        lines behind wait for it.
        """
        client = self.irc()
        client.send("PASS Ola:hunter22", "NICK Ola", "USER ola 0 * :Ola", "PING :after")
        self.assertEqual(client.commands(), [])
        self.accounts.answer()
        commands = client.commands()
        self.assertEqual(commands[:2], ["900", "001"])
        self.assertEqual(commands[-1], "PONG")


class PassAndRegisterTests(AccountTestCase):
    def test_passLogsIn(self) -> None:
        """
        PASS account:password on a server without a server password logs in
        before registering; a wrong one says so and registers without.
        """
        ola = self.irc()
        ola.send("PASS ola:hunter22", "NICK Ola", "USER ola 0 * :Ola")
        self.assertEqual([c for c, _ in self.commands(ola)][:2], ["900", "001"])
        ewa = self.irc()
        ewa.send("PASS Ewa:nope", "NICK Ewa", "USER ewa 0 * :Ewa")
        replies = self.commands(ewa)
        self.assertEqual(replies[0], ("NOTICE", ("Ewa", "*** Not logged in: wrong account or password")))
        self.assertEqual(replies[1][0], "433")

    def test_register(self) -> None:
        """
        REGISTER makes an account and logs in to it; a taken name or a weak
        password is refused with FAIL REGISTER.
        """
        client = self.irc()
        client.send("NICK Iga", "REGISTER * * longenough")
        self.assertEqual(
            self.commands(client),
            [
                ("REGISTER", ("SUCCESS", "Iga", "Account created")),
                ("900", ("Iga", "Iga!*@192.168.1.1", "Iga", "You are now logged in as Iga")),
            ],
        )
        other = self.irc()
        other.send("REGISTER Ola * longenough", "REGISTER Zoe * short", "REGISTER * * whatever")
        self.assertEqual(
            [m.params[:3] for m in other.messages()],
            [
                ("REGISTER", "ACCOUNT_EXISTS", "Ola"),
                ("REGISTER", "WEAK_PASSWORD", "Zoe"),
                ("REGISTER", "NEED_NICK", "*"),
            ],
        )


class OperatorTests(AccountTestCase):
    def test_oper(self) -> None:
        """
        OPER with the right password gives 381 and user mode +o, shown in
        221, WHOIS 313 and WHO's *; a wrong one 464.
        """
        ola = self.irc("Ola2")
        ola.send("OPER root wrong")
        self.assertEqual([c for c, _ in self.commands(ola)], ["464"])
        ola.send("OPER root toor", "MODE Ola2", "WHOIS Ola2", "WHO Ola2")
        replies = self.commands(ola)
        self.assertEqual(replies[0], ("381", ("Ola2", "You are now an IRC operator")))
        self.assertEqual(replies[1], ("MODE", ("Ola2", "+o")))
        self.assertEqual(replies[2], ("221", ("Ola2", "+ow")))
        self.assertIn(("313", ("Ola2", "Ola2", "is an IRC operator")), replies)
        self.assertEqual([p[6] for c, p in replies if c == "352"], ["H*"])

    def test_killAndWallops(self) -> None:
        """
        KILL and WALLOPS need a server operator (481); an operator's KILL
        closes the target with ERROR and everyone else hears the QUIT;
        WALLOPS reaches everyone.
        """
        ola = self.irc("Ola2", "#k")
        ewa = self.irc("Ewa2", "#k")
        ewa.send("KILL Ola2 :bye", "WALLOPS :hi")
        self.assertEqual([c for c, _ in self.commands(ewa)], ["481", "481"])
        ola.send("OPER root toor")
        ola.raw()
        ola.send("WALLOPS :restart", "KILL nobody :x", "KILL Ewa2 :spam")
        line = parseMessage(":Ola2!~ola2@192.168.1.1 WALLOPS restart")
        self.assertEqual(ewa.messages(), [line, parseMessage("ERROR :Closing Link: chatsvc (Killed (Ola2 (spam)))")])
        self.assertTrue(ewa.transport.disconnecting)
        replies = self.commands(ola)
        self.assertEqual(replies[0][0], "WALLOPS")
        self.assertEqual(replies[1], ("401", ("Ola2", "nobody", "No such nick/channel")))
        self.assertEqual(replies[2], ("QUIT", ("Killed (Ola2 (spam))",)))

    def test_noOperators(self) -> None:
        """
        A server without operators answers OPER with 491.
        """
        ola = self.irc("Ola2", "#k")
        self.factory.opers = None
        ola.send("OPER root toor")
        self.assertEqual([c for c, _ in self.commands(ola)], ["491"])


class NotifyTests(AccountTestCase):
    def test_extendedJoinAwayNotifySetname(self) -> None:
        """
        With extended-join a JOIN carries account and real name; with
        away-notify AWAY changes come; with setname SETNAME does, and a
        too long one fails.
        """
        ewa = self.irc("Ewa2", "#k")
        ewa.send("CAP REQ :extended-join away-notify setname")
        ewa.raw()
        ola = self.irc()
        ola.send("PASS Ola:hunter22", "NICK Ola", "USER ola 0 * :Ola Nowak", "JOIN #k")
        self.assertEqual(
            ewa.messages(), [parseMessage(":Ola!~ola@192.168.1.1 JOIN #k Ola :Ola Nowak")]
        )
        ola.send("AWAY :lunch", "AWAY", "SETNAME :Ola N.")
        self.assertEqual(
            ewa.messages(),
            [
                parseMessage(":Ola!~ola@192.168.1.1 AWAY :lunch"),
                parseMessage(":Ola!~ola@192.168.1.1 AWAY"),
                parseMessage(":Ola!~ola@192.168.1.1 SETNAME :Ola N."),
            ],
        )
        ewa.send("SETNAME :" + "x" * 200, "SETNAME :Ewa")
        self.assertEqual(
            ewa.messages(),
            [
                parseMessage(":chatsvc FAIL SETNAME INVALID_REALNAME :Realname is not valid"),
                parseMessage(":Ewa2!~ewa2@192.168.1.1 SETNAME Ewa"),
            ],
        )
