"""
Tests for L{chatsvc.net.connection}, the lifecycle every front-end's
sessions share (admission, the server password, flood control, output and
its bound, goodbye, abort, half-close), behind the TCP adapter of
L{chatsvc.net.tcp}; and for the pure token bucket of L{chatsvc.net.flood}.

A tiny recording session drives L{ServerConnection} on its own; the same
rules are then checked through both front-ends, native and IRC, on one hub.
"""

from twisted.internet.interfaces import IHalfCloseableProtocol, IProtocol
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.logger import globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer
from zope.interface.verify import verifyObject

from chatsvc import events
from chatsvc.hub import Hub
from chatsvc.interfaces import IObserver, IParticipant, IRenderer, ISession
from chatsvc.irc.protocol import IRCFactory
from chatsvc.native.protocol import NativeFactory
from chatsvc.net.connection import Limits, ServerConnection
from chatsvc.net.flood import FloodPolicy, TokenBucket
from chatsvc.net.output import Outbox
from chatsvc.net.tcp import LineServerFactory, LineServerProtocol

UNLIMITED = Limits(flood=None)


# Fakes


@implementer(IRenderer)
class NameRenderer:
    """
    Words every event as its type's name on a line of its own.
    """

    def render(self, event: events.Event) -> bytes:
        return f"{type(event).__name__}\r\n".encode("ascii")

    def renderOwn(self, event: events.Event) -> bytes:
        return f"own {type(event).__name__}\r\n".encode("ascii")


@implementer(IRenderer)
class FailingRenderer(NameRenderer):
    """
    Cannot word a chat line: delivering one to its participant raises.
    """

    def render(self, event: events.Event) -> bytes:
        if isinstance(event, events.Said):
            raise RuntimeError("no words for that")
        return super().render(event)


@implementer(ISession)
class RecordingSession:
    """
    A session that records what its connection tells it and answers every
    question with a line that names it.

    @ivar heard: the lines received, and markers for everything else, in
        order.
    """

    name = "recording"
    connection: ServerConnection | None = None

    def __init__(self, renderer: IRenderer | None = None) -> None:
        self.renderer = renderer if renderer is not None else NameRenderer()
        self.heard: list[object] = []

    def start(self, connection: ServerConnection) -> None:
        self.connection = connection
        self.heard.append("<start>")

    def lineReceived(self, text: str) -> None:
        self.heard.append(text)

    def lineTooLong(self) -> None:
        self.heard.append("<too long>")

    def undecodableLine(self, line: bytes) -> None:
        self.heard.append(("<undecodable>", line))

    def refusedLines(self, error, host: str) -> list[str]:
        return [f"refused {host}: {error.scope}"]

    def floodWarningLines(self, policy: FloodPolicy) -> list[str]:
        return [f"slow down: {policy.burst} at once"]

    def floodExceededLines(self) -> list[str]:
        return ["flooded"]

    def stop(self) -> None:
        self.heard.append("<stop>")


@implementer(IObserver)
class Observer:
    """
    Sees every event the hub publishes.
    """

    def __init__(self, hub: Hub) -> None:
        self.events: list[events.Event] = []
        hub.delivery.observe(self)

    def published(self, event: events.Event, audience) -> None:
        self.events.append(event)

    def reasons(self) -> list[str | None]:
        """
        The reasons of everyone who left, in order.
        """
        return [event.reason for event in self.events if isinstance(event, events.Left)]


class ClientTransport(StringTransport):
    """
    The server's end of one client connection: it counts writes and
    remembers what had been written when it was told to close, and whether
    it was aborted.
    """

    writes = 0
    writtenAtClose: bytes | None = None
    aborted = False

    def write(self, data: bytes) -> None:
        self.writes += 1
        super().write(data)

    def loseConnection(self) -> None:
        if self.writtenAtClose is None:
            self.writtenAtClose = self.value()
        super().loseConnection()

    def abortConnection(self) -> None:
        self.aborted = True
        super().abortConnection()


class Client:
    """
    One client connection, through a factory's protocol, as text lines.
    """

    def __init__(self, factory: LineServerFactory) -> None:
        self.factory = factory
        self.protocol: LineServerProtocol = factory.buildProtocol(None)
        self.connection: ServerConnection = self.protocol.connection
        self.session = self.connection.session
        self.transport = ClientTransport()
        self.protocol.makeConnection(self.transport)

    def send(self, data: bytes) -> None:
        self.protocol.dataReceived(data)

    def say(self, *lines: str) -> None:
        self.send("".join(line + "\r\n" for line in lines).encode("utf-8"))

    def lines(self) -> list[str]:
        """
        What arrived since the last call, once the reactor turn is over.
        """
        self.factory.clock.advance(0)
        data = self.transport.value()
        self.transport.clear()
        return data.decode("utf-8").splitlines()

    def lost(self) -> None:
        self.protocol.connectionLost(None)


def punctual(clock: Clock, until: float) -> None:
    """
    Run C{clock}'s calls until C{until}, each at exactly its time, as a
    reactor that is never late would.
    """
    while True:
        due = [call.getTime() for call in clock.getDelayedCalls()]
        if not due or min(due) > until:
            break
        clock.advance(max(0.0, min(due) - clock.seconds()))
    clock.advance(until - clock.seconds())


def logged() -> list[dict]:
    """
    Every log event from now on (the caller removes the observer).
    """
    seen: list[dict] = []
    globalLogPublisher.addObserver(seen.append)
    return seen


# The token bucket


class TokenBucketTests(SynchronousTestCase):
    def test_defaultPolicy(self) -> None:
        """
        By default ten lines pass at once, then five a second, and a hundred
        delayed lines are tolerated.
        """
        self.assertEqual(
            (FloodPolicy().burst, FloodPolicy().rate, FloodPolicy().limit), (10, 5.0, 100)
        )

    def test_burstAtOnce(self) -> None:
        """
        The burst passes at once; the next line finds no token.
        """
        bucket = TokenBucket(FloodPolicy(3, 2.0, 100))
        self.assertEqual([bucket.take(0.0) for _ in range(4)], [True, True, True, False])

    def test_thenTheRate(self) -> None:
        """
        After the burst a line waits for the next token, which comes at the
        rate; the line counts as delayed.
        """
        bucket = TokenBucket(FloodPolicy(3, 2.0, 100))
        for _ in range(3):
            bucket.take(0.0)
        self.assertFalse(bucket.take(0.0))
        self.assertEqual(bucket.delay(), 0.5)
        self.assertEqual(bucket.delayed, 1)
        self.assertTrue(bucket.take(0.5))
        self.assertFalse(bucket.take(0.5))
        self.assertEqual(bucket.delay(), 0.5)
        self.assertEqual(bucket.delayed, 2)

    def test_partialToken(self) -> None:
        """
        The delay is only what is missing of the next token.
        """
        bucket = TokenBucket(FloodPolicy(1, 4.0, 100))
        self.assertTrue(bucket.take(0.0))
        self.assertFalse(bucket.take(0.125))
        self.assertEqual(bucket.delay(), 0.125)

    def test_refillCappedAtTheBurst(self) -> None:
        """
        A client that pauses gets its burst back, never more.
        """
        bucket = TokenBucket(FloodPolicy(3, 2.0, 100))
        for _ in range(3):
            bucket.take(0.0)
        self.assertEqual([bucket.take(100.0) for _ in range(4)], [True, True, True, False])

    def test_slowingDownStartsAfresh(self) -> None:
        """
        Delayed lines are counted until the client slows down enough to have
        room for more than one line again.
        """
        bucket = TokenBucket(FloodPolicy(3, 2.0, 100))
        for _ in range(3):
            bucket.take(0.0)
        bucket.take(0.0)
        bucket.delay()
        bucket.take(0.5)
        self.assertEqual(bucket.delayed, 1)
        self.assertTrue(bucket.take(10.0))
        self.assertEqual(bucket.delayed, 0)

    # Fails: the refill is computed from float times, and after a few lines
    # the delay it gave falls short of a whole token by a rounding error
    # (at 0.8 s for 5 a second); see the report.
    def test_delayIsEnough(self) -> None:
        """
        A line that waits exactly the delay it was told finds its token, at
        the default rate, however long the flood.
        """
        bucket = TokenBucket(FloodPolicy(1, 5.0, 10**6))
        now = 0.0
        self.assertTrue(bucket.take(now))
        for line in range(100):
            self.assertFalse(bucket.take(now))
            now += bucket.delay()
            self.assertTrue(bucket.take(now), f"line {line} at {now}")

    def test_exceededPastTheLimit(self) -> None:
        """
        A client is over the limit once more than C{limit} of its lines were
        delayed in a row; exactly the limit is tolerated.
        """
        bucket = TokenBucket(FloodPolicy(1, 4.0, 5))
        now = 0.0
        bucket.take(now)
        for _ in range(5):
            self.assertFalse(bucket.take(now))
            now += bucket.delay()
            self.assertFalse(bucket.exceeded)
            bucket.take(now)
        self.assertFalse(bucket.take(now))
        bucket.delay()
        self.assertTrue(bucket.exceeded)


# ServerConnection with a recording session


class ConnectionTestCase(SynchronousTestCase):
    limits = UNLIMITED
    maxConnections = 100

    def setUp(self) -> None:
        self.clock = Clock()
        self.hub = Hub(self.clock, maxConnections=self.maxConnections)
        self.outbox = Outbox(self.clock)
        self.factory = self.factoryFor(RecordingSession)

    def factoryFor(self, newSession, limits: Limits | None = None) -> LineServerFactory:
        return LineServerFactory(
            self.hub,
            newSession,
            16,
            clock=self.clock,
            limits=limits if limits is not None else self.limits,
            outbox=self.outbox,
        )

    def connect(self, nickname: str | None = None, factory=None) -> Client:
        client = Client(factory if factory is not None else self.factory)
        if nickname is not None:
            self.hub.register(client.connection.member, nickname)
            client.lines()
        return client


class FakeTests(SynchronousTestCase):
    def test_recordingSessionIsASession(self) -> None:
        """
        The recording session and its renderers provide their interfaces, so
        the tests that use them are honest.
        """
        self.assertTrue(verifyObject(ISession, RecordingSession()))
        self.assertTrue(verifyObject(IRenderer, NameRenderer()))
        self.assertTrue(verifyObject(IRenderer, FailingRenderer()))

    def test_connectionIsAParticipant(self) -> None:
        """
        A server connection is the hub's participant, whatever its session.
        """
        client = Client(LineServerFactory(Hub(Clock()), RecordingSession, 16, limits=UNLIMITED))
        self.assertTrue(verifyObject(IParticipant, client.connection))
        self.assertIs(client.connection.member.participant, client.connection)

    def test_adapterIsAHalfCloseableProtocol(self) -> None:
        """
        The TCP adapter is a protocol that Twisted tells of the client's end
        of input (instead of closing at once), logged under its front-end.
        """
        client = Client(LineServerFactory(Hub(Clock()), RecordingSession, 16, limits=UNLIMITED))
        self.assertTrue(verifyObject(IProtocol, client.protocol))
        self.assertTrue(verifyObject(IHalfCloseableProtocol, client.protocol))
        self.assertEqual(client.protocol.logPrefix(), "recording")


class AdmissionTests(ConnectionTestCase):
    maxConnections = 1

    def test_admittedAndStarted(self) -> None:
        """
        An admitted connection is in the hub, named by its peer's address and
        the front-end's user name, and its session is started.
        """
        client = self.connect()
        member = client.connection.member
        self.assertEqual(self.hub.members, {member})
        self.assertEqual((member.host, member.username), ("192.168.1.1", "user"))
        self.assertEqual(client.session.heard, ["<start>"])
        self.assertIs(client.session.connection, client.connection)

    def test_refusedSaysTheSessionsWords(self) -> None:
        """
        A connection over the hub's limit is told what its session says, is
        closed, and is never started; what it sends is never read.
        """
        self.connect()
        refused = self.connect()
        self.assertEqual(refused.lines(), ["refused 192.168.1.1: total"])
        self.assertTrue(refused.transport.disconnecting)
        self.assertFalse(refused.transport.aborted)
        self.assertIsNone(refused.transport.producer)
        refused.send(b"hello\n")
        self.assertEqual(refused.session.heard, [])
        self.assertIsNone(refused.connection.member)
        self.assertEqual(len(self.hub.members), 1)

    def test_refusedConnectionLost(self) -> None:
        """
        When a refused connection is gone, the admitted ones stay.
        """
        self.connect()
        refused = self.connect()
        refused.lost()
        self.assertEqual(refused.session.heard, ["<stop>"])
        self.assertEqual(len(self.hub.members), 1)

    def test_refusedByAddress(self) -> None:
        """
        The session is told which limit refused the connection.
        """
        self.hub = Hub(self.clock, maxPerAddress=1)
        self.factory = self.factoryFor(RecordingSession)
        self.connect()
        self.assertEqual(self.connect().lines(), ["refused 192.168.1.1: address"])


class InputTests(ConnectionTestCase):
    def test_linesToTheSession(self) -> None:
        """
        Whole lines, decoded, reach the session; so do over-long and
        undecodable ones, as such.
        """
        client = self.connect()
        client.send(b"one\r\ntw")
        client.send(b"o\n" + b"x" * 40 + b"\n\xff\n")
        self.assertEqual(
            client.session.heard, ["<start>", "one", "two", "<too long>", ("<undecodable>", b"\xff")]
        )

    def test_connectionLost(self) -> None:
        """
        When the connection is lost the session is stopped, the hub hears of
        it, and nothing more is read or written.
        """
        client = self.connect("Ola")
        other = self.connect("Ewa")
        client.lines()
        observer = Observer(self.hub)
        client.connection.sendLines(["late"])
        client.lost()
        self.assertEqual(client.session.heard, ["<start>", "<stop>"])
        self.assertNotIn(client.connection.member, self.hub.members)
        self.assertEqual(observer.reasons(), [None])
        self.assertEqual(other.lines(), ["Left"])
        client.send(b"more\n")
        client.connection.sendLines(["later"])
        self.assertEqual(client.session.heard, ["<start>", "<stop>"])
        self.assertEqual(client.lines(), [])

    def test_useRenderer(self) -> None:
        """
        A session may change how its events are worded, for itself and its
        connection, from the next event on.
        """

        @implementer(IRenderer)
        class Shouting(NameRenderer):
            def render(self, event: events.Event) -> bytes:
                return super().render(event).upper()

        client = self.connect("Ola")
        other = self.connect("Ewa")
        client.lines()
        renderer = Shouting()
        client.connection.useRenderer(renderer)
        self.assertIs(client.session.renderer, renderer)
        self.assertIs(client.connection.renderer, renderer)
        self.hub.say(other.connection.member, "hi")
        self.assertEqual(client.lines(), ["SAID"])


class PasswordTests(ConnectionTestCase):
    def test_noPassword(self) -> None:
        """
        Without a server password none is required and any attempt passes.
        """
        connection = self.connect().connection
        self.assertFalse(connection.passwordRequired)
        self.assertTrue(connection.checkPassword("anything"))

    def test_rightAndWrong(self) -> None:
        """
        The attempt is compared with the server password as UTF-8, exactly.
        """
        limits = Limits(password="sezam otwórz".encode("utf-8"), flood=None)
        connection = self.connect(factory=self.factoryFor(RecordingSession, limits)).connection
        self.assertTrue(connection.passwordRequired)
        self.assertTrue(connection.checkPassword("sezam otwórz"))
        self.assertFalse(connection.checkPassword("sezam otworz"))
        self.assertFalse(connection.checkPassword("sezam otwórz "))
        self.assertFalse(connection.checkPassword(""))

    def test_wrongNeverLogged(self) -> None:
        """
        A wrong attempt is logged as such, without the attempt (it may be
        someone's real password).
        """
        limits = Limits(password=b"sesame", flood=None)
        connection = self.connect(factory=self.factoryFor(RecordingSession, limits)).connection
        seen = logged()
        self.addCleanup(globalLogPublisher.removeObserver, seen.append)
        connection.checkPassword("hunter2-secret")
        self.assertTrue(any("wrong password" in event.get("log_format", "") for event in seen))
        self.assertFalse(any("hunter2-secret" in repr(event) for event in seen))


class FloodTests(ConnectionTestCase):
    def flooded(self, policy: FloodPolicy, nickname: str | None = None) -> Client:
        factory = self.factoryFor(RecordingSession, Limits(flood=policy))
        return self.connect(nickname, factory)

    def test_burstThenRate(self) -> None:
        """
        A burst passes at once; later lines wait their turn at the rate, in
        order, none is lost, reading is paused meanwhile, and the sender is
        warned once.
        """
        client = self.flooded(FloodPolicy(3, 2.0, 100))
        client.send(b"".join(b"%d\n" % n for n in range(7)))
        self.assertEqual(client.session.heard, ["<start>", "0", "1", "2"])
        self.assertEqual(client.transport.producerState, "paused")
        self.assertEqual(client.lines(), ["slow down: 3 at once"])
        self.clock.advance(0.5)
        self.assertEqual(client.session.heard[1:], ["0", "1", "2", "3"])
        self.assertEqual(client.transport.producerState, "paused")
        self.clock.advance(1.5)
        self.assertEqual(client.session.heard[1:], [str(n) for n in range(7)])
        self.assertEqual(client.transport.producerState, "producing")
        self.assertEqual(client.lines(), [])
        self.assertFalse(client.transport.disconnecting)

    def test_heldWhileMoreArrives(self) -> None:
        """
        What arrives while a line is held waits behind it, in order.
        """
        client = self.flooded(FloodPolicy(1, 1.0, 100))
        client.send(b"a\nb\n")
        client.send(b"c\n")
        self.assertEqual(client.session.heard[1:], ["a"])
        self.clock.advance(1)
        self.clock.advance(1)
        self.assertEqual(client.session.heard[1:], ["a", "b", "c"])

    def test_slowingDownRefills(self) -> None:
        """
        A client that pauses gets its burst back, unwarned.
        """
        client = self.flooded(FloodPolicy(3, 2.0, 100))
        client.send(b"a\nb\nc\n")
        self.clock.advance(10)
        client.send(b"d\ne\nf\n")
        self.assertEqual(client.session.heard[1:], list("abcdef"))
        self.assertEqual(client.lines(), [])

    def test_persistentFloodIsCutOff(self) -> None:
        """
        Past the limit of delayed lines the flooder is told the session's
        words and closed, and the hub hears it left for "Excess Flood".
        """
        watcher = self.connect("Watcher")
        client = self.flooded(FloodPolicy(2, 10.0, 5), "Flooder")
        watcher.lines()
        observer = Observer(self.hub)
        client.send(b"x\n" * 50)
        for _ in range(20):
            self.clock.advance(0.1)
        self.assertTrue(client.transport.disconnecting)
        self.assertFalse(client.transport.aborted)
        self.assertEqual(client.lines()[-1], "flooded")
        self.assertEqual(observer.reasons(), ["Excess Flood"])
        self.assertNotIn(client.connection.member, self.hub.members)
        heard = client.session.heard[1:]
        self.assertEqual(set(heard), {"x"})
        self.assertLess(len(heard), 50)
        # Nothing more is read.
        self.clock.advance(10)
        client.send(b"more\n")
        self.assertEqual(client.session.heard[1:], heard)

    # Fails: a line released after its delay is handed on even when the
    # bucket found no token for it (TokenBucketTests.test_delayIsEnough), and
    # the next delays are then ~1e-17 s: on a punctual clock every line
    # after 0.8 s passes at once; see the report.
    def test_longFloodPacedAtTheRate(self) -> None:
        """
        However long a flood, its lines are handed on at the rate, on a
        clock that fires every call on time.
        """
        client = self.flooded(FloodPolicy(1, 5.0, 10**6), "Flooder")
        client.send(b"x\n" * 1000)
        punctual(self.clock, 10.0)
        self.assertLessEqual(len(client.session.heard[1:]), 1 + 5 * 10)
        self.assertGreaterEqual(len(client.session.heard[1:]), 5 * 10)

    def test_noPolicyNoLimit(self) -> None:
        """
        Without a flood policy every line passes at once.
        """
        client = self.connect()
        client.send(b"x\n" * 500)
        self.assertEqual(len(client.session.heard), 501)
        self.assertEqual(client.transport.producerState, "producing")

    def test_heldLineDroppedOnGoodbye(self) -> None:
        """
        A line still held when the connection says goodbye is never handed
        on, and reading is not resumed.
        """
        client = self.flooded(FloodPolicy(1, 1.0, 100))
        client.send(b"a\nb\n")
        client.connection.goodbye([])
        self.clock.advance(5)
        self.assertEqual(client.session.heard[1:], ["a"])
        self.assertEqual(client.transport.producerState, "paused")

    def test_heldLineDroppedOnLoss(self) -> None:
        """
        A line still held when the connection is lost is never handed on.
        """
        client = self.flooded(FloodPolicy(1, 1.0, 100))
        client.send(b"a\nb\n")
        client.lost()
        self.clock.advance(5)
        self.assertEqual(client.session.heard[1:], ["a", "<stop>"])


class SendQueueTests(ConnectionTestCase):
    limits = Limits(sendQueue=100, flood=None)

    def test_overflowAborts(self) -> None:
        """
        A peer that stops reading is aborted once more than the send queue
        waits for it; nothing more is read or written.
        """
        client = self.connect("Ola")
        client.transport.producer.pauseProducing()
        client.connection.sendLines(["x" * 60])
        client.connection.sendLines(["x" * 30])
        self.clock.advance(0)
        self.assertFalse(client.transport.aborted)
        client.connection.sendLines(["x" * 10])
        self.clock.advance(0)
        self.assertTrue(client.transport.aborted)
        written = client.transport.value()
        client.send(b"hello\n")
        client.connection.sendLines(["more"])
        self.clock.advance(0)
        self.assertEqual(client.session.heard, ["<start>"])
        self.assertEqual(client.transport.value(), written)

    def test_roomHearsWhenGone(self) -> None:
        """
        The hub hears of an overflowed connection once it is lost.
        """
        client = self.connect("Ola")
        other = self.connect("Ewa")
        client.transport.producer.pauseProducing()
        client.connection.sendLines(["x" * 200])
        self.clock.advance(0)
        self.assertTrue(client.transport.aborted)
        client.lost()
        self.assertEqual(other.lines(), ["Left"])


class GoodbyeTests(ConnectionTestCase):
    def test_flushedThenClosed(self) -> None:
        """
        A goodbye sends what was queued and its own lines before closing, and
        unregisters the writer so that the close can happen.
        """
        client = self.connect()
        client.connection.sendLines(["one"])
        client.connection.goodbye(["bye", "for now"])
        self.clock.advance(0)
        self.assertEqual(client.transport.writtenAtClose, b"one\r\nbye\r\nfor now\r\n")
        self.assertTrue(client.transport.disconnecting)
        self.assertFalse(client.transport.aborted)
        self.assertIsNone(client.transport.producer)

    def test_nothingReadAfter(self) -> None:
        """
        Nothing that arrives after a goodbye reaches the session, even in
        the same read.
        """

        class Quitting(RecordingSession):
            def lineReceived(self, text: str) -> None:
                super().lineReceived(text)
                if text == "quit":
                    self.connection.goodbye([])

        client = self.connect(factory=self.factoryFor(Quitting))
        client.send(b"quit\nafter\n")
        client.send(b"later\n")
        self.assertEqual(client.session.heard, ["<start>", "quit"])

    def test_nothingSaidAfter(self) -> None:
        """
        Lines the session says and notices the hub sends after a goodbye
        are not sent.
        """
        client = self.connect("Ola")
        client.connection.goodbye(["bye"])
        client.connection.sendLines(["late"])
        client.connection.deliver(events.Closing(id="1", time=0.0))
        self.clock.advance(0)
        self.assertEqual(client.transport.value(), b"bye\r\n")

    # Fails: ServerConnection.send is the Output's own send, which does not
    # check that the connection said goodbye; see the report.
    def test_roomChatNotSentAfter(self) -> None:
        """
        What is said in its room after a connection said goodbye (and before
        the hub hears it is gone) is not sent to it.
        """
        client = self.connect("Ola")
        other = self.connect("Ewa")
        client.lines()
        client.connection.goodbye(["bye"])
        self.hub.say(other.connection.member, "anyone there?")
        self.clock.advance(0)
        self.assertEqual(client.transport.value(), b"bye\r\n")

    def test_onlyOnce(self) -> None:
        """
        A second goodbye says nothing more.
        """
        client = self.connect()
        client.connection.goodbye(["bye"])
        client.connection.goodbye(["bye again"])
        self.clock.advance(0)
        self.assertEqual(client.transport.value(), b"bye\r\n")

    def test_hubHearsWhenGone(self) -> None:
        """
        After a goodbye alone the hub hears of the connection when it is
        gone; after leaving first, at once and with the reason.
        """
        observer = Observer(self.hub)
        quiet = self.connect("Ola")
        quiet.connection.goodbye([])
        self.assertIn(quiet.connection.member, self.hub.members)
        quiet.lost()
        self.assertNotIn(quiet.connection.member, self.hub.members)
        leaving = self.connect("Ewa")
        leaving.connection.leave("off to bed")
        leaving.connection.goodbye([])
        self.assertNotIn(leaving.connection.member, self.hub.members)
        leaving.lost()
        self.assertEqual(observer.reasons(), [None, "off to bed"])

    def test_closingNotice(self) -> None:
        """
        When the server closes, each connection is sent the notice and
        closed after it.
        """
        client = self.connect("Ola")
        self.hub.shutdown()
        self.clock.advance(0)
        self.assertEqual(client.transport.writtenAtClose, b"Closing\r\n")

    def test_timedOut(self) -> None:
        """
        A connection that never chose a nickname is sent the hub's notice and
        closed after it.
        """
        client = self.connect()
        self.clock.advance(60)
        self.assertEqual(client.transport.writtenAtClose, b"TimedOut\r\n")


class AbortTests(ConnectionTestCase):
    def test_closedAtOnce(self) -> None:
        """
        An abort closes the transport at once; nothing read after it reaches
        the session.
        """
        client = self.connect()
        client.connection.abort()
        self.assertTrue(client.transport.aborted)
        client.send(b"hello\n")
        self.assertEqual(client.session.heard, ["<start>"])

    def test_hubClosesAtOnce(self) -> None:
        """
        The hub's close (for a participant that failed, or that took too
        long to take its goodbye) is an abort.
        """
        client = self.connect()
        client.connection.close()
        self.assertTrue(client.transport.aborted)


class HalfCloseTests(ConnectionTestCase):
    def test_leavesAndClosesAfterTheReplies(self) -> None:
        """
        At the client's end of input the connection leaves the hub at once
        and closes after the replies to what it sent before.
        """

        class Answering(RecordingSession):
            def lineReceived(self, text: str) -> None:
                super().lineReceived(text)
                self.connection.sendLines([f"re: {text}"])

        client = self.connect(factory=self.factoryFor(Answering))
        self.hub.register(client.connection.member, "Ola")
        other = self.connect("Ewa")
        client.lines()
        client.send(b"one\ntwo\n")
        client.protocol.readConnectionLost()
        self.clock.advance(0)
        self.assertEqual(client.transport.writtenAtClose, b"re: one\r\nre: two\r\n")
        self.assertFalse(client.transport.aborted)
        self.assertNotIn(client.connection.member, self.hub.members)
        self.assertEqual(other.lines(), ["Left"])
        client.send(b"three\n")
        client.lost()
        self.assertEqual(client.session.heard, ["<start>", "one", "two", "<stop>"])

    def test_writeSideLost(self) -> None:
        """
        When the client can no longer be written to, the connection closes.
        """
        client = self.connect()
        client.protocol.writeConnectionLost()
        self.assertTrue(client.transport.disconnecting)
        self.assertIsNone(client.transport.producer)


class DeliveryFailureTests(ConnectionTestCase):
    def test_failingParticipantDropped(self) -> None:
        """
        A participant that raises while a line is delivered is closed and
        dropped; everyone else, on either front-end, still gets the line,
        then hears it left.
        """
        native = NativeFactory(self.hub, limits=UNLIMITED, outbox=self.outbox)
        irc = IRCFactory(self.hub, self.clock, limits=UNLIMITED, outbox=self.outbox)
        irc.startFactory()
        speaker = Client(native)
        speaker.say("Alicja")
        listener = Client(native)
        listener.say("Bob")
        failing = self.connect(factory=self.factoryFor(lambda: RecordingSession(FailingRenderer())))
        self.hub.register(failing.connection.member, "Carol")
        ircUser = Client(irc)
        ircUser.say("NICK Ola", "USER ola 0 * :Ola", "JOIN #lobby")
        for client in (speaker, listener, failing, ircUser):
            client.lines()
        speaker.say("hello all")
        self.assertTrue(failing.transport.aborted)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        # The failed member is dropped at the end of the turn.
        self.assertEqual(
            listener.lines(), ["Alicja: hello all", "Carol left the chat (Internal error)."]
        )
        self.assertEqual(
            ircUser.lines(),
            [
                ":Alicja!Alicja@192.168.1.1 PRIVMSG #lobby :hello all",
                ":Carol!user@192.168.1.1 QUIT :Quit: Internal error",
            ],
        )
        self.assertNotIn(failing.connection.member, self.hub.members)
        failing.lost()
        speaker.say("still here")
        self.assertEqual(listener.lines(), ["Alicja: still here"])
        self.assertEqual(self.flushLoggedErrors(), [])


class OutboxTests(ConnectionTestCase):
    def test_oncePerTurn(self) -> None:
        """
        With an outbox, everything a connection is given in one turn leaves
        at the end of it, in one write.
        """
        client = self.connect()
        client.transport.writes = 0
        client.connection.sendLines(["one"])
        client.connection.sendLines(["two", "three"])
        self.assertEqual(client.transport.value(), b"")
        self.clock.advance(0)
        self.assertEqual(client.transport.value(), b"one\r\ntwo\r\nthree\r\n")
        self.assertEqual(client.transport.writes, 1)

    def test_withoutAnOutboxAtOnce(self) -> None:
        """
        Without an outbox, output leaves as it is given.
        """
        factory = LineServerFactory(self.hub, RecordingSession, 16, limits=UNLIMITED)
        client = Client(factory)
        client.connection.sendLines(["one"])
        self.assertEqual(client.transport.value(), b"one\r\n")
        client.connection.sendLines(["two"])
        self.assertEqual(client.transport.writes, 2)


# The same rules through both front-ends


class NativeFrontEnd:
    """
    The native front-end, for the tests that every front-end passes.
    """

    def frontEnd(self, hub: Hub, limits: Limits, outbox: Outbox) -> LineServerFactory:
        return NativeFactory(hub, limits=limits, outbox=outbox)

    def register(self, client: Client, nickname: str) -> None:
        self.assertEqual(client.lines(), ["NICK"])
        client.say(nickname)
        self.assertEqual(client.lines(), ["Connected to server!"])

    def chat(self, text: str) -> str:
        return text

    def enterWithPassword(self, client: Client, attempt: str) -> None:
        self.assertEqual(client.lines(), ["PASS"])
        client.say(attempt)

    refusedWords = {
        "total": "! The server is full; try again later.",
        "address": "! Too many connections from your address (at most 1); try again later.",
    }
    wrongPasswordWords = "! Wrong password. Goodbye!"
    floodWarning = "! Slow down: 3 lines at once, then 2 a second; the rest wait their turn."
    floodExceeded = "! Excess flood. Goodbye!"
    question = "/rooms"
    answer = "1 room: lobby (2)"

    def quit(self, reason: str) -> str:
        return f"/quit {reason}"

    quitWords = None


class IRCFrontEnd:
    """
    The IRC front-end, for the tests that every front-end passes.
    """

    def frontEnd(self, hub: Hub, limits: Limits, outbox: Outbox) -> LineServerFactory:
        factory = IRCFactory(hub, hub.clock, limits=limits, outbox=outbox)
        factory.startFactory()
        return factory

    def register(self, client: Client, nickname: str) -> None:
        client.say(f"NICK {nickname}", f"USER {nickname.lower()} 0 * :{nickname}", "JOIN #lobby")
        self.assertEqual(client.lines()[0].split()[1], "001")

    def chat(self, text: str) -> str:
        return f"PRIVMSG #lobby :{text}"

    def enterWithPassword(self, client: Client, attempt: str) -> None:
        client.say(f"PASS {attempt}", "NICK Ola", "USER ola 0 * :Ola")

    refusedWords = {
        "total": "ERROR :Closing Link: 192.168.1.1 (Server full)",
        "address": "ERROR :Closing Link: 192.168.1.1 (Too many connections from your address)",
    }
    wrongPasswordWords = "ERROR :Closing Link: 192.168.1.1 (Bad password)"
    floodWarning = (
        ":chatsvc NOTICE Flooder :*** Slow down: 3 lines at once, then 2 a second; "
        "the rest wait their turn."
    )
    floodExceeded = "ERROR :Closing Link: 192.168.1.1 (Excess Flood)"
    question = "PING :tick"
    answer = ":chatsvc PONG chatsvc :tick"

    def quit(self, reason: str) -> str:
        return f"QUIT :{reason}"

    quitWords = "ERROR :Closing Link: 192.168.1.1 (Quit: bye all)"


class FrontEndTestsMixin:
    """
    What every front-end's sessions get from the shared connection, seen by
    a native user in the same room.
    """

    def setUp(self) -> None:
        self.clock = Clock()
        self.outbox = Outbox(self.clock)
        self.useHub(Hub(self.clock), UNLIMITED)

    def useHub(self, hub: Hub, limits: Limits) -> None:
        self.hub = hub
        self.native = NativeFactory(hub, limits=UNLIMITED, outbox=self.outbox)
        self.factory = self.frontEnd(hub, limits, self.outbox)

    def watcher(self) -> Client:
        watcher = Client(self.native)
        watcher.lines()
        watcher.say("Watcher")
        watcher.lines()
        return watcher

    def user(self, nickname: str) -> Client:
        client = Client(self.factory)
        self.register(client, nickname)
        return client

    # Admission

    def test_refusedSaysTheSessionsWords(self) -> None:
        """
        A connection over the server's limit is told so in the front-end's
        words and closed, without being asked for a nickname.
        """
        self.useHub(Hub(self.clock, maxConnections=1), UNLIMITED)
        Client(self.factory)
        refused = Client(self.factory)
        self.assertEqual(refused.lines(), [self.refusedWords["total"]])
        self.assertTrue(refused.transport.disconnecting)
        refused.say("Bob")
        self.assertEqual(refused.lines(), [])
        refused.lost()
        self.assertEqual(len(self.hub.members), 1)

    def test_refusedByAddress(self) -> None:
        """
        A connection over the per-address limit is told which limit it hit.
        """
        self.useHub(Hub(self.clock, maxPerAddress=1), UNLIMITED)
        Client(self.factory)
        refused = Client(self.factory)
        self.assertEqual(refused.lines(), [self.refusedWords["address"]])
        self.assertTrue(refused.transport.disconnecting)

    # The server password

    def test_wrongPassword(self) -> None:
        """
        A wrong server password is answered in the front-end's words and the
        connection closed, unregistered; the attempt is never logged.
        """
        self.useHub(self.hub, Limits(password="sezam otwórz".encode("utf-8"), flood=None))
        seen = logged()
        self.addCleanup(globalLogPublisher.removeObserver, seen.append)
        client = Client(self.factory)
        self.enterWithPassword(client, "guess-123-secret")
        self.assertEqual(client.lines()[-1], self.wrongPasswordWords)
        self.assertTrue(client.transport.disconnecting)
        self.assertEqual(self.hub.registeredCount(), 0)
        self.assertFalse(any("guess-123-secret" in repr(event) for event in seen))

    # Flood control

    def test_floodDelayedNotLost(self) -> None:
        """
        Lines beyond the burst are delayed, not lost: the room gets them in
        order, reading is paused meanwhile, and the sender is warned once.
        """
        self.useHub(self.hub, Limits(flood=FloodPolicy(3, 2.0, 100)))
        watcher = self.watcher()
        flooder = self.user("Flooder")
        # Registering took tokens too: wait for the whole burst.
        self.clock.advance(10)
        watcher.lines()
        flooder.lines()
        flooder.say(*[self.chat(str(n)) for n in range(7)])
        self.assertEqual(watcher.lines(), ["Flooder: 0", "Flooder: 1", "Flooder: 2"])
        self.assertEqual(flooder.transport.producerState, "paused")
        warned = [line for line in flooder.lines() if "Slow down" in line]
        self.assertEqual(warned, [self.floodWarning])
        self.clock.advance(0.5)
        self.assertEqual(watcher.lines(), ["Flooder: 3"])
        self.clock.advance(1.5)
        self.assertEqual(watcher.lines(), ["Flooder: 4", "Flooder: 5", "Flooder: 6"])
        self.assertEqual(flooder.transport.producerState, "producing")
        self.assertEqual([line for line in flooder.lines() if "Slow down" in line], [])
        self.assertFalse(flooder.transport.disconnecting)

    def test_floodCutOff(self) -> None:
        """
        A client that keeps flooding past the limit is told so and closed,
        and the room hears it left for "Excess Flood", whatever its
        front-end.
        """
        self.useHub(self.hub, Limits(flood=FloodPolicy(2, 10.0, 5)))
        watcher = self.watcher()
        flooder = self.user("Flooder")
        # Registering took tokens too (and may have waited): let it settle.
        self.clock.advance(10)
        watcher.lines()
        flooder.lines()
        observer = Observer(self.hub)
        flooder.say(*[self.chat("spam")] * 50)
        for _ in range(20):
            self.clock.advance(0.1)
        self.assertEqual(flooder.lines()[-1], self.floodExceeded)
        self.assertTrue(flooder.transport.disconnecting)
        heard = watcher.lines()
        self.assertEqual(heard[-1], "Flooder left the chat (Excess Flood).")
        self.assertEqual(set(heard[:-1]), {"Flooder: spam"})
        self.assertEqual(observer.reasons(), ["Excess Flood"])
        flooder.lost()
        self.assertEqual(watcher.lines(), [])

    # Output

    def test_outputOncePerTurn(self) -> None:
        """
        Lines said to the room in one turn reach a client in one write, at
        the end of the turn.
        """
        watcher = self.watcher()
        listener = self.user("Ola")
        watcher.lines()
        listener.transport.writes = 0
        watcher.send(b"one\ntwo\nthree\n")
        self.assertEqual(listener.transport.value(), b"")
        self.assertEqual(len(listener.lines()), 3)
        self.assertEqual(listener.transport.writes, 1)

    def test_stoppedReadingAborted(self) -> None:
        """
        A client that stops reading is aborted past the send queue; the room
        hears it left once it is gone.
        """
        self.useHub(self.hub, Limits(sendQueue=10_000, flood=None))
        watcher = self.watcher()
        sleeper = self.user("Sleeper")
        watcher.lines()
        sleeper.transport.producer.pauseProducing()
        for _ in range(100):
            watcher.say("x" * 200)
        self.clock.advance(0)
        self.assertTrue(sleeper.transport.aborted)
        self.assertLess(len(sleeper.transport.value()), 10_000 + 2 * 250)
        sleeper.lost()
        watcher.lines()
        watcher.say("after")
        self.assertEqual(watcher.lines(), ["Watcher: after"])
        self.assertNotIn(sleeper.connection.member, self.hub.members)

    # Closing

    def test_quitFlushesThenCloses(self) -> None:
        """
        A client that quits gets its last words before the close, the room
        hears its reason, and nothing it sent after is read.
        """
        watcher = self.watcher()
        client = self.user("Ola")
        watcher.lines()
        client.say(self.quit("bye all"), self.chat("after"))
        self.clock.advance(0)
        if self.quitWords is not None:
            self.assertEqual(client.transport.writtenAtClose.decode().splitlines(), [self.quitWords])
        self.assertTrue(client.transport.disconnecting)
        self.assertFalse(client.transport.aborted)
        client.lost()
        self.assertEqual(watcher.lines(), ["Ola left the chat (bye all)."])

    def test_halfClose(self) -> None:
        """
        At the client's end of input it leaves the room at once and the
        connection closes after the replies to what it sent before.
        """
        watcher = self.watcher()
        client = self.user("Ola")
        watcher.lines()
        client.say(self.chat("bye now"), self.question)
        client.protocol.readConnectionLost()
        self.assertEqual(watcher.lines(), ["Ola: bye now", "Ola left the chat."])
        self.assertEqual(client.transport.writtenAtClose.decode().splitlines()[-1], self.answer)
        self.assertTrue(client.transport.disconnecting)
        self.assertFalse(client.transport.aborted)
        client.lost()
        self.assertEqual(watcher.lines(), [])


class NativeFrontEndTests(NativeFrontEnd, FrontEndTestsMixin, SynchronousTestCase):
    pass


class IRCFrontEndTests(IRCFrontEnd, FrontEndTestsMixin, SynchronousTestCase):
    pass
