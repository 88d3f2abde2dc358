"""
The sliding window that counts password attempts.
"""

from __future__ import annotations

from itertools import accumulate

from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from chatsvc.attempts import _EPSILON, Attempts, Rate

gaps = st.lists(st.floats(0, 30, allow_nan=False), max_size=60)


def allowed(attempts: Attempts, times: list[float], key: str = "k") -> list[float]:
    """
    The times among C{times} at which an attempt was let through.
    """
    let = []
    for now in times:
        if attempts.wait(key, now) == 0:
            attempts.spend(key, now)
            let.append(now)
    return let


class AttemptsTests(SynchronousTestCase):
    @given(gaps, st.integers(1, 6), st.floats(1, 100))
    def test_neverMoreThanTheRate(self, steps, count, period) -> None:
        """
        However attempts come, no window of the period lets more than the
        rate's number through (a window's end known to within the
        rounding L{Attempts} forgives).
        """
        let = allowed(Attempts(Rate(count, period)), list(accumulate(steps)))
        for n, start in enumerate(let):
            inside = [t for t in let[n:] if t < start + period - _EPSILON]
            self.assertLessEqual(len(inside), count)

    @given(gaps, st.integers(1, 6), st.floats(1, 100))
    def test_waitIsEnough(self, steps, count, period) -> None:
        """
        Refused, an attempt made after the wait it was told is let through.
        """
        attempts = Attempts(Rate(count, period))
        now = 0.0
        for step in steps:
            now += step
            wait = attempts.wait("k", now)
            if wait > 0:
                now += wait
                self.assertEqual(attempts.wait("k", now), 0)
            attempts.spend("k", now)

    def test_keysApart(self) -> None:
        """
        One key's attempts do not count against another's.
        """
        attempts = Attempts(Rate(1, 60))
        attempts.spend("a", 0)
        self.assertEqual((attempts.wait("a", 10), attempts.wait("b", 10)), (50, 0))

    def test_boundedKeys(self) -> None:
        """
        Past its bound, the key least recently tried is forgotten first.
        """
        attempts = Attempts(Rate(1, 60), maxKeys=2)
        attempts.spend("a", 0)
        attempts.spend("b", 1)
        attempts.spend("a", 61)
        attempts.spend("c", 62)
        self.assertEqual([attempts.wait(key, 63) for key in "abc"], [58, 0, 59])
