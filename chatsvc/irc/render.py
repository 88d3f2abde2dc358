"""
IRC events as wire bytes: one renderer per server name and language, shared.

Every event type has an entry in L{IRCRenderer}'s table (a test walks the
event union); people are named by the identity each event carries, so
rendering never asks the hub anything.
"""

from __future__ import annotations

from functools import cache
from typing import Callable

from zope.interface import implementer

from chatsvc import events
from chatsvc.i18n import translation
from chatsvc.interfaces import IRenderer
from chatsvc.irc import wire
from chatsvc.irc.wire import formatMessage
from chatsvc.text import listNames

# How many names a crowd summary spells out.
MAX_CROWD_NAMES = 3


def quitReason(reason: str | None) -> str:
    """
    A QUIT message's text, as IRC clients show it.
    """
    if reason in ("Ping timeout", "Excess Flood"):
        return reason
    return f"Quit: {reason}" if reason else "Client quit"


def chunks(command: str, prefix: str, target: str, text: str, action: bool = False) -> list[str]:
    """
    One message per piece of C{text} that fits in an IRC line.
    """
    head = formatMessage(command, target, "x", prefix=prefix)
    room = 512 - 2 - len(head.encode("utf-8")) - (len("ACTION ") + 2 if action else 0)
    pieces = wire.splitText(text, max(room, 16))
    if action:
        pieces = [f"{wire.CTCP}ACTION {piece}{wire.CTCP}" for piece in pieces]
    return [formatMessage(command, target, piece, prefix=prefix) for piece in pieces]


@implementer(IRenderer)
class IRCRenderer:
    """
    Words events for every IRC client of one server name and language.

    Obtain one with L{forServer}, so that all such clients share it and the
    delivery path renders each event once for all of them.
    """

    def __init__(self, serverName: str, language: str) -> None:
        self.serverName = serverName
        self.language = language
        self._table: dict[type, Callable[[events.Event], list[str]]] = {
            events.Said: self._said,
            events.Acted: self._acted,
            events.Whispered: self._whispered,
            events.Joined: self._joined,
            events.Arrived: self._joined,
            events.Departed: self._departed,
            events.Parted: self._parted,
            events.Left: self._left,
            events.Renamed: self._renamed,
            events.TopicChanged: self._topicChanged,
            events.Crowd: self._crowd,
            events.Closing: self._closing,
            events.TimedOut: self._timedOut,
            # Native clients' notices; IRC says these its own way.
            events.Welcome: self._nothing,
            events.Moved: self._nothing,
        }

    @classmethod
    @cache
    def forServer(cls, serverName: str, language: str) -> IRCRenderer:
        return cls(serverName, language)

    def lines(self, event: events.Event) -> list[str]:
        """
        The IRC lines that tell a client other than its sender of C{event}.

        @raise TypeError: there is no rendering for it.
        """
        try:
            render = self._table[type(event)]
        except KeyError:
            raise TypeError(f"no IRC rendering for {event!r}") from None
        return render(event)

    def render(self, event: events.Event) -> bytes:
        return "".join(line + "\r\n" for line in self.lines(event)).encode("utf-8")

    def renderOwn(self, event: events.Event) -> bytes:
        # IRC clients show their own lines and private messages themselves;
        # a rename or a topic they set comes back as the others see it.
        if isinstance(event, (events.Said, events.Acted, events.Whispered)):
            return b""
        return self.render(event)

    # One method per event type

    def _said(self, event: events.Said) -> list[str]:
        command = "NOTICE" if event.notice else "PRIVMSG"
        return chunks(command, event.sender.mask, wire.channelName(event.room), event.text)

    def _acted(self, event: events.Acted) -> list[str]:
        return chunks(
            "PRIVMSG", event.sender.mask, wire.channelName(event.room), event.text, action=True
        )

    def _whispered(self, event: events.Whispered) -> list[str]:
        command = "NOTICE" if event.notice else "PRIVMSG"
        return chunks(command, event.sender.mask, event.recipient, event.text, action=event.action)

    def _joined(self, event: events.Joined | events.Arrived) -> list[str]:
        return [formatMessage("JOIN", wire.channelName(event.room), prefix=event.sender.mask)]

    def _departed(self, event: events.Departed) -> list[str]:
        return [
            formatMessage(
                "PART",
                wire.channelName(event.room),
                f"went to #{event.destination}",
                prefix=event.sender.mask,
            )
        ]

    def _parted(self, event: events.Parted) -> list[str]:
        params = [wire.channelName(event.room)]
        if event.reason:
            params.append(event.reason)
        return [formatMessage("PART", *params, prefix=event.sender.mask)]

    def _left(self, event: events.Left) -> list[str]:
        return [formatMessage("QUIT", quitReason(event.reason), prefix=event.sender.mask)]

    def _renamed(self, event: events.Renamed) -> list[str]:
        return [formatMessage("NICK", event.new, prefix=event.sender.mask)]

    def _topicChanged(self, event: events.TopicChanged) -> list[str]:
        return [
            formatMessage(
                "TOPIC", wire.channelName(event.room), event.topic, prefix=event.sender.mask
            )
        ]

    def _crowd(self, event: events.Crowd) -> list[str]:
        t = translation(self.language)
        channel = wire.channelName(event.room)
        lines = []
        if event.joined:
            lines.append(
                t.ngettext(
                    "Joined {channel}: {names}", "Joined {channel}: {names}", len(event.joined)
                ).format(channel=channel, names=listNames(event.joined, MAX_CROWD_NAMES, t))
            )
        if event.left:
            lines.append(
                t.ngettext(
                    "Left {channel}: {names}", "Left {channel}: {names}", len(event.left)
                ).format(channel=channel, names=listNames(event.left, MAX_CROWD_NAMES, t))
            )
        return [formatMessage("NOTICE", channel, line, prefix=self.serverName) for line in lines]

    def _closing(self, event: events.Closing) -> list[str]:
        return [formatMessage("ERROR", "Closing Link: server shutting down")]

    def _timedOut(self, event: events.TimedOut) -> list[str]:
        return [formatMessage("ERROR", f"Closing Link: {event.host} (Registration timeout)")]

    def _nothing(self, event: events.Event) -> list[str]:
        return []

    def __repr__(self) -> str:
        return f"IRCRenderer({self.serverName!r}, {self.language!r})"
