"""
Server operators from the --opers file, and the command that hashes their
passwords.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from argon2 import PasswordHasher
from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.defer import maybeDeferred
from twisted.logger import formatEvent, globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase

from chatsvc import opers
from chatsvc.opers import Oper, Opers, loadOpers, main, parseOpers
from chatsvc.passwords import matches
from tests.test_accounts import CHEAP

ROOT = str(Path(__file__).resolve().parent.parent)
HASHED = CHEAP.hash("tajne hasło")


class CountingHasher(PasswordHasher):
    """
    A cheap hasher that counts its verifications: the work an answer cost.
    """

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.verified = 0

    def verify(self, hash, password):
        self.verified += 1
        return super().verify(hash, password)


class ParseTests(SynchronousTestCase):
    def test_file(self) -> None:
        """
        Names and passwords, hashed or plain, by key; blank lines and
        comments are skipped.
        """
        text = f"# operators\n\nOla {HASHED}\n  # indented comment\nBob sekret123\n"
        self.assertEqual(
            parseOpers(text, "opers.txt"),
            {"ola": Oper("Ola", HASHED, 3), "bob": Oper("Bob", "sekret123", 5)},
        )

    def test_malformed(self) -> None:
        """
        A line that is not a name and a password, a hash argon2 cannot read
        or a name given twice is refused, naming the file and line but not
        the password.
        """
        cases = [
            ("Ola\n", "opers.txt, line 1: expected 'name password', found 1 fields"),
            ("\nOla hunter two\n", "opers.txt, line 2: expected 'name password', found 3 fields"),
            ("Ola $argon2id$garbage\n", "opers.txt, line 1: the password of Ola is not a valid"),
            ("Ola one\n# x\nOLA two\n", "opers.txt, line 3: OLA is on line 1 already"),
        ]
        for text, message in cases:
            error = self.assertRaises(ValueError, parseOpers, text, "opers.txt")
            self.assertIn(message, str(error))
            self.assertNotIn("garbage", str(error))
            self.assertNotIn("hunter", str(error))

    @given(
        st.lists(
            st.tuples(
                st.from_regex(r"[A-Za-z][a-z0-9]{0,10}", fullmatch=True),
                st.from_regex(r"[!-~]{1,20}", fullmatch=True).filter(
                    lambda s: not s.startswith("$argon2")
                ),
            ),
            max_size=10,
            unique_by=lambda pair: pair[0].lower(),
        )
    )
    def test_roundTrip(self, pairs) -> None:
        """
        Any file written as name and password lines reads back as written.
        """
        text = "".join(f"{name} {secret}\n" for name, secret in pairs)
        found = parseOpers(text, "f")
        self.assertEqual([(o.name, o.secret) for o in found.values()], pairs)


class LoadTests(SynchronousTestCase):
    def write(self, text: str) -> str:
        path = os.path.join(tempfile.mkdtemp(dir="."), "opers")
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
        return path

    def test_plainWarned(self) -> None:
        """
        A plain password is accepted with a warning naming its line, never
        the password.
        """
        logged: list[dict] = []
        globalLogPublisher.addObserver(logged.append)
        self.addCleanup(globalLogPublisher.removeObserver, logged.append)
        path = self.write(f"Ola {HASHED}\nBob sekret123\n")
        loadOpers(path, CHEAP, maybeDeferred)
        warnings = [formatEvent(event) for event in logged if "plain text" in formatEvent(event)]
        self.assertEqual(len(warnings), 1)
        self.assertIn(f"{path}, line 2", warnings[0])
        self.assertNotIn("sekret123", "\n".join(repr(event) for event in logged))

    def test_notUTF8(self) -> None:
        """
        A file that is not UTF-8 is refused, in one clear line.
        """
        path = self.write("")
        with open(path, "wb") as file:
            file.write(b"Ola \xff\xfe\n")
        error = self.assertRaises(ValueError, loadOpers, path)
        self.assertIn("not UTF-8", str(error))


class VerifyTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.hasher = CountingHasher()
        entries = parseOpers(f"Ola {HASHED}\nŁucja zażółć\n", "f")
        self.opers = Opers(entries, self.hasher, maybeDeferred)

    def verify(self, name: str, password: str) -> bool:
        return self.successResultOf(self.opers.verify(name, password))

    def test_hashed(self) -> None:
        """
        A hashed password is checked against its hash, the name by key.
        """
        self.assertEqual((self.verify("ola", "tajne hasło"), self.verify("Ola", "nope")), (True, False))

    def test_plain(self) -> None:
        """
        A plain password is compared as it is, whatever its letters.
        """
        self.assertEqual((self.verify("ŁUCJA", "zażółć"), self.verify("Łucja", "zazolc")), (True, False))

    def test_unknown(self) -> None:
        """
        An unknown name is not an operator, whatever the password.
        """
        self.assertFalse(self.verify("Nobody", "tajne hasło"))

    def test_sameWork(self) -> None:
        """
        Every answer, right, wrong, plain or unknown, costs one verification.
        """
        for name, password in [("Ola", "tajne hasło"), ("Ola", "x"), ("Łucja", "zażółć"), ("Ewa", "x")]:
            before = self.hasher.verified
            self.verify(name, password)
            self.assertEqual(self.hasher.verified - before, 1, name)


class FakeInput(io.StringIO):
    def __init__(self, text: str = "", tty: bool = False) -> None:
        super().__init__(text)
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


class MainTests(SynchronousTestCase):
    def hashOf(self, stdin: FakeInput, answers: list[str] = ()) -> tuple[int, str, str]:
        stdout, stderr = io.StringIO(), io.StringIO()
        asked = iter(answers)
        status = main(stdin, stdout, stderr, lambda prompt: next(asked), CHEAP)
        return status, stdout.getvalue(), stderr.getvalue()

    def test_fromAPipe(self) -> None:
        """
        From a pipe, the first line is the password; its hash is printed.
        """
        status, out, _ = self.hashOf(FakeInput("tajne hasło\nignored\n"))
        self.assertEqual(status, 0)
        self.assertTrue(out.startswith("$argon2id$"))
        self.assertTrue(matches(CHEAP, out.strip(), "tajne hasło"))

    def test_fromATerminal(self) -> None:
        """
        From a terminal, the password is asked twice, without echo.
        """
        status, out, _ = self.hashOf(FakeInput(tty=True), ["sekret", "sekret"])
        self.assertEqual(status, 0)
        self.assertTrue(matches(CHEAP, out.strip(), "sekret"))
        status, out, err = self.hashOf(FakeInput(tty=True), ["sekret", "sekert"])
        self.assertEqual((status, out, err), (1, "", "The passwords differ.\n"))

    def test_empty(self) -> None:
        """
        No password, no hash.
        """
        self.assertEqual(self.hashOf(FakeInput("\n")), (1, "", "No password given.\n"))

    def test_module(self) -> None:
        """
        python -m chatsvc.opers prints a hash that loadOpers accepts.
        """
        result = subprocess.run(
            [sys.executable, "-m", "chatsvc.opers"],
            input="tajne hasło\n",
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
            cwd=ROOT,
        )
        hashed = result.stdout.strip()
        self.assertEqual(opers.PASSWORD_HASHER.verify(hashed, "tajne hasło"), True)
        self.assertEqual(parseOpers(f"Ola {hashed}\n", "f")["ola"].secret, hashed)
