"""
Password hashing, shared by accounts and operators: argon2id, and the
blocking calls that a caller runs off the reactor thread.
"""

from __future__ import annotations

import os
import secrets
import threading
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from twisted.internet.defer import Deferred, fail
from twisted.internet.interfaces import IReactorThreads
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from chatsvc.errors import TooManyAttempts

T = TypeVar("T")

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


# The niceness of the hashing thread: the lowest priority there is.
HASHING_NICENESS = 19


def _yielding(f: Callable[..., T], *args: object) -> T:
    """
    Call C{f} at the lowest priority the system gives a thread, so that
    when the cores are busy, hashing waits, not the chat: a storm of
    logins then costs the reactor (and the load around it) almost nothing,
    and logins are answered with the time left over.  (Linux gives each
    thread its own niceness; elsewhere this does nothing.)
    """
    if hasattr(os, "setpriority"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)
        except OSError:
            pass
    return f(*args)


class HashingThreads:
    """
    Runs password hashing in a thread of its own, one at a time, at the
    lowest priority, with a bounded queue: a crowd logging in at once costs
    at most one core and 32 MiB, and only what the chat leaves, and beyond
    C{waiting} queued attempts the next is refused at once rather than
    held (L{TooManyAttempts}, retry in a second).

    A dedicated pool, not the reactor's, so that database work (adbapi
    has its own) and other threaded calls never wait behind hashing.
    """

    def __init__(self, reactor: IReactorThreads, waiting: int = 100) -> None:
        self._pool = ThreadPool(minthreads=0, maxthreads=1, name="chatsvc-hashing")
        self._reactor = reactor
        self._waiting = waiting
        self._queued = 0
        self._running = False

    def __call__(self, f: Callable[..., T], *args: object) -> Deferred[T]:
        if self._queued >= self._waiting:
            return fail(TooManyAttempts(1.0))
        if not self._running:
            self._running = True
            self._pool.start()
            self._reactor.addSystemEventTrigger("during", "shutdown", self.stop)
        self._queued += 1
        done = deferToThreadPool(self._reactor, self._pool, _yielding, f, *args)

        def finished(result: T) -> T:
            self._queued -= 1
            return result

        return done.addBoth(finished)

    def stop(self) -> None:
        """
        Let the thread go once what is under way is done.
        """
        if self._running:
            self._running = False
            self._pool.stop()
