"""
Password hashing, shared by accounts and operators: argon2id, and the
blocking calls that a caller runs off the reactor thread.
"""

from __future__ import annotations

import secrets
import unicodedata
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2id, 2 passes over 32 MiB, one lane: one verification took 69 ms
# (median of 15, 72 ms at most; 60 ms in a second run) on the idle 2-core
# machine this was written on, and 153 ms while a test run kept both cores
# busy.  20-100 ms is the aim: slow for a guesser holding the hashes,
# quick for a user.  Each verification under way holds its 32 MiB.
PASSWORD_HASHER = PasswordHasher(time_cost=2, memory_cost=32 * 1024, parallelism=1)


def normalized(password: str) -> str:
    """
    C{password} as it is hashed and compared: one password whichever way a
    client composes "ż" (RFC 8265's OpaqueString profile takes NFC too).
    """
    return unicodedata.normalize("NFC", password)


def isHash(text: str) -> bool:
    """
    Whether C{text} looks like an argon2 hash rather than a password.
    """
    return text.startswith("$argon2")


@lru_cache(maxsize=8)
def dummyHash(hasher: PasswordHasher) -> str:
    """
    A hash of a random password made by C{hasher}, for an unknown name to
    be checked against: it costs what a real one does, and matches nothing.
    """
    return hasher.hash(secrets.token_urlsafe(24))


def matches(hasher: PasswordHasher, hash: str | None, password: str) -> bool:
    """
    Whether C{password} is the one C{hash} was made of (blocking; argon2's
    comparison takes the same time whatever it finds).  C{None}: an unknown
    name, checked against L{dummyHash} all the same, so the time taken
    tells nothing.
    """
    try:
        return hasher.verify(dummyHash(hasher) if hash is None else hash, password) and (
            hash is not None
        )
    except (VerificationError, InvalidHashError):
        return False
