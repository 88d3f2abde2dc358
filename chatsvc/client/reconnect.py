"""
A conversation that outlives its connections: reconnecting after a loss.

L{Conversation} stands between a view and the protocol of the connection
of the moment.  To the view it is the client (L{IChatInput}); to each
protocol it is the view (L{IChatView}), passing on everything but the end
of a connection, which it judges:

  - the user left (C{exit}, C{/quit}, Ctrl-D, Ctrl-C): the end, status 0;
  - the very first connection could not be made: the end, with the
    one-line reason, status 1;
  - a connection ended before any nickname was ever accepted (a server
    that is full, a connection lost while the user chose a nickname), or
    with the server's goodbye for a reason that will not change (a wrong
    password, a flood, a nickname never chosen, a server operator's
    C{/kill}; L{ChatClientProtocol.refused}),
    or because TLS failed or the server wants a password we do not have:
    the end, status 1;
  - anything else once a nickname was accepted (the server went away,
    restarted, cut us off, or an attempt to reach it again failed): the
    view is told (L{IChatView.reconnecting}) and the connection is made
    again after a wait (L{backoff}: 0.5 seconds doubling to 30, less up to
    a quarter at random), with the same memory: nickname, room, language,
    password, the account logged in to and its password (so that a
    registered nickname is logged in to again unasked), and the lines
    already shown.

The waits grow with every attempt that does not get a nickname accepted
(an attempt that connects and is then closed counts as failed), and start
over once a connection has kept its nickname for L{STEADY_AFTER} seconds:
a server that welcomes and then drops at once (a cluster's node that
cannot reach the others to vouch for nicknames) is tried ever more slowly,
not every second.  After L{Conversation.giveUpAfter} seconds without
getting back it gives up (status 1).

Everything runs on the clock it is given, and connections are made by a
function it is given, so it is tested without a reactor or a network.

Why not L{twisted.application.internet.ClientService}: its count of failed
attempts starts over whenever TCP connects, but here an attempt succeeds
only when a nickname is accepted (a full server accepts and closes at
once); its C{stopService} drops the connection at once, which would cut
off the server's last replies after C{exit}; whether to try again is known
only once a connection has ended, from inside the loss ClientService is
still handling; and it does not say why an attempt failed, which the user
is told.  What is left of it here is a timer and a cancellable attempt.
"""

from __future__ import annotations

import random as _random
from typing import Callable

from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.python.failure import Failure
from zope.interface import implementer

from chatsvc.client.backoff import backoff, wholeSeconds
from chatsvc.client.interfaces import IChatInput, IChatView
from chatsvc.client.memory import SessionMemory
from chatsvc.client.protocol import ChatClientProtocol, isQuit
from chatsvc.i18n import DEFAULT_LANGUAGE, translation

GIVE_UP_AFTER = 3600.0
STEADY_AFTER = 10.0


@implementer(IChatInput, IChatView)
class Conversation:
    """
    The client across connections (see the module docstring).

    @ivar memory: what the connections share.
    @ivar protocol: the connection of the moment (connected or connecting),
        if any.
    """

    giveUpAfter = GIVE_UP_AFTER
    steadyAfter = STEADY_AFTER

    def __init__(
        self,
        view: IChatView,
        connect: Callable[[ChatClientProtocol], Deferred[object]],
        clock: IReactorTime,
        language: str = DEFAULT_LANGUAGE,
        nickname: str | None = None,
        password: str | None = None,
        describeFailure: Callable[[Failure], str] | None = None,
        random: Callable[[], float] = _random.random,
        accountPassword: str | None = None,
    ) -> None:
        """
        @param connect: connects a protocol to the server; fires once it is
            connected, fails if it cannot be.
        @param accountPassword: the password to answer the server's first
            C{PASS <nick>} with, unasked.
        @param describeFailure: why a connection could not be made, in one
            line for the user.
        @param random: the jitter's source of numbers in [0, 1).
        """
        self.view = view
        self.clock = clock
        self.language = language
        self.password = password
        self.memory = SessionMemory(nickname, language, givenPassword=accountPassword)
        self.protocol: ChatClientProtocol | None = None
        self._connect = connect
        self._describe = describeFailure or (lambda failure: failure.getErrorMessage())
        self._random = random
        self._connecting: Deferred[object] | None = None
        self._timer: IDelayedCall | None = None
        # Attempts since a connection last kept its nickname steadyAfter
        # seconds; and when the latest got its nickname accepted.
        self._failures = 0
        self._acceptedAt: float | None = None
        self._lostAt: float | None = None
        self._leaving = False
        self._over = False

    def start(self) -> None:
        """
        Make the first connection.
        """
        self._attempt()

    def stop(self) -> None:
        """
        Stop trying: cancel the wait or the attempt under way, if any.
        """
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        if self._connecting is not None:
            self._connecting.cancel()

    def _attempt(self) -> None:
        self._timer = None
        protocol = ChatClientProtocol(
            self, self.clock, self.language, password=self.password, memory=self.memory
        )
        self.protocol = protocol
        connecting = self._connecting = self._connect(protocol)
        connecting.addCallbacks(self._connected, self._notConnected)

    def _connected(self, _: object) -> None:
        self._connecting = None

    def _notConnected(self, failure: Failure) -> None:
        self._connecting = None
        self.protocol = None
        if failure.check(CancelledError) or self._over:
            # We stopped it.
            return
        message = self._describe(failure)
        if not self.memory.registered:
            self._end()
            self.view.connectionFailed(message)
            return
        t = translation(self.language)
        self._retry(t.gettext("{reason} Trying again in {seconds} s…"), reason=message)

    def _retry(self, message: str, **fields: str) -> None:
        now = self.clock.seconds()
        if self._acceptedAt is not None and now - self._acceptedAt >= self.steadyAfter:
            self._failures = 0
        self._acceptedAt = None
        if self._lostAt is None:
            self._lostAt = now
        elif now - self._lostAt >= self.giveUpAfter:
            t = translation(self.language)
            self.view.showLine(
                "local",
                t.gettext("Still no connection after {minutes} min; giving up.").format(
                    minutes=round(self.giveUpAfter / 60)
                ),
            )
            self._end()
            self.view.connectionClosed(False)
            return
        delay = backoff(self._failures, self._random)
        self._failures += 1
        self.view.reconnecting(message.format(seconds=wholeSeconds(delay), **fields))
        self._timer = self.clock.callLater(delay, self._attempt)

    def _end(self) -> None:
        self._over = True
        self.stop()

    # IChatView, for the protocol

    def showLine(self, kind: str, line: str) -> None:
        self.view.showLine(kind, line)

    def askNickname(self, reason: str | None) -> None:
        self.view.askNickname(reason)

    def askPassword(self, nickname: str) -> None:
        self.view.askPassword(nickname)

    def nicknameAccepted(self) -> None:
        self._acceptedAt = self.clock.seconds()
        self._lostAt = None
        self.view.nicknameAccepted()

    def reconnecting(self, message: str) -> None:
        self.view.reconnecting(message)

    def connectionClosed(self, clean: bool) -> None:
        protocol, self.protocol = self.protocol, None
        if self._over:
            return
        if clean or self._leaving:
            self._end()
            self.view.connectionClosed(True)
        elif not self.memory.registered or (protocol is not None and protocol.refused):
            self._end()
            self.view.connectionClosed(False)
        else:
            t = translation(self.language)
            self._retry(t.gettext("Connection lost; reconnecting in {seconds} s…"))

    def connectionFailed(self, message: str) -> None:
        # TLS failed, or the server wants a password we do not have: trying
        # again would not change it.
        self.protocol = None
        if self._over:
            return
        self._end()
        self.view.connectionFailed(message)

    # IChatInput, for the view

    def submit(self, text: str) -> None:
        if self._over:
            return
        if isQuit(text) and (self.protocol is None or self._connecting is not None):
            # Not connected: nobody to say goodbye to.
            self.leave()
        elif self.protocol is not None:
            self.protocol.submit(text)

    def leave(self, insist: bool = False) -> None:
        if self._over:
            return
        self._leaving = True
        protocol = self.protocol
        if protocol is None:
            # Waiting to try again.
            self._end()
            self.view.connectionClosed(True)
            return
        if self._connecting is not None:
            self.stop()
        # Connected, it says goodbye and the server closes; still connecting,
        # it ends at once (and drops a connection made after all).
        protocol.leave(insist)
