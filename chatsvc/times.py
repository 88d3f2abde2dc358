"""
Event times: the time an event is stamped with where it is accepted.

History lists events by these times, and several nodes of a cluster stamp
them by several machines' clocks, which differ.  So that a reply is never
listed before the line it answers, a node follows a hybrid logical clock's
rule (Kulkarni et al., "Logical Physical Clocks", 2014): it never stamps an
event earlier than one it has already received from another node, plus
one L{STEP}.  What a node did after seeing an event is thus after it, by
times, whatever the clocks say.  Lines neither node had seen when it
stamped its own may still be listed in another order than the bus gave
them, by up to the clocks' difference (C{docs/cluster.rst}).
"""

from __future__ import annotations

from twisted.internet.interfaces import IReactorTime

# The least difference between two times that every reader keeps: the
# store keeps doubles, but IRCv3 server-time, CHATHISTORY timestamps and
# the page's Date are to the millisecond, so an event 1 ms after another
# is after it everywhere.
STEP = 0.001


class ServerClock:
    """
    Times for the events a hub accepts: C{clock}'s, but never earlier than
    a time this node already gave (the clock may be set back) nor than
    C{step} after one it has witnessed.

    Times of this node's own events may be equal: the store keeps rows of
    one time in the order they were recorded, which is the order this node
    accepted them.
    """

    def __init__(self, clock: IReactorTime, step: float = STEP) -> None:
        self._clock = clock
        self._step = step
        # The earliest time the next stamp may have.
        self._floor = float("-inf")

    def stamp(self) -> float:
        """
        The time of an event accepted now.
        """
        now = self._clock.seconds()
        if now < self._floor:
            return self._floor
        self._floor = now
        return now

    def witness(self, time: float) -> None:
        """
        An event stamped C{time} elsewhere has been received here: whatever
        this node stamps from now on comes after it.
        """
        after = time + self._step
        if after > self._floor:
            self._floor = after
