"""
Tests for L{chatsvc.irc.wire}.
"""

from hypothesis import given, strategies as st
from twisted.trial.unittest import SynchronousTestCase

from chatsvc.irc.wire import Message, ctcpAction, formatMessage, parseMessage, splitText


class ParseTests(SynchronousTestCase):
    """
    Cases in the spirit of the public IRC parser test vectors
    (ircdocs' parser-tests, msg-split).
    """

    def test_vectors(self) -> None:
        """
        Prefixes, middle and trailing parameters split as clients send them.
        """
        cases = {
            "foo bar baz asdf": Message("FOO", ("bar", "baz", "asdf")),
            ":coolguy foo bar baz asdf": Message("FOO", ("bar", "baz", "asdf"), "coolguy"),
            "foo bar baz :asdf quux": Message("FOO", ("bar", "baz", "asdf quux")),
            "foo bar baz :": Message("FOO", ("bar", "baz", "")),
            "foo bar baz ::asdf": Message("FOO", ("bar", "baz", ":asdf")),
            ":coolguy foo bar baz :  asdf quux ": Message("FOO", ("bar", "baz", "  asdf quux "), "coolguy"),
            ":coolguy PRIVMSG bar :lol :) ": Message("PRIVMSG", ("bar", "lol :) "), "coolguy"),
            "foo bar  baz   asdf": Message("FOO", ("bar", "baz", "asdf")),
            "@a=b;c=32;k;rt=ql7 foo": Message("FOO"),
            "@a=b :nick!ident@host.com PRIVMSG me :Hello": Message("PRIVMSG", ("me", "Hello"), "nick!ident@host.com"),
            "privmsg #a :x": Message("PRIVMSG", ("#a", "x")),
            "NICK Żaneta": Message("NICK", ("Żaneta",)),
        }
        for line, expected in cases.items():
            self.assertEqual(parseMessage(line), expected, line)

    def test_blank(self) -> None:
        """
        Blank lines and lone prefixes or tags are nothing.
        """
        for line in ["", "   ", ":prefix", "@tag=1", "@tag=1 :prefix "]:
            self.assertIsNone(parseMessage(line), line)


safeText = st.text(st.characters(blacklist_characters="\r\n\x00", blacklist_categories=["Cs"]))
middle = st.text(
    st.characters(blacklist_characters="\r\n\x00 ", blacklist_categories=["Cs"]), min_size=1
).filter(lambda p: not p.startswith(":"))


class FormatTests(SynchronousTestCase):
    def test_trailing(self) -> None:
        """
        The last of several parameters is trailing; a lone one only if needed.
        """
        self.assertEqual(formatMessage("PRIVMSG", "#a", "hi"), "PRIVMSG #a :hi")
        self.assertEqual(formatMessage("JOIN", "#a", prefix="n!u@h"), ":n!u@h JOIN #a")
        self.assertEqual(formatMessage("QUIT", "bye now"), "QUIT :bye now")
        self.assertEqual(formatMessage("QUIT", ""), "QUIT :")

    def test_noInjection(self) -> None:
        """
        CR, LF and NUL in any part never end the line.
        """
        line = formatMessage("PRIVMSG", "#a\r\n", "hi\r\nQUIT :x\x00", prefix="n\n!u@h")
        self.assertNotIn("\r", line)
        self.assertNotIn("\n", line)
        self.assertNotIn("\x00", line)

    @given(st.lists(middle, max_size=5), safeText)
    def test_roundTrip(self, middles, trailing) -> None:
        """
        Whatever the parameters, formatting then parsing gives them back.
        """
        params = (*middles, trailing)
        line = formatMessage("PRIVMSG", *params, prefix="n!u@h")
        self.assertEqual(parseMessage(line), Message("PRIVMSG", params, "n!u@h"))

    @given(st.lists(middle.filter(lambda p: len(p) < 20), max_size=5), safeText)
    def test_alwaysFits(self, middles, trailing) -> None:
        """
        However long the last parameter, the line fits in 512 bytes with its
        CR LF, and what is left of the parameter is a prefix of it.
        """
        line = formatMessage("TOPIC", *middles, trailing * 50, prefix="n!u@h")
        self.assertLessEqual(len(line.encode("utf-8")) + 2, 512)
        parsed = parseMessage(line)
        self.assertTrue((trailing * 50).startswith(parsed.params[-1]))

    @given(st.lists(st.text(), max_size=5))
    def test_alwaysOneLine(self, params) -> None:
        """
        Any parameters whatsoever make exactly one line.
        """
        line = formatMessage("PRIVMSG", *params)
        for breaker in "\r\n\x00":
            self.assertNotIn(breaker, line)


class SplitTests(SynchronousTestCase):
    def test_prefersSpaces(self) -> None:
        """
        Long text is cut at a space when one is near.
        """
        self.assertEqual(splitText("aaaa bbbb cccc", 10), ["aaaa bbbb", "cccc"])

    @given(st.text(st.characters(blacklist_categories=["Cs"])), st.integers(4, 100))
    def test_piecesFitAndReassemble(self, text, limit) -> None:
        """
        Every piece fits, no character is cut, and the pieces make the text
        again (spaces at cuts aside).
        """
        pieces = splitText(text, limit)
        for piece in pieces:
            self.assertLessEqual(len(piece.encode("utf-8")), limit)
        self.assertEqual("".join(pieces).replace(" ", ""), text.replace(" ", ""))


class CtcpTests(SynchronousTestCase):
    def test_action(self) -> None:
        """
        ACTION is recognised with or without its closing marker.
        """
        self.assertEqual(ctcpAction("\x01ACTION waves\x01"), "waves")
        self.assertEqual(ctcpAction("\x01ACTION waves"), "waves")
        self.assertIsNone(ctcpAction("\x01VERSION\x01"))
        self.assertIsNone(ctcpAction("plain"))
