"""
What the client remembers from one connection to the next: who it is,
where, in which language, which account it is logged in to (and the
passwords it was given, to log in again), and the last lines it has shown
in each room.

When the client comes back after a lost connection, the server replays the
room's last lines.  Some of them the user has seen, some were said while
the client was away.  The replay (its C{[time] } prefixes stripped) is
aligned against the lines the client remembers having shown: the longest
run of the remembered lines' end that is also the replay's beginning was
seen, and only what follows it is new.  Pure code, no Twisted.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from typing import Sequence

from attrs import Factory, define, field

from chatsvc.names import nameKey

# Lines remembered per room: more than the server replays by default (20),
# as many as one /history may show (200).
MAX_TAIL = 200
# Rooms remembered; the least recently shown in are forgotten first.
MAX_ROOMS = 20


def overlap(tail: Sequence[str], replay: Sequence[str]) -> int:
    """
    How many of C{replay}'s first lines are the last lines of C{tail}: the
    largest C{k} with C{tail[-k:] == replay[:k]} (0 if none).

    When a line was said twice, the longest match wins: the client rather
    hides a repeat it may have seen than shows a line twice.
    """
    tail = list(tail)
    replay = list(replay)
    for k in range(min(len(tail), len(replay)), 0, -1):
        if tail[len(tail) - k :] == replay[:k]:
            return k
    return 0


def _key(room: str | None) -> str | None:
    return None if room is None else nameKey(room)


class Transcript:
    """
    The last lines shown in each room, as they were shown (chat lines and
    actions only: what the server's replay holds).

    A room is named by its name, or C{None} for the room the server put us
    in before its name is known.
    """

    def __init__(self, perRoom: int = MAX_TAIL, rooms: int = MAX_ROOMS) -> None:
        self._perRoom = perRoom
        self._rooms = rooms
        self._tails: OrderedDict[str | None, deque[str]] = OrderedDict()

    def tail(self, room: str | None) -> list[str]:
        """
        The lines remembered for C{room}, oldest first.
        """
        return list(self._tails.get(_key(room), ()))

    def remember(self, room: str | None, line: str) -> None:
        """
        C{line} was just shown in C{room}.
        """
        self._tailOf(room).append(line)

    def unseen(self, room: str | None, replay: Sequence[str]) -> int:
        """
        Where the new part of C{replay} (a room's last lines, oldest first,
        without their time) begins: after the lines already shown.
        """
        return overlap(self._tails.get(_key(room), ()), replay)

    def merge(self, room: str | None, replay: Sequence[str]) -> None:
        """
        C{replay} was shown, or is known: remember what of it is new.
        """
        start = self.unseen(room, replay)
        tail = self._tailOf(room)
        tail.extend(replay[start:])

    def rename(self, old: str | None, new: str) -> None:
        """
        Room C{old} turned out to be called C{new}.
        """
        lines = self._tails.pop(_key(old), None)
        if lines is not None:
            self._tailOf(new).extend(lines)

    def _tailOf(self, room: str | None) -> deque[str]:
        key = _key(room)
        tail = self._tails.pop(key, None)
        if tail is None:
            tail = deque(maxlen=self._perRoom)
            if len(self._tails) >= self._rooms:
                self._tails.popitem(last=False)
        self._tails[key] = tail
        return tail


@define
class SessionMemory:
    """
    What outlives a connection, shared by the protocols of one run.

    @ivar nickname: the nickname to answer C{NICK} with unasked: the one
        given on the command line, then the one the server accepted.
    @ivar serverLanguage: the language to ask the server for (the client's,
        or the last one the user chose with C{/lang}).
    @ivar room: the room we are in, once known; C{None} for the room the
        server put us in, until its name shows, or for none at all (we were
        put out of ours, or the server's first room bans us): either way,
        the next connection stays in whatever room the server gives it.
    @ivar defaultRoom: the room the server puts newcomers in, once known.
    @ivar registered: whether a nickname was accepted on some connection:
        from then on, a lost connection is made again.
    @ivar account: the account we are logged in to, once the server says so.
    @ivar transcript: the lines shown, per room.

    Passwords of accounts are kept here for this run only, to log in again
    on the next connection: never written anywhere, and not in the C{repr}.
    """

    nickname: str | None
    serverLanguage: str
    room: str | None = None
    defaultRoom: str | None = None
    registered: bool = False
    account: str | None = None
    transcript: Transcript = Factory(Transcript)
    # The password given for scripts (--account-password-file), for the
    # first registered nickname the server asks about.
    givenPassword: str | None = field(default=None, repr=False)
    # Account key to the password that logged in to it.
    _passwords: dict[str, str] = field(factory=dict, repr=False, init=False)
    # Accounts the given password turned out wrong for.
    _refused: set[str] = field(factory=set, repr=False, init=False)

    def passwordFor(self, nickname: str) -> str | None:
        """
        The password to answer C{PASS <nickname>} with unasked: the one
        that logged in to it this run, else the one given, unless it was
        refused for this nickname.
        """
        key = nameKey(nickname)
        if key in self._passwords:
            return self._passwords[key]
        if key in self._refused:
            return None
        return self.givenPassword

    def loggedIn(self, account: str, password: str | None) -> None:
        """
        We are logged in to C{account}, with C{password} if we know it.
        """
        self.account = account
        if password is not None:
            self._passwords[nameKey(account)] = password

    def passwordChanged(self, password: str) -> None:
        """
        The password of the account we are logged in to is now C{password}.
        """
        if self.account is not None:
            self._passwords[nameKey(self.account)] = password

    def passwordRefused(self, name: str) -> None:
        """
        A password for C{name} was wrong: do not send it again unasked.
        """
        key = nameKey(name)
        self._passwords.pop(key, None)
        self._refused.add(key)

    def forgetAccount(self, name: str | None = None) -> None:
        """
        We are logged in to no account any more; if C{name} was dropped,
        its password is of no use either.
        """
        if name is not None:
            self._passwords.pop(nameKey(name), None)
            if self.account is not None and nameKey(self.account) == nameKey(name):
                self.account = None
        else:
            self.account = None

    def leftRoom(self) -> None:
        """
        We are in no room now.
        """
        self.room = None

    def learnRoom(self, name: str) -> None:
        """
        The room we were put in is called C{name}.
        """
        if self.room is None:
            self.transcript.rename(None, name)
            self.room = name
