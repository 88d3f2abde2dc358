"""
What both views of the client share: the words they use, their exit
statuses, and knowing when they are done.
"""

from __future__ import annotations

from twisted.internet.defer import Deferred

from chatsvc.i18n import translation

EXIT_OK = 0
EXIT_LOST = 1
EXIT_NO_CONNECTION = 1


class Completion:
    """
    When a view is done: it knows its exit status and its output is closed.

    Only then may the process exit, or the last words could be lost.
    """

    def __init__(self) -> None:
        self.status: int | None = None
        self.outputClosed = False
        self._waiters: list[Deferred[int]] = []

    def whenDone(self) -> Deferred[int]:
        """
        Fires with the exit status once both are known.
        """
        waiter: Deferred[int] = Deferred()
        self._waiters.append(waiter)
        self._check()
        return waiter

    def finish(self, status: int) -> None:
        """
        The exit status; the first one given counts.
        """
        if self.status is None:
            self.status = status
        self._check()

    def closeOutput(self) -> None:
        """
        Nothing more can or will be written.
        """
        self.outputClosed = True
        self._check()

    def _check(self) -> None:
        if self.status is not None and self.outputClosed:
            waiters, self._waiters = self._waiters, []
            for waiter in waiters:
                waiter.callback(self.status)


def lostMessage(language: str) -> str:
    """
    What the user is told when the server went away on its own.
    """
    return translation(language).gettext("Connection to server lost.")


def nicknamePrompt(language: str) -> str:
    """
    The question before the nickname is typed (ends in a space, no newline).
    """
    return translation(language).gettext("Choose your nickname: ")


def passwordPrompt(language: str, nickname: str) -> str:
    """
    The question before the password of the account C{nickname} is
    registered to is typed (ends in a space, no newline).
    """
    return translation(language).gettext("Password for {nickname}: ").format(
        nickname=nickname
    )
