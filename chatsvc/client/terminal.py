"""
The client on a terminal: line editing below, the conversation above.

L{TerminalView} is for people at a terminal in raw mode: a line editor
(L{HistoricRecvLine} taught UTF-8, so "zażółć" can be typed, moved over and
erased character by character) on the bottom row, with every server line
printed above it.  A line that arrives while the user is typing erases the
input row, is printed, and the prompt and the typed text are redrawn with
the cursor where it was.  The input row scrolls sideways rather than wrap,
so it can always be redrawn in place.  Keys: the arrows, Home/End (and
Ctrl-A/Ctrl-E), Backspace, Delete, Ctrl-U and Ctrl-K (erase before or after
the cursor), Ctrl-L (redraw), Up/Down (history); Ctrl-D on an empty line and
Ctrl-C leave (a second Ctrl-C stops waiting for the server).  While the
client reconnects, what is typed stays on the input row until it is back
(Enter sends nothing but C{exit} or C{/quit}).

The password of a registered nickname is typed after C{Password for Ala: }
and never drawn: the row shows the prompt alone, the answer is not kept in
the input history, and it is not left on screen.  Lines that carry a
password (C{/register}, C{/identify}, C{/password}, C{/drop}, C{/oper}) are
sent but not kept in the history either.

The plain-line view for pipes is L{chatsvc.client.plain.PlainLineView};
L{chatsvc.client.session} picks one or the other by whether standard input
is a terminal.
"""

from __future__ import annotations

from typing import Callable

from twisted.conch.insults.insults import ServerProtocol
from twisted.conch.recvline import HistoricRecvLine
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure
from zope.interface import implementer

from chatsvc.client.editing import KeyDecoder, inputWindow
from chatsvc.client.interfaces import IChatInput, IChatView
from chatsvc.client.plain import PlainLineView
from chatsvc.client.protocol import carriesPassword, isQuit
from chatsvc.client.views import (
    EXIT_LOST,
    EXIT_NO_CONNECTION,
    EXIT_OK,
    Completion,
    lostMessage,
    nicknamePrompt,
    passwordPrompt,
)
from chatsvc.i18n import DEFAULT_LANGUAGE
from chatsvc.native import wire

__all__ = ["PlainLineView", "TerminalView", "terminalProtocol"]


@implementer(IChatView)
class TerminalView(HistoricRecvLine):
    """
    The client on a terminal in raw mode (see the module).

    Connect it through L{ServerProtocol}: C{ServerProtocol(lambda: view)}.

    @ivar client: where the user's lines go; set before input arrives.
    @ivar prompt: shown before the input on the bottom row.
    """

    TABSTOP = 4

    def __init__(
        self, language: str = DEFAULT_LANGUAGE, width: int = 80, height: int = 24
    ) -> None:
        self.language = language
        self.width = width
        self.height = height
        self.terminal: ServerProtocol | None = None
        self.client: IChatInput | None = None
        self.prompt = ""
        self._start = 0
        self._prompted = False
        # What is typed is a password: never drawn, kept or left on screen.
        self._secret = False
        self._registered = False
        self._over = False
        self._completion = Completion()

    def whenDone(self) -> Deferred[int]:
        """
        Fires with the exit status once the output is written and closed.
        """
        return self._completion.whenDone()

    # Set-up: HistoricRecvLine calls these from connectionMade.

    def connectionMade(self) -> None:
        super().connectionMade()
        self._keys = KeyDecoder()
        self.lineBuffer: list[str] = []  # type: ignore[assignment]
        self.historyLines: list[str] = []  # type: ignore[assignment]
        controls: dict[bytes, Callable[[], None]] = {
            b"\x01": self.handle_HOME,
            b"\x03": self.handle_INTERRUPT,
            b"\x04": self.handle_EOF,
            b"\x05": self.handle_END,
            b"\x08": self.handle_BACKSPACE,
            b"\x0b": self.handle_KILL_END,
            b"\x0c": self.handle_REDRAW,
            b"\x15": self.handle_KILL_START,
        }
        self.keyHandlers.update(controls)

    def initializeScreen(self) -> None:
        # Unlike RecvLine: no reset (it would clear the user's screen) and
        # no insert mode on the terminal (every edit redraws the row).
        self.mode = "insert"
        self.drawInputLine()

    def setInsertMode(self) -> None:
        self.mode = "insert"

    def setTypeoverMode(self) -> None:
        self.mode = "typeover"

    def terminalSize(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        self.drawInputLine()

    # Drawing

    def currentLineBuffer(self) -> tuple[str, str]:  # type: ignore[override]
        text = "".join(self.lineBuffer)
        return text[: self.lineBufferIndex], text[self.lineBufferIndex :]

    def drawInputLine(self) -> None:
        """
        Redraw the bottom row: prompt, the visible part of the input, cursor.
        """
        if self.terminal is None:
            return
        if self._secret:
            window = inputWindow(self.prompt, "", 0, self.width, 0)
        else:
            window = inputWindow(
                self.prompt,
                "".join(self.lineBuffer),
                self.lineBufferIndex,
                self.width,
                self._start,
            )
        self._start = window.start
        self.terminal.write(b"\r" + window.text.encode("utf-8"))
        self.terminal.eraseToLineEnd()
        back = len(window.text) - window.column
        if back > 0:
            self.terminal.cursorBackward(back)

    def _printAbove(self, line: str) -> None:
        """
        Print C{line} where the input row was, then redraw the input below.
        """
        if self.terminal is None:
            return
        self.terminal.write(b"\r")
        self.terminal.eraseToLineEnd()
        self.terminal.write(line.encode("utf-8") + b"\n")
        if not self._over:
            self.drawInputLine()

    # Keys

    def keystrokeReceived(self, keyID: bytes, modifier: object) -> None:
        if modifier is not None:
            # Alt-something, Shift-Tab: nothing we do.
            self._keys.reset()
            return
        handler = self.keyHandlers.get(keyID)
        if handler is not None:
            self._keys.reset()
            handler()
        elif len(keyID) == 1 and keyID >= b" " and keyID != b"\x7f":
            for character in self._keys.feed(keyID):
                self.characterReceived(character, False)
        # Anything else (function keys, other control keys) is ignored.

    def characterReceived(self, ch: str, moreCharactersComing: bool) -> None:  # type: ignore[override]
        if self.mode == "insert":
            self.lineBuffer.insert(self.lineBufferIndex, ch)
        else:
            self.lineBuffer[self.lineBufferIndex : self.lineBufferIndex + 1] = [ch]
        self.lineBufferIndex += 1
        self.drawInputLine()

    def handle_TAB(self) -> None:
        for _ in range(self.TABSTOP - self.lineBufferIndex % self.TABSTOP):
            self.characterReceived(" ", True)

    def handle_LEFT(self) -> None:
        if self.lineBufferIndex > 0:
            self.lineBufferIndex -= 1
            self.drawInputLine()

    def handle_RIGHT(self) -> None:
        if self.lineBufferIndex < len(self.lineBuffer):
            self.lineBufferIndex += 1
            self.drawInputLine()

    def handle_HOME(self) -> None:
        self.lineBufferIndex = 0
        self.drawInputLine()

    def handle_END(self) -> None:
        self.lineBufferIndex = len(self.lineBuffer)
        self.drawInputLine()

    def handle_BACKSPACE(self) -> None:
        if self.lineBufferIndex > 0:
            self.lineBufferIndex -= 1
            del self.lineBuffer[self.lineBufferIndex]
            self.drawInputLine()

    def handle_DELETE(self) -> None:
        if self.lineBufferIndex < len(self.lineBuffer):
            del self.lineBuffer[self.lineBufferIndex]
            self.drawInputLine()

    def handle_KILL_START(self) -> None:
        del self.lineBuffer[: self.lineBufferIndex]
        self.lineBufferIndex = 0
        self.drawInputLine()

    def handle_KILL_END(self) -> None:
        del self.lineBuffer[self.lineBufferIndex :]
        self.drawInputLine()

    def handle_REDRAW(self) -> None:
        self.drawInputLine()

    def handle_EOF(self) -> None:
        if self.lineBuffer:
            self.handle_DELETE()
        else:
            self._leave()

    def handle_INTERRUPT(self) -> None:
        self._leave(insist=True)

    def _leave(self, insist: bool = False) -> None:
        if self.client is not None:
            self.client.leave(insist)

    def _setLine(self, text: str) -> None:
        self.lineBuffer = list(text)
        self.lineBufferIndex = len(self.lineBuffer)
        self.drawInputLine()

    def handle_UP(self) -> None:
        if self._secret:
            return
        if self.lineBuffer and self.historyPosition == len(self.historyLines):
            self.historyLines.append("".join(self.lineBuffer))
        if self.historyPosition > 0:
            self.historyPosition -= 1
            self._setLine(self.historyLines[self.historyPosition])

    def handle_DOWN(self) -> None:
        if self._secret:
            return
        if self.historyPosition < len(self.historyLines) - 1:
            self.historyPosition += 1
            self._setLine(self.historyLines[self.historyPosition])
        else:
            self.historyPosition = len(self.historyLines)
            self._setLine("")

    def handle_RETURN(self) -> None:
        if self.client is None or self._over:
            return
        text = "".join(self.lineBuffer)
        if self._prompted:
            # The answer stays on screen after its prompt, as typed (a
            # password stays unseen).
            self._prompted = False
            self._printAnswer("" if self._secret else text)
            self._secret = False
        elif self._registered:
            # The server echoes what was said; the input row is reused.
            if text and not carriesPassword(text):
                self.historyLines.append(text)
            self.historyPosition = len(self.historyLines)
        elif not isQuit(text):
            # Nobody asked for anything yet (or the client is reconnecting):
            # keep the text for later.  Leaving is never kept waiting.
            return
        self.lineBuffer = []
        self.lineBufferIndex = 0
        self._start = 0
        self.drawInputLine()
        self.client.submit(text)

    def _printAnswer(self, text: str) -> None:
        assert self.terminal is not None
        prompt, self.prompt = self.prompt, ""
        self.terminal.write(b"\r")
        self.terminal.eraseToLineEnd()
        self.terminal.write((wire.visible(prompt + text) + "\n").encode("utf-8"))

    # IChatView

    def showLine(self, kind: str, line: str) -> None:
        self._printAbove(line)

    def askNickname(self, reason: str | None) -> None:
        if reason is not None:
            self._printAbove(reason)
        self.prompt = nicknamePrompt(self.language)
        self._prompted = True
        self.drawInputLine()

    def askPassword(self, nickname: str) -> None:
        self.prompt = passwordPrompt(self.language, nickname)
        self._prompted = True
        self._secret = True
        self.drawInputLine()

    def nicknameAccepted(self) -> None:
        self._registered = True

    def reconnecting(self, message: str) -> None:
        if self._over:
            return
        # Typed text stays on the input row, to be sent once back.
        self._registered = False
        self._prompted = False
        if self._secret:
            # A password half typed is not kept for the next connection.
            self._secret = False
            self.lineBuffer = []
            self.lineBufferIndex = 0
        self.prompt = ""
        self._printAbove(message)

    def connectionClosed(self, clean: bool) -> None:
        self._end(
            None if clean else lostMessage(self.language),
            EXIT_OK if clean else EXIT_LOST,
        )

    def connectionFailed(self, message: str) -> None:
        self._end(message, EXIT_NO_CONNECTION)

    def _end(self, message: str | None, status: int) -> None:
        if self._over:
            return
        self._over = True
        self._completion.finish(status)
        if self.terminal is None:
            self._completion.closeOutput()
            return
        # Leave the typed text (if any) on screen: it was never sent.
        self.terminal.write(b"\r")
        self.terminal.eraseToLineEnd()
        typed = "" if self._secret else "".join(self.lineBuffer)
        if typed or self.prompt:
            self.terminal.write(
                (wire.visible(self.prompt + typed) + "\n").encode("utf-8")
            )
        if message is not None:
            self.terminal.write(message.encode("utf-8") + b"\n")
        # Not the terminal's own loseConnection: it would reset the screen.
        assert self.terminal.transport is not None
        self.terminal.transport.loseConnection()

    def connectionLost(self, reason: Failure | None = None) -> None:
        self.terminal = None
        self._completion.closeOutput()
        if self._completion.status is None and self.client is not None:
            self.client.leave()


def terminalProtocol(view: TerminalView) -> ServerProtocol:
    """
    The byte-level terminal (escape sequences in and out) around C{view}.
    """
    return ServerProtocol(lambda: view)
