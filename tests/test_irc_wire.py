"""
Tests for L{chatsvc.irc.wire}.
"""

from hypothesis import assume, given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from chatsvc.irc.wire import (
    MAX_CLIENT_LINE_BYTES,
    Message,
    ctcpAction,
    escapeTagValue,
    formatMessage,
    formatTags,
    formatTime,
    overLimit,
    parseMessage,
    parseTags,
    parseTime,
    splitTags,
    splitText,
    unescapeTagValue,
    withTags,
)


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
        Whatever the parameters, formatting then parsing gives them back,
        if they fit in one line (the last is cut to fit: test_alwaysFits).
        """
        params = (*middles, trailing)
        assume(len(" ".join(params).encode("utf-8")) < 400)
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


tagKeys = st.text(st.sampled_from("abcxyz019-/.+"), min_size=1, max_size=12)
tagValues = st.none() | st.text(
    st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"])
)


class TagTests(SynchronousTestCase):
    def test_escaping(self) -> None:
        """
        Semicolons, spaces, backslashes, CR and LF are escaped, the rest
        sent raw, as in the message-tags specification's example.
        """
        self.assertEqual(escapeTagValue("raw+:=,escaped; \\"), "raw+:=,escaped\\:\\s\\\\")
        self.assertEqual(escapeTagValue("a\r\nb"), "a\\r\\nb")

    def test_lenientUnescaping(self) -> None:
        """
        A lone backslash at the end stands for nothing, an unknown escape
        for its character.
        """
        self.assertEqual(unescapeTagValue("test\\"), "test")
        self.assertEqual(unescapeTagValue("\\b\\:"), "b;")

    def test_format(self) -> None:
        """
        Tags go in front of a line; none leave it as it was; an empty value
        is sent as no value.
        """
        line = withTags([("time", "2026-12-01T22:14:27.123Z"), ("msgid", "a1")], "PING x")
        self.assertEqual(line, "@time=2026-12-01T22:14:27.123Z;msgid=a1 PING x")
        self.assertEqual(withTags([], "PING x"), "PING x")
        self.assertEqual(formatTags([("a", ""), ("b", None)]), "@a;b")

    def test_parse(self) -> None:
        """
        The last of several tags with one key counts; an empty value is no
        value; a line's tags part comes apart from the rest.
        """
        self.assertEqual(parseTags("@a=1;b=;c;a=2"), {"a": "2", "b": None, "c": None})
        self.assertEqual(splitTags("@a=b  PRIVMSG #x :y"), ("@a=b", "PRIVMSG #x :y"))
        self.assertEqual(splitTags("PRIVMSG #x :y"), ("", "PRIVMSG #x :y"))

    @given(st.lists(st.tuples(tagKeys, tagValues), max_size=6))
    def test_roundTrip(self, tags) -> None:
        """
        Whatever the values, formatted tags parse back to them (the last of
        a key counting, an empty value as none), and stay one word.
        """
        formatted = formatTags(tags)
        for breaker in " \r\n\x00":
            self.assertNotIn(breaker, formatted)
        self.assertEqual(parseTags(formatted), {key: value or None for key, value in tags})
        line = withTags(tags, "PRIVMSG #a :hi")
        self.assertEqual(parseMessage(line), Message("PRIVMSG", ("#a", "hi")))

    def test_limits(self) -> None:
        """
        A client's line may have 510 bytes after up to 4094 bytes of tag
        data, and no more of either.
        """
        body = "PRIVMSG #a :" + "x" * (510 - len("PRIVMSG #a :"))
        tags = "@+t=" + "v" * (4094 - len("+t="))
        self.assertFalse(overLimit(body))
        self.assertTrue(overLimit(body + "x"))
        self.assertFalse(overLimit(f"{tags} {body}"))
        self.assertEqual(len(f"{tags} {body}"), MAX_CLIENT_LINE_BYTES)
        self.assertTrue(overLimit(f"{tags}v {body}"))
        self.assertTrue(overLimit(f"{tags} {body}x"))
        self.assertTrue(overLimit("PRIVMSG #a :" + "ż" * 250))


class TimeTests(SynchronousTestCase):
    def test_format(self) -> None:
        """
        server-time's format, in UTC, to the millisecond below.
        """
        self.assertEqual(formatTime(1796163267.1239), "2026-12-01T22:14:27.123Z")
        self.assertEqual(formatTime(0.0), "1970-01-01T00:00:00.000Z")

    def test_parse(self) -> None:
        """
        Timestamps read back to milliseconds, with from one to six digits
        of fraction or none; anything else is no timestamp.
        """
        self.assertEqual(parseTime("2026-12-01T22:14:27.123Z"), 1796163267123)
        self.assertEqual(parseTime("2026-12-01T22:14:27.1Z"), 1796163267100)
        self.assertEqual(parseTime("2026-12-01T22:14:27.123456Z"), 1796163267123)
        self.assertEqual(parseTime("2026-12-01T22:14:27Z"), 1796163267000)
        bad = [
            "",
            "yesterday",
            "2026-12-01 22:14:27.123Z",
            "2026-12-01T22:14:27.123",
            "2026-13-01T22:14:27.123Z",
            "2026-12-01T22:14:27.12a4Z",
            "2026-12-01T22:14:27.Z",
        ]
        for text in bad:
            self.assertIsNone(parseTime(text), text)

    @given(st.integers(0, 4_102_444_800_000))
    def test_roundTrip(self, milliseconds) -> None:
        """
        Any millisecond, as a Unix time, is written as the timestamp that
        reads back to it.
        """
        self.assertEqual(parseTime(formatTime(milliseconds / 1000)), milliseconds)
