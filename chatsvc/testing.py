"""
Test doubles for code built on the hub, shipped so that front-ends and
plugins outside this package can test against the same fakes.
"""

from __future__ import annotations

from zope.interface import implementer

from chatsvc import events
from chatsvc.interfaces import IParticipant


@implementer(IParticipant)
class RecordingParticipant:
    """
    A participant that remembers what it was told.

    @ivar events: every event delivered, in order.
    @ivar closed: whether the hub asked it to close.
    """

    def __init__(self) -> None:
        self.events: list[events.Event] = []
        self.closed = False

    def deliver(self, event: events.Event) -> None:
        self.events.append(event)

    def close(self) -> None:
        self.closed = True

    def take(self) -> list[events.Event]:
        """
        The events delivered since the last call, forgetting them.
        """
        taken, self.events = self.events, []
        return taken
