"""
Pure helpers for editing one line of text on a terminal.

Kept apart from the terminal protocol so they can be checked on their own,
with no terminal in sight.  A character is taken to fill one column; double
width scripts are not accounted for.
"""

from __future__ import annotations

import codecs

from attrs import frozen

from chatsvc.native.wire import visible


@frozen
class InputWindow:
    """
    What of an input line fits on the screen, and where the cursor goes.

    @ivar text: the prompt and the part of the input that is shown, made
        harmless with L{visible} (one character for one).
    @ivar column: the cursor's column, counted from 0.
    @ivar start: the index of the first input character shown; pass it back
        to L{inputWindow} next time so the view scrolls only when it must.
    """

    text: str
    column: int
    start: int


def inputWindow(
    prompt: str, text: str, cursor: int, width: int, start: int = 0
) -> InputWindow:
    """
    Fit C{prompt} followed by C{text} into one row of C{width} columns.

    A line that does not fit scrolls sideways so that the cursor (an index
    into C{text}, from 0 to C{len(text)}) stays in view.  The last column is
    never written to, so the terminal never wraps: the row can always be
    redrawn in place after a C{"\\r"}.
    """
    room = max(1, width - len(prompt) - 1)
    # Never leave room unused on the right while text is hidden on the left.
    start = min(start, max(0, len(text) - room))
    # The cursor sits on a shown character, or just after the last one.
    reach = room if cursor == len(text) else room - 1
    if cursor < start:
        start = cursor
    elif cursor - start > reach:
        start = cursor - reach
    shown = visible(text[start : start + room])
    return InputWindow(visible(prompt) + shown, len(prompt) + cursor - start, start)


class KeyDecoder:
    """
    Assemble characters from the bytes of keystrokes, one byte at a time.

    A terminal in raw mode sends "ż" as two bytes, each a keystroke of its
    own.  Invalid sequences are dropped rather than shown as U+FFFD: they
    are noise from a terminal that is not set to UTF-8, not text.
    """

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def feed(self, byte: bytes) -> str:
        """
        The characters that C{byte} completes; often none.
        """
        text = self._decoder.decode(byte)
        return "".join(c for c in text if c != "\ufffd" and c.isprintable())

    def reset(self) -> None:
        """
        Forget a partial character (a control key arrived in its middle).
        """
        self._decoder.reset()
