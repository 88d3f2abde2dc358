"""
Message catalogs (gettext) for everything human-facing, server and client.

Catalogs live in C{chatsvc/locale/<lang>/LC_MESSAGES/chatsvc.mo} and ship
compiled inside the package; the C{.po} sources sit beside them.  Lookups
never consult the system's locale database, so a locale that is named in the
environment but not installed cannot break anything.
"""

from __future__ import annotations

import gettext
from functools import lru_cache
from pathlib import Path
from typing import Mapping

DOMAIN = "chatsvc"
LOCALE_DIRECTORY = Path(__file__).parent / "locale"
DEFAULT_LANGUAGE = "en"

# Each language's own name for itself, as shown by /lang.
LANGUAGES = {"en": "English", "pl": "polski"}


def normalizeLanguage(value: str) -> str | None:
    """
    The supported language a locale name or language tag asks for, if any.

    Accepts what users and environments say: C{pl}, C{PL}, C{pl_PL},
    C{pl-PL}, C{pl_PL.UTF-8}, C{pl_PL@euro}.
    """
    code = value.split(".")[0].split("@")[0].replace("-", "_").split("_")[0]
    code = code.strip().lower()
    return code if code in LANGUAGES else None


def languageFromEnvironment(environ: Mapping[str, str]) -> str:
    """
    The language the user's environment asks for, by the POSIX precedence.

    C{LANGUAGE} may list several, separated by colons; the first supported one
    wins.  C{C} and C{POSIX} mean the default.
    """
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(variable, "")
        if not value:
            continue
        for candidate in value.split(":"):
            language = normalizeLanguage(candidate)
            if language is not None:
                return language
        if variable != "LANGUAGE":
            # The first of LC_ALL/LC_MESSAGES/LANG that is set decides, as
            # in setlocale(); an unsupported one means the default.
            return DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


@lru_cache(maxsize=None)
def translation(language: str) -> gettext.NullTranslations:
    """
    The catalog for C{language}; the untranslated (English) one if unknown.
    """
    return gettext.translation(
        DOMAIN, LOCALE_DIRECTORY, languages=[language], fallback=True
    )
