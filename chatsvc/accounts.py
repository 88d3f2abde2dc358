"""
The registry of user accounts: an account's name is a nickname, which then
belongs to it.

Accounts live in the store and, once L{Accounts.load}ed, in memory too, so
the hub asks whether a nickname is registered without waiting.  Passwords
are hashed with argon2id (L{chatsvc.passwords.PASSWORD_HASHER}) on a thread,
never kept and never logged; every attempt at a password is counted, per
account and per address, before anything is hashed.

Also a L{twisted.cred} checker over the registry (L{AccountChecker}).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
from argon2 import PasswordHasher
from attrs import frozen
from twisted.cred.checkers import ICredentialsChecker
from twisted.cred.credentials import IUsernamePassword
from twisted.cred.error import UnauthorizedLogin
from twisted.internet.defer import Deferred, fail
from twisted.internet.interfaces import IReactorTime
from twisted.internet.threads import deferToThread
from twisted.logger import Logger
from zope.interface import implementer

from chatsvc.attempts import Attempts, Rate
from chatsvc.errors import (
    AccountExists,
    ChatError,
    LoginFailed,
    TooManyAccounts,
    TooManyAttempts,
    WeakPassword,
)
from chatsvc.interfaces import IStore
from chatsvc.names import checkNickname, nameKey
from chatsvc.passwords import PASSWORD_HASHER, matches, normalized

__all__ = ["PASSWORD_HASHER", "Account", "AccountChecker", "Accounts", "TooManyAccounts"]

# A new password's length in characters (after NFC), as NIST SP 800-63B
# asks: at least 8, and room for a passphrase.
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256

# Accounts registered at most: each costs memory for as long as the server
# runs.
MAX_ACCOUNTS = 100_000

# Password attempts (logins, password changes, drops; registrations count
# for the address only) allowed before TooManyAttempts.  Per account, so a
# botnet cannot guess one password fast; per address, so one client cannot
# guess many.  The price: a guesser can keep an account's owner waiting too.
# 60 an address: a class behind one NAT address logs in again at once after
# a restart (--max-per-address allows 100 connections from one).
ATTEMPTS_PER_ACCOUNT = Rate(5, 60.0)
ATTEMPTS_PER_ADDRESS = Rate(60, 60.0)


@frozen
class Account:
    """
    One account as the registry keeps it.

    @ivar name: the name as registered, for display.
    @ivar hash: the argon2 hash of its password.
    @ivar created: when it was registered, by the registry's clock.
    """

    name: str
    hash: str
    created: float


class Accounts:
    """
    The accounts in C{store} (an L{IStore}), by their names' keys.

    @param clock: tells the time of registrations and of attempts.
    @param hasher: makes and checks hashes; tests pass a cheap one.
    @param inThread: runs a blocking call and fires with its result: a
        thread of the reactor's pool by default, a synchronous call in tests.
    """

    log = Logger()

    def __init__(
        self,
        store: IStore,
        clock: IReactorTime,
        hasher: PasswordHasher = PASSWORD_HASHER,
        inThread: Callable[..., Deferred[Any]] = deferToThread,
        attemptsPerAccount: Rate = ATTEMPTS_PER_ACCOUNT,
        attemptsPerAddress: Rate = ATTEMPTS_PER_ADDRESS,
        maxAccounts: int = MAX_ACCOUNTS,
    ) -> None:
        self._store = store
        self._clock = clock
        self._hasher = hasher
        self._inThread = inThread
        self._byAccount = Attempts(attemptsPerAccount)
        self._byAddress = Attempts(attemptsPerAddress)
        self._maxAccounts = maxAccounts
        self._accounts: dict[str, Account] = {}
        # Keys being registered: their passwords are being hashed.
        self._pending: set[str] = set()

    def load(self) -> Deferred[None]:
        """
        Read every account from the store.  Until it fires no name is
        registered.

        The hash an unknown name is checked against is made at the first
        such login (which so costs one hash more, once), not here: start-up
        then needs no thread, nor 32 MiB for a moment.
        """

        def loaded(accounts: dict[str, tuple[str, str, float]]) -> None:
            self._accounts = {key: Account(*values) for key, values in accounts.items()}

        return self._store.accounts().addCallback(loaded)

    def exists(self, name: str) -> bool:
        """
        Whether an account of that name (by key) is registered.
        """
        return nameKey(name) in self._accounts

    def owner(self, nickname: str) -> str | None:
        """
        The name of the account that C{nickname} belongs to, or C{None} if
        anyone may take it.
        """
        account = self._accounts.get(nameKey(nickname))
        return None if account is None else account.name

    def register(self, name: str, password: str, address: str) -> Deferred[str]:
        """
        Register C{name} with C{password} for a client at C{address}; fires
        with the name as it will be shown.

        Fails with L{chatsvc.errors.InvalidName} (C{name} is no nickname),
        L{WeakPassword}, L{AccountExists} (also while the same name is
        being registered), L{TooManyAccounts}, L{TooManyAttempts} (from
        C{address}) or L{chatsvc.errors.StoreError}.
        """
        try:
            display = checkNickname(name)
            key = nameKey(display)
            password = self._acceptable(password)
            if key in self._accounts or key in self._pending:
                raise AccountExists(display)
            if len(self._accounts) + len(self._pending) >= self._maxAccounts:
                raise TooManyAccounts(self._maxAccounts)
            self._admit(None, address)
        except ChatError:
            return fail()
        self._pending.add(key)

        def hashed(hash: str) -> Deferred[None]:
            self._pending.discard(key)
            return self._save(key, Account(display, hash, self._clock.seconds()))

        def notHashed(failure):
            self._pending.discard(key)
            return failure

        def registered(_: None) -> str:
            self.log.info("account {name} registered from {address}", name=display, address=address)
            return display

        d = self._inThread(self._hasher.hash, password)
        return d.addCallbacks(hashed, notHashed).addCallback(registered)

    def login(self, name: str, password: str, address: str) -> Deferred[str]:
        """
        Check C{password} for the account C{name}, tried from C{address};
        fires with the account's name as registered.

        Fails with L{LoginFailed}, for an unknown name as for a wrong
        password and after the same work, or with L{TooManyAttempts},
        without any.  A hash made with other parameters than the hasher's is
        made again, the login succeeding whether or not it is saved.
        """

        def rehash(found: tuple[str, Account]) -> Deferred[str] | str:
            key, account = found
            if not self._hasher.check_needs_rehash(account.hash):
                return account.name

            def hashed(hash: str) -> Deferred[None] | None:
                if self._accounts.get(key) is not account:
                    return None
                return self._save(key, attrs.evolve(account, hash=hash))

            d = self._inThread(self._hasher.hash, normalized(password)).addCallback(hashed)
            d.addErrback(lambda failure: self.log.failure("rehashing a password failed", failure))
            return d.addCallback(lambda _: account.name)

        return self._authenticate(name, password, address).addCallback(rehash)

    def changePassword(self, name: str, old: str, new: str, address: str) -> Deferred[None]:
        """
        Replace the password C{old} of the account C{name} by C{new}.

        Fails as L{login} does (C{old} counts as an attempt), or with
        L{WeakPassword} for C{new}, before anything is tried.
        """
        try:
            new = self._acceptable(new)
        except WeakPassword:
            return fail()

        def verified(found: tuple[str, Account]) -> Deferred[None]:
            key, account = found

            def hashed(hash: str) -> Deferred[None]:
                if self._accounts.get(key) is not account:
                    # Dropped or changed meanwhile, by another connection.
                    raise LoginFailed(name)
                return self._save(key, attrs.evolve(account, hash=hash))

            return self._inThread(self._hasher.hash, new).addCallback(hashed)

        return self._authenticate(name, old, address).addCallback(verified)

    def drop(self, name: str, password: str, address: str) -> Deferred[None]:
        """
        Delete the account C{name}, given its password; its nickname is
        free at once.  Fails as L{login} does.
        """

        def verified(found: tuple[str, Account]) -> Deferred[None]:
            key, account = found
            if self._accounts.get(key) is not account:
                raise LoginFailed(name)
            del self._accounts[key]

            def failed(failure):
                self._accounts.setdefault(key, account)
                return failure

            self.log.info("account {name} dropped from {address}", name=account.name, address=address)
            return self._store.dropAccount(key).addErrback(failed)

        return self._authenticate(name, password, address).addCallback(verified)

    def _acceptable(self, password: str) -> str:
        """
        C{password} normalized, if long enough and not too long.

        @raise WeakPassword: it is not.
        """
        password = normalized(password)
        if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
            raise WeakPassword(MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH)
        return password

    def _admit(self, key: str | None, address: str) -> None:
        """
        Count an attempt on the account C{key} (C{None}: none yet) from
        C{address}, if both may make one now.

        @raise TooManyAttempts: either may not; nothing was counted.
        """
        now = self._clock.seconds()
        wait = self._byAddress.wait(address, now)
        if key is not None:
            wait = max(wait, self._byAccount.wait(key, now))
        if wait > 0:
            raise TooManyAttempts(wait)
        self._byAddress.spend(address, now)
        if key is not None:
            self._byAccount.spend(key, now)

    def _authenticate(
        self, name: str, password: str, address: str
    ) -> Deferred[tuple[str, Account]]:
        """
        Fires with the key and account of C{name} if C{password} is its own.
        """
        key = nameKey(name)
        try:
            self._admit(key, address)
        except TooManyAttempts as error:
            self.log.info(
                "too many attempts at {name} from {address}", name=name, address=address
            )
            return fail(error)
        account = self._accounts.get(key)
        password = normalized(password)
        if len(password) > MAX_PASSWORD_LENGTH:
            # No account has such a password: nothing to hash.
            return fail(LoginFailed(name))

        def checked(ok: bool) -> tuple[str, Account]:
            if not ok or account is None or self._accounts.get(key) is not account:
                self.log.info("failed login to {name} from {address}", name=name, address=address)
                raise LoginFailed(name)
            return key, account

        hash = None if account is None else account.hash
        return self._inThread(matches, self._hasher, hash, password).addCallback(checked)

    def _save(self, key: str, account: Account) -> Deferred[None]:
        """
        Keep C{account} as C{key}'s, in memory at once, so that anything
        asked meanwhile sees it, and in the store; if the store fails, put
        back what was there unless something else replaced it meanwhile.
        """
        previous = self._accounts.get(key)
        self._accounts[key] = account

        def failed(failure):
            if self._accounts.get(key) is account:
                if previous is None:
                    del self._accounts[key]
                else:
                    self._accounts[key] = previous
            return failure

        d = self._store.saveAccount(key, account.name, account.hash, account.created)
        return d.addErrback(failed)


@implementer(ICredentialsChecker)
class AccountChecker:
    """
    The registry as a L{twisted.cred} checker of names and passwords: the
    avatar id is the account's name as registered.

    Every login through it is counted as coming from one C{address}, since
    cred does not say where credentials came from.  A wrong name or
    password fails with L{UnauthorizedLogin}; L{TooManyAttempts} and
    L{chatsvc.errors.StoreError} are passed on as they are, for the caller
    to say when to try again or that the server is in trouble.
    """

    credentialInterfaces = (IUsernamePassword,)

    def __init__(self, accounts: Accounts, address: str = "twisted.cred") -> None:
        self._accounts = accounts
        self._address = address

    def requestAvatarId(self, credentials: IUsernamePassword) -> Deferred[str]:
        try:
            name = _text(credentials.username)
            password = _text(credentials.password)
        except UnicodeDecodeError:
            return fail(UnauthorizedLogin("the name or password is not UTF-8"))

        def failed(failure):
            failure.trap(LoginFailed)
            raise UnauthorizedLogin(f"wrong name or password for {name}")

        return self._accounts.login(name, password, self._address).addErrback(failed)


def _text(value: str | bytes) -> str:
    # cred's UsernamePassword conventionally carries bytes.
    return value.decode("utf-8") if isinstance(value, bytes) else value
