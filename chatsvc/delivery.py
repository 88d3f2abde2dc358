"""
The one delivery path: every event the hub publishes passes through
L{Delivery.publish} exactly once.

First every observer sees it (history recording attaches here, and a bus to
other nodes), then it is fanned out to the local participants of its
audience.  The fan-out is the cost of a busy room, so it is kept to one
narrow loop: the event is rendered once per renderer (front-end and
language), and each recipient costs a dictionary look-up and an append to
its connection's output, which leaves once per reactor turn
(L{chatsvc.net.output}).  Measured figures: C{bench/RESULTS.md}.

A participant that raises is logged and dropped; the others still get the
event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable

from attrs import frozen
from twisted.logger import Logger
from twisted.python.failure import Failure

from chatsvc import events
from chatsvc.interfaces import IObserver

if TYPE_CHECKING:
    from chatsvc.hub import Member, Room


@frozen
class Audience:
    """
    Who an event is for: the members of C{rooms}, and C{members}, each once
    (C{members} names no one twice; one who is in a room too is told once).

    C{actor} caused the event; it is never among the others, and it gets
    its own rendering (L{chatsvc.interfaces.IRenderer.renderOwn}) if
    C{echo}.

    C{remote} marks an event another node of a cluster accepted, shown to
    observers here too: history keeps it for replay but does not store it
    again, metrics count only what this node accepted.
    """

    rooms: tuple[Room, ...] = ()
    members: tuple[Member, ...] = ()
    actor: Member | None = None
    echo: bool = False
    remote: bool = False


class Delivery:
    """
    Publishes events to observers and fans them out to local participants.

    @param dropped: called with each member whose participant raised, after
        the fan-out, so that the hub can disconnect it.
    """

    log = Logger()

    def __init__(self, dropped: Callable[[Member], None]) -> None:
        self._dropped = dropped
        self._observers: list[IObserver] = []

    def observe(self, observer: IObserver) -> None:
        """
        Show C{observer} every event published from now on.
        """
        self._observers.append(observer)

    def publish(self, event: events.Event, audience: Audience) -> None:
        """
        C{event} happened for C{audience}: record it, then tell everyone.
        """
        self.record(event, audience)
        self.fanOut(event, audience)

    def record(self, event: events.Event, audience: Audience) -> None:
        """
        Show C{event} to every observer, once, where it was accepted.

        Apart from L{fanOut} for a cluster (L{chatsvc.cluster.link}), which
        records an event when its node accepts it and tells the local
        participants only when it comes back from the bus, in the bus's
        order.
        """
        for observer in self._observers:
            observer.published(event, audience)

    def fanOut(self, event: events.Event, audience: Audience) -> None:
        """
        Tell C{audience}'s local participants of C{event}.
        """
        rooms = audience.rooms
        if not rooms:
            recipients: Iterable[Member] = audience.members
        elif len(rooms) == 1 and not audience.members:
            recipients = rooms[0].members
        else:
            union: dict[Member, None] = {}
            for room in rooms:
                union.update(room.members)
            union.update(dict.fromkeys(audience.members))
            recipients = union
        actor = audience.actor
        failed = self._fanOut(event, recipients, actor)
        if audience.echo and actor is not None and actor.connected:
            try:
                data = actor.participant.renderer.renderOwn(event)
                if data:
                    actor.participant.send(data)
            except Exception:
                failed.append((actor, Failure()))
        self._drop(failed, event)

    def direct(self, member: Member, event: events.Event) -> None:
        """
        Tell one connection something about itself (never recorded).
        """
        try:
            member.participant.deliver(event)
        except Exception:
            self._drop([(member, Failure())], event)

    def _fanOut(
        self, event: events.Event, recipients: Iterable[Member], actor: Member | None
    ) -> list[tuple[Member, Failure]]:
        rendered: dict[object, bytes] = {}
        failed: list[tuple[Member, Failure]] = []
        # Recipients of one renderer mostly come together: look it up only
        # when it changes.
        last = data = None
        for member in recipients:
            if member is actor:
                continue
            try:
                participant = member.participant
                renderer = participant.renderer
                if renderer is not last:
                    data = rendered.get(renderer)
                    if data is None:
                        data = rendered[renderer] = renderer.render(event)
                    last = renderer
                if data:
                    participant.send(data)
            except Exception:
                failed.append((member, Failure()))
        return failed

    def _drop(self, failed: list[tuple[Member, Failure]], event: events.Event) -> None:
        for member, failure in failed:
            self.log.failure(
                "delivering {event} to {member} failed; dropping it",
                failure,
                event=type(event).__name__,
                member=member.nickname or member.host,
            )
            self._dropped(member)
