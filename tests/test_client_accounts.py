"""
Tests for the client with the server's accounts and moderation: the
C{PASS <nick>} prompt in the protocol and both views, logging in again
after a restart, and being put out of a room, banned at login or killed.
Against the real server protocol in memory, on a Clock.
"""

from __future__ import annotations

import os

from twisted.internet.defer import Deferred, fail
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase

from chatsvc import events
from chatsvc.client import notices
from chatsvc.client.memory import SessionMemory
from chatsvc.client.plain import PlainLineView
from chatsvc.client.protocol import ChatClientProtocol, carriesPassword
from chatsvc.client.reconnect import Conversation
from chatsvc.client.session import ACCOUNT_PASSWORD_VARIABLE, parseOptions
from chatsvc.client.terminal import TerminalView, terminalProtocol
from chatsvc.client.testing import InMemoryServer, RecordingInput, RecordingView, Screen
from chatsvc.errors import CannotJoin, LoginFailed
from chatsvc.hub import Hub
from chatsvc.i18n import LANGUAGES, translation
from chatsvc.native import wire, wording
from chatsvc.native.protocol import NativeFactory
from chatsvc.net.connection import Limits
from chatsvc.testing import FakeAccounts, FakeOpers

PASSWORD = "sezamie-otworz"
REGISTERED = "The nickname Ala is registered: send its password on the next line."
LOGGED_IN = "You are now logged in to the account Ala."


class AccountsServer(InMemoryServer):
    """
    The real native server protocol with accounts and operators; a new one
    on the same C{accounts} is the server restarted with its store.
    """

    def __init__(self, clock: Clock, accounts: FakeAccounts) -> None:
        self.hub = Hub(clock)
        self.hub.nicknameOwner = accounts.owner
        super().__init__(
            clock,
            NativeFactory(
                self.hub,
                limits=Limits(flood=None),
                accounts=accounts,
                opers=FakeOpers({"root": "root-password"}),
            ),
        )


class AccountTestCase(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.accounts = FakeAccounts({"Ala": PASSWORD})
        self.server = AccountsServer(self.clock, self.accounts)

    def client(
        self, nickname: str | None = None, memory: SessionMemory | None = None
    ) -> tuple[ChatClientProtocol, RecordingView]:
        view = RecordingView()
        client = ChatClientProtocol(view, self.clock, "en", nickname, memory=memory)
        self.server.connect(client)
        self.server.pump()
        return client, view

    def registered(self, nickname: str) -> tuple[ChatClientProtocol, RecordingView]:
        client, view = self.client(nickname)
        view.take()
        return client, view


class PasswordPromptTests(AccountTestCase):
    def test_askedForThePassword(self) -> None:
        """
        A registered nickname's notice is not taken for the welcome: the
        view is asked for the password, and the right one logs in.
        """
        client, view = self.client("Ala")
        self.assertEqual(
            view.take(), [("showLine", "notice", REGISTERED), ("askPassword", "Ala")]
        )
        self.assertFalse(client.registered)
        client.submit(PASSWORD)
        self.server.pump()
        self.assertEqual(
            view.take(),
            [
                ("showLine", "notice", "Connected to server!"),
                ("nicknameAccepted",),
                ("showLine", "notice", LOGGED_IN),
            ],
        )
        self.assertEqual(client.memory.account, "Ala")
        self.assertEqual(client.memory.passwordFor("ala"), PASSWORD)

    def test_wrongPasswordAsksForANickname(self) -> None:
        """
        A wrong password is refused with the server's words and the view
        is asked for a nickname again; the password is not kept.
        """
        client, view = self.client("Ala")
        view.take()
        client.submit("not-the-password")
        self.server.pump()
        self.assertEqual(
            view.take(), [("askNickname", "! The name Ala and that password do not match.")]
        )
        self.assertIsNone(client.memory.passwordFor("Ala"))
        client.submit("Ala")
        self.server.pump()
        self.assertEqual(
            view.take(), [("showLine", "notice", REGISTERED), ("askPassword", "Ala")]
        )

    def test_blankPasswordAskedAgain(self) -> None:
        """
        A blank answer, which the server would ignore, is asked again.
        """
        client, view = self.client("Ala")
        view.take()
        client.submit("  ")
        self.server.pump()
        self.assertEqual(view.take(), [("askPassword", "Ala")])

    def test_givenPasswordSentUnasked(self) -> None:
        """
        The password given for scripts answers the prompt without asking.
        """
        memory = SessionMemory("Ala", "en", givenPassword=PASSWORD)
        client, view = self.client(memory=memory)
        self.assertEqual(
            view.take(),
            [
                ("showLine", "notice", REGISTERED),
                ("showLine", "notice", "Connected to server!"),
                ("nicknameAccepted",),
                ("showLine", "notice", LOGGED_IN),
            ],
        )

    def test_wrongGivenPasswordNotSentAgain(self) -> None:
        """
        A given password the server refuses is not sent again: the next
        time, the user is asked.
        """
        memory = SessionMemory("Ala", "en", givenPassword="wrong-password")
        client, view = self.client(memory=memory)
        self.assertEqual(view.take()[-1][0], "askNickname")
        client.submit("Ala")
        self.server.pump()
        self.assertEqual(view.take()[-1], ("askPassword", "Ala"))

    def test_renameToARegisteredNickname(self) -> None:
        """
        /nick to a registered nickname asks for its password too; the
        rename is followed.
        """
        client, view = self.registered("Ewa")
        client.submit("/nick Ala")
        self.server.pump()
        self.assertEqual(
            view.take(), [("showLine", "notice", REGISTERED), ("askPassword", "Ala")]
        )
        client.submit(PASSWORD)
        self.server.pump()
        self.assertIn(("showLine", "notice", "Ewa is now known as Ala."), view.take())
        self.assertEqual(client.memory.nickname, "Ala")
        self.assertEqual(client.memory.account, "Ala")

    def test_registerKeepsThePassword(self) -> None:
        """
        A /register the server accepts leaves its password in the memory,
        to log in again; one it refuses does not.
        """
        client, view = self.registered("Ewa")
        client.submit("/register short")
        self.server.pump()
        self.assertIsNone(client.memory.account)
        client.submit("/register ewa-password")
        self.server.pump()
        self.assertEqual(client.memory.account, "Ewa")
        self.assertEqual(client.memory.passwordFor("Ewa"), "ewa-password")
        client.submit("/password ewa-password ewa-password-2")
        self.server.pump()
        self.assertEqual(client.memory.passwordFor("Ewa"), "ewa-password-2")
        client.submit("/drop ewa-password-2")
        self.server.pump()
        self.assertIsNone(client.memory.account)
        self.assertIsNone(client.memory.passwordFor("Ewa"))

    def test_passwordsNotInRepr(self) -> None:
        """
        The memory's repr, should anything ever log it, holds no password.
        """
        memory = SessionMemory("Ala", "en", givenPassword="given-secret")
        memory.loggedIn("Ala", "kept-secret")
        self.assertNotIn("secret", repr(memory))

    def test_carriesPassword(self) -> None:
        """
        The lines a terminal must not keep in its history.
        """
        for text in ["/identify x", "/register abc", "/oper root pw", "/OPER a b c",
                     "/password a b", "/drop a"]:
            self.assertTrue(carriesPassword(text), text)
        for text in ["/join pub", "//identify x", "identify x", "/nick Ala"]:
            self.assertFalse(carriesPassword(text), text)


class ModerationTests(AccountTestCase):
    def test_kickedOutOfTheRoom(self) -> None:
        """
        Put out of its room, the client knows it is in none, and says how
        to get into one.
        """
        ola, _ = self.registered("Ola")
        bob, view = self.registered("Bob")
        bob.memory.room = "lobby"
        ola.submit("/kick Bob spam")
        self.server.pump()
        self.assertEqual(
            view.take(),
            [
                ("showLine", "notice", "Ola put Bob out of room lobby (spam)."),
                ("showLine", "local", "You are in no room; /join one."),
            ],
        )
        self.assertIsNone(bob.memory.room)
        bob.submit("/join pub")
        self.server.pump()
        self.assertEqual(bob.memory.room, "pub")

    def test_someoneElseKicked(self) -> None:
        """
        Another's kick is just shown.
        """
        ola, view = self.registered("Ola")
        ola.memory.room = "lobby"
        self.registered("Bob")
        view.take()
        ola.submit("/kick Bob")
        self.server.pump()
        self.assertEqual(view.take(), [("showLine", "notice", "Ola put Bob out of room lobby.")])
        self.assertEqual(ola.memory.room, "lobby")

    def test_invitedShowsTheJoin(self) -> None:
        """
        An invitation is shown with the /join that accepts it.
        """
        ola, _ = self.registered("Ola")
        bob, view = self.registered("Bob")
        ola.submit("/join attic")
        ola.submit("/invite Bob")
        self.server.pump()
        self.assertIn(
            ("showLine", "notice", "Ola invited Bob to room attic (/join attic)."), view.take()
        )

    def test_bannedAtLogin(self) -> None:
        """
        Banned from the server's first room, the client still has its
        nickname, in no room.
        """
        ola, _ = self.registered("Ola")
        ola.submit("/ban Bob")
        self.server.pump()
        bob, view = self.client("Bob")
        self.assertEqual(
            view.take(),
            [
                ("showLine", "notice", "Connected to server!"),
                ("nicknameAccepted",),
                ("showLine", "error", "! You are banned from room lobby."),
                ("showLine", "error", "! You are in no room; /join one."),
            ],
        )
        self.assertTrue(bob.registered)
        self.assertIsNone(bob.memory.room)
        self.assertEqual(bob.memory.defaultRoom, "lobby")

    def test_bannedAtLoginComingBack(self) -> None:
        """
        Coming back to its room past a first room that bans it, the
        client takes the ban's lines for the login's, not for the answer
        to its /join.
        """
        ola, _ = self.registered("Ola")
        ola.submit("/ban Bob")
        self.server.pump()
        memory = SessionMemory("Bob", "en", room="pub", defaultRoom="lobby", registered=True)
        bob, view = self.client(memory=memory)
        shown = [call for call in view.take() if call[0] == "showLine"]
        self.assertEqual(shown[-1], ("showLine", "notice", "You are now in room pub (1 member)."))
        self.assertEqual(bob.memory.room, "pub")

    def test_bannedAtLoginAndRefusedBack(self) -> None:
        """
        Banned from the first room and refused by its own, the client
        knows it is in no room, and does not take the first room for it.
        """
        ewa, _ = self.registered("Ewa")
        ewa.submit("/ban Bob")
        ola, _ = self.registered("Ola")
        ola.submit("/join pub")
        ola.submit("/mode +i")
        self.server.pump()
        memory = SessionMemory("Bob", "en", room="pub", defaultRoom="lobby", registered=True)
        bob, view = self.client(memory=memory)
        shown = [call[2] for call in view.take() if call[0] == "showLine"]
        self.assertEqual(
            shown,
            [
                "Connected to server!",
                "! You are banned from room lobby.",
                "! You are in no room; /join one.",
                "! Room pub is invite-only; ask one of its operators to /invite you.",
            ],
        )
        self.assertIsNone(bob.memory.room)

    def test_killIsFinal(self) -> None:
        """
        A server operator's /kill ends the conversation: no reconnecting.
        """
        ola, _ = self.registered("Ola")
        ola.submit("/oper root root-password")
        self.server.pump()
        view = RecordingView()
        conversation = Conversation(view, self.server.connect, self.clock, "en", "Bob")
        conversation.start()
        self.server.pump()
        view.take()
        ola.submit("/kill Bob spamming")
        self.server.pump()
        self.assertEqual(
            view.take(),
            [
                (
                    "showLine",
                    "error",
                    "! Server operator Ola put you off the server (spamming). Goodbye!",
                ),
                ("connectionClosed", False),
            ],
        )
        self.clock.advance(60)
        self.assertEqual(view.take(), [])

    def test_noticesInEveryLanguage(self) -> None:
        """
        The lines followed are recognized in every language.
        """
        sender = events.Identity("Ola")
        for language in LANGUAGES:
            t = translation(language)
            kick = wording.renderEvent(events.Kicked(sender, "pub", "Bob", "a reason"), t)
            self.assertEqual(notices.kicked(kick), ("Bob", "pub"), kick)
            kick = wording.renderEvent(events.Kicked(sender, "pub", "Bob"), t)
            self.assertEqual(notices.kicked(kick), ("Bob", "pub"), kick)
            kill = wire.classify(wording.renderEvent(events.Killed(sender, "why not"), t))
            self.assertTrue(notices.isFinalRefusal(kill.text), kill)
            self.assertEqual(
                notices.registeredNickname(wording.accountPromptLines("Ala", t)[0]), "Ala"
            )
            self.assertEqual(notices.loggedIn(wording.loggedInLine("Ala", t)), "Ala")
            failed = wire.classify(wording.renderError(LoginFailed("Ala"), t)).text
            self.assertEqual(notices.failedLogin(failed), "Ala")
            banned = wire.classify(wording.renderError(CannotJoin("lobby", "banned"), t)).text
            self.assertEqual(notices.bannedFrom(banned), "lobby")


class RestartTests(AccountTestCase):
    def conversation(
        self, nickname: str | None, accountPassword: str | None = None
    ) -> tuple[Conversation, PlainLineView, StringTransport, list[AccountsServer | None]]:
        servers: list[AccountsServer | None] = [self.server]

        def connect(protocol: ChatClientProtocol) -> Deferred[object]:
            server = servers[-1]
            if server is None:
                return fail(ConnectionRefusedError("Connection refused"))
            return server.connect(protocol)

        view = PlainLineView()
        stdio = StringTransport()
        view.makeConnection(stdio)
        conversation = Conversation(
            view,
            connect,
            self.clock,
            "en",
            nickname,
            random=lambda: 0.0,
            accountPassword=accountPassword,
        )
        view.client = conversation
        return conversation, view, stdio, servers

    def restart(self, servers: list[AccountsServer | None]) -> AccountsServer:
        old = servers[-1]
        assert old is not None
        old.stop()
        self.server = AccountsServer(self.clock, self.accounts)
        servers.append(self.server)
        self.clock.advance(1)
        self.server.pump()
        return self.server

    def test_loggedInAgainAfterARestart(self) -> None:
        """
        The password typed at the prompt logs in again, unasked, after the
        server restarts: the nickname is kept, and the password is never
        written out.
        """
        conversation, view, stdio, servers = self.conversation(None)
        conversation.start()
        self.server.pump()
        view.dataReceived(f"Ala\n{PASSWORD}\nhello\n".encode())
        self.server.pump()
        self.restart(servers)
        view.dataReceived(b"back again\n")
        self.server.pump()
        output = stdio.value().decode("utf-8")
        self.assertNotIn(PASSWORD, output)
        self.assertEqual(
            output.splitlines(),
            [
                "Choose your nickname: Ala",
                REGISTERED,
                "Password for Ala: ",
                "Connected to server!",
                LOGGED_IN,
                "Ala: hello",
                "Connection lost; reconnecting in 1 s…",
                REGISTERED,
                "Connected to server!",
                LOGGED_IN,
                "Ala: back again",
            ],
        )

    def test_registeredThenRestart(self) -> None:
        """
        A nickname registered during the run (/register) is logged in to
        again after a restart.
        """
        conversation, view, stdio, servers = self.conversation("Ewa")
        conversation.start()
        self.server.pump()
        view.dataReceived(b"/register ewa-password\n")
        self.server.pump()
        self.restart(servers)
        self.assertTrue(conversation.protocol.registered)
        self.assertEqual(self.server.hub.find("Ewa").account, "Ewa")
        self.assertNotIn("ewa-password", stdio.value().decode("utf-8"))

    def test_identifiedAccountRestored(self) -> None:
        """
        An account logged in to by /identify under another nickname is
        logged in to again once back.
        """
        conversation, view, stdio, servers = self.conversation("Ola")
        conversation.start()
        self.server.pump()
        view.dataReceived(f"/identify Ala {PASSWORD}\n".encode())
        self.server.pump()
        self.assertEqual(conversation.memory.account, "Ala")
        self.restart(servers)
        self.assertEqual(self.server.hub.find("Ola").account, "Ala")
        self.assertEqual(conversation.memory.account, "Ala")
        self.assertEqual(stdio.value().decode().count(LOGGED_IN), 2)

    def test_givenPasswordFromTheStart(self) -> None:
        """
        With the password given, a script is never asked for it.
        """
        conversation, view, stdio, servers = self.conversation("Ala", PASSWORD)
        conversation.start()
        self.server.pump()
        self.restart(servers)
        output = stdio.value().decode("utf-8")
        self.assertNotIn("Password for", output)
        self.assertEqual(output.count(LOGGED_IN), 2)


class PlainPasswordTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.view = PlainLineView()
        self.client = RecordingInput()
        self.view.client = self.client
        self.stdio = StringTransport()
        self.view.makeConnection(self.stdio)

    def test_passwordNotEchoed(self) -> None:
        """
        The password prompt is answered by the next line, which is passed
        on but not written out.
        """
        self.view.dataReceived(b"Ala\nsecret-word\nhello\n")
        self.view.askNickname(None)
        self.view.showLine("notice", REGISTERED)
        self.view.askPassword("Ala")
        self.assertEqual(self.client.submitted, ["Ala", "secret-word"])
        self.view.nicknameAccepted()
        self.assertEqual(self.client.submitted, ["Ala", "secret-word", "hello"])
        self.assertEqual(
            self.stdio.value().decode(),
            f"Choose your nickname: Ala\n{REGISTERED}\nPassword for Ala: \n",
        )

    def test_lineWhilePasswordPromptOpen(self) -> None:
        """
        A line shown while the password is awaited keeps its prompt below.
        """
        self.view.askPassword("Ala")
        self.view.showLine("notice", "Bob joined the chat!")
        self.assertEqual(
            self.stdio.value().decode(),
            "Password for Ala: \nBob joined the chat!\nPassword for Ala: ",
        )


class TerminalPasswordTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.view = TerminalView("en", 60, 24)
        self.client = RecordingInput()
        self.view.client = self.client
        self.transport = StringTransport()
        terminalProtocol(self.view).makeConnection(self.transport)

    def draw(self) -> Screen:
        screen = Screen(60)
        screen.feed(self.transport.value())
        return screen

    def type(self, data: bytes) -> None:
        self.view.terminal.dataReceived(data)  # type: ignore[union-attr]

    def test_passwordNeverDrawn(self) -> None:
        """
        What is typed for a password is never on screen, and is passed on.
        """
        self.view.askPassword("Ala")
        self.type(b"secret-word")
        self.assertEqual(self.draw().cursorRow(), "Password for Ala:")
        self.type(b"\r")
        self.assertEqual(self.client.submitted, ["secret-word"])
        self.assertNotIn(b"secret", self.transport.value())
        self.assertIn("Password for Ala:", self.draw().lines())

    def test_passwordNotInHistory(self) -> None:
        """
        Neither the password nor a line carrying one is kept for Up.
        """
        self.view.askPassword("Ala")
        self.type(b"secret-word\r")
        self.view.nicknameAccepted()
        self.type(b"/identify other-secret\r")
        self.type(b"hello\r")
        self.type(b"\x1b[A\x1b[A")
        self.assertEqual(self.draw().cursorRow(), "hello")

    def test_halfTypedPasswordNotLeftOnScreen(self) -> None:
        """
        Leaving while a password is half typed leaves only its prompt.
        """
        self.view.askPassword("Ala")
        self.type(b"secret")
        self.view.connectionClosed(True)
        self.assertNotIn(b"secret", self.transport.value())


class OptionsTests(SynchronousTestCase):
    def test_accountPasswordFile(self) -> None:
        """
        --account-password-file gives the first line of its file.
        """
        path = self.mktemp()
        with open(path, "w", encoding="utf-8") as file:
            file.write("sezam zamknij\nsecond line\n")
        options = parseOptions(["--account-password-file", path], {})
        self.assertEqual(options["account-password"], "sezam zamknij")

    def test_accountPasswordVariable(self) -> None:
        """
        The environment gives it too, unless a file does.
        """
        options = parseOptions([], {ACCOUNT_PASSWORD_VARIABLE: "from-env"})
        self.assertEqual(options["account-password"], "from-env")
        path = self.mktemp()
        with open(path, "w", encoding="utf-8") as file:
            file.write("from-file\n")
        options = parseOptions(
            ["--account-password-file", path], {ACCOUNT_PASSWORD_VARIABLE: "from-env"}
        )
        self.assertEqual(options["account-password"], "from-file")
        self.assertIsNone(parseOptions([], {})["account-password"])

    def test_unreadableFile(self) -> None:
        """
        A file that cannot be read is a usage error naming it.
        """
        from twisted.python import usage

        path = os.path.join(self.mktemp(), "missing")
        error = self.assertRaises(
            usage.UsageError, parseOptions, ["--account-password-file", path], {}
        )
        self.assertIn(path, str(error))
