"""
IRC events as wire bytes: one renderer per server name, language and set of
capabilities that change what a client is sent, shared.

Every event type has an entry in L{IRCRenderer}'s table (a test walks the
event union); people are named by the identity each event carries, so
rendering never asks the hub anything.  The tags of IRCv3 (C{time},
C{msgid}, C{batch}) go in front of the lines the table words, so the 512
bytes of a line are its own whatever tags it carries.
"""

from __future__ import annotations

from functools import cache
from typing import Callable

from zope.interface import implementer

from chatsvc import events
from chatsvc.i18n import translation
from chatsvc.interfaces import IRenderer
from chatsvc.irc import wire
from chatsvc.irc.modes import formatModes
from chatsvc.irc.wire import formatMessage, formatTime, withTags
from chatsvc.text import listNames

# How many names a crowd summary spells out.
MAX_CROWD_NAMES = 3

# Not a capability (no capability has a space) but a user mode that changes
# what a client is sent: C{-w}, no WALLOPS.
NO_WALLOPS = "user mode -w"

# The capabilities that change how events are worded: clients that share a
# set of them share a renderer.
RENDERING = frozenset(
    {
        "account-notify",
        "account-tag",
        "away-notify",
        "echo-message",
        "extended-join",
        "invite-notify",
        "message-tags",
        "server-time",
        "setname",
    }
)

# What a renderer is chosen by: those capabilities, and user mode -w.
_OPTIONS = RENDERING | {NO_WALLOPS}

# Events that get tags: those published to an audience (not the ERROR that
# ends a connection).
_TAGGED = frozenset(events.PUBLISHED)


def quitReason(reason: str | None) -> str:
    """
    A QUIT message's text, as IRC clients show it.
    """
    if reason in ("Ping timeout", "Excess Flood") or (reason or "").startswith("Killed ("):
        return reason
    return f"Quit: {reason}" if reason else "Client quit"


def relayedText(text: str, action: bool = False) -> str:
    """
    The text a message carries: an action as a CTCP ACTION.
    """
    return f"{wire.CTCP}ACTION {text}{wire.CTCP}" if action else text


def room(command: str, prefix: str, target: str) -> int:
    """
    How many bytes of text one IRC line (tags aside) of C{command} from
    C{prefix} to C{target} carries whole.
    """
    head = formatMessage(command, target, "", prefix=prefix)
    return wire.MAX_LINE_BYTES - len(head.encode("utf-8"))


def joinLine(identity: events.Identity, room: str, extended: bool = False) -> str:
    """
    The JOIN that tells of C{identity} coming into C{room}: with IRCv3
    C{extended-join}, its account (C{*}: none) and real name too.
    """
    channel = wire.channelName(room)
    if not extended:
        return formatMessage("JOIN", channel, prefix=identity.mask)
    return formatMessage(
        "JOIN", channel, identity.account or "*", identity.realname, prefix=identity.mask
    )


def inviteLine(inviter: events.Identity, room: str, guest: str) -> str:
    """
    C{:inviter INVITE guest #room}.
    """
    return formatMessage("INVITE", guest, wire.channelName(room), prefix=inviter.mask)


def chunks(command: str, prefix: str, target: str, text: str, action: bool = False) -> list[str]:
    """
    One message per piece of C{text} that fits in an IRC line: one message
    if it fits whole, as every IRC client's line does (the IRC front-end
    refuses the others with 417); several only for a native user's longer
    line.
    """
    whole = relayedText(text, action)
    line = formatMessage(command, target, whole, prefix=prefix)
    # Most lines fit whole: one formatting, no measuring.  formatMessage
    # cuts a line that is too long to within 3 bytes of the limit (between
    # characters), so a line shorter than that is whole.
    if len(line.encode("utf-8")) < wire.MAX_LINE_BYTES - 3:
        return [line]
    space = room(command, prefix, target)
    if len(whole.encode("utf-8")) <= space:
        return [line]
    pieces = wire.splitText(text, max(space - (len(whole) - len(text)), 16))
    return [formatMessage(command, target, relayedText(piece, action), prefix=prefix) for piece in pieces]


@implementer(IRenderer)
class IRCRenderer:
    """
    Words events for every IRC client of one server name and language.

    Obtain one with L{forServer}, so that all such clients share it and the
    delivery path renders each event once for all of them.

    @ivar capabilities: those of L{RENDERING} its clients negotiated:
        C{server-time} (a C{time} tag on every event), C{message-tags} (a
        C{msgid} tag: the event's id, and for the second and later piece of
        a line cut in several, the id and C{-2}, C{-3}...) and
        C{echo-message} (a client's own lines and private messages sent back
        to it as everyone else gets them); C{account-tag} (an C{account}
        tag on what logged-in people do), C{extended-join} (account and
        real name in JOIN), and C{account-notify}, C{away-notify},
        C{setname} and C{invite-notify}, without which ACCOUNT, AWAY,
        SETNAME and the INVITEs of others are not sent at all.
    """

    def __init__(
        self, serverName: str, language: str, capabilities: frozenset[str] = frozenset()
    ) -> None:
        self.serverName = serverName
        self.language = language
        self.capabilities = capabilities & _OPTIONS
        self._time = "server-time" in capabilities
        self._msgid = "message-tags" in capabilities
        self._echo = "echo-message" in capabilities
        self._accountTag = "account-tag" in capabilities
        self._extendedJoin = "extended-join" in capabilities
        self.notifiesInvites = "invite-notify" in capabilities
        self._notified = {
            kind
            for kind, capability in (
                (events.AccountChanged, "account-notify"),
                (events.AwayChanged, "away-notify"),
                (events.RealnameChanged, "setname"),
            )
            if capability in capabilities
        }
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
            events.Announcement: self._announcement,
            events.TimedOut: self._timedOut,
            events.ModeChanged: self._modeChanged,
            events.Kicked: self._kicked,
            events.Invited: self._invited,
            events.InviteNotice: self._inviteNotice,
            events.AccountChanged: self._accountChanged,
            events.AwayChanged: self._awayChanged,
            events.RealnameChanged: self._realnameChanged,
            events.Wallops: self._wallops,
            events.Killed: self._killed,
            events.Dropped: self._dropped,
            # Native clients' notices; IRC says these its own way.
            events.Welcome: self._nothing,
            events.Moved: self._nothing,
        }

    @classmethod
    def forServer(
        cls, serverName: str, language: str, capabilities: frozenset[str] = frozenset()
    ) -> IRCRenderer:
        """
        The renderer shared by every client of C{serverName} and C{language}
        whose capabilities are C{capabilities} (those not in L{RENDERING}
        make no difference).
        """
        return _shared(cls, serverName, language, frozenset(capabilities) & _OPTIONS)

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

    def tagged(self, event: events.Event, batch: str | None = None) -> list[str]:
        """
        L{lines} with the tags this renderer's clients get, and the
        reference tag of C{batch} if the lines are part of one.
        """
        lines = self.lines(event)
        account = None
        if self._accountTag and isinstance(event, events._Caused):
            account = event.sender.account
        if not lines or type(event) not in _TAGGED:
            return lines
        if not (self._time or self._msgid or batch or account):
            return lines
        common = [("batch", batch)] if batch else []
        if self._time:
            common.append(("time", formatTime(event.time)))
        if account:
            common.append(("account", account))
        if not (self._msgid and event.id):
            return [withTags(common, line) for line in lines]
        return [
            withTags([*common, ("msgid", event.id if n == 0 else f"{event.id}-{n + 1}")], line)
            for n, line in enumerate(lines)
        ]

    def render(self, event: events.Event) -> bytes:
        return "".join(line + "\r\n" for line in self.tagged(event)).encode("utf-8")

    def renderOwn(self, event: events.Event) -> bytes:
        # IRC clients show their own lines and private messages themselves,
        # unless they asked for them back (echo-message); a rename or a
        # topic they set comes back as the others see it.
        if not self._echo and isinstance(event, (events.Said, events.Acted, events.Whispered)):
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
        lines = [joinLine(event.sender, event.room, self._extendedJoin)]
        if event.away and events.AwayChanged in self._notified:
            # away-notify: whoever comes in away is said to be, at once.
            lines.append(formatMessage("AWAY", event.away, prefix=event.sender.mask))
        return lines

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

    def _announcement(self, event: events.Announcement) -> list[str]:
        t = translation(self.language)
        if event.what == "history-failing":
            text = t.gettext(
                "The server cannot save history just now; the chat goes on, "
                "but what is said may not be kept."
            )
        elif event.what == "history-back":
            text = t.gettext("The server saves history again.")
        else:
            raise TypeError(f"no IRC rendering for {event!r}")
        return [formatMessage("NOTICE", "*", f"*** {text}", prefix=self.serverName)]

    def _closing(self, event: events.Closing) -> list[str]:
        return [formatMessage("ERROR", "Closing Link: server shutting down")]

    def _timedOut(self, event: events.TimedOut) -> list[str]:
        return [formatMessage("ERROR", f"Closing Link: {event.host} (Registration timeout)")]

    def _modeChanged(self, event: events.ModeChanged) -> list[str]:
        return [
            formatMessage(
                "MODE",
                wire.channelName(event.room),
                *formatModes(event.changes),
                prefix=event.sender.mask,
            )
        ]

    def _kicked(self, event: events.Kicked) -> list[str]:
        return [
            formatMessage(
                "KICK",
                wire.channelName(event.room),
                event.nickname,
                event.reason or event.sender.nickname,
                prefix=event.sender.mask,
            )
        ]

    def _invited(self, event: events.Invited) -> list[str]:
        return [inviteLine(event.sender, event.room, event.nickname)]

    def _inviteNotice(self, event: events.InviteNotice) -> list[str]:
        # An operator hears of others' invitations only with invite-notify.
        if not self.notifiesInvites:
            return []
        return [inviteLine(event.sender, event.room, event.nickname)]

    def _accountChanged(self, event: events.AccountChanged) -> list[str]:
        if events.AccountChanged not in self._notified:
            return []
        return [formatMessage("ACCOUNT", event.account or "*", prefix=event.sender.mask)]

    def _awayChanged(self, event: events.AwayChanged) -> list[str]:
        if events.AwayChanged not in self._notified:
            return []
        extra = (event.message,) if event.message else ()
        return [formatMessage("AWAY", *extra, prefix=event.sender.mask)]

    def _realnameChanged(self, event: events.RealnameChanged) -> list[str]:
        if events.RealnameChanged not in self._notified:
            return []
        return [formatMessage("SETNAME", event.realname, prefix=event.sender.mask)]

    def _wallops(self, event: events.Wallops) -> list[str]:
        if NO_WALLOPS in self.capabilities:
            return []
        return [formatMessage("WALLOPS", event.text, prefix=event.sender.mask)]

    def _killed(self, event: events.Killed) -> list[str]:
        why = f"Killed ({event.sender.nickname} ({event.reason}))"
        return [formatMessage("ERROR", f"Closing Link: {self.serverName} ({why})")]

    def _dropped(self, event: events.Dropped) -> list[str]:
        # No KILL, no operator: the cluster let this client go, and it may
        # connect again at once (but for "taken", under another nickname).
        if event.why == "taken":
            why = f"Nickname {event.nickname} is in use on another server; choose another"
        elif event.why == "unreachable":
            why = "This server cannot check nicknames just now; please reconnect shortly"
        else:
            why = "This server lost touch with the rest of the chat; please reconnect"
        return [formatMessage("ERROR", f"Closing Link: {self.serverName} ({why})")]

    def _nothing(self, event: events.Event) -> list[str]:
        return []

    def __repr__(self) -> str:
        capabilities = " ".join(sorted(self.capabilities))
        return f"IRCRenderer({self.serverName!r}, {self.language!r}, {capabilities!r})"


@cache
def _shared(
    cls: type[IRCRenderer], serverName: str, language: str, capabilities: frozenset[str]
) -> IRCRenderer:
    return cls(serverName, language, capabilities)
