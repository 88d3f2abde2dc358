"""
Tests for the client coming back after a lost connection: the backoff, the
server lines it follows, the memory of what it showed, the protocol coming
back (nickname, room, language, replay without repeats), the conversation
that reconnects, and both views while it does.  All in memory, on a Clock.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.defer import Deferred, fail
from twisted.internet.error import ConnectionDone, ConnectionRefusedError
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from chatsvc import events
from chatsvc.client import notices
from chatsvc.client.backoff import MAX_DELAY, backoff, wholeSeconds
from chatsvc.client.interfaces import IChatInput, IChatView
from chatsvc.client.memory import SessionMemory, Transcript, overlap
from chatsvc.client.plain import PlainLineView
from chatsvc.client.protocol import ChatClientProtocol
from chatsvc.client.reconnect import Conversation
from chatsvc.client.session import connectFailureMessage
from chatsvc.client.terminal import TerminalView, terminalProtocol
from chatsvc.client.testing import InMemoryServer, RecordingInput, RecordingView, Screen
from chatsvc.errors import AlreadyInRoom, NicknameInUse
from chatsvc.history import History
from chatsvc.hub import Hub
from chatsvc.i18n import LANGUAGES, translation
from chatsvc.native import wire, wording
from chatsvc.native.protocol import NativeFactory
from chatsvc.net.connection import Limits
from chatsvc.net.output import Outbox
from chatsvc.store.memory import MemoryStore

LANGUAGE_SET = b"Language set to English (en).\r\n"
NOON = 12 * 3600.0


def said(nickname: str, text: str, room: str = "lobby") -> events.Said:
    return events.Said(events.Identity(nickname), room, text, time=NOON)


def replayLines(
    *lines: events.Event, room: str = "lobby", language: str = "en"
) -> list[str]:
    """
    The server's replay of C{lines}, as its wire code words it.
    """
    return wording.historyLines(
        list(lines), "Alicja", translation(language), NOON, room=room
    )


def wireBytes(lines: list[str]) -> bytes:
    return "".join(line + "\r\n" for line in lines).encode("utf-8")


class BackoffTests(SynchronousTestCase):
    def test_doubling(self) -> None:
        """
        Without jitter the waits are 0.5 s doubling, and stay at 30 s.
        """
        self.assertEqual(
            [backoff(attempt, lambda: 0.0) for attempt in range(9)],
            [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0],
        )

    @given(st.integers(min_value=0, max_value=10_000), st.floats(0, 0.999999))
    def test_jitterBounded(self, attempt: int, random: float) -> None:
        """
        Jitter shortens a wait by at most a quarter and never lengthens it.
        """
        plain = backoff(attempt, lambda: 0.0)
        jittered = backoff(attempt, lambda: random)
        self.assertLessEqual(jittered, plain)
        self.assertGreaterEqual(jittered, plain * 0.75)
        self.assertLessEqual(jittered, MAX_DELAY)

    def test_wholeSeconds(self) -> None:
        """
        The user is told whole seconds, never zero.
        """
        self.assertEqual(
            [wholeSeconds(d) for d in (0.4, 0.5, 1.4, 1.6, 30.0)], [1, 1, 1, 2, 30]
        )


class NoticeTests(SynchronousTestCase):
    """
    The client recognizes the server's own wording, in every language.
    """

    def test_history(self) -> None:
        """
        A replay's heading names its room; its end and time prefixes are
        known, today's and another day's.
        """
        for language in LANGUAGES:
            lines = replayLines(said("Ala", "hi"), room="Kuchnia", language=language)
            self.assertEqual(notices.historyHeading(lines[0]), "Kuchnia")
            self.assertTrue(notices.isHistoryEnd(lines[-1]))
            self.assertEqual(notices.stripTime(lines[1]), "Ala: hi")
        self.assertEqual(
            notices.stripTime("[2026-11-30 21:30] * Ala waves"), "* Ala waves"
        )
        self.assertIsNone(notices.stripTime("Ala: [21:30] hi"))
        for language in LANGUAGES:
            line = wording.topicLine("pub", "beer: cold", translation(language))
            self.assertEqual(notices.topicOf(line), "pub")
        self.assertIsNone(notices.historyHeading("Ala: Earlier in room lobby:"))

    def test_movedAndRenamed(self) -> None:
        """
        "You are now in room" in every plural form, and a rename.
        """
        for language in LANGUAGES:
            t = translation(language)
            for count in (1, 2, 3, 5, 22, 101):
                line = wording.renderEvent(events.Moved("pub", count), t)
                self.assertEqual(notices.movedTo(line), "pub", line)
            line = wording.renderEvent(events.Renamed(events.Identity("Ala"), "Ola"), t)
            self.assertEqual(notices.renamed(line), ("Ala", "Ola"))

    def test_refusals(self) -> None:
        """
        A taken nickname, a room one is in already, and the goodbyes that
        trying again would not change, told from other errors.
        """
        for language in LANGUAGES:
            t = translation(language)

            def error(line: str) -> str:
                return wire.classify(line).text

            self.assertEqual(
                notices.takenNickname(error(wording.renderError(NicknameInUse("Ala"), t))),
                "Ala",
            )
            self.assertEqual(
                notices.alreadyIn(error(wording.renderError(AlreadyInRoom("pub"), t))),
                "pub",
            )
            for message in (
                "Wrong password. Goodbye!",
                "Excess flood. Goodbye!",
                "You took too long to choose a nickname. Goodbye!",
            ):
                self.assertTrue(notices.isFinalRefusal(t.gettext(message)), message)
            self.assertFalse(
                notices.isFinalRefusal(
                    t.gettext("The server is full; try again later.")
                )
            )
            self.assertFalse(
                notices.isFinalRefusal(
                    t.gettext("The server is shutting down. Goodbye!")
                )
            )

    def test_sameName(self) -> None:
        """
        Names compare as the server compares them.
        """
        self.assertTrue(notices.sameName("ŁUKASZ", "łukasz"))
        self.assertFalse(notices.sameName("Ala", None))
        self.assertTrue(notices.sameName(None, None))


class MemoryTests(SynchronousTestCase):
    def test_overlap(self) -> None:
        """
        The replay's first lines that are the end of what was shown.
        """
        self.assertEqual(overlap(["a", "b", "c"], ["b", "c", "d"]), 2)
        self.assertEqual(overlap(["a", "b"], ["a", "b"]), 2)
        self.assertEqual(overlap(["a", "b"], ["x", "y"]), 0)
        self.assertEqual(overlap([], ["x"]), 0)
        self.assertEqual(overlap(["a", "b", "a"], ["a", "b", "a", "c"]), 3)
        self.assertEqual(overlap(["x", "a", "b"], ["a", "b", "a", "b", "new"]), 2)

    @given(
        st.lists(st.sampled_from("abc"), max_size=30),
        st.lists(st.sampled_from("abcd"), max_size=10),
        st.integers(min_value=1, max_value=20),
    )
    def test_replayOfWhatWasSeen(
        self, seen: list[str], new: list[str], size: int
    ) -> None:
        """
        Whatever was seen and said since, the lines shown as new end the
        replay, and a replay of only what was seen shows nothing.
        """
        replay = (seen + new)[-size:]
        start = overlap(seen, replay)
        self.assertEqual(seen[len(seen) - start :], replay[:start])
        if not new:
            self.assertEqual(start, len(replay))
        self.assertLessEqual(
            len(replay) - start, len(new) + max(0, len(replay) - len(seen))
        )

    def test_transcriptBounded(self) -> None:
        """
        A room keeps its last lines only; the room shown in least recently
        is forgotten first.
        """
        transcript = Transcript(perRoom=3, rooms=2)
        for n in range(5):
            transcript.remember("lobby", f"Ala: {n}")
        self.assertEqual(transcript.tail("LOBBY"), ["Ala: 2", "Ala: 3", "Ala: 4"])
        transcript.remember("pub", "Ala: pub")
        transcript.remember("kuchnia", "Ala: kuchnia")
        self.assertEqual(transcript.tail("lobby"), [])
        self.assertEqual(transcript.tail("pub"), ["Ala: pub"])

    def test_merge(self) -> None:
        """
        A replay known is added without repeating what was there.
        """
        transcript = Transcript()
        transcript.remember("lobby", "a")
        transcript.remember("lobby", "b")
        transcript.merge("lobby", ["a", "b", "c"])
        self.assertEqual(transcript.tail("lobby"), ["a", "b", "c"])

    def test_learnRoom(self) -> None:
        """
        Lines shown in the first room before its name was known are its.
        """
        memory = SessionMemory("Ala", "en")
        memory.transcript.remember(None, "Bob: hi")
        memory.learnRoom("lobby")
        self.assertEqual(
            (memory.room, memory.transcript.tail("lobby")), ("lobby", ["Bob: hi"])
        )


class Client:
    """
    A client protocol on a L{StringTransport} with a recording view, and
    the memory it shares with the next one.
    """

    def __init__(
        self, memory: SessionMemory | None = None, nickname: str = "Alicja"
    ) -> None:
        self.clock = Clock()
        self.view = RecordingView()
        self.memory = memory if memory is not None else SessionMemory(nickname, "en")
        self.protocol = ChatClientProtocol(
            self.view, self.clock, "en", memory=self.memory
        )
        self.transport = StringTransport()
        self.protocol.makeConnection(self.transport)

    def receive(self, data: bytes | list[str]) -> None:
        if isinstance(data, list):
            data = wireBytes(data)
        self.protocol.dataReceived(data)

    def sent(self) -> list[str]:
        data = self.transport.value()
        self.transport.clear()
        return data.decode("utf-8").splitlines()

    def register(self, welcome: list[str] = []) -> None:
        self.receive(b"NICK\r\n" + LANGUAGE_SET + b"Connected to server!\r\n")
        self.receive(welcome)

    def lose(self) -> None:
        self.protocol.connectionLost(Failure(ConnectionDone()))

    def next(self) -> "Client":
        """
        The client of the next connection, with this one's memory.
        """
        return Client(self.memory)


class ProtocolComingBackTests(SynchronousTestCase):
    def firstConnection(self, *lines: events.Event) -> Client:
        """
        A first connection that was shown the replay of C{lines}, and Bob
        saying "seen live"; then lost.
        """
        client = Client()
        client.register(replayLines(*lines) if lines else [])
        client.receive(b"Bob: seen live\r\n")
        client.lose()
        client.view.take()
        return client

    def test_firstReplayShownAsItComes(self) -> None:
        """
        On the first connection the replay is shown whole, as the server
        sent it, and remembered as seen.
        """
        client = Client()
        replay = replayLines(
            said("Bob", "old"), events.Acted(events.Identity("Bob"), "lobby", "waves")
        )
        client.register(replay)
        self.assertEqual(client.view.shown(), ["Connected to server!", *replay])
        self.assertEqual(
            client.memory.transcript.tail("lobby"), ["Bob: old", "* Bob waves"]
        )
        self.assertEqual(client.memory.room, "lobby")

    def test_sameLanguageAndNickname(self) -> None:
        """
        Coming back, the client asks for the same language and gives the
        same nickname unasked, even one it was asked for.
        """
        memory = SessionMemory(None, "en")
        client = Client(memory)
        client.receive(b"NICK\r\n" + LANGUAGE_SET)
        client.protocol.submit("/lang pl")
        client.receive("Wybrany język: polski (pl).\r\n".encode())
        client.protocol.submit("Ewa")
        client.receive("Połączono z serwerem!\r\n".encode())
        self.assertTrue(client.protocol.registered)
        client.lose()
        again = client.next()
        again.receive(b"NICK\r\n")
        self.assertEqual(again.sent(), ["/lang pl"])
        again.receive("Wybrany język: polski (pl).\r\n".encode())
        self.assertEqual(again.sent(), ["Ewa"])
        self.assertEqual(again.view.take(), [])

    def test_onlyWhatWasSaidMeanwhile(self) -> None:
        """
        The replay after coming back shows only the lines after the last
        one shown, marked as history.
        """
        client = self.firstConnection(said("Bob", "old"))
        again = client.next()
        replay = replayLines(
            said("Bob", "old"), said("Bob", "seen live"), said("Bob", "meanwhile")
        )
        again.register(replay)
        self.assertEqual(
            again.view.shown(),
            [
                "Connected to server!",
                "Said in room lobby while you were away:",
                replay[3],
                "End of history.",
            ],
        )
        self.assertTrue(replay[3].endswith("] Bob: meanwhile"))

    def test_nothingNew(self) -> None:
        """
        When everything in the replay was shown, one line says so.
        """
        client = self.firstConnection(said("Bob", "old"))
        again = client.next()
        again.register(replayLines(said("Bob", "old"), said("Bob", "seen live")))
        self.assertEqual(
            again.view.take(),
            [
                ("showLine", "notice", "Connected to server!"),
                ("nicknameAccepted",),
                (
                    "showLine",
                    "local",
                    "Nothing was said in room lobby while you were away.",
                ),
            ],
        )

    def test_gapLargerThanReplay(self) -> None:
        """
        When nothing in the replay was seen, all of it is shown, and the
        user is told that /history shows more.
        """
        client = self.firstConnection(said("Bob", "old"))
        again = client.next()
        replay = replayLines(said("Ewa", "one"), said("Ewa", "two"))
        again.register(replay)
        shown = again.view.shown()
        self.assertEqual(shown[2:4], replay[1:3])
        self.assertEqual(
            shown[-1],
            "More may have been said while you were away: /history shows earlier lines.",
        )

    def test_defaultRoomNamedLater(self) -> None:
        """
        A first room without history is named by its replay on coming back,
        and the lines shown in it are not repeated.
        """
        client = self.firstConnection()
        self.assertIsNone(client.memory.room)
        again = client.next()
        again.register(replayLines(said("Bob", "seen live"), said("Bob", "meanwhile")))
        self.assertEqual(
            again.view.shown()[1:3],
            ["Said in room lobby while you were away:", again.view.shown()[2]],
        )
        self.assertTrue(again.view.shown()[2].endswith("Bob: meanwhile"))
        self.assertEqual(again.memory.room, "lobby")

    def test_backToTheRoom(self) -> None:
        """
        After the welcome the client goes back to its room before anything
        else; the first room's replay is not shown, the move is, and the
        room's replay without what was seen.
        """
        client = Client()
        client.register(replayLines(said("Bob", "lobby line")))
        client.protocol.submit("/join pub")
        client.receive(["You are now in room pub (2 members).", "Ewa: seen in pub"])
        client.lose()
        client.view.take()
        again = client.next()
        again.sent()
        again.receive(b"NICK\r\n" + LANGUAGE_SET + b"Connected to server!\r\n")
        self.assertEqual(again.sent(), ["Alicja", "/join pub"])
        again.receive(
            replayLines(said("Bob", "lobby line"), said("Bob", "lobby meanwhile"))
        )
        again.receive(["You are now in room pub (2 members)."])
        again.receive(
            replayLines(
                said("Ewa", "seen in pub", "pub"),
                said("Ewa", "pub meanwhile", "pub"),
                room="pub",
            )
        )
        shown = again.view.shown()
        self.assertEqual(
            shown[:3],
            [
                "Connected to server!",
                "You are now in room pub (2 members).",
                "Said in room pub while you were away:",
            ],
        )
        self.assertTrue(shown[3].endswith("] Ewa: pub meanwhile"))
        self.assertEqual(len(shown), 5)
        self.assertEqual(again.memory.defaultRoom, "lobby")

    def test_alreadyThereSwallowed(self) -> None:
        """
        Going back to a room that is the first room after all: its replay
        is de-duplicated and "already there" is not shown.
        """
        client = Client()
        client.register()
        client.protocol.submit("/join pub")
        client.receive(["You are now in room pub (1 member)."])
        client.protocol.submit("/join lobby")
        client.receive(["You are now in room lobby (2 members).", "Bob: seen"])
        client.lose()
        again = client.next()
        again.register(
            replayLines(said("Bob", "seen")) + ["! You are in room lobby already."]
        )
        self.assertEqual(again.sent()[-1], "/join lobby")
        self.assertEqual(
            again.view.shown(),
            [
                "Connected to server!",
                "Nothing was said in room lobby while you were away.",
            ],
        )

    def test_historyAnswerShownAsItIs(self) -> None:
        """
        An answer to /history is shown whole and not taken for the replay.
        """
        client = Client()
        client.register()
        client.receive(b"Bob: live\r\n")
        answer = replayLines(said("Bob", "a"), said("Bob", "b"))
        client.receive(answer)
        self.assertEqual(client.view.shown()[-4:], answer)
        self.assertEqual(client.memory.transcript.tail(None), ["Bob: live"])

    def test_notHistoryAfterAll(self) -> None:
        """
        A heading followed by a line without a time is shown as it is.
        """
        client = self.firstConnection()
        again = client.next()
        again.register(["Earlier in room lobby:", "Bob: no time here"])
        self.assertEqual(
            again.view.shown(),
            ["Connected to server!", "Earlier in room lobby:", "Bob: no time here"],
        )

    def test_renameRemembered(self) -> None:
        """
        A /nick accepted is the nickname given on coming back.
        """
        client = Client()
        client.register()
        client.receive(["Alicja is now known as Ala."])
        client.lose()
        again = client.next()
        again.receive(b"NICK\r\n" + LANGUAGE_SET)
        self.assertEqual(again.sent()[-1], "Ala")

    def test_takenNicknameRetried(self) -> None:
        """
        Coming back, a nickname still taken (by the old connection, the
        server not knowing it is gone) is tried again after 1, 2, 4 and 8
        seconds, saying so each time; then the user is asked.
        """
        client = Client()
        client.register()
        client.lose()
        again = client.next()
        again.receive(b"NICK\r\n" + LANGUAGE_SET)
        again.sent()
        again.view.take()
        for delay in (1, 2, 4, 8):
            again.receive(b"! The nickname Alicja is taken.\r\nNICK\r\n")
            self.assertEqual(
                again.view.take(),
                [
                    (
                        "showLine",
                        "local",
                        "The nickname Alicja is still taken, perhaps by the connection "
                        f"that was lost; trying again in {delay} s…",
                    )
                ],
            )
            again.clock.advance(delay - 0.01)
            self.assertEqual(again.sent(), [])
            again.clock.advance(0.01)
            self.assertEqual(again.sent(), ["Alicja"])
        again.receive(b"! The nickname Alicja is taken.\r\nNICK\r\n")
        self.assertEqual(
            again.view.take(), [("askNickname", "! The nickname Alicja is taken.")]
        )
        again.protocol.submit("Alicja2")
        again.receive(b"Connected to server!\r\n")
        self.assertEqual(again.memory.nickname, "Alicja2")

    def test_takenThenAccepted(self) -> None:
        """
        Once the server has noticed, the retried nickname is accepted.
        """
        client = Client()
        client.register()
        client.lose()
        again = client.next()
        again.receive(
            b"NICK\r\n" + LANGUAGE_SET + b"! The nickname Alicja is taken.\r\nNICK\r\n"
        )
        again.clock.advance(1)
        again.receive(b"Connected to server!\r\n")
        self.assertTrue(again.protocol.registered)
        self.assertEqual(again.clock.getDelayedCalls(), [])

    def test_firstTakenAsksAtOnce(self) -> None:
        """
        On the first connection a taken nickname is the user's to change.
        """
        client = Client(nickname="Bob")
        client.receive(
            b"NICK\r\n" + LANGUAGE_SET + b"! The nickname Bob is taken.\r\nNICK\r\n"
        )
        self.assertEqual(
            client.view.take(), [("askNickname", "! The nickname Bob is taken.")]
        )

    def test_leavingStopsRetries(self) -> None:
        """
        Leaving while a nickname waits to be tried again cancels it.
        """
        client = Client()
        client.register()
        client.lose()
        again = client.next()
        again.receive(
            b"NICK\r\n" + LANGUAGE_SET + b"! The nickname Alicja is taken.\r\nNICK\r\n"
        )
        again.sent()
        again.protocol.submit("exit")
        self.assertEqual(again.sent(), ["/quit"])
        again.clock.advance(again.protocol.leaveTimeout)
        again.lose()
        self.assertEqual(again.sent(), [])
        self.assertEqual(again.clock.getDelayedCalls(), [])

    def test_finalRefusal(self) -> None:
        """
        A goodbye that will not change is marked as such.
        """
        client = Client()
        client.receive(b"PASS\r\n")
        self.assertFalse(client.protocol.refused)
        client.receive(b"! Wrong password. Goodbye!\r\n")
        self.assertTrue(client.protocol.refused)


class ServerAttempts:
    """
    The connections a conversation asks for, each answered by the test.
    """

    def __init__(self) -> None:
        self.attempts: list[tuple[ChatClientProtocol, Deferred[object]]] = []

    def connect(self, protocol: ChatClientProtocol) -> Deferred[object]:
        waiting: Deferred[object] = Deferred()
        self.attempts.append((protocol, waiting))
        return waiting

    def accept(self) -> Client:
        protocol, waiting = self.attempts[-1]
        client = Client.__new__(Client)
        client.protocol = protocol
        client.memory = protocol.memory
        client.transport = StringTransport()
        protocol.makeConnection(client.transport)
        waiting.callback(protocol)
        return client

    def refuse(self) -> None:
        protocol, waiting = self.attempts[-1]
        waiting.errback(ConnectionRefusedError("Connection refused"))


class ConversationTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.view = RecordingView()
        self.server = ServerAttempts()
        self.conversation = Conversation(
            self.view,
            self.server.connect,
            self.clock,
            "en",
            "Alicja",
            describeFailure=lambda failure: "Cannot connect: refused.",
            random=lambda: 0.0,
        )
        self.conversation.start()

    def registered(self) -> Client:
        client = self.server.accept()
        client.register()
        self.view.take()
        return client

    def reconnecting(self) -> list[tuple[object, ...]]:
        return [call for call in self.view.take() if call[0] == "reconnecting"]

    def test_interfaces(self) -> None:
        """
        The conversation is the views' input and the protocols' view; the
        views know reconnecting.
        """
        self.assertTrue(verifyObject(IChatInput, self.conversation))
        self.assertTrue(verifyObject(IChatView, self.conversation))
        self.assertTrue(verifyObject(IChatView, PlainLineView()))
        self.assertTrue(verifyObject(IChatView, TerminalView()))

    def test_lossReconnects(self) -> None:
        """
        A lost connection is said, then made again after 0.5 s, and the
        same nickname given.
        """
        self.registered().lose()
        self.assertEqual(
            self.reconnecting(),
            [("reconnecting", "Connection lost; reconnecting in 1 s…")],
        )
        self.assertEqual(len(self.server.attempts), 1)
        self.clock.advance(0.49)
        self.assertEqual(len(self.server.attempts), 1)
        self.clock.advance(0.01)
        self.assertEqual(len(self.server.attempts), 2)
        again = self.server.accept()
        again.protocol.dataReceived(b"NICK\r\n" + LANGUAGE_SET)
        self.assertEqual(again.transport.value(), b"/lang en\r\nAlicja\r\n")

    def test_backoff(self) -> None:
        """
        Failed attempts wait 1, 2, 4 ... up to 30 s, saying why; once back,
        the next loss starts at 0.5 s again.
        """
        self.registered().lose()
        self.view.take()
        waits = []
        for _ in range(8):
            self.clock.advance(
                self.clock.getDelayedCalls()[0].getTime() - self.clock.seconds()
            )
            self.server.refuse()
            [(_, message)] = self.reconnecting()
            self.assertTrue(
                message.startswith("Cannot connect: refused. Trying again in "), message
            )
            waits.append(
                self.clock.getDelayedCalls()[0].getTime() - self.clock.seconds()
            )
        self.assertEqual(waits, [1, 2, 4, 8, 16, 30, 30, 30])
        self.clock.advance(30)
        client = self.registered()
        self.clock.advance(Conversation.steadyAfter)
        client.lose()
        self.assertEqual(
            self.clock.getDelayedCalls()[0].getTime() - self.clock.seconds(), 0.5
        )

    def test_droppedOnceWelcomedKeepsWaiting(self) -> None:
        """
        A server that welcomes and then drops at once (a cluster's node
        that cannot vouch for nicknames) is tried again ever more slowly:
        the waits start over only once a connection has stayed up
        C{steadyAfter} seconds.
        """
        self.registered().lose()
        waits = []
        for _ in range(5):
            waits.append(self.clock.getDelayedCalls()[0].getTime() - self.clock.seconds())
            self.clock.advance(waits[-1])
            client = self.registered()
            self.clock.advance(1)
            client.lose()
        self.assertEqual(waits, [0.5, 1, 2, 4, 8])
        self.clock.advance(self.clock.getDelayedCalls()[0].getTime() - self.clock.seconds())
        client = self.registered()
        self.clock.advance(Conversation.steadyAfter - 0.01)
        client.lose()
        self.assertAlmostEqual(self.clock.getDelayedCalls()[0].getTime() - self.clock.seconds(), 30)
        self.clock.advance(30)
        client = self.registered()
        self.clock.advance(Conversation.steadyAfter)
        client.lose()
        self.assertEqual(self.clock.getDelayedCalls()[0].getTime() - self.clock.seconds(), 0.5)

    def test_closedBeforeWelcomeCountsAsFailed(self) -> None:
        """
        A server that takes the connection and closes it before the welcome
        does not reset the backoff.
        """
        self.registered().lose()
        for wait in (0.5, 1, 2):
            self.assertEqual(
                self.clock.getDelayedCalls()[0].getTime() - self.clock.seconds(), wait
            )
            self.clock.advance(wait)
            client = self.server.accept()
            client.protocol.dataReceived(b"! The server is full; try again later.\r\n")
            client.protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(
            self.clock.getDelayedCalls()[0].getTime() - self.clock.seconds(), 4
        )

    def test_exitDoesNotReconnect(self) -> None:
        """
        exit is a clean end, and nothing more is tried.
        """
        client = self.registered()
        self.conversation.submit("exit")
        self.assertEqual(client.transport.value().splitlines()[-1], b"/quit")
        client.lose()
        self.assertEqual(self.view.take(), [("connectionClosed", True)])
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.assertEqual(len(self.server.attempts), 1)

    def test_exitWhileWaiting(self) -> None:
        """
        exit while waiting to reconnect ends at once, cleanly.
        """
        self.registered().lose()
        self.view.take()
        self.conversation.submit("exit")
        self.assertEqual(self.view.take(), [("connectionClosed", True)])
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_leaveWhileConnecting(self) -> None:
        """
        Ctrl-D while an attempt is under way cancels it: a clean end.
        """
        self.registered().lose()
        self.clock.advance(0.5)
        self.view.take()
        protocol, attempt = self.server.attempts[-1]
        self.conversation.leave()
        self.assertEqual(self.view.take(), [("connectionClosed", True)])
        self.assertTrue(attempt.called)
        transport = StringTransport()
        protocol.makeConnection(transport)
        self.assertTrue(transport.disconnecting)

    def test_firstConnectionFails(self) -> None:
        """
        The first connection failing is the end, with its reason.
        """
        self.server.refuse()
        self.assertEqual(
            self.view.take(), [("connectionFailed", "Cannot connect: refused.")]
        )
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_lostBeforeEverRegistered(self) -> None:
        """
        Lost before any nickname was accepted: the end, unclean.
        """
        client = self.server.accept()
        client.protocol.dataReceived(b"NICK\r\n" + LANGUAGE_SET)
        client.protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.view.take()[-1], ("connectionClosed", False))
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_refusedForGood(self) -> None:
        """
        A wrong password after coming back is the end, unclean.
        """
        self.conversation.password = "sesame"
        self.registered().lose()
        self.clock.advance(0.5)
        client = self.server.accept()
        client.protocol.dataReceived(b"PASS\r\n! Wrong password. Goodbye!\r\n")
        client.protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(
            self.view.take()[-2:],
            [
                ("showLine", "error", "! Wrong password. Goodbye!"),
                ("connectionClosed", False),
            ],
        )
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_givesUp(self) -> None:
        """
        After an hour without getting back, it gives up.
        """
        self.registered().lose()
        while self.clock.getDelayedCalls():
            self.clock.advance(30)
            self.server.refuse()
        self.assertEqual(
            self.view.take()[-2:],
            [
                ("showLine", "local", "Still no connection after 60 min; giving up."),
                ("connectionClosed", False),
            ],
        )
        self.assertLess(len(self.server.attempts), 130)


class FakeServer(InMemoryServer):
    """
    The real server protocol with history in memory; restarting it keeps
    the store, as a server with the SQLite store does.
    """

    def __init__(self, clock: Clock, store: MemoryStore) -> None:
        self.hub = Hub(clock)
        self.history = History(store, clock, replay=20)
        self.history.start(self.hub)
        self.hub.delivery.observe(self.history)
        super().__init__(
            clock,
            NativeFactory(
                self.hub,
                limits=Limits(flood=None),
                outbox=Outbox(clock, gate=self.history),
                history=self.history,
            ),
        )


class RestartTests(SynchronousTestCase):
    """
    A scripted client through a server restart, all in memory.
    """

    def test_serverRestarts(self) -> None:
        """
        The client comes back by itself, shows the line said while it was
        away once and nothing it had shown, sends what was typed meanwhile,
        and exit still exits.
        """
        clock = Clock()
        store = MemoryStore()
        servers: list[FakeServer | None] = [FakeServer(clock, store)]

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
            clock,
            "en",
            "Alicja",
            describeFailure=lambda failure: connectFailureMessage(
                failure, "localhost", "5555", "en"
            ),
            random=lambda: 0.0,
        )
        view.client = conversation
        first = servers[0]
        assert first is not None
        bob = ChatClientProtocol(RecordingView(), clock, "en", "Bob")
        first.connect(bob)
        first.pump()
        bob.submit("before you came")
        first.pump()
        conversation.start()
        first.pump()
        bob.submit("seen")
        first.pump()
        first.stop()
        servers.append(None)
        clock.advance(0.5)
        view.dataReceived(b"typed while away\n")
        second = FakeServer(clock, store)
        servers.append(second)
        bob = ChatClientProtocol(RecordingView(), clock, "en", "Bob")
        second.connect(bob)
        second.pump()
        bob.submit("said while away")
        second.pump()
        clock.advance(1)
        second.pump()
        view.dataReceived(b"exit\n")
        second.pump()
        output = stdio.value().decode("utf-8")
        lines = output.splitlines()
        time = lines[2][:8]
        self.assertEqual(
            lines,
            [
                "Connected to server!",
                "Earlier in room lobby:",
                f"{time}Bob: before you came",
                "End of history.",
                "Bob: seen",
                "Connection lost; reconnecting in 1 s…",
                "Cannot connect to localhost port 5555: Connection refused. "
                "Trying again in 1 s…",
                "Connected to server!",
                "Said in room lobby while you were away:",
                f"{time}Bob: said while away",
                "End of history.",
                "Alicja: typed while away",
            ],
        )
        self.assertTrue(stdio.disconnecting)
        done = view.whenDone()
        view.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.successResultOf(done), 0)


class PlainViewReconnectingTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.view = PlainLineView()
        self.client = RecordingInput()
        self.view.client = self.client
        self.stdio = StringTransport()
        self.view.makeConnection(self.stdio)
        self.view.askNickname(None)
        self.view.dataReceived(b"Alicja\n")
        self.view.nicknameAccepted()
        self.client.submitted.clear()
        self.stdio.clear()

    def test_linesWaitUntilBack(self) -> None:
        """
        Lines read while reconnecting wait, and go out once back.
        """
        self.view.reconnecting("Connection lost; reconnecting in 1 s…")
        self.view.dataReceived(b"one\ntwo\n")
        self.assertEqual(self.client.submitted, [])
        self.assertEqual(self.stdio.producerState, "paused")
        self.view.nicknameAccepted()
        self.assertEqual(self.client.submitted, ["one", "two"])
        self.assertEqual(
            self.stdio.value(), "Connection lost; reconnecting in 1 s…\n".encode()
        )

    def test_exitAtOnce(self) -> None:
        """
        exit, when it is next, leaves without waiting to be back.
        """
        self.view.reconnecting("Connection lost; reconnecting in 1 s…")
        self.view.dataReceived(b"exit\n")
        self.assertEqual(self.client.submitted, ["exit"])

    def test_endOfInputAtOnce(self) -> None:
        """
        The end of input, with nothing waiting, leaves at once.
        """
        self.view.reconnecting("Connection lost; reconnecting in 1 s…")
        self.view.readConnectionLost()
        self.assertEqual(self.client.leaves, 1)

    def test_openPromptClosed(self) -> None:
        """
        A nickname prompt open when the connection goes is ended first.
        """
        self.view.askNickname("! The nickname Alicja is taken.")
        self.stdio.clear()
        self.view.reconnecting("Connection lost; reconnecting in 1 s…")
        self.assertEqual(
            self.stdio.value(), b"\nConnection lost; reconnecting in 1 s\xe2\x80\xa6\n"
        )


class TerminalViewReconnectingTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.view = TerminalView(width=60)
        self.client = RecordingInput()
        self.view.client = self.client
        self.terminal = terminalProtocol(self.view)
        self.stdio = StringTransport()
        self.terminal.makeConnection(self.stdio)
        self.view.askNickname(None)
        self.terminal.dataReceived(b"Alicja\r")
        self.view.nicknameAccepted()
        self.client.submitted.clear()

    def screen(self) -> Screen:
        screen = Screen(60)
        screen.feed(self.stdio.value())
        return screen

    def test_typedTextKept(self) -> None:
        """
        The message is printed above; what is typed stays on the input row
        and Enter does not send it until the client is back.
        """
        self.terminal.dataReceived(b"half")
        self.view.reconnecting("Connection lost; reconnecting in 1 s…")
        self.terminal.dataReceived(b" a line\r")
        self.assertEqual(self.client.submitted, [])
        screen = self.screen()
        self.assertEqual(
            screen.lines()[-2:],
            ["Connection lost; reconnecting in 1 s…", "half a line"],
        )
        self.view.nicknameAccepted()
        self.terminal.dataReceived(b"\r")
        self.assertEqual(self.client.submitted, ["half a line"])

    def test_exitAtOnce(self) -> None:
        """
        exit typed while reconnecting is passed on at once.
        """
        self.view.reconnecting("Connection lost; reconnecting in 1 s…")
        self.terminal.dataReceived(b"exit\r")
        self.assertEqual(self.client.submitted, ["exit"])


class PolishTests(SynchronousTestCase):
    def test_polish(self) -> None:
        """
        The client's own lines about coming back speak the user's language,
        and the server's Polish replay is understood.
        """
        clock = Clock()
        view = RecordingView()
        server = ServerAttempts()
        conversation = Conversation(
            view, server.connect, clock, "pl", "Alicja", random=lambda: 0.0
        )
        conversation.start()
        client = server.accept()
        client.protocol.dataReceived(
            "NICK\r\nWybrany język: polski (pl).\r\nPołączono z serwerem!\r\n".encode()
        )
        client.protocol.dataReceived(b"Bob: seen\r\n")
        client.protocol.connectionLost(Failure(ConnectionDone()))
        self.assertIn(
            ("reconnecting", "Utracono połączenie; ponowna próba za 1 s…"), view.take()
        )
        clock.advance(0.5)
        again = server.accept()
        again.protocol.dataReceived(
            "NICK\r\nWybrany język: polski (pl).\r\nPołączono z serwerem!\r\n".encode()
        )
        again.protocol.dataReceived(
            wireBytes(replayLines(said("Bob", "seen"), language="pl"))
        )
        self.assertEqual(
            view.shown()[-1],
            "Pod twoją nieobecność nikt nic nie powiedział w pokoju lobby.",
        )


class TopicTests(SynchronousTestCase):
    """
    A room's topic, shown on entering it, comes before its replay.
    """

    def test_topicBeforeReplay(self) -> None:
        """
        The topic is shown, and the replay after it is still the replay:
        remembered the first time, de-duplicated on coming back.
        """
        topic = wording.topicLine("lobby", "calm: no spoilers", translation("en"))
        client = Client()
        client.register([topic, *replayLines(said("Bob", "old"))])
        self.assertEqual(client.memory.transcript.tail("lobby"), ["Bob: old"])
        client.lose()
        again = client.next()
        again.register([topic, *replayLines(said("Bob", "old"))])
        self.assertEqual(
            again.view.shown(),
            [
                "Connected to server!",
                topic,
                "Nothing was said in room lobby while you were away.",
            ],
        )

    def test_passingThroughTopicNotShown(self) -> None:
        """
        On the way back to its room the client shows neither the first
        room's topic nor its replay, but its own room's topic.
        """
        t = translation("en")
        client = Client()
        client.register()
        client.protocol.submit("/join pub")
        client.receive(["You are now in room pub (1 member)."])
        client.lose()
        again = client.next()
        again.register(
            [wording.topicLine("lobby", "welcome all", t), *replayLines(said("Bob", "x"))]
        )
        again.receive(
            ["You are now in room pub (1 member).", wording.topicLine("pub", "beer", t)]
        )
        self.assertEqual(
            again.view.shown(),
            [
                "Connected to server!",
                "You are now in room pub (1 member).",
                "The topic of room pub: beer",
            ],
        )
