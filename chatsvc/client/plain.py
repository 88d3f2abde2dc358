"""
The client as plain lines on standard input and output.

L{PlainLineView} is for pipes and scripts (standard input is not a
terminal).  It reads lines and writes lines, in UTF-8.  The nickname prompt
is written without a line ending and the answer read from standard input is
echoed after it, so a scripted transcript reads exactly like a terminal
session::

    $ printf 'Alicja\\nHi Bob!\\n' | python -m chatsvc.client
    Choose your nickname: Alicja
    Connected to server!
    Alicja: Hi Bob!

A registered nickname's password is asked for the same way, but the answer
is never echoed (C{Password for Ala: } and a bare line ending)::

    $ printf 'Ala\nsecret-word\n' | python -m chatsvc.client
    Choose your nickname: Ala
    The nickname Ala is registered: send its password on the next line.
    Password for Ala:
    Connected to server!
    You are now logged in to the account Ala.

Input is taken in order and only when it can be used: the first line
answers the nickname prompt, the next lines wait until the nickname is
accepted (or, if it is refused, the next line is the next attempt), and the
end of input leaves only after every line before it went out.  While a line
waits, standard input is not read, so a long script is never held in memory.

While the client reconnects after a lost connection, lines wait the same
way and go out, in order, once it is back; but C{exit}, C{/quit} or the end
of input, when it is the next thing to do, leaves at once.
"""

from __future__ import annotations

from collections import deque
from typing import cast

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IHalfCloseableProtocol, IPushProducer
from twisted.python.failure import Failure
from zope.interface import implementer

from chatsvc.client.interfaces import IChatInput, IChatView
from chatsvc.client.lines import ClientLineProtocol
from chatsvc.client.protocol import isQuit
from chatsvc.client.views import (
    EXIT_LOST,
    EXIT_NO_CONNECTION,
    EXIT_OK,
    Completion,
    lostMessage,
    nicknamePrompt,
    passwordPrompt,
)
from chatsvc.i18n import DEFAULT_LANGUAGE, translation
from chatsvc.native import wire

_END_OF_INPUT = None


@implementer(IChatView, IHalfCloseableProtocol)
class PlainLineView(ClientLineProtocol):
    """
    The client as lines on standard input and output (see the module docstring).

    @ivar client: where the user's lines go; set before input arrives.
    """

    maxLineBytes = wire.MAX_LINE_BYTES

    def __init__(self, language: str = DEFAULT_LANGUAGE) -> None:
        self.language = language
        self.client: IChatInput | None = None
        self._pending: deque[str | None] = deque()
        self._prompted = False
        self._promptOpen = False
        # What the open prompt says, and whether its answer is a secret.
        self._prompt = ""
        self._secret = False
        self._registered = False
        # Reconnecting: only leaving can be passed on.
        self._away = False
        self._over = False
        self._draining = False
        self._paused = False
        self._outputGone = False
        self._completion = Completion()

    def whenDone(self) -> Deferred[int]:
        """
        Fires with the exit status once the output is written and closed.
        """
        return self._completion.whenDone()

    # Input

    def textReceived(self, text: str) -> None:
        self._pending.append(text)
        self._drain()

    def undecodableLine(self, line: bytes) -> None:
        self.textReceived(line.decode("utf-8", "replace"))

    def lineTooLong(self) -> None:
        t = translation(self.language)
        self._emit(
            t.gettext(
                "That line is longer than {count} bytes; it was not sent."
            ).format(count=self.maxLineBytes)
        )

    def readConnectionLost(self) -> None:
        self.framer.finish()
        self._pending.append(_END_OF_INPUT)
        self._drain()

    def _ready(self, item: str | None) -> bool:
        if self.client is None:
            return False
        if self._away:
            return item is _END_OF_INPUT or isQuit(item)
        return self._prompted or self._registered

    def _drain(self) -> None:
        if self._draining:
            return
        self._draining = True
        try:
            while self._pending and (self._over or self._ready(self._pending[0])):
                item = self._pending.popleft()
                if self._over:
                    continue
                assert self.client is not None
                if item is _END_OF_INPUT:
                    self.client.leave()
                    continue
                if self._prompted:
                    self._prompted = False
                    self._promptOpen = False
                    self._write("\n" if self._secret else item + "\n")
                    self._secret = False
                self.client.submit(item)
        finally:
            self._draining = False
        # Read more only when what was read is used up.
        waiting = bool(self._pending)
        if self._over or self.transport is None:
            return
        if waiting != self._paused:
            self._paused = waiting
            standardInput = cast(IPushProducer, self.transport)
            if waiting:
                standardInput.pauseProducing()
            else:
                standardInput.resumeProducing()

    # IChatView

    def showLine(self, kind: str, line: str) -> None:
        self._emit(line)

    def askNickname(self, reason: str | None) -> None:
        self._away = False
        if reason is not None:
            self._emit(reason)
        self._openPrompt(nicknamePrompt(self.language), secret=False)

    def askPassword(self, nickname: str) -> None:
        self._away = False
        self._openPrompt(passwordPrompt(self.language, nickname), secret=True)

    def _openPrompt(self, prompt: str, secret: bool) -> None:
        if self._promptOpen and prompt != self._prompt:
            self._write("\n")
            self._promptOpen = False
        self._prompt = prompt
        self._secret = secret
        if not self._promptOpen:
            self._write(prompt)
            self._promptOpen = True
        self._prompted = True
        self._drain()

    def nicknameAccepted(self) -> None:
        self._away = False
        self._registered = True
        self._drain()

    def reconnecting(self, message: str) -> None:
        if self._over:
            return
        if self._promptOpen:
            self._write("\n")
            self._promptOpen = False
        self._prompted = False
        self._secret = False
        self._registered = False
        self._away = True
        self._emit(message)
        self._drain()

    def connectionClosed(self, clean: bool) -> None:
        if not clean:
            self._emit(lostMessage(self.language))
        self._end(EXIT_OK if clean else EXIT_LOST)

    def connectionFailed(self, message: str) -> None:
        self._emit(message)
        self._end(EXIT_NO_CONNECTION)

    def _end(self, status: int) -> None:
        if self._over:
            return
        if self._promptOpen:
            self._write("\n")
            self._promptOpen = False
        self._over = True
        self._completion.finish(status)
        self._drain()
        if self._outputGone or self.transport is None:
            self._completion.closeOutput()
        else:
            self.transport.loseConnection()

    # Output

    def _emit(self, line: str) -> None:
        """
        Write a whole line, keeping an open prompt after it.
        """
        if self._promptOpen:
            self._write("\n" + line + "\n" + self._prompt)
        else:
            self._write(line + "\n")

    def _write(self, text: str) -> None:
        if self.transport is not None and not self._outputGone:
            self.write(text.encode("utf-8"))

    def sendQueueOverflowed(self) -> None:
        # Whoever reads our output stopped: leave rather than hoard it.
        self._outputGone = True
        if self.client is not None:
            self.client.leave()

    # The standard I/O connection

    def writeConnectionLost(self) -> None:
        self._outputGone = True
        if self._completion.status is not None:
            self._completion.closeOutput()
        elif self.client is not None:
            self.client.leave()

    def connectionLost(self, reason: Failure | None = None) -> None:
        super().connectionLost(reason)
        self._outputGone = True
        self._completion.closeOutput()
        if self._completion.status is None and self.client is not None:
            self.client.leave()
