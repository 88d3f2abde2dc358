"""
Third-party IRC clients against the real server, with each other and with
native clients.

Two independent IRC implementations talk to C{twistd -n chat --irc-port}:
Twisted's own L{twisted.words.protocols.irc.IRCClient} and the PyPI C{irc}
package.  As in L{tests.test_integration}, no reactor runs in the test
process: IRCClient is fed from a blocking socket, and the C{irc} package
steps its own C{select} loop, both within deadlines.  Raw IRC lines (for
what no library would send) go through L{tests.harness.LineClient}.

Both libraries' reports are recorded in one vocabulary of small tuples (see
L{IRCPeer}), so that a story reads the same whichever client hears it, while
each library still does its own parsing: CTCP, prefixes, numerics, UTF-8.
"""

from __future__ import annotations

import signal
import socket
import time
from itertools import count
from typing import Any, TypeVar

import irc.client
import irc.events
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from twisted.words.protocols.irc import IRCClient, symbolic_to_numeric

from tests.harness import GOODBYE, TIMEOUT, LineClient, ServerProcess, ServerTestCase

SERVER = "chatsvc"
POLISH = "Zażółć gęślą jaźń"
# What CAP LS 302 offers, history's and accounts' capabilities included (the
# servers here keep history and accounts in a SQLite file).
OFFERED = (
    "account-notify account-tag away-notify batch cap-notify "
    "draft/account-registration=before-connect draft/chathistory "
    "draft/event-playback echo-message extended-join invite-notify message-tags multi-prefix "
    "sasl=PLAIN server-time setname userhost-in-names"
)


class _Any:
    def __eq__(self, other: object) -> bool:
        return True

    def __repr__(self) -> str:
        return "ANY"


ANY: Any = _Any()

_tokens = count()


# The clients


class IRCPeer:
    """
    An IRC client library connected to the server, and what it reported.

    C{heard} holds one tuple per report, in the order the library made them:

      - C{("message" | "notice" | "action", nick, target, text)}
      - C{("join" | "part", nick, channel)}, C{("quit", nick, reason)}
      - C{("nick", old, new)}, C{("topic", nick, channel, topic)} (a
        332 reply counts, with the server as C{nick})
      - C{("signedOn", nick)}, C{("pong", token)}, C{("error", text)},
        C{("closed",)}
      - C{(numeric, *params)} for every numeric reply, without its target

    C{rawLines} holds every line as the library framed it, decoded, without
    its line ending, and C{received} every byte read from the socket.
    """

    def __init__(self) -> None:
        self.heard: list[tuple[str, ...]] = []
        self.rawLines: list[str] = []
        self.received = bytearray()
        self.closed = False
        self._read = 0

    def pump(self, timeout: float) -> None:
        """
        Let the library read what has arrived, waiting at most C{timeout}.
        """
        raise NotImplementedError()

    def until(self, *pattern: object) -> list[tuple[str, ...]]:
        """
        The reports before the next one equal to C{pattern} (where L{ANY}
        matches any element), which is consumed with them.
        """
        deadline = time.monotonic() + TIMEOUT
        start = self._read
        while True:
            while self._read < len(self.heard):
                report = self.heard[self._read]
                self._read += 1
                if len(report) == len(pattern) and all(
                    p == r for p, r in zip(pattern, report)
                ):
                    return self.heard[start : self._read - 1]
            remaining = deadline - time.monotonic()
            if self.closed or remaining <= 0:
                raise AssertionError(
                    f"never heard {pattern!r}; heard {self.heard[start:]!r}"
                )
            self.pump(min(remaining, 0.2))

    def expect(self, *pattern: object) -> tuple[str, ...]:
        """
        Wait for the next report equal to C{pattern}, skipping others, and
        return it.
        """
        self.until(*pattern)
        return self.heard[self._read - 1]

    def expectNext(self, *pattern: object) -> tuple[str, ...]:
        """
        Insist that the next report equals C{pattern}.
        """
        before = self.until(*pattern)
        if before:
            raise AssertionError(f"heard {before!r} before {pattern!r}")
        return self.heard[self._read - 1]

    def sync(self) -> list[tuple[str, ...]]:
        """
        The reports that arrive before the answer to a PING sent now.

        The server answers one connection's lines in order, so whatever it
        had to say about lines sent earlier comes before.
        """
        token = f"sync{next(_tokens)}"
        self.sendRaw(f"PING {token}")
        return self.until("pong", token)

    def untilClosed(self) -> list[tuple[str, ...]]:
        """
        Every report until the server closes the connection.
        """
        return self.until("closed")

    def close(self) -> None:
        raise NotImplementedError()

    # Sending, one method per IRC command the stories need.

    def join(self, channels: str) -> None:
        raise NotImplementedError()

    def say(self, target: str, text: str) -> None:
        raise NotImplementedError()

    def notice(self, target: str, text: str) -> None:
        raise NotImplementedError()

    def act(self, target: str, text: str) -> None:
        raise NotImplementedError()

    def part(self, channel: str, reason: str = "") -> None:
        raise NotImplementedError()

    def rename(self, nickname: str) -> None:
        raise NotImplementedError()

    def setTopic(self, channel: str, topic: str) -> None:
        raise NotImplementedError()

    def away(self, message: str) -> None:
        raise NotImplementedError()

    def whois(self, nickname: str) -> None:
        raise NotImplementedError()

    def quit(self, reason: str = "") -> None:
        raise NotImplementedError()

    def sendRaw(self, line: str) -> None:
        raise NotImplementedError()


def _nick(user: str) -> str:
    return user.split("!", 1)[0]


class RecordingIRCClient(IRCClient):
    """
    Twisted's IRC client, reporting to an L{IRCPeer}'s log.
    """

    # Its keepalive is a LoopingCall on the global reactor, which does not
    # run here; the tests are far shorter than its 120 seconds anyway.
    heartbeatInterval = None

    def __init__(self, nickname: str, realname: str, peer: TwistedPeer) -> None:
        self.nickname = nickname
        self.realname = realname
        self.peer = peer

    def lineReceived(self, line: bytes) -> None:
        self.peer.rawLines.append(line.decode("utf-8"))
        super().lineReceived(line)

    def handleCommand(self, command: str, prefix: str, params: list[str]) -> None:
        numeric = symbolic_to_numeric.get(command)
        if numeric is not None:
            self.peer.heard.append((numeric, *params[1:]))
        elif command == "ERROR":
            self.peer.heard.append(("error", *params))
        elif command == "PONG":
            self.peer.heard.append(("pong", params[-1]))
        super().handleCommand(command, prefix, params)

    def signedOn(self) -> None:
        self.peer.heard.append(("signedOn", self.nickname))

    def privmsg(self, user: str, channel: str, message: str) -> None:
        self.peer.heard.append(("message", _nick(user), channel, message))

    def noticed(self, user: str, channel: str, message: str) -> None:
        self.peer.heard.append(("notice", _nick(user), channel, message))

    def action(self, user: str, channel: str, data: str) -> None:
        self.peer.heard.append(("action", _nick(user), channel, data))

    def joined(self, channel: str) -> None:
        self.peer.heard.append(("join", self.nickname, channel))

    def userJoined(self, user: str, channel: str) -> None:
        self.peer.heard.append(("join", _nick(user), channel))

    def left(self, channel: str) -> None:
        self.peer.heard.append(("part", self.nickname, channel))

    def userLeft(self, user: str, channel: str) -> None:
        self.peer.heard.append(("part", _nick(user), channel))

    def userQuit(self, user: str, quitMessage: str) -> None:
        self.peer.heard.append(("quit", _nick(user), quitMessage))

    def userRenamed(self, oldname: str, newname: str) -> None:
        self.peer.heard.append(("nick", oldname, newname))

    def nickChanged(self, nick: str) -> None:
        self.peer.heard.append(("nick", self.nickname, nick))
        super().nickChanged(nick)

    def topicUpdated(self, user: str, channel: str, newTopic: str) -> None:
        self.peer.heard.append(("topic", _nick(user), channel, newTopic))


class _SocketTransport(StringTransport):
    """
    A transport that writes straight to a blocking socket.
    """

    def __init__(self, sock: socket.socket) -> None:
        host, port = sock.getsockname()[:2]
        peerHost, peerPort = sock.getpeername()[:2]
        super().__init__(
            IPv4Address("TCP", host, port), IPv4Address("TCP", peerHost, peerPort)
        )
        self.socket = sock

    def write(self, data: bytes) -> None:
        self.socket.sendall(data)

    def writeSequence(self, data: list[bytes]) -> None:
        self.socket.sendall(b"".join(data))


class TwistedPeer(IRCPeer):
    """
    L{twisted.words.protocols.irc.IRCClient} over a blocking TCP socket: it
    registers (NICK, USER) as soon as it is connected.
    """

    def __init__(self, port: int, nickname: str, realname: str = "Twisted client") -> None:
        super().__init__()
        self.socket = socket.create_connection(("127.0.0.1", port), TIMEOUT)
        self.client = RecordingIRCClient(nickname, realname, self)
        self.client.makeConnection(_SocketTransport(self.socket))

    @property
    def nickname(self) -> str:
        return self.client.nickname

    def pump(self, timeout: float) -> None:
        self.socket.settimeout(timeout)
        try:
            data = self.socket.recv(65536)
        except socket.timeout:
            return
        except ConnectionResetError:
            data = b""
        if not data:
            self.closed = True
            self.client.connectionLost(Failure(ConnectionDone()))
            self.heard.append(("closed",))
            return
        self.received += data
        self.client.dataReceived(data)

    def close(self) -> None:
        self.socket.close()

    def join(self, channels: str) -> None:
        self.client.join(channels)

    def say(self, target: str, text: str) -> None:
        self.client.msg(target, text)

    def notice(self, target: str, text: str) -> None:
        self.client.notice(target, text)

    def act(self, target: str, text: str) -> None:
        self.client.describe(target, text)

    def part(self, channel: str, reason: str = "") -> None:
        self.client.leave(channel, reason or None)

    def rename(self, nickname: str) -> None:
        self.client.setNick(nickname)

    def setTopic(self, channel: str, topic: str) -> None:
        self.client.topic(channel, topic)

    def away(self, message: str) -> None:
        self.client.away(message)

    def whois(self, nickname: str) -> None:
        self.client.whois(nickname)

    def quit(self, reason: str = "") -> None:
        self.client.quit(reason)

    def sendRaw(self, line: str) -> None:
        self.client.sendLine(line)


# The irc package's names for numerics, back to their numbers.
_NUMERICS = {name: code for code, name in irc.events.numeric.items()}


class PackagePeer(IRCPeer):
    """
    The PyPI C{irc} package's client (C{irc.client.Reactor}), stepped with
    C{process_once}; it registers (NICK, USER) as soon as it is connected.
    """

    def __init__(self, port: int, nickname: str, realname: str = "irc package") -> None:
        super().__init__()
        self.reactor = irc.client.Reactor()
        self.reactor.add_global_handler("all_events", self._record, -100)
        self.connection = self.reactor.server()
        # Keep a handle on the socket to see the raw bytes and to close it.
        self.connection.connect(
            "127.0.0.1", port, nickname, ircname=realname,
            connect_factory=self._connect,
        )

    def _connect(self, address: tuple[str, int]) -> socket.socket:
        self.socket = socket.create_connection(address, TIMEOUT)
        peer = self

        class Recording:
            def __getattr__(self, name: str) -> Any:
                return getattr(peer.socket, name)

            def recv(self, size: int) -> bytes:
                data = peer.socket.recv(size)
                peer.received += data
                return data

            def fileno(self) -> int:
                return peer.socket.fileno()

        return Recording()  # type: ignore[return-value]

    @property
    def nickname(self) -> str:
        return self.connection.get_nickname()

    def _record(self, connection: object, event: irc.client.Event) -> None:
        kind = event.type
        # A NickMask, but a plain string for "disconnect".
        source = getattr(event.source, "nick", event.source)
        arguments = tuple(event.arguments)
        if kind == "all_raw_messages":
            self.rawLines.append(arguments[0])
        elif kind in ("pubmsg", "privmsg"):
            self.heard.append(("message", source, event.target, *arguments))
        elif kind in ("pubnotice", "privnotice"):
            self.heard.append(("notice", source, event.target, *arguments))
        elif kind == "action":
            self.heard.append(("action", source, event.target, *arguments))
        elif kind in ("join", "part"):
            self.heard.append((kind, source, event.target))
        elif kind == "quit":
            self.heard.append(("quit", source, *arguments))
        elif kind == "nick":
            self.heard.append(("nick", source, event.target))
        elif kind == "topic":
            self.heard.append(("topic", source, event.target, *arguments))
        elif kind == "error":
            self.heard.append(("error", event.target))
        elif kind == "pong":
            self.heard.append(("pong", arguments[-1]))
        elif kind == "disconnect":
            self.closed = True
            self.heard.append(("closed",))
        else:
            numeric = _NUMERICS.get(kind, kind if kind.isdigit() else None)
            if numeric is not None:
                self.heard.append((numeric, *arguments))
                if kind == "welcome":
                    self.heard.append(("signedOn", event.target))
                elif kind == "currenttopic":
                    self.heard.append(("topic", source, *arguments))

    def pump(self, timeout: float) -> None:
        self.reactor.process_once(timeout)

    def close(self) -> None:
        self.socket.close()

    def join(self, channels: str) -> None:
        self.connection.join(channels)

    def say(self, target: str, text: str) -> None:
        self.connection.privmsg(target, text)

    def notice(self, target: str, text: str) -> None:
        self.connection.notice(target, text)

    def act(self, target: str, text: str) -> None:
        self.connection.action(target, text)

    def part(self, channel: str, reason: str = "") -> None:
        self.connection.part(channel, reason and ":" + reason)

    def rename(self, nickname: str) -> None:
        self.connection.nick(nickname)

    def setTopic(self, channel: str, topic: str) -> None:
        self.connection.topic(channel, topic)

    def away(self, message: str) -> None:
        self.connection.send_raw(f"AWAY :{message}" if message else "AWAY")

    def whois(self, nickname: str) -> None:
        self.connection.whois(nickname)

    def quit(self, reason: str = "") -> None:
        self.connection.quit(reason)

    def sendRaw(self, line: str) -> None:
        self.connection.send_raw(line)


P = TypeVar("P", bound=IRCPeer)


class IRCTestCase(ServerTestCase):
    """
    A shared server with its IRC front-end, and helpers to meet on it.
    """

    irc = True

    def rawIRC(self) -> LineClient:
        """
        A plain line client on the IRC port, closed after the test.
        """
        assert self.server.ircPort is not None
        client = LineClient(self.server.ircPort)
        self.addCleanup(client.close)
        return client

    def register(self, client: LineClient, nickname: str) -> list[str]:
        """
        Register a raw client; the lines of its welcome, up to the MOTD's end.
        """
        client.sendLine(f"NICK {nickname}")
        client.sendLine(f"USER {nickname.lower()} 0 * :{nickname}")
        lines = client.readUntil(f":{SERVER} 376 {nickname} :End of /MOTD command.")
        self.assertEqual(lines[0].split()[:3], [f":{SERVER}", "001", nickname])
        return lines

    def peer(self, kind: type[P], nickname: str, channels: str | None = "#lobby") -> P:
        """
        A signed-on IRC client of library C{kind}, in C{channels} (joined
        at once), with everything up to the end of their NAMES read.
        """
        assert self.server.ircPort is not None
        peer = kind(self.server.ircPort, nickname)
        self.addCleanup(peer.close)
        peer.expect("signedOn", nickname)
        peer.expect("376", "End of /MOTD command.")
        if channels:
            peer.join(channels)
            for channel in channels.split(","):
                peer.expect("366", channel, "End of /NAMES list")
        return peer

    def twisted(self, nickname: str, channels: str | None = "#lobby") -> TwistedPeer:
        return self.peer(TwistedPeer, nickname, channels)

    def package(self, nickname: str, channels: str | None = "#lobby") -> PackagePeer:
        return self.peer(PackagePeer, nickname, channels)

    def meet(self, operator: str | None = None) -> tuple[TwistedPeer, PackagePeer, LineClient]:
        """
        Ola (IRCClient), Ewa (the irc package) and Bob (native) in #lobby,
        each having heard the others arrive, nothing left unread.

        Bob comes first, so is the channel's operator, unless C{operator}
        names Ola or Ewa, who then comes first.
        """
        if operator == "Ola":
            ola = self.twisted("Ola")
            (bob,) = self.connectAll("Bob")
            ola.expect("join", "Bob", "#lobby")
            ewa = self.package("Ewa")
            bob.expect("Ewa joined the chat!")
            ola.expect("join", "Ewa", "#lobby")
            return ola, ewa, bob
        if operator == "Ewa":
            ewa = self.package("Ewa")
            (bob,) = self.connectAll("Bob")
            ewa.expect("join", "Bob", "#lobby")
            ola = self.twisted("Ola")
            bob.expect("Ola joined the chat!")
            ewa.expect("join", "Ola", "#lobby")
            return ola, ewa, bob
        (bob,) = self.connectAll("Bob")
        ola = self.twisted("Ola")
        bob.expect("Ola joined the chat!")
        ewa = self.package("Ewa")
        bob.expect("Ewa joined the chat!")
        ola.expect("join", "Ewa", "#lobby")
        return ola, ewa, bob

    def marker(
        self, bob: LineClient, *peers: IRCPeer, text: str = "marker"
    ) -> list[list[tuple[str, ...]]]:
        """
        Bob says C{text}; what each of C{peers} heard before it.

        The server handles Bob's lines in order and tells everyone of an
        event in one go, so nothing that Bob caused earlier, nor anything
        caused with an effect the test has already seen, can arrive after it.
        """
        bob.sendLine(text)
        self.assertEqual(bob.readUntil(f"Bob: {text}"), [])
        return [peer.until("message", "Bob", "#lobby", text) for peer in peers]

    def assertNothingElse(self, bob: LineClient, *peers: IRCPeer) -> None:
        """
        Neither Bob nor any of C{peers} has heard anything unread.
        """
        self.assertEqual(self.marker(bob, *peers), [[] for _ in peers])

    def assertWellFormed(self, peer: IRCPeer) -> None:
        """
        Every line C{peer} received ends in CR LF, holds no other CR, LF or
        NUL, and is at most 512 bytes long with its line ending.
        """
        data = bytes(peer.received)
        self.assertTrue(data.endswith(b"\r\n"), data[-100:])
        for line in data[:-2].split(b"\r\n"):
            self.assertNotIn(b"\n", line)
            self.assertNotIn(b"\r", line)
            self.assertNotIn(b"\x00", line)
            self.assertLessEqual(
                len(line) + 2, 512, f"{len(line) + 2} bytes: {line[:60]!r}..."
            )


# The stories


class ChannelMessageTests(IRCTestCase):
    """
    Lines said in #lobby reach everyone in room lobby, whatever their client.
    """

    def test_fromTwistedClient(self) -> None:
        """
        A PRIVMSG to #lobby from IRCClient reaches the irc package and the
        native client; its sender hears no echo.
        """
        ola, ewa, bob = self.meet()
        ola.say("#lobby", "Hi everyone!")
        ewa.expectNext("message", "Ola", "#lobby", "Hi everyone!")
        bob.expect("Ola: Hi everyone!")
        self.assertNothingElse(bob, ola, ewa)

    def test_fromIRCPackage(self) -> None:
        """
        A PRIVMSG to #lobby from the irc package reaches IRCClient and the
        native client.
        """
        ola, ewa, bob = self.meet()
        ewa.say("#lobby", "Hi Ola!")
        ola.expectNext("message", "Ewa", "#lobby", "Hi Ola!")
        bob.expect("Ewa: Hi Ola!")
        self.assertNothingElse(bob, ola, ewa)

    def test_fromNative(self) -> None:
        """
        A native line reaches both IRC clients as a PRIVMSG to #lobby from
        C{Bob!Bob@127.0.0.1}.
        """
        ola, ewa, bob = self.meet()
        bob.sendLine("Hi both!")
        bob.expect("Bob: Hi both!")
        ola.expectNext("message", "Bob", "#lobby", "Hi both!")
        ewa.expectNext("message", "Bob", "#lobby", "Hi both!")
        self.assertIn(":Bob!Bob@127.0.0.1 PRIVMSG #lobby :Hi both!", ola.rawLines)

    def test_noticeToChannel(self) -> None:
        """
        A NOTICE to #lobby reaches IRC clients as a notice and native clients
        as the sender's chat line.
        """
        ola, ewa, bob = self.meet()
        ola.notice("#lobby", "Server restarts at noon")
        ewa.expectNext("notice", "Ola", "#lobby", "Server restarts at noon")
        bob.expect("Ola: Server restarts at noon")
        ewa.notice("#lobby", "Thanks")
        ola.expectNext("notice", "Ewa", "#lobby", "Thanks")
        bob.expect("Ewa: Thanks")
        self.assertNothingElse(bob, ola, ewa)

    def test_noticeToUser(self) -> None:
        """
        A NOTICE to a nickname reaches that user alone: as a notice on IRC,
        as a private line for a native user.
        """
        ola, ewa, bob = self.meet()
        ola.notice("Ewa", "psst")
        ewa.expectNext("notice", "Ola", "Ewa", "psst")
        ewa.notice("Bob", "psst too")
        bob.expect("*Ewa* psst too")
        self.assertNothingElse(bob, ola, ewa)

    def test_noticeToNobodyIsNotAnswered(self) -> None:
        """
        A NOTICE to nobody gets no error back, as RFC 2812 requires.
        """
        ola, ewa, bob = self.meet()
        ola.notice("Nobody", "hello?")
        ola.notice("#nowhere", "hello?")
        ewa.notice("#lobby", "")
        self.assertEqual(ola.sync(), [])
        self.assertEqual(ewa.sync(), [])
        self.assertNothingElse(bob, ola, ewa)

    def test_actionFromNative(self) -> None:
        """
        A native C{/me waves} reaches both IRC clients as a CTCP ACTION.
        """
        ola, ewa, bob = self.meet()
        bob.sendLine("/me waves")
        bob.expect("* Bob waves")
        ola.expectNext("action", "Bob", "#lobby", "waves")
        ewa.expectNext("action", "Bob", "#lobby", "waves")
        self.assertIn(":Bob!Bob@127.0.0.1 PRIVMSG #lobby :\x01ACTION waves\x01", ola.rawLines)

    def test_actionFromIRC(self) -> None:
        """
        A CTCP ACTION from either IRC client reaches the native client as
        C{* nick text} and the other IRC client as an action.
        """
        ola, ewa, bob = self.meet()
        ola.act("#lobby", "waves")
        bob.expect("* Ola waves")
        ewa.expectNext("action", "Ola", "#lobby", "waves")
        ewa.act("#lobby", "waves back")
        bob.expect("* Ewa waves back")
        ola.expectNext("action", "Ewa", "#lobby", "waves back")
        self.assertNothingElse(bob, ola, ewa)


class PrivateMessageTests(IRCTestCase):
    """
    Private messages between native and IRC users, and between IRC users.
    """

    def test_nativeToIRC(self) -> None:
        """
        A native C{/msg} reaches each IRC client as a PRIVMSG to its nick.
        """
        ola, ewa, bob = self.meet()
        bob.sendLine("/msg Ola Cześć Ola")
        bob.expect("-> *Ola* Cześć Ola")
        ola.expectNext("message", "Bob", "Ola", "Cześć Ola")
        bob.sendLine("/msg ewa Cześć Ewa")
        bob.expect("-> *Ewa* Cześć Ewa")
        ewa.expectNext("message", "Bob", "Ewa", "Cześć Ewa")
        self.assertNothingElse(bob, ola, ewa)

    def test_IRCToNative(self) -> None:
        """
        A PRIVMSG to a native user's nick reaches them as C{*nick* text}.
        """
        ola, ewa, bob = self.meet()
        ola.say("Bob", "from Twisted")
        bob.expect("*Ola* from Twisted")
        ewa.say("bob", "from the irc package")
        bob.expect("*Ewa* from the irc package")
        self.assertNothingElse(bob, ola, ewa)

    def test_IRCToIRC(self) -> None:
        """
        PRIVMSGs between the two IRC clients reach the other one alone, and
        are not echoed.
        """
        ola, ewa, bob = self.meet()
        ola.say("Ewa", "ping?")
        ewa.expectNext("message", "Ola", "Ewa", "ping?")
        ewa.say("Ola", "pong!")
        ola.expectNext("message", "Ewa", "Ola", "pong!")
        self.assertNothingElse(bob, ola, ewa)

    def test_privateActionFromIRC(self) -> None:
        """
        A CTCP ACTION sent to a nick reaches a native user as a private
        action and an IRC user as an action to them.
        """
        ola, ewa, bob = self.meet()
        ola.act("Bob", "nudges you")
        bob.expect("*Ola* * Ola nudges you")
        ola.act("Ewa", "nudges you")
        ewa.expectNext("action", "Ola", "Ewa", "nudges you")
        self.assertNothingElse(bob, ola, ewa)

    def test_toNobody(self) -> None:
        """
        A PRIVMSG to nobody is answered with 401.
        """
        ola = self.twisted("Ola", channels=None)
        ola.say("Nobody", "hello?")
        ola.expectNext("401", "Nobody", "No such nick/channel")

    def test_awayReply(self) -> None:
        """
        Whoever messages an away IRC user is told why with 301, the message
        still arrives, and once back no 301 follows.
        """
        ola, ewa, bob = self.meet()
        ola.away("Na obiedzie")
        ola.expectNext("306", "You have been marked as being away")
        ewa.say("Ola", "are you there?")
        ewa.expectNext("301", "Ola", "Na obiedzie")
        ola.expectNext("message", "Ewa", "Ola", "are you there?")
        ola.away("")
        ola.expectNext("305", "You are no longer marked as being away")
        ewa.say("Ola", "and now?")
        ola.expectNext("message", "Ewa", "Ola", "and now?")
        self.assertNothingElse(bob, ola, ewa)

    def test_awayNoticeIsNotAnswered(self) -> None:
        """
        A NOTICE to an away user gets no 301.
        """
        ola, ewa, bob = self.meet()
        ola.away("Na obiedzie")
        ola.expectNext("306", "You have been marked as being away")
        ewa.notice("Ola", "fyi")
        ola.expectNext("notice", "Ewa", "Ola", "fyi")
        self.assertNothingElse(bob, ola, ewa)


class NicknameChangeTests(IRCTestCase):
    """
    Nickname changes, seen from the other kind of client.
    """

    def test_native(self) -> None:
        """
        A native C{/nick} reaches IRC clients as NICK.
        """
        ola, ewa, bob = self.meet()
        bob.sendLine("/nick Robert")
        bob.expect("Bob is now known as Robert.")
        ola.expectNext("nick", "Bob", "Robert")
        ewa.expectNext("nick", "Bob", "Robert")
        self.assertIn(":Bob!Bob@127.0.0.1 NICK Robert", ola.rawLines)

    def test_IRC(self) -> None:
        """
        An IRC NICK reaches native clients as C{X is now known as Y.}, the
        other IRC client as NICK, and the sender as its own NICK.
        """
        ola, ewa, bob = self.meet()
        ola.rename("Aleksandra")
        ola.expectNext("nick", "Ola", "Aleksandra")
        self.assertEqual(ola.nickname, "Aleksandra")
        ewa.expectNext("nick", "Ola", "Aleksandra")
        bob.expect("Ola is now known as Aleksandra.")
        ewa.rename("Ewelina")
        ewa.expectNext("nick", "Ewa", "Ewelina")
        self.assertEqual(ewa.nickname, "Ewelina")
        ola.expectNext("nick", "Ewa", "Ewelina")
        bob.expect("Ewa is now known as Ewelina.")
        ewa.say("#lobby", "new name")
        ola.expectNext("message", "Ewelina", "#lobby", "new name")
        bob.expect("Ewelina: new name")

    def test_polish(self) -> None:
        """
        A nickname with Polish letters crosses both ways.
        """
        ola, ewa, bob = self.meet()
        ola.rename("Łucja")
        bob.expect("Ola is now known as Łucja.")
        ewa.expectNext("nick", "Ola", "Łucja")
        bob.sendLine("/nick Bożydar")
        bob.expect("Bob is now known as Bożydar.")
        ola.expect("nick", "Bob", "Bożydar")
        ewa.expectNext("nick", "Bob", "Bożydar")

    def test_taken(self) -> None:
        """
        An IRC NICK to a nickname a native user holds is refused with 433,
        and nobody hears of it.
        """
        ola, ewa, bob = self.meet()
        ewa.rename("bob")
        ewa.expectNext("433", "bob", "Nickname is already in use")
        self.assertEqual(ewa.nickname, "Ewa")
        self.assertNothingElse(bob, ola, ewa)

    def test_erroneous(self) -> None:
        """
        An IRC NICK to a name the server's rule refuses gets 432.
        """
        ola, ewa, bob = self.meet()
        ewa.rename("1abc")
        ewa.expectNext("432", "1abc", "Erroneous nickname")
        self.assertNothingElse(bob, ola, ewa)


class ComingAndGoingTests(IRCTestCase):
    """
    Joins, parts and quits, announced across front-ends.
    """

    def test_IRCJoin(self) -> None:
        """
        An IRC JOIN to #lobby is announced to native clients as a join, and
        the joiner's NAMES lists the native users too (the first one in as
        the operator).
        """
        (bob,) = self.connectAll("Bob")
        ola = self.twisted("Ola", channels=None)
        ola.join("#lobby")
        ola.expect("join", "Ola", "#lobby")
        self.assertEqual(
            ola.until("366", "#lobby", "End of /NAMES list"),
            [("353", "=", "#lobby", "@Bob Ola")],
        )
        bob.expect("Ola joined the chat!")

    def test_nativeArrival(self) -> None:
        """
        A native client that registers is announced to IRC clients in #lobby
        as a JOIN.
        """
        ola = self.twisted("Ola")
        ewa = self.package("Ewa")
        ola.expect("join", "Ewa", "#lobby")
        (bob,) = self.connectAll("Bob")
        ola.expectNext("join", "Bob", "#lobby")
        ewa.expectNext("join", "Bob", "#lobby")

    def test_IRCQuitWithReason(self) -> None:
        """
        An IRC QUIT with a reason: native clients read it in parentheses,
        IRC clients as C{Quit: reason}, and the quitter gets ERROR and EOF.
        """
        ola, ewa, bob = self.meet()
        ewa.quit("Idę na rower")
        ewa.until("error", "Closing Link: 127.0.0.1 (Quit: Idę na rower)")
        self.assertEqual(ewa.untilClosed(), [])
        bob.expect("Ewa left the chat (Idę na rower).")
        ola.expectNext("quit", "Ewa", "Quit: Idę na rower")
        self.assertNothingElse(bob, ola)

    def test_IRCQuitWithoutReason(self) -> None:
        """
        A bare IRC QUIT is a plain leave for native clients.
        """
        ola, ewa, bob = self.meet()
        ola.quit()
        ola.expect("error", "Closing Link: 127.0.0.1 (Client quit)")
        self.assertEqual(ola.untilClosed(), [])
        bob.expect("Ola left the chat.")
        ewa.expectNext("quit", "Ola", "Client quit")
        self.assertNothingElse(bob, ewa)

    def test_IRCConnectionDropped(self) -> None:
        """
        An IRC client that just closes its socket leaves like a native one
        that does: a plain leave for native clients, C{Client quit} on IRC.
        """
        ola, ewa, bob = self.meet()
        ola.close()
        (_, _, reason) = ewa.expectNext("quit", "Ola", ANY)
        self.assertEqual((bob.readLine(), reason), ("Ola left the chat.", "Client quit"))
        self.assertNothingElse(bob, ewa)

    def test_nativeQuit(self) -> None:
        """
        A native C{/quit} reaches IRC clients as QUIT, with its reason if any.
        """
        ola, ewa, bob = self.meet()
        bob.sendLine("/quit")
        self.assertEqual(bob.readUntilClosed(), [])
        ola.expectNext("quit", "Bob", "Client quit")
        ewa.expectNext("quit", "Bob", "Client quit")
        (carol,) = self.connectAll("Carol")
        ola.expectNext("join", "Carol", "#lobby")
        ewa.expectNext("join", "Carol", "#lobby")
        carol.sendLine("/quit Do jutra")
        self.assertEqual(carol.readUntilClosed(), [])
        ola.expectNext("quit", "Carol", "Quit: Do jutra")
        ewa.expectNext("quit", "Carol", "Quit: Do jutra")

    def test_longNativeQuitReasonFitsInALine(self) -> None:
        """
        A native C{/quit} with a reason of 1,500 bytes reaches IRC clients
        as a QUIT of at most 512 bytes.
        """
        ola, ewa, bob = self.meet()
        reason = " ".join(["do widzenia"] * 125)[:1500]
        bob.sendLine("/quit " + reason)
        self.assertEqual(bob.readUntilClosed(), [])
        (_, _, heard) = ola.expectNext("quit", "Bob", ANY)
        self.assertTrue(("Quit: " + reason).startswith(heard), heard)
        ewa.expectNext("quit", "Bob", ANY)
        self.assertWellFormed(ola)
        self.assertWellFormed(ewa)

    def test_longPartAndQuitReasonsFitInALine(self) -> None:
        """
        The longest PART and QUIT lines an IRC client may send, in two-byte
        letters, reach the other IRC client in lines of at most 512 bytes.
        """
        ola, ewa, bob = self.meet()
        command = "PART #lobby :"
        ewa.sendRaw(command + "ź" * ((510 - len(command)) // 2))
        ola.expectNext("part", "Ewa", "#lobby")
        bob.readLine()
        ewa.join("#lobby")
        ola.expectNext("join", "Ewa", "#lobby")
        bob.expect("Ewa joined the chat!")
        command = "QUIT :"
        ewa.sendRaw(command + "ź" * ((510 - len(command)) // 2))
        ola.expectNext("quit", "Ewa", ANY)
        bob.readLine()
        self.assertWellFormed(ola)

    def test_part(self) -> None:
        """
        An IRC PART with a reason reaches native clients as leaving the room
        and IRC clients as PART with the reason; the parter stays connected.
        """
        ola, ewa, bob = self.meet()
        ewa.part("#lobby", "Zaraz wracam")
        ewa.expectNext("part", "Ewa", "#lobby")
        ola.expectNext("part", "Ewa", "#lobby")
        self.assertIn(":Ewa!~Ewa@127.0.0.1 PART #lobby :Zaraz wracam", ola.rawLines)
        bob.expect("Ewa left room lobby (Zaraz wracam).")
        ewa.say("Ola", "still here")
        ola.expectNext("message", "Ewa", "Ola", "still here")
        ola.part("#lobby")
        ola.expectNext("part", "Ola", "#lobby")
        bob.expect("Ola left room lobby.")
        self.assertIn(":Ola!~Ola@127.0.0.1 PART #lobby", ola.rawLines)
        self.assertNothingElse(bob)

    def test_nativeChangesRoom(self) -> None:
        """
        A native C{/join} is a PART of the old channel (naming the new one)
        and a JOIN of the new one.
        """
        ola, ewa, bob = self.meet()
        ewa.join("#garden")
        ewa.expect("366", "#garden", "End of /NAMES list")
        bob.sendLine("/join garden")
        bob.expect("You are now in room garden (2 members).")
        ola.expectNext("part", "Bob", "#lobby")
        self.assertIn(":Bob!Bob@127.0.0.1 PART #lobby :went to #garden", ola.rawLines)
        ewa.expectNext("part", "Bob", "#lobby")
        ewa.expectNext("join", "Bob", "#garden")
        bob.sendLine("in the garden")
        bob.expect("Bob: in the garden")
        ewa.expectNext("message", "Bob", "#garden", "in the garden")
        ewa.say("#garden", "welcome")
        bob.expect("Ewa: welcome")

    def test_quitHeardOnceAcrossChannels(self) -> None:
        """
        Someone who shares three channels with you quits once, not thrice.
        """
        ola = self.twisted("Ola", channels="#lobby,#a,#b")
        ewa = self.package("Ewa", channels="#lobby,#a,#b")
        for channel in ("#lobby", "#a", "#b"):
            ola.expect("join", "Ewa", channel)
        ewa.quit("bye")
        ola.expectNext("quit", "Ewa", "Quit: bye")
        (bob,) = self.connectAll("Bob")
        ola.expectNext("join", "Bob", "#lobby")
        self.assertNothingElse(bob, ola)


class TopicTests(IRCTestCase):
    """
    Channel topics set on IRC, seen everywhere.
    """

    def setUp(self) -> None:
        super().setUp()
        # The lobby outlives each test, and native clients are shown its
        # topic on entering it: the next test starts without one.
        self.addCleanup(self.clearLobbyTopic)

    def clearLobbyTopic(self) -> None:
        client = self.rawIRC()
        self.register(client, "cleaner")
        client.sendLine("JOIN #lobby")
        client.sendLine("TOPIC #lobby :")
        client.sendLine("QUIT")
        client.readUntilClosed()

    def test_setByIRC(self) -> None:
        """
        A TOPIC set on IRC reaches native clients as a notice, IRC clients as
        TOPIC (the setter included), and later joiners as 332.
        """
        ola, ewa, bob = self.meet(operator="Ola")
        ola.setTopic("#lobby", POLISH)
        ola.expectNext("topic", "Ola", "#lobby", POLISH)
        ewa.expectNext("topic", "Ola", "#lobby", POLISH)
        bob.expect(f"Ola set the topic of room lobby: {POLISH}")
        ewa.part("#lobby")
        ewa.expect("part", "Ewa", "#lobby")
        bob.expect("Ewa left room lobby.")
        ewa.join("#lobby")
        ewa.expect("topic", SERVER, "#lobby", POLISH)
        bob.expect("Ewa joined the chat!")
        ewa.sendRaw("TOPIC #lobby")
        ewa.expect("332", "#lobby", POLISH)
        ewa.sendRaw("LIST #lobby")
        ewa.expect("322", "#lobby", "3", POLISH)
        ola.setTopic("#lobby", "")
        bob.expect("Ola cleared the topic of room lobby.")
        ewa.expect("topic", "Ola", "#lobby", "")

    def test_notInChannel(self) -> None:
        """
        A TOPIC for a channel one is not in is refused with 442.
        """
        ola, ewa, bob = self.meet()
        ola.join("#a")
        ola.expect("366", "#a", "End of /NAMES list")
        ewa.setTopic("#a", "mine")
        ewa.expectNext("442", "#a", "You're not on that channel")
        self.assertNothingElse(bob, ola, ewa)

    def test_lineBreakInjection(self) -> None:
        """
        A CR inside a TOPIC line cannot start a new line for anyone: IRC
        clients see a space, native clients a visible control picture.
        """
        ola, ewa, bob = self.meet(operator="Ewa")
        ewa.sendRaw("TOPIC #lobby :calm\rQUIT :pwned")
        ewa.expectNext("topic", "Ewa", "#lobby", "calm QUIT :pwned")
        ola.expectNext("topic", "Ewa", "#lobby", "calm QUIT :pwned")
        bob.expect("Ewa set the topic of room lobby: calm\u240dQUIT :pwned")
        self.assertNothingElse(bob, ola, ewa)
        self.assertIn(b":Ewa!~Ewa@127.0.0.1 TOPIC #lobby :calm QUIT :pwned\r\n", ola.received)
        self.assertWellFormed(ola)

    def test_longPolishTopicFitsInALine(self) -> None:
        """
        The longest TOPIC line a client may send, in two-byte letters,
        reaches the others in lines of at most 512 bytes.
        """
        ola, ewa, bob = self.meet(operator="Ewa")
        command = "TOPIC #lobby :"
        topic = "ż" * ((510 - len(command)) // 2)
        ewa.sendRaw(command + topic)
        (_, _, _, heard) = ola.expect("topic", "Ewa", "#lobby", ANY)
        self.assertTrue(topic.startswith(heard), heard)
        self.assertTrue(bob.readLine().startswith("Ewa set the topic of room lobby: ż"))
        ewa.sendRaw("TOPIC #lobby")
        ewa.expect("332", "#lobby", ANY)
        ewa.sendRaw("LIST #lobby")
        ewa.expect("322", "#lobby", "3", ANY)
        ewa.expectNext("323", "End of /LIST")
        self.assertNothingElse(bob, ola, ewa)
        self.assertWellFormed(ola)
        self.assertWellFormed(ewa)


class ChannelsTests(IRCTestCase):
    """
    IRC clients in several channels at once, native clients in one.
    """

    def test_joinSeveralAtOnce(self) -> None:
        """
        C{JOIN #a,#b} joins both; a line said in #b reaches #b alone.
        """
        ola = self.twisted("Ola", channels="#a,#b")
        ewa = self.package("Ewa", channels="#b")
        ola.expectNext("join", "Ewa", "#b")
        ola.say("#a", "only me here")
        ola.say("#b", "hello #b")
        ewa.expectNext("message", "Ola", "#b", "hello #b")
        ewa.whois("Ola")
        ewa.expect("319", "Ola", "@#a @#b")

    def test_nativeMeetsIRCInAnotherRoom(self) -> None:
        """
        A native user who moves to room a talks with IRC users in #a.
        """
        ola, ewa, bob = self.meet()
        ola.join("#a")
        ola.expect("366", "#a", "End of /NAMES list")
        bob.sendLine("/join a")
        bob.expect("You are now in room a (2 members).")
        ola.expectNext("part", "Bob", "#lobby")
        ola.expectNext("join", "Bob", "#a")
        ewa.expectNext("part", "Bob", "#lobby")
        bob.sendLine("tu jestem")
        bob.expect("Bob: tu jestem")
        ola.expectNext("message", "Bob", "#a", "tu jestem")
        ola.say("#a", "witaj")
        bob.expect("Ola: witaj")
        ola.say("#lobby", "lobby only")
        ewa.expectNext("message", "Ola", "#lobby", "lobby only")
        ola.say("#a", "marker")
        self.assertEqual(bob.readUntil("Ola: marker"), [])

    def test_sayInChannelNotJoined(self) -> None:
        """
        A PRIVMSG to a channel one is not in is refused with 404 and heard
        by nobody.
        """
        ola, ewa, bob = self.meet()
        ewa.join("#a")
        ewa.expect("366", "#a", "End of /NAMES list")
        ola.say("#a", "let me in")
        ola.expectNext("404", "#a", "Cannot send to channel")
        self.assertNothingElse(bob, ola, ewa)


class TextTests(IRCTestCase):
    """
    What text survives the trip between front-ends.
    """

    def test_polishBothWays(self) -> None:
        """
        Polish letters cross from native to IRC, from IRC to native, and
        between the two IRC clients, unchanged.
        """
        ola, ewa, bob = self.meet()
        bob.sendLine(POLISH)
        bob.expect(f"Bob: {POLISH}")
        ola.expectNext("message", "Bob", "#lobby", POLISH)
        ewa.expectNext("message", "Bob", "#lobby", POLISH)
        ola.say("#lobby", "Źdźbło żółwia")
        bob.expect("Ola: Źdźbło żółwia")
        ewa.expectNext("message", "Ola", "#lobby", "Źdźbło żółwia")
        ewa.say("Ola", "Pchnąć w tę łódź jeża")
        ola.expectNext("message", "Ewa", "Ola", "Pchnąć w tę łódź jeża")
        ewa.act("#lobby", "pije herbatę")
        bob.expect("* Ewa pije herbatę")
        ola.expectNext("action", "Ewa", "#lobby", "pije herbatę")

    def test_longNativeLineIsSplit(self) -> None:
        """
        A native line of 2000 bytes reaches IRC clients as several PRIVMSGs,
        each at most 512 bytes, that put back together give the line.
        """
        ola, ewa, bob = self.meet()
        words = " ".join(f"word{n:04d}" for n in range(222))
        text = (words + " " + "x" * 2000)[:2000]
        bob.sendLine(text)
        bob.expect(f"Bob: {text}")
        for peer in (ola, ewa):
            pieces = self.collect(peer, bob, "message")
            self.assertGreater(len(pieces), 3)
            self.assertEqual(" ".join(pieces), text)
            self.assertWellFormed(peer)

    def test_longPolishLineIsSplitBetweenCharacters(self) -> None:
        """
        A native line of 1000 two-byte letters and no spaces is split between
        characters, never inside one.
        """
        ola, ewa, bob = self.meet()
        text = "żó" * 500
        bob.sendLine(text)
        bob.expect(f"Bob: {text}")
        for peer in (ola, ewa):
            pieces = self.collect(peer, bob, "message")
            self.assertGreater(len(pieces), 3)
            self.assertEqual("".join(pieces), text)
            self.assertWellFormed(peer)

    def test_longNativeActionIsSplit(self) -> None:
        """
        A long native C{/me} reaches IRC clients as several ACTIONs.
        """
        ola, ewa, bob = self.meet()
        text = " ".join(["tańczy"] * 250)
        bob.sendLine("/me " + text)
        bob.expect(f"* Bob {text}")
        for peer in (ola, ewa):
            pieces = self.collect(peer, bob, "action")
            self.assertGreater(len(pieces), 1)
            self.assertEqual(" ".join(pieces), text)
            self.assertWellFormed(peer)

    def collect(self, peer: IRCPeer, bob: LineClient, kind: str) -> list[str]:
        """
        The texts of the C{kind} reports from Bob to #lobby that C{peer}
        has heard, and nothing else, up to a marker.
        """
        (heard,) = self.marker(bob, peer, text=f"end of {kind}s")
        for report in heard:
            self.assertEqual(report[:3], (kind, "Bob", "#lobby"))
        return [report[3] for report in heard]

    def test_longestIRCLinesFitWhole(self) -> None:
        """
        The longest PRIVMSG and ACTION that fit in an IRC line once the
        sender's prefix is in front reach native clients and the other IRC
        client whole, in one line each; a letter more gets 417, and nobody
        hears it.
        """
        ola, ewa, bob = self.meet()
        relayed = ":Ewa!~Ewa@127.0.0.1 PRIVMSG #lobby :"
        text = "ą" * ((510 - len(relayed)) // 2)
        ewa.sendRaw("PRIVMSG #lobby :" + text)
        bob.expect(f"Ewa: {text}")
        action = "ę" * ((510 - len(relayed) - len("\x01ACTION \x01")) // 2)
        ewa.act("#lobby", action)
        bob.expect(f"* Ewa {action}")
        heard = self.marker(bob, ola)[0]
        self.assertEqual(
            [(report[0], report[3]) for report in heard], [("message", text), ("action", action)]
        )
        ewa.sendRaw("PRIVMSG #lobby :" + text + "ą")
        ewa.act("#lobby", action + "ę")
        ewa.sync()
        refused = [line for line in ewa.rawLines if line.split()[1:2] == ["417"]]
        self.assertEqual(refused, [f":{SERVER} 417 Ewa :Input line was too long"] * 2)
        self.assertNothingElse(bob, ola)
        self.assertWellFormed(ola)

    def test_lineBreakInNativeText(self) -> None:
        """
        A CR or NUL inside a native line never starts a new IRC line.
        """
        ola, ewa, bob = self.meet()
        bob.send(b"calm\rQUIT :pwned\x00\r\n")
        bob.expect("Bob: calm\u240dQUIT :pwned\u2400")
        ola.expectNext("message", "Bob", "#lobby", "calm QUIT :pwned ")
        ewa.expectNext("message", "Bob", "#lobby", "calm QUIT :pwned ")
        self.assertIn(
            b":Bob!Bob@127.0.0.1 PRIVMSG #lobby :calm QUIT :pwned \r\n", ola.received
        )
        self.assertWellFormed(ola)

    def test_lineBreakInIRCText(self) -> None:
        """
        A CR inside an IRC PRIVMSG reaches native clients as a visible
        control picture and other IRC clients as a space.
        """
        ola, ewa, bob = self.meet()
        ewa.sendRaw("PRIVMSG #lobby :calm\rQUIT :pwned")
        bob.expect("Ewa: calm\u240dQUIT :pwned")
        ola.expectNext("message", "Ewa", "#lobby", "calm QUIT :pwned")
        self.assertWellFormed(ola)


class RegistrationTests(IRCTestCase):
    """
    Getting a nickname, as real clients and raw lines do it.
    """

    def test_pingBeforeAndAfterRegistration(self) -> None:
        """
        PING is answered with its token before registration and after.
        """
        client = self.rawIRC()
        client.sendLine("PING :Zażółć 123")
        client.expect(f":{SERVER} PONG {SERVER} :Zażółć 123")
        self.register(client, "Ola")
        client.sendLine("PING token")
        client.expect(f":{SERVER} PONG {SERVER} :token")
        client.sendLine("PING")
        client.expect(f":{SERVER} 409 Ola :No origin specified")

    def test_capNegotiation(self) -> None:
        """
        CAP LS holds registration back until CAP END; a request for what is
        not offered is refused with NAK.
        """
        client = self.rawIRC()
        client.sendLine("CAP LS 302")
        client.sendLine("NICK Ola")
        client.sendLine("USER ola 0 * :Ola")
        client.expect(f":{SERVER} CAP * LS :{OFFERED}")
        client.sendLine("CAP REQ :multi-prefix draft/multiline")
        client.expect(f":{SERVER} CAP * NAK :multi-prefix draft/multiline")
        client.sendLine("PING :still-waiting")
        client.expect(f":{SERVER} PONG {SERVER} :still-waiting")
        client.sendLine("CAP END")
        client.expect(f":{SERVER} 001 Ola :Welcome to the chatsvc IRC network Ola!~ola@127.0.0.1")

    def test_userBeforeNick(self) -> None:
        """
        USER may come before NICK.
        """
        client = self.rawIRC()
        client.sendLine("USER ola 0 * :Ola Nowak")
        client.sendLine("NICK Ola")
        client.expect(f":{SERVER} 001 Ola :Welcome to the chatsvc IRC network Ola!~ola@127.0.0.1")

    def test_takenThenFree(self) -> None:
        """
        A taken nickname gets 433 and registration waits for a free one.
        """
        (bob,) = self.connectAll("Bob")
        client = self.rawIRC()
        client.sendLine("NICK bob")
        client.sendLine("USER bob 0 * :Bob")
        client.expect(f":{SERVER} 433 * bob :Nickname is already in use")
        self.register(client, "Bob2")
        self.assertNothingElse(bob)

    def test_takenThenFreeByTwistedClient(self) -> None:
        """
        IRCClient answers 433 by adding an underscore, and signs on.
        """
        ola = self.twisted("Ola")
        assert self.server.ircPort is not None
        second = TwistedPeer(self.server.ircPort, "Ola")
        self.addCleanup(second.close)
        second.expect("433", "Ola", "Nickname is already in use")
        second.expect("signedOn", "Ola_")
        self.assertEqual(second.nickname, "Ola_")
        second.join("#lobby")
        ola.expect("join", "Ola_", "#lobby")

    def test_takenThenFreeByIRCPackage(self) -> None:
        """
        The irc package hears 433 and signs on after a NICK of its own.
        """
        (bob,) = self.connectAll("Bob")
        assert self.server.ircPort is not None
        ewa = PackagePeer(self.server.ircPort, "Bob")
        self.addCleanup(ewa.close)
        ewa.expect("433", "Bob", "Nickname is already in use")
        ewa.rename("Ewa")
        ewa.expect("signedOn", "Ewa")
        self.assertEqual(ewa.nickname, "Ewa")

    def test_erroneous(self) -> None:
        """
        A nickname the rule refuses gets 432; IRCClient then falls back to
        its default nickname and signs on.
        """
        client = self.rawIRC()
        client.sendLine("NICK 1abc")
        client.expect(f":{SERVER} 432 * 1abc :Erroneous nickname")
        client.sendLine("NICK #channel")
        client.expect(f":{SERVER} 432 * #channel :Erroneous nickname")
        assert self.server.ircPort is not None
        ola = TwistedPeer(self.server.ircPort, "9lives")
        self.addCleanup(ola.close)
        ola.expect("432", "9lives", "Erroneous nickname")
        ola.expect("signedOn", "defaultnick")

    def test_commandBeforeRegistration(self) -> None:
        """
        Commands other than registration and PING get 451 before it.
        """
        client = self.rawIRC()
        for line in ("JOIN #lobby", "PRIVMSG #lobby :hi", "WHOIS Bob", "FOO"):
            client.sendLine(line)
            client.expect(f":{SERVER} 451 * :You have not registered")
        self.register(client, "Ola")

    def test_unknownCommand(self) -> None:
        """
        An unknown command gets 421 and the connection goes on.
        """
        client = self.rawIRC()
        self.register(client, "Ola")
        client.sendLine("FROBNICATE now")
        client.expect(f":{SERVER} 421 Ola FROBNICATE :Unknown command")
        client.sendLine("ping :alive")
        client.expect(f":{SERVER} PONG {SERVER} :alive")

    def test_tooLongLine(self) -> None:
        """
        A line longer than 512 bytes gets 417, is heard by nobody, and the
        connection goes on; so does a line of 512 bytes, too long once its
        sender's prefix is in front; the longest that is not is heard.
        """
        (bob,) = self.connectAll("Bob")
        client = self.rawIRC()
        self.register(client, "Ola")
        client.sendLine("JOIN #lobby")
        client.readUntil(f":{SERVER} 366 Ola #lobby :End of /NAMES list")
        bob.expect("Ola joined the chat!")
        command = "PRIVMSG #lobby :"
        client.sendLine(command + "x" * (511 - len(command)))
        client.expect(f":{SERVER} 417 Ola :Input line was too long")
        client.send(command.encode() + b"y" * (510 - len(command)) + b"\r\n")
        client.expect(f":{SERVER} 417 Ola :Input line was too long")
        fits = "y" * (510 - len(f":Ola!~ola@127.0.0.1 {command}"))
        client.sendLine(command + fits)
        bob.expect("Ola: " + fits)
        client.sendLine("PING :alive")
        client.expect(f":{SERVER} PONG {SERVER} :alive")
        self.assertNothingElse(bob)

    def test_invalidUTF8(self) -> None:
        """
        A line that is not UTF-8 gets FAIL ... INVALID_UTF8, is heard by
        nobody, and the connection goes on.
        """
        (bob,) = self.connectAll("Bob")
        client = self.rawIRC()
        self.register(client, "Ola")
        client.sendLine("JOIN #lobby")
        client.readUntil(f":{SERVER} 366 Ola #lobby :End of /NAMES list")
        bob.expect("Ola joined the chat!")
        client.send(b"PRIVMSG #lobby :Za\xbf\xf3\xb3\xe6\r\n")  # ISO 8859-2
        client.expect(
            f":{SERVER} FAIL PRIVMSG INVALID_UTF8 :Message rejected: this server speaks UTF-8 only"
        )
        client.sendLine(f"PRIVMSG #lobby :{POLISH}")
        bob.expect(f"Ola: {POLISH}")
        self.assertNothingElse(bob)

    def test_reregistration(self) -> None:
        """
        USER after registration is refused with 462.
        """
        client = self.rawIRC()
        self.register(client, "Ola")
        client.sendLine("USER again 0 * :Again")
        client.expect(f":{SERVER} 462 Ola :You may not reregister")


class QueryTests(IRCTestCase):
    """
    WHOIS, NAMES, LIST and WHO, about native and IRC users alike.
    """

    def test_whoisNative(self) -> None:
        """
        WHOIS of a native user names them C{nick!nick@host}, in #lobby
        (its operator, having come first).
        """
        ola, ewa, bob = self.meet()
        ewa.whois("bob")
        ewa.expectNext("311", "Bob", "Bob", "127.0.0.1", "*", "")
        ewa.expectNext("319", "Bob", "@#lobby")
        ewa.expectNext("312", "Bob", SERVER, "chatsvc")
        ewa.expectNext("317", "Bob", ANY, ANY, "seconds idle, signon time")
        ewa.expectNext("318", "Bob", "End of /WHOIS list")

    def test_whoisIRC(self) -> None:
        """
        WHOIS of an IRC user gives its user name, real name and channels.
        """
        ola, ewa, bob = self.meet()
        ewa.join("#a")
        ewa.expect("366", "#a", "End of /NAMES list")
        ewa.away("Na obiedzie")
        ewa.expect("306", "You have been marked as being away")
        ola.whois("Ewa")
        ola.expectNext("311", "Ewa", "~Ewa", "127.0.0.1", "*", "irc package")
        ola.expectNext("319", "Ewa", "#lobby @#a")
        ola.expectNext("312", "Ewa", SERVER, "chatsvc")
        ola.expectNext("301", "Ewa", "Na obiedzie")
        ola.expectNext("317", "Ewa", ANY, ANY, "seconds idle, signon time")
        ola.expectNext("318", "Ewa", "End of /WHOIS list")

    def test_longPolishRealNameFitsInALine(self) -> None:
        """
        The longest real name a USER line can carry, in two-byte letters,
        comes back in WHOIS and WHO lines of at most 512 bytes.
        """
        ola = self.twisted("Ola")
        client = self.rawIRC()
        command = "USER ewa 0 * :"
        client.sendLine(command + "ż" * ((510 - len(command)) // 2))
        client.sendLine("NICK Ewa")
        client.sendLine("JOIN #lobby")
        client.readUntil(f":{SERVER} 366 Ewa #lobby :End of /NAMES list")
        ola.expect("join", "Ewa", "#lobby")
        ola.whois("Ewa")
        ola.expect("311", "Ewa", "~ewa", "127.0.0.1", "*", ANY)
        ola.expect("318", "Ewa", "End of /WHOIS list")
        ola.sendRaw("WHO Ewa")
        ola.expect("352", "#lobby", "~ewa", "127.0.0.1", SERVER, "Ewa", "H", ANY)
        ola.expect("315", "Ewa", "End of /WHO list")
        self.assertWellFormed(ola)

    def test_longPolishAwayMessageFitsInALine(self) -> None:
        """
        The longest AWAY line, in two-byte letters, comes back to whoever
        messages or WHOISes the away user in lines of at most 512 bytes.
        """
        ola, ewa, bob = self.meet()
        command = "AWAY :"
        ewa.sendRaw(command + "ó" * ((510 - len(command)) // 2))
        ewa.expect("306", "You have been marked as being away")
        ola.say("Ewa", "are you there?")
        ola.expect("301", "Ewa", ANY)
        ola.whois("Ewa")
        ola.expect("301", "Ewa", ANY)
        ola.expect("318", "Ewa", "End of /WHOIS list")
        self.assertWellFormed(ola)

    def test_whoisNobody(self) -> None:
        """
        WHOIS of nobody gets 401 and the end of the WHOIS.
        """
        ola = self.twisted("Ola", channels=None)
        ola.whois("Nobody")
        ola.expectNext("401", "Nobody", "No such nick/channel")
        ola.expectNext("318", "Nobody", "End of /WHOIS list")

    def test_names(self) -> None:
        """
        NAMES lists everyone in a channel, native users included, the
        operator (Bob, who came first) with @.
        """
        ola, ewa, bob = self.meet()
        ewa.sendRaw("NAMES #lobby")
        ewa.expectNext("353", "=", "#lobby", "@Bob Ola Ewa")
        ewa.expectNext("366", "#lobby", "End of /NAMES list")

    def test_list(self) -> None:
        """
        LIST gives every channel with its member count and topic.
        """
        ola, ewa, bob = self.meet()
        ewa.join("#a")
        ewa.expect("366", "#a", "End of /NAMES list")
        ewa.sendRaw("LIST")
        ewa.expectNext("321", "Channel", "Users  Name")
        ewa.expectNext("322", "#a", "1", "")
        ewa.expectNext("322", "#lobby", "3", "")
        ewa.expectNext("323", "End of /LIST")

    def test_who(self) -> None:
        """
        WHO #lobby gives a 352 per member, native users included (Bob, who
        came first, as the operator).
        """
        ola, ewa, bob = self.meet()
        ola.away("gone")
        ola.expectNext("306", "You have been marked as being away")
        ewa.sendRaw("WHO #lobby")
        ewa.expectNext("352", "#lobby", "Bob", "127.0.0.1", SERVER, "Bob", "H@", "0 ")
        ewa.expectNext(
            "352", "#lobby", "~Ola", "127.0.0.1", SERVER, "Ola", "G", "0 Twisted client"
        )
        ewa.expectNext("352", "#lobby", "~Ewa", "127.0.0.1", SERVER, "Ewa", "H", "0 irc package")
        ewa.expectNext("315", "#lobby", "End of /WHO list")


class IRCShutdownTests(SynchronousTestCase):
    """
    Stopping the server, as IRC clients see it.
    """

    def test_errorThenEOFOnSIGTERM(self) -> None:
        """
        On SIGTERM every IRC client gets an ERROR line and then EOF, native
        clients their goodbye, and the server exits with status 0.
        """
        server = ServerProcess(irc=True)
        server.start(self.mktemp())
        self.addCleanup(server.stop)
        assert server.ircPort is not None
        ola = TwistedPeer(server.ircPort, "Ola")
        self.addCleanup(ola.close)
        ola.expect("376", "End of /MOTD command.")
        ewa = PackagePeer(server.ircPort, "Ewa")
        self.addCleanup(ewa.close)
        ewa.expect("376", "End of /MOTD command.")
        bob = LineClient(server.port)
        self.addCleanup(bob.close)
        bob.register("Bob")

        self.assertEqual(server.stop(signal.SIGTERM), 0)
        self.assertEqual(bob.readUntilClosed(), [GOODBYE])
        for peer in (ola, ewa):
            self.assertEqual(
                peer.untilClosed(), [("error", "Closing Link: server shutting down")]
            )
            self.assertTrue(
                peer.received.endswith(b"ERROR :Closing Link: server shutting down\r\n")
            )
        self.assertNotIn(b"Traceback", server.output)


# Limits, registration timeout and flood control, each on a server of its own


def closingLink(host: str, why: str) -> str:
    return f"ERROR :Closing Link: {host} ({why})"


class OwnIRCServerTestCase(SynchronousTestCase):
    """
    Tests that each start a server of their own, IRC front-end included.
    """

    def startServer(self, *arguments: str, **options: object) -> ServerProcess:
        server = ServerProcess(*arguments, irc=True, **options)  # type: ignore[arg-type]
        server.start(self.mktemp())
        self.addCleanup(server.stop)
        assert server.ircPort is not None
        return server

    def connect(self, port: int, source: str = "127.0.0.1") -> LineClient:
        client = LineClient(port, source=source)
        self.addCleanup(client.close)
        return client

    def register(self, client: LineClient, nickname: str, channel: str | None = None) -> None:
        """
        Register a raw IRC client, reading its welcome; join C{channel}.
        """
        client.sendLine(f"NICK {nickname}")
        client.sendLine(f"USER {nickname.lower()} 0 * :{nickname}")
        client.readUntil(f":{SERVER} 376 {nickname} :End of /MOTD command.")
        if channel is not None:
            client.sendLine(f"JOIN {channel}")
            client.readUntil(f":{SERVER} 366 {nickname} {channel} :End of /NAMES list")

    def assertAnswers(self, client: LineClient) -> None:
        """
        C{client} is still served: its PING is answered.
        """
        token = f"alive{next(_tokens)}"
        client.sendLine(f"PING :{token}")
        client.readUntil(f":{SERVER} PONG {SERVER} :{token}")


class IRCLimitTests(OwnIRCServerTestCase):
    """
    C{--max-connections} and C{--max-per-address} on the IRC port.
    """

    def test_serverFull(self) -> None:
        """
        An IRC client that finds the server full (two connections: one
        native, one IRC, from other addresses) is told so and closed; once
        one leaves, an IRC newcomer registers.
        """
        server = self.startServer("--max-connections", "2")
        assert server.ircPort is not None
        self.connect(server.port, source="127.0.0.2").expect("NICK")
        ola = self.connect(server.ircPort, source="127.0.0.3")
        self.register(ola, "Ola")
        refused = self.connect(server.ircPort, source="127.0.0.4")
        self.assertEqual(refused.readUntilClosed(), [closingLink("127.0.0.4", "Server full")])
        ola.sendLine("QUIT")
        ola.readUntilClosed()
        deadline = time.monotonic() + TIMEOUT
        while True:
            newcomer = self.connect(server.ircPort, source="127.0.0.4")
            newcomer.sendLine("PING :admitted")
            if newcomer.readLine() == f":{SERVER} PONG {SERVER} :admitted":
                break
            newcomer.close()
            self.assertLess(time.monotonic(), deadline, "never admitted again")
            time.sleep(0.05)
        self.register(newcomer, "Ewa")

    def test_tooManyFromOneAddress(self) -> None:
        """
        A third connection from one address (one native and one IRC there
        already) is told it has too many and closed, while another address
        still registers.
        """
        server = self.startServer("--max-per-address", "2")
        assert server.ircPort is not None
        self.connect(server.port).expect("NICK")
        ola = self.connect(server.ircPort)
        self.register(ola, "Ola")
        refused = self.connect(server.ircPort)
        self.assertEqual(
            refused.readUntilClosed(),
            [closingLink("127.0.0.1", "Too many connections from your address")],
        )
        self.register(self.connect(server.ircPort, source="127.0.0.2"), "Ewa")
        self.assertAnswers(ola)


class IRCRegistrationTimeoutTests(OwnIRCServerTestCase):
    """
    C{--register-timeout 1} on the IRC port.
    """

    def test_unregisteredClosed(self) -> None:
        """
        Connections still unregistered after a second (silent, with only a
        NICK, or holding registration back in CAP negotiation) are told and
        closed, not before; one that registered before them stays.
        """
        server = self.startServer("--register-timeout", "1")
        assert server.ircPort is not None
        # Connected first, so that its own deadline, were it not cancelled
        # by registering, would come first too.
        registered = self.connect(server.ircPort)
        self.register(registered, "Ola")
        started = time.monotonic()
        silent = self.connect(server.ircPort)
        nickOnly = self.connect(server.ircPort)
        nickOnly.sendLine("NICK Ewa")
        negotiating = self.connect(server.ircPort)
        negotiating.sendLine("CAP LS 302")
        negotiating.sendLine("NICK Ala")
        negotiating.sendLine("USER ala 0 * :Ala")
        negotiating.expect(f":{SERVER} CAP * LS :{OFFERED}")
        timedOut = closingLink("127.0.0.1", "Registration timeout")
        for client in (silent, nickOnly, negotiating):
            self.assertEqual(client.readUntilClosed(), [timedOut])
        self.assertGreaterEqual(time.monotonic() - started, 0.9)
        self.assertAnswers(registered)


class IRCFloodTests(OwnIRCServerTestCase):
    """
    Flood control on the IRC port (C{--flood-burst 5 --flood-rate 50}).
    """

    FLOOD = ("--flood-burst", "5", "--flood-rate", "50")
    WARNING = (
        f":{SERVER} NOTICE Flooder :*** Slow down: 5 lines at once, then 50 a second; "
        "the rest wait their turn."
    )

    def test_delayedNotLost(self) -> None:
        """
        PRIVMSGs beyond the burst reach the room later, but all of them and
        in order; the sender is told once, in a NOTICE.
        """
        server = self.startServer(*self.FLOOD, floodControl=True)
        assert server.ircPort is not None
        watcher = self.connect(server.port)
        watcher.register("Watcher")
        flooder = self.connect(server.ircPort)
        self.register(flooder, "Flooder", "#lobby")
        watcher.expect("Flooder joined the chat!")
        flooder.send(b"".join(b"PRIVMSG #lobby :line %d\r\n" % n for n in range(30)))
        # The PING waits its turn too: its PONG comes after the last line.
        flooder.sendLine("PING :done")
        self.assertEqual(flooder.readUntil(f":{SERVER} PONG {SERVER} :done"), [self.WARNING])
        self.assertEqual(
            watcher.readUntil("Flooder: line 29"), [f"Flooder: line {n}" for n in range(29)]
        )

    def test_persistentFlooderCutOff(self) -> None:
        """
        A client that keeps flooding past --flood-limit is told of excess
        flood and closed, and the room hears it quit for excess flood, on
        IRC and on the native protocol.
        """
        server = self.startServer(*self.FLOOD, "--flood-limit", "20", floodControl=True)
        assert server.ircPort is not None
        watcher = self.connect(server.port)
        watcher.register("Watcher")
        observer = self.connect(server.ircPort)
        self.register(observer, "Obs", "#lobby")
        watcher.expect("Obs joined the chat!")
        flooder = self.connect(server.ircPort)
        self.register(flooder, "Flooder", "#lobby")
        watcher.expect("Flooder joined the chat!")
        observer.readUntil(":Flooder!~flooder@127.0.0.1 JOIN #lobby")

        flooder.send(b"PRIVMSG #lobby :spam\r\n" * 200)
        self.assertEqual(
            flooder.readUntilClosed(), [self.WARNING, closingLink("127.0.0.1", "Excess Flood")]
        )
        before = watcher.readUntil("Flooder left the chat (Excess Flood).")
        self.assertLess(len(before), 200)
        self.assertEqual(set(before), {"Flooder: spam"})
        quit = observer.readLine()
        while quit == ":Flooder!~flooder@127.0.0.1 PRIVMSG #lobby :spam":
            quit = observer.readLine()
        # The reason as a user's own would read "Quit: ..."; either way it
        # must say excess flood.
        self.assertRegex(quit, r"^:Flooder!~flooder@127\.0\.0\.1 QUIT :(Quit: )?Excess Flood$")
        self.assertAnswers(observer)
