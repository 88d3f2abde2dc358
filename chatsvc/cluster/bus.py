"""
The cluster's bus on a real Redis: L{RedisBus}, an L{IBus} over two
connections (commands; the subscription, which in RESP2 can carry nothing
else), each kept up by a C{ClientService} so that a restarted Redis is
rejoined within about two seconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from urllib.parse import unquote, urlsplit

from attrs import field, frozen
from twisted.application.internet import ClientService, backoffPolicy
from twisted.application.service import Service
from twisted.internet.defer import Deferred, fail, gatherResults, inlineCallbacks
from twisted.internet.endpoints import HostnameEndpoint
from twisted.internet.error import ConnectError, DNSLookupError
from twisted.internet.protocol import Factory
from twisted.logger import Logger, globalLogPublisher
from zope.interface import implementer

from chatsvc.cluster.resp import RedisProtocol, Reply
from chatsvc.errors import BusError
from chatsvc.interfaces import IBus

DEFAULT_PORT = 6379
# Seconds to wait for a TCP connection to Redis.
CONNECT_TIMEOUT = 5.0
# How many keys SCAN is asked for at a time, and MGET given at a time.
BATCH = 1000
# Failed attempts after which a Redis never reached since starting is said
# to be unreachable (once): about two seconds of trying.
UNREACHABLE_AFTER = 6

# If the key holds the value, let it live PX milliseconds more / delete it:
# atomically, so that a key another node claimed meanwhile is left alone.
# Each key that holds the value lives on: a list of 1 (renewed) and 0.
RENEW = (
    "local renewed = {} for i, key in ipairs(KEYS) do"
    ' if redis.call("GET", key) == ARGV[1] then'
    ' renewed[i] = redis.call("PEXPIRE", key, ARGV[2]) else renewed[i] = 0 end'
    " end return renewed"
)
# Keys renewed by one EVAL: a node's thousands of nicknames in a few
# commands, none of which holds Redis for long.
RENEW_BATCH = 1000
RELEASE = (
    'if redis.call("GET", KEYS[1]) == ARGV[1] then'
    ' return redis.call("DEL", KEYS[1]) else return 0 end'
)

_GLOB = re.compile(r"([*?\[\]\\])")
_CLIENT_NAME = re.compile(r"[!-~]{1,100}")


@frozen
class RedisAddress:
    """
    Where a Redis is, from a C{redis://} URL; C{password} is kept out of
    C{repr} and of L{where}, so that neither logs it.
    """

    host: str
    port: int
    db: int
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)

    @property
    def where(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"redis://{host}:{self.port}/{self.db}"


def parseRedisURL(url: str) -> RedisAddress:
    """
    C{redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]} as a L{RedisAddress}
    (port 6379 and database 0 by default).

    @raise ValueError: saying what is wrong with C{url}, without its
        password.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise ValueError(f"not a redis:// URL: {error}") from None
    if parts.scheme == "rediss":
        raise ValueError("TLS to Redis (rediss://) is not supported; use redis://")
    if parts.scheme != "redis":
        raise ValueError(f"a Redis URL starts with redis://, not {parts.scheme or 'nothing'}")
    if not parts.hostname:
        raise ValueError("a Redis URL names a host: redis://HOST:PORT")
    if parts.query or parts.fragment:
        raise ValueError("a Redis URL has no ?query or #fragment")
    path = parts.path.lstrip("/")
    if not path:
        db = 0
    elif path.isdigit():
        db = int(path)
    else:
        raise ValueError(f"the database after the port is a number, not {path!r}")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if username and password is None:
        raise ValueError("a Redis user needs a password: redis://USER:PASSWORD@HOST")
    return RedisAddress(
        parts.hostname, DEFAULT_PORT if port is None else port, db, username, password
    )


def _withoutRetries(event: dict) -> None:
    if not event.get("log_format", "").startswith("Scheduling retry"):
        globalLogPublisher(event)


class _QuietClientService(ClientService):
    """
    A C{ClientService} that does not log each retry: at two seconds apart,
    an hour without Redis would be thousands of lines.  The bus says once
    when Redis is lost and once when it is back.
    """

    _log = Logger(observer=_withoutRetries)


class BusService(Service):
    """
    What every bus does about its own state: it is a service, and it
    tells those who asked when it connects and when it loses Redis
    (L{IBus.whenConnected}, L{IBus.whenDisconnected}).
    """

    connected = False

    def __init__(self) -> None:
        self._onConnected: list[Callable[[], None]] = []
        self._onDisconnected: list[Callable[[], None]] = []

    def whenConnected(self, callback: Callable[[], None]) -> None:
        self._onConnected.append(callback)

    def whenDisconnected(self, callback: Callable[[], None]) -> None:
        self._onDisconnected.append(callback)

    def _became(self, connected: bool) -> None:
        """
        The bus is now C{connected}, or not: say so.
        """
        self.connected = connected
        for callback in list(self._onConnected if connected else self._onDisconnected):
            callback()


@implementer(IBus)
class RedisBus(BusService):
    """
    An L{IBus} on the Redis at C{url} (see L{parseRedisURL}), naming its
    connections after C{clientName} (CLIENT LIST shows which node each
    is).

    Redis's channels are not per database: buses on different databases of
    one Redis hear each other's messages, so channel names should say
    which chat they carry.
    """

    log = Logger()

    def __init__(self, reactor, url: str, clientName: str) -> None:
        if not _CLIENT_NAME.fullmatch(clientName):
            raise ValueError(f"a Redis client name is printable ASCII, no spaces: {clientName!r}")
        self.address = parseRedisURL(url)
        super().__init__()
        self._reactor = reactor
        self._clientName = clientName
        self._receivers: dict[str, list[Callable[[bytes], None]]] = {}
        self._services: list[ClientService] = []
        # The command connection once ready; the subscriber once it has
        # sent its SUBSCRIBEs (to send later ones), and once confirmed.
        self._commands: RedisProtocol | None = None
        self._subscribing: RedisProtocol | None = None
        self._subscriber: RedisProtocol | None = None
        # Handshakes refused in a row (they slow the retries down), and
        # the last refusal logged, so that a wrong password is said once.
        self._refusals = 0
        self._refusal: str | None = None

    def __repr__(self) -> str:
        return f"<RedisBus {self.address.where} as {self._clientName}>"

    def startService(self) -> None:
        super().startService()
        self.log.info("Connecting to Redis at {where}", where=self.address.where)
        self._services = [
            self._keptUp(self._commandsReady, None),
            self._keptUp(self._subscriberReady, self._messageReceived),
        ]
        for service in self._services:
            service.startService()
        self._services[0].whenConnected(failAfterFailures=UNREACHABLE_AFTER).addErrback(
            self._unreachable
        )

    def stopService(self) -> Deferred[None]:
        super().stopService()
        services, self._services = self._services, []
        return gatherResults([service.stopService() for service in services]).addCallback(
            lambda _: None
        )

    def _keptUp(
        self,
        ready: Callable[[RedisProtocol], Deferred[None]],
        onMessage: Callable[[bytes, bytes], None] | None,
    ) -> ClientService:
        """
        A service that keeps one connection up: C{ready} makes each new
        one usable.
        """
        policy = backoffPolicy(initialDelay=0.1, maxDelay=2.0, factor=1.5)

        def connected(protocol: RedisProtocol) -> None:
            ready(protocol).addErrback(refused, protocol)

        def refused(failure, protocol: RedisProtocol) -> None:
            if protocol.connected:
                self._refused(failure.value)
                protocol.transport.loseConnection()

        def build() -> RedisProtocol:
            return RedisProtocol(self._reactor, connected, self._connectionLost, onMessage)

        endpoint = HostnameEndpoint(
            self._reactor, self.address.host, self.address.port, timeout=CONNECT_TIMEOUT
        )
        return _QuietClientService(
            endpoint,
            Factory.forProtocol(build),
            # ClientService counts failed TCP connections only; a refused
            # handshake (a wrong password) must slow the retries down too.
            retryPolicy=lambda attempt: policy(max(attempt, self._refusals)),
            clock=self._reactor,
        )

    def _handshake(self, protocol: RedisProtocol, name: str, select: bool) -> Deferred:
        commands = []
        if self.address.password is not None:
            credentials = [self.address.username] if self.address.username else []
            commands.append(protocol.command("AUTH", *credentials, self.address.password))
        if select and self.address.db:
            commands.append(protocol.command("SELECT", self.address.db))
        commands.append(protocol.command("CLIENT", "SETNAME", name))
        return _all(commands)

    @inlineCallbacks
    def _commandsReady(self, protocol: RedisProtocol):
        yield self._handshake(protocol, self._clientName, select=True)
        self._commands = protocol
        self._update()

    @inlineCallbacks
    def _subscriberReady(self, protocol: RedisProtocol):
        yield self._handshake(protocol, self._clientName + ":sub", select=False)
        self._subscribing = protocol
        yield _all([protocol.subscribe(channel) for channel in self._receivers])
        self._subscriber = protocol
        self._update()

    def _refused(self, error: Exception) -> None:
        self._refusals += 1
        why = getattr(error, "message", str(error))
        if why != self._refusal:
            self._refusal = why
            self.log.error(
                "Redis at {where} refused this node: {why}; trying again",
                where=self.address.where,
                why=why,
            )

    def _unreachable(self, failure) -> None:
        if failure.check(ConnectError, DNSLookupError):
            self.log.warn(
                "Cannot reach Redis at {where} ({why}); still trying",
                where=self.address.where,
                why=failure.getErrorMessage(),
            )

    def _connectionLost(self, protocol: RedisProtocol, why: str) -> None:
        if protocol is self._commands:
            self._commands = None
        if protocol is self._subscribing:
            self._subscribing = self._subscriber = None
        self._update(why)

    def _update(self, why: str = "") -> None:
        """
        Say whether the bus is connected, if that changed.
        """
        connected = self._commands is not None and self._subscriber is not None
        if connected == self.connected:
            return
        if connected:
            self._refusals = 0
            self._refusal = None
            self.log.info("Connected to Redis at {where}", where=self.address.where)
        else:
            if self.running:
                self.log.warn(
                    "Lost Redis at {where} ({why}); reconnecting",
                    where=self.address.where,
                    why=why,
                )
            else:
                self.log.info("Disconnected from Redis at {where}", where=self.address.where)
        self._became(connected)

    def _messageReceived(self, channel: bytes, data: bytes) -> None:
        name = channel.decode("utf-8", "replace")
        for receiver in list(self._receivers.get(name, ())):
            try:
                receiver(data)
            except Exception:
                self.log.failure("A receiver of {channel} failed", channel=name)

    def _command(self, *args: bytes | str | int) -> Deferred[Reply]:
        if not self.connected or self._commands is None:
            return fail(BusError(f"not connected to Redis at {self.address.where}"))
        return self._commands.command(*args)

    def publish(self, channel: str, data: bytes) -> Deferred[int]:
        return self._command("PUBLISH", channel, data)  # type: ignore[return-value]

    def subscribe(self, channel: str, receiver: Callable[[bytes], None]) -> None:
        if channel not in self._receivers and self._subscribing is not None:
            # Lost with the connection if it fails; the next one subscribes.
            self._subscribing.subscribe(channel).addErrback(lambda failure: None)
        self._receivers.setdefault(channel, []).append(receiver)

    def claim(self, key: str, value: str, ttl: float) -> Deferred[bool]:
        claimed = self._command("SET", key, value, "NX", "PX", _milliseconds(ttl))
        return claimed.addCallback(lambda reply: reply == "OK")

    def renew(self, keys: Sequence[str], value: str, ttl: float) -> Deferred[list[bool]]:
        batches = [
            self._command(
                "EVAL", RENEW, len(batch), *batch, value, _milliseconds(ttl)
            ).addCallback(lambda reply: [each == 1 for each in reply])
            for batch in (keys[i : i + RENEW_BATCH] for i in range(0, len(keys), RENEW_BATCH))
        ]
        return _all(batches).addCallback(lambda replies: [each for reply in replies for each in reply])

    def release(self, key: str, value: str) -> Deferred[bool]:
        released = self._command("EVAL", RELEASE, 1, key, value)
        return released.addCallback(lambda reply: reply == 1)

    def get(self, key: str) -> Deferred[str | None]:
        return self._command("GET", key).addCallback(_text)

    @inlineCallbacks
    def scan(self, prefix: str):
        pattern = _GLOB.sub(r"\\\1", prefix) + "*"
        keys: dict[bytes, None] = {}
        cursor = b"0"
        while True:
            cursor, batch = yield self._command(
                "SCAN", cursor, "MATCH", pattern, "COUNT", BATCH
            )
            keys.update(dict.fromkeys(batch))
            if cursor == b"0":
                break
        found: dict[str, str] = {}
        names = list(keys)
        for start in range(0, len(names), BATCH):
            batch = names[start : start + BATCH]
            values = yield self._command("MGET", *batch)
            for key, value in zip(batch, values):
                if value is not None:
                    found[key.decode("utf-8")] = value.decode("utf-8")
        return found


def _milliseconds(ttl: float) -> int:
    return max(1, round(ttl * 1000))


def _text(reply: Reply) -> str | None:
    return None if reply is None else reply.decode("utf-8")  # type: ignore[union-attr]


def _all(commands: list[Deferred]) -> Deferred:
    """
    Fires when every command has its reply, or fails with the first
    failure (the others' are consumed).
    """
    return gatherResults(commands, consumeErrors=True).addErrback(
        lambda failure: failure.value.subFailure
    )
