"""
Tests for L{chatsvc.native.wire}: parsing, safe text, and the rule that no
line can pass for another kind.
"""

from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from chatsvc import events
from chatsvc.errors import (
    AlreadyInRoom,
    AlreadyRegistered,
    InvalidName,
    NicknameInUse,
    NoSuchNickname,
    NoSuchRoom,
    NotInRoom,
    NotRegistered,
    TooManyRooms,
)
from chatsvc.events import Identity
from chatsvc.i18n import LANGUAGES, translation
from chatsvc.native import wire, wording
from tests.test_names import nicknames

# Nicknames the rule accepts, reserved ones left out.
heldNicknames = nicknames.filter(wire.isNickname)
anyText = st.text(max_size=60)


class ParseTests(SynchronousTestCase):
    def test_plainLineIsSaid(self) -> None:
        """
        A line without a leading slash is chat, exactly as typed.
        """
        self.assertEqual(wire.parseLine(" Hi: there "), wire.Say(" Hi: there "))

    def test_doubleSlashEscapes(self) -> None:
        """
        A line starting with // says a literal line beginning with /.
        """
        self.assertEqual(wire.parseLine("//shrug"), wire.Say("/shrug"))

    def test_commands(self) -> None:
        """
        Each command parses into its value, case-insensitively.
        """
        cases = {
            "/help": wire.Help(),
            "/WHO": wire.Who(),
            "/rooms extra": wire.Rooms(),
            "/msg Bob  psst, listen": wire.Whisper("Bob", "psst, listen"),
            "/me waves": wire.Act("waves"),
            "/nick Ala": wire.Rename("Ala"),
            "/join #pub": wire.Join("#pub"),
            "/lang pl": wire.Language("pl"),
            "/lang": wire.Language(None),
            "/quit": wire.Quit(None),
            "/quit see you": wire.Quit("see you"),
            "/frobnicate now": wire.Unknown("frobnicate"),
            "/": wire.Unknown(""),
        }
        for line, command in cases.items():
            self.assertEqual(wire.parseLine(line), command, line)

    def test_missingArguments(self) -> None:
        """
        A command without its argument asks for its usage.
        """
        for line, name in [
            ("/msg", "msg"),
            ("/msg Bob", "msg"),
            ("/msg Bob   ", "msg"),
            ("/me", "me"),
            ("/nick ", "nick"),
            ("/join", "join"),
        ]:
            self.assertEqual(wire.parseLine(line), wire.Usage(name), line)

    @given(anyText)
    def test_anyLineParses(self, line: str) -> None:
        """
        Every line parses to some command; only a leading / makes one that is
        not chat.
        """
        command = wire.parseLine(line)
        if not line.startswith("/") or line.startswith("//"):
            self.assertIsInstance(command, wire.Say)


class VisibleTests(SynchronousTestCase):
    def test_escapeShownAsPicture(self) -> None:
        """
        ESC and other C0 controls become their visible pictures.
        """
        self.assertEqual(wire.visible("\x1b[2J\x07"), "\u241b[2J\u2407")

    def test_tabIsASpace(self) -> None:
        """
        A tab shows as a plain space.
        """
        self.assertEqual(wire.visible("a\tb"), "a b")

    def test_polishUntouched(self) -> None:
        """
        Ordinary text of any script passes unchanged.
        """
        self.assertEqual(wire.visible("zażółć gęślą jaźń"), "zażółć gęślą jaźń")

    def test_overridesAndC1Neutralized(self) -> None:
        """
        Bidi overrides and C1 controls (such as the 8-bit CSI) are replaced.
        """
        self.assertEqual(wire.visible("a\u202eb\x9bc\x85"), "a\ufffdb\ufffdc\ufffd")

    @given(st.text())
    def test_nothingControlSurvives(self, text: str) -> None:
        """
        Whatever the text, nothing a terminal acts on remains, and the line
        cannot be broken.
        """
        shown = wire.visible(text)
        for character in shown:
            code = ord(character)
            self.assertFalse(code < 0x20 or 0x7F <= code < 0xA0, repr(character))
            self.assertNotIn(character, "\u2028\u2029\u202a\u202b\u202c\u202d\u202e")


class ClassifyTests(SynchronousTestCase):
    def test_kinds(self) -> None:
        """
        Each kind of line is told by its first characters.
        """
        cases = {
            "NICK": wire.Line("prompt", ""),
            "Bob: Hi everyone!": wire.Line("chat", "Hi everyone!", "Bob"),
            "* Bob waves": wire.Line("action", "waves", "Bob"),
            "*Bob* psst": wire.Line("private", "psst", "Bob"),
            "-> *Bob* psst": wire.Line("sent", "psst", "Bob"),
            "! The nickname Bob is taken.": wire.Line("error", "The nickname Bob is taken."),
            "Bob joined the chat!": wire.Line("notice", "Bob joined the chat!"),
            "NICK: hi": wire.Line("chat", "hi", "NICK"),
            "PASS: hi": wire.Line("notice", "PASS: hi"),
            "server: restarting": wire.Line("notice", "server: restarting"),
        }
        for line, expected in cases.items():
            self.assertEqual(wire.classify(line), expected, line)


def sampleEvents(nickname: str, other: str, text: str) -> list:
    return [
        events.Welcome(nickname, "lobby"),
        events.Joined(Identity(nickname), "lobby"),
        events.Left(Identity(nickname)),
        events.Left(Identity(nickname), text),
        events.Renamed(Identity(nickname), other),
        events.Parted(Identity(nickname), "lobby"),
        events.Parted(Identity(nickname), "lobby", text),
        events.TopicChanged(Identity(nickname), "lobby", text),
        events.TopicChanged(Identity(nickname), "lobby", ""),
        events.Departed(Identity(nickname), "lobby", "kuchnia"),
        events.Arrived(Identity(nickname), "kuchnia", "lobby"),
        events.Moved("kuchnia", 1),
        events.Moved("kuchnia", 3),
        events.Moved("kuchnia", 22),
        events.Crowd("lobby", (nickname,), ()),
        events.Crowd("lobby", (nickname, other), (other,)),
        events.Crowd("lobby", (nickname,) * 7, (other,) * 5),
        events.Closing(),
    ]


def sampleErrors(nickname: str) -> list:
    return [
        InvalidName("empty", ""),
        InvalidName("long", nickname * 40),
        InvalidName("reserved", "server"),
        InvalidName("start", "2x", "2"),
        InvalidName("character", "a\x1bb", "\x1b"),
        NicknameInUse(nickname),
        NoSuchNickname(nickname),
        AlreadyInRoom("lobby"),
        NoSuchRoom("attic\x1b"),
        NotInRoom("kitchen"),
        NotRegistered(),
        AlreadyRegistered(),
        TooManyRooms("server", 10_000, "attic"),
    ]


class ForgeryTests(SynchronousTestCase):
    """
    Nobody can forge: every rendered line classifies as what it is, in every
    language, whatever nicknames and text are involved.
    """

    @given(heldNicknames, heldNicknames, anyText)
    def test_chatAndActionsAreWhatTheySeem(self, nickname, other, text) -> None:
        """
        A chat line or action names its real sender and its text, and user
        text cannot end the line.
        """
        t = translation("en")
        said = wording.renderEvent(events.Said(Identity(nickname), "lobby", text), t)
        self.assertEqual(wire.classify(said), wire.Line("chat", wire.visible(text), nickname))
        acted = wording.renderEvent(events.Acted(Identity(nickname), "lobby", text), t)
        self.assertEqual(wire.classify(acted), wire.Line("action", wire.visible(text), nickname))
        self.assertNotIn("\n", said + acted)
        self.assertNotIn("\r", said + acted)

    @given(heldNicknames, heldNicknames, anyText)
    def test_privateMessages(self, sender, recipient, text) -> None:
        """
        The recipient sees a private line from the sender; the sender sees an
        echo naming the recipient.
        """
        t = translation("en")
        event = events.Whispered(Identity(sender), recipient, text)
        echo = wire.classify(wording.renderEvent(event, t, own=True))
        self.assertEqual(echo, wire.Line("sent", wire.visible(text), recipient))
        received = wire.classify(wording.renderEvent(event, t))
        self.assertEqual(received, wire.Line("private", wire.visible(text), sender))

    @given(heldNicknames, heldNicknames, anyText)
    def test_noticesAreNotices(self, nickname, other, text) -> None:
        """
        Every notice, in every language, is a notice on each of its lines.
        """
        for language in LANGUAGES:
            t = translation(language)
            lines = [
                line
                for event in sampleEvents(nickname, other, text)
                for line in wording.renderEvent(event, t).split("\n")
            ]
            lines += wording.helpLines(t)
            lines.append(wording.whoLine("lobby", [nickname, other], t))
            lines.append(wording.roomsLine([("lobby", 2), ("kuchnia", 1)], t))
            lines.append(wording.roomsLine([("lobby", 2)], t))
            lines.append(wording.languageLine(language, t))
            lines.append(wording.languagesLine(language, t))
            for line in lines:
                self.assertEqual(wire.classify(line).kind, "notice", (language, line))

    @given(heldNicknames)
    def test_errorsAreErrors(self, nickname) -> None:
        """
        Every refusal, in every language, is an error line.
        """
        for language in LANGUAGES:
            t = translation(language)
            for error in sampleErrors(nickname):
                line = wording.renderError(error, t)
                self.assertEqual(wire.classify(line).kind, "error", line)
                self.assertNotIn("\x1b", line)


class EncodeTests(SynchronousTestCase):
    def test_crlfAndUtf8(self) -> None:
        """
        Every line of an event leaves as UTF-8 ending in CRLF.
        """
        event = events.Crowd("lobby", ("Żaneta",), ("Bob",))
        self.assertEqual(
            wording.encodeEvent(event, "en"),
            "Żaneta joined the chat!\r\nBob left the chat.\r\n".encode(),
        )

    def test_polish(self) -> None:
        """
        The seed's own Polish lines come out exactly.
        """
        self.assertEqual(wording.encodeEvent(events.Welcome("Alicja", "lobby"), "pl"), "Połączono z serwerem!\r\n".encode())
        self.assertEqual(wording.encodeEvent(events.Joined(Identity("Bob"), "lobby"), "pl"), "Bob dołączył do czatu!\r\n".encode())
        self.assertEqual(wording.encodeEvent(events.Left(Identity("Bob")), "pl"), "Bob opuścił czat.\r\n".encode())

    def test_crowdWording(self) -> None:
        """
        A crowd summary names three and counts the rest, with plurals.
        """
        t = translation("en")
        event = events.Crowd("lobby", ("A", "B", "C", "D", "E"), ("F",))
        self.assertEqual(
            wording.renderEvent(event, t),
            "A, B, C and 2 others joined the chat!\nF left the chat.",
        )
        pl = translation("pl")
        self.assertEqual(
            wording.renderEvent(events.Crowd("lobby", ("A", "B"), ()), pl),
            "A i B dołączyli do czatu!",
        )
        self.assertEqual(
            wording.renderEvent(events.Crowd("lobby", tuple("ABCDEFGH"), ()), pl),
            "A, B, C i 5 innych osób dołączyli do czatu!",
        )
