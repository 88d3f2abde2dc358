"""
Flood control as a pure token bucket: how fast a client may send.
"""

from __future__ import annotations

from attrs import frozen


@frozen
class FloodPolicy:
    """
    How fast a client may send: C{burst} lines at once, then C{rate} lines a
    second.  Lines beyond that wait their turn (nothing is lost, and the
    connection is not read meanwhile, so the flood backs up into TCP); a
    client that has had more than C{limit} lines delayed without ever
    slowing down is disconnected.
    """

    burst: int = 10
    rate: float = 5.0
    limit: int = 100


_EPSILON = 1e-9


class TokenBucket:
    """
    One client's allowance under a L{FloodPolicy}, by the times it is told.

    @ivar delayed: lines delayed since the client last slowed down enough
        to have room for more than one line again.
    """

    __slots__ = ("policy", "_tokens", "_filled", "delayed")

    def __init__(self, policy: FloodPolicy) -> None:
        self.policy = policy
        self._tokens = float(policy.burst)
        self._filled: float | None = None
        self.delayed = 0

    def take(self, now: float) -> bool:
        """
        Take a token for one line at time C{now} if there is one.
        """
        policy = self.policy
        if self._filled is not None:
            self._tokens = min(
                float(policy.burst), self._tokens + (now - self._filled) * policy.rate
            )
        self._filled = now
        # Waiting exactly the time delay() gave must be enough, whatever
        # floating point makes of the refill.
        if self._tokens >= 1 - _EPSILON:
            self._tokens = max(0.0, self._tokens - 1)
            if self._tokens >= 1:
                # Slowed down enough to have room again: a new episode.
                self.delayed = 0
            return True
        return False

    def delay(self) -> float:
        """
        Seconds until the next token, after a L{take} that found none; the
        line counts as delayed.
        """
        self.delayed += 1
        return (1 - self._tokens) / self.policy.rate

    @property
    def exceeded(self) -> bool:
        """
        Whether the client kept flooding past the policy's limit.
        """
        return self.delayed > self.policy.limit
