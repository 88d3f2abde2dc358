"""
Three real nodes of one chat: C{twistd -n chat --cluster redis://...
--node-name NAME --store postgresql://...}, each with its native, IRC and
web front-ends on 127.0.0.1, a redis-server of the test's own (through
C{.ci/redis}, so that it can be halted and started again on its port) and
one PostgreSQL database (docs/cluster.rst is the design under test).

A class shares one cluster between its tests, as L{ServerTestCase} shares
a server: the first test starts it, the last one stops it (an C{atexit}
hook stops it when only some tests ran), and a node a test killed is
started again, under its name, before the next.  Every test talks in a
room of its own, with nicknames of its own, so no test hears another's.

Without redis-server or PostgreSQL (C{CHATSVC_TEST_POSTGRESQL}, as in
L{tests.test_store_postgresql}) these tests are skipped; under CI (C{CI}
set) they fail instead.

The fault tests end with L{Ledger.check}: every line any client saw is in
history and reached every member that stayed connected.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import secrets
import signal
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from attrs import frozen
from twisted.logger import Logger
from twisted.trial.unittest import SynchronousTestCase
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from chatsvc.cluster.leases import DEFAULT_TTL, NODE_PREFIX, NICKNAME_PREFIX
from chatsvc.irc.wire import parseMessage, parseTags, splitTags
from chatsvc.names import nameKey
from chatsvc.native.wire import classify
from tests.harness import TIMEOUT, LineClient, ServerProcess
from tests.test_bus import RedisServer
from tests.test_store_postgresql import ThrowawayServer, freshDatabase

log = Logger()

# A node takes nobody for gone until a lease's time after it reached Redis.
GRACE = DEFAULT_TTL
# What the issue allows from a SIGKILL to "Node lost" on the other nodes.
NODE_LOST_WITHIN = 15.0
# How long the Redis outage lasts: well under the 7 s that drop nobody.
REDIS_OUTAGE = 3.0
# A node that has not renewed its lease for this long gives its clients up
# (leases: ttl less the margin).
LAPSE = 9.0
# The most lines history is asked for (/history, CHATHISTORY): the limit.
HISTORY_LIMIT = 200

# The history announcements, as native and IRC users read them.
ANNOUNCEMENTS = {
    "The server cannot save history just now; the chat goes on, "
    "but what is said may not be kept.": "history-failing",
    "The server saves history again.": "history-back",
}


# What users are told


@frozen
class Heard:
    """
    One thing a user was told, whichever front-end told it.

    @ivar kind: C{said} (a line in a room), C{private}, C{joined},
        C{left} (the chat: C{text} the reason), C{parted}, C{renamed}
        (C{text} the new nickname), C{topic} (set now), C{topicIs} (asked
        or shown on entering), C{names} (NAMES, C{/who}, the page's room),
        C{moved} (into C{room}), C{welcome}, C{announcement} (C{text} its
        C{what}), C{history} (a line of a history reply), C{historyEnd},
        C{error}, C{notice}, C{closed} or C{other}.
    """

    kind: str
    nickname: str = ""
    text: str = ""
    room: str = ""
    names: tuple[str, ...] = ()
    batch: str = ""


def _bare(nickname: str) -> str:
    return nickname.lstrip("@+")


class User:
    """
    One chat user on one node, through one front-end, keeping everything
    it is told as L{Heard}, in order.

    Waits are bounded: L{take} and L{expect} read until what is asked for
    comes or the deadline passes.  What was read but not yet taken stays
    unread, so lines from several senders may come in any order.

    @ivar heard: everything told, in order.
    """

    frontEnd = ""

    def __init__(self, node: Node, nickname: str) -> None:
        self.node = node
        self.nickname = nickname
        self.heard: list[Heard] = []
        self._unread: list[Heard] = []
        self.closed = False

    def __repr__(self) -> str:
        return f"<{self.nickname}, {self.frontEnd} on {self.node.name}>"

    # What each front-end provides

    def _receive(self, deadline: float) -> Any:
        """
        One message from the server, if one comes by C{deadline}, else
        C{None}.
        """
        raise NotImplementedError()

    def _parse(self, message: Any) -> list[Heard]:
        raise NotImplementedError()

    def _isGone(self, error: Exception) -> bool:
        return isinstance(error, (EOFError, ConnectionError))

    def close(self) -> None:
        raise NotImplementedError()

    # Reading

    def readOne(self, deadline: float) -> bool:
        """
        Read one message by C{deadline}; whether one came.
        """
        if self.closed:
            return False
        try:
            message = self._receive(deadline)
        except Exception as error:
            if not self._isGone(error):
                raise
            self.closed = True
            self._keep([Heard("closed")])
            return True
        if message is None:
            return False
        self._keep(self._parse(message))
        return True

    def _keep(self, heard: list[Heard]) -> None:
        self.heard.extend(heard)
        self._unread.extend(heard)

    def pump(self) -> None:
        """
        Take in whatever has come, without waiting.
        """
        while self.readOne(time.monotonic()):
            pass

    def take(
        self,
        kind: str | Callable[[Heard], bool],
        nickname: str | None = None,
        text: str | None = None,
        timeout: float = 0.0,
    ) -> Heard | None:
        """
        The first unread L{Heard} of C{kind} (and C{nickname}, C{text}, if
        given), or one that matches the predicate C{kind}, reading for at
        most C{timeout} seconds; C{None} if none came.
        """
        if callable(kind):
            matches = kind
        else:

            def matches(heard: Heard) -> bool:
                return (
                    heard.kind == kind
                    and nickname in (None, heard.nickname)
                    and text in (None, heard.text)
                )

        deadline = time.monotonic() + timeout
        looked = 0
        while True:
            for index in range(looked, len(self._unread)):
                if matches(self._unread[index]):
                    return self._unread.pop(index)
            looked = len(self._unread)
            if not self.readOne(deadline):
                return None

    def expect(
        self,
        kind: str | Callable[[Heard], bool],
        nickname: str | None = None,
        text: str | None = None,
        timeout: float = TIMEOUT,
    ) -> Heard:
        """
        L{take}, failing if nothing matching comes within C{timeout}.
        """
        found = self.take(kind, nickname, text, timeout)
        if found is None:
            wanted = kind if callable(kind) else (kind, nickname, text)
            raise AssertionError(
                f"{self!r} was not told {wanted!r} within {timeout} s; "
                f"its last: {self.heard[-12:]!r}"
            )
        return found

    def lines(self) -> list[str]:
        """
        The text of every line said in a room that this user was told, in
        order.
        """
        return [heard.text for heard in self.heard if heard.kind == "said"]

    def gone(self) -> list[Heard]:
        """
        Whatever told this user that it, or someone, left the chat or was
        put off it.
        """
        return [h for h in self.heard if h.kind in ("left", "killed", "closed")]

    # What users do, as each front-end says it

    def say(self, text: str) -> None:
        raise NotImplementedError()

    def join(self, room: str) -> Heard:
        """
        Go into C{room}; what this user was told of who is in it, when its
        front-end tells it on entering.
        """
        raise NotImplementedError()

    def names(self, room: str) -> set[str]:
        """
        Who is in C{room}, as this node answers.
        """
        raise NotImplementedError()


class NativeUser(User):
    """
    A user of the native front-end (docs/protocol.rst) over TCP.
    """

    frontEnd = "native"

    def __init__(self, node: Node, nickname: str) -> None:
        super().__init__(node, nickname)
        self.client = LineClient(node.server.port)
        self.client.expect("NICK")
        self.client.sendLine(nickname)

    def _receive(self, deadline: float) -> str | None:
        return self.client.lineBefore(deadline)

    _PATTERNS = [
        (re.compile(r"(\S+) joined the chat!"), "joined"),
        (re.compile(r"(\S+) came over from room \S+\."), "joined"),
        (re.compile(r"(\S+) left the chat \((.*)\)\."), "left"),
        (re.compile(r"(\S+) left the chat\."), "left"),
        (re.compile(r"(\S+) went to room \S+\."), "parted"),
        (re.compile(r"(\S+) is now known as (\S+)\."), "renamed"),
        (re.compile(r"(\S+) set the topic of room \S+: (.*)"), "topic"),
    ]

    def _parse(self, line: str) -> list[Heard]:
        classified = classify(line)
        if classified.kind == "chat":
            return [Heard("said", classified.nickname or "", classified.text)]
        if classified.kind == "private":
            return [Heard("private", classified.nickname or "", classified.text)]
        if classified.kind == "error":
            if classified.text.endswith("Goodbye!"):
                return [Heard("killed", text=classified.text)]
            return [Heard("error", text=classified.text)]
        if classified.kind != "notice":
            return [Heard("other", text=line)]
        if line == "Connected to server!":
            return [Heard("welcome", self.nickname)]
        if line in ANNOUNCEMENTS:
            return [Heard("announcement", text=ANNOUNCEMENTS[line])]
        for pattern, kind in self._PATTERNS:
            match = pattern.fullmatch(line)
            if match is not None:
                return [Heard(kind, match.group(1), match.group(2) if pattern.groups > 1 else "")]
        match = re.fullmatch(r"In room (\S+) \(\d+\): (.*)", line)
        if match is not None:
            names = re.split(r", | and ", match.group(2))
            return [Heard("names", room=match.group(1), names=tuple(map(_bare, names)))]
        match = re.fullmatch(r"The topic of room (\S+): (.*)", line)
        if match is not None:
            return [Heard("topicIs", text=match.group(2), room=match.group(1))]
        match = re.fullmatch(r"You are now in room (\S+) \(\d+ members?\)\.", line)
        if match is not None:
            return [Heard("moved", room=match.group(1))]
        match = re.fullmatch(r"\[[^\]]+\] (.*)", line)
        if match is not None:
            said = classify(match.group(1))
            if said.kind == "chat":
                return [Heard("history", said.nickname or "", said.text)]
            return [Heard("other", text=line)]
        if line == "End of history.":
            return [Heard("historyEnd")]
        return [Heard("notice", text=line)]

    def registered(self) -> NativeUser:
        self.expect("welcome")
        return self

    def say(self, text: str) -> None:
        self.client.sendLine(text)

    def command(self, line: str) -> None:
        self.client.sendLine(line)

    def join(self, room: str) -> Heard:
        self.client.sendLine(f"/join {room}")
        return self.expect(lambda h: h.kind == "moved" and h.room == room)

    def names(self, room: str) -> set[str]:
        self.client.sendLine("/who")
        return set(self.expect(lambda h: h.kind == "names" and h.room == room).names)

    def history(self, room: str) -> list[str] | None:
        """
        The text of every line said in C{room} (this user's) that
        C{/history} shows; C{None} if history cannot be read.
        """
        self.client.sendLine(f"/history {HISTORY_LIMIT}")
        heading = (f"Earlier in room {room}:", f"Nothing was said in room {room} yet.")
        first = self.expect(
            lambda h: h.kind == "error" or (h.kind == "notice" and h.text in heading)
        )
        if first.kind == "error":
            return None
        if first.text == heading[1]:
            return []
        texts = []
        while True:
            line = self.expect(lambda h: h.kind in ("history", "historyEnd", "other"))
            if line.kind == "historyEnd":
                return texts
            if line.kind == "history":
                texts.append(line.text)

    def close(self) -> None:
        self.client.close()


class IRCUser(User):
    """
    A user of the IRC front-end (docs/irc.rst), with C{batch} so that a
    CHATHISTORY reply is told apart from live lines and ends.
    """

    frontEnd = "IRC"

    def __init__(self, node: Node, nickname: str) -> None:
        super().__init__(node, nickname)
        assert node.server.ircPort is not None
        self.client = LineClient(node.server.ircPort)
        self.client.sendLine("CAP REQ :batch draft/chathistory")
        self.client.sendLine(f"NICK {nickname}")
        self.client.sendLine(f"USER {nickname} 0 * :{nickname}")
        self.client.sendLine("CAP END")

    def _receive(self, deadline: float) -> str | None:
        return self.client.lineBefore(deadline)

    def _parse(self, line: str) -> list[Heard]:
        tags = parseTags(splitTags(line)[0])
        message = parseMessage(line)
        if message is None:
            return []
        command, params = message.command, message.params
        nickname = (message.prefix or "").partition("!")[0]
        if command == "PING":
            self.client.sendLine(f"PONG :{params[-1] if params else ''}")
            return []
        if command == "PRIVMSG":
            target, text = params
            batch = tags.get("batch")
            if batch:
                return [Heard("history", nickname, text, batch=batch)]
            if target.startswith("#"):
                return [Heard("said", nickname, text, room=target[1:])]
            return [Heard("private", nickname, text)]
        if command == "NOTICE" and params[-1].startswith("*** "):
            text = params[-1][len("*** ") :]
            if text in ANNOUNCEMENTS:
                return [Heard("announcement", text=ANNOUNCEMENTS[text])]
        if command == "JOIN":
            return [Heard("joined", nickname, room=params[0][1:])]
        if command == "QUIT":
            reason = params[0] if params else ""
            return [Heard("left", nickname, reason.removeprefix("Quit: "))]
        if command == "PART":
            return [Heard("parted", nickname, room=params[0][1:])]
        if command == "NICK":
            if nickname == self.nickname:
                self.nickname = params[0]
            return [Heard("renamed", nickname, params[0])]
        if command == "TOPIC":
            return [Heard("topic", nickname, params[1], room=params[0][1:])]
        if command == "BATCH" and params[0].startswith("-"):
            return [Heard("historyEnd", batch=params[0][1:])]
        if command == "001":
            return [Heard("welcome", params[0])]
        if command == "332":
            return [Heard("topicIs", text=params[2], room=params[1][1:])]
        if command == "353":
            names = tuple(map(_bare, params[3].split()))
            return [Heard("names", room=params[2][1:], names=names, text="part")]
        if command == "366":
            return [Heard("names", room=params[1][1:], text="end")]
        if command in ("433", "FAIL") or command.startswith("4"):
            return [Heard("error", text=line)]
        if command == "ERROR":
            return [Heard("killed", text=params[-1] if params else "")]
        return [Heard("other", text=line)]

    def registered(self) -> IRCUser:
        self.expect("welcome")
        return self

    def say(self, text: str) -> None:
        self.client.sendLine(f"PRIVMSG #{self._room} :{text}")

    def command(self, line: str) -> None:
        self.client.sendLine(line)

    def _names(self, room: str) -> set[str]:
        names: set[str] = set()
        while True:
            part = self.expect(lambda h: h.kind == "names" and h.room == room)
            if part.text == "end":
                return names
            names.update(part.names)

    def join(self, room: str) -> Heard:
        self._room = room
        self.client.sendLine(f"JOIN #{room}")
        self.expect(lambda h: h == Heard("joined", self.nickname, room=room))
        return Heard("names", room=room, names=tuple(self._names(room)))

    def names(self, room: str) -> set[str]:
        self.client.sendLine(f"NAMES #{room}")
        return self._names(room)

    def history(self, room: str) -> list[str] | None:
        """
        The text of every line CHATHISTORY LATEST gives of C{room}; C{None}
        if history cannot be read.
        """
        self.client.sendLine(f"CHATHISTORY LATEST #{room} * {HISTORY_LIMIT}")
        start = self.expect(
            lambda h: h.kind == "error"
            or (h.kind == "other" and " BATCH +" in h.text and " chathistory " in h.text)
        )
        if start.kind == "error":
            return None
        batch = start.text.split(" BATCH +", 1)[1].split()[0]
        texts = []
        while True:
            line = self.expect(lambda h: h.kind in ("history", "historyEnd") and h.batch == batch)
            if line.kind == "historyEnd":
                return texts
            texts.append(line.text)

    def close(self) -> None:
        self.client.close()


class PageUser(User):
    """
    A user of the page's WebSocket, C{/chat} (docs/web.rst): native lines
    out, JSON in.
    """

    frontEnd = "web"

    def __init__(self, node: Node, nickname: str) -> None:
        super().__init__(node, nickname)
        self.socket = connect(f"ws://127.0.0.1:{node.server.webPort}/chat", open_timeout=TIMEOUT)
        self.socket.send(nickname)

    def _receive(self, deadline: float) -> dict | None:
        try:
            message = self.socket.recv(timeout=max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            return None
        return json.loads(message)

    def _isGone(self, error: Exception) -> bool:
        return isinstance(error, ConnectionClosed) or super()._isGone(error)

    def _parse(self, message: dict) -> list[Heard]:
        kind = message.get("type")
        if kind == "room":
            names = tuple(member["nickname"] for member in message["members"])
            topic = message.get("topic", "")
            return [Heard("names", room=message["room"], names=names, text=topic)]
        if kind == "error":
            return [Heard("error", text=message["text"])]
        if kind == "info":
            match = re.fullmatch(r"The topic of room (\S+): (.*)", message["text"])
            if match is not None:
                return [Heard("topicIs", text=match.group(2), room=match.group(1))]
            return [Heard("notice", text=message["text"])]
        if kind != "event":
            return [Heard("other", text=json.dumps(message))]
        event = message["kind"]
        sender = message.get("sender", {}).get("nickname", "")
        if event == "Said":
            return [Heard("said", sender, message["text"], room=message["room"])]
        if event == "Whispered" and not message.get("own"):
            return [Heard("private", sender, message["text"])]
        if event in ("Joined", "Arrived"):
            return [Heard("joined", sender, room=message["room"])]
        if event == "Left":
            return [Heard("left", sender, message.get("reason", ""))]
        if event in ("Parted", "Departed"):
            return [Heard("parted", sender, room=message["room"])]
        if event == "Renamed":
            if sender == self.nickname:
                self.nickname = message["new"]
            return [Heard("renamed", sender, message["new"])]
        if event == "TopicChanged":
            return [Heard("topic", sender, message["topic"], room=message["room"])]
        if event == "Moved":
            return [Heard("moved", room=message["room"])]
        if event == "Welcome":
            return [Heard("welcome", message["nickname"])]
        if event == "Announcement":
            return [Heard("announcement", text=message["what"])]
        if event == "Killed":
            return [Heard("killed", text=message.get("reason", ""))]
        return [Heard("other", text=json.dumps(message))]

    def registered(self) -> PageUser:
        self.expect("welcome")
        self.expect("names")
        return self

    def say(self, text: str) -> None:
        self.socket.send(text)

    def command(self, line: str) -> None:
        self.socket.send(line)

    def join(self, room: str) -> Heard:
        self.socket.send(f"/join {room}")
        self.expect(lambda h: h.kind == "moved" and h.room == room)
        return self.expect(lambda h: h.kind == "names" and h.room == room)

    def names(self, room: str) -> set[str]:
        self.socket.send("/who")
        return set(self.expect(lambda h: h.kind == "names" and h.room == room).names)

    def close(self) -> None:
        self.socket.close()


# The cluster


class Scope:
    """
    What L{freshDatabase}, L{RedisServer} and L{ThrowawayServer} ask of a
    test case (to fail or be skipped, to clean up after it, a temporary
    path), for what outlives one test: a class's cluster.  What they leave
    to clean up is done by L{close}, the latest first.
    """

    def __init__(self, testCase: SynchronousTestCase) -> None:
        self._testCase = testCase
        self._cleanups: list[tuple[Callable[..., object], tuple[object, ...]]] = []

    def fail(self, message: str) -> None:
        self._testCase.fail(message)

    def mktemp(self) -> str:
        return self._testCase.mktemp()

    def addCleanup(self, function: Callable[..., object], *arguments: object) -> None:
        self._cleanups.append((function, arguments))

    def close(self) -> None:
        errors = []
        while self._cleanups:
            function, arguments = self._cleanups.pop()
            try:
                function(*arguments)
            except Exception as error:
                errors.append(error)
        if errors:
            raise errors[0]


class Node:
    """
    One C{twistd -n chat --cluster} process, which may be killed and
    started again under its name (a new run, new ports).
    """

    def __init__(self, name: str, arguments: tuple[str, ...], workdir: str) -> None:
        self.name = name
        self._arguments = arguments
        self._workdir = workdir
        self._runs = 0
        self.server = ServerProcess()
        self.logs: list[bytes] = []

    def launch(self) -> None:
        self._runs += 1
        self.server = ServerProcess(
            *self._arguments, "--node-name", self.name, irc=True, web=True
        )
        self.server.launch(os.path.join(self._workdir, f"{self.name}-{self._runs}"))

    def running(self) -> bool:
        return self.server.running()

    def count(self, what: str) -> int:
        """
        How often this run has logged C{node NAME <what>}: C{joined the
        cluster} each time it reached Redis, C{lost the cluster} each time
        it lost it.
        """
        return self.server.output.count(f"node {self.name} {what}".encode())

    def kill(self) -> None:
        self.server.stop(signal.SIGKILL)

    def stop(self) -> None:
        if self.server.process is not None:
            self.server.stop()


class Cluster:
    """
    Nodes C{node1}... on one Redis and one PostgreSQL database.

    @ivar settled: when (C{time.monotonic()}) every node had last reached
        Redis, at the latest: from a lease's time after it, each takes
        nodes that stop renewing for gone.
    """

    def __init__(self, scope: Scope, redis: RedisServer, dsn: str, size: int) -> None:
        self.scope = scope
        self.redis = redis
        self.dsn = dsn
        workdir = os.path.abspath(scope.mktemp())
        arguments = ("--cluster", redis.url, "--store", dsn)
        self.nodes = [Node(f"node{n}", arguments, workdir) for n in range(1, size + 1)]
        self.settled = 0.0
        self.postgres: ThrowawayServer | None = None

    @classmethod
    def start(cls, scope: Scope, ownPostgreSQL: bool = False, size: int = 3) -> Cluster:
        """
        A cluster running, with what it needs; stopped by L{stop}.
        """
        try:
            if ownPostgreSQL:
                postgres = ThrowawayServer(scope)  # type: ignore[arg-type]
                dsn = postgres.dsn
            else:
                dsn = freshDatabase(scope)  # type: ignore[arg-type]
            cluster = cls(scope, RedisServer(scope), dsn, size)  # type: ignore[arg-type]
            if ownPostgreSQL:
                cluster.postgres = postgres
            scope.addCleanup(cluster._stopNodes)
            cluster.revive()
        except BaseException:
            scope.close()
            raise
        return cluster

    def revive(self) -> None:
        """
        Start every node that is not running (all, at first) at once, and
        wait until each listens, which it does once it has reached Redis.
        """
        dead = [node for node in self.nodes if not node.running()]
        for node in dead:
            node.launch()
        for node in dead:
            node.server.waitUntilListening()
        if dead:
            self.settled = time.monotonic()

    def _stopNodes(self) -> None:
        for node in self.nodes:
            node.stop()

    def stop(self) -> None:
        self.scope.close()

    def waitUntilEveryNode(self, what: str, counts: dict[Node, int], deadline: float) -> None:
        """
        Wait until every running node has logged C{what} once more than
        C{counts} says.
        """
        while True:
            behind = [n.name for n in self.nodes if n.running() and n.count(what) <= counts[n]]
            if not behind:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{', '.join(behind)} never logged {what!r}")
            time.sleep(0.02)

    def leases(self) -> tuple[set[str], set[str]]:
        """
        The nodes and the nickname keys Redis holds leases for now.
        """
        [keys] = self.redis.ask(["KEYS", "chatsvc:*"])
        names = {key.decode() for key in keys}  # type: ignore[union-attr]
        nodes = {n[len(NODE_PREFIX) :] for n in names if n.startswith(NODE_PREFIX)}
        nicknames = {n[len(NICKNAME_PREFIX) :] for n in names if n.startswith(NICKNAME_PREFIX)}
        return nodes, nicknames


def _testNames(testCase: type) -> list[str]:
    return [name for name in dir(testCase) if name.startswith("test")]


class ClusterTestCase(SynchronousTestCase):
    """
    Tests that share one cluster per class (see the module's docstring).

    @cvar ownPostgreSQL: whether the cluster has a PostgreSQL server of its
        own (to stop and start), rather than a database on the one
        C{CHATSVC_TEST_POSTGRESQL} names.
    """

    ownPostgreSQL = False
    _cluster: Cluster | None = None
    _remaining = 0

    def setUp(self) -> None:
        cls = type(self)
        if cls.__dict__.get("_cluster") is None:
            cluster = Cluster.start(Scope(self), self.ownPostgreSQL)
            atexit.register(cluster.stop)
            cls._cluster = cluster
            cls._remaining = len(_testNames(cls))
        self.cluster = cls.__dict__["_cluster"]
        self.cluster.revive()
        self.room = f"{self._testMethodName[5:20].lower()}{secrets.token_hex(2)}"

    def tearDown(self) -> None:
        cls = type(self)
        cls._remaining -= 1
        cluster = cls.__dict__.get("_cluster")
        if cluster is None:
            return
        outputs = [(node.name, node.server.output) for node in cluster.nodes]
        if cls._remaining <= 0:
            cls._cluster = None
            cluster.stop()
        for name, output in outputs:
            self.assertNotIn(b"Traceback", output, f"{name} logged a traceback")

    def node(self, number: int) -> Node:
        return self.cluster.nodes[number - 1]

    def _user(self, kind: type[User], number: int, nickname: str, room: str | None) -> Any:
        user = kind(self.node(number), nickname)
        self.addCleanup(user.close)
        user.registered()
        if room is not None:
            user.join(room)
        return user

    def native(self, number: int, nickname: str, room: str | None = None) -> NativeUser:
        """
        A native user on node C{number}, registered, in C{room} if given.
        """
        return self._user(NativeUser, number, nickname, room)

    def irc(self, number: int, nickname: str, room: str | None = None) -> IRCUser:
        return self._user(IRCUser, number, nickname, room)

    def page(self, number: int, nickname: str, room: str | None = None) -> PageUser:
        return self._user(PageUser, number, nickname, room)

    def gathered(self, users: list[User]) -> None:
        """
        Have C{users} enter the test's room one after another, each one
        in already told of every later one's coming.
        """
        for index, user in enumerate(users):
            user.join(self.room)
            for earlier in users[:index]:
                earlier.expect("joined", user.nickname)


# The check


@frozen
class _Line:
    text: str
    sender: User
    reach: tuple[User, ...]


class Ledger:
    """
    The lines said in one room during a fault test, who said each and who
    was to hear it, and at the end the issue's check (L{check}): every
    line any client saw is in history and reached every member that
    stayed connected.

    Only lines said through L{say} count, each with a text of its own,
    and only from members that stay: what a member said just before it
    was lost may or may not have left its node.  A line is to reach
    every member in the room when it is said (L{joined} and L{left} say
    who comes and goes), unless C{reach} says otherwise (a line said
    while the nodes cannot reach each other).
    """

    def __init__(self, room: str, members: list[User]) -> None:
        self.room = room
        self.tag = secrets.token_hex(3)
        self.members = list(members)
        self.everyone = list(members)
        self.departed: list[User] = []
        self.said: list[_Line] = []

    def joined(self, user: User) -> None:
        self.members.append(user)
        self.everyone.append(user)

    def left(self, user: User) -> None:
        self.members.remove(user)
        self.departed.append(user)

    def say(self, sender: User, reach: list[User] | None = None) -> str:
        """
        Have C{sender} say a line of its own to the room; its text.
        """
        text = f"{self.tag}-{len(self.said) + 1}-{sender.nickname}"
        sender.say(text)
        self.said.append(_Line(text, sender, tuple(self.members if reach is None else reach)))
        return text

    def _received(self, user: User) -> list[str]:
        return [text for text in user.lines() if text.startswith(self.tag + "-")]

    def _owed(self, user: User) -> set[str]:
        return {
            line.text
            for line in self.said
            if user in line.reach and line.sender is not user and line.sender not in self.departed
        }

    def _stayed(self) -> list[User]:
        return [user for user in self.everyone if user not in self.departed]

    def _missing(self, deadline: float) -> list[str]:
        """
        Read until every member that stayed has heard what it is owed, or
        C{deadline}; what is missing then.
        """
        missing = []
        for user in self._stayed():
            while not self._owed(user) <= set(self._received(user)):
                if not user.readOne(deadline):
                    break
            missing.extend(
                f"{user!r} never heard {text}"
                for text in sorted(self._owed(user) - set(self._received(user)))
            )
        return missing

    def settle(self) -> None:
        """
        Wait until every member that stayed has heard every line it is
        owed so far.
        """
        missing = self._missing(time.monotonic() + TIMEOUT)
        if missing:
            raise AssertionError("\n".join(missing))

    def check(
        self, testCase: SynchronousTestCase, history: Callable[[], list[str] | None]
    ) -> None:
        """
        (a) Every line said by a member that stayed reached every member
        that stayed and was to hear it, once, and any two members heard
        the lines they both heard in one order; (b) every line anyone saw,
        and every line said by a member that stayed, is in C{history} (the
        room's as one node tells it; asked again until it has them all,
        as saving may be catching up).
        """
        stayed = self._stayed()
        problems = self._missing(time.monotonic() + TIMEOUT)
        for user in self.everyone:
            user.pump()
        known = {line.text for line in self.said}
        for user in stayed:
            received = self._received(user)
            for text, times in Counter(received).items():
                if times > 1:
                    problems.append(f"{user!r} heard {text} {times} times")
            for text in set(received) - known:
                problems.append(f"{user!r} heard {text}, which nobody said")
        for index, one in enumerate(stayed):
            for other in stayed[index + 1 :]:
                both = set(self._received(one)) & set(self._received(other))
                first = [t for t in self._received(one) if t in both]
                second = [t for t in self._received(other) if t in both]
                if first != second:
                    problems.append(f"{one!r} and {other!r} heard lines in other orders")
        seen = {text for user in self.everyone for text in self._received(user)}
        kept = seen | {line.text for line in self.said if line.sender not in self.departed}
        found: list[str] | None = None
        deadline = time.monotonic() + TIMEOUT
        while True:
            found = history()
            if found is not None and kept <= set(found):
                break
            if time.monotonic() > deadline:
                missing = sorted(kept - set(found or ()))
                problems.append(f"history lacks {missing} (it has {found})")
                break
            time.sleep(0.2)
        if problems:
            testCase.fail("\n".join(problems))


# The tests


class ClusterTests(ClusterTestCase):
    """
    One chat across three nodes, and the faults it survives: a node killed,
    Redis restarted.
    """

    def test_chatAcrossFrontEnds(self) -> None:
        """
        A native user on node 1, an IRC user on node 2 and a page's user on
        node 3 share one room: each hears the others come and talk, every
        node lists all three, and private messages, a rename and a topic
        cross nodes.
        """
        ala = self.native(1, "ala")
        bob = self.irc(2, "bob")
        cyd = self.page(3, "cyd")
        ala.join(self.room)
        told = bob.join(self.room)
        self.assertEqual(set(told.names), {"ala", "bob"})
        ala.expect("joined", "bob")
        told = cyd.join(self.room)
        self.assertEqual(set(told.names), {"ala", "bob", "cyd"})
        ala.expect("joined", "cyd")
        bob.expect("joined", "cyd")
        for user in (ala, bob, cyd):
            self.assertEqual(user.names(self.room), {"ala", "bob", "cyd"}, user)

        for speaker in (ala, bob, cyd):
            text = f"{speaker.nickname} speaking from {speaker.node.name}"
            speaker.say(text)
            for listener in {ala, bob, cyd} - {speaker}:
                listener.expect("said", speaker.nickname, text)

        ala.command("/msg cyd psst, from node 1")
        cyd.expect("private", "ala", "psst, from node 1")
        cyd.command("/msg bob psst, from node 3")
        bob.expect("private", "cyd", "psst, from node 3")
        bob.command("PRIVMSG ala :psst, from node 2")
        ala.expect("private", "bob", "psst, from node 2")

        bob.command("NICK bobek")
        for user in (ala, bob, cyd):
            user.expect("renamed", "bob", "bobek")
        for user in (ala, bob, cyd):
            self.assertEqual(user.names(self.room), {"ala", "bobek", "cyd"}, user)

        ala.command("/topic Witamy na trzech węzłach")
        bob.expect("topic", "ala", "Witamy na trzech węzłach")
        cyd.expect("topic", "ala", "Witamy na trzech węzłach")
        bob.command(f"TOPIC #{self.room}")
        self.assertEqual(bob.expect("topicIs").text, "Witamy na trzech węzłach")
        cyd.command("/topic")
        self.assertEqual(cyd.expect("topicIs").text, "Witamy na trzech węzłach")
        for user in (ala, bob, cyd):
            self.assertEqual(user.gone(), [], user)

    def test_nodeKilled(self) -> None:
        """
        A node killed with SIGKILL: within 15 s its user leaves the other
        nodes' rooms, "Node lost", its nickname is free on another node at
        once, and the others chat on; every line anyone saw is in history
        and reached everyone who stayed.

        The 15 s are counted from the kill once every node has been in the
        cluster for a lease's time (12 s): before that a node takes nobody
        for gone (docs/cluster.rst, "A node killed"), so that after a Redis
        restart the others can take their leases again.  The test waits
        out that grace, chatting meanwhile, before it kills.
        """
        dora = self.native(1, "dora")
        emil = self.irc(2, "emil")
        fela = self.page(3, "fela")
        gosia = self.native(3, "gosia")
        users: list[User] = [dora, emil, fela, gosia]
        self.gathered(users)
        ledger = Ledger(self.room, users)
        for user in users:
            ledger.say(user)

        # The grace, chatting meanwhile.
        while time.monotonic() < self.cluster.settled + GRACE + 0.5:
            for user in users:
                ledger.say(user)
            time.sleep(1.0)
            for user in users:
                user.pump()
        ledger.settle()

        killed = time.monotonic()
        self.node(3).kill()
        for victim in (fela, gosia):
            ledger.left(victim)
        lost: dict[str, float] = {}
        while len(lost) < 4 and time.monotonic() < killed + NODE_LOST_WITHIN + 5:
            for observer in (dora, emil):
                for victim in (fela, gosia):
                    key = f"{victim.nickname} on {observer.node.name}"
                    if key not in lost and observer.take("left", victim.nickname) is not None:
                        lost[key] = time.monotonic() - killed
                observer.pump()
            time.sleep(0.02)
        log.info("from SIGKILL to Node lost: {lost}", lost=lost)
        self.assertEqual(len(lost), 4, f"not every departure came: {lost}")
        for key, seconds in lost.items():
            self.assertLessEqual(seconds, NODE_LOST_WITHIN, key)
        for observer in (dora, emil):
            reasons = {h.nickname: h.text for h in observer.heard if h.kind == "left"}
            self.assertEqual(reasons, {"fela": "Node lost", "gosia": "Node lost"}, observer)

        # Free at once on another node.
        fela2 = self.native(1, "fela")
        fela2.join(self.room)
        dora.expect("joined", "fela")
        emil.expect("joined", "fela")
        ledger.joined(fela2)
        for user in (dora, emil, fela2):
            self.assertEqual(user.names(self.room), {"dora", "emil", "fela"}, user)
        for user in (dora, emil, fela2, dora, emil, fela2):
            ledger.say(user)
        ledger.check(self, lambda: dora.history(self.room))
        for observer in (dora, emil, fela2):
            self.assertEqual(
                [h.nickname for h in observer.gone()],
                [] if observer is fela2 else ["fela", "gosia"],
                observer,
            )

    def test_redisRestarted(self) -> None:
        """
        Redis halted and started again on its port 3 s later: nobody is
        dropped; a line said meanwhile reaches its own node's members at
        once; once every node is back in the cluster, lines cross again,
        and every line anyone saw is in history.

        While Redis is down the nodes cannot reach each other, so a line
        said then reaches only the members on the node it was said on (the
        others read it in history): the ledger expects it only of them.
        """
        hela = self.native(1, "hela")
        iga = self.page(1, "iga")
        jan = self.irc(2, "jan")
        kuba = self.native(3, "kuba")
        users: list[User] = [hela, iga, jan, kuba]
        self.gathered(users)
        ledger = Ledger(self.room, users)
        for user in users:
            ledger.say(user)
        ledger.settle()

        lost = {node: node.count("lost the cluster") for node in self.cluster.nodes}
        joined = {node: node.count("joined the cluster") for node in self.cluster.nodes}
        halted = time.monotonic()
        self.cluster.redis.run("halt")
        self.cluster.waitUntilEveryNode("lost the cluster", lost, halted + TIMEOUT)
        for user in users:
            mates = [other for other in users if other.node is user.node]
            ledger.say(user, reach=mates)
        # Heard on their own node at once.
        ledger.settle()
        time.sleep(max(0.0, halted + REDIS_OUTAGE - time.monotonic()))
        self.cluster.redis.run("start")
        started = time.monotonic()
        self.cluster.waitUntilEveryNode("joined the cluster", joined, started + TIMEOUT)
        back = time.monotonic()
        self.cluster.settled = back
        log.info(
            "Redis down {down:.2f} s; every node back {back:.2f} s after it started",
            down=started - halted,
            back=back - started,
        )

        # Redis came back empty: the nodes take their leases again.
        deadline = time.monotonic() + TIMEOUT
        while True:
            nodes, nicknames = self.cluster.leases()
            if nodes == {"node1", "node2", "node3"} and nicknames >= {
                nameKey(user.nickname) for user in users
            }:
                break
            self.assertLess(time.monotonic(), deadline, f"leases: {nodes}, {nicknames}")
            time.sleep(0.1)
        for user in users:
            ledger.say(user)
        ledger.settle()
        # Past the time a node without renewals gives its clients up.
        while time.monotonic() < halted + LAPSE + 1.0:
            for user in users:
                user.pump()
            time.sleep(0.1)
        for user in users:
            ledger.say(user)
        for user in users:
            self.assertEqual(user.names(self.room), {"hela", "iga", "jan", "kuba"}, user)
            self.assertEqual(user.gone(), [], user)
        ledger.check(self, lambda: kuba.history(self.room))


class PostgreSQLOutageTests(ClusterTestCase):
    """
    A cluster whose PostgreSQL server goes down and comes back.
    """

    ownPostgreSQL = True

    def test_chatGoesOnAndHistoryCatchesUp(self) -> None:
        """
        While PostgreSQL is down the chat goes on across the nodes, and
        everyone hears that history is not being saved; once it is back,
        what was said meanwhile is in history (IRC CHATHISTORY).
        """
        assert self.cluster.postgres is not None
        lena = self.native(1, "lena")
        marek = self.irc(2, "marek")
        nina = self.page(3, "nina")
        users: list[User] = [lena, marek, nina]
        self.gathered(users)
        ledger = Ledger(self.room, users)
        for user in users:
            ledger.say(user)
        self.cluster.postgres.halt()
        for user in users + users:
            ledger.say(user)
        # Across the nodes, while nothing is saved.
        ledger.settle()
        for user in users:
            user.expect("announcement", text="history-failing")
        self.cluster.postgres.start()
        for user in users:
            # History tries again every 5 seconds.
            user.expect("announcement", text="history-back", timeout=TIMEOUT)
        for user in users:
            ledger.say(user)
        for user in users:
            self.assertEqual(user.gone(), [], user)
        ledger.check(self, lambda: marek.history(self.room))
