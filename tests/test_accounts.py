"""
The registry of accounts: registration, logins and their limits, password
changes, and the twisted.cred checker over it.
"""

from __future__ import annotations

import os
import threading
import unicodedata
from unittest import SkipTest

from argon2 import PasswordHasher, extract_parameters
from twisted.cred.checkers import ICredentialsChecker
from twisted.cred.credentials import UsernamePassword
from twisted.cred.error import UnauthorizedLogin
from twisted.internet import reactor
from twisted.internet.defer import Deferred, fail, gatherResults, maybeDeferred
from twisted.internet.task import Clock
from twisted.logger import formatEvent, globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase, TestCase
from zope.interface.verify import verifyObject

from chatsvc.accounts import (
    ATTEMPTS_PER_ACCOUNT,
    ATTEMPTS_PER_ADDRESS,
    PASSWORD_HASHER,
    AccountChecker,
    Accounts,
)
from chatsvc.attempts import Rate
from chatsvc.errors import (
    AccountExists,
    InvalidName,
    LoginFailed,
    StoreError,
    TooManyAccounts,
    TooManyAttempts,
    WeakPassword,
)
from chatsvc.passwords import HASHING_NICENESS, HashingThreads, matches
from chatsvc.store.memory import MemoryStore

# Cheap enough for tests: about a millisecond a hash.
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
SECRET = "correct horse"


class Counting:
    """
    Runs blocking calls at once, counting them: how much hashing was done.
    """

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, function, *args) -> Deferred:
        self.calls.append(getattr(function, "__name__", repr(function)))
        return maybeDeferred(function, *args)


class Held:
    """
    Holds blocking calls until told to run them, as a busy thread would.
    """

    def __init__(self) -> None:
        self.waiting: list[tuple[Deferred, object, tuple]] = []

    def __call__(self, function, *args) -> Deferred:
        d: Deferred = Deferred()
        self.waiting.append((d, function, args))
        return d

    def runAll(self) -> None:
        while self.waiting:
            d, function, args = self.waiting.pop(0)
            d.callback(function(*args))


class FailingStore(MemoryStore):
    """
    A store whose writes of accounts fail, as a full disk would make them.
    """

    def saveAccount(self, key, name, hash, created):
        return fail(StoreError("disk full"))

    def dropAccount(self, key):
        return fail(StoreError("disk full"))


class AccountsTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.store = MemoryStore()
        self.clock = Clock()
        self.clock.advance(1000)
        self.inThread = Counting()
        self.accounts = self.make()

    def make(self, store=None, hasher=CHEAP, **kwargs) -> Accounts:
        accounts = Accounts(
            store or self.store, self.clock, hasher=hasher, inThread=self.inThread, **kwargs
        )
        self.successResultOf(accounts.load())
        return accounts

    def register(self, name="Ola", password=SECRET, address="192.0.2.1") -> str:
        return self.successResultOf(self.accounts.register(name, password, address))

    def test_registerAndLogIn(self) -> None:
        """
        A registered name logs in with its password, by any case, and is
        given back as registered.
        """
        self.assertEqual(self.register("Łukasz"), "Łukasz")
        found = self.successResultOf(self.accounts.login("ŁUKASZ", SECRET, "192.0.2.1"))
        self.assertEqual(found, "Łukasz")

    def test_ownsItsNickname(self) -> None:
        """
        Once registered, the nickname belongs to the account, by key.
        """
        self.assertEqual((self.accounts.exists("ola"), self.accounts.owner("OLA")), (False, None))
        self.register()
        self.assertEqual((self.accounts.exists("ola"), self.accounts.owner("OLA")), (True, "Ola"))

    def test_keepsAHashNotThePassword(self) -> None:
        """
        The store gets an argon2id hash of the password, and the time of
        registering; never the password.
        """
        self.register()
        [(name, hash, created)] = self.successResultOf(self.store.accounts()).values()
        self.assertEqual((name, created), ("Ola", 1000.0))
        self.assertTrue(hash.startswith("$argon2id$"))
        self.assertNotIn(SECRET, hash)
        self.assertTrue(matches(CHEAP, hash, SECRET))

    def test_loadsFromTheStore(self) -> None:
        """
        What one registry registered, another on the same store knows after
        loading, and not before.
        """
        self.register()
        again = Accounts(self.store, self.clock, hasher=CHEAP, inThread=self.inThread)
        self.assertFalse(again.exists("Ola"))
        self.successResultOf(again.load())
        self.assertEqual(self.successResultOf(again.login("ola", SECRET, "x")), "Ola")

    def test_unknownNameLikeWrongPassword(self) -> None:
        """
        An unknown name and a wrong password fail with the same error,
        after the same work: one verification each.
        """
        self.register()
        self.inThread.calls.clear()
        wrong = self.failureResultOf(self.accounts.login("Ola", "not my password", "x"))
        unknown = self.failureResultOf(self.accounts.login("Ewa", SECRET, "x"))
        self.assertEqual((type(wrong.value), type(unknown.value)), (LoginFailed, LoginFailed))
        self.assertEqual(self.inThread.calls, ["matches", "matches"])

    def test_badNames(self) -> None:
        """
        A name that is no nickname, or a reserved one, cannot be registered.
        """
        for name in ["", "1abc", "has space", "x" * 33, "Admin"]:
            self.failureResultOf(self.accounts.register(name, SECRET, "x"), InvalidName)
        self.assertEqual(self.inThread.calls, [])

    def test_passwordLengths(self) -> None:
        """
        A password of 8 to 256 characters is accepted; shorter or longer
        ones are refused, saying the bounds.
        """
        error = self.failureResultOf(self.accounts.register("Ola", "x" * 7, "x"), WeakPassword)
        self.assertEqual((error.value.minimum, error.value.maximum), (8, 256))
        self.failureResultOf(self.accounts.register("Ola", "x" * 257, "x"), WeakPassword)
        self.register("Ola", "x" * 8)
        self.register("Ewa", "ż" * 256)

    def test_nameTaken(self) -> None:
        """
        A name registered already, in any case, cannot be registered again.
        """
        self.register()
        error = self.failureResultOf(self.accounts.register("OLA", SECRET, "x"), AccountExists)
        self.assertEqual(error.value.name, "OLA")

    def test_nameBeingRegistered(self) -> None:
        """
        While one registration of a name is being hashed another of it is
        refused, and the name is not owned until the first is done.
        """
        held = Held()
        self.accounts = Accounts(self.store, self.clock, hasher=CHEAP, inThread=held)
        self.accounts.load()
        held.runAll()
        first = self.accounts.register("Ola", SECRET, "x")
        self.failureResultOf(self.accounts.register("ola", "other password", "y"), AccountExists)
        self.assertIsNone(self.accounts.owner("Ola"))
        held.runAll()
        self.assertEqual(self.successResultOf(first), "Ola")
        self.assertEqual(self.accounts.owner("Ola"), "Ola")

    def test_tooManyAccounts(self) -> None:
        """
        Past the registry's bound, nobody else can register.
        """
        self.accounts = self.make(maxAccounts=2)
        self.register("Ola")
        self.register("Ewa")
        error = self.failureResultOf(self.accounts.register("Iga", SECRET, "x"), TooManyAccounts)
        self.assertEqual(error.value.limit, 2)

    def test_storeFailsRegistering(self) -> None:
        """
        If the store cannot keep a new account, registering fails saying so
        and the name stays free.
        """
        self.accounts = self.make(FailingStore())
        error = self.failureResultOf(self.accounts.register("Ola", SECRET, "x"), StoreError)
        self.assertEqual(error.value.reason, "disk full")
        self.assertFalse(self.accounts.exists("Ola"))

    def test_attemptsPerAccount(self) -> None:
        """
        Past five attempts in a minute at one account, from anywhere, the
        next is refused without hashing, saying when to try again; a minute
        after the first, it may.
        """
        self.register()
        for n in range(ATTEMPTS_PER_ACCOUNT.attempts):
            self.failureResultOf(self.accounts.login("Ola", "guess number", f"10.0.0.{n}"))
            self.clock.advance(1)
        self.inThread.calls.clear()
        error = self.failureResultOf(self.accounts.login("ola", SECRET, "10.1.1.1"))
        self.assertEqual(type(error.value), TooManyAttempts)
        self.assertEqual(error.value.retryAfter, 55.0)
        self.assertEqual(self.inThread.calls, [])
        self.clock.advance(55)
        self.assertEqual(self.successResultOf(self.accounts.login("ola", SECRET, "a")), "Ola")

    def test_attemptsPerAddress(self) -> None:
        """
        Past twenty attempts in a minute from one address, at any names,
        that address is refused; others are not.
        """
        for n in range(ATTEMPTS_PER_ADDRESS.attempts):
            self.failureResultOf(self.accounts.login(f"Name{n}", SECRET, "192.0.2.9"), LoginFailed)
        error = self.failureResultOf(self.accounts.login("Other", SECRET, "192.0.2.9"))
        self.assertEqual((type(error.value), error.value.retryAfter), (TooManyAttempts, 60.0))
        self.failureResultOf(self.accounts.login("Other", SECRET, "192.0.2.10"), LoginFailed)

    def test_refusedAttemptCountsNothing(self) -> None:
        """
        An attempt refused for its account's limit spends nothing of its
        address's allowance.
        """
        self.accounts = self.make(attemptsPerAccount=Rate(1, 60), attemptsPerAddress=Rate(2, 60))
        self.register()
        self.failureResultOf(self.accounts.login("Ola", "wrong password", "a"), LoginFailed)
        for _ in range(3):
            self.failureResultOf(self.accounts.login("Ola", SECRET, "a"), TooManyAttempts)
        self.failureResultOf(self.accounts.login("Ewa", SECRET, "a"), LoginFailed)

    def test_registeringCountsForTheAddress(self) -> None:
        """
        Registrations cost a hash each, so they count against the address.
        """
        self.accounts = self.make(attemptsPerAddress=Rate(2, 60))
        self.register("Ola", address="a")
        self.register("Ewa", address="a")
        self.failureResultOf(self.accounts.register("Iga", SECRET, "a"), TooManyAttempts)
        self.register("Iga", address="b")

    def test_rehashOnLogin(self) -> None:
        """
        A hash made with other parameters than the registry's hasher is made
        again, with them, at the next login.
        """
        self.register()
        stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
        self.accounts = self.make(hasher=stronger)
        self.assertEqual(self.successResultOf(self.accounts.login("Ola", SECRET, "x")), "Ola")
        [(_, hash, _)] = self.successResultOf(self.store.accounts()).values()
        self.assertEqual(extract_parameters(hash).time_cost, 2)
        self.assertEqual(self.successResultOf(self.accounts.login("Ola", SECRET, "x")), "Ola")

    def test_rehashFailureLogsIn(self) -> None:
        """
        A rehash the store cannot keep is logged, and the login succeeds.
        """
        self.register()
        store = FailingStore()
        self.successResultOf(store.open())
        for key, values in self.successResultOf(self.store.accounts()).items():
            MemoryStore.saveAccount(store, key, *values)
        stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
        self.accounts = self.make(store, hasher=stronger)
        self.assertEqual(self.successResultOf(self.accounts.login("Ola", SECRET, "x")), "Ola")
        self.assertEqual(len(self.flushLoggedErrors(StoreError)), 1)

    def test_composedOrNot(self) -> None:
        """
        A password is the same whether its letters come composed or not.
        """
        password = "zażółć gęślą"
        self.register(password=unicodedata.normalize("NFD", password))
        login = self.accounts.login("Ola", unicodedata.normalize("NFC", password), "x")
        self.assertEqual(self.successResultOf(login), "Ola")

    def test_changePassword(self) -> None:
        """
        After a change the new password logs in and the old one does not;
        the account keeps its name and time of registering.
        """
        self.register()
        self.clock.advance(5)
        self.successResultOf(self.accounts.changePassword("ola", SECRET, "new password", "x"))
        self.failureResultOf(self.accounts.login("Ola", SECRET, "x"), LoginFailed)
        self.assertEqual(self.successResultOf(self.accounts.login("Ola", "new password", "x")), "Ola")
        [(name, _, created)] = self.successResultOf(self.store.accounts()).values()
        self.assertEqual((name, created), ("Ola", 1000.0))

    def test_changePasswordRefused(self) -> None:
        """
        A wrong old password changes nothing; a weak new one is refused
        before the old one is tried.
        """
        self.register()
        self.failureResultOf(
            self.accounts.changePassword("Ola", "wrong password", "new password", "x"), LoginFailed
        )
        self.inThread.calls.clear()
        self.failureResultOf(self.accounts.changePassword("Ola", SECRET, "short", "x"), WeakPassword)
        self.assertEqual(self.inThread.calls, [])
        self.assertEqual(self.successResultOf(self.accounts.login("Ola", SECRET, "x")), "Ola")

    def test_droppedMeanwhile(self) -> None:
        """
        A password change whose account is dropped while the new password is
        hashed fails, rather than bring the account back.
        """
        held = Held()
        self.accounts = Accounts(self.store, self.clock, hasher=CHEAP, inThread=held)
        self.accounts.load()
        self.accounts.register("Ola", SECRET, "x")
        held.runAll()
        change = self.accounts.changePassword("Ola", SECRET, "new password", "x")
        drop = self.accounts.drop("Ola", SECRET, "x")
        held.runAll()
        self.successResultOf(drop)
        self.failureResultOf(change, LoginFailed)
        self.assertEqual(self.successResultOf(self.store.accounts()), {})

    def test_drop(self) -> None:
        """
        A dropped account's nickname is free, and it cannot log in.
        """
        self.register()
        self.failureResultOf(self.accounts.drop("Ola", "wrong password", "x"), LoginFailed)
        self.successResultOf(self.accounts.drop("OLA", SECRET, "x"))
        self.assertIsNone(self.accounts.owner("Ola"))
        self.assertEqual(self.successResultOf(self.store.accounts()), {})
        self.failureResultOf(self.accounts.login("Ola", SECRET, "x"), LoginFailed)

    def test_storeFailsDropping(self) -> None:
        """
        If the store cannot forget an account, it is kept.
        """
        store = FailingStore()
        MemoryStore.saveAccount(store, "ola", "Ola", CHEAP.hash(SECRET), 1.0)
        self.accounts = self.make(store)
        self.failureResultOf(self.accounts.drop("Ola", SECRET, "x"), StoreError)
        self.assertEqual(self.accounts.owner("ola"), "Ola")

    def test_passwordsNeverLogged(self) -> None:
        """
        Whatever happens, no password reaches the log.
        """
        logged: list[dict] = []
        globalLogPublisher.addObserver(logged.append)
        self.addCleanup(globalLogPublisher.removeObserver, logged.append)
        self.register()
        attempts = [
            self.accounts.login("Ola", "wrong password", "x"),
            self.accounts.login("Ola", SECRET, "x"),
            self.accounts.changePassword("Ola", SECRET, "new password", "x"),
            *(self.accounts.login("Ola", "guessing again", "x") for _ in range(6)),
        ]
        self.clock.advance(60)
        attempts.append(self.accounts.drop("Ola", "new password", "y"))
        for attempt in attempts:
            attempt.addErrback(lambda failure: None)
        self.assertFalse(self.accounts.exists("Ola"))
        text = "\n".join(formatEvent(event) + repr(event) for event in logged)
        self.assertIn("Ola", text)
        for password in [SECRET, "wrong password", "new password", "guessing again"]:
            self.assertNotIn(password, text)

    def test_hasher(self) -> None:
        """
        The default hasher makes argon2id hashes.
        """
        self.assertEqual(PASSWORD_HASHER.type.name, "ID")


class OffTheReactorThreadTests(TestCase):
    def test_hashedOnAThread(self):
        """
        By default, passwords are hashed and checked off the reactor thread.
        """
        threads = []

        class Recording(PasswordHasher):
            def hash(self, password, **kwargs):
                threads.append(threading.get_ident())
                return super().hash(password, **kwargs)

            def verify(self, hash, password):
                threads.append(threading.get_ident())
                return super().verify(hash, password)

        from twisted.internet import reactor

        accounts = Accounts(MemoryStore(), reactor, hasher=Recording(1, 8, 1))
        d = accounts.load()
        d.addCallback(lambda _: accounts.register("Ola", SECRET, "x"))
        d.addCallback(lambda _: accounts.login("Ola", SECRET, "x"))

        def loggedIn(name):
            self.assertEqual(name, "Ola")
            # A hash at registration, a verification at login.
            self.assertEqual(len(threads), 2)
            self.assertNotIn(threading.get_ident(), threads)

        return d.addCallback(loggedIn)


class AccountCheckerTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.accounts = Accounts(MemoryStore(), Clock(), hasher=CHEAP, inThread=maybeDeferred)
        self.accounts.load()
        self.accounts.register("Łukasz", SECRET, "x")
        self.checker = AccountChecker(self.accounts)

    def test_interface(self) -> None:
        """
        The checker is a real cred checker, of names and passwords.
        """
        self.assertTrue(verifyObject(ICredentialsChecker, self.checker))

    def test_rightPassword(self) -> None:
        """
        The right password, in UTF-8 bytes as cred has it, gives the
        account's name as registered.
        """
        credentials = UsernamePassword("łukasz".encode(), SECRET.encode())
        self.assertEqual(self.successResultOf(self.checker.requestAvatarId(credentials)), "Łukasz")

    def test_wrong(self) -> None:
        """
        A wrong password, an unknown name or bytes that are not UTF-8 are
        an UnauthorizedLogin.
        """
        for username, password in [
            (b"Lukasz", SECRET.encode()),
            ("Łukasz".encode(), b"wrong password"),
            (b"\xff", b"whatever"),
        ]:
            credentials = UsernamePassword(username, password)
            self.failureResultOf(self.checker.requestAvatarId(credentials), UnauthorizedLogin)

    def test_tooManyAttempts(self) -> None:
        """
        Too many attempts are said as such, for the caller to say when to
        try again.
        """
        credentials = UsernamePassword(b"Nobody", b"whatever")
        for _ in range(ATTEMPTS_PER_ACCOUNT.attempts):
            self.failureResultOf(self.checker.requestAvatarId(credentials), UnauthorizedLogin)
        self.failureResultOf(self.checker.requestAvatarId(credentials), TooManyAttempts)


class HashingThreadsTests(TestCase):
    def test_boundedQueue(self) -> None:
        """
        Hashing runs off the reactor thread, one at a time; beyond the queue's
        bound an attempt is refused at once, to be retried in a second.
        """
        threads = HashingThreads(reactor, waiting=2)
        self.addCleanup(threads.stop)
        gate = threading.Event()

        def blocked() -> str:
            gate.wait(10)
            return threading.current_thread().name

        first, second = threads(blocked), threads(lambda: "second")
        self.failureResultOf(threads(lambda: "third"), TooManyAttempts)
        gate.set()

        def check(results: list) -> None:
            self.assertNotEqual(results[0], threading.main_thread().name)
            self.assertEqual(results[1], "second")

        return gatherResults([first, second]).addCallback(check)


class HashingPriorityTests(TestCase):
    def test_lowestPriority(self) -> None:
        """
        On Linux the hashing thread runs at the lowest priority, so that
        busy cores go to the chat first; the reactor's thread keeps its own.
        """
        if not hasattr(os, "setpriority"):
            raise SkipTest("no per-thread priority here")
        threads = HashingThreads(reactor)
        self.addCleanup(threads.stop)
        mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

        def niceness() -> int:
            return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

        def check(theirs: int) -> None:
            self.assertEqual(theirs, HASHING_NICENESS)
            self.assertEqual(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()), mine)

        return threads(niceness).addCallback(check)
