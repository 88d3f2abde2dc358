"""
Tests for L{chatsvc.names}.
"""

import unicodedata

from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from chatsvc.errors import InvalidName
from chatsvc.names import (
    MAX_NAME_LENGTH,
    RESERVED_NICKNAMES,
    checkNickname,
    checkRoomName,
    isNickname,
    nameKey,
)

nameCharacters = st.characters(categories=["Lu", "Ll", "Lo", "Nd"]) | st.sampled_from("_-")
nicknames = st.builds(
    lambda first, rest: first + rest,
    st.characters(categories=["Lu", "Ll", "Lo"]) | st.just("_"),
    st.text(nameCharacters, max_size=MAX_NAME_LENGTH - 1),
).filter(lambda name: len(unicodedata.normalize("NFC", name)) <= MAX_NAME_LENGTH)


class NicknameRuleTests(SynchronousTestCase):
    def assertProblem(self, text: str, problem: str) -> InvalidName:
        error = self.assertRaises(InvalidName, checkNickname, text)
        self.assertEqual(error.problem, problem)
        return error

    def test_polishNickname(self) -> None:
        """
        Letters of any script are accepted: a Polish user is Łukasz.
        """
        self.assertEqual(checkNickname("Łukasz"), "Łukasz")
        self.assertEqual(checkNickname("Żółw_2-b"), "Żółw_2-b")
        self.assertEqual(checkNickname("Дмитрий"), "Дмитрий")

    def test_caseAndNormalizationFold(self) -> None:
        """
        Alicja, alicja and ALICJA are one nickname, and so are the composed
        and decomposed spellings of Żaneta.
        """
        self.assertEqual(nameKey("Alicja"), nameKey("ALICJA"))
        self.assertEqual(nameKey("Alicja"), nameKey("alicja"))
        self.assertEqual(nameKey("Łukasz"), nameKey("ŁUKASZ"))
        decomposed = unicodedata.normalize("NFD", "Żaneta")
        self.assertNotEqual(decomposed, "Żaneta")
        self.assertEqual(nameKey(decomposed), nameKey("żaneta"))

    def test_displayFormIsComposed(self) -> None:
        """
        A nickname typed decomposed is shown composed (NFC).
        """
        self.assertEqual(checkNickname(unicodedata.normalize("NFD", "Żaneta")), "Żaneta")

    def test_lengthLimits(self) -> None:
        """
        One to 32 characters, counted as characters, not bytes.
        """
        self.assertEqual(checkNickname("ż" * MAX_NAME_LENGTH), "ż" * MAX_NAME_LENGTH)
        self.assertProblem("ż" * (MAX_NAME_LENGTH + 1), "long")
        self.assertProblem("", "empty")

    def test_badCharacters(self) -> None:
        """
        Spaces, control characters and punctuation are refused, naming the
        character.
        """
        self.assertEqual(self.assertProblem("Bob Smith", "character").character, " ")
        self.assertEqual(self.assertProblem("Bob\x1b", "character").character, "\x1b")
        self.assertEqual(self.assertProblem("Bob:", "character").character, ":")
        self.assertProblem("Bob*", "character")

    def test_firstCharacter(self) -> None:
        """
        A nickname starts with a letter or an underscore.
        """
        self.assertEqual(self.assertProblem("2pac", "start").character, "2")
        self.assertProblem("-dash", "start")
        self.assertProblem("\u0301accent", "start")
        self.assertEqual(checkNickname("_x"), "_x")

    def test_reserved(self) -> None:
        """
        Names that would pass for the server or the prompt are reserved, in
        any case.
        """
        for name in ["server", "SERVER", "Pass", "PASS", "admin", "ChatSvc"]:
            self.assertProblem(name, "reserved")
        self.assertEqual(checkNickname("nick"), "nick")

    @given(nicknames)
    def test_validNicknamesRoundTrip(self, name: str) -> None:
        """
        Every name built from the allowed characters is accepted, in NFC.
        """
        if nameKey(name) in RESERVED_NICKNAMES:
            return
        checked = checkNickname(name)
        self.assertEqual(checked, unicodedata.normalize("NFC", name))
        self.assertTrue(isNickname(checked))

    @given(st.text(max_size=40))
    def test_anyTextIsAcceptedOrRefusedCleanly(self, text: str) -> None:
        """
        Whatever the text, the rule either accepts it or raises InvalidName;
        an accepted name holds no space, colon or control character.
        """
        try:
            name = checkNickname(text)
        except InvalidName:
            return
        self.assertTrue(1 <= len(name) <= MAX_NAME_LENGTH)
        for character in name:
            if character not in "_-":
                self.assertNotIn(unicodedata.category(character)[0], "CZPS")

    @given(st.text(max_size=40))
    def test_keyIsIdempotent(self, text: str) -> None:
        """
        Folding a key again changes nothing, so lookups are stable.
        """
        self.assertEqual(nameKey(nameKey(text)), nameKey(text))


class RoomNameTests(SynchronousTestCase):
    def test_hashIsDropped(self) -> None:
        """
        /join #pub and /join pub name the same room, as IRC users expect.
        """
        self.assertEqual(checkRoomName("#pub"), "pub")
        self.assertEqual(checkRoomName("pub"), "pub")

    def test_roomNamesFollowTheNameRule(self) -> None:
        """
        Room names follow the nickname characters but are never reserved.
        """
        self.assertRaises(InvalidName, checkRoomName, "a room")
        self.assertRaises(InvalidName, checkRoomName, "#")
        self.assertEqual(checkRoomName("server"), "server")
