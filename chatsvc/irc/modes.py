"""
Channel mode strings (C{+ov-b alice bob *!*@spam}) as pure values: parsed
into the hub's L{ModeChange}s and formatted back, as C{MODE} lines carry
them both ways.
"""

from __future__ import annotations

from attrs import frozen

from chatsvc.moderation import (
    FLAG_MODES,
    KEY_MODES,
    LIMIT_MODES,
    LIST_MODES,
    ROLE_MODES,
    ModeChange,
)

# Every channel mode letter the server knows.
CHANNEL_MODES = LIST_MODES + KEY_MODES + LIMIT_MODES + FLAG_MODES + ROLE_MODES

# Changes with an argument one MODE line may make (ISUPPORT MODES).
MAX_MODES = 4


@frozen
class ParsedModes:
    """
    What a client's mode string asked for.

    @ivar changes: the changes to make, in order, each with its argument.
    @ivar unknown: letters the server has no mode for (472 each).
    @ivar listed: whether the client asked for a list (C{b} with no mask).
    """

    changes: tuple[ModeChange, ...] = ()
    unknown: tuple[str, ...] = ()
    listed: bool = False


def parseModes(modes: str, arguments: tuple[str, ...]) -> ParsedModes:
    """
    Read C{+ov-k alice bob} as the changes it asks for.

    A letter that needs an argument takes the next one; one that finds none
    is dropped, except C{b} (a request for the list) and C{-k} (the key
    need not be repeated to remove it).  Beyond L{MAX_MODES} changes with
    arguments the rest is ignored, as the server said it would.
    """
    adding = True
    changes: list[ModeChange] = []
    unknown: list[str] = []
    listed = False
    remaining = list(arguments)
    withArguments = 0
    for letter in modes:
        if letter in "+-":
            adding = letter == "+"
            continue
        if letter not in CHANNEL_MODES:
            if letter not in unknown:
                unknown.append(letter)
            continue
        change = ModeChange(adding, letter)
        if change.takesArgument():
            if withArguments >= MAX_MODES:
                continue
            if not remaining:
                if letter in LIST_MODES:
                    listed = True
                elif letter in KEY_MODES and not adding:
                    changes.append(change)
                continue
            withArguments += 1
            change = ModeChange(adding, letter, remaining.pop(0))
        changes.append(change)
    return ParsedModes(tuple(changes), tuple(unknown), listed)


def formatModes(changes: tuple[ModeChange, ...] | list[ModeChange]) -> tuple[str, ...]:
    """
    The mode string and its arguments for C{changes}: C{("+ov-b", "a",
    "b", "m")}, a sign written only where it changes.

    C{-k} is written with C{*} when it has no key: 005 puts C{k} among the
    modes that always take an argument (C{CHANMODES=b,k,...}), so clients
    such as WeeChat read one after C{-k} whatever comes, and C{-k+l 5}
    would lose them the limit.
    """
    text = ""
    arguments: list[str] = []
    sign = None
    for change in changes:
        wanted = "+" if change.adding else "-"
        if wanted != sign:
            text += wanted
            sign = wanted
        text += change.letter
        if change.argument is not None:
            arguments.append(change.argument)
        elif change.letter in KEY_MODES and not change.adding:
            arguments.append("*")
    return (text, *arguments)
