"""
Server operators, from the file given to C{--opers}: one C{name password}
a line; blank lines and lines starting with C{#} are skipped.

The password is best an argon2 hash (C{$argon2id$...}), which this module
makes when run: C{python -m chatsvc.opers} reads a password (without echo
from a terminal) and prints its hash, to paste into the file.  A plain
password is accepted, with a warning that names its line, so that a file
of plain passwords works while it is being moved to hashes; being one
field, it cannot hold whitespace (a hash of such a password can).
"""

from __future__ import annotations

import getpass
import hmac
import sys
from collections.abc import Callable
from typing import IO, Any

from argon2 import PasswordHasher, extract_parameters
from argon2.exceptions import InvalidHashError
from attrs import frozen
from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThread
from twisted.logger import Logger

from chatsvc.names import nameKey
from chatsvc.passwords import PASSWORD_HASHER, isHash, matches, normalized

log = Logger()


@frozen
class Oper:
    """
    One operator as the file gives it.

    @ivar secret: an argon2 hash of the password, or the password itself.
    @ivar line: the line of the file it is on.
    """

    name: str
    secret: str
    line: int

    @property
    def hashed(self) -> bool:
        return isHash(self.secret)


def parseOpers(text: str, source: str) -> dict[str, Oper]:
    """
    The operators in C{text}, the contents of the file C{source}, by their
    names' keys.

    @raise ValueError: a line is not C{name password}, a hash is not one
        argon2 can read, or a name is given twice; the message names the
        file and the line, never a password.
    """
    opers: dict[str, Oper] = {}
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        where = f"{source}, line {number}"
        if len(fields) != 2:
            raise ValueError(f"{where}: expected 'name password', found {len(fields)} fields")
        name, secret = fields
        if isHash(secret):
            try:
                extract_parameters(secret)
            except InvalidHashError:
                raise ValueError(f"{where}: the password of {name} is not a valid argon2 hash") from None
        key = nameKey(name)
        if key in opers:
            raise ValueError(f"{where}: {name} is on line {opers[key].line} already")
        opers[key] = Oper(name, secret, number)
    return opers


def loadOpers(
    path: str,
    hasher: PasswordHasher = PASSWORD_HASHER,
    inThread: Callable[..., Deferred[Any]] = deferToThread,
) -> Opers:
    """
    The operators in the file at C{path}, read at once (for start-up, so
    that a bad file stops the server before it listens); a warning is
    logged for each plain password.

    @raise ValueError: as L{parseOpers} says, or the file is not UTF-8.
    @raise OSError: the file cannot be read.
    """
    with open(path, "rb") as file:
        data = file.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 (byte {error.start})") from None
    opers = parseOpers(text, path)
    for oper in opers.values():
        if not oper.hashed:
            log.warn(  # noqa: G010 (twisted.logger has no warning())
                "{path}, line {line}: the password of operator {name} is in plain text;"
                " put its hash there instead (python -m chatsvc.opers)",
                path=path,
                line=oper.line,
                name=oper.name,
            )
    return Opers(opers, hasher, inThread)


class Opers:
    """
    Who may become a server operator, and with which password.

    @param inThread: runs a blocking call and fires with its result: a
        thread of the reactor's pool by default.
    """

    def __init__(
        self,
        opers: dict[str, Oper],
        hasher: PasswordHasher = PASSWORD_HASHER,
        inThread: Callable[..., Deferred[Any]] = deferToThread,
    ) -> None:
        self._opers = opers
        self._hasher = hasher
        self._inThread = inThread

    def verify(self, name: str, password: str) -> Deferred[bool]:
        """
        Whether C{password} is the operator C{name}'s (by key); C{False}
        for an unknown name too.  Every answer costs one hash verification,
        so the time taken says neither whether the name is an operator's
        nor whether its password is hashed.
        """
        return self._inThread(_check, self._hasher, self._opers.get(nameKey(name)), password)


def _check(hasher: PasswordHasher, oper: Oper | None, password: str) -> bool:
    # Blocking: run off the reactor thread.
    password = normalized(password)
    if oper is None or oper.hashed:
        return matches(hasher, None if oper is None else oper.secret, password)
    matches(hasher, None, password)
    return hmac.compare_digest(password.encode("utf-8"), normalized(oper.secret).encode("utf-8"))


def main(
    stdin: IO[str] = sys.stdin,
    stdout: IO[str] = sys.stdout,
    stderr: IO[str] = sys.stderr,
    ask: Callable[[str], str] = getpass.getpass,
    hasher: PasswordHasher = PASSWORD_HASHER,
) -> int:
    """
    Print the argon2id hash of a password for the operators' file: asked
    twice without echo from a terminal, else the first line of C{stdin}.
    """
    if stdin.isatty():
        password = ask("Password: ")
        if ask("Again: ") != password:
            print("The passwords differ.", file=stderr)
            return 1
    else:
        password = stdin.readline().rstrip("\r\n")
    if not password:
        print("No password given.", file=stderr)
        return 1
    print(hasher.hash(normalized(password)), file=stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
