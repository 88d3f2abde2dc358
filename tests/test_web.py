"""
The web front-end's WebSockets: framing, the origin and proxy rules, the
page's JSON, and the real server's C{/chat} and C{/irc} (the websockets
package as the client; the browser's tests are in L{tests.test_web_page}).
"""

from __future__ import annotations

import json
import os
import socket
import urllib.error
import urllib.request

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect
from wsproto import ConnectionType, WSConnection
from wsproto.connection import Connection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    Pong,
    Request,
    TextMessage,
)

from chatsvc import events
from chatsvc.moderation import ModeChange
from chatsvc.native import wire
from chatsvc.web.frames import BINARY, Framer, closeFrame, encodeFrame, pageLine
from chatsvc.web.page import PAGE_RENDERER, encode, eventObject
from chatsvc.web.socket import (
    MessageProtocol,
    chooseSubprotocol,
    clientAddress,
    normalOrigin,
    originAllowed,
    seenSecure,
)
from tests.harness import TIMEOUT, ServerTestCase
from tests.test_integration import floodUntilCutOff


def received(data: bytes) -> list[object]:
    """
    What a WebSocket client makes of the frames C{data}.
    """
    client = Connection(ConnectionType.CLIENT)
    client.receive_data(data)
    return list(client.events())


class RecordingRenderer:
    """
    Renders an event (a string) as its line; one's own with C{own}.
    """

    def render(self, event: str) -> bytes:
        return (event + "\r\n").encode() if event else b""

    def renderOwn(self, event: str) -> bytes:
        return self.render("own " + event)


class FramesTests(SynchronousTestCase):
    """
    Frames out, as a client reads them.
    """

    @given(st.text(max_size=70000))
    def test_textRoundTrip(self, text: str) -> None:
        [message] = received(encodeFrame(text.encode("utf-8")))
        self.assertIsInstance(message, TextMessage)
        self.assertEqual(message.data, text)
        self.assertTrue(message.message_finished)

    @given(st.sampled_from([0, 125, 126, 127, 65535, 65536, 70000]))
    def test_lengthBoundaries(self, size: int) -> None:
        [message] = received(encodeFrame(b"x" * size, BINARY))
        self.assertIsInstance(message, BytesMessage)
        self.assertEqual(len(message.data), size)

    @given(st.lists(
            st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",))),
            max_size=5,
        ))
    def test_oneMessagePerLine(self, lines: list[str]) -> None:
        data = "".join(line + "\r\n" for line in lines).encode("utf-8")
        messages = received(Framer().frame(data))
        self.assertEqual([message.data for message in messages], lines)

    def test_framedRenderer(self) -> None:
        """
        A framer wraps each renderer once, so that every WebSocket client
        sharing a renderer shares its framed twin, and the delivery path
        renders an event once for all of them; an event the renderer does
        not show stays empty.
        """
        framer = Framer()
        inner = RecordingRenderer()
        framed = framer.renderer(inner)
        self.assertIs(framer.renderer(inner), framed)
        self.assertIsNot(framer.renderer(RecordingRenderer()), framed)
        self.assertEqual(received(framed.render("hello")), [TextMessage("hello")])
        self.assertEqual(received(framed.renderOwn("mine")), [TextMessage("own mine")])
        self.assertEqual(framed.render(""), b"")

    def test_partialLine(self) -> None:
        """
        Bytes without a line end (no session writes them) are one message.
        """
        self.assertEqual(received(Framer().frame(b"x")), [TextMessage("x")])
        self.assertEqual(Framer().frame(b""), b"")

    def test_close(self) -> None:
        [message] = received(closeFrame(1001))
        self.assertIsInstance(message, CloseConnection)
        self.assertEqual(message.code, 1001)
        [long] = received(closeFrame(1002, "ż" * 100))
        self.assertEqual((long.code, long.reason), (1002, "ż" * 61))


class PageLineTests(SynchronousTestCase):
    """
    The native session's own lines, as the page reads them.
    """

    def line(self, text: str) -> object:
        return json.loads(pageLine(text.encode("utf-8"), wire.classify))

    def test_prompts(self) -> None:
        self.assertEqual(self.line("NICK"), {"type": "prompt", "for": "nickname"})
        self.assertEqual(self.line("PASS"), {"type": "prompt", "for": "password"})
        self.assertEqual(
            self.line("PASS ala"), {"type": "prompt", "for": "account", "nickname": "ala"}
        )

    def test_errorAndInfo(self) -> None:
        self.assertEqual(self.line("! No such room."), {"type": "error", "text": "No such room."})
        self.assertEqual(self.line("In room lobby (1): ala"), {"type": "info", "text": "In room lobby (1): ala"})

    def test_jsonPassesThrough(self) -> None:
        line = b'{"type":"event"}'
        self.assertIs(pageLine(line, wire.classify), line)


class EventObjectTests(SynchronousTestCase):
    """
    Events as the page gets them.
    """

    def test_noAddress(self) -> None:
        sender = events.Identity("ala", "ala", "192.0.2.7", account="ala")
        found = eventObject(events.Said(sender, "lobby", "<b>hi</b>", id="x1", time=5.0))
        self.assertEqual(
            found,
            {
                "type": "event",
                "kind": "Said",
                "id": "x1",
                "time": 5.0,
                "sender": {"nickname": "ala", "account": "ala"},
                "room": "lobby",
                "text": "<b>hi</b>",
            },
        )
        self.assertNotIn("192.0.2.7", json.dumps(found))

    def test_defaultsLeftOut(self) -> None:
        """
        What is None or False is left out, and the time kept to the
        millisecond; what is not stays, falsy or not.
        """
        found = eventObject(
            events.Whispered(events.Identity("ala"), "ola", "", notice=True, id="x2", time=1.23456)
        )
        self.assertEqual(found["sender"], {"nickname": "ala"})
        self.assertEqual((found["text"], found["notice"], found["time"]), ("", True, 1.235))
        self.assertNotIn("action", found)

    def test_dropped(self) -> None:
        """
        A page the cluster let go is told why as a code and the nickname,
        for the page to word in its language (and to reconnect after).
        """
        found = eventObject(events.Dropped("taken", "ala", id="x3", time=2.0))
        self.assertEqual(
            found,
            {
                "type": "event",
                "kind": "Dropped",
                "id": "x3",
                "time": 2.0,
                "why": "taken",
                "nickname": "ala",
            },
        )

    @given(
        st.sampled_from([events.Said, events.Acted]),
        st.text(min_size=1, max_size=32),
        st.none() | st.text(max_size=32),
        st.text(),
        st.booleans(),
        st.floats(0, 4e9),
    )
    def test_spokenAsAnyEvent(self, kind, nickname, account, text, notice, time) -> None:
        """
        Lines said and acted, rendered from a template, read as every other
        event does.
        """
        extra = {"notice": notice} if kind is events.Said else {}
        event = kind(
            events.Identity(nickname, account=account), "lobby", text, id="x9", time=time, **extra
        )
        self.assertEqual(json.loads(PAGE_RENDERER.render(event)), eventObject(event))

    def test_modeChanges(self) -> None:
        event = events.ModeChanged(
            events.Identity("ala"), "lobby", (ModeChange(True, "o", "ola"), ModeChange(False, "m"))
        )
        self.assertEqual(
            eventObject(event)["changes"],
            [{"adding": True, "letter": "o", "argument": "ola"}, {"letter": "m"}],
        )

    def test_own(self) -> None:
        event = events.Whispered(events.Identity("ala"), "ola", "psst")
        self.assertTrue(eventObject(event, own=True)["own"])
        self.assertNotIn("own", eventObject(event))

    def test_encoded(self) -> None:
        """
        A message is one line of compact JSON, its text in UTF-8 as it is.
        """
        event = events.Said(events.Identity("żaba"), "lobby", 'zażółć "gęślą"\n', id="x2", time=1.5)
        line = encode(eventObject(event))
        self.assertTrue(line.endswith(b"\r\n"))
        self.assertNotIn(b"\r\n", line[:-2])
        self.assertIn('"text":"zażółć \\"gęślą\\"\\n"'.encode("utf-8"), line)
        self.assertEqual(json.loads(line), eventObject(event))


class PolicyTests(SynchronousTestCase):
    """
    Who may open a WebSocket, and where a client is.
    """

    def test_noOrigin(self) -> None:
        self.assertTrue(originAllowed(None, "chat.example", False, frozenset()))

    def test_sameOrigin(self) -> None:
        self.assertTrue(originAllowed("http://chat.example:8080", "chat.example:8080", False, frozenset()))
        self.assertTrue(originAllowed("https://Chat.Example", "chat.example:443", True, frozenset()))
        self.assertFalse(originAllowed("http://chat.example", "chat.example", True, frozenset()))

    def test_otherOrigin(self) -> None:
        self.assertFalse(originAllowed("https://evil.example", "chat.example", True, frozenset()))
        self.assertFalse(originAllowed("null", "chat.example", True, frozenset()))
        self.assertTrue(
            originAllowed(
                "https://app.example", "chat.example", True, frozenset(["https://app.example:443"])
            )
        )

    @given(st.sampled_from(["http", "https"]), st.from_regex(r"[a-z]{1,10}\.[a-z]{2,5}", fullmatch=True), st.integers(1, 65535))
    def test_ownAlwaysAllowed(self, scheme: str, name: str, port: int) -> None:
        host = f"{name}:{port}"
        self.assertTrue(originAllowed(f"{scheme}://{host}", host, scheme == "https", frozenset()))

    def test_normalOrigin(self) -> None:
        self.assertEqual(normalOrigin("HTTP://A.example:80"), "http://a.example")
        self.assertIsNone(normalOrigin("file:///etc/passwd"))
        self.assertIsNone(normalOrigin("http://a.example:99999"))

    def test_forwardedOnlyFromProxies(self) -> None:
        self.assertEqual(clientAddress("198.51.100.1", ["203.0.113.5"], frozenset()), "198.51.100.1")
        proxies = frozenset(["10.0.0.1", "10.0.0.2"])
        self.assertEqual(clientAddress("10.0.0.1", ["203.0.113.5"], proxies), "203.0.113.5")
        # A client's own claim comes first; the proxies append what they saw.
        self.assertEqual(
            clientAddress("10.0.0.1", ["1.2.3.4, 203.0.113.5", "10.0.0.2"], proxies), "203.0.113.5"
        )
        self.assertEqual(clientAddress("10.0.0.1", ["junk, 203.0.113.5"], proxies), "203.0.113.5")
        self.assertEqual(clientAddress("10.0.0.1", ["203.0.113.5, junk"], proxies), "10.0.0.1")
        self.assertEqual(clientAddress("10.0.0.1", [], proxies), "10.0.0.1")

    def test_secureBehindProxy(self) -> None:
        """
        A proxy that ends TLS says so with X-Forwarded-Proto; nobody else can.
        """
        proxies = frozenset(["10.0.0.1"])
        self.assertTrue(seenSecure("10.0.0.1", False, "https", proxies))
        self.assertTrue(seenSecure("10.0.0.1", False, "HTTPS, http", proxies))
        self.assertFalse(seenSecure("10.0.0.1", True, "http", proxies))
        self.assertTrue(seenSecure("10.0.0.1", True, None, proxies))
        self.assertFalse(seenSecure("198.51.100.1", False, "https", proxies))

    def test_subprotocol(self) -> None:
        known = ("text.ircv3.net", "binary.ircv3.net")
        self.assertEqual(chooseSubprotocol(["binary.ircv3.net", "text.ircv3.net"], known), "binary.ircv3.net")
        self.assertIsNone(chooseSubprotocol(["mqtt"], known))
        self.assertIsNone(chooseSubprotocol([], known))


class WebSocketClient:
    """
    A synchronous WebSocket client of the real server, closed after the test.
    """

    def __init__(self, test: ServerTestCase, path: str, **options: object) -> None:
        self.socket = connect(
            f"ws://127.0.0.1:{test.server.webPort}{path}", open_timeout=TIMEOUT, **options
        )
        test.addCleanup(self.socket.close)

    def send(self, text: str | bytes) -> None:
        self.socket.send(text)

    def receive(self) -> str | bytes:
        return self.socket.recv(timeout=TIMEOUT)

    def json(self) -> dict:
        return json.loads(self.receive())

    def until(self, predicate) -> dict:
        while True:
            message = self.json()
            if predicate(message):
                return message

    def ircUntil(self, marker: str) -> list[str]:
        lines = []
        while True:
            message = self.receive()
            line = message.decode("utf-8") if isinstance(message, bytes) else message
            lines.append(line)
            if marker in line:
                return lines


class WebServerTests(ServerTestCase):
    """
    The real server's WebSockets, with native and IRC users on TCP.
    """

    irc = True
    web = True

    def page(self, nickname: str) -> WebSocketClient:
        client = WebSocketClient(self, "/chat")
        self.assertEqual(client.json(), {"type": "prompt", "for": "nickname"})
        client.send(nickname)
        welcome = client.json()
        self.assertEqual((welcome["kind"], welcome["nickname"]), ("Welcome", nickname))
        room = client.json()
        self.assertEqual(room["type"], "room")
        return client

    def ircClient(self, nickname: str, subprotocol: str | None) -> WebSocketClient:
        options = {"subprotocols": [subprotocol]} if subprotocol else {}
        client = WebSocketClient(self, "/irc", **options)
        self.assertEqual(client.socket.subprotocol, subprotocol)
        client.send(f"NICK {nickname}")
        client.send(f"USER {nickname} 0 * :Web user")
        lines = client.ircUntil(" 376 ")
        self.assertIn(f" 001 {nickname} ", lines[0])
        return client

    def test_pageChatsWithNative(self) -> None:
        native = self.connect("tcpuser")
        page = self.page("pageuser")
        native.expect("pageuser joined the chat!")
        page.send("hello from the page")
        native.expect("pageuser: hello from the page")
        said = page.until(lambda m: m.get("kind") == "Said")
        self.assertEqual((said["sender"]["nickname"], said["text"]), ("pageuser", "hello from the page"))
        native.sendLine("<script>alert(1)</script>")
        said = page.until(lambda m: m.get("kind") == "Said")
        self.assertEqual(said["text"], "<script>alert(1)</script>")
        self.assertTrue(said["id"])

    def test_pageRoomAndRooms(self) -> None:
        native = self.connect("first")
        page = self.page("second")
        native.expect("second joined the chat!")
        page.send("/who")
        room = page.until(lambda m: m["type"] == "room")
        self.assertEqual(room["members"], [{"nickname": "first", "role": "operator"}, {"nickname": "second"}])
        page.send("/rooms")
        rooms = page.until(lambda m: m["type"] == "rooms")
        self.assertEqual(rooms["rooms"], [{"room": "lobby", "count": 2, "topic": ""}])
        page.send("/nosuchcommand")
        self.assertEqual(page.until(lambda m: m["type"] == "error")["type"], "error")

    def test_pageRefusalCode(self) -> None:
        """
        A refusal says what kind it is: a taken nickname is not a malformed one.
        """
        self.page("taken")
        other = WebSocketClient(self, "/chat")
        other.json()
        other.send("taken")
        refusal = other.json()
        self.assertEqual((refusal["type"], refusal["code"]), ("error", "NicknameInUse"))
        self.assertEqual(other.json(), {"type": "prompt", "for": "nickname"})
        other.send("two words")
        self.assertEqual(other.json()["code"], "InvalidName")

    def test_pageLineTooLong(self) -> None:
        page = self.page("longline")
        page.send("x" * 5000)
        error = page.until(lambda m: m["type"] == "error")
        self.assertIn("2048", error["text"])
        page.send("still here")
        said = page.until(lambda m: m.get("kind") == "Said")
        self.assertEqual(said["text"], "still here")

    def test_ircText(self) -> None:
        native = self.connect("listener")
        web = self.ircClient("webirc", "text.ircv3.net")
        web.send("JOIN #lobby")
        web.ircUntil(" 366 ")
        native.expect("webirc joined the chat!")
        web.send("PRIVMSG #lobby :over the web")
        native.expect("webirc: over the web")
        native.sendLine("back to you")
        line = web.ircUntil("PRIVMSG")[-1]
        self.assertIsInstance(line, str)
        self.assertTrue(line.endswith("PRIVMSG #lobby :back to you"), line)

    def test_ircBinary(self) -> None:
        web = self.ircClient("binirc", "binary.ircv3.net")
        web.send(b"PING :token\r\n")
        reply = web.receive()
        self.assertIsInstance(reply, bytes)
        self.assertIn(b" PONG ", reply)
        self.assertTrue(reply.endswith(b"token"), reply)
        web.send(b"PRIVMSG binirc :\xff\xfe\r\n")
        self.assertIn(b"UTF-8", web.receive())

    def test_ircNoSubprotocol(self) -> None:
        web = self.ircClient("plainirc", None)
        web.send("QUIT :bye")
        with self.assertRaises(ConnectionClosed):
            while True:
                web.receive()

    def test_unknownSubprotocolRefused(self) -> None:
        with self.assertRaises(InvalidStatus) as caught:
            connect(
                f"ws://127.0.0.1:{self.server.webPort}/irc",
                subprotocols=["mqtt"],
                open_timeout=TIMEOUT,
            )
        self.assertEqual(caught.exception.response.status_code, 400)

    def test_foreignOriginRefused(self) -> None:
        with self.assertRaises(InvalidStatus) as caught:
            connect(
                f"ws://127.0.0.1:{self.server.webPort}/chat",
                origin="https://evil.example",
                open_timeout=TIMEOUT,
            )
        self.assertEqual(caught.exception.response.status_code, 403)
        own = connect(
            f"ws://127.0.0.1:{self.server.webPort}/chat",
            origin=f"http://127.0.0.1:{self.server.webPort}",
            open_timeout=TIMEOUT,
        )
        self.addCleanup(own.close)
        self.assertEqual(json.loads(own.recv(timeout=TIMEOUT))["type"], "prompt")

    def test_securityHeaders(self) -> None:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.server.webPort}/", timeout=TIMEOUT) as response:
            headers = response.headers
        self.assertIn("script-src 'self'", headers["Content-Security-Policy"])
        self.assertNotIn("unsafe-inline", headers["Content-Security-Policy"])
        self.assertEqual(headers["X-Content-Type-Options"], "nosniff")

    def test_notAWebSocket(self) -> None:
        with self.assertRaises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"http://127.0.0.1:{self.server.webPort}/chat", timeout=TIMEOUT)
        self.assertEqual(caught.exception.code, 400)


class AddressLimitTests(ServerTestCase):
    """
    The per-address limit holds for WebSockets, and X-Forwarded-For is not
    believed from a peer that is not a proxy.
    """

    web = True
    serverArguments = ("--max-per-address", "3")

    def test_limit(self) -> None:
        # waitUntilQuiet's probe has gone; these three are the address's.
        pages = [WebSocketClient(self, "/chat") for _ in range(3)]
        for page in pages:
            self.assertEqual(page.json()["type"], "prompt")
        extra = WebSocketClient(
            self, "/chat", additional_headers={"X-Forwarded-For": "203.0.113.9"}
        )
        refusal = extra.json()
        self.assertEqual(refusal["type"], "error")
        self.assertIn("Too many connections from your address", refusal["text"])
        with self.assertRaises(ConnectionClosed):
            extra.receive()


class ProxyTests(ServerTestCase):
    """
    Behind a proxy that C{--web-proxy} names, each forwarded client counts
    on its own.
    """

    web = True
    serverArguments = ("--max-per-address", "2", "--web-proxy", "127.0.0.1")

    def test_forwardedClientsApart(self) -> None:
        clients = [
            WebSocketClient(self, "/chat", additional_headers={"X-Forwarded-For": f"203.0.113.{n}"})
            for n in range(1, 5)
        ]
        for client in clients:
            self.assertEqual(client.json()["type"], "prompt")
        same = [
            WebSocketClient(self, "/chat", additional_headers={"X-Forwarded-For": "198.51.100.7"})
            for _ in range(3)
        ]
        self.assertEqual([client.json()["type"] for client in same], ["prompt", "prompt", "error"])

    def test_tlsEndedByTheProxy(self) -> None:
        """
        A page served over https through the proxy has the site's origin
        when the proxy says the client came over TLS.
        """
        origin = f"https://127.0.0.1:{self.server.webPort}"
        page = WebSocketClient(
            self,
            "/chat",
            origin=origin,
            additional_headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.50"},
        )
        self.assertEqual(page.json()["type"], "prompt")
        with self.assertRaises(InvalidStatus):
            connect(f"ws://127.0.0.1:{self.server.webPort}/chat", origin=origin, open_timeout=TIMEOUT)


class FloodTests(ServerTestCase):
    """
    Flood control holds for the page as for a terminal: slowed, then cut off.
    """

    web = True
    serverArguments = ("--flood-burst", "3", "--flood-rate", "1", "--flood-limit", "5")

    def test_cutOff(self) -> None:
        """
        Read to the end with wsproto over a plain socket: the websockets
        client drops messages that arrive with the close frame.
        """
        sock = socket.create_connection(("127.0.0.1", self.server.webPort), TIMEOUT)
        self.addCleanup(sock.close)
        client = WSConnection(ConnectionType.CLIENT)
        sock.sendall(client.send(Request(host="127.0.0.1", target="/chat")))
        texts, closed, accepted = [], None, False
        while closed is None:
            data = sock.recv(65536)
            if not data:
                break
            client.receive_data(data)
            for event in client.events():
                if isinstance(event, AcceptConnection):
                    accepted = True
                    sock.sendall(client.send(TextMessage("flooder")))
                    for n in range(20):
                        sock.sendall(client.send(TextMessage(f"line {n}")))
                elif isinstance(event, TextMessage):
                    texts.append(json.loads(event.data))
                elif isinstance(event, CloseConnection):
                    closed = event.code
        self.assertTrue(accepted)
        errors = [message["text"] for message in texts if message["type"] == "error"]
        self.assertEqual(len(errors), 2, errors)
        self.assertIn("Slow down", errors[0])
        self.assertIn("Excess flood", errors[1])
        self.assertEqual(closed, 1001)
        said = [m["text"] for m in texts if m.get("kind") == "Said"]
        self.assertEqual(said, [f"line {n}" for n in range(len(said))])


def rawWebSocket(port: int, path: str = "/chat", receiveBuffer: int | None = None):
    """
    A WebSocket over a plain socket, its handshake done (and read): the
    socket and wsproto's client, for tests that must not read, or must
    vanish mid-frame.
    """
    sock = socket.socket()
    if receiveBuffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receiveBuffer)
    sock.settimeout(TIMEOUT)
    sock.connect(("127.0.0.1", port))
    client = WSConnection(ConnectionType.CLIENT)
    sock.sendall(client.send(Request(host="127.0.0.1", target=path)))
    while not any(isinstance(event, AcceptConnection) for event in _received(sock, client)):
        pass
    return sock, client


def _received(sock: socket.socket, client: WSConnection) -> list:
    client.receive_data(sock.recv(65536))
    return list(client.events())


class FaultTests(ServerTestCase):
    """
    A WebSocket that never reads, and one that vanishes mid-message, as the
    TCP front-ends' tests have them.
    """

    web = True
    serverArguments = ("--send-queue", "65536")

    def test_neverReads(self) -> None:
        """
        A page that stops reading is cut off once its send queue is full;
        the room hears it left, and the others lose nothing.
        """
        alicja = self.connect("Alicja")
        sock, client = rawWebSocket(self.server.webPort, receiveBuffer=4096)
        self.addCleanup(sock.close)
        sock.sendall(client.send(TextMessage("Sleepy")))
        alicja.expect("Sleepy joined the chat!")
        heard = floodUntilCutOff(alicja, "Alicja", "Sleepy")
        self.assertEqual(heard, ["Sleepy left the chat."])
        self.assertIn(b"stopped reading; disconnecting", self.server.output)

    def test_vanishesMidMessage(self) -> None:
        """
        Half a frame, then the connection is gone: nothing of it is said,
        and the room hears the page left once.
        """
        alicja = self.connect("Alicja")
        sock, client = rawWebSocket(self.server.webPort)
        sock.sendall(client.send(TextMessage("Ghost")))
        alicja.expect("Ghost joined the chat!")
        frame = client.send(TextMessage("never finished"))
        sock.sendall(frame[: len(frame) // 2])
        sock.close()
        alicja.expect("Ghost left the chat.")
        alicja.sendLine("marker")
        self.assertEqual(alicja.readUntil("Alicja: marker"), [])


class PasswordTests(ServerTestCase):
    """
    A server with a password asks the page for it first.
    """

    web = True

    @classmethod
    def sharedServer(cls):
        if cls.__dict__.get("_server") is None:
            with open(os.path.abspath("web-password"), "w") as file:
                file.write("sezam\n")
            cls.serverArguments = ("--password-file", os.path.abspath("web-password"))
        return super().sharedServer()

    def setUp(self) -> None:
        # The probe that waits for quiet speaks the native protocol without
        # a password; this server wants one, so nothing is waited for.
        self.sharedServer()

    def test_passwordFirst(self) -> None:
        page = WebSocketClient(self, "/chat")
        self.assertEqual(page.json(), {"type": "prompt", "for": "password"})
        page.send("sezam")
        self.assertEqual(page.json(), {"type": "prompt", "for": "nickname"})
        wrong = WebSocketClient(self, "/chat")
        wrong.json()
        wrong.send("open sesame")
        self.assertEqual(wrong.json()["type"], "error")
        with self.assertRaises(ConnectionClosed):
            wrong.receive()


class ScrollbackTests(ServerTestCase):
    """
    The page gets a room's last lines, with their ids, on entering it again.
    """

    web = True
    serverArguments = ("--replay", "20")

    def test_reconnect(self) -> None:
        native = self.connect("speaker")
        for n in range(3):
            native.sendLine(f"line {n}")
        for n in range(3):
            native.expect(f"speaker: line {n}")
        page = WebSocketClient(self, "/chat")
        page.json()
        page.send("reader")
        scrollback = page.until(lambda m: m["type"] == "scrollback")
        said = [event for event in scrollback["events"] if event["kind"] == "Said"]
        self.assertEqual([event["text"] for event in said], ["line 0", "line 1", "line 2"])
        self.assertEqual(len({event["id"] for event in said}), 3)
        page.socket.close()
        again = WebSocketClient(self, "/chat")
        again.json()
        again.send("reader")
        repeated = again.until(lambda m: m["type"] == "scrollback")
        self.assertEqual(
            [e["id"] for e in repeated["events"] if e["kind"] == "Said"], [e["id"] for e in said]
        )



class RecordingConnection:
    """
    What a message adapter tells its connection, recorded.
    """

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.unframed: list[bytes] = []

    def connectionMade(self, transport, input, host=None, framer=None, handshake=b"") -> None:
        self.calls.append(("made", host, handshake))

    def textReceived(self, text: str) -> None:
        self.calls.append(("text", text))

    def lineTooLong(self) -> None:
        self.calls.append(("tooLong",))

    def undecodableLine(self, line: bytes) -> None:
        self.calls.append(("undecodable", line))

    def readConnectionLost(self) -> None:
        self.calls.append(("eof",))

    def connectionLost(self) -> None:
        self.calls.append(("lost",))

    def send(self, data: bytes) -> None:
        self.unframed.append(data)


class MessageProtocolTests(SynchronousTestCase):
    """
    Messages in, as lines to the connection.
    """

    def setUp(self) -> None:
        self.connection = RecordingConnection()
        self.protocol = MessageProtocol(self.connection, Framer(), "192.0.2.1", b"101", 20)
        self.transport = StringTransport()
        self.protocol.makeConnection(self.transport)
        self.client = Connection(ConnectionType.CLIENT)

    def send(self, *messages) -> None:
        self.protocol.dataReceived(b"".join(self.client.send(message) for message in messages))

    def test_made(self) -> None:
        self.assertEqual(self.connection.calls, [("made", "192.0.2.1", b"101")])

    def test_linesAndFragments(self) -> None:
        self.send(
            TextMessage("one\r\n"),
            TextMessage("tw", message_finished=False),
            TextMessage("o"),
            TextMessage("three\nfour"),
        )
        self.assertEqual(
            self.connection.calls[1:],
            [("text", "one"), ("text", "two"), ("text", "three"), ("text", "four")],
        )

    def test_tooLongKeepsNothing(self) -> None:
        self.send(TextMessage("x" * 15, message_finished=False))
        self.send(TextMessage("x" * 15, message_finished=False))
        self.assertEqual(self.protocol._reader._parts, None)
        self.send(TextMessage("x"), TextMessage("after"))
        self.assertEqual(self.connection.calls[1:], [("tooLong",), ("text", "after")])

    def test_binary(self) -> None:
        self.send(BytesMessage(b"caf\xc3\xa9"), BytesMessage(b"\xff"))
        self.assertEqual(self.connection.calls[1:], [("text", "café"), ("undecodable", b"\xff")])

    def test_pausedHoldsLines(self) -> None:
        self.protocol.pause()
        self.send(TextMessage("a"), TextMessage("b"))
        self.assertEqual(self.connection.calls[1:], [])
        self.assertEqual(self.transport.producerState, "paused")
        self.protocol.resume()
        self.assertEqual(self.connection.calls[1:], [("text", "a"), ("text", "b")])

    def test_clientCloses(self) -> None:
        self.send(CloseConnection(1000))
        self.assertEqual(self.connection.calls[1:], [("eof",)])
        [reply] = received(self.connection.unframed[0])
        self.assertIsInstance(reply, CloseConnection)

    def test_serverCloses(self) -> None:
        self.protocol.stop()
        [goodbye] = received(self.connection.unframed[0])
        self.assertEqual(goodbye.code, 1001)
        self.send(TextMessage("ignored"))
        self.assertEqual(self.connection.calls[1:], [])

    def test_ping(self) -> None:
        self.send(Ping(b"hi"))
        [pong] = received(self.connection.unframed[0])
        self.assertIsInstance(pong, Pong)
        self.assertEqual(pong.payload, b"hi")
