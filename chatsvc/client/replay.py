"""
One block of history from the server, and what of it the user is shown.

The server sends history as a block: a heading (C{Earlier in room pub:}),
lines that each start with their time (C{[21:30] Ala: hi}), and
C{End of history.}  The protocol opens a L{ReplayBlock} at the heading,
in one of four modes, and feeds it the lines:

  - C{"show"}: an answer to C{/history}, shown as it comes;
  - C{"remember"}: the replay on joining a room, shown as it comes, and
    remembered as seen;
  - C{"dedupe"}: the replay on coming back after a lost connection, held
    until its end, then shown without the lines shown before the loss;
  - C{"suppress"}: the replay of a room the client only passes through on
    its way back to its own: not shown.

Each method returns the lines to show, as C{(kind, line)} pairs for
L{chatsvc.client.interfaces.IChatView.showLine}.  Pure: no Twisted.
"""

from __future__ import annotations

from attrs import Factory, define

from chatsvc.client.memory import Transcript
from chatsvc.client.notices import stripTime
from chatsvc.i18n import translation

SHOW = "show"
REMEMBER = "remember"
DEDUPE = "dedupe"
SUPPRESS = "suppress"

Shown = list[tuple[str, str]]


@define
class ReplayBlock:
    """
    A block of history under way.

    @ivar room: the room it is the history of.
    @ivar heading: the server's heading line.
    @ivar mode: one of L{SHOW}, L{REMEMBER}, L{DEDUPE}, L{SUPPRESS}.
    @ivar lines: its lines so far, as the server sent them.
    """

    room: str
    heading: str
    mode: str
    lines: list[str] = Factory(list)

    def _asItComes(self) -> bool:
        return self.mode in (SHOW, REMEMBER)

    def opened(self) -> Shown:
        """
        What to show at the heading.
        """
        return [("notice", self.heading)] if self._asItComes() else []

    def add(self, line: str) -> Shown:
        """
        One line of the block (it has its time prefix).
        """
        self.lines.append(line)
        return [("notice", line)] if self._asItComes() else []

    def end(self, line: str, transcript: Transcript, language: str) -> Shown:
        """
        The block is over (C{line} says so): what is still to show.
        """
        said = [stripTime(shown) or shown for shown in self.lines]
        if self.mode == SHOW:
            return [("notice", line)]
        if self.mode == SUPPRESS:
            return []
        start = transcript.unseen(self.room, said)
        transcript.merge(self.room, said)
        if self.mode == REMEMBER:
            return [("notice", line)]
        t = translation(language)
        if start == len(said):
            return [
                (
                    "local",
                    t.gettext(
                        "Nothing was said in room {room} while you were away."
                    ).format(room=self.room),
                )
            ]
        shown: Shown = [
            (
                "local",
                t.gettext("Said in room {room} while you were away:").format(
                    room=self.room
                ),
            )
        ]
        shown += [("notice", each) for each in self.lines[start:]]
        shown.append(("notice", line))
        if start == 0:
            # Nothing in the replay was seen: more may have been said than
            # it holds.
            shown.append(
                (
                    "local",
                    t.gettext(
                        "More may have been said while you were away: /history "
                        "shows earlier lines."
                    ),
                )
            )
        return shown

    def abandon(self, transcript: Transcript) -> Shown:
        """
        The block turned out not to be history (a line without a time, or
        too many): what it held is shown as it is, and nothing is hidden.
        """
        if self.mode == REMEMBER:
            transcript.merge(
                self.room, [stripTime(each) or each for each in self.lines]
            )
        if self.mode == DEDUPE:
            return [("notice", self.heading)] + [
                ("notice", each) for each in self.lines
            ]
        return []
