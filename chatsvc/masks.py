"""
Ban masks: who a ban names.

A mask is IRC's C{nick!user@host} with C{*} (any run of characters) and
C{?} (any one), compared without regard to case; or C{~a:name}, which names
an account (as Ergo's and InspIRCd's account "extbans" do), so that a ban
follows a person whatever nickname or address they come from.  Pure.
"""

from __future__ import annotations

import re
from functools import lru_cache

from chatsvc.events import Identity
from chatsvc.names import nameKey

ACCOUNT_PREFIX = "~a:"
# Longer masks are refused: a ban list is kept and shown to every operator.
MAX_MASK_LENGTH = 128


def normalizeMask(text: str) -> str | None:
    """
    The full form of a mask as an operator may type it, or C{None} if it
    cannot be one (empty, too long, containing a space or a comma).

    C{bob} names C{bob!*@*}, C{bob!u} names C{bob!u@*} and C{*.example}
    (a host, having a dot and no C{!}) names C{*!*@*.example}; an account
    mask keeps its form with the name as given.
    """
    if not text or len(text) > MAX_MASK_LENGTH or any(c in text for c in " ,\r\n\0"):
        return None
    if text.startswith(ACCOUNT_PREFIX):
        return text if len(text) > len(ACCOUNT_PREFIX) else None
    if "!" not in text and "@" not in text:
        if "." in text or ":" in text:
            return f"*!*@{text}"
        return f"{text}!*@*"
    nick, _, rest = text.partition("!")
    if "@" in nick:
        nick, _, host = nick.partition("@")
        user = "*"
    else:
        user, _, host = rest.partition("@")
    return f"{nick or '*'}!{user or '*'}@{host or '*'}"


def matches(mask: str, identity: Identity) -> bool:
    """
    Whether the normalized C{mask} names C{identity}.
    """
    if mask.startswith(ACCOUNT_PREFIX):
        return identity.account is not None and nameKey(identity.account) == nameKey(
            mask[len(ACCOUNT_PREFIX):]
        )
    return _pattern(mask).fullmatch(identity.mask.casefold()) is not None


@lru_cache(maxsize=4096)
def _pattern(mask: str) -> re.Pattern[str]:
    parts = []
    for character in mask.casefold():
        if character == "*":
            parts.append(".*")
        elif character == "?":
            parts.append(".")
        else:
            parts.append(re.escape(character))
    return re.compile("".join(parts), re.DOTALL)
