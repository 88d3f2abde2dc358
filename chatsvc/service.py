"""
The running server: listening front-ends around one hub, and a graceful stop.
"""

from __future__ import annotations

from twisted.application.service import MultiService
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime

from chatsvc.hub import Hub

DEFAULT_GRACE = 5.0


class ChatService(MultiService):
    """
    Holds the front-ends' listening services; stopping it stops them first.

    Then every connection hears that the server is closing and is closed
    after its output is flushed; whoever is still connected C{grace} seconds
    later is cut off, so a peer that never reads cannot hold up the exit.
    """

    def __init__(self, hub: Hub, clock: IReactorTime, grace: float = DEFAULT_GRACE) -> None:
        super().__init__()
        self.hub = hub
        self._clock = clock
        self._grace = grace

    def stopService(self) -> Deferred[None]:
        stopped = super().stopService()
        stopped.addCallback(lambda _: self._drain())
        return stopped

    def _drain(self) -> Deferred[None]:
        empty: Deferred[None] = Deferred()
        self.hub.shutdown()
        cutOff = self._clock.callLater(self._grace, self.hub.closeAll)

        def emptied() -> None:
            if cutOff.active():
                cutOff.cancel()
            empty.callback(None)

        self.hub.whenEmpty(emptied)
        return empty
