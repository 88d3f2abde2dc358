"""
The real server, C{twistd -n chat}, driven over TCP by plain line clients.

These tests use no reactor: each class shares one server subprocess (see
L{tests.harness.ServerTestCase}) and talks to it through blocking sockets
with deadlines, as C{nc} users would.  Classes that need a server of their
own (shutdown, crowds, logs) start one per test.

"Exactly once" and "nothing else" are checked with a marker: after the
event of interest someone says a marker line, and a reader collects what
came before it.  The server handles one connection's lines in order and
delivers an event to everyone in the same reactor turn, so nothing caused
earlier can arrive after the marker.
"""

from __future__ import annotations

import re
import signal
import time

from twisted.trial.unittest import SynchronousTestCase

from tests.harness import (
    GOODBYE,
    TIMEOUT,
    LineClient,
    ServerProcess,
    ServerTestCase,
)

TOO_LONG = "! Line too long (at most 2048 bytes); it was dropped."
NOT_UTF8 = "! That line is not valid UTF-8; it was dropped."
FLOOD_TEXT = "x" * 2000


def isNotice(line: str) -> bool:
    """
    Whether a server line is a notice by the grammar of C{chatsvc.native.wire}:
    not the prompt, not an error, not anyone's chat.
    """
    return line != "NICK" and not line.startswith(("! ", "* ", "*", "-> ")) and (
        re.match(r"^[\w-]+: ", line) is None
    )


def floodUntilCutOff(flooder: LineClient, nickname: str, victim: str) -> list[str]:
    """
    Have C{flooder} say long lines until it hears that C{victim} left.

    The flooder reads its own echoes as it goes, so it never stops reading
    itself.  Bounded: at most 5,000 lines (10 MB) within L{TIMEOUT} seconds.

    @return: every line the flooder heard that was not its own echo.
    """
    echo = f"{nickname}: {FLOOD_TEXT}"
    block = (FLOOD_TEXT + "\n").encode() * 50
    left = f"{victim} left the chat."
    others: list[str] = []
    deadline = time.monotonic() + TIMEOUT
    for _ in range(100):
        flooder.send(block)
        pending = 50
        while pending:
            line = flooder.readLine(deadline)
            if line == echo:
                pending -= 1
            else:
                others.append(line)
        if left in others:
            return others
    raise AssertionError(f"{victim} was never cut off; heard {others!r}")


def flood(flooder: LineClient, nickname: str, lines: int) -> list[str]:
    """
    Have C{flooder} say C{lines} long lines, reading its own echoes.

    @return: every line the flooder heard that was not its own echo.
    """
    echo = f"{nickname}: {FLOOD_TEXT}"
    block = (FLOOD_TEXT + "\n").encode() * 50
    others: list[str] = []
    deadline = time.monotonic() + TIMEOUT
    for _ in range(lines // 50):
        flooder.send(block)
        pending = 50
        while pending:
            line = flooder.readLine(deadline)
            if line == echo:
                pending -= 1
            else:
                others.append(line)
    return others


class EnglishTranscriptTests(ServerTestCase):
    """
    The seed transcript, and language switching, on a server in English.
    """

    def test_transcript(self) -> None:
        """
        Two people join, greet each other, and one quits, as in the seed.
        """
        alicja = self.connect()
        alicja.expect("NICK")
        alicja.sendLine("Alicja")
        alicja.expect("Connected to server!")
        bob = self.connect()
        bob.expect("NICK")
        bob.sendLine("Bob")
        bob.expect("Connected to server!")
        alicja.expect("Bob joined the chat!")

        bob.sendLine("Hi everyone!")
        alicja.expect("Bob: Hi everyone!")
        bob.expect("Bob: Hi everyone!")
        alicja.sendLine("Hi Bob!")
        alicja.expect("Alicja: Hi Bob!")
        bob.expect("Alicja: Hi Bob!")

        bob.sendLine("/quit")
        self.assertEqual(bob.readUntilClosed(), [])
        alicja.expect("Bob left the chat.")
        alicja.sendLine("marker")
        self.assertEqual(alicja.readUntil("Alicja: marker"), [])

    def test_languageChosenInHandshake(self) -> None:
        """
        Clients that send C{/lang pl} before their nickname (one even before
        reading the prompt) get one notice each, then everything in Polish,
        while a client that chose nothing hears the same in English.
        """
        (carol,) = self.connectAll("Carol")
        alicja = self.connect()
        alicja.sendLine("/lang pl")
        alicja.expect("NICK")
        notice = alicja.readLine()
        self.assertTrue(isNotice(notice), notice)
        alicja.sendLine("Alicja")
        alicja.expect("Połączono z serwerem!")
        carol.expect("Alicja joined the chat!")

        bob = self.connect()
        bob.expect("NICK")
        bob.sendLine("/lang pl")
        notice = bob.readLine()
        self.assertTrue(isNotice(notice), notice)
        bob.sendLine("Bob")
        bob.expect("Połączono z serwerem!")
        alicja.expect("Bob dołączył do czatu!")
        carol.expect("Bob joined the chat!")

        chatInPolish(self, alicja, bob)
        self.assertHeardInEnglish(carol)

    def test_languageChosenAfterRegistering(self) -> None:
        """
        Clients that switch to Polish once registered hear the rest in
        Polish; one that did not switch still hears English.
        """
        alicja, bob, carol = self.connectAll("Alicja", "Bob", "Carol")
        for client in (alicja, bob):
            client.sendLine("/lang pl")
            notice = client.readLine()
            self.assertTrue(isNotice(notice), notice)

        chatInPolish(self, alicja, bob)
        self.assertHeardInEnglish(carol)

    def assertHeardInEnglish(self, carol: LineClient) -> None:
        """
        Carol heard L{chatInPolish} with the server's words in English.
        """
        self.assertEqual(
            carol.readUntil("Alicja: znacznik"),
            ["Bob: Cześć wszystkim!", "Alicja: Cześć Bob!", "Bob left the chat."],
        )

    def test_unknownLanguage(self) -> None:
        """
        C{/lang xx} is refused with an error, and the language stays English.
        """
        (alicja,) = self.connectAll("Alicja")
        alicja.sendLine("/lang xx")
        self.assertEqual(alicja.readLine(), "! Unknown language xx.")
        alicja.readLine()  # The list of languages.
        self.connect("Bob")
        alicja.expect("Bob joined the chat!")
        alicja.sendLine("/who")
        alicja.expect("In room lobby (2): Alicja and Bob")
        alicja.sendLine("/quit")
        self.assertEqual(alicja.readUntilClosed(), [])


def chatInPolish(
    testCase: SynchronousTestCase, alicja: LineClient, bob: LineClient
) -> None:
    """
    The rest of the seed transcript, in Polish, from Bob's greeting on.
    """
    bob.sendLine("Cześć wszystkim!")
    alicja.expect("Bob: Cześć wszystkim!")
    bob.expect("Bob: Cześć wszystkim!")
    alicja.sendLine("Cześć Bob!")
    alicja.expect("Alicja: Cześć Bob!")
    bob.expect("Alicja: Cześć Bob!")
    bob.sendLine("/quit")
    testCase.assertEqual(bob.readUntilClosed(), [])
    alicja.expect("Bob opuścił czat.")
    alicja.sendLine("znacznik")
    testCase.assertEqual(alicja.readUntil("Alicja: znacznik"), [])


class PolishServerTests(ServerTestCase):
    """
    The seed transcript on a server started with C{--lang pl}.
    """

    serverArguments = ("--lang", "pl")

    def test_transcript(self) -> None:
        """
        Two people join, greet each other in Polish, and one quits.
        """
        alicja = self.connect()
        alicja.register("Alicja", welcome="Połączono z serwerem!")
        bob = self.connect()
        bob.register("Bob", welcome="Połączono z serwerem!")
        alicja.expect("Bob dołączył do czatu!")

        chatInPolish(self, alicja, bob)


class LeavingTests(ServerTestCase):
    """
    Every way out is announced to the room exactly once.
    """

    def leaveOnce(self, alicja: LineClient, carol: LineClient, line: str) -> None:
        """
        Alicja hears C{line} and nothing more before Carol's marker.
        """
        alicja.expect(line)
        carol.expect(line)
        carol.sendLine("marker")
        self.assertEqual(carol.readUntil("Carol: marker"), [])
        self.assertEqual(alicja.readUntil("Carol: marker"), [])

    def test_quit(self) -> None:
        """
        C{/quit} closes the connection and is announced once.
        """
        alicja, bob, carol = self.connectAll("Alicja", "Bob", "Carol")
        bob.sendLine("/quit")
        self.assertEqual(bob.readUntilClosed(), [])
        self.leaveOnce(alicja, carol, "Bob left the chat.")

    def test_quitWithReason(self) -> None:
        """
        C{/quit reason} is announced once, with the reason.
        """
        alicja, bob, carol = self.connectAll("Alicja", "Bob", "Carol")
        bob.sendLine("/quit Gone fishing")
        self.assertEqual(bob.readUntilClosed(), [])
        self.leaveOnce(alicja, carol, "Bob left the chat (Gone fishing).")

    def test_endOfInput(self) -> None:
        """
        EOF from the client (as nc sends at the end of its input) is a leave.
        """
        alicja, bob, carol = self.connectAll("Alicja", "Bob", "Carol")
        bob.shutdownWrite()
        self.assertEqual(bob.readUntilClosed(), [])
        self.leaveOnce(alicja, carol, "Bob left the chat.")

    def test_close(self) -> None:
        """
        A client that closes its socket is announced once.
        """
        alicja, bob, carol = self.connectAll("Alicja", "Bob", "Carol")
        bob.close()
        self.leaveOnce(alicja, carol, "Bob left the chat.")

    def test_reset(self) -> None:
        """
        A reset connection is announced once.
        """
        alicja, bob, carol = self.connectAll("Alicja", "Bob", "Carol")
        bob.reset()
        self.leaveOnce(alicja, carol, "Bob left the chat.")

    def test_cutOffByServer(self) -> None:
        """
        A client the server disconnects (it stopped reading) is announced once.
        """
        alicja, carol = self.connectAll("Alicja", "Carol")
        slow = self.connect(receiveBuffer=4096)
        slow.register("Slow")
        alicja.expect("Slow joined the chat!")
        carol.expect("Slow joined the chat!")
        carol.close()  # It would have to read the flood too.

        heard = floodUntilCutOff(alicja, "Alicja", "Slow")
        self.assertEqual(heard, ["Carol left the chat.", "Slow left the chat."])
        alicja.sendLine("marker")
        self.assertEqual(alicja.readUntil("Alicja: marker"), [])

    def test_leaveBeforeNickname(self) -> None:
        """
        A connection that goes before choosing a nickname is never announced.
        """
        alicja, carol = self.connectAll("Alicja", "Carol")
        for leave in (LineClient.close, LineClient.reset, LineClient.shutdownWrite):
            stranger = self.connect()
            stranger.expect("NICK")
            leave(stranger)
        quitter = self.connect()
        quitter.expect("NICK")
        quitter.sendLine("/quit")
        self.assertEqual(quitter.readUntilClosed(), [])
        carol.sendLine("marker")
        self.assertEqual(alicja.readUntil("Carol: marker"), [])


class LoadTests(ServerTestCase):
    """
    Many clients chatting at once lose, repeat and reorder nothing.
    """

    def test_fiftyClientsTwentyLinesEach(self) -> None:
        """
        50 clients each say 20 numbered lines; everyone hears all 1,000, each
        sender's in order.
        """
        nicknames = [f"user{number:02}" for number in range(50)]
        clients = self.connectAll(*nicknames)
        for line in range(20):
            for nickname, client in zip(nicknames, clients):
                client.sendLine(f"{nickname} line {line:02}")

        expected = {
            nickname: [f"{nickname}: {nickname} line {line:02}" for line in range(20)]
            for nickname in nicknames
        }
        for client in clients:
            heard: dict[str, list[str]] = {nickname: [] for nickname in nicknames}
            for line in client.readLines(1000):
                heard.setdefault(line.partition(":")[0], []).append(line)
            self.assertEqual(heard, expected)
        clients[0].sendLine("marker")
        for client in clients:
            self.assertEqual(client.readUntil("user00: marker"), [])


class NicknameTests(ServerTestCase):
    """
    A refused nickname gets its reason and the prompt again, on the same
    connection, and nobody else hears of it.
    """

    def assertRefused(self, client: LineClient, nickname: str, error: str) -> None:
        client.sendLine(nickname)
        self.assertEqual(client.readLines(2), [error, "NICK"])

    def assertUndisturbed(
        self, alicja: LineClient, newcomer: LineClient, unread: tuple[str, ...] = ()
    ) -> None:
        """
        The newcomer can still register, after reading C{unread}; Alicja
        heard only its arrival.
        """
        newcomer.sendLine("Newcomer")
        self.assertEqual(newcomer.readUntil("Connected to server!"), list(unread))
        newcomer.sendLine("marker")
        newcomer.expect("Newcomer: marker")
        self.assertEqual(
            alicja.readUntil("Newcomer: marker"), ["Newcomer joined the chat!"]
        )

    def test_taken(self) -> None:
        """
        A nickname someone holds is refused.
        """
        (alicja,) = self.connectAll("Alicja")
        newcomer = self.connect()
        newcomer.expect("NICK")
        self.assertRefused(newcomer, "Alicja", "! The nickname Alicja is taken.")
        self.assertUndisturbed(alicja, newcomer)

    def test_takenInAnotherCase(self) -> None:
        """
        A nickname that differs only in case from a held one is refused.
        """
        (alicja,) = self.connectAll("Alicja")
        newcomer = self.connect()
        newcomer.expect("NICK")
        self.assertRefused(newcomer, "alicja", "! The nickname alicja is taken.")
        self.assertRefused(newcomer, "ALICJA", "! The nickname ALICJA is taken.")
        self.assertUndisturbed(alicja, newcomer)

    def test_takenInAnotherNormalization(self) -> None:
        """
        A decomposed spelling of a held precomposed nickname is refused, and
        the other way round.

        (C{Ł} has no decomposition, so C{Ż} stands in: C{Z} and U+0307.)
        """
        precomposed, decomposed = "\u017baneta", "Z\u0307aneta"
        (alicja,) = self.connectAll("Alicja")
        zaneta = self.connect(precomposed)
        alicja.expect(f"{precomposed} joined the chat!")
        newcomer = self.connect()
        newcomer.expect("NICK")
        self.assertRefused(
            newcomer, decomposed, f"! The nickname {precomposed} is taken."
        )
        zaneta.close()
        alicja.expect(f"{precomposed} left the chat.")

        other = self.connect(decomposed)
        alicja.expect(f"{precomposed} joined the chat!")
        self.assertRefused(
            newcomer, precomposed, f"! The nickname {precomposed} is taken."
        )
        other.close()
        alicja.expect(f"{precomposed} left the chat.")
        self.assertUndisturbed(alicja, newcomer)

    def test_malformed(self) -> None:
        """
        Each malformed nickname is refused with what is wrong with it.
        """
        (alicja,) = self.connectAll("Alicja")
        newcomer = self.connect()
        newcomer.expect("NICK")
        for nickname, error in [
            ("Ala Ma", "! A name may hold only letters, digits, _ and -, not “ ”."),
            ("a" * 33, "! That name is too long: at most 32 characters."),
            ("7up", "! A name must start with a letter or _, not “7”."),
            ("Al\x1bicja", "! A name may hold only letters, digits, _ and -, not “␛”."),
            ("\x07Bob", "! A name must start with a letter or _, not “␇”."),
            ("server", "! The name server is reserved."),
            ("PASS", "! The name PASS is reserved."),
            ("/whatever", "! Choose a nickname first."),
        ]:
            self.assertRefused(newcomer, nickname, error)
        self.assertUndisturbed(alicja, newcomer)

    def test_controlCharacterAtEitherEnd(self) -> None:
        """
        A nickname with a control character at its start or end is refused,
        not trimmed: only surrounding spaces are removed.
        """
        (alicja,) = self.connectAll("Alicja")
        newcomer = self.connect()
        newcomer.expect("NICK")
        for nickname, character in [
            ("Ala\x1f", "\u241f"),
            ("Ala\x0c", "\u240c"),
            ("\x0bOla", "\u240b"),
        ]:
            newcomer.sendLine(nickname)
            line = newcomer.readLine()
            self.assertTrue(line.startswith("! "), (nickname, line))
            self.assertIn(character, line)
            newcomer.expect("NICK")
        self.assertUndisturbed(alicja, newcomer)

    def test_surroundingSpaces(self) -> None:
        """
        Spaces around a nickname are removed.
        """
        (alicja,) = self.connectAll("Alicja")
        newcomer = self.connect()
        newcomer.expect("NICK")
        newcomer.sendLine("  Bob ")
        newcomer.expect("Connected to server!")
        alicja.expect("Bob joined the chat!")

    def test_tooLongLineForNickname(self) -> None:
        """
        A line over 2048 bytes in place of a nickname is refused, and the
        prompt repeated, as for any malformed nickname.
        """
        (alicja,) = self.connectAll("Alicja")
        newcomer = self.connect()
        newcomer.expect("NICK")
        newcomer.send(b"y" * 3000 + b"\n")
        self.assertUndisturbed(alicja, newcomer, (TOO_LONG, "NICK"))

    def test_invalidUTF8ForNickname(self) -> None:
        """
        A line that is not UTF-8 in place of a nickname is refused, and the
        prompt repeated, as for any malformed nickname.
        """
        (alicja,) = self.connectAll("Alicja")
        newcomer = self.connect()
        newcomer.expect("NICK")
        newcomer.send(b"Ol\xe9\n")
        self.assertUndisturbed(alicja, newcomer, (NOT_UTF8, "NICK"))

    def test_longestNickname(self) -> None:
        """
        A nickname of 32 characters, the most allowed, is accepted.
        """
        self.connect("a" * 32)


class FramingTests(ServerTestCase):
    """
    Lines are split, bounded and decoded per line, whatever TCP does to them.
    """

    def test_tooLong(self) -> None:
        """
        A line over 2048 bytes is refused, and the next line is delivered.
        """
        alicja, bob = self.connectAll("Alicja", "Bob")
        bob.send(b"y" * 2049 + b"\n")
        bob.expect(TOO_LONG)
        bob.sendLine("after")
        self.assertEqual(bob.readUntil("Bob: after"), [])
        self.assertEqual(alicja.readUntil("Bob: after"), [])

    def test_longest(self) -> None:
        """
        A line of exactly 2048 bytes is delivered, with either line ending.
        """
        alicja, bob = self.connectAll("Alicja", "Bob")
        bob.send(b"y" * 2048 + b"\n")
        bob.send("ż".encode() * 1024 + b"\r\n")
        for client in (alicja, bob):
            client.expect("Bob: " + "y" * 2048)
            client.expect("Bob: " + "ż" * 1024)

    def test_tooLongThenLineInOneSend(self) -> None:
        """
        A long line and the next one arriving together: the next is delivered.
        """
        alicja, bob = self.connectAll("Alicja", "Bob")
        bob.send(b"y" * 3000 + b"\nafter\n")
        self.assertEqual(bob.readUntil("Bob: after"), [TOO_LONG])
        self.assertEqual(alicja.readUntil("Bob: after"), [])

    def test_tooLongInPieces(self) -> None:
        """
        A long line arriving in several pieces is refused once, and the line
        after it is delivered.
        """
        alicja = self.connect("Alicja")
        bob = self.connect("Bob", noDelay=True)
        alicja.expect("Bob joined the chat!")
        bob.sendInPieces(b"y" * 1500, b"y" * 1500, b"y" * 1500, b"y\nafter\n")
        self.assertEqual(bob.readUntil("Bob: after"), [TOO_LONG])
        self.assertEqual(alicja.readUntil("Bob: after"), [])

    def test_tooLongEndingInPieces(self) -> None:
        """
        A long line whose end comes in a later piece is refused once.
        """
        alicja = self.connect("Alicja")
        bob = self.connect("Bob", noDelay=True)
        alicja.expect("Bob joined the chat!")
        bob.sendInPieces(b"y" * 1200, b"y" * 1200 + b"\naft", b"er\n")
        self.assertEqual(bob.readUntil("Bob: after"), [TOO_LONG])
        self.assertEqual(alicja.readUntil("Bob: after"), [])

    def test_invalidUTF8(self) -> None:
        """
        A line that is not UTF-8 is refused, and the connection keeps working.
        """
        alicja, bob = self.connectAll("Alicja", "Bob")
        bob.send(b"caf\xe9\n")
        bob.expect(NOT_UTF8)
        bob.send(b"\xc5\n\xff\xfe\n")
        bob.expect(NOT_UTF8)
        bob.expect(NOT_UTF8)
        bob.sendLine("still here")
        self.assertEqual(bob.readUntil("Bob: still here"), [])
        self.assertEqual(alicja.readUntil("Bob: still here"), [])

    def test_characterSplitAcrossSends(self) -> None:
        """
        A "ż" whose two bytes arrive in separate TCP segments arrives whole.
        """
        alicja = self.connect("Alicja")
        bob = self.connect("Bob", noDelay=True)
        alicja.expect("Bob joined the chat!")
        bob.sendInPieces(b"mo\xc5", b"\xbcna\n", pause=0.1)
        alicja.expect("Bob: można")
        bob.expect("Bob: można")

    def test_lineEndings(self) -> None:
        """
        CRLF (telnet) and LF (nc) both end a line; the server answers in CRLF.
        """
        (alicja,) = self.connectAll("Alicja")
        bob = self.connect()
        bob.expect("NICK")
        bob.send(b"Bob\r\n")
        bob.expect("Connected to server!")
        alicja.expect("Bob joined the chat!")
        bob.send(b"by telnet\r\nby nc\n")
        alicja.expect("Bob: by telnet")
        alicja.expect("Bob: by nc")
        self.assertTrue(alicja.received.endswith(b"\r\nBob: by telnet\r\nBob: by nc\r\n"))

    def test_wholeSessionAtOnce(self) -> None:
        """
        A whole session sent in one piece and followed by EOF, as
        C{nc < script} does, is played in order.
        """
        (alicja,) = self.connectAll("Alicja")
        bob = self.connect()
        bob.expect("NICK")
        # Paused, the server finds the lines and the EOF waiting together.
        with self.server.paused():
            bob.send(b"Bob\nfirst\r\n/me second\nthird\n")
            bob.shutdownWrite()
            time.sleep(0.1)
        self.assertEqual(
            alicja.readLines(5),
            [
                "Bob joined the chat!",
                "Bob: first",
                "* Bob second",
                "Bob: third",
                "Bob left the chat.",
            ],
        )
        self.assertEqual(
            bob.readUntilClosed(),
            ["Connected to server!", "Bob: first", "* Bob second", "Bob: third"],
        )

    def test_vanishMidLine(self) -> None:
        """
        A client that closes halfway through a line leaves, and its half
        line is never said.
        """
        alicja, bob, carol = self.connectAll("Alicja", "Bob", "Carol")
        bob.send(b"half a li")
        bob.close()
        alicja.expect("Bob left the chat.")
        carol.sendLine("marker")
        self.assertEqual(alicja.readUntil("Carol: marker"), [])


class InputTests(ServerTestCase):
    """
    What a user types reaches others harmless, or not at all.
    """

    def test_controlCharacters(self) -> None:
        """
        Escape sequences and other controls reach others only as visible
        pictures.
        """
        alicja, bob = self.connectAll("Alicja", "Bob")
        bob.sendLine(
            "\x1b[31mred\x1b[0m \x1b]0;title\x07 bell\x07 back\x08 "
            "cr\rnew \x9b2J \u202eevil tab\there\x7f"
        )
        shown = (
            "Bob: \u241b[31mred\u241b[0m \u241b]0;title\u2407 bell\u2407 back\u2408 "
            "cr\u240dnew \ufffd2J \ufffdevil tab here\u2421"
        )
        alicja.expect(shown)
        bob.expect(shown)
        self.assertTrue(alicja.received.endswith(shown.encode() + b"\r\n"))
        self.assertNotIn(b"\x1b", alicja.received)
        self.assertNotIn(b"\x07", alicja.received)

    def test_controlCharactersElsewhere(self) -> None:
        """
        Actions, private messages, quit reasons and error replies that echo
        what a user typed show its controls as visible pictures too.
        """
        alicja, bob = self.connectAll("Alicja", "Bob")
        bob.sendLine("/me \x1b[5mblinks")
        alicja.expect("* Bob \u241b[5mblinks")
        bob.expect("* Bob \u241b[5mblinks")
        bob.sendLine("/msg Alicja \x1b[2J")
        alicja.expect("*Bob* \u241b[2J")
        bob.expect("-> *Alicja* \u241b[2J")
        alicja.sendLine("/frob\x1b[2J")
        alicja.expect("! Unknown command /frob\u241b[2j; try /help.")
        alicja.sendLine("/msg Zen\x1bon hi")
        alicja.expect("! Nobody called Zen\u241bon is here.")
        bob.sendLine("/quit \x1b[2J")
        alicja.expect("Bob left the chat (\u241b[2J).")
        self.assertNotIn(b"\x1b", alicja.received)
        self.assertNotIn(b"\x1b", bob.received)

    def test_blankLines(self) -> None:
        """
        Empty and whitespace-only lines produce nothing at all.
        """
        alicja, bob = self.connectAll("Alicja", "Bob")
        bob.send(b"\n\r\n   \n\t\n \t \r\n")
        bob.sendLine("marker")
        self.assertEqual(bob.readUntil("Bob: marker"), [])
        self.assertEqual(alicja.readUntil("Bob: marker"), [])

    def test_unknownCommand(self) -> None:
        """
        An unknown command gets an error and is never said to the room.
        """
        alicja, bob = self.connectAll("Alicja", "Bob")
        bob.sendLine("/frobnicate now")
        bob.expect("! Unknown command /frobnicate; try /help.")
        bob.sendLine("marker")
        self.assertEqual(bob.readUntil("Bob: marker"), [])
        self.assertEqual(alicja.readUntil("Bob: marker"), [])

    def test_doubleSlash(self) -> None:
        """
        A line starting with // is said, with one slash.
        """
        alicja, bob = self.connectAll("Alicja", "Bob")
        bob.sendLine("//slash")
        alicja.expect("Bob: /slash")
        bob.expect("Bob: /slash")

    def test_missingArgument(self) -> None:
        """
        A command without its argument gets its usage, and nothing is said.
        """
        alicja, bob = self.connectAll("Alicja", "Bob")
        bob.sendLine("/msg Alicja")
        bob.expect("! Usage: /msg <nickname> <text>")
        bob.sendLine("/me")
        bob.expect("! Usage: /me <action>")
        bob.sendLine("marker")
        self.assertEqual(alicja.readUntil("Bob: marker"), [])

    def test_neverReading(self) -> None:
        """
        A client that never reads is cut off when others flood the room, and
        the server goes on serving everyone else.
        """
        alicja, bob = self.connectAll("Alicja", "Bob")
        slow = self.connect(receiveBuffer=4096)
        slow.register("Slow")
        alicja.expect("Slow joined the chat!")
        bob.expect("Slow joined the chat!")
        bob.close()

        heard = floodUntilCutOff(alicja, "Alicja", "Slow")
        self.assertEqual(heard, ["Bob left the chat.", "Slow left the chat."])
        carol = self.connect("Carol")
        alicja.expect("Carol joined the chat!")
        carol.sendLine("/who")
        carol.expect("In room lobby (2): Alicja and Carol")
        carol.sendLine("still serving")
        alicja.expect("Carol: still serving")
        carol.expect("Carol: still serving")


class CommandTests(ServerTestCase):
    """
    The commands, over TCP.
    """

    def test_who(self) -> None:
        """
        C{/who} lists the room in the order people came in.
        """
        alicja, bob, carol = self.connectAll("Alicja", "Bob", "Carol")
        bob.sendLine("/who")
        bob.expect("In room lobby (3): Alicja, Bob and Carol")

    def test_privateMessage(self) -> None:
        """
        C{/msg} reaches its recipient, echoes to its sender, and nobody else.
        """
        alicja, bob, carol = self.connectAll("Alicja", "Bob", "Carol")
        alicja.sendLine("/msg Bob psst")
        bob.expect("*Alicja* psst")
        alicja.expect("-> *Bob* psst")
        alicja.sendLine("marker")
        self.assertEqual(carol.readUntil("Alicja: marker"), [])
        self.assertEqual(bob.readUntil("Alicja: marker"), [])

    def test_privateMessageToNobody(self) -> None:
        """
        C{/msg} to a nickname nobody holds is an error, heard by nobody else.
        """
        alicja, bob = self.connectAll("Alicja", "Bob")
        alicja.sendLine("/msg Zenon psst")
        alicja.expect("! Nobody called Zenon is here.")
        alicja.sendLine("marker")
        self.assertEqual(bob.readUntil("Alicja: marker"), [])

    def test_action(self) -> None:
        """
        C{/me} is shown to the room, the actor included, as an action.
        """
        alicja, bob = self.connectAll("Alicja", "Bob")
        alicja.sendLine("/me waves")
        alicja.expect("* Alicja waves")
        bob.expect("* Alicja waves")

    def test_rename(self) -> None:
        """
        C{/nick} is announced to the room and to the renamed, who then speaks
        under the new name.
        """
        alicja, bob = self.connectAll("Alicja", "Bob")
        alicja.sendLine("/nick Ala")
        alicja.expect("Alicja is now known as Ala.")
        bob.expect("Alicja is now known as Ala.")
        alicja.sendLine("hello")
        alicja.expect("Ala: hello")
        bob.expect("Ala: hello")
        bob.sendLine("/msg ala psst")
        alicja.expect("*Bob* psst")
        bob.expect("-> *Ala* psst")

    def test_renameTaken(self) -> None:
        """
        C{/nick} to a held nickname is refused.
        """
        alicja, bob = self.connectAll("Alicja", "Bob")
        alicja.sendLine("/nick BOB")
        alicja.expect("! The nickname BOB is taken.")
        alicja.sendLine("marker")
        self.assertEqual(bob.readUntil("Alicja: marker"), [])

    def test_joinRoom(self) -> None:
        """
        C{/join} tells the old room, the new room and the mover, and chat
        lines stay in their room.
        """
        alicja, bob, carol = self.connectAll("Alicja", "Bob", "Carol")
        alicja.sendLine("/join kitchen")
        bob.expect("Alicja went to room kitchen.")
        carol.expect("Alicja went to room kitchen.")
        alicja.expect("You are now in room kitchen (1 member).")

        bob.sendLine("/join kitchen")
        carol.expect("Bob went to room kitchen.")
        bob.expect("You are now in room kitchen (2 members).")
        alicja.expect("Bob came over from room lobby.")

        carol.sendLine("/rooms")
        carol.expect("2 rooms: kitchen (2), lobby (1)")
        carol.sendLine("in the lobby")
        carol.expect("Carol: in the lobby")
        alicja.sendLine("in the kitchen")
        alicja.expect("Alicja: in the kitchen")
        bob.expect("Alicja: in the kitchen")
        carol.sendLine("marker")
        self.assertEqual(carol.readUntil("Carol: marker"), [])
        alicja.sendLine("marker")
        self.assertEqual(bob.readUntil("Alicja: marker"), [])
        self.assertEqual(alicja.readUntil("Alicja: marker"), [])

    def test_rooms(self) -> None:
        """
        C{/rooms} lists every room with its count; an emptied room goes away.
        """
        alicja, bob = self.connectAll("Alicja", "Bob")
        alicja.sendLine("/rooms")
        alicja.expect("1 room: lobby (2)")
        bob.sendLine("/join pantry")
        alicja.expect("Bob went to room pantry.")
        bob.expect("You are now in room pantry (1 member).")
        alicja.sendLine("/rooms")
        alicja.expect("2 rooms: lobby (1), pantry (1)")
        bob.sendLine("/join lobby")
        alicja.expect("Bob came over from room pantry.")
        alicja.sendLine("/rooms")
        alicja.expect("1 room: lobby (2)")


class ShutdownTests(SynchronousTestCase):
    """
    SIGTERM and SIGINT stop the server gracefully, each on a server of its
    own.
    """

    def startServer(self, *arguments: str) -> ServerProcess:
        server = ServerProcess(*arguments)
        server.start(self.mktemp())
        self.addCleanup(server.stop)
        return server

    def connect(self, server: ServerProcess, nickname: str | None = None) -> LineClient:
        client = LineClient(server.port)
        self.addCleanup(client.close)
        if nickname is None:
            client.expect("NICK")
        else:
            client.register(nickname)
        return client

    def assertGoodbye(self, signum: int) -> None:
        server = self.startServer()
        alicja = self.connect(server, "Alicja")
        bob = self.connect(server, "Bob")
        alicja.expect("Bob joined the chat!")
        stranger = self.connect(server)

        server.stop(signum)
        for client in (alicja, bob, stranger):
            self.assertEqual(client.readUntilClosed(), [GOODBYE])
        self.assertNotIn(b"Traceback", server.output)

    def assertExitsCleanly(self, signum: int) -> None:
        server = self.startServer()
        self.connect(server, "Alicja")
        self.connect(server)
        status = server.stop(signum)
        self.assertNotIn(b"Traceback", server.output)
        self.assertEqual(status, 0, f"exit status {status} on signal {signum}")

    def test_goodbyeOnSIGTERM(self) -> None:
        """
        On SIGTERM every client, registered or not, hears goodbye, then EOF.
        """
        self.assertGoodbye(signal.SIGTERM)

    def test_goodbyeOnSIGINT(self) -> None:
        """
        On SIGINT every client, registered or not, hears goodbye, then EOF.
        """
        self.assertGoodbye(signal.SIGINT)

    def test_exitStatusOnSIGTERM(self) -> None:
        """
        A server stopped with SIGTERM exits with status 0.
        """
        self.assertExitsCleanly(signal.SIGTERM)

    def test_exitStatusOnSIGINT(self) -> None:
        """
        A server stopped with SIGINT exits with status 0.
        """
        self.assertExitsCleanly(signal.SIGINT)

    def test_neverReadingClientDoesNotHoldUpExit(self) -> None:
        """
        A client that never reads delays the exit by no more than the grace
        period.
        """
        grace = 1.0
        server = self.startServer("--grace", str(grace))
        slow = LineClient(server.port, receiveBuffer=4096)
        self.addCleanup(slow.close)
        slow.register("Slow")
        alicja = self.connect(server, "Alicja")
        # Enough to fill the kernel's buffers towards Slow, too little for
        # the server to cut Slow off for it.
        self.assertEqual(flood(alicja, "Alicja", 1250), [])

        started = time.monotonic()
        status = server.stop()
        elapsed = time.monotonic() - started
        self.assertEqual(alicja.readUntilClosed(), [GOODBYE])
        self.assertLess(elapsed, grace + 3)
        self.assertNotIn(b"Traceback", server.output)
        self.assertEqual(status, 0)


def summarized(line: str) -> tuple[list[str], int] | None:
    """
    The names and the count of others in a join announcement, if it is one.
    """
    match = re.fullmatch(r"(.+?)(?: and (\d+) others?)? joined the chat!", line)
    if match is None:
        return None
    return re.split(r", | and ", match.group(1)), int(match.group(2) or 0)


class CrowdTests(SynchronousTestCase):
    """
    A crowded room announces joins as summaries (with C{--crowd-size 5}).
    """

    def test_joinsSummarized(self) -> None:
        """
        Ten people join a room that is crowded from five: the early ones hear
        the first few one by one and the rest in summary, far fewer lines
        than one per pair, and every joiner is named or counted.
        """
        server = ServerProcess("--crowd-size", "5")
        server.start(self.mktemp())
        self.addCleanup(server.stop)
        nicknames = [f"Member{number}" for number in range(1, 11)]
        clients = []
        for nickname in nicknames:
            client = LineClient(server.port)
            self.addCleanup(client.close)
            client.register(nickname)
            clients.append(client)
        # The last to come waits for the summary, then says a marker.
        last = clients[-1]
        for _ in range(20):
            if summarized(last.readLine()) is not None:
                break
        last.sendLine("marker")
        last.readUntil("Member10: marker")

        total = 0
        for index, client in enumerate(clients[:-1]):
            heard = client.readUntil("Member10: marker")
            announcements = [summarized(line) for line in heard]
            self.assertNotIn(None, announcements, heard)
            total += len(announcements)
            named = [name for names, _ in announcements for name in names]
            counted = sum(others for _, others in announcements)
            self.assertEqual(len(named), len(set(named)), heard)
            later = nicknames[index + 1 :]
            unnamed = [name for name in later if name not in named]
            self.assertLessEqual(len(unnamed), counted, heard)
            if index < 3:
                # Announced one by one while the room had fewer than five.
                self.assertEqual(
                    heard[: 3 - index],
                    [f"{name} joined the chat!" for name in nicknames[index + 1 : 4]],
                )
        self.assertLess(total, len(nicknames) * (len(nicknames) - 1) // 2)


class LogTests(SynchronousTestCase):
    """
    The server logs who came and went, never what anyone said.
    """

    def test_noMessageContents(self) -> None:
        """
        Registrations and connections are logged; chat, actions, private
        messages and quit reasons are not.
        """
        secret = "s3cr3t-%d" % time.monotonic_ns()
        server = ServerProcess()
        server.start(self.mktemp())
        self.addCleanup(server.stop)
        alicja = LineClient(server.port)
        self.addCleanup(alicja.close)
        alicja.register("Alicja")
        bob = LineClient(server.port)
        self.addCleanup(bob.close)
        bob.register("Bob")
        alicja.expect("Bob joined the chat!")

        alicja.sendLine(f"the password is {secret}")
        alicja.sendLine(f"/me whispers {secret}")
        alicja.sendLine(f"/msg Bob {secret}")
        alicja.sendLine(f"/{secret}")
        alicja.sendLine(f"/quit {secret}")
        alicja.readUntilClosed()
        bob.readUntil(f"Alicja left the chat ({secret}).")
        server.stop()

        output = server.output.decode()
        self.assertIn("Alicja (native@127.0.0.1) registered", output)
        self.assertIn("Bob (native@127.0.0.1) registered", output)
        self.assertIn("Alicja left", output)
        self.assertNotIn(secret, output)


class KeepAliveTests(SynchronousTestCase):
    """
    Native connections are probed by TCP keepalive with the server's timers.
    """

    def test_connectionsProbed(self) -> None:
        """
        The kernel shows a keepalive timer, no longer than --ping-interval,
        on the server's side of a native connection.
        """
        import shutil
        import subprocess

        if shutil.which("ss") is None:
            self.skipTest("needs ss (iproute2) to see the server's socket timers")
        server = ServerProcess("--ping-interval", "30", "--ping-timeout", "20")
        server.start(self.mktemp())
        self.addCleanup(server.stop)
        client = LineClient(server.port)
        self.addCleanup(client.close)
        client.register("Ola")
        client.catchUp()
        # ss shows one timer per socket: retransmission while output is
        # unacknowledged, keepalive once the connection is idle.
        deadline = time.monotonic() + TIMEOUT
        while True:
            shown = subprocess.run(
                ["ss", "-tnoH", "state", "established", f"( sport = :{server.port} )"],
                capture_output=True, text=True, timeout=TIMEOUT, check=True,
            ).stdout
            timers = [int(s) for s in re.findall(r"timer:\(keepalive,(\d+)sec", shown)]
            if timers or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(len(timers), 1, shown)
        self.assertLessEqual(timers[0], 30)
