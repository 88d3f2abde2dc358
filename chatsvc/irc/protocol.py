"""
The IRC front-end: a thin protocol between C{chatsvc.irc.wire} and the hub.

One server, no services, no channel operators: what RFC 1459/2812 clients
need to register, chat in channels shared with native users, and ask
questions, with every other command answered by its numeric.
"""

from __future__ import annotations

import hmac
import time
from typing import Callable, Iterable

from twisted.internet.interfaces import IHalfCloseableProtocol, IReactorTime
from twisted.internet.protocol import ServerFactory
from twisted.logger import Logger
from zope.interface import implementer

from chatsvc import __version__, events
from chatsvc.errors import (
    AlreadyInRoom,
    ChatError,
    InvalidName,
    NicknameInUse,
    NoSuchNickname,
    NoSuchRoom,
    NotInRoom,
    TooManyConnections,
)
from chatsvc.hub import Hub, Member
from chatsvc.interfaces import IParticipant
from chatsvc.irc import wire
from chatsvc.irc.wire import formatMessage
from chatsvc.lines import DEFAULT_SEND_QUEUE, BoundedLineReceiver, FloodPolicy, Outbox
from chatsvc.names import MAX_NAME_LENGTH, checkRoomName
from chatsvc.native.wire import renderEvent
from chatsvc.i18n import translation

TOPICLEN = 390
AWAYLEN = 390
NETWORK = "chatsvc"
# Commands a client may send before it is registered.
BEFORE_REGISTRATION = {"CAP", "PASS", "NICK", "USER", "PING", "PONG", "QUIT"}
# Commands that exist in RFC 2812 but need powers nobody has here.
OPERATOR_ONLY = {"KICK", "KILL", "INVITE", "SQUIT", "CONNECT", "REHASH", "DIE", "RESTART", "WALLOPS"}


def isupportTokens() -> list[str]:
    """
    What the server tells clients about itself (005), truthfully.

    Nicknames are folded by Unicode case folding after NFKC, the nearest
    published mapping to which is RFC 8265's; nicknames and channel names
    never contain the characters on which ascii and rfc1459 disagree.
    There are no channel operators, so PREFIX is empty, and the only
    channel mode is n (no messages from outside).
    """
    return [
        "AWAYLEN=%d" % AWAYLEN,
        "CASEMAPPING=rfc8265",
        "CHANLIMIT=#:",
        "CHANMODES=,,,n",
        "CHANNELLEN=%d" % (MAX_NAME_LENGTH + 1),
        "CHANTYPES=#",
        "NETWORK=" + NETWORK,
        "NICKLEN=%d" % MAX_NAME_LENGTH,
        "PREFIX=",
        "TARGMAX=JOIN:,PART:,PRIVMSG:4,NOTICE:4,NAMES:,WHOIS:1",
        "TOPICLEN=%d" % TOPICLEN,
        "UTF8ONLY",
    ]


@implementer(IParticipant, IHalfCloseableProtocol)
class IRCProtocol(BoundedLineReceiver):
    """
    One IRC client.
    """

    log = Logger()
    maxLineBytes = wire.MAX_LINE_BYTES

    member: Member | None = None
    _idleCall = None
    _awaitingPong = False
    _nickname: str | None = None
    _user: tuple[str, str] | None = None
    _givenPassword: bytes | None = None
    _negotiating = False
    _closing = False
    _invisible = False

    def __init__(self, factory: IRCFactory) -> None:
        self.factory = factory
        self.hub = factory.hub

    # Connection

    def connectionMade(self) -> None:
        super().connectionMade()
        peer = self.transport.getPeer()
        host = getattr(peer, "host", "unknown")
        try:
            self.member = self.hub.connect(self, host=host)
        except TooManyConnections as error:
            self.log.info("refused IRC {peer}: {scope} limit", peer=peer, scope=error.scope)
            why = (
                "Too many connections from your address"
                if error.scope == "address"
                else "Server full"
            )
            self.send(formatMessage("ERROR", f"Closing Link: {host} ({why})"))
            self._closing = True
            self.loseConnection()
            return
        self._heard()

    def connectionLost(self, reason=None) -> None:
        super().connectionLost(reason)
        if self._idleCall is not None and self._idleCall.active():
            self._idleCall.cancel()
        if self.member is not None:
            self.hub.disconnect(self.member)

    def readConnectionLost(self) -> None:
        if self.member is not None:
            self.hub.disconnect(self.member)
        self.loseConnection()

    def writeConnectionLost(self) -> None:
        self.loseConnection()

    # Keeping alive: a client silent for pingInterval is sent a PING; one
    # silent for pingTimeout more is gone.

    def _heard(self) -> None:
        self._awaitingPong = False
        if self._idleCall is not None and self._idleCall.active():
            self._idleCall.reset(self.factory.pingInterval)
        else:
            self._idleCall = self.factory.clock.callLater(self.factory.pingInterval, self._silent)

    def _silent(self) -> None:
        server = self.factory.serverName
        if self._awaitingPong:
            self.log.info("IRC client {peer} timed out", peer=self.transport.getPeer())
            self.hub.disconnect(self.member, "Ping timeout")
            self.send(formatMessage("ERROR", f"Closing Link: {self.member.host} (Ping timeout)"))
            self._closing = True
            self.transport.abortConnection()
            return
        self._awaitingPong = True
        self.send(formatMessage("PING", server, prefix=server))
        self._idleCall = self.factory.clock.callLater(self.factory.pingTimeout, self._silent)

    # Framing

    def dataReceived(self, data: bytes) -> None:
        if self._closing:
            return
        self._heard()
        super().dataReceived(data)

    def textReceived(self, text: str) -> None:
        if self._closing:
            return
        message = wire.parseMessage(text)
        if message is None:
            return
        command = message.command
        if self.member.nickname is None and command not in BEFORE_REGISTRATION:
            self.reply(wire.ERR_NOTREGISTERED, "You have not registered")
            return
        handler = getattr(self, "irc_" + command, None)
        if handler is None:
            if command in OPERATOR_ONLY:
                channel = message.params[0] if message.params else "*"
                self.reply(wire.ERR_CHANOPRIVSNEEDED, channel, "You're not a channel operator")
            else:
                self.reply(wire.ERR_UNKNOWNCOMMAND, command, "Unknown command")
            return
        handler(message.params)

    def lineTooLong(self) -> None:
        self.reply(wire.ERR_INPUTTOOLONG, "Input line was too long")

    def undecodableLine(self, line: bytes) -> None:
        command = line.split(b" ", 2)
        name = command[1] if line.startswith((b":", b"@")) and len(command) > 1 else command[0]
        name = name.decode("ascii", "replace").upper() or "*"
        self.send(
            formatMessage(
                "FAIL",
                name,
                "INVALID_UTF8",
                "Message rejected: this server speaks UTF-8 only",
                prefix=self.factory.serverName,
            )
        )

    def floodWarned(self) -> None:
        policy = self.floodPolicy
        self.send(
            formatMessage(
                "NOTICE",
                self.member.nickname or "*",
                f"*** Slow down: {policy.burst} lines at once, then {policy.rate:g} "
                "a second; the rest wait their turn.",
                prefix=self.factory.serverName,
            )
        )

    def floodExceeded(self) -> None:
        self.log.info("IRC {peer} kept flooding; disconnecting", peer=self.transport.getPeer())
        self.hub.disconnect(self.member, "Excess Flood")
        self.send(formatMessage("ERROR", f"Closing Link: {self.member.host} (Excess Flood)"))
        self._closing = True
        self.loseConnection()

    def sendQueueOverflowed(self) -> None:
        self.log.warn("IRC client {peer} stopped reading", peer=self.transport.getPeer())
        self.transport.abortConnection()

    # Output

    def send(self, line: str) -> None:
        self.write(line.encode("utf-8") + b"\r\n")

    def sendMany(self, lines: Iterable[str]) -> None:
        self.write("".join(line + "\r\n" for line in lines).encode("utf-8"))

    def reply(self, numeric: str, *params: str) -> None:
        self.send(self.numeric(numeric, *params))

    def numeric(self, numeric: str, *params: str) -> str:
        target = self.member.nickname or self._nickname or "*"
        return formatMessage(numeric, target, *params, prefix=self.factory.serverName)

    def mask(self, nickname: str) -> str:
        return self.factory.mask(nickname)

    # IParticipant

    def deliver(self, event: events.Event) -> None:
        if self._closing:
            return
        me = self.member.nickname
        if isinstance(event, (events.Said, events.Acted)) and event.nickname == me:
            # IRC clients show their own lines themselves.
            return
        if isinstance(event, events.Whispered) and event.recipient != me:
            return
        if isinstance(event, events.TimedOut):
            self.send(formatMessage("ERROR", f"Closing Link: {self.member.host} (Registration timeout)"))
            self._closing = True
            self.loseConnection()
            return
        data = self.factory.encode(event)
        if data:
            self.write(data)
        if isinstance(event, events.Closing):
            self._closing = True
            self.loseConnection()

    def close(self) -> None:
        self.transport.abortConnection()

    def _quitReason(self, reason: str | None) -> str:
        return quitReason(reason)

    # Registration

    def irc_CAP(self, params: tuple[str, ...]) -> None:
        if not params:
            self.reply(wire.ERR_NEEDMOREPARAMS, "CAP", "Not enough parameters")
            return
        subcommand = params[0].upper()
        target = self.member.nickname or "*"
        if subcommand == "LS":
            if self.member.nickname is None:
                self._negotiating = True
            self.send(formatMessage("CAP", target, "LS", "", prefix=self.factory.serverName))
        elif subcommand == "LIST":
            self.send(formatMessage("CAP", target, "LIST", "", prefix=self.factory.serverName))
        elif subcommand == "REQ":
            if self.member.nickname is None:
                self._negotiating = True
            requested = params[1] if len(params) > 1 else ""
            self.send(formatMessage("CAP", target, "NAK", requested, prefix=self.factory.serverName))
        elif subcommand == "END":
            self._negotiating = False
            self._tryRegistration()
        else:
            self.reply(wire.ERR_INVALIDCAPCMD, subcommand, "Invalid CAP command")

    def irc_PASS(self, params: tuple[str, ...]) -> None:
        if self.member.nickname is not None:
            self.reply(wire.ERR_ALREADYREGISTERED, "You may not reregister")
        elif not params:
            self.reply(wire.ERR_NEEDMOREPARAMS, "PASS", "Not enough parameters")
        else:
            # Checked when registration completes, as RFC 2812 has it.
            self._givenPassword = params[0].encode("utf-8")

    def irc_NICK(self, params: tuple[str, ...]) -> None:
        if not params or not params[0]:
            self.reply(wire.ERR_NONICKNAMEGIVEN, "No nickname given")
            return
        wanted = params[0]
        try:
            if self.member.nickname is None:
                self._nickname = self.hub.checkAvailable(wanted)
                self._tryRegistration()
            else:
                self.hub.rename(self.member, wanted)
        except InvalidName:
            self.reply(wire.ERR_ERRONEUSNICKNAME, wanted, "Erroneous nickname")
        except NicknameInUse:
            self.reply(wire.ERR_NICKNAMEINUSE, wanted, "Nickname is already in use")

    def irc_USER(self, params: tuple[str, ...]) -> None:
        if self.member.nickname is not None:
            self.reply(wire.ERR_ALREADYREGISTERED, "You may not reregister")
            return
        if len(params) < 4 or not params[0]:
            self.reply(wire.ERR_NEEDMOREPARAMS, "USER", "Not enough parameters")
            return
        username = "".join(c for c in params[0] if c.isascii() and (c.isalnum() or c in "-_."))
        self._user = ("~" + (username[:10] or "user"), params[3])
        self._tryRegistration()

    def _tryRegistration(self) -> None:
        if self._negotiating or self._nickname is None or self._user is None:
            return
        password = self.factory.password
        if password is not None and not hmac.compare_digest(
            self._givenPassword or b"", password
        ):
            self.log.info("wrong IRC password from {peer}", peer=self.transport.getPeer())
            self.reply(wire.ERR_PASSWDMISMATCH, "Password incorrect")
            self.send(formatMessage("ERROR", f"Closing Link: {self.member.host} (Bad password)"))
            self._closing = True
            self.loseConnection()
            return
        self.member.username, self.member.realname = self._user
        try:
            self.hub.register(self.member, self._nickname, enter=False)
        except ChatError:
            # Taken between NICK and now.
            self.reply(wire.ERR_NICKNAMEINUSE, self._nickname, "Nickname is already in use")
            self._nickname = None
            return
        self._welcome()

    def _welcome(self) -> None:
        me = self.member.nickname
        server = self.factory.serverName
        tokens = isupportTokens()
        lines = [
            self.numeric(wire.RPL_WELCOME, f"Welcome to the {NETWORK} IRC network {self.mask(me)}"),
            self.numeric(wire.RPL_YOURHOST, f"Your host is {server}, running version chatsvc-{__version__}"),
            self.numeric(wire.RPL_CREATED, f"This server was created {self.factory.created}"),
            self.numeric(wire.RPL_MYINFO, server, f"chatsvc-{__version__}", "i", "n"),
        ]
        for start in range(0, len(tokens), 12):
            lines.append(
                self.numeric(wire.RPL_ISUPPORT, *tokens[start : start + 12], "are supported by this server")
            )
        self.sendMany(lines)
        self.irc_LUSERS(())
        self.irc_MOTD(())

    # Keeping alive and leaving

    def irc_PING(self, params: tuple[str, ...]) -> None:
        if not params or not params[0]:
            self.reply(wire.ERR_NOORIGIN, "No origin specified")
            return
        server = self.factory.serverName
        self.send(formatMessage("PONG", server, params[0], prefix=server))

    def irc_PONG(self, params: tuple[str, ...]) -> None:
        pass

    def irc_QUIT(self, params: tuple[str, ...]) -> None:
        reason = params[0] if params else None
        self.hub.disconnect(self.member, reason)
        self.send(formatMessage("ERROR", f"Closing Link: {self.member.host} ({self._quitReason(reason)})"))
        self._closing = True
        self.loseConnection()

    # Channels

    def _roomName(self, channel: str) -> str | None:
        """
        The room a channel name stands for, or None (after replying) if the
        name is not one.
        """
        if not channel.startswith("#"):
            self.reply(wire.ERR_NOSUCHCHANNEL, channel, "No such channel")
            return None
        try:
            return checkRoomName(channel[1:])
        except InvalidName:
            self.reply(wire.ERR_BADCHANNAME, channel, "Illegal channel name")
            return None

    def irc_JOIN(self, params: tuple[str, ...]) -> None:
        if not params or not params[0]:
            self.reply(wire.ERR_NEEDMOREPARAMS, "JOIN", "Not enough parameters")
            return
        if params[0] == "0":
            for room in list(self.member.rooms):
                self.irc_PART((wire.channelName(room.name),))
            return
        for channel in params[0].split(","):
            name = self._roomName(channel)
            if name is None:
                continue
            try:
                room = self.hub.enter(self.member, name)
            except AlreadyInRoom:
                continue
            channel = wire.channelName(room.name)
            self.send(formatMessage("JOIN", channel, prefix=self.mask(self.member.nickname)))
            if room.topic:
                self.reply(wire.RPL_TOPIC, channel, room.topic)
            self._names(room)

    def irc_PART(self, params: tuple[str, ...]) -> None:
        if not params or not params[0]:
            self.reply(wire.ERR_NEEDMOREPARAMS, "PART", "Not enough parameters")
            return
        reason = params[1] if len(params) > 1 and params[1] else None
        for channel in params[0].split(","):
            try:
                room = self.hub.part(self.member, channel.removeprefix("#"), reason)
            except NoSuchRoom:
                self.reply(wire.ERR_NOSUCHCHANNEL, channel, "No such channel")
                continue
            except NotInRoom:
                self.reply(wire.ERR_NOTONCHANNEL, channel, "You're not on that channel")
                continue
            extra = (reason,) if reason else ()
            self.send(
                formatMessage(
                    "PART", wire.channelName(room.name), *extra,
                    prefix=self.mask(self.member.nickname),
                )
            )

    def irc_TOPIC(self, params: tuple[str, ...]) -> None:
        if not params:
            self.reply(wire.ERR_NEEDMOREPARAMS, "TOPIC", "Not enough parameters")
            return
        channel = params[0]
        try:
            room = self.hub.room(channel.removeprefix("#"))
        except NoSuchRoom:
            self.reply(wire.ERR_NOSUCHCHANNEL, channel, "No such channel")
            return
        channel = wire.channelName(room.name)
        if len(params) == 1:
            if room.topic:
                self.reply(wire.RPL_TOPIC, channel, room.topic)
            else:
                self.reply(wire.RPL_NOTOPIC, channel, "No topic is set")
            return
        try:
            self.hub.setTopic(self.member, room.name, params[1][:TOPICLEN])
        except NotInRoom:
            self.reply(wire.ERR_NOTONCHANNEL, channel, "You're not on that channel")

    def _names(self, room) -> None:
        channel = wire.channelName(room.name)
        head = self.numeric(wire.RPL_NAMREPLY, "=", channel, "x")
        budget = 510 - len(head.encode("utf-8"))
        lines, current = [], []
        size = 0
        for member in room.members:
            nickname = member.nickname
            length = len(nickname.encode("utf-8")) + 1
            if current and size + length > budget:
                lines.append(self.numeric(wire.RPL_NAMREPLY, "=", channel, " ".join(current)))
                current, size = [], 0
            current.append(nickname)
            size += length
        if current:
            lines.append(self.numeric(wire.RPL_NAMREPLY, "=", channel, " ".join(current)))
        lines.append(self.numeric(wire.RPL_ENDOFNAMES, channel, "End of /NAMES list"))
        self.sendMany(lines)

    def irc_NAMES(self, params: tuple[str, ...]) -> None:
        if not params or not params[0]:
            self.reply(wire.RPL_ENDOFNAMES, "*", "End of /NAMES list")
            return
        for channel in params[0].split(","):
            try:
                self._names(self.hub.room(channel.removeprefix("#")))
            except NoSuchRoom:
                self.reply(wire.RPL_ENDOFNAMES, channel, "End of /NAMES list")

    def irc_LIST(self, params: tuple[str, ...]) -> None:
        wanted = None
        if params and params[0]:
            wanted = {channel.removeprefix("#").casefold() for channel in params[0].split(",")}
        lines = [self.numeric(wire.RPL_LISTSTART, "Channel", "Users  Name")]
        for room in self.hub.rooms():
            if wanted is None or room.name.casefold() in wanted:
                lines.append(
                    self.numeric(wire.RPL_LIST, wire.channelName(room.name), str(len(room.members)), room.topic)
                )
        lines.append(self.numeric(wire.RPL_LISTEND, "End of /LIST"))
        self.sendMany(lines)

    # Messages

    def irc_PRIVMSG(self, params: tuple[str, ...], notice: bool = False) -> None:
        command = "NOTICE" if notice else "PRIVMSG"
        # A NOTICE never causes an automatic reply, errors included.
        answer: Callable[..., None] = (lambda *a: None) if notice else self.reply
        if not params or not params[0]:
            answer(wire.ERR_NORECIPIENT, f"No recipient given ({command})")
            return
        if len(params) < 2 or not params[1]:
            answer(wire.ERR_NOTEXTTOSEND, "No text to send")
            return
        text = params[1]
        action = wire.ctcpAction(text)
        for target in params[0].split(",")[:4]:
            try:
                if target.startswith("#"):
                    room = target[1:]
                    if action is not None:
                        self.hub.act(self.member, action, room)
                    else:
                        self.hub.say(self.member, text, room, notice=notice)
                else:
                    recipient = self.hub.whisper(
                        self.member, target,
                        action if action is not None else text,
                        action=action is not None, notice=notice,
                    )
                    if recipient.away and not notice:
                        self.reply(wire.RPL_AWAY, recipient.nickname, recipient.away)
            except (NoSuchRoom, InvalidName):
                answer(wire.ERR_NOSUCHCHANNEL, target, "No such channel")
            except NotInRoom:
                answer(wire.ERR_CANNOTSENDTOCHAN, target, "Cannot send to channel")
            except NoSuchNickname:
                answer(wire.ERR_NOSUCHNICK, target, "No such nick/channel")

    def irc_NOTICE(self, params: tuple[str, ...]) -> None:
        self.irc_PRIVMSG(params, notice=True)

    # Questions about people

    def irc_WHO(self, params: tuple[str, ...]) -> None:
        mask = params[0] if params and params[0] else "*"
        lines = []
        if mask.startswith("#"):
            try:
                room = self.hub.room(mask[1:])
                members = [(wire.channelName(room.name), member) for member in room.members]
            except NoSuchRoom:
                members = []
        else:
            try:
                member = self.hub.find(mask)
                room = member.room
                members = [(wire.channelName(room.name) if room else "*", member)]
            except (NoSuchNickname, InvalidName):
                members = []
        for channel, member in members:
            flags = "G" if member.away else "H"
            lines.append(
                self.numeric(
                    wire.RPL_WHOREPLY, channel, member.username, member.host,
                    self.factory.serverName, member.nickname, flags, f"0 {member.realname}",
                )
            )
        lines.append(self.numeric(wire.RPL_ENDOFWHO, mask, "End of /WHO list"))
        self.sendMany(lines)

    def irc_WHOIS(self, params: tuple[str, ...]) -> None:
        if not params or not params[-1]:
            self.reply(wire.ERR_NONICKNAMEGIVEN, "No nickname given")
            return
        nickname = params[-1].split(",")[0]
        try:
            member = self.hub.find(nickname)
        except (NoSuchNickname, InvalidName):
            self.sendMany([
                self.numeric(wire.ERR_NOSUCHNICK, nickname, "No such nick/channel"),
                self.numeric(wire.RPL_ENDOFWHOIS, nickname, "End of /WHOIS list"),
            ])
            return
        now = self.factory.clock.seconds()
        name = member.nickname
        lines = [
            self.numeric(wire.RPL_WHOISUSER, name, member.username, member.host, "*", member.realname),
        ]
        if member.rooms:
            lines.append(
                self.numeric(
                    wire.RPL_WHOISCHANNELS, name,
                    " ".join(wire.channelName(room.name) for room in member.rooms),
                )
            )
        lines.append(self.numeric(wire.RPL_WHOISSERVER, name, self.factory.serverName, "chatsvc"))
        if member.away:
            lines.append(self.numeric(wire.RPL_AWAY, name, member.away))
        lines.append(
            self.numeric(
                wire.RPL_WHOISIDLE, name, str(int(now - member.lastSpoke)),
                str(int(self.factory.epoch(member.signon))), "seconds idle, signon time",
            )
        )
        lines.append(self.numeric(wire.RPL_ENDOFWHOIS, name, "End of /WHOIS list"))
        self.sendMany(lines)

    def irc_WHOWAS(self, params: tuple[str, ...]) -> None:
        if not params or not params[0]:
            self.reply(wire.ERR_NONICKNAMEGIVEN, "No nickname given")
            return
        self.sendMany([
            self.numeric(wire.ERR_WASNOSUCHNICK, params[0], "There was no such nickname"),
            self.numeric(wire.RPL_ENDOFWHOWAS, params[0], "End of WHOWAS"),
        ])

    def irc_ISON(self, params: tuple[str, ...]) -> None:
        online = []
        for nickname in " ".join(params).split():
            try:
                online.append(self.hub.find(nickname).nickname)
            except (NoSuchNickname, InvalidName):
                pass
        self.reply(wire.RPL_ISON, " ".join(online))

    def irc_USERHOST(self, params: tuple[str, ...]) -> None:
        found = []
        for nickname in params[:5]:
            try:
                member = self.hub.find(nickname)
            except (NoSuchNickname, InvalidName):
                continue
            sign = "-" if member.away else "+"
            found.append(f"{member.nickname}={sign}{member.username}@{member.host}")
        self.reply(wire.RPL_USERHOST, " ".join(found))

    def irc_AWAY(self, params: tuple[str, ...]) -> None:
        message = params[0][:AWAYLEN] if params else ""
        self.hub.setAway(self.member, message or None)
        if message:
            self.reply(wire.RPL_NOWAWAY, "You have been marked as being away")
        else:
            self.reply(wire.RPL_UNAWAY, "You are no longer marked as being away")

    # Questions about the server

    def irc_LUSERS(self, params: tuple[str, ...]) -> None:
        users = self.hub.registeredCount()
        unknown = len(self.hub.members) - users
        self.sendMany([
            self.numeric(wire.RPL_LUSERCLIENT, f"There are {users} users and 0 invisible on 1 servers"),
            self.numeric(wire.RPL_LUSEROP, "0", "operator(s) online"),
            self.numeric(wire.RPL_LUSERUNKNOWN, str(unknown), "unknown connection(s)"),
            self.numeric(wire.RPL_LUSERCHANNELS, str(len(self.hub.rooms())), "channels formed"),
            self.numeric(wire.RPL_LUSERME, f"I have {users} clients and 0 servers"),
        ])

    def irc_MOTD(self, params: tuple[str, ...]) -> None:
        motd = self.factory.motd
        if not motd:
            self.reply(wire.ERR_NOMOTD, "MOTD File is missing")
            return
        server = self.factory.serverName
        lines = [self.numeric(wire.RPL_MOTDSTART, f"- {server} Message of the day - ")]
        lines += [self.numeric(wire.RPL_MOTD, f"- {line}") for line in motd]
        lines.append(self.numeric(wire.RPL_ENDOFMOTD, "End of /MOTD command."))
        self.sendMany(lines)

    def irc_VERSION(self, params: tuple[str, ...]) -> None:
        self.reply(wire.RPL_VERSION, f"chatsvc-{__version__}.", self.factory.serverName, "")

    def irc_TIME(self, params: tuple[str, ...]) -> None:
        now = self.factory.epoch(self.factory.clock.seconds())
        self.reply(wire.RPL_TIME, self.factory.serverName, time.strftime("%a %b %d %Y %H:%M:%S UTC", time.gmtime(now)))

    def irc_MODE(self, params: tuple[str, ...]) -> None:
        if not params or not params[0]:
            self.reply(wire.ERR_NEEDMOREPARAMS, "MODE", "Not enough parameters")
            return
        target = params[0]
        if target.startswith("#"):
            try:
                room = self.hub.room(target[1:])
            except NoSuchRoom:
                self.reply(wire.ERR_NOSUCHCHANNEL, target, "No such channel")
                return
            channel = wire.channelName(room.name)
            if len(params) == 1:
                self.reply(wire.RPL_CHANNELMODEIS, channel, "+n")
            elif params[1].lstrip("+") == "b" and len(params) == 2:
                self.reply(wire.RPL_ENDOFBANLIST, channel, "End of channel ban list")
            else:
                self.reply(wire.ERR_CHANOPRIVSNEEDED, channel, "You're not a channel operator")
            return
        try:
            member = self.hub.find(target)
        except (NoSuchNickname, InvalidName):
            self.reply(wire.ERR_NOSUCHNICK, target, "No such nick/channel")
            return
        if member is not self.member:
            self.reply(wire.ERR_USERSDONTMATCH, "Can't change mode for other users")
            return
        if len(params) == 1:
            self.reply(wire.RPL_UMODEIS, "+i" if self._invisible else "+")
            return
        self._setUserModes(params[1])

    def _setUserModes(self, modes: str) -> None:
        adding = True
        changed = ""
        unknown = False
        for flag in modes:
            if flag in "+-":
                adding = flag == "+"
            elif flag == "i":
                if self._invisible != adding:
                    self._invisible = adding
                    changed += ("+" if adding else "-") + "i"
            else:
                unknown = True
        if changed:
            me = self.member.nickname
            self.send(formatMessage("MODE", me, changed, prefix=self.mask(me)))
        if unknown:
            self.reply(wire.ERR_UMODEUNKNOWNFLAG, "Unknown MODE flag")

    def irc_OPER(self, params: tuple[str, ...]) -> None:
        if len(params) < 2:
            self.reply(wire.ERR_NEEDMOREPARAMS, "OPER", "Not enough parameters")
        else:
            self.reply(wire.ERR_NOOPERHOST, "No O-lines for your host")


def quitReason(reason: str | None) -> str:
    """
    A QUIT message's text, as IRC clients show it.
    """
    if reason == "Ping timeout":
        return reason
    return f"Quit: {reason}" if reason else "Client quit"


class IRCFactory(ServerFactory):
    """
    Builds an L{IRCProtocol} per connection, all sharing one hub.

    @ivar created: when the server started, as shown in 003.
    @ivar pingInterval: seconds of silence before the server sends a PING.
    @ivar pingTimeout: seconds after that PING before the client is dropped.
    """

    pingInterval = 90.0
    pingTimeout = 60.0
    _lastEvent: object = None
    _lastBytes = b""

    def __init__(
        self,
        hub: Hub,
        clock: IReactorTime,
        serverName: str = "chatsvc",
        motd: list[str] | None = None,
        wallClock: Callable[[], float] = time.time,
        sendQueueLimit: int = DEFAULT_SEND_QUEUE,
        password: bytes | None = None,
        floodPolicy: FloodPolicy | None = None,
        outbox: Outbox | None = None,
    ) -> None:
        self.hub = hub
        self.outbox = outbox
        self.sendQueueLimit = sendQueueLimit
        self.password = password
        self.floodPolicy = floodPolicy
        self.clock = clock
        self.serverName = serverName
        self.motd = motd if motd is not None else ["Welcome to chatsvc."]
        self._wallClock = wallClock
        self.created = "at start-up"

    def startFactory(self) -> None:
        self.created = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self._wallClock()))
        self._offset = self._wallClock() - self.clock.seconds()

    def epoch(self, seconds: float) -> float:
        """
        The Unix time of a moment on the hub's clock.
        """
        return seconds + getattr(self, "_offset", 0.0)

    def buildProtocol(self, addr) -> IRCProtocol:
        protocol = IRCProtocol(self)
        protocol.sendQueueLimit = self.sendQueueLimit
        protocol.outbox = self.outbox
        if self.floodPolicy is not None:
            protocol.floodPolicy = self.floodPolicy
            protocol.floodClock = self.clock
        return protocol

    def mask(self, nickname: str) -> str:
        """
        C{nick!user@host} for C{nickname}, as IRC prefixes name people.
        """
        try:
            member = self.hub.find(nickname)
        except NoSuchNickname:
            return f"{nickname}!{nickname}@{self.serverName}"
        return f"{nickname}!{member.username}@{member.host}"

    def encode(self, event: events.Event) -> bytes:
        """
        L{render} as wire bytes, worked out once per event.

        The hub hands one event object to every recipient in turn, so
        remembering the last one by identity makes a line said to a channel
        of n cost one rendering, not n, without hashing anything and without
        ever serving a description of people that has since changed.
        """
        if event is not self._lastEvent:
            self._lastEvent = event
            self._lastBytes = "".join(
                line + "\r\n" for line in self.render(event)
            ).encode("utf-8")
        return self._lastBytes

    def render(self, event: events.Event) -> list[str]:
        """
        The IRC lines that tell a client of C{event}; the same for every
        recipient (own lines and others' private messages are filtered out
        before).
        """
        if isinstance(event, (events.Said, events.Acted)):
            text = event.text
            command = "PRIVMSG"
            if isinstance(event, events.Acted):
                return self._chunks(
                    "PRIVMSG", self.mask(event.nickname), wire.channelName(event.room),
                    event.text, action=True,
                )
            if event.notice:
                command = "NOTICE"
            return self._chunks(command, self.mask(event.nickname), wire.channelName(event.room), text)
        if isinstance(event, events.Whispered):
            command = "NOTICE" if event.notice else "PRIVMSG"
            return self._chunks(
                command, self.mask(event.sender), event.recipient, event.text,
                action=event.action,
            )
        if isinstance(event, (events.Joined, events.Arrived)):
            return [formatMessage("JOIN", wire.channelName(event.room), prefix=self.mask(event.nickname))]
        if isinstance(event, events.Departed):
            return [
                formatMessage(
                    "PART",
                    wire.channelName(event.room),
                    f"went to #{event.destination}",
                    prefix=self.mask(event.nickname),
                )
            ]
        if isinstance(event, events.Parted):
            params = [wire.channelName(event.room)]
            if event.reason:
                params.append(event.reason)
            return [formatMessage("PART", *params, prefix=self.mask(event.nickname))]
        if isinstance(event, events.Left):
            return [
                formatMessage(
                    "QUIT", quitReason(event.reason), prefix=self.mask(event.nickname)
                )
            ]
        if isinstance(event, events.Renamed):
            member = self.hub.find(event.new)
            prefix = f"{event.old}!{member.username}@{member.host}"
            return [formatMessage("NICK", event.new, prefix=prefix)]
        if isinstance(event, events.TopicChanged):
            return [
                formatMessage(
                    "TOPIC", wire.channelName(event.room), event.topic,
                    prefix=self.mask(event.nickname),
                )
            ]
        if isinstance(event, events.Crowd):
            summary = renderEvent(event, translation("en"), None)
            return [
                formatMessage("NOTICE", wire.channelName(event.room), line, prefix=self.serverName)
                for line in summary.split("\n")
            ]
        if isinstance(event, events.Closing):
            return [formatMessage("ERROR", "Closing Link: server shutting down")]
        # Welcome and Moved concern native clients only.
        return []

    def _chunks(
        self, command: str, prefix: str, target: str, text: str, action: bool = False
    ) -> list[str]:
        """
        One message per piece of C{text} that fits in an IRC line.
        """
        head = formatMessage(command, target, "x", prefix=prefix)
        room = 512 - 2 - len(head.encode("utf-8")) - (len("ACTION ") + 2 if action else 0)
        pieces = wire.splitText(text, max(room, 16))
        if action:
            pieces = [f"{wire.CTCP}ACTION {piece}{wire.CTCP}" for piece in pieces]
        return [formatMessage(command, target, piece, prefix=prefix) for piece in pieces]

