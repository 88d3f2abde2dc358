"""
Tests for L{chatsvc.i18n} and the shipped catalogs.
"""

import gettext
import string
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from twisted.trial.unittest import SynchronousTestCase

import chatsvc
from chatsvc.i18n import (
    DOMAIN,
    LANGUAGES,
    LOCALE_DIRECTORY,
    languageFromEnvironment,
    normalizeLanguage,
    translation,
)

PACKAGE = Path(chatsvc.__file__).parent
KEYWORDS = {"gettext": None, "ngettext": (1, 2)}


def sourceMessages() -> set:
    """
    Every message the code looks up, as extracted by Babel.
    """
    return {
        message if isinstance(message, str) else tuple(message)
        for _, _, message, _, _ in extract_from_dir(
            str(PACKAGE), [("**.py", "python")], keywords=KEYWORDS
        )
    }


def catalog(language: str):
    with open(LOCALE_DIRECTORY / language / "LC_MESSAGES" / f"{DOMAIN}.po", "rb") as po:
        return read_po(po, locale=language)


def fields(text: str) -> set:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


class LanguageChoiceTests(SynchronousTestCase):
    def test_normalize(self) -> None:
        """
        Locale names and tags in their usual spellings map to a language.
        """
        for value in ["pl", "PL", "pl_PL", "pl-PL", "pl_PL.UTF-8", "pl_PL@euro"]:
            self.assertEqual(normalizeLanguage(value), "pl", value)
        self.assertIsNone(normalizeLanguage("xx_YY.UTF-8"))
        self.assertIsNone(normalizeLanguage(""))

    def test_environmentPrecedence(self) -> None:
        """
        LANGUAGE, then LC_ALL, LC_MESSAGES and LANG decide, as in POSIX.
        """
        self.assertEqual(languageFromEnvironment({}), "en")
        self.assertEqual(languageFromEnvironment({"LANG": "pl_PL.UTF-8"}), "pl")
        self.assertEqual(languageFromEnvironment({"LC_ALL": "C", "LANG": "pl_PL.UTF-8"}), "en")
        self.assertEqual(
            languageFromEnvironment({"LANGUAGE": "de:pl", "LANG": "en_US.UTF-8"}), "pl"
        )
        self.assertEqual(
            languageFromEnvironment({"LC_MESSAGES": "pl_PL", "LANG": "en_US"}), "pl"
        )

    def test_uninstalledLocale(self) -> None:
        """
        A locale the machine lacks is just a name to us: no error, no crash.
        """
        self.assertEqual(languageFromEnvironment({"LC_ALL": "xx_YY.UTF-8"}), "en")
        self.assertEqual(
            translation("xx").gettext("Connected to server!"), "Connected to server!"
        )


class CatalogTests(SynchronousTestCase):
    def test_everyMessageTranslated(self) -> None:
        """
        Every message in the source has a Polish translation with the same
        placeholders, and the catalog holds nothing stale.
        """
        messages = sourceMessages()
        self.assertTrue(len(messages) > 40)
        for language in set(LANGUAGES) - {"en"}:
            po = catalog(language)
            ids = {
                tuple(message.id) if message.pluralizable else message.id
                for message in po
                if message.id
            }
            self.assertEqual(messages, ids, language)
            for message in po:
                if not message.id:
                    continue
                strings = message.string if message.pluralizable else (message.string,)
                source = message.id if message.pluralizable else (message.id,)
                expected = set().union(*(fields(text) for text in source))
                for translated in strings:
                    self.assertTrue(translated, message.id)
                    self.assertEqual(fields(translated), expected, message.id)

    def test_compiledCatalogIsCurrent(self) -> None:
        """
        The shipped .mo says exactly what its .po says.
        """
        for language in set(LANGUAGES) - {"en"}:
            po = catalog(language)
            with open(
                LOCALE_DIRECTORY / language / "LC_MESSAGES" / f"{DOMAIN}.mo", "rb"
            ) as mo:
                compiled = gettext.GNUTranslations(mo)
            for message in po:
                if not message.id:
                    continue
                if message.pluralizable:
                    for n, translated in zip((1, 2, 5), message.string):
                        self.assertEqual(
                            compiled.ngettext(message.id[0], message.id[1], n), translated
                        )
                else:
                    self.assertEqual(compiled.gettext(message.id), message.string)

    def test_polishPlurals(self) -> None:
        """
        Polish has three plural forms: 1, 2-4 (but not 12-14), and the rest.
        """
        t = translation("pl")
        forms = {
            n: t.ngettext("{count} room: {rooms}", "{count} rooms: {rooms}", n)
            for n in (1, 2, 5, 12, 22, 25)
        }
        self.assertEqual(forms[1], "{count} pokój: {rooms}")
        self.assertEqual(forms[2], forms[22])
        self.assertEqual(forms[5], forms[12])
        self.assertEqual(forms[5], forms[25])
        self.assertNotEqual(forms[2], forms[5])
