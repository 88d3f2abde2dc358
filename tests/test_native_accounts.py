"""
Tests for accounts and server operators in the native front-end: the
password a registered nickname asks for, C{/register}, C{/identify},
C{/password}, C{/drop}, C{/registerroom}, C{/oper}, C{/kill} and
C{/wallops}.
"""

from twisted.internet.defer import Deferred

from chatsvc.errors import TooManyAttempts
from chatsvc.native.protocol import NativeFactory
from chatsvc.net.output import Outbox
from chatsvc.testing import FakeAccounts, FakeOpers
from tests.test_native import UNLIMITED, NativeTestCase


class AccountsTestCase(NativeTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.accounts = FakeAccounts({"Ala": self.password})
        self.opers = FakeOpers({"root": "korzen123"})
        self.hub.nicknameOwner = self.accounts.owner
        self.factory = NativeFactory(
            self.hub,
            self.language,
            limits=UNLIMITED,
            outbox=Outbox(self.clock),
            accounts=self.accounts,
            opers=self.opers,
        )

    password = "kottajne1234"


class SlowAccounts(FakeAccounts):
    """
    Accounts whose logins are answered when the test says.
    """

    def __init__(self, passwords) -> None:
        super().__init__(passwords)
        self.pending: list[tuple[Deferred, Deferred]] = []

    def login(self, name, password, address):
        answer = super().login(name, password, address)
        waiting: Deferred = Deferred()
        self.pending.append((answer, waiting))
        return waiting

    def answer(self) -> None:
        answer, waiting = self.pending.pop(0)
        answer.chainDeferred(waiting)


class RegisteredNicknameTests(AccountsTestCase):
    def test_rightPassword(self) -> None:
        """
        A registered nickname at NICK asks for its password; the right one
        logs in and takes the nickname.
        """
        ala = self.connect()
        ala.lines()
        ala.say("ala")
        self.assertEqual(
            ala.lines(),
            ["The nickname ala is registered: send its password on the next line.", "PASS ala"],
        )
        ala.say(self.password)
        self.assertEqual(
            ala.lines(),
            ["Connected to server!", "You are now logged in to the account Ala."],
        )
        self.assertEqual(self.hub.find("Ala").account, "Ala")

    def test_wrongPassword(self) -> None:
        """
        A wrong password says so and asks for a nickname again; it is never
        said to anyone nor echoed.
        """
        bob = self.connect("Bob")
        ala = self.connect()
        ala.lines()
        ala.say("Ala")
        ala.lines()
        ala.say("guess1234")
        lines = ala.lines()
        self.assertEqual(lines, ["! The name Ala and that password do not match.", "NICK"])
        self.assertEqual(bob.lines(), [])
        ala.say("Ola")
        self.assertEqual(ala.lines(), ["Connected to server!"])

    def test_tooManyAttempts(self) -> None:
        """
        A login refused for too many attempts says when to try again.
        """
        self.accounts.refuseWith = TooManyAttempts(29.2)
        ala = self.connect()
        ala.lines()
        ala.say("Ala")
        ala.lines()
        ala.say(self.password)
        self.assertEqual(
            ala.lines(),
            ["! Too many login attempts; try again in 30 seconds.", "NICK"],
        )

    def test_renameToRegistered(self) -> None:
        """
        /nick to a registered nickname asks for its password too; the right
        one logs in and renames.
        """
        bob = self.connect("Bob")
        bob.say("/nick Ala")
        self.assertEqual(
            bob.lines(),
            ["The nickname Ala is registered: send its password on the next line.", "PASS Ala"],
        )
        bob.say("wrong1234")
        self.assertEqual(bob.lines(), ["! The name Ala and that password do not match."])
        bob.say("/nick Ala")
        bob.lines()
        bob.say(self.password)
        self.assertEqual(
            bob.lines(),
            ["You are now logged in to the account Ala.", "Bob is now known as Ala."],
        )

    def test_linesWaitForTheCheck(self) -> None:
        """
        Lines that arrive while a password is checked are handled after it,
        in order, and none is lost.
        """
        self.accounts = SlowAccounts({"Ala": self.password})
        self.hub.nicknameOwner = self.accounts.owner
        self.factory = NativeFactory(
            self.hub, limits=UNLIMITED, outbox=Outbox(self.clock), accounts=self.accounts
        )
        bob = self.connect("Bob")
        ala = self.connect()
        ala.lines()
        ala.send(f"Ala\r\n{self.password}\r\nfirst\r\n/me second\r\n".encode())
        self.assertEqual(ala.lines()[-1], "PASS Ala")
        self.assertEqual(bob.lines(), [])
        self.accounts.answer()
        self.assertEqual(
            ala.lines(),
            [
                "Connected to server!",
                "You are now logged in to the account Ala.",
                "Ala: first",
                "* Ala second",
            ],
        )
        self.assertEqual(bob.lines(), ["Ala joined the chat!", "Ala: first", "* Ala second"])

    def test_goneBeforeTheAnswer(self) -> None:
        """
        A client gone before its password is checked takes no nickname.
        """
        self.accounts = SlowAccounts({"Ala": self.password})
        self.hub.nicknameOwner = self.accounts.owner
        self.factory = NativeFactory(
            self.hub, limits=UNLIMITED, outbox=Outbox(self.clock), accounts=self.accounts
        )
        ala = self.connect()
        ala.send(f"Ala\r\n{self.password}\r\n".encode())
        ala.protocol.connectionLost(None)
        self.accounts.answer()
        self.assertEqual(self.hub.registeredCount(), 0)


class AccountCommandTests(AccountsTestCase):
    def test_registerThenIdentify(self) -> None:
        """
        /register makes the nickname an account and logs in; on a new
        connection the nickname asks for it, and /identify logs in too.
        """
        ewa = self.connect("Ewa")
        ewa.say("/register haslo1234")
        self.assertEqual(
            ewa.lines(),
            ["The account Ewa is registered.", "You are now logged in to the account Ewa."],
        )
        self.assertEqual(self.accounts.owner("ewa"), "Ewa")
        ewa.say("/identify haslo1234")
        self.assertEqual(ewa.lines(), ["You are now logged in to the account Ewa."])
        ewa.say("/identify Ala " + self.password)
        self.assertEqual(ewa.lines(), ["You are now logged in to the account Ala."])

    def test_weakPassword(self) -> None:
        """
        A short password is refused with the rule.
        """
        ewa = self.connect("Ewa")
        ewa.say("/register abc")
        self.assertEqual(ewa.lines(), ["! A password needs 8 to 256 characters."])

    def test_registerTaken(self) -> None:
        """
        A nickname whose account exists cannot be registered again.
        """
        ola = self.connect("Ola")
        self.accounts.register("Ola", "haslo1234", "elsewhere")
        ola.say("/register haslo5678")
        self.assertEqual(ola.lines(), ["! The account Ola exists already."])

    def test_passwordAndDrop(self) -> None:
        """
        /password changes it (the old one is needed); /drop needs the
        password and logs out.
        """
        ewa = self.connect("Ewa")
        ewa.say("/password a b")
        self.assertEqual(
            ewa.lines(), ["! Log in first: /identify <password>, or /register <password>."]
        )
        ewa.say("/register haslo1234")
        ewa.lines()
        ewa.say("/password zle12345 nowe12345")
        self.assertEqual(ewa.lines(), ["! The name Ewa and that password do not match."])
        ewa.say("/password haslo1234 nowe12345")
        self.assertEqual(ewa.lines(), ["Your password is changed."])
        ewa.say("/drop nowe12345")
        self.assertEqual(
            ewa.lines(),
            ["The account Ewa is dropped.", "You are no longer logged in to an account."],
        )
        self.assertIsNone(self.accounts.owner("Ewa"))

    def test_othersAreNotTold(self) -> None:
        """
        Someone else logging in says nothing to the room.
        """
        bob = self.connect("Bob")
        ewa = self.connect("Ewa")
        bob.lines()
        ewa.say("/register haslo1234")
        ewa.lines()
        self.assertEqual(bob.lines(), [])

    def test_registerRoom(self) -> None:
        """
        An operator logged in registers the room; once only.
        """
        ewa = self.connect("Ewa")
        ewa.say("/join attic")
        ewa.say("/register haslo1234")
        ewa.lines()
        ewa.say("/registerroom")
        self.assertEqual(ewa.lines(), ["Room attic is now registered to your account Ewa."])
        ewa.say("/registerroom")
        self.assertEqual(ewa.lines(), ["! Room attic is registered to Ewa already."])

    def test_noAccounts(self) -> None:
        """
        A server without accounts says so; a registered nickname is refused
        outright.
        """
        self.factory = NativeFactory(self.hub, limits=UNLIMITED, outbox=Outbox(self.clock))
        ewa = self.connect("Ewa")
        ewa.say("/register haslo1234")
        self.assertEqual(ewa.lines(), ["! This server has no accounts."])
        ala = self.connect()
        ala.lines()
        ala.say("Ala")
        self.assertEqual(ala.lines(), ["! The nickname Ala is registered; choose another.", "NICK"])


class ServerOperatorTests(AccountsTestCase):
    def test_operKillWallops(self) -> None:
        """
        /oper with the right password makes a server operator, who may
        /wallops everyone and /kill someone.
        """
        iga = self.connect("Iga")
        bob = self.connect("Bob")
        iga.lines()
        iga.say("/oper root zle")
        self.assertEqual(iga.lines(), ["! The name root and that password do not match."])
        iga.say("/oper root korzen123")
        self.assertEqual(iga.lines(), ["You are now server operator root."])
        iga.say("/wallops restart soon")
        heard = "Server operator Iga to everyone: restart soon"
        self.assertEqual(bob.lines(), [heard])
        self.assertEqual(iga.lines(), [heard])
        iga.say("/kill bob flooding")
        self.assertEqual(
            bob.lines(), ["! Server operator Iga put you off the server (flooding). Goodbye!"]
        )
        self.assertTrue(bob.transport.disconnecting)
        self.assertEqual(
            iga.lines(),
            ["Bob left the chat (Killed (Iga (flooding))).", "You put Bob off the server."],
        )
