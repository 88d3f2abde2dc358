"""
Node leases: which nodes are alive and which nickname each holds, kept in
Redis with expiry, so that a nickname is never held on two nodes at once
and a node that dies lets go of its nicknames by itself.

Every node holds one key, C{chatsvc:node:NAME}, and one key per nickname
its clients hold, C{chatsvc:nick:KEY}, each valued with the node's name and
the run it is (so a node restarted under the same name neither renews nor
releases its old run's keys).  All of them are renewed together every
C{interval} seconds and last C{ttl}.  A node that has not renewed for
C{ttl - margin} seconds (Redis unreachable, or a partition) gives its
clients up (C{onLost}) before its keys can expire and another node can
take their nicknames: the rule Ergo's and Redis' own "Redlock" notes both
state, a holder stops before its lease ends, never after.

Nothing is held in one place that every message passes through: Redis only
answers a claim when a nickname is taken or renewed, and lines cross it on
the bus.
"""

from __future__ import annotations

from typing import Callable

from twisted.internet.defer import Deferred, DeferredList, gatherResults, succeed
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.python.failure import Failure

from chatsvc.errors import BusError
from chatsvc.interfaces import IBus
from chatsvc.names import nameKey

NODE_PREFIX = "chatsvc:node:"
NICKNAME_PREFIX = "chatsvc:nick:"
# A node killed is taken for gone within TTL plus a watch interval: the
# issue's 15 seconds.  Renewing every 2 seconds rides out a Redis restart
# of up to TTL - MARGIN - INTERVAL (7 s) without dropping anyone.
DEFAULT_TTL = 12.0
DEFAULT_INTERVAL = 2.0
DEFAULT_MARGIN = 3.0


def nicknameKey(nickname: str) -> str:
    """
    The Redis key of a nickname: its comparison key, so that nicknames
    that differ only in case are one.
    """
    return NICKNAME_PREFIX + nameKey(nickname)


class NodeLease:
    """
    One node's lease and the nicknames it holds under it.

    @param onLost: called once the lease can no longer be vouched for (no
        renewal for C{ttl - margin}); the node should drop its clients.
    @param onTaken: called with a nickname this node held that another
        node holds now (Redis lost its keys and the other claimed first).
    """

    log = Logger()

    def __init__(
        self,
        bus: IBus,
        clock: IReactorTime,
        node: str,
        run: str,
        onLost: Callable[[], None],
        onTaken: Callable[[str], None],
        ttl: float = DEFAULT_TTL,
        interval: float = DEFAULT_INTERVAL,
        margin: float = DEFAULT_MARGIN,
    ) -> None:
        self.node = node
        self.value = f"{node} {run}"
        self._bus = bus
        self._clock = clock
        self._onLost = onLost
        self._onTaken = onTaken
        self.ttl, self.interval, self.margin = ttl, interval, margin
        # Held nicknames, by Redis key.
        self._held: dict[str, str] = {}
        self._loop = LoopingCall(self.renew)
        self._loop.clock = clock
        self._deadline: IDelayedCall | None = None
        self._renewing = False

    @property
    def nodeKey(self) -> str:
        return NODE_PREFIX + self.node

    def start(self) -> None:
        """
        Take the node's key and keep it, and every nickname claimed, alive.
        """
        self._bus.whenConnected(self.renew)
        self._loop.start(self.interval, now=True)
        self._armDeadline()

    def stop(self) -> Deferred[object]:
        """
        Let go of the node's key and its nicknames now (a clean stop), so
        others need not wait for them to expire.
        """
        if self._loop.running:
            self._loop.stop()
        if self._deadline is not None and self._deadline.active():
            self._deadline.cancel()
        keys = [self.nodeKey, *self._held]
        self._held.clear()
        if not self._bus.connected:
            return succeed(None)
        return DeferredList(
            [self._bus.release(key, self.value) for key in keys], consumeErrors=True
        )

    def claim(self, nickname: str) -> Deferred[bool]:
        """
        Take C{nickname} for this node: C{True} if no other node holds it.

        @raise BusError: (asynchronously) Redis could not be asked.
        """
        key = nicknameKey(nickname)

        def claimed(taken: bool) -> Deferred[bool] | bool:
            if taken:
                self._held[key] = nickname
                return True
            # Ours already (a case change, a claim repeated)?
            return self._bus.get(key).addCallback(mine)

        def mine(value: str | None) -> bool:
            if value == self.value:
                self._held[key] = nickname
                return True
            return False

        return self._bus.claim(key, self.value, self.ttl).addCallback(claimed)

    def release(self, nickname: str) -> None:
        """
        Let go of C{nickname} (its holder left or changed it).
        """
        key = nicknameKey(nickname)
        if self._held.pop(key, None) is None or not self._bus.connected:
            return
        self._bus.release(key, self.value).addErrback(lambda failure: None)

    def holds(self, nickname: str) -> bool:
        return nicknameKey(nickname) in self._held

    def renew(self) -> None:
        """
        Renew every key held, in one round, claiming again any that Redis
        lost.
        """
        if self._renewing or not self._bus.connected:
            return
        self._renewing = True
        keys = [self.nodeKey, *self._held]
        renewing = self._bus.renew(keys, self.value, self.ttl)
        renewing.addCallback(self._reclaim, keys)
        renewing.addCallbacks(self._renewed, self._renewFailed)

    def _reclaim(self, renewed: list[bool], keys: list[str]) -> Deferred[object] | None:
        lost = [key for key, held in zip(keys, renewed) if not held]
        if not lost:
            return None
        claims = [
            self._bus.claim(key, self.value, self.ttl).addCallback(self._reclaimed, key)
            for key in lost
        ]
        return gatherResults(claims, consumeErrors=True).addErrback(
            lambda failure: failure.value.subFailure
        )

    def _reclaimed(self, taken: bool, key: str) -> None:
        if taken:
            return
        if key == self.nodeKey:
            # Another run under this node's name: the node goes on (its
            # nicknames are its own) and says so.
            self.log.error("another node runs under this node's name, {node}", node=self.node)
            return
        nickname = self._held.pop(key, None)
        if nickname is not None:
            self.log.warn("{nickname} is held by another node now; giving it up", nickname=nickname)
            self._onTaken(nickname)

    def _renewed(self, result: object) -> None:
        self._renewing = False
        self._armDeadline()

    def _renewFailed(self, failure: Failure) -> None:
        self._renewing = False
        if not failure.check(BusError):
            self.log.failure("renewing the node's lease failed", failure)

    def _armDeadline(self) -> None:
        if self._deadline is not None and self._deadline.active():
            self._deadline.cancel()
        self._deadline = self._clock.callLater(self.ttl - self.margin, self._lapsed)

    def _lapsed(self) -> None:
        self._deadline = None
        self.log.error(
            "no lease renewal for {seconds:.0f} seconds: giving this node's clients up "
            "before another node may take their nicknames",
            seconds=self.ttl - self.margin,
        )
        self._held.clear()
        self._onLost()
        # Ready to vouch again once Redis answers.
        self._armDeadline()

    def nodes(self) -> Deferred[dict[str, str]]:
        """
        The nodes alive, each with the run it is.
        """
        return self._bus.scan(NODE_PREFIX).addCallback(
            lambda found: {
                key[len(NODE_PREFIX):]: value.partition(" ")[2] for key, value in found.items()
            }
        )
