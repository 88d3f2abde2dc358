"""
The cluster link: one node's hub joined to every other node's over a bus
(L{chatsvc.interfaces.IBus}, Redis pub/sub), as one chat.

Every event a hub publishes is recorded where it was accepted (history,
with the id and time it got there), then published on one channel; every
node, this one too, delivers it to its own participants when it comes back
from the bus.  Redis sends a channel's messages to every subscriber in one
order, so every member of a room, on whichever node, sees the room's
events in that order.  Other nodes also apply it to their records
(L{chatsvc.cluster.replica}), so NAMES, WHO and WHOIS span the cluster.

While the bus is down, each node delivers what it accepts at once: local
chat goes on, and clients fill the gap from history afterwards.  On every
reconnection a node says who it holds (a snapshot), and the others answer
with theirs, so presence is resynchronised; a node whose lease is gone
(L{chatsvc.cluster.leases}) takes its members with it, "Node lost".

A nickname is claimed in Redis before anything its new holder does leaves
the node: such events wait in order behind the claim.  If another node won
it in the same moment, the loser's holder is told and let go, and nobody
else ever heard of it.  This is Synapse's shape (worker processes sharing
streams over Redis pub/sub, PostgreSQL the source of truth), with presence
replicated by events rather than polled.
"""

from __future__ import annotations

import os
from collections import deque
from typing import Any

from attrs import asdict, define
from twisted.application.service import MultiService
from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from chatsvc import events
from chatsvc.cluster.leases import DEFAULT_TTL, NodeLease
from chatsvc.cluster.replica import RemoteParticipant, Replica, nodeOf, roleFrom
from chatsvc.cluster.wire import WireError, decodeEvent, dumps, encodeEvent, loads
from chatsvc.delivery import Audience
from chatsvc.hub import Hub
from chatsvc.interfaces import IBus
from chatsvc.moderation import Modes
from chatsvc.names import nameKey
from chatsvc.records import Ban, Member, Room

CHANNEL = "chatsvc:events"
# Seconds an event of ours may take to come back before it is delivered
# here anyway (a subscription that broke without a word).
ECHO_TIMEOUT = 2.0


@define(eq=False)
class _Claim:
    """
    A nickname being claimed for C{member}: what follows it waits.

    @ivar renamed: who C{member} was before, for a rename (others know it
        by that name until the claim is won).
    """

    member: Member
    nickname: str
    renamed: events.Identity | None = None
    won: bool | None = None


@define(eq=False)
class _Outgoing:
    """
    A message to publish and, once it comes back, what to deliver here.
    """

    data: bytes
    id: str = ""
    event: events.Event | None = None
    audience: Audience | None = None
    sender: str = ""
    # A nickname to let go of once this has left (its holder's goodbye).
    release: str | None = None
    # When it was published, by the link's clock.
    sent: float = 0.0
    # A local member's arrival in a room, which the bus has not ordered yet.
    arrival: tuple[Member, str] | None = None


class ClusterLink(MultiService):
    """
    Joins C{hub} to the other nodes on C{bus}, as node C{node}.

    Its children (the bus, when it is a service of the link's own) start
    before it and stop after it has let go of its lease.
    """

    log = Logger()

    def __init__(
        self,
        hub: Hub,
        bus: IBus,
        clock: IReactorTime,
        node: str,
        run: str | None = None,
        ttl: float = DEFAULT_TTL,
        watchInterval: float = 1.0,
        metrics: Any = None,
    ) -> None:
        super().__init__()
        self.hub = hub
        self.node = node
        self.run = run if run is not None else os.urandom(6).hex()
        self._bus = bus
        self._clock = clock
        self._replica = Replica(hub, lambda where: RemoteParticipant(where, self._forward))
        self.lease = NodeLease(
            bus, clock, node, self.run, onLost=self._leaseLost, onTaken=self._taken, ttl=ttl
        )
        # In the order accepted: claims being made and messages behind them.
        self._queue: deque[_Claim | _Outgoing] = deque()
        # Published, waiting to come back to be delivered here.
        self._pending: deque[_Outgoing] = deque()
        self._echoTimer: IDelayedCall | None = None
        # The run each other node is, as last heard.
        self._runs: dict[str, str] = {}
        self._silenced = False
        self._watch = LoopingCall(self._watchNodes)
        self._watch.clock = clock
        self._watchInterval = watchInterval
        # When this node last reached the bus: others get a lease's time
        # after it to take theirs again before they are taken for gone.
        self._reached = clock.seconds()
        self._ttl = ttl
        self._ready: list[Deferred[None]] | None = []
        # This node's members' arrivals in rooms not yet back from the bus:
        # what others said before them in the bus's order is not theirs.
        self._arriving: dict[tuple[Member, str], int] = {}
        self._metrics = metrics
        if metrics is not None:
            metrics.watchCluster(self)

    @property
    def connected(self) -> bool:
        """
        Whether this node reaches the bus now.
        """
        return self._bus.connected

    # Service

    def startService(self) -> None:
        super().startService()
        hub = self.hub
        hub.outgoing = self._send
        hub.nicknameTaken = self._nicknameTaken
        hub.crowdMoved = self._crowdMoved
        self._bus.subscribe(CHANNEL, self._received)
        self._bus.whenConnected(self._connected)
        self._bus.whenDisconnected(self._disconnected)
        self.lease.start()
        self._watch.start(self._watchInterval, now=False)
        if self._bus.connected:
            self._connected()

    def whenReady(self) -> Deferred[None]:
        """
        Fires once this node has first reached the bus: until then no
        nickname can be claimed, so nobody should connect.
        """
        if self._ready is None:
            return succeed(None)
        waiting: Deferred[None] = Deferred()
        self._ready.append(waiting)
        return waiting

    def stopService(self) -> Deferred[object]:
        if self._watch.running:
            self._watch.stop()
        self._deliverAll()
        hub = self.hub
        hub.outgoing = hub.delivery.publish
        hub.nicknameTaken = lambda member: None
        hub.crowdMoved = lambda event: None
        released = self.lease.stop()
        released.addBoth(lambda _: super(ClusterLink, self).stopService())
        return released

    # What the hub sends

    def _send(self, event: events.Event, audience: Audience) -> None:
        if self._silenced:
            return
        self.hub.delivery.record(event, audience)
        if not self._bus.connected:
            self.hub.delivery.fanOut(event, audience)
            return
        if isinstance(event, events.Renamed) and nameKey(event.new) != nameKey(event.old):
            member = audience.actor
            if member is not None:
                self._claim(member, event.new, event.sender)
        message = self._eventMessage(event, audience.rooms, audience.members)
        release = event.sender.nickname if isinstance(event, events.Left) else None
        entry = _Outgoing(message, event.id, event, _frozen(audience), _senderKey(event), release)
        self._arrive(entry, event, audience.actor)
        self._enqueue(entry)

    def _crowdMoved(self, event: events.Event) -> None:
        if self._bus.connected:
            entry = _Outgoing(self._eventMessage(event, (), (), deliver=False), event.id)
            member = self.hub.holder(event.sender.nickname)  # type: ignore[union-attr]
            self._arrive(entry, event, member)
            self._enqueue(entry)

    def _arrive(self, entry: _Outgoing, event: events.Event, member: Member | None) -> None:
        if member is not None and isinstance(event, (events.Joined, events.Arrived)):
            entry.arrival = key = (member, nameKey(event.room))
            self._arriving[key] = self._arriving.get(key, 0) + 1

    def _arrived(self, entry: _Outgoing) -> None:
        key = entry.arrival
        if key is not None:
            entry.arrival = None
            left = self._arriving.pop(key, 1) - 1
            if left:
                self._arriving[key] = left

    def _nicknameTaken(self, member: Member) -> None:
        if not self._bus.connected:
            # Nobody can be asked: the newcomer cannot be vouched for.
            self._clock.callLater(0, self._lose, member, None, "unreachable")
            return
        self._claim(member, member.nickname, None)
        self._enqueue(_Outgoing(self._presence("p", [member])))

    def _eventMessage(
        self,
        event: events.Event,
        rooms: tuple[Room, ...],
        members: tuple[Member, ...],
        deliver: bool = True,
    ) -> bytes:
        message: dict[str, Any] = {"n": self.node, "t": "e", "e": encodeEvent(event)}
        if rooms:
            message["a"] = [room.name for room in rooms]
        if members:
            message["m"] = [member.nickname for member in members]
        if not deliver:
            message["q"] = 1
        if isinstance(event, (events.Joined, events.Arrived)):
            member = self.hub.holder(event.sender.nickname)
            if member is not None:
                message["x"] = self._replica.roleIn(member, event.room)
        return dumps(message)

    # Claims, and what waits behind them

    def _claim(self, member: Member, nickname: str, renamed: events.Identity | None) -> None:
        claim = _Claim(member, nickname, renamed)
        self._queue.append(claim)

        def answered(won: bool) -> None:
            claim.won = won
            if won:
                self._replica.unshadow(nickname, adopt=False)
            if won and renamed is not None:
                self.lease.release(renamed.nickname)
            if not won:
                self._lose(member, claim, "taken")
            self._flush()

        def failed(failure: Any) -> None:
            claim.won = False
            self._lose(member, claim, "unreachable")
            self._flush()

        self.lease.claim(nickname).addCallbacks(answered, failed)

    def _lose(self, member: Member, claim: _Claim | None, why: str) -> None:
        """
        C{member}'s nickname could not be had: tell it, and let it go
        without anyone else hearing of it (but, after a rename, that the
        name others knew it by has left).
        """
        if claim is not None:
            # What it did under the nickname (and, renaming, the rename)
            # never leaves the node.
            names = {nameKey(claim.nickname)}
            if claim.renamed is not None:
                names.add(nameKey(claim.renamed.nickname))
            kept: deque[_Claim | _Outgoing] = deque()
            for entry in self._queue:
                if isinstance(entry, _Outgoing) and entry.sender in names:
                    self._arrived(entry)
                else:
                    kept.append(entry)
            self._queue = kept
        if not member.connected:
            return
        if why == "taken":
            reason = f"Nickname {member.nickname} is in use on another node"
        else:
            reason = "The cluster cannot be reached to check nicknames; try again shortly"
        rooms = member.rooms
        self.hub.delivery.direct(member, events.Dropped(why, member.nickname, **self.hub.stamp()))
        self._silenced = True
        try:
            self.hub.disconnect(member, reason)
        finally:
            self._silenced = False
        if claim is not None:
            self._replica.unshadow(claim.nickname)
        if claim is not None and claim.renamed is not None and self._bus.connected:
            left = events.Left(claim.renamed, reason, **self.hub.stamp())
            audience = Audience(rooms)
            self.hub.delivery.record(left, audience)
            message = self._eventMessage(left, rooms, ())
            self._enqueue(
                _Outgoing(message, left.id, left, _frozen(audience), release=left.nickname)
            )

    def _taken(self, nickname: str) -> None:
        """
        Redis lost its keys and another node claimed C{nickname} first.
        """
        member = self.hub.holder(nickname)
        if member is not None and nodeOf(member) is None:
            self.hub.delivery.direct(member, events.Dropped("taken", nickname, **self.hub.stamp()))
            self.hub.disconnect(member, "Nickname in use on another node")

    def _enqueue(self, entry: _Outgoing) -> None:
        self._queue.append(entry)
        self._flush()

    def _flush(self) -> None:
        queue = self._queue
        while queue:
            head = queue[0]
            if isinstance(head, _Claim):
                if head.won is None:
                    return
                queue.popleft()
                continue
            queue.popleft()
            if not self._bus.connected:
                self._deliver(head)
                continue
            self._bus.publish(CHANNEL, head.data).addErrback(self._publishFailed)
            if head.release is not None:
                self.lease.release(head.release)
            if head.event is not None or head.arrival is not None:
                head.sent = self._clock.seconds()
                self._pending.append(head)
                if self._echoTimer is None:
                    self._echoTimer = self._clock.callLater(ECHO_TIMEOUT, self._echoLate)

    def _publishFailed(self, failure: Any) -> None:
        self.log.warn("publishing to the cluster failed: {why}", why=failure.getErrorMessage())

    # Delivery here, in the bus's order

    def _deliver(self, entry: _Outgoing) -> None:
        self._arrived(entry)
        if entry.event is not None and entry.audience is not None:
            self.hub.delivery.fanOut(entry.event, entry.audience)

    def _settle(self, entry: _Outgoing) -> None:
        """
        A change of a room's settings this node made is back from the bus:
        make it again, at its place in the bus's order.

        The hub made it at once; another node's change made at the same
        moment may have come in since.  Every node, this one too, making
        each change in the bus's order is what makes them all end alike
        (the changes are "set"s: making one twice is making it once).
        """
        event = entry.event
        if isinstance(event, events.TopicChanged):
            self.hub.topicSet(event.room, event.topic, event.sender.nickname, event.time)
        elif isinstance(event, events.ModeChanged):
            self.hub.modesChanged(event.room, event.sender, event.changes)

    def _echoed(self, eventId: str) -> None:
        pending = self._pending
        while pending:
            entry = pending.popleft()
            self._deliver(entry)
            if entry.id == eventId:
                self._settle(entry)
                if self._metrics is not None:
                    self._metrics.clusterHop(self._clock.seconds() - entry.sent)
                break
        if not pending and self._echoTimer is not None:
            self._echoTimer.cancel()
            self._echoTimer = None

    def _echoLate(self) -> None:
        self._echoTimer = None
        if self._pending:
            self.log.warn(
                "{count} events did not come back from the cluster in time; delivering them here",
                count=len(self._pending),
            )
            while self._pending:
                self._deliver(self._pending.popleft())

    def _deliverAll(self) -> None:
        """
        Deliver here everything waiting: the bus is gone.
        """
        if self._echoTimer is not None:
            self._echoTimer.cancel()
            self._echoTimer = None
        while self._pending:
            self._deliver(self._pending.popleft())
        kept: deque[_Claim | _Outgoing] = deque()
        for entry in self._queue:
            if isinstance(entry, _Outgoing):
                self._deliver(entry)
            elif entry.won is None:
                kept.append(entry)
        self._queue = kept

    # What the bus brings

    def _received(self, data: bytes) -> None:
        pending = self._pending
        if pending and data == pending[0].data:
            # This node's own event, back in the order it went out, as
            # nearly every echo is: its bytes say which, unread.
            self._echoed(pending[0].id)
            return
        try:
            message = loads(data)
            node = message["n"]
            kind = message["t"]
        except (WireError, KeyError, TypeError):
            self.log.warn("a message on the cluster's channel was not understood")
            return
        if node == self.node:
            if kind == "e":
                self._echoed(message["e"].get("id", ""))
            return
        try:
            if kind == "e":
                self._remoteEvent(node, message)
            elif kind == "p":
                self._adopt(node, message["m"], announce=True)
            elif kind in ("h", "s"):
                self._resync(node, message)
                if kind == "h":
                    self._enqueue(_Outgoing(self._snapshot("s")))
            elif kind == "k" and message["to"] == self.node:
                self._killed(decodeEvent(message["e"]), message["m"])
        except (WireError, KeyError, TypeError, ValueError):
            self.log.failure("a message from node {node} was not understood", node=node)

    def _remoteEvent(self, node: str, message: dict[str, Any]) -> None:
        event = decodeEvent(message["e"])
        # What is said here from now on answers it, maybe: after it in
        # history, whatever this machine's clock says.
        self.hub.serverClock.witness(event.time)
        audience = None
        if "q" not in message:
            found = (self.hub.existing(name) for name in message.get("a", ()))
            rooms = [room for room in found if room is not None]
            arriving = self._arriving
            held = (self.hub.holder(nickname) for nickname in message.get("m", ()))
            members = [member for member in held if member is not None]
            heard = Audience(tuple(rooms), tuple(members), remote=True)
            self.hub.delivery.record(event, heard)
            audience = _frozen(heard)
            if arriving:
                audience = Audience(
                    members=tuple(
                        m for m in audience.members if not _arrivingIn(arriving, m, rooms)
                    )
                )
        self._replica.apply(node, event, message.get("x", ""))
        if audience is not None:
            self.hub.delivery.fanOut(event, audience)

    # Presence

    def _presence(self, kind: str, members: list[Member], **more: Any) -> bytes:
        described = [_described(self._replica, member) for member in members]
        return dumps({"n": self.node, "r": self.run, "t": kind, "m": described, **more})

    def _snapshot(self, kind: str) -> bytes:
        local = [m for m in self.hub.members if m.nickname is not None]
        rooms = {room.name: room for m in local for room in m.rooms}
        return self._presence(kind, local, rooms=[_roomState(room) for room in rooms.values()])

    def _adopt(self, node: str, described: list[Any], announce: bool) -> list[Member]:
        adopted = []
        for identity, away, signon, rooms in described:
            member = self._replica.adopt(
                node, events.Identity(*identity), away, signon, tuple(map(tuple, rooms))
            )
            if member is None:
                continue
            adopted.append(member)
            if announce and member.rooms:
                for room in member.rooms:
                    self._tell(events.Joined(member.identity, room.name, member.away), (room,))
        return adopted

    def _resync(self, node: str, message: dict[str, Any]) -> None:
        """
        C{node} says whom it holds: make this node's records say the same,
        and tell its members of the differences.
        """
        self._runs[node] = message.get("r", "")
        before = {nameKey(m.nickname): m for m in self._replica.membersOf(node)}
        described = message.get("m", [])
        now = {nameKey(identity[0]) for identity, *_ in described}
        for key, member in before.items():
            if key not in now:
                self._gone(member, None)
        fresh = [entry for entry in described if nameKey(entry[0][0]) not in before]
        for entry in described:
            if nameKey(entry[0][0]) in before:
                member = before[nameKey(entry[0][0])]
                for name, role in entry[3]:
                    if not any(nameKey(r.name) == nameKey(name) for r in member.rooms):
                        self.hub.place(member, name, roleFrom(role))
        self._adopt(node, fresh, announce=True)
        for state in message.get("rooms", ()):
            _restoreRoom(self.hub, state)

    def _gone(self, member: Member, reason: str | None) -> None:
        rooms = member.rooms
        self._replica.forget(member)
        self._tell(events.Left(member.identity, reason), rooms)

    def _tell(self, event: events.Event, rooms: tuple[Room, ...]) -> None:
        """
        Tell this node's members in C{rooms} of something only this node
        noticed (never recorded: each node tells its own).
        """
        stamped = type(event)(**{**asdict(event, recurse=False), **self.hub.stamp()})
        live = tuple(room for room in rooms if room.members)
        if live:
            self.hub.delivery.fanOut(stamped, Audience(live))

    def _connected(self) -> None:
        self._reached = self._clock.seconds()
        self.log.info("node {node} joined the cluster", node=self.node)
        ready, self._ready = self._ready, None
        for waiting in ready or ():
            waiting.callback(None)
        self._enqueue(_Outgoing(self._snapshot("h")))

    def _disconnected(self) -> None:
        # A clean stop disconnects too, once the link has stopped: no loss.
        if self.running:
            self.log.warn("node {node} lost the cluster: local chat goes on", node=self.node)
        self._deliverAll()

    def _watchNodes(self) -> None:
        if not self._bus.connected:
            return
        self.lease.nodes().addCallbacks(self._alive, lambda failure: None)

    def _alive(self, nodes: dict[str, str]) -> None:
        self.hub.nodeCount = len(set(nodes) | {self.node})
        if self._clock.seconds() - self._reached < self._ttl:
            # Just reached Redis, or it just came back empty: the others
            # may not have taken their leases again yet.
            return
        for node in self._replica.nodes():
            run = nodes.get(node)
            if run is None or (self._runs.get(node) not in (None, "", run)):
                self.log.warn("node {node} is lost; its members leave", node=node)
                for member in self._replica.membersOf(node):
                    self._gone(member, "Node lost")
                self._runs.pop(node, None)

    def _leaseLost(self) -> None:
        for member in list(self.hub.members):
            if member.nickname is None:
                continue
            # Its connection closes once this has left; closing it here
            # would cut the line off unsent.
            self.hub.delivery.direct(member, events.Dropped("lost", **self.hub.stamp()))
            self.hub.disconnect(member, "Node lost the cluster")

    # A server operator's kill of another node's member

    def _forward(self, node: str, nickname: str, event: events.Event) -> None:
        # The target's nickname travels beside the event: Killed names
        # only the killer.
        if self._bus.connected:
            message = {"n": self.node, "t": "k", "to": node, "e": encodeEvent(event), "m": nickname}
            self._bus.publish(CHANNEL, dumps(message)).addErrback(self._publishFailed)

    def _killed(self, event: events.Event, nickname: str) -> None:
        self.hub.serverClock.witness(event.time)
        member = self.hub.holder(nickname)
        if member is None or nodeOf(member) is not None:
            return
        self.hub.delivery.direct(member, event)
        self.hub.disconnect(
            member, f"Killed ({event.sender.nickname} ({event.reason}))"  # type: ignore[union-attr]
        )


def _frozen(audience: Audience) -> Audience:
    """
    C{audience} as it is now: the members of its rooms read at once, so
    that who comes in before the event comes back does not get it.
    """
    rooms = audience.rooms
    if not rooms:
        return audience
    if len(rooms) == 1 and not audience.members:
        # A line said in a room, most of what a node publishes: one copy.
        return Audience((), tuple(rooms[0].members), audience.actor, audience.echo)
    members: dict[Member, None] = {}
    for room in rooms:
        members.update(room.members)
    members.update(dict.fromkeys(audience.members))
    return Audience((), tuple(members), audience.actor, audience.echo)


def _arrivingIn(
    arriving: dict[tuple[Member, str], int], member: Member, rooms: list[Room]
) -> bool:
    """
    Whether C{member} hears of an event in C{rooms} only through rooms it
    is still arriving in (as far as the bus's order goes).
    """
    keys = [nameKey(room.name) for room in rooms if member in room.members]
    return bool(keys) and all((member, key) in arriving for key in keys)


def _senderKey(event: events.Event) -> str:
    sender = getattr(event, "sender", None)
    return "" if sender is None else nameKey(sender.nickname)


def _described(replica: Replica, member: Member) -> list[Any]:
    identity = member.identity
    return [
        [identity.nickname, identity.username, identity.host, identity.account, identity.realname],
        member.away,
        member.signon,
        [[room.name, replica.roleIn(member, room.name)] for room in member.rooms],
    ]


def _roomState(room: Room) -> dict[str, Any]:
    return {
        "name": room.name,
        "topic": [room.topic, room.topicSetter, room.topicTime],
        "modes": asdict(room.modes),
        "bans": [[ban.mask, ban.setter, ban.time] for ban in room.bans.values()],
        "created": room.created,
    }


def _restoreRoom(hub: Hub, state: dict[str, Any]) -> None:
    """
    Take a room's topic, modes and bans from another node's snapshot, if
    nobody here is in it (else this node's records are as current).
    """
    room = hub.existing(state["name"])
    if room is None or any(nodeOf(m) is None for m in room.members):
        return
    topic, setter, time = state["topic"]
    room.topic, room.topicSetter, room.topicTime = topic, setter, time
    room.modes = Modes(**state["modes"])
    room.bans = {mask.casefold(): Ban(mask, who, when) for mask, who, when in state["bans"]}
    room.created = state["created"]

