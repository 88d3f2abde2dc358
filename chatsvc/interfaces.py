"""
The seams between the hub, the delivery path and the front-ends.
"""

from __future__ import annotations

from collections.abc import Sequence

from typing import TYPE_CHECKING, Callable

from zope.interface import Attribute, Interface

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred


class IRenderer(Interface):
    """
    Words events for every participant that sees them alike: one per
    front-end and variant (language, negotiated capabilities), shared.

    The delivery path renders each published event once per renderer and
    hands the bytes to every participant that has it, so its methods are
    called once per event, not once per recipient.
    """

    def render(event):
        """
        C{event} as wire bytes for anyone but its sender (C{b""}: nothing).

        @raise TypeError: no rendering for such an event, which a test of
            every front-end against the event union rules out.
        """

    def renderOwn(event):
        """
        C{event} as wire bytes for the participant who caused it: its own
        line, its own private message, its own rename (C{b""}: nothing, for
        clients that show their own lines themselves).
        """


class IParticipant(Interface):
    """
    One connection as the hub and the delivery path see it, whatever its
    wire protocol and transport.
    """

    renderer = Attribute("The L{IRenderer} that words events for this participant.")

    def send(data):
        """
        Queue C{data}, rendered by this participant's renderer, for output.

        Called once per recipient of every published event, so it does at
        most an append; the output leaves once per reactor turn.  Must not
        block, raise, or call back into the hub.
        """

    def deliver(event):
        """
        A notice the hub sends this connection alone (L{chatsvc.events.Welcome},
        L{chatsvc.events.Moved}, L{chatsvc.events.TimedOut},
        L{chatsvc.events.Closing}, L{chatsvc.events.Killed},
        L{chatsvc.events.Dropped}); after the last four it closes, once
        what it was told has been sent.
        """

    def close():
        """
        End the connection at once, without waiting for queued output.

        The hub calls this only when a graceful close (after L{Closing}) has
        taken too long, or when the participant failed; the front-end then
        reports the loss to the hub as usual.
        """


class IObserver(Interface):
    """
    Something that sees every published event once, before any participant
    does: history recording, a bus to other nodes.
    """

    def published(event, audience):
        """
        C{event} was published to C{audience} (a L{chatsvc.delivery.Audience}).
        """


class ISession(Interface):
    """
    A front-end's conversation with one client, in decoded text lines.

    It knows no transport: a L{chatsvc.net.connection.ServerConnection}
    admits the client, frames, paces and sends its lines and closes it, and
    asks the session only what to say.
    """

    name = Attribute("The front-end's name, for logs: C{native}, C{irc}.")
    renderer = Attribute("The L{IRenderer} for this client's events.")

    def start(connection):
        """
        The client was admitted; greet it through C{connection}.
        """

    def lineReceived(text):
        """
        A whole line from the client, decoded, within the flood policy.
        """

    def lineTooLong():
        """
        The client sent a line over the front-end's limit; it was dropped.
        """

    def undecodableLine(line):
        """
        The client sent C{line}, which is not UTF-8; it was dropped.
        """

    def refusedLines(error, host):
        """
        What to say to a client from C{host} refused by a connection limit
        (L{chatsvc.errors.TooManyConnections}) before closing; the session
        was never started.
        """

    def floodWarningLines(policy):
        """
        What to say, once, when a client's lines start being delayed.
        """

    def floodExceededLines():
        """
        What to say before closing a client that kept flooding.
        """

    def stop():
        """
        The connection is gone: cancel whatever the session has scheduled.
        """


class IStore(Interface):
    """
    Where history, rooms and their topics, registered rooms' state and
    accounts are kept, behind Deferreds: a store does its blocking work off
    the reactor thread.

    Rows are L{chatsvc.store.rows.Row}s; one contract-test suite
    (C{tests/test_store.py}) runs against every implementation.
    """

    durable = Attribute(
        "Whether what record() has committed survives the process: only then"
        " does delivery wait for it."
    )

    def open():
        """
        Make the store ready (create its schema); fires with C{None}, or
        fails with L{chatsvc.errors.StoreError} saying why in one line, and
        may then be called again.
        """

    def close():
        """
        Finish what is under way and let go of the store.
        """

    def record(rows):
        """
        Keep C{rows} (a list), all or none, in one transaction.
        """

    def history(target, limit, before=None, after=None):
        """
        Up to C{limit} rows of C{target}, oldest first: the last ones before
        the time C{before} (or the latest), or, given only C{after}, the
        first ones after it.
        """

    def latest(limit):
        """
        Fires with the last C{limit} rows of every room (not private
        conversations), oldest first: C{{target: rows}}.
        """

    def find(target, id):
        """
        Fires with the row of C{target} whose id is C{id}, or C{None}.
        """

    def between(target, limit, after=None, before=None, newest=True, kinds=None):
        """
        Fires with up to C{limit} rows of C{target}, oldest first, strictly
        between the places C{after} and C{before}
        (L{chatsvc.store.rows.Mark}s; C{None}: no bound on that side): the
        newest such rows if C{newest}, else the oldest.  Rows are in the
        order of their time, then of their recording; C{kinds}, if given,
        keeps only rows of those kinds (a mark's row may be of any kind).
        A mark naming a row C{target} does not have finds nothing.
        """

    def conversations(nickname, rooms, since, until, limit, newest=False):
        """
        Fires with the latest line (a row of a kind in
        L{chatsvc.store.rows.LINES}) from C{since} (inclusive) to C{until}
        (exclusive) of each of the rooms C{rooms} (their targets) and of
        each private conversation the nickname key C{nickname} took part
        in, one row per target, oldest first: up to C{limit} of them, the
        most recent if C{newest}, else the earliest.
        """

    def saveTopic(key, room, topic):
        """
        Remember C{room}'s topic (C{key}: its name's key) across restarts.
        """

    def topics():
        """
        Fires with every remembered topic: C{{key: (room, topic)}}.
        """

    def accounts():
        """
        Fires with every account: C{{key: (name, hash, created)}}, C{key}
        being the name's key, C{hash} the password's argon2 hash and
        C{created} the time it was registered.
        """

    def saveAccount(key, name, hash, created):
        """
        Keep the account C{key}, in place of one of that key if any.
        """

    def dropAccount(key):
        """
        Forget the account C{key}; nothing happens for one not kept.
        """

    def roomStates():
        """
        Fires with every registered room's state: C{{key: (name, state)}}.
        """

    def saveRoomState(key, name, state):
        """
        Keep the state of the room C{name} (C{key}: its name's key), in
        place of any kept before: C{state} is text the store does not read
        (the hub's JSON).  Its topic is kept apart, by L{saveTopic}.
        """

    def dropRoomState(key):
        """
        Forget the state of the room C{key} (not its topic); nothing happens
        for a room without one.
        """

    def expire(olderThan, perTarget):
        """
        Delete the rows older than the time C{olderThan}, and the oldest of
        any target with more than C{perTarget}; fires with how many went.
        """


class IBus(Interface):
    """
    The Redis a cluster's nodes share: pub/sub channels that carry each
    node's events to every node, and keys with a time to live through
    which a node claims what only one may hold (a nickname, a room's
    ownership) and says it is alive.

    Everything but L{subscribe} goes over the wire, so it answers with a
    Deferred that fails with L{chatsvc.errors.BusError} when Redis cannot
    be reached (the bus is not L{connected}) or the connection is lost
    before the reply: the caller decides what a node does without the
    cluster, the bus only reconnects.  One contract-test suite
    (C{tests/test_bus.py}) runs against every implementation.
    """

    connected = Attribute(
        "True while both the command connection and the subscription are up,"
        " subscribed to every channel given to subscribe(): only then does a"
        " node see, and may it say, what the others do."
    )

    def publish(channel: str, data: bytes) -> Deferred[int]:
        """
        PUBLISH C{data} on C{channel}; fires with the number of buses that
        received it, this one among them if it subscribed to C{channel}.

        Fails with L{chatsvc.errors.BusError} if not connected or if the
        connection is lost before the reply (the message may or may not
        have gone out).
        """

    def subscribe(channel: str, receiver: Callable[[bytes], None]) -> None:
        """
        Call C{receiver} with the data of each message published on
        C{channel}, by any bus (this one too), in the order Redis received
        them, for as long as the bus runs.

        The subscription is renewed after every reconnection; what was
        published while this bus was disconnected is lost, as in Redis's
        pub/sub.  Subscribe before starting the bus to miss nothing from
        the first L{whenConnected} on: a subscription made while connected
        holds once Redis has confirmed it.
        """

    def whenConnected(callback: Callable[[], None]) -> None:
        """
        Call C{callback} on every transition to L{connected}: once both
        connections are up and every subscription is confirmed, so that a
        node can announce itself (again) knowing it will hear the answers.
        Not called for the state at registration.
        """

    def whenDisconnected(callback: Callable[[], None]) -> None:
        """
        Call C{callback} on every transition from L{connected}: when either
        connection is lost, or the bus stops.  What was claimed may expire
        meanwhile, and messages are lost until the next L{whenConnected}.
        Not called for the state at registration.
        """

    def claim(key: str, value: str, ttl: float) -> Deferred[bool]:
        """
        Set C{key} to C{value} for C{ttl} seconds unless it exists (SET NX
        PX); fires with whether it was set, so that of nodes claiming at
        once exactly one wins.
        """

    def renew(keys: Sequence[str], value: str, ttl: float) -> Deferred[list[bool]]:
        """
        Each of C{keys} that holds C{value} lives C{ttl} seconds from now:
        fires with, for each key in order, whether it did (False: it
        expired, somebody else claimed it).  Atomic per key, so a claim lost
        to another node is never renewed; many keys in few commands, since
        a node renews every nickname it holds every few seconds.
        """

    def release(key: str, value: str) -> Deferred[bool]:
        """
        If C{key} holds C{value}, delete it and fire with True; otherwise
        with False, leaving what another node claimed alone.  Atomic.
        """

    def get(key: str) -> Deferred[str | None]:
        """
        Fire with the value of C{key}, or None if it does not exist.
        """

    def scan(prefix: str) -> Deferred[dict[str, str]]:
        """
        Fire with every key starting with C{prefix} (taken literally, not
        as a pattern) and its value.  Not a snapshot: a key set meanwhile
        may be missing, and one gone meanwhile is left out.
        """
