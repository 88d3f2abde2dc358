"""
Tests for L{chatsvc.client}: the protocol over L{StringTransport}, against
the real server protocol in memory, and both views with fake standard I/O.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.endpoints import HostnameEndpoint, TCP4ClientEndpoint
from twisted.internet.error import (
    ConnectionDone,
    ConnectionLost,
    ConnectionRefusedError,
)
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python import usage
from twisted.python.failure import Failure
from twisted.test import iosim
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from chatsvc.client.editing import KeyDecoder, inputWindow
from chatsvc.client.interfaces import IChatInput, IChatView
from chatsvc.client.plain import PlainLineView
from chatsvc.client.protocol import ChatClientProtocol, isQuit
from chatsvc.client.session import (
    ClientOptions,
    clientEndpoint,
    connectFailureMessage,
    parseOptions,
)
from chatsvc.client.terminal import TerminalView, terminalProtocol
from chatsvc.client.testing import RecordingInput, RecordingView, Screen
from chatsvc.hub import Hub
from chatsvc.native.protocol import NativeFactory
from chatsvc.native.wire import visible

LANGUAGE_SET = b"Language set to English (en).\r\n"
LEFT = b"\x1b[D"
RIGHT = b"\x1b[C"
UP = b"\x1b[A"
BACKSPACE = b"\x7f"
PROMPT_EN = "Choose your nickname: "
PROMPT_PL = "Wybierz swój pseudonim: "


class ClientConnection:
    """
    A client protocol on a L{StringTransport}, with a recording view.
    """

    def __init__(self, nickname: str | None = None, language: str = "en") -> None:
        self.view = RecordingView()
        self.clock = Clock()
        self.protocol = ChatClientProtocol(self.view, self.clock, language, nickname)
        self.transport = StringTransport()

    def connect(self) -> None:
        self.protocol.makeConnection(self.transport)

    def receive(self, data: bytes) -> None:
        self.protocol.dataReceived(data)

    def sent(self) -> list[str]:
        """
        The lines sent since the last call.
        """
        data = self.transport.value()
        self.transport.clear()
        assert data.count(b"\n") == data.count(b"\r\n"), data
        return data.decode("utf-8").splitlines()

    def handshake(self) -> None:
        """
        Connect and get as far as the view being asked for a nickname.
        """
        self.connect()
        self.receive(b"NICK\r\n" + LANGUAGE_SET)

    def register(self, nickname: str = "Alicja") -> None:
        self.handshake()
        self.protocol.submit(nickname)
        self.receive(b"Connected to server!\r\n")
        self.sent()
        self.view.take()

    def lose(self) -> None:
        self.protocol.connectionLost(Failure(ConnectionLost()))

    def close(self) -> None:
        self.protocol.connectionLost(Failure(ConnectionDone()))


class ProtocolHandshakeTests(SynchronousTestCase):
    def test_interfaces(self) -> None:
        """
        The protocol is an input for views; the fakes are what they claim.
        """
        connection = ClientConnection()
        self.assertTrue(verifyObject(IChatInput, connection.protocol))
        self.assertTrue(verifyObject(IChatView, RecordingView()))
        self.assertTrue(verifyObject(IChatInput, RecordingInput()))
        self.assertTrue(verifyObject(IChatView, PlainLineView()))
        self.assertTrue(verifyObject(IChatView, TerminalView()))

    def test_languageFirst(self) -> None:
        """
        The very first line sent asks for the user's language.
        """
        connection = ClientConnection(language="pl")
        connection.connect()
        self.assertEqual(connection.sent(), ["/lang pl"])

    def test_languageAnswerSwallowed(self) -> None:
        """
        The server's answer to /lang is not shown; the NICK before it asks.
        """
        connection = ClientConnection()
        connection.handshake()
        self.assertEqual(connection.view.take(), [("askNickname", None)])

    def test_promptWaitsForLanguageAnswer(self) -> None:
        """
        Nobody is asked for a nickname before the /lang answer is in, so the
        prompt comes in the chosen language's company.
        """
        connection = ClientConnection()
        connection.connect()
        connection.receive(b"NICK\r\n")
        self.assertEqual(connection.view.take(), [])
        connection.receive(LANGUAGE_SET)
        self.assertEqual(connection.view.take(), [("askNickname", None)])

    def test_unknownLanguageAnswerSwallowed(self) -> None:
        """
        An error before the /lang notice belongs to the answer as well.
        """
        connection = ClientConnection()
        connection.connect()
        connection.receive(
            b"NICK\r\n! Unknown language xx.\r\n"
            b"Your language is English (en); available: en (English).\r\n"
        )
        self.assertEqual(connection.view.take(), [("askNickname", None)])

    def test_askedNickname(self) -> None:
        """
        Without a nickname given, the user's answer is sent, and the welcome
        is shown and accepted.
        """
        connection = ClientConnection()
        connection.handshake()
        connection.sent()
        connection.protocol.submit("Alicja")
        self.assertEqual(connection.sent(), ["Alicja"])
        connection.receive(b"Connected to server!\r\n")
        self.assertEqual(
            connection.view.take(),
            [
                ("askNickname", None),
                ("showLine", "notice", "Connected to server!"),
                ("nicknameAccepted",),
            ],
        )
        self.assertTrue(connection.protocol.registered)

    def test_givenNickname(self) -> None:
        """
        A nickname from the command line answers the first NICK unasked.
        """
        connection = ClientConnection(nickname="Alicja")
        connection.handshake()
        self.assertEqual(connection.sent(), ["/lang en", "Alicja"])
        connection.receive(b"Connected to server!\r\n")
        self.assertEqual(
            connection.view.take(),
            [("showLine", "notice", "Connected to server!"), ("nicknameAccepted",)],
        )

    def test_refusedAsksAgainWithReason(self) -> None:
        """
        A refused nickname: the view is asked again, once, with the reason.
        """
        connection = ClientConnection()
        connection.handshake()
        connection.protocol.submit("Bob")
        connection.view.take()
        connection.receive(b"! The nickname Bob is taken.\r\nNICK\r\n")
        self.assertEqual(
            connection.view.take(),
            [("askNickname", "! The nickname Bob is taken.")],
        )
        connection.sent()
        connection.protocol.submit("Alicja")
        self.assertEqual(connection.sent(), ["Alicja"])

    def test_refusedGivenNickname(self) -> None:
        """
        When the nickname from the command line is refused, the user is
        asked, and the given one is not tried again.
        """
        connection = ClientConnection(nickname="Bob")
        connection.handshake()
        connection.receive(b"! The nickname Bob is taken.\r\nNICK\r\n")
        self.assertEqual(
            connection.view.take(), [("askNickname", "! The nickname Bob is taken.")]
        )
        self.assertEqual(connection.sent(), ["/lang en", "Bob"])

    def test_blankAnswerAsksAgain(self) -> None:
        """
        An empty answer is not sent (the server would ignore it); the view
        is asked again.
        """
        connection = ClientConnection()
        connection.handshake()
        connection.sent()
        connection.protocol.submit("  ")
        self.assertEqual(connection.sent(), [])
        self.assertEqual(
            connection.view.take(), [("askNickname", None), ("askNickname", None)]
        )

    def test_commandWhileAsked(self) -> None:
        """
        A command instead of a nickname is sent, its answer shown, and the
        question stays open.
        """
        connection = ClientConnection()
        connection.handshake()
        connection.sent()
        connection.view.take()
        connection.protocol.submit("/help")
        connection.receive(b"Available commands:\r\n")
        self.assertEqual(connection.sent(), ["/help"])
        self.assertEqual(
            connection.view.take(), [("showLine", "notice", "Available commands:")]
        )
        connection.protocol.submit("Alicja")
        self.assertEqual(connection.sent(), ["Alicja"])

    def test_nothingSentUnasked(self) -> None:
        """
        A line submitted before the server asked for anything is not sent.
        """
        connection = ClientConnection()
        connection.connect()
        connection.sent()
        connection.protocol.submit("hello")
        self.assertEqual(connection.sent(), [])


class ProtocolLineTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.connection = ClientConnection()
        self.connection.register()

    def test_kinds(self) -> None:
        """
        Every server line reaches the view whole, with its kind.
        """
        self.connection.receive(
            b"Bob: hi\r\n* Bob waves\r\n*Bob* psst\r\n-> *Bob* hush\r\n"
            b"! Nobody called Ewa is here.\r\nBob joined the chat!\r\n"
        )
        self.assertEqual(
            self.connection.view.take(),
            [
                ("showLine", "chat", "Bob: hi"),
                ("showLine", "action", "* Bob waves"),
                ("showLine", "private", "*Bob* psst"),
                ("showLine", "sent", "-> *Bob* hush"),
                ("showLine", "error", "! Nobody called Ewa is here."),
                ("showLine", "notice", "Bob joined the chat!"),
            ],
        )

    def test_controlCharactersMadeVisible(self) -> None:
        """
        An escape sequence from the server never reaches the view as one.
        """
        self.connection.receive(b"Bob: \x1b[2J\x1b]0;pwned\x07 \xc2\x9b31m\r\n")
        [(_, kind, line)] = self.connection.view.take()
        self.assertEqual(kind, "chat")
        self.assertEqual(line, "Bob: \u241b[2J\u241b]0;pwned\u2407 \ufffd31m")
        self.assertNotIn("\x1b", line)

    def test_invalidUtf8(self) -> None:
        """
        Bytes that are not UTF-8 show as replacement characters; the
        connection carries on.
        """
        self.connection.receive(b"Bob: \xff\xfe ok\r\nBob: next\r\n")
        self.assertEqual(
            self.connection.view.shown(), ["Bob: \ufffd\ufffd ok", "Bob: next"]
        )
        self.assertFalse(self.connection.transport.disconnecting)

    def test_characterSplitAcrossReads(self) -> None:
        """
        A character whose bytes come in two reads is one character.
        """
        data = "Bob: żółw\r\n".encode("utf-8")
        split = data.index("ż".encode("utf-8")) + 1
        self.connection.receive(data[:split])
        self.connection.receive(data[split:])
        self.assertEqual(self.connection.view.shown(), ["Bob: żółw"])

    def test_bareLineFeeds(self) -> None:
        """
        Lines ending in LF alone are lines too.
        """
        self.connection.receive(b"Bob: one\nBob: two\n")
        self.assertEqual(self.connection.view.shown(), ["Bob: one", "Bob: two"])

    def test_overLongLineSkipped(self) -> None:
        """
        A line beyond the bound is skipped with a word to the user, and the
        next line is shown.
        """
        self.connection.receive(b"Bob: " + b"x" * 70000 + b"\r\nBob: after\r\n")
        calls = self.connection.view.take()
        self.assertEqual(calls[0][:2], ("showLine", "local"))
        self.assertIn("65536", calls[0][2])
        self.assertEqual(calls[1:], [("showLine", "chat", "Bob: after")])
        self.assertFalse(self.connection.transport.disconnecting)

    def test_linesSentAsTheyAre(self) -> None:
        """
        After the welcome, lines and commands go out as typed; empty ones
        do not.
        """
        for text in ["Cześć!", "/me waves", "//slash", "", "/who"]:
            self.connection.protocol.submit(text)
        self.assertEqual(
            self.connection.sent(), ["Cześć!", "/me waves", "//slash", "/who"]
        )


class ProtocolLeavingTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.connection = ClientConnection()
        self.connection.register()

    def test_isQuit(self) -> None:
        """
        exit and /quit leave; //quit and words around exit do not.
        """
        for text in ["exit", " exit ", "/quit", "/QUIT bye", "/quit  gone home"]:
            self.assertTrue(isQuit(text), text)
        for text in ["//quit", "exit now", "/quitter", "quit", "Exit"]:
            self.assertFalse(isQuit(text), text)

    def test_exit(self) -> None:
        """
        exit says /quit; the server's close is then clean.
        """
        self.connection.protocol.submit("exit")
        self.assertEqual(self.connection.sent(), ["/quit"])
        self.connection.close()
        self.assertEqual(self.connection.view.take(), [("connectionClosed", True)])

    def test_quitWithReason(self) -> None:
        """
        /quit with a reason goes out as typed.
        """
        self.connection.protocol.submit("/quit gone home")
        self.assertEqual(self.connection.sent(), ["/quit gone home"])
        self.connection.close()
        self.assertEqual(self.connection.view.take(), [("connectionClosed", True)])

    def test_nothingAfterLeaving(self) -> None:
        """
        Once leaving, further input is dropped.
        """
        self.connection.protocol.leave()
        self.connection.protocol.submit("too late")
        self.assertEqual(self.connection.sent(), ["/quit"])

    def test_lost(self) -> None:
        """
        A close the user did not ask for is unclean, whatever its cause.
        """
        self.connection.close()
        self.assertEqual(self.connection.view.take(), [("connectionClosed", False)])

    def test_serverNeverCloses(self) -> None:
        """
        After /quit the client waits a while for the server, then closes.
        """
        self.connection.protocol.leave()
        self.connection.clock.advance(self.connection.protocol.leaveTimeout - 0.1)
        self.assertFalse(self.connection.transport.disconnecting)
        self.connection.clock.advance(0.1)
        self.assertTrue(self.connection.transport.disconnecting)
        self.connection.close()
        self.assertEqual(self.connection.view.take(), [("connectionClosed", True)])
        self.assertEqual(self.connection.clock.getDelayedCalls(), [])

    def test_secondInterruptAborts(self) -> None:
        """
        A second interrupt while leaving (a second Ctrl-C) stops waiting at
        once.
        """
        self.connection.protocol.leave()
        self.connection.protocol.leave(insist=True)
        self.assertTrue(self.connection.transport.disconnected)

    def test_endOfInputAfterExitWaits(self) -> None:
        """
        End of input right after "exit" does not cut the goodbye short: the
        replies still on their way are shown.
        """
        self.connection.protocol.submit("exit")
        self.connection.protocol.leave()
        self.assertFalse(self.connection.transport.disconnected)
        self.connection.protocol.dataReceived(b"Ola: last words\r\n")
        self.assertIn(("showLine", "chat", "Ola: last words"), self.connection.view.take())

    def test_closedOnce(self) -> None:
        """
        The view hears of the end once.
        """
        self.connection.close()
        self.connection.protocol.leave()
        self.assertEqual(self.connection.view.take(), [("connectionClosed", False)])


class ProtocolConnectingTests(SynchronousTestCase):
    def test_leaveBeforeConnected(self) -> None:
        """
        Leaving before the connection is made ends at once, cleanly, and a
        connection made after all is dropped.
        """
        connection = ClientConnection()
        connection.protocol.leave()
        self.assertEqual(connection.view.take(), [("connectionClosed", True)])
        connection.connect()
        self.assertEqual(connection.sent(), [])
        self.assertTrue(connection.transport.disconnected)
        connection.close()
        self.assertEqual(connection.view.take(), [])


class InMemoryServerTests(SynchronousTestCase):
    """
    The client against the real server protocol, pumped in memory.
    """

    def setUp(self) -> None:
        self.clock = Clock()
        self.factory = NativeFactory(Hub(self.clock))
        self.pumps: list[iosim.IOPump] = []

    def connect(
        self, language: str = "en", nickname: str | None = None
    ) -> tuple[ChatClientProtocol, RecordingView]:
        view = RecordingView()
        client, server, pump = iosim.connectedServerAndClient(
            lambda: self.factory.buildProtocol(None),
            lambda: ChatClientProtocol(view, self.clock, language, nickname),
        )
        self.pumps.append(pump)
        return client, view

    def pump(self) -> None:
        for _ in range(3):
            for pump in self.pumps:
                pump.flush()

    def register(
        self, nickname: str, language: str = "en"
    ) -> tuple[ChatClientProtocol, RecordingView]:
        client, view = self.connect(language)
        self.pump()
        self.assertEqual(view.take(), [("askNickname", None)])
        client.submit(nickname)
        self.pump()
        return client, view

    def test_englishTranscript(self) -> None:
        """
        The classic exchange, as Alicja's view shows it.
        """
        alicja, aView = self.register("Alicja")
        bob, bView = self.register("Bob")
        bob.submit("Hi everyone!")
        self.pump()
        alicja.submit("Hi Bob!")
        self.pump()
        self.assertEqual(
            aView.shown(),
            [
                "Connected to server!",
                "Bob joined the chat!",
                "Bob: Hi everyone!",
                "Alicja: Hi Bob!",
            ],
        )

    def test_polishTranscript(self) -> None:
        """
        With Polish chosen, the server speaks Polish from the first line.
        """
        alicja, aView = self.register("Alicja", "pl")
        bob, bView = self.register("Bob")
        bob.submit("Cześć wszystkim!")
        self.pump()
        alicja.submit("Cześć Bob!")
        self.pump()
        self.assertEqual(
            aView.shown(),
            [
                "Połączono z serwerem!",
                "Bob dołączył do czatu!",
                "Bob: Cześć wszystkim!",
                "Alicja: Cześć Bob!",
            ],
        )

    def test_takenNickname(self) -> None:
        """
        A taken nickname is refused with the server's reason, and asked again.
        """
        self.register("Bob")
        client, view = self.connect(nickname="bob")
        self.pump()
        self.assertEqual(view.take(), [("askNickname", "! The nickname bob is taken.")])
        client.submit("Alicja")
        self.pump()
        self.assertEqual(
            view.take(),
            [("showLine", "notice", "Connected to server!"), ("nicknameAccepted",)],
        )

    def test_quitIsClean(self) -> None:
        """
        exit leaves, the others hear it, and the close is clean.
        """
        alicja, aView = self.register("Alicja")
        bob, bView = self.register("Bob")
        aView.take()
        bob.submit("exit")
        self.pump()
        self.assertEqual(bView.calls[-1], ("connectionClosed", True))
        self.assertEqual(aView.shown(), ["Bob left the chat."])


class PlainLineViewTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.view = PlainLineView()
        self.client = RecordingInput()
        self.view.client = self.client
        self.stdio = StringTransport()
        self.view.makeConnection(self.stdio)

    def output(self) -> str:
        data = self.stdio.value()
        self.stdio.clear()
        return data.decode("utf-8")

    def type(self, data: bytes) -> None:
        self.view.dataReceived(data)

    def test_promptAndEcho(self) -> None:
        """
        The prompt has no line ending; the answer read is echoed after it, so
        the output reads like a terminal session.
        """
        self.view.askNickname(None)
        self.assertEqual(self.output(), PROMPT_EN)
        self.type(b"Alicja\n")
        self.assertEqual(self.output(), "Alicja\n")
        self.assertEqual(self.client.submitted, ["Alicja"])

    def test_inputWaitsUntilUsable(self) -> None:
        """
        Lines read early wait (and reading pauses) until asked; chat waits
        for the welcome.
        """
        self.type(b"Alicja\nHi!\n")
        self.assertEqual(self.client.submitted, [])
        self.assertEqual(self.stdio.producerState, "paused")
        self.view.askNickname(None)
        self.assertEqual(self.client.submitted, ["Alicja"])
        self.view.nicknameAccepted()
        self.assertEqual(self.client.submitted, ["Alicja", "Hi!"])
        self.assertEqual(self.stdio.producerState, "producing")

    def test_refusedNextLineIsNextTry(self) -> None:
        """
        After a refusal, the next line read is the next nickname tried.
        """
        self.type(b"Bob\nAlicja\nHi!\n")
        self.view.askNickname(None)
        self.view.askNickname("! The nickname Bob is taken.")
        self.assertEqual(self.client.submitted, ["Bob", "Alicja"])
        self.assertEqual(
            self.output(),
            f"{PROMPT_EN}Bob\n! The nickname Bob is taken.\n{PROMPT_EN}Alicja\n",
        )

    def test_endOfInputAfterLines(self) -> None:
        """
        The end of input leaves only after every line before it went out.
        """
        self.type(b"Alicja\nHi!")
        self.view.readConnectionLost()
        self.assertEqual(self.client.leaves, 0)
        self.view.askNickname(None)
        self.view.nicknameAccepted()
        self.assertEqual(self.client.submitted, ["Alicja", "Hi!"])
        self.assertEqual(self.client.leaves, 1)

    def test_lineWhilePromptOpen(self) -> None:
        """
        A line shown while the prompt waits goes on its own line, and the
        prompt is repeated.
        """
        self.view.askNickname(None)
        self.view.showLine("notice", "Available commands:")
        self.assertEqual(
            self.output(), f"{PROMPT_EN}\nAvailable commands:\n{PROMPT_EN}"
        )

    def test_undecodableInput(self) -> None:
        """
        Input that is not UTF-8 is passed on with replacement characters.
        """
        self.view.askNickname(None)
        self.view.nicknameAccepted()
        self.type(b"Alicja\nna\xffive\n")
        self.assertEqual(self.client.submitted, ["Alicja", "na\ufffdive"])

    def test_lost(self) -> None:
        """
        A lost connection is said, output is closed, and the status is 1.
        """
        done = self.view.whenDone()
        self.view.connectionClosed(False)
        self.assertEqual(self.output(), "Connection to server lost.\n")
        self.assertTrue(self.stdio.disconnecting)
        self.assertNoResult(done)
        self.view.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.successResultOf(done), 1)

    def test_clean(self) -> None:
        """
        A clean end says nothing more and has status 0.
        """
        done = self.view.whenDone()
        self.view.askNickname(None)
        self.view.connectionClosed(True)
        self.assertEqual(self.output(), PROMPT_EN + "\n")
        self.view.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.successResultOf(done), 0)

    def test_cannotConnect(self) -> None:
        """
        A failed connection is reported in one line with a non-zero status.
        """
        done = self.view.whenDone()
        self.view.connectionFailed(
            "Cannot connect to localhost port 5555: Connection refused."
        )
        self.view.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(
            self.output(),
            "Cannot connect to localhost port 5555: Connection refused.\n",
        )
        self.assertNotEqual(self.successResultOf(done), 0)

    def test_outputGone(self) -> None:
        """
        When nobody reads the output any more, the client leaves.
        """
        self.view.writeConnectionLost()
        self.assertEqual(self.client.leaves, 1)
        done = self.view.whenDone()
        self.view.connectionClosed(True)
        self.assertEqual(self.successResultOf(done), 0)

    def test_polishPrompt(self) -> None:
        """
        The prompt speaks the user's language.
        """
        view = PlainLineView("pl")
        stdio = StringTransport()
        view.makeConnection(stdio)
        view.askNickname(None)
        self.assertEqual(stdio.value().decode("utf-8"), PROMPT_PL)


class PlainTranscriptTests(SynchronousTestCase):
    """
    A script piped into the client, against the real server in memory.
    """

    def test_scriptedTranscript(self) -> None:
        """
        What a script sees is what a person at a terminal would have seen.
        """
        clock = Clock()
        factory = NativeFactory(Hub(clock))
        view = PlainLineView()
        stdio = StringTransport()
        view.makeConnection(stdio)
        view.dataReceived(b"Alicja\nHi!\n")
        client, server, pump = iosim.connectedServerAndClient(
            lambda: factory.buildProtocol(None),
            lambda: ChatClientProtocol(view, clock, "en", None),
        )
        view.client = client
        view.readConnectionLost()
        for _ in range(5):
            pump.flush()
        self.assertEqual(
            stdio.value().decode("utf-8"),
            f"{PROMPT_EN}Alicja\nConnected to server!\nAlicja: Hi!\n",
        )
        self.assertTrue(stdio.disconnecting)
        done = view.whenDone()
        view.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.successResultOf(done), 0)


class EscapeTests(SynchronousTestCase):
    """
    An escape sequence from the server, through the protocol and a view.
    """

    hostile = b"Bob: \x1b[2J\x1b]0;owned\x07\r\n"

    def test_plain(self) -> None:
        """
        The plain view writes no escape character at all.
        """
        view = PlainLineView()
        stdio = StringTransport()
        view.makeConnection(stdio)
        client = ChatClientProtocol(view, Clock())
        client.makeConnection(StringTransport())
        client.dataReceived(b"NICK\r\n" + LANGUAGE_SET + self.hostile)
        self.assertNotIn(b"\x1b", stdio.value())
        self.assertIn("Bob: \u241b[2J", stdio.value().decode("utf-8"))

    def test_terminal(self) -> None:
        """
        The terminal view shows the sequence as harmless characters.
        """
        view = TerminalView()
        stdio = StringTransport()
        terminalProtocol(view).makeConnection(stdio)
        client = ChatClientProtocol(view, Clock())
        client.makeConnection(StringTransport())
        client.dataReceived(b"NICK\r\n" + LANGUAGE_SET + self.hostile)
        self.assertNotIn(b"\x1b[2J", stdio.value())
        self.assertNotIn(b"\x1b]", stdio.value())
        screen = Screen()
        screen.feed(stdio.value())
        self.assertIn("Bob: \u241b[2J\u241b]0;owned\u2407", screen.lines())


class TerminalViewTests(SynchronousTestCase):
    width = 40

    def setUp(self) -> None:
        self.view = TerminalView(width=self.width)
        self.client = RecordingInput()
        self.view.client = self.client
        self.terminal = terminalProtocol(self.view)
        self.stdio = StringTransport()
        self.terminal.makeConnection(self.stdio)
        self.screen = Screen(self.width)

    def draw(self) -> Screen:
        self.screen.feed(self.stdio.value())
        self.stdio.clear()
        return self.screen

    def type(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.terminal.dataReceived(data)

    def register(self) -> None:
        self.view.askNickname(None)
        self.type("Alicja\r")
        self.view.nicknameAccepted()
        self.client.submitted.clear()

    def test_noReset(self) -> None:
        """
        Starting does not clear the user's screen or change terminal modes.
        """
        self.assertNotIn(b"\x1bc", self.stdio.value())
        self.assertNotIn(b"\x1b[2J", self.stdio.value())
        self.assertNotIn(b"\x1b[4h", self.stdio.value())

    def test_askNickname(self) -> None:
        """
        The prompt is shown; the answer stays on screen after it.
        """
        self.view.askNickname(None)
        self.type("Alicja\r")
        self.assertEqual(self.client.submitted, ["Alicja"])
        self.assertEqual(self.draw().lines(), [PROMPT_EN + "Alicja"])
        self.assertEqual((self.screen.x, self.screen.cursorRow()), (0, ""))

    def test_refusal(self) -> None:
        """
        A refusal is printed and the prompt shown again.
        """
        self.view.askNickname(None)
        self.type("Bob\r")
        self.view.askNickname("! The nickname Bob is taken.")
        self.assertEqual(
            self.draw().lines(),
            [PROMPT_EN + "Bob", "! The nickname Bob is taken.", PROMPT_EN.rstrip()],
        )

    def test_polishPrompt(self) -> None:
        """
        The prompt speaks the user's language.
        """
        self.view.language = "pl"
        self.view.askNickname(None)
        self.type("Alicja\r")
        self.assertEqual(self.draw().lines(), [PROMPT_PL + "Alicja"])

    def test_typePolish(self) -> None:
        """
        Typing "zażółć" and Enter sends exactly that text.
        """
        self.register()
        self.type("zażółć\r")
        self.assertEqual(self.client.submitted, ["zażółć"])

    def test_characterSplitAcrossReads(self) -> None:
        """
        The two bytes of "ż" in two reads make one character.
        """
        self.register()
        encoded = "ż".encode("utf-8")
        self.type(encoded[:1])
        self.type(encoded[1:])
        self.type("\r")
        self.assertEqual(self.client.submitted, ["ż"])

    def test_backspaceOverPolish(self) -> None:
        """
        Backspace erases a whole Polish character, on screen and in the line.
        """
        self.register()
        self.type("zażółć")
        self.type(BACKSPACE)
        self.assertEqual(self.draw().cursorRow(), "zażół")
        self.assertEqual(self.screen.x, 5)
        self.type("\r")
        self.assertEqual(self.client.submitted, ["zażół"])

    def test_editInTheMiddle(self) -> None:
        """
        Moving left over Polish characters and typing inserts there.
        """
        self.register()
        self.type("żółw")
        self.type(LEFT + LEFT + "X".encode() + LEFT + BACKSPACE)
        self.assertEqual(self.draw().cursorRow(), "żXłw")
        self.assertEqual(self.screen.x, 1)
        self.type("\r")
        self.assertEqual(self.client.submitted, ["żXłw"])

    def test_messageWhileTyping(self) -> None:
        """
        A line arriving mid-typing is printed above; the typed text is
        redrawn below with the cursor where it was.
        """
        self.register()
        self.type("Cześć Bo")
        self.type(LEFT + LEFT)
        self.view.showLine("chat", "Bob: Hi everyone!")
        screen = self.draw()
        self.assertEqual(screen.lines()[-2:], ["Bob: Hi everyone!", "Cześć Bo"])
        self.assertEqual(screen.cursorRow(), "Cześć Bo")
        self.assertEqual(screen.x, 6)
        self.type(RIGHT + RIGHT + b"b!\r")
        self.assertEqual(self.client.submitted, ["Cześć Bob!"])

    def test_sentLineLeavesRow(self) -> None:
        """
        A line sent is cleared from the input row; the server's echo shows it.
        """
        self.register()
        self.type("hello\r")
        self.assertEqual(self.draw().cursorRow(), "")
        self.view.showLine("chat", "Alicja: hello")
        self.assertEqual(self.draw().lines()[-1], "Alicja: hello")

    def test_enterBeforeAsked(self) -> None:
        """
        Enter before the server asked for anything sends nothing and keeps
        the text.
        """
        self.type("Alicja\r")
        self.assertEqual(self.client.submitted, [])
        self.view.askNickname(None)
        self.assertEqual(self.draw().cursorRow(), PROMPT_EN + "Alicja")
        self.type("\r")
        self.assertEqual(self.client.submitted, ["Alicja"])

    def test_longLineScrolls(self) -> None:
        """
        Input wider than the terminal scrolls sideways and never wraps.
        """
        self.register()
        text = "ąbcdefghij" * 6
        self.type(text)
        screen = self.draw()
        self.assertEqual(len(screen.rows), 2)
        self.assertTrue(text.endswith(screen.cursorRow()))
        self.assertEqual(screen.x, self.width - 1)
        self.type(b"\x01")
        self.assertTrue(text.startswith(self.draw().cursorRow()))
        self.assertEqual(self.screen.x, 0)
        self.type("\r")
        self.assertEqual(self.client.submitted, [text])

    def test_history(self) -> None:
        """
        Up brings back the last line sent.
        """
        self.register()
        self.type("żółw\r")
        self.type(UP + b"\r")
        self.assertEqual(self.client.submitted, ["żółw", "żółw"])

    def test_killAndControls(self) -> None:
        """
        Ctrl-U erases before the cursor, Ctrl-K after it, Ctrl-A/Ctrl-E jump.
        """
        self.register()
        self.type("ąę śćź")
        self.type(LEFT * 3 + b"\x15")
        self.assertEqual(self.draw().cursorRow(), "śćź")
        self.type(b"\x05" + LEFT + b"\x0b\r")
        self.assertEqual(self.client.submitted, ["ść"])

    def test_ctrlD(self) -> None:
        """
        Ctrl-D deletes under the cursor, and on an empty line leaves.
        """
        self.register()
        self.type("ab" + "\x01\x04")
        self.assertEqual(self.draw().cursorRow(), "b")
        self.assertEqual(self.client.leaves, 0)
        self.type(b"\x04\x04")
        self.assertEqual(self.client.leaves, 1)

    def test_ctrlC(self) -> None:
        """
        Ctrl-C leaves, whatever was typed.
        """
        self.register()
        self.type("half a li\x03")
        self.assertEqual(self.client.leaves, 1)
        self.assertEqual(self.client.submitted, [])

    def test_altAndFunctionKeysIgnored(self) -> None:
        """
        Alt-keys and function keys insert nothing.
        """
        self.register()
        self.type(b"\x1bx\x1bOP\x1b[15~ok\r")
        self.assertEqual(self.client.submitted, ["ok"])

    def test_invisibleCharactersNotTyped(self) -> None:
        """
        A typed bidirectional override or other invisible character is not
        taken into the line, so what is on screen is what is sent.
        """
        self.register()
        self.type("a\u202eb\u200bc\r")
        self.assertEqual(self.client.submitted, ["abc"])

    def test_lost(self) -> None:
        """
        A lost connection is said below what was typed; status 1.
        """
        self.register()
        done = self.view.whenDone()
        self.type("unsent")
        self.view.connectionClosed(False)
        self.assertEqual(
            self.draw().lines()[-2:], ["unsent", "Connection to server lost."]
        )
        self.assertTrue(self.stdio.disconnecting)
        self.assertNotIn(b"\x1bc", self.stdio.value())
        self.terminal.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.successResultOf(done), 1)

    def test_clean(self) -> None:
        """
        A clean end has status 0 and leaves the cursor on an empty row.
        """
        self.register()
        done = self.view.whenDone()
        self.view.connectionClosed(True)
        self.terminal.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.draw().cursorRow(), "")
        self.assertEqual(self.successResultOf(done), 0)

    def test_terminalGone(self) -> None:
        """
        If the terminal goes away first, the client leaves.
        """
        self.register()
        self.terminal.connectionLost(Failure(ConnectionLost()))
        self.assertEqual(self.client.leaves, 1)


class EditingTests(SynchronousTestCase):
    def test_fits(self) -> None:
        """
        A short line is shown whole after its prompt.
        """
        window = inputWindow("> ", "żółw", 2, 20)
        self.assertEqual((window.text, window.column, window.start), ("> żółw", 4, 0))

    @given(
        st.text(max_size=8),
        st.text(max_size=60),
        st.data(),
        st.integers(min_value=12, max_value=40),
        st.integers(min_value=0, max_value=60),
    )
    def test_cursorAlwaysInView(
        self, prompt: str, text: str, data: st.DataObject, width: int, start: int
    ) -> None:
        """
        Whatever the line and cursor, the row fits and the cursor is on the
        character it points at.
        """
        cursor = data.draw(st.integers(min_value=0, max_value=len(text)))
        window = inputWindow(prompt, text, cursor, width, start)
        self.assertLessEqual(len(window.text), width - 1)
        self.assertLessEqual(window.column, width - 1)
        self.assertGreaterEqual(window.column, len(prompt))
        index = window.column - len(prompt)
        shown = window.text[len(prompt) :]
        if cursor < len(text):
            self.assertEqual(shown[index], visible(text[cursor]))

    def test_keyDecoder(self) -> None:
        """
        Bytes make characters once complete; broken sequences vanish.
        """
        keys = KeyDecoder()
        self.assertEqual([keys.feed(bytes([b])) for b in "ż".encode()], ["", "ż"])
        self.assertEqual(keys.feed(b"\xc5"), "")
        keys.reset()
        self.assertEqual(keys.feed(b"a"), "a")
        self.assertEqual(keys.feed(b"\xff"), "")


class OptionsTests(SynchronousTestCase):
    def test_defaults(self) -> None:
        """
        localhost, port 5555, no nickname, the environment's language.
        """
        options = parseOptions([], {})
        self.assertEqual(
            (options["host"], options["port"], options["nick"], options.language),
            ("localhost", "5555", None, "en"),
        )

    def test_languageChoice(self) -> None:
        """
        --lang wins over the environment; the environment over English.
        """
        self.assertEqual(parseOptions([], {"LC_ALL": "pl_PL.UTF-8"}).language, "pl")
        self.assertEqual(
            parseOptions(["--lang", "en_GB"], {"LC_ALL": "pl_PL.UTF-8"}).language, "en"
        )
        self.assertEqual(parseOptions(["--lang", "pl-PL"], {}).language, "pl")

    def test_uninstalledLocale(self) -> None:
        """
        A locale this machine lacks just means English.
        """
        self.assertEqual(parseOptions([], {"LANG": "xx_YY.UTF-8"}).language, "en")

    def test_unknownLanguage(self) -> None:
        """
        An unknown --lang is a usage error that names the choices.
        """
        error = self.assertRaises(usage.UsageError, parseOptions, ["--lang", "xx"], {})
        self.assertIn("en, pl", str(error))

    def test_badPort(self) -> None:
        """
        A port number out of range is a usage error.
        """
        self.assertRaises(usage.UsageError, parseOptions, ["--port", "70000"], {})

    def test_polishHelp(self) -> None:
        """
        The help speaks the environment's language.
        """
        options = ClientOptions("pl")
        self.assertNotIn("The server's host name", str(options))


class EndpointTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.reactor = MemoryReactorClock()

    def test_barePort(self) -> None:
        """
        A port number means TCP to --host.
        """
        self.assertIsInstance(
            clientEndpoint(self.reactor, "localhost", "5555"), HostnameEndpoint
        )

    def test_description(self) -> None:
        """
        Anything else is an endpoint description.
        """
        self.assertIsInstance(
            clientEndpoint(self.reactor, "localhost", "tcp:host=127.0.0.1:port=5555"),
            TCP4ClientEndpoint,
        )

    def test_nonsense(self) -> None:
        """
        Neither a number nor a description: ValueError.
        """
        self.assertRaises(ValueError, clientEndpoint, self.reactor, "h", "bogus:x")

    def test_refusedMessage(self) -> None:
        """
        A refused connection is said in one line.
        """
        failure = Failure(ConnectionRefusedError("Connection refused"))
        self.assertEqual(
            connectFailureMessage(failure, "localhost", "5555", "en"),
            "Cannot connect to localhost port 5555: Connection refused.",
        )
        self.assertEqual(
            connectFailureMessage(failure, "localhost", "unix:/run/chat", "en"),
            "Cannot connect to unix:/run/chat: Connection refused.",
        )
