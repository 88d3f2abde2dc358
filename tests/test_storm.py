"""
Tests for L{chatsvc.storm}: one log line per event, a summary a second
during a storm.
"""

from twisted.internet.task import Clock
from twisted.logger import Logger, formatEvent, globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase

from chatsvc.hub import Hub
from chatsvc.storm import StormLog
from chatsvc.testing import RecordingParticipant


class StormLogTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.lines: list[str] = []
        self.clock = Clock()
        log = Logger(observer=lambda event: self.lines.append(formatEvent(event)))
        self.storm = StormLog(
            log, self.clock, "{who} registered", "{count} more registered: {who}", burst=3
        )

    def test_quietOneLineEach(self) -> None:
        for name in ("a", "b", "c"):
            self.storm(name)
            self.clock.advance(0.4)
        self.storm("d")
        self.assertEqual(self.lines, ["a registered", "b registered", "c registered", "d registered"])

    def test_stormGroupedAtTheEndOfTheSecond(self) -> None:
        """
        Past the burst, the rest of the second's events wait for one line at
        its end that names them all, in order.
        """
        for name in "abcdef":
            self.storm(name)
        self.clock.advance(0.5)
        self.storm("g")
        self.assertEqual(self.lines, ["a registered", "b registered", "c registered"])
        self.clock.advance(0.5)
        self.assertEqual(self.lines[3:], ["4 more registered: d, e, f, g"])
        self.storm("h")
        self.assertEqual(self.lines[4:], ["h registered"])

    def test_flushNow(self) -> None:
        """
        A flush logs what is held at once, and the timer goes with it.
        """
        for name in "abcde":
            self.storm(name)
        self.storm.flush()
        self.assertEqual(self.lines[3:], ["2 more registered: d, e"])
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.storm.flush()
        self.assertEqual(len(self.lines), 4)


class HubLogTests(SynchronousTestCase):
    """
    The hub logs arrivals and departures through storm logs, and lets
    nothing wait once everyone is gone.
    """

    def test_everyoneNamedWhenTheLastLeaves(self) -> None:
        lines: list[str] = []

        def observe(event) -> None:
            if event.get("log_namespace") == "chatsvc.hub.Hub":
                lines.append(formatEvent(event))

        globalLogPublisher.addObserver(observe)
        self.addCleanup(globalLogPublisher.removeObserver, observe)
        clock = Clock()
        hub = Hub(clock)
        members = []
        for n in range(25):
            member = hub.connect(RecordingParticipant(), username="native", host="10.0.0.1")
            hub.register(member, f"user{n}")
            members.append(member)
        self.assertEqual(len(lines), 20)
        self.assertEqual(lines[0], "user0 (native@10.0.0.1) registered")
        for member in members:
            hub.disconnect(member)
        self.assertIn(
            "5 more registered: " + ", ".join(f"user{n} (native@10.0.0.1)" for n in range(20, 25)),
            lines,
        )
        self.assertEqual(lines[-1], "5 more left: " + ", ".join(f"user{n}" for n in range(20, 25)))
        self.assertEqual(clock.getDelayedCalls(), [])
