"""
How long to wait before trying again: exponential backoff with jitter.

Pure functions; the randomness is passed in, so tests choose it.
"""

from __future__ import annotations

from typing import Callable

INITIAL_DELAY = 0.5
MAX_DELAY = 30.0
# Each wait is shortened by up to this fraction, at random, so that clients
# that lost the same server do not all come back in the same instant.
JITTER = 0.25


def backoff(
    attempt: int,
    random: Callable[[], float],
    initial: float = INITIAL_DELAY,
    maximum: float = MAX_DELAY,
    jitter: float = JITTER,
) -> float:
    """
    Seconds to wait before attempt C{attempt + 1} after C{attempt} failures
    in a row (0 for the first wait): C{initial} doubling up to C{maximum},
    less a random part of up to C{jitter} of it.  Never more than
    C{maximum}.

    @param random: a number in [0, 1), such as L{random.random}.
    """
    delay = min(maximum, initial * 2 ** min(attempt, 64))
    return delay * (1 - jitter * random())


def wholeSeconds(delay: float) -> int:
    """
    A wait as the user is told it: in whole seconds, at least one.
    """
    return max(1, round(delay))
