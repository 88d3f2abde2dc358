"""
Tests for L{chatsvc.times}: the times events are stamped with.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from chatsvc.times import STEP, ServerClock

times = st.floats(min_value=0, max_value=2e9, allow_nan=False)
# What may happen between stamps: the clock reads another time (set back,
# too), or an event stamped elsewhere is received.
steps = st.lists(
    st.one_of(
        st.tuples(st.just("clock"), times),
        st.tuples(st.just("witness"), times),
        st.tuples(st.just("stamp"), st.just(0.0)),
    )
)


class ServerClockTests(SynchronousTestCase):
    def test_clockTime(self) -> None:
        """
        Alone, with a clock that only goes forward, an event's time is the
        clock's.
        """
        clock = Clock()
        stamps = ServerClock(clock)
        clock.advance(12.5)
        self.assertEqual(stamps.stamp(), 12.5)
        self.assertEqual(stamps.stamp(), 12.5)
        clock.advance(1)
        self.assertEqual(stamps.stamp(), 13.5)

    def test_afterWitnessed(self) -> None:
        """
        After an event from a clock 5 s ahead, times are one step after it
        until this clock catches up.
        """
        clock = Clock()
        clock.advance(100)
        stamps = ServerClock(clock)
        stamps.witness(105)
        self.assertEqual(stamps.stamp(), 105 + STEP)
        clock.advance(6)
        self.assertEqual(stamps.stamp(), 106)

    def test_clockSetBack(self) -> None:
        """
        A clock set back does not take times back with it.
        """
        clock = Clock()
        clock.advance(100)
        stamps = ServerClock(clock)
        self.assertEqual(stamps.stamp(), 100)
        clock.rightNow = 40
        self.assertEqual(stamps.stamp(), 100)

    @given(steps)
    def test_neverBackwardNorBeforeWitnessed(self, happened: list[tuple[str, float]]) -> None:
        """
        Whatever the clock reads and whatever is witnessed, times never go
        backward, never precede the clock, and each is at least a step
        after every time witnessed before it.
        """
        clock = Clock()
        stamps = ServerClock(clock)
        stamped: list[float] = []
        witnessed = float("-inf")
        for what, time in happened:
            if what == "clock":
                clock.rightNow = time
            elif what == "witness":
                stamps.witness(time)
                witnessed = max(witnessed, time)
            else:
                stamp = stamps.stamp()
                self.assertGreaterEqual(stamp, clock.seconds())
                self.assertGreaterEqual(stamp, witnessed + STEP)
                if stamped:
                    self.assertGreaterEqual(stamp, stamped[-1])
                stamped.append(stamp)
