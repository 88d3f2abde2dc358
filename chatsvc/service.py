"""
The running server: listening front-ends around one hub, and a graceful stop.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Sequence

from twisted.application.service import MultiService, Service
from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IReactorCore, IReactorTime
from twisted.internet.task import deferLater
from twisted.logger import Logger

from chatsvc.cluster.link import ClusterLink
from chatsvc.history import History
from chatsvc.hub import Hub

DEFAULT_GRACE = 5.0
DEFAULT_RETRY = 5.0


class ChatService(MultiService):
    """
    Holds the front-ends' listening services and the history.

    Starting opens the history store and loads what it remembers (topics,
    the rooms' recent lines) before the front-ends listen, so the first
    client already sees them.  Then C{loaders} (accounts, registered rooms)
    run.  Each step is retried every C{retry} seconds until it succeeds:
    nobody may connect while registered nicknames and rooms are unknown,
    since anyone could take them, and a store that cannot be reached at
    start (PostgreSQL not up yet) is waited for, history included, rather
    than leaving the node without its topics, replay and expiry for the
    rest of its run.  A C{cluster} (the link to other nodes, with its bus)
    starts then, before anyone can connect, so that every nickname is
    claimed across nodes.  Stopping stops the front-ends first; then
    every connection hears that the server is closing and is closed after
    its output is flushed; whoever is still connected C{grace} seconds later
    is cut off, so a peer that never reads cannot hold up the exit; then the
    cluster link stops, once the other nodes have heard everyone leave; last,
    what history holds is committed and the store closed.
    """

    log = Logger()

    def __init__(
        self,
        hub: Hub,
        clock: IReactorTime,
        grace: float = DEFAULT_GRACE,
        history: History | None = None,
        loaders: Sequence[Callable[[], Deferred[None]]] = (),
        retry: float = DEFAULT_RETRY,
        cluster: ClusterLink | None = None,
    ) -> None:
        super().__init__()
        self.hub = hub
        self.history = history
        self.cluster = cluster
        self._clock = clock
        self._grace = grace
        self._loaders = loaders
        self._retry = retry

    def privilegedStartService(self) -> None:
        # The front-ends listen once the history is loaded (startService).
        Service.privilegedStartService(self)

    def startService(self) -> None:
        Service.startService(self)
        loaders = list(self._loaders)
        if self.history is not None:
            loaders.insert(0, lambda: self.history.start(self.hub))

        def join(_: None) -> Deferred[None] | None:
            if self.cluster is None:
                return None
            self.cluster.startService()
            return self.cluster.whenReady()

        def listen(_: None) -> None:
            for child in self:
                child.privilegedStartService()
                child.startService()

        self._load(loaders).addCallback(join).addCallback(listen)

    def _load(self, loaders: list[Callable[[], Deferred[None]]]) -> Deferred[None]:
        """
        Run C{loaders} in turn, each again after C{retry} seconds while it
        fails (and the service runs).
        """
        if not loaders or not self.running:
            return succeed(None)

        def failed(failure) -> Deferred[None]:
            self.log.error(
                "cannot load what the store keeps ({reason}); nobody may connect until"
                " it can be read: trying again in {retry} seconds",
                reason=getattr(failure.value, "reason", failure.getErrorMessage()),
                retry=self._retry,
            )
            return deferLater(self._clock, self._retry, lambda: None).addCallback(
                lambda _: self._load(loaders)
            )

        attempt = loaders[0]()
        attempt.addCallbacks(lambda _: self._load(loaders[1:]), failed)
        return attempt

    def stopService(self) -> Deferred[None]:
        stopped = super().stopService()
        stopped.addCallback(lambda _: self._drain())
        if self.cluster is not None and self.cluster.running:
            cluster = self.cluster
            stopped.addCallback(lambda _: cluster.stopService())
        if self.history is not None:
            stopped.addCallback(lambda _: self.history.stop())
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


class StopOnSignals(Service):
    """
    Make SIGINT and SIGTERM a graceful stop that exits with status 0.

    The reactor's own handlers stop it too, but afterwards twistd sends the
    signal to itself again so that the process dies "killed by SIGTERM".
    For a server whose stop is a planned, clean goodbye to every client that
    status is a lie; these handlers stop the reactor without it.  They are
    installed once the reactor runs, since it installs its own on start.
    """

    log = Logger()
    signals = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, reactor: IReactorCore) -> None:
        self._reactor = reactor

    def startService(self) -> None:
        super().startService()
        self._reactor.callWhenRunning(self._install)

    def _install(self) -> None:
        for number in self.signals:
            signal.signal(number, self._received)

    def _received(self, number: int, frame: object) -> None:
        self._reactor.callFromThread(self._stop, signal.Signals(number).name)

    def _stop(self, name: str) -> None:
        if self._reactor.running and self.running:
            self.log.info("{signal} received, shutting down", signal=name)
            self._reactor.stop()
