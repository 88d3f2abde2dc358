"""
Native events as wire bytes, one renderer per language, shared.
"""

from __future__ import annotations

from functools import cache

from zope.interface import implementer

from chatsvc import events
from chatsvc.interfaces import IRenderer
from chatsvc.native.wording import encodeEvent


@implementer(IRenderer)
class NativeRenderer:
    """
    Words events in one language for every native client that speaks it.

    Obtain one with L{forLanguage}, so that all clients of a language share
    it and the delivery path renders each event once per language.
    """

    def __init__(self, language: str) -> None:
        self.language = language
        # The last event rendered for others, and its bytes: the delivery
        # path asks for the sender's own view right after, and it is the
        # same but for private messages.
        self._last: tuple[object, bytes] = (None, b"")

    @classmethod
    @cache
    def forLanguage(cls, language: str) -> NativeRenderer:
        return cls(language)

    def render(self, event: events.Event) -> bytes:
        data = encodeEvent(event, self.language)
        self._last = (event, data)
        return data

    def renderOwn(self, event: events.Event) -> bytes:
        # Native clients see their own lines as everyone does, which tells
        # them the line went out; only a private message, and one's own
        # account changing (which others are not told), read differently.
        if isinstance(event, (events.Whispered, events.AccountChanged)):
            return encodeEvent(event, self.language, own=True)
        last, data = self._last
        return data if last is event else encodeEvent(event, self.language)

    def __repr__(self) -> str:
        return f"NativeRenderer({self.language!r})"
