"""
How often someone may try a password: a sliding window per key, pure (the
caller tells the time), so it is tested without a reactor.

A window rather than a token bucket: "at most 5 in any minute" holds
exactly, where a bucket lets a burst and its refill through together.
"""

from __future__ import annotations

from collections import deque

from attrs import frozen

# Keys (accounts, addresses) remembered at most; past it the one least
# recently tried is forgotten, so guessing at random names cannot grow it.
MAX_KEYS = 100_000

# Waiting exactly the time wait() gave must be enough, whatever floating
# point makes of the subtraction and the addition.
_EPSILON = 1e-9


@frozen
class Rate:
    """
    At most C{attempts} in any C{period} seconds.
    """

    attempts: int
    period: float


class Attempts:
    """
    The times of the last attempts of each key, at most C{rate.attempts}.
    """

    def __init__(self, rate: Rate, maxKeys: int = MAX_KEYS) -> None:
        self.rate = rate
        self._maxKeys = maxKeys
        self._times: dict[str, deque[float]] = {}

    def wait(self, key: str, now: float) -> float:
        """
        Seconds from C{now} until C{key} may try again; C{0.0}: at once.
        """
        times = self._times.get(key)
        if times is None or len(times) < self.rate.attempts:
            return 0.0
        remaining = times[0] + self.rate.period - now
        return remaining if remaining > _EPSILON else 0.0

    def spend(self, key: str, now: float) -> None:
        """
        C{key} tries at C{now}, which L{wait} allowed.
        """
        times = self._times.pop(key, None)
        if times is None:
            times = deque(maxlen=self.rate.attempts)
            if len(self._times) >= self._maxKeys:
                del self._times[next(iter(self._times))]
        # Re-inserted: the dictionary's order is the order of trying.
        self._times[key] = times
        times.append(now)
