"""
Tests for L{chatsvc.moderation} and L{chatsvc.masks}: the rules, by every
combination, and the masks, by property.
"""

import itertools

from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from chatsvc.events import Identity
from chatsvc.masks import matches, normalizeMask
from chatsvc.moderation import (
    MAX_LIMIT,
    Action,
    ModeChange,
    Modes,
    Role,
    applySetting,
    can,
    joinRefusal,
)

ALL_MODES = [
    Modes(inviteOnly=i, moderated=m, noOutside=n, secret=s, topicLock=t)
    for i, m, n, s, t in itertools.product([False, True], repeat=5)
]


class CanTests(SynchronousTestCase):
    def test_table(self) -> None:
        """
        Every action, role and set of flags against the rules as the issue
        states them, written out as a table of what each needs.
        """
        for action, role, modes in itertools.product(Action, Role, ALL_MODES):
            if action is Action.SPEAK:
                needed = Role.VOICE if modes.moderated else Role.MEMBER
            elif action is Action.TOPIC:
                needed = Role.OPERATOR if modes.topicLock else Role.MEMBER
            elif action is Action.INVITE:
                needed = Role.OPERATOR if modes.inviteOnly else Role.MEMBER
            else:
                needed = Role.OPERATOR
            self.assertEqual(can(action, role, modes), role >= needed, (action, role, modes))
            self.assertTrue(can(action, role, modes, serverOperator=True))

    def test_newRoom(self) -> None:
        """
        A new room is +nt: members speak, only operators set the topic.
        """
        self.assertEqual(Modes().letters(), ("+nt", ()))
        self.assertTrue(can(Action.SPEAK, Role.MEMBER, Modes()))
        self.assertFalse(can(Action.TOPIC, Role.VOICE, Modes()))


class JoinRefusalTests(SynchronousTestCase):
    def refusal(self, modes: Modes, **kw: object) -> str | None:
        options = {"banned": False, "invited": False, "key": None, "size": 1}
        options.update(kw)
        return joinRefusal(modes, **options)  # type: ignore[arg-type]

    def test_reasons(self) -> None:
        """
        Each mode keeps out with its own reason, the ban first.
        """
        self.assertIsNone(self.refusal(Modes()))
        self.assertEqual(self.refusal(Modes(), banned=True), "banned")
        self.assertEqual(self.refusal(Modes(inviteOnly=True), banned=True), "banned")
        self.assertEqual(self.refusal(Modes(inviteOnly=True)), "invite-only")
        self.assertEqual(self.refusal(Modes(key="word")), "key")
        self.assertEqual(self.refusal(Modes(key="word"), key="other"), "key")
        self.assertIsNone(self.refusal(Modes(key="word"), key="word"))
        self.assertEqual(self.refusal(Modes(limit=2), size=2), "full")
        self.assertIsNone(self.refusal(Modes(limit=2), size=1))

    def test_invitationAndOperatorPassEverything(self) -> None:
        """
        Whoever is invited, and any server operator, comes in whatever the
        modes say.
        """
        closed = Modes(inviteOnly=True, key="word", limit=1)
        self.assertIsNone(self.refusal(closed, banned=True, invited=True, size=5))
        self.assertIsNone(self.refusal(closed, banned=True, serverOperator=True, size=5))


class ApplySettingTests(SynchronousTestCase):
    def test_flags(self) -> None:
        """
        Setting a flag changes it once; setting it again changes nothing.
        """
        moderated = applySetting(Modes(), ModeChange(True, "m"))
        self.assertEqual(moderated, Modes(moderated=True))
        self.assertIsNone(applySetting(moderated, ModeChange(True, "m")))
        self.assertEqual(applySetting(moderated, ModeChange(False, "m")), Modes())
        self.assertEqual(moderated.letters(), ("+mnt", ()))

    def test_keyAndLimit(self) -> None:
        """
        A key is a word; a limit a positive number; both shown with their
        arguments, and unset without one.
        """
        keyed = applySetting(Modes(), ModeChange(True, "k", "tajne"))
        limited = applySetting(keyed, ModeChange(True, "l", "30"))
        self.assertEqual(limited.letters(), ("+ntkl", ("tajne", "30")))
        self.assertEqual(applySetting(limited, ModeChange(False, "k")), Modes(limit=30))
        self.assertEqual(applySetting(limited, ModeChange(False, "l")), Modes(key="tajne"))
        for bad in ["", "two words", "a,b", ":x", "x" * 24]:
            self.assertIsNone(applySetting(Modes(), ModeChange(True, "k", bad)), bad)
        for bad in ["", "0", "-3", "many", str(MAX_LIMIT + 1)]:
            self.assertIsNone(applySetting(Modes(), ModeChange(True, "l", bad)), bad)
        self.assertIsNone(applySetting(Modes(), ModeChange(False, "k")))

    def test_notASetting(self) -> None:
        """
        Roles and bans are the hub's to keep, not settings.
        """
        for letter in "ovbz":
            self.assertRaises(ValueError, applySetting, Modes(), ModeChange(True, letter, "x"))

    def test_takesArgument(self) -> None:
        """
        Roles, bans and keys take an argument both ways; a limit only when set.
        """
        for letter in "ovbk":
            self.assertTrue(ModeChange(True, letter).takesArgument())
            self.assertTrue(ModeChange(False, letter).takesArgument())
        self.assertTrue(ModeChange(True, "l").takesArgument())
        self.assertFalse(ModeChange(False, "l").takesArgument())
        for letter in "imnst":
            self.assertFalse(ModeChange(True, letter).takesArgument())


words = st.text(st.characters(blacklist_characters=" ,\r\n\0!@"), min_size=1, max_size=20)
identities = st.builds(Identity, words, words, words, st.one_of(st.none(), words))


class MaskTests(SynchronousTestCase):
    def test_shortForms(self) -> None:
        """
        A nickname, a host or a partial mask names what an operator means.
        """
        self.assertEqual(normalizeMask("bob"), "bob!*@*")
        self.assertEqual(normalizeMask("*.example.org"), "*!*@*.example.org")
        self.assertEqual(normalizeMask("bob!u"), "bob!u@*")
        self.assertEqual(normalizeMask("*@10.0.0.1"), "*!*@10.0.0.1")
        self.assertEqual(normalizeMask("~a:Ewa"), "~a:Ewa")
        for bad in ["", "a b", "a,b", "~a:", "x" * 129]:
            self.assertIsNone(normalizeMask(bad), bad)

    def test_matching(self) -> None:
        """
        Wildcards match runs and single characters, without regard to case;
        an account mask matches the account only.
        """
        ola = Identity("Ola", "~ola", "192.0.2.7", "OlaK")
        self.assertTrue(matches("ola!*@*", ola))
        self.assertTrue(matches("*!~ol?@192.0.2.*", ola))
        self.assertFalse(matches("ola!*@10.*", ola))
        self.assertFalse(matches("ol!*@*", ola))
        self.assertTrue(matches("~a:olak", ola))
        self.assertFalse(matches("~a:ola", ola))
        self.assertFalse(matches("~a:olak", Identity("Ola")))
        self.assertFalse(matches("o.a!*@*", ola), "a dot is a dot")

    @given(identities)
    def test_ownMaskMatches(self, identity: Identity) -> None:
        """
        Everyone's own mask names them, and so does the mask of everyone.
        """
        mask = normalizeMask(identity.mask)
        self.assertEqual(mask, identity.mask)
        self.assertTrue(matches(mask, identity))
        self.assertTrue(matches("*!*@*", identity))

    @given(st.text(max_size=40))
    def test_normalizeIsIdempotent(self, text: str) -> None:
        """
        A normalized mask stays as it is.
        """
        mask = normalizeMask(text)
        if mask is not None:
            self.assertEqual(normalizeMask(mask), mask)
