"""
Tests for L{chatsvc.cluster.wire}: every kind of event there and back, and
nothing but L{WireError} from garbage.
"""

import json
import typing

import attrs
from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from chatsvc import events
from chatsvc.cluster.wire import WireError, decodeEvent, dumps, encodeEvent, loads
from chatsvc.events import (
    AccountChanged,
    Acted,
    Announcement,
    Arrived,
    AwayChanged,
    Closing,
    Crowd,
    Departed,
    Dropped,
    Event,
    Identity,
    Invited,
    InviteNotice,
    Joined,
    Kicked,
    Killed,
    Left,
    ModeChanged,
    Moved,
    Parted,
    RealnameChanged,
    Renamed,
    Said,
    TimedOut,
    TopicChanged,
    Wallops,
    Welcome,
    Whispered,
)
from chatsvc.moderation import ModeChange

# Any text, empty and non-ASCII included (lone surrogates too: UTF-8 cannot
# carry them, so dumps must fall back to escapes).
text = st.text(st.characters(blacklist_categories=()))
maybeText = st.none() | text
flag = st.booleans()

identities = st.builds(
    Identity,
    nickname=text,
    username=text,
    host=text,
    account=maybeText,
    realname=text,
)
changes = st.lists(
    st.builds(ModeChange, adding=flag, letter=text, argument=maybeText)
).map(tuple)
names = st.lists(text).map(tuple)

# Every field of every kind, named so that one left out (and so left at its
# default, untested) fails test_everyField.
KINDS: dict[type, dict[str, st.SearchStrategy[object]]] = {
    Welcome: dict(nickname=text, room=text),
    Joined: dict(sender=identities, room=text, away=maybeText),
    Left: dict(sender=identities, reason=maybeText),
    Parted: dict(sender=identities, room=text, reason=maybeText),
    TopicChanged: dict(sender=identities, room=text, topic=text),
    Said: dict(sender=identities, room=text, text=text, notice=flag),
    Acted: dict(sender=identities, room=text, text=text),
    Whispered: dict(sender=identities, recipient=text, text=text, action=flag, notice=flag),
    Renamed: dict(sender=identities, new=text),
    Departed: dict(sender=identities, room=text, destination=text),
    Arrived: dict(sender=identities, room=text, origin=text, away=maybeText),
    Moved: dict(room=text, count=st.integers()),
    Crowd: dict(room=text, joined=names, left=names),
    TimedOut: dict(host=text),
    Closing: dict(),
    Announcement: dict(what=text),
    ModeChanged: dict(sender=identities, room=text, changes=changes),
    Kicked: dict(sender=identities, room=text, nickname=text, reason=maybeText),
    Invited: dict(sender=identities, room=text, nickname=text),
    InviteNotice: dict(sender=identities, room=text, nickname=text),
    AccountChanged: dict(sender=identities, account=maybeText),
    AwayChanged: dict(sender=identities, message=maybeText),
    RealnameChanged: dict(sender=identities, realname=text),
    Wallops: dict(sender=identities, text=text),
    Killed: dict(sender=identities, reason=text),
    Dropped: dict(why=text, nickname=text),
}

stamps = dict(
    id=st.sampled_from(["", "01HZX3K9Q2W8"]) | text,
    time=st.sampled_from([0.0, 1718000000.25]) | st.floats(allow_nan=False, allow_infinity=False),
)
anyEvent = st.one_of([st.builds(kind, **fields, **stamps) for kind, fields in KINDS.items()])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda inner: st.lists(inner) | st.dictionaries(text, inner),
    max_leaves=20,
)


class CoverageTests(SynchronousTestCase):
    def test_everyKind(self) -> None:
        """
        The strategies build exactly the kinds of the L{Event} union.
        """
        self.assertEqual(set(KINDS), set(typing.get_args(Event)))

    def test_everyField(self) -> None:
        """
        Each kind's strategy gives every one of its fields a value.
        """
        for kind, fields in KINDS.items():
            expected = {each.name for each in attrs.fields(kind)} - set(stamps)
            self.assertEqual(set(fields), expected, kind.__name__)

    def test_everyEventInUnion(self) -> None:
        """
        Every event class in L{chatsvc.events} is in the L{Event} union, so
        the codec, which carries only those, carries them all.
        """
        classes = {
            value
            for name, value in vars(events).items()
            if isinstance(value, type)
            and attrs.has(value)
            and value.__module__ == events.__name__
            and not name.startswith("_")
        }
        self.assertEqual(classes - {Identity}, set(typing.get_args(Event)))


class RoundTripTests(SynchronousTestCase):
    def assertSameEvent(self, decoded: object, event: object) -> None:
        """
        Equal, of the same class, and with the same C{id} and C{time},
        which equality ignores.
        """
        self.assertIs(type(decoded), type(event))
        self.assertEqual(decoded, event)
        self.assertEqual(decoded.id, event.id)  # type: ignore[attr-defined]
        self.assertEqual(decoded.time, event.time)  # type: ignore[attr-defined]

    @given(anyEvent)
    def test_roundTrip(self, event: Event) -> None:
        """
        Every event comes back as it was, through JSON bytes and without.
        """
        encoded = encodeEvent(event)
        self.assertSameEvent(decodeEvent(encoded), event)
        self.assertSameEvent(decodeEvent(loads(dumps(encoded))), event)

    def test_compact(self) -> None:
        """
        Fields at their default are left out, an identity's trailing ones
        included; the bytes are UTF-8 as it is, with no spaces.
        """
        said = Said(Identity("żaneta"), "#a", "cześć", id="m1", time=1.5)
        encoded = encodeEvent(said)
        self.assertEqual(
            encoded,
            {"kind": "Said", "id": "m1", "time": 1.5, "sender": ["żaneta"], "room": "#a", "text": "cześć"},
        )
        self.assertEqual(
            dumps(encoded),
            '{"kind":"Said","id":"m1","time":1.5,"sender":["żaneta"],"room":"#a","text":"cześć"}'.encode(),
        )
        self.assertEqual(encodeEvent(Closing()), {"kind": "Closing"})

    def test_modeChanges(self) -> None:
        """
        Mode changes go as lists, their argument left out when they have
        none.
        """
        changed = ModeChanged(Identity("op", "o", "h"), "#a", (ModeChange(True, "o", "bob"), ModeChange(False, "t")))
        self.assertEqual(encodeEvent(changed)["changes"], [[True, "o", "bob"], [False, "t"]])

    def test_notAnEvent(self) -> None:
        """
        Encoding what is not an event is a caller's mistake: L{TypeError}.
        """
        self.assertRaises(TypeError, encodeEvent, Identity("alice"))


class GarbageTests(SynchronousTestCase):
    def assertGarbage(self, obj: object) -> None:
        self.assertRaises(WireError, decodeEvent, obj)

    @given(json_values)
    def test_anyJSON(self, obj: object) -> None:
        """
        Any JSON value decodes to an event or raises L{WireError}.
        """
        try:
            decodeEvent(obj)
        except WireError:
            pass

    @given(st.binary())
    def test_anyBytes(self, data: bytes) -> None:
        """
        Any bytes are an event or a L{WireError}.
        """
        try:
            decodeEvent(loads(data))
        except WireError:
            pass

    @given(anyEvent, st.data())
    def test_mangled(self, event: Event, data: st.DataObject) -> None:
        """
        An event with any one member replaced by any JSON value decodes to
        an event or raises L{WireError}; with an unknown member added, it
        raises L{WireError}.
        """
        encoded = encodeEvent(event)
        key = data.draw(st.sampled_from(sorted(encoded)))
        encoded[key] = data.draw(json_values)
        try:
            decodeEvent(encoded)
        except WireError:
            pass
        stranger = data.draw(text.filter(lambda key: key not in encoded))
        encoded = encodeEvent(event)
        encoded[stranger] = data.draw(json_values)
        self.assertGarbage(encoded)

    def test_unknownKinds(self) -> None:
        """
        Only the classes of the L{Event} union are ever built, by their
        names alone: no other class, whatever module it is in.
        """
        for name in ["Hub", "Identity", "ModeChange", "_Event", "_Caused", "WireError", "Said ", "said", "", "__class__", "chatsvc.events.Said"]:
            self.assertGarbage({"kind": name})
        for kind in [None, 1, ["Said"], {"Said": 1}, True]:
            self.assertGarbage({"kind": kind})
        self.assertGarbage({})

    def test_missing(self) -> None:
        """
        A field without a default is needed; one with a default is not.
        """
        self.assertGarbage({"kind": "Said", "sender": ["a"], "room": "#a"})
        self.assertGarbage({"kind": "Welcome", "nickname": "a"})
        self.assertEqual(decodeEvent({"kind": "Said", "sender": ["a"], "room": "#a", "text": ""}), Said(Identity("a"), "#a", ""))

    def test_wrongTypes(self) -> None:
        """
        Values must be of their field's type exactly, nested ones included.
        """
        said = {"kind": "Said", "sender": ["a"], "room": "#a", "text": "hi"}
        for key, value in [
            ("room", 1),
            ("room", None),
            ("text", ["hi"]),
            ("notice", 0),
            ("notice", "true"),
            ("id", 7),
            ("time", "1.5"),
            ("time", True),
            ("time", 10**400),
            ("time", float("inf")),
            ("time", float("nan")),
            ("sender", "a"),
            ("sender", []),
            ("sender", ["a", "u", "h", None, "r", "extra"]),
            ("sender", [None]),
            ("sender", ["a", "u", "h", 1]),
            ("sender", {"nickname": "a"}),
        ]:
            self.assertGarbage({**said, key: value})
        self.assertGarbage({"kind": "Moved", "room": "#a", "count": True})
        self.assertGarbage({"kind": "Moved", "room": "#a", "count": 1.0})
        self.assertGarbage({"kind": "Crowd", "room": "#a", "joined": "ab", "left": []})
        self.assertGarbage({"kind": "Crowd", "room": "#a", "joined": [1], "left": []})
        for change in [[], [True], ["+", "o"], [True, "o", None, None], [True, "o", 1]]:
            self.assertGarbage({"kind": "ModeChanged", "sender": ["a"], "room": "#a", "changes": [change]})

    def test_timeFromInteger(self) -> None:
        """
        A time written as an integer is still a time, as a float.
        """
        decoded = decodeEvent({"kind": "Closing", "time": 3})
        self.assertEqual(decoded.time, 3.0)
        self.assertIs(type(decoded.time), float)

    def test_notAnObject(self) -> None:
        """
        What is not a JSON object is garbage, at either step.
        """
        for obj in [None, [], "Said", 1, [["kind", "Said"]]]:
            self.assertGarbage(obj)
        for data in [b"", b"[]", b'"kind"', b"1", b"nul", b"{", b'{"kind":"Closing"} x']:
            self.assertRaises(WireError, loads, data)
        self.assertRaises(WireError, loads, '{"kind":"Closing"}')

    def test_badBytes(self) -> None:
        """
        Bytes that are not UTF-8, JSON's non-standard constants, numbers
        too long to read and nesting too deep to follow are all garbage.
        """
        for data in [
            b'{"kind":"Welcome","nickname":"\xc5","room":""}',
            b'{"kind":"Closing","time":NaN}',
            b'{"kind":"Closing","time":-Infinity}',
            b'{"kind":"Closing","time":' + b"9" * 5000 + b"}",
            b'{"kind":' + b"[" * 100000 + b"]" * 100000 + b"}",
            b"\xef\xbb\xbf{}",
        ]:
            self.assertRaises(WireError, loads, data)

    def test_loneSurrogate(self) -> None:
        """
        Text UTF-8 cannot carry still goes, as JSON escapes.
        """
        event = Said(Identity("a"), "#a", "\ud800!")
        data = dumps(encodeEvent(event))
        self.assertEqual(json.loads(data)["text"], "\ud800!")
        self.assertEqual(decodeEvent(loads(data)), event)
