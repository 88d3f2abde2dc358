"""
History: every published event that history keeps goes to the store, and
nothing recorded reaches anyone before the store has committed it.

L{History} is an observer on the one delivery path
(L{chatsvc.delivery.Delivery}): it turns each event into rows and collects
them into a batch; at the end of the reactor turn the batch is committed in
one transaction (group commit), and while it is, the next turns' rows
collect in the next batch.  The outbox (L{chatsvc.net.output.Outbox}) asks
it, as its gate, whether what it is about to send is durable, and holds
the turn's output until it is: so a line is delivered only after it is
written, and a server killed with SIGKILL and restarted has every line any
client saw.

A store that fails (a full disk, a file locked by another process) does not
stop the chat: history says so once in the log, lets output go without
waiting, keeps what it could not save (up to a bound) and tries again every
few seconds; when the store takes it, saving resumes.

It also keeps the last lines of every room in memory, for the replay a
client is shown on joining, and the rooms' topics, which the store keeps
across restarts.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from attrs import define, field
from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from zope.interface import implementer

from chatsvc import events
from chatsvc.delivery import Audience
from chatsvc.interfaces import IObserver, IStore
from chatsvc.names import nameKey
from chatsvc.store.rows import LINES, Mark, Row, fromRow, roomTarget, toRows

if TYPE_CHECKING:
    from chatsvc.metrics import Metrics

DEFAULT_REPLAY = 20
DEFAULT_HISTORY_DAYS = 30.0
DEFAULT_PER_ROOM = 10_000
# The most a client may ask for at once (/history N, CHATHISTORY).
MAX_FETCH = 200
# Rows kept for a store that is failing, to save when it is back.
MAX_BACKLOG = 100_000
# Rooms whose recent lines are kept in memory for replay.
MAX_RECENT_ROOMS = 10_000
RETRY_INTERVAL = 5.0
# Bytes of rows waiting behind a commit under way past which connections
# are not read until it is done: backpressure, so that neither the batch
# nor the output held for it grows without bound when the disk is slow.
CONGESTION_BYTES = 256 * 1024
EXPIRY_INTERVAL = 3600.0


@define
class _Batch:
    rows: list[Row] = field(factory=list)
    waiters: list[Deferred[None]] = field(factory=list)
    size: int = 0


@implementer(IObserver)
class History:
    """
    Records published events in C{store} and gates output on it.

    @param replay: lines of a room shown to whoever joins it (0: none).
    @param keepDays: days history is kept.
    @param perRoom: rows kept per room or private conversation at most.
    @param metrics: told how long each commit took and of every read or
        write the store failed, if given.
    @ivar failing: whether the store is failing now.
    """

    log = Logger()

    def __init__(
        self,
        store: IStore,
        clock: IReactorTime,
        replay: int = DEFAULT_REPLAY,
        keepDays: float = DEFAULT_HISTORY_DAYS,
        perRoom: int = DEFAULT_PER_ROOM,
        metrics: Metrics | None = None,
    ) -> None:
        self.store = store
        self.replay = replay
        self._clock = clock
        self._metrics = metrics
        self._keepDays = keepDays
        self._perRoom = perRoom
        self._open: _Batch | None = None
        self._inflight: _Batch | None = None
        self._call = None
        self._backlog: list[Row] = []
        self._dropped = 0
        self.failing = False
        self._hub = None
        self._recent: dict[str, deque[events.Event]] = {}
        self._expiry: LoopingCall | None = None

    # Starting and stopping

    def start(self, hub) -> Deferred[None]:
        """
        Open the store, give C{hub} the topics it remembers and fill the
        rooms' recent lines; then expire old history every hour.
        """

        self._hub = hub

        def loaded(topics: dict[str, tuple[str, str]]) -> Deferred[None]:
            hub.rememberTopics({key: topic for key, (name, topic) in topics.items()})
            return self._fillRecent(topics)

        def started(_: None) -> None:
            self._expiry = LoopingCall(self.expire)
            self._expiry.clock = self._clock
            self._expiry.start(EXPIRY_INTERVAL, now=True).addErrback(
                lambda failure: self.log.failure("expiring history failed", failure)
            )

        return self._counted(
            self.store.open().addCallback(lambda _: self.store.topics()).addCallback(loaded),
            "read",
        ).addCallback(started)

    def _fillRecent(self, topics: dict[str, tuple[str, str]]) -> Deferred[None]:
        if not self.replay:
            return succeed(None)
        # Enough rows that joins and leaves between them still leave the
        # last lines said.
        return self.store.latest(self.replay * 5).addCallback(self._remember)

    def _remember(self, found: dict[str, list[Row]]) -> None:
        for target, rows in found.items():
            for row in rows:
                if row.kind in LINES:
                    self._recentOf(target).append(fromRow(row))

    def stop(self) -> Deferred[None]:
        """
        Commit what is waiting, then close the store.
        """
        if self._expiry is not None and self._expiry.running:
            self._expiry.stop()
        if self._call is not None and self._call.active():
            self._call.cancel()
            self._call = None
        if self._open is not None and self._inflight is None:
            self._commit()
        waiting = self.whenDurable()
        return (waiting or succeed(None)).addCallback(lambda _: self.store.close())

    def expire(self) -> Deferred[int]:
        """
        Delete history older than the days it is kept and beyond the cap per
        room: a periodic job, never on the path of a message.
        """
        olderThan = self._clock.seconds() - self._keepDays * 86400
        return self._counted(self.store.expire(olderThan, self._perRoom), "write")

    # IObserver

    def published(self, event: events.Event, audience: Audience) -> None:
        rows = toRows(event, tuple(room.name for room in audience.rooms))
        if not rows:
            return
        if self.replay and type(event) in (events.Said, events.Acted):
            self._recentOf(rows[0].target).append(event)
        if audience.remote:
            # Stored by the node that accepted it.
            return
        if isinstance(event, events.TopicChanged):
            self._counted(
                self.store.saveTopic(nameKey(event.room), event.room, event.topic), "write"
            ).addErrback(self._storeFailed)
        if self._open is None:
            self._open = _Batch()
            self._schedule()
        self._open.rows.extend(rows)
        # Roughly what the rows will take, without encoding them here.
        self._open.size += len(rows) * (len(getattr(event, "text", "")) + 100)

    # The gate

    def whenDurable(self) -> Deferred[None] | None:
        """
        C{None} if everything recorded so far is committed (or the store
        does not keep anything, or is failing); else a Deferred that fires
        once it is.
        """
        if self.failing or not self.store.durable:
            return None
        batch = self._open or self._inflight
        if batch is None:
            return None
        waiter: Deferred[None] = Deferred()
        batch.waiters.append(waiter)
        return waiter

    @property
    def congested(self) -> bool:
        """
        Whether so much waits behind the commit under way that connections
        should not be read until it is done (L{whenCaughtUp}).
        """
        return (
            self._inflight is not None
            and self._open is not None
            and self._open.size >= CONGESTION_BYTES
            and self.store.durable
            and not self.failing
        )

    def whenCaughtUp(self) -> Deferred[None]:
        """
        Fires when the commit under way is done (at once if there is none).
        """
        if self._inflight is None:
            return succeed(None)
        waiter: Deferred[None] = Deferred()
        self._inflight.waiters.append(waiter)
        return waiter

    # Recent lines

    def recent(self, room: str) -> list[events.Event]:
        """
        The last lines said in C{room}, oldest first, at most C{replay}.
        """
        return list(self._recent.get(roomTarget(room), ()))

    def fetch(self, target: str, limit: int, before: float | None = None) -> Deferred:
        """
        Up to C{limit} (at most L{MAX_FETCH}) events of C{target}, oldest
        first, from the store.
        """
        limit = max(0, min(limit, MAX_FETCH))
        return self._afterWrites(self.store.history, target, limit, before=before).addCallback(
            lambda rows: [fromRow(row) for row in rows]
        )

    def find(self, target: str, id: str) -> Deferred:
        """
        The event of C{target} whose id is C{id}, or C{None}.
        """
        return self._afterWrites(self.store.find, target, id).addCallback(
            lambda row: None if row is None else fromRow(row)
        )

    def between(
        self,
        target: str,
        limit: int,
        after: Mark | None = None,
        before: Mark | None = None,
        newest: bool = True,
        kinds: tuple[str, ...] | None = None,
    ) -> Deferred:
        """
        Up to C{limit} (at most L{MAX_FETCH}) events of C{target} strictly
        between two places, oldest first: the newest such if C{newest},
        else the oldest (L{IStore.between}).
        """
        limit = max(0, min(limit, MAX_FETCH))
        return self._afterWrites(
            self.store.between, target, limit, after, before, newest, kinds
        ).addCallback(lambda rows: [fromRow(row) for row in rows])

    def around(
        self, target: str, mark: Mark, limit: int, kinds: tuple[str, ...] | None = None
    ) -> Deferred:
        """
        Up to C{limit} (at most L{MAX_FETCH}) events of C{target} around
        C{mark}, oldest first: half of them before it, then the rest from
        it on (the row it names included, if of C{kinds}).
        """
        limit = max(0, min(limit, MAX_FETCH))

        def rest(before: list[Row]) -> Deferred:
            left = limit - len(before)
            if mark.id is None:
                return self.store.between(target, left, after=mark, newest=False, kinds=kinds)
            return self.store.find(target, mark.id).addCallback(pivot, left)

        def pivot(row: Row | None, left: int) -> Deferred:
            if row is None:
                return succeed([])
            head = [row] if left > 0 and (kinds is None or row.kind in kinds) else []
            return self.store.between(
                target, left - len(head), after=mark, newest=False, kinds=kinds
            ).addCallback(lambda after: head + after)

        def both(before: list[Row]) -> Deferred:
            return rest(before).addCallback(lambda after: before + after)

        def read() -> Deferred:
            before = self.store.between(target, limit // 2, before=mark, kinds=kinds)
            return before.addCallback(both)

        return self._afterWrites(read).addCallback(
            lambda rows: [fromRow(row) for row in rows]
        )

    def conversations(
        self,
        nickname: str,
        rooms: list[str],
        since: float,
        until: float,
        limit: int,
        newest: bool = False,
    ) -> Deferred:
        """
        The latest line of each room in C{rooms} and of each private
        conversation C{nickname} had, from C{since} until C{until}, oldest
        first, up to C{limit} (at most L{MAX_FETCH}) of them: C{[(target,
        event)]} (L{IStore.conversations}).
        """
        limit = max(0, min(limit, MAX_FETCH))
        return self._afterWrites(
            self.store.conversations, nameKey(nickname), rooms, since, until, limit, newest
        ).addCallback(lambda rows: [(row.target, fromRow(row)) for row in rows])

    def _afterWrites(self, read, *args, **kwargs) -> Deferred:
        """
        C{read(*args, **kwargs)} once the store has taken everything
        recorded so far, so that a client asking for history finds the
        lines it has just been shown (a batch may still be collecting).
        """
        batch = self._open or self._inflight
        if batch is None:
            return self._counted(read(*args, **kwargs), "read")
        written: Deferred[None] = Deferred()
        batch.waiters.append(written)
        return self._counted(written.addCallback(lambda _: read(*args, **kwargs)), "read")

    def _counted(self, result: Deferred, operation: str) -> Deferred:
        """
        C{result}, a store's answer, whose failure (passed on) is counted as
        a failed C{operation} of the store's.
        """
        if self._metrics is not None:
            result.addErrback(self._countFailure, self._metrics, operation)
        return result

    @staticmethod
    def _countFailure(failure, metrics: Metrics, operation: str):
        metrics.storeFailed(operation)
        return failure

    def _recentOf(self, target: str) -> deque[events.Event]:
        """
        The recent lines of C{target}, made the most recently used: the
        rooms least recently spoken in are forgotten first once more than
        L{MAX_RECENT_ROOMS} have recent lines (the store still has them).
        """
        recent = self._recent.pop(target, None)
        if recent is None:
            recent = deque(maxlen=self.replay)
            if len(self._recent) >= MAX_RECENT_ROOMS:
                del self._recent[next(iter(self._recent))]
        self._recent[target] = recent
        return recent

    # Group commit

    def _schedule(self) -> None:
        if self._call is None and self._inflight is None:
            delay = RETRY_INTERVAL if self.failing else 0
            self._call = self._clock.callLater(delay, self._commit)

    def _commit(self) -> None:
        self._call = None
        if self._inflight is not None or (self._open is None and not self._backlog):
            return
        batch, self._open = self._open or _Batch(), None
        rows, self._backlog = self._backlog + batch.rows, []
        self._inflight = batch
        started = self._clock.seconds()
        self.store.record(rows).addCallbacks(
            self._committed, self._failed, (batch, started), None, (batch, rows)
        )

    def _committed(self, _: None, batch: _Batch, started: float) -> None:
        self._inflight = None
        if self._metrics is not None:
            self._metrics.committed(self._clock.seconds() - started)
        if self.failing:
            self.failing = False
            self.log.info(
                "history is being saved again ({dropped} rows could not be kept meanwhile)",
                dropped=self._dropped,
            )
            self._dropped = 0
            if self._hub is not None:
                self._hub.announce("history-back")
        self._release(batch)
        if self._open is not None:
            self._commit()

    def _failed(self, failure, batch: _Batch, rows: list[Row]) -> None:
        self._inflight = None
        if self._metrics is not None:
            self._metrics.storeFailed("write")
        if not self.failing:
            self.failing = True
            self.log.error(
                "history is not being saved: {reason}; the chat goes on, and saving "
                "resumes when the store is back",
                reason=getattr(failure.value, "reason", failure.getErrorMessage()),
            )
            if self._hub is not None:
                self._hub.announce("history-failing")
        self._backlog = (rows + self._backlog)[-MAX_BACKLOG:]
        self._dropped += max(0, len(rows) - MAX_BACKLOG)
        self._release(batch)
        if self._call is None:
            self._call = self._clock.callLater(RETRY_INTERVAL, self._commit)

    def _release(self, batch: _Batch) -> None:
        for waiter in batch.waiters:
            waiter.callback(None)

    def _storeFailed(self, failure) -> None:
        self.log.warn("saving a topic failed: {reason}", reason=failure.getErrorMessage())
