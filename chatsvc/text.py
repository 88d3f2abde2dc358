"""
Wording shared by every front-end: pure functions of text and a catalog.
"""

from __future__ import annotations

from gettext import NullTranslations


def listNames(names: tuple[str, ...] | list[str], limit: int, t: NullTranslations) -> str:
    """
    C{names} as a phrase ("Ala, Bob and Ewa"), at most C{limit} of them
    spelled out and the rest counted ("Ala, Bob and 3 others").
    """
    shown = list(names[:limit])
    rest = len(names) - len(shown)
    if rest:
        return t.ngettext(
            "{names} and {count} other", "{names} and {count} others", rest
        ).format(names=", ".join(shown), count=rest)
    if len(shown) == 1:
        return shown[0]
    return t.gettext("{names} and {last}").format(
        names=", ".join(shown[:-1]), last=shown[-1]
    )
