"""
IRC messages as pure values: parse a line, format a line, split long text.

Parsing is lenient where real clients are sloppy (repeated spaces, a missing
trailing colon, IRCv3 tags that were not negotiated).  Formatting is strict:
whatever a parameter holds, the result is one line, so no CR, LF or NUL can
ever reach another client's stream.

IRCv3 message tags (C{@time=...;msgid=... :nick!user@host PRIVMSG ...}) are
formatted and parsed here too, with their escaping, and so are the
timestamps of C{server-time}.
"""

from __future__ import annotations

import time
from calendar import timegm
from typing import Iterable

from attrs import frozen

# RFC 1459: 512 bytes including the CR LF.
MAX_LINE_BYTES = 510
# IRCv3 message tags: at most 4094 bytes of tag data from a client, between
# the "@" and the space, on top of the 512 bytes of the message itself.
MAX_TAG_DATA_BYTES = 4094
MAX_CLIENT_LINE_BYTES = 1 + MAX_TAG_DATA_BYTES + 1 + MAX_LINE_BYTES

RPL_WELCOME = "001"
RPL_YOURHOST = "002"
RPL_CREATED = "003"
RPL_MYINFO = "004"
RPL_ISUPPORT = "005"
RPL_UMODEIS = "221"
RPL_LUSERCLIENT = "251"
RPL_LUSEROP = "252"
RPL_LUSERUNKNOWN = "253"
RPL_LUSERCHANNELS = "254"
RPL_LUSERME = "255"
RPL_LOCALUSERS = "265"
RPL_GLOBALUSERS = "266"
RPL_AWAY = "301"
RPL_USERHOST = "302"
RPL_ISON = "303"
RPL_UNAWAY = "305"
RPL_NOWAWAY = "306"
RPL_WHOISUSER = "311"
RPL_WHOISSERVER = "312"
RPL_WHOWASUSER = "314"
RPL_ENDOFWHO = "315"
RPL_WHOISIDLE = "317"
RPL_ENDOFWHOIS = "318"
RPL_WHOISCHANNELS = "319"
RPL_LISTSTART = "321"
RPL_LIST = "322"
RPL_LISTEND = "323"
RPL_CHANNELMODEIS = "324"
RPL_WHOISACCOUNT = "330"
RPL_NOTOPIC = "331"
RPL_TOPIC = "332"
RPL_VERSION = "351"
RPL_WHOREPLY = "352"
RPL_NAMREPLY = "353"
RPL_LINKS = "364"
RPL_ENDOFLINKS = "365"
RPL_ENDOFNAMES = "366"
RPL_ENDOFBANLIST = "368"
RPL_ENDOFWHOWAS = "369"
RPL_INFO = "371"
RPL_MOTD = "372"
RPL_ENDOFINFO = "374"
RPL_MOTDSTART = "375"
RPL_ENDOFMOTD = "376"
RPL_TIME = "391"
ERR_NOSUCHNICK = "401"
ERR_NOSUCHCHANNEL = "403"
ERR_CANNOTSENDTOCHAN = "404"
ERR_TOOMANYCHANNELS = "405"
ERR_WASNOSUCHNICK = "406"
ERR_NOORIGIN = "409"
ERR_INVALIDCAPCMD = "410"
ERR_NORECIPIENT = "411"
ERR_NOTEXTTOSEND = "412"
ERR_INPUTTOOLONG = "417"
ERR_UNKNOWNCOMMAND = "421"
ERR_NOMOTD = "422"
ERR_NONICKNAMEGIVEN = "431"
ERR_ERRONEUSNICKNAME = "432"
ERR_NICKNAMEINUSE = "433"
ERR_NOTONCHANNEL = "442"
ERR_USERONCHANNEL = "443"
ERR_NOTREGISTERED = "451"
ERR_NEEDMOREPARAMS = "461"
ERR_ALREADYREGISTERED = "462"
ERR_PASSWDMISMATCH = "464"
ERR_BADCHANNAME = "479"
ERR_CHANOPRIVSNEEDED = "482"
ERR_NOOPERHOST = "491"
ERR_UMODEUNKNOWNFLAG = "501"
ERR_USERSDONTMATCH = "502"
ERR_HELPNOTFOUND = "524"
RPL_HELPSTART = "704"
RPL_HELPTXT = "705"
RPL_ENDOFHELP = "706"

# Channel moderation, accounts (SASL) and server operators.
RPL_CREATIONTIME = "329"
RPL_WHOISACCOUNT = "330"
RPL_TOPICWHOTIME = "333"
RPL_INVITING = "341"
RPL_BANLIST = "367"
RPL_YOUREOPER = "381"
RPL_WHOISOPERATOR = "313"
ERR_USERNOTINCHANNEL = "441"
ERR_CHANNELISFULL = "471"
ERR_UNKNOWNMODE = "472"
ERR_INVITEONLYCHAN = "473"
ERR_BANNEDFROMCHAN = "474"
ERR_BADCHANNELKEY = "475"
ERR_BANLISTFULL = "478"
ERR_NOPRIVILEGES = "481"
ERR_INVALIDMODEPARAM = "696"
RPL_LOGGEDIN = "900"
RPL_SASLSUCCESS = "903"
ERR_SASLFAIL = "904"
ERR_SASLTOOLONG = "905"
ERR_SASLABORTED = "906"
ERR_SASLALREADY = "907"
RPL_SASLMECHS = "908"

CTCP = "\x01"

_UNSAFE = str.maketrans({"\r": " ", "\n": " ", "\x00": " "})


@frozen
class Message:
    """
    One IRC message; C{params} holds the trailing parameter last, if any.
    """

    command: str
    params: tuple[str, ...] = ()
    prefix: str | None = None


def parseMessage(line: str) -> Message | None:
    """
    Parse one line (without its line ending); C{None} for a blank line.

    Tags (C{@a=b;c }) are skipped: the server acts on none a client sends
    (L{splitTags} and L{parseTags} read them).  The command is upper-cased;
    parameters are split on runs of spaces, and everything after a
    parameter that starts with C{:} is the trailing one.
    """
    rest = line.lstrip(" ")
    if rest.startswith("@"):
        _, _, rest = rest.partition(" ")
        rest = rest.lstrip(" ")
    prefix = None
    if rest.startswith(":"):
        prefix, _, rest = rest[1:].partition(" ")
        rest = rest.lstrip(" ")
    if not rest:
        return None
    params: list[str] = []
    command, _, rest = rest.partition(" ")
    while rest:
        rest = rest.lstrip(" ")
        if not rest:
            break
        if rest.startswith(":"):
            params.append(rest[1:])
            break
        param, _, rest = rest.partition(" ")
        params.append(param)
    return Message(command.upper(), tuple(params), prefix)


def formatMessage(command: str, *params: str, prefix: str | None = None) -> str:
    """
    One IRC line (without its line ending) that parses back to its parts and
    fits in L{MAX_LINE_BYTES}.

    CR, LF and NUL in any part become spaces.  The last of two or more
    parameters is always sent as the trailing one (C{:text}), as clients
    expect of text; a lone parameter only when it must be.  A middle
    parameter cannot hold a space or be empty, so such a one is mended.  A
    line that would be too long loses the end of its last parameter, cut
    between characters: callers split chat text themselves (L{splitText}),
    so what is cut here is an over-long topic, reason or name.
    """
    parts = [f":{prefix.translate(_UNSAFE)}"] if prefix else []
    parts.append(command)
    for index, param in enumerate(params):
        param = param.translate(_UNSAFE)
        if index == len(params) - 1 and (
            index > 0 or not param or " " in param or param.startswith(":")
        ):
            parts.append(":" + param)
        else:
            parts.append(param.replace(" ", "_").lstrip(":") or "*")
    line = " ".join(parts)
    encoded = line.encode("utf-8")
    if len(encoded) <= MAX_LINE_BYTES:
        return line
    return encoded[:MAX_LINE_BYTES].decode("utf-8", "ignore")


def overLimit(line: str) -> bool:
    """
    Whether a client's line (without its line ending) is over IRC's limits:
    510 bytes of message, after at most 4094 bytes of tag data.
    """
    if len(line) * 4 <= MAX_LINE_BYTES:
        return False
    tags, rest = splitTags(line)
    if tags and len(tags.encode("utf-8")) - 1 > MAX_TAG_DATA_BYTES:
        return True
    return len(rest.encode("utf-8")) > MAX_LINE_BYTES


# Message tags

_ESCAPES = {";": "\\:", " ": "\\s", "\\": "\\\\", "\r": "\\r", "\n": "\\n", "\x00": ""}
_TAG_VALUE = str.maketrans(_ESCAPES)
_UNESCAPES = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}


def escapeTagValue(value: str) -> str:
    """
    C{value} as an IRCv3 tag value: C{;}, space, backslash, CR and LF
    escaped; NUL, which no tag value may hold, dropped.
    """
    return value.translate(_TAG_VALUE)


def unescapeTagValue(value: str) -> str:
    """
    The text an escaped tag value stands for; an unknown escape stands for
    its character, a lone backslash at the end for nothing (as the
    message-tags specification says).
    """
    if "\\" not in value:
        return value
    out = []
    pieces = iter(value)
    for character in pieces:
        if character == "\\":
            following = next(pieces, "")
            out.append(_UNESCAPES.get(following, following))
        else:
            out.append(character)
    return "".join(out)


def formatTags(tags: Iterable[tuple[str, str | None]]) -> str:
    """
    The tags part of a line (C{@a=b;c}, without the space after it), or
    C{""} for no tags.  An empty value is sent as no value.
    """
    parts = [f"{key}={escapeTagValue(value)}" if value else key for key, value in tags]
    return "@" + ";".join(parts) if parts else ""


def parseTags(text: str) -> dict[str, str | None]:
    """
    The tags of a line's tags part (with or without its C{@}): the last of
    several with one key counts, and an empty value is no value.
    """
    tags: dict[str, str | None] = {}
    for tag in text.removeprefix("@").split(";"):
        if not tag:
            continue
        key, _, value = tag.partition("=")
        tags[key] = unescapeTagValue(value) or None
    return tags


def withTags(tags: Iterable[tuple[str, str | None]], line: str) -> str:
    """
    C{line} with C{tags} in front, if any.
    """
    head = formatTags(tags)
    return f"{head} {line}" if head else line


def splitTags(line: str) -> tuple[str, str]:
    """
    A line's tags part (C{""} if none) and the rest of it.
    """
    rest = line.lstrip(" ")
    if rest.startswith("@"):
        tags, _, rest = rest.partition(" ")
        return tags, rest.lstrip(" ")
    return "", rest


# Timestamps (server-time): YYYY-MM-DDThh:mm:ss.sssZ, in UTC.


def formatTime(seconds: float) -> str:
    """
    A Unix time as C{server-time} writes it, to the millisecond below.

    The product is nudged by a microsecond, so that a time parsed from a
    timestamp (L{parseTime}, over 1000) is written as it was, whatever the
    rounding of floating point.
    """
    milliseconds = int(seconds * 1000 + 0.001) if seconds >= 0 else 0
    whole, fraction = divmod(milliseconds, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{fraction:03d}Z"


def parseTime(text: str) -> int | None:
    """
    The Unix time in milliseconds of a C{server-time} timestamp, or
    C{None} if C{text} is not one.  The fraction may have from one to six
    digits (clients differ); digits past the millisecond are dropped.
    """
    if not text.endswith("Z") or len(text) < 20 or text[10] != "T":
        return None
    whole, dot, fraction = text[:-1].partition(".")
    if dot and not (1 <= len(fraction) <= 6 and fraction.isdigit() and fraction.isascii()):
        return None
    try:
        parsed = time.strptime(whole, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return None
    return timegm(parsed) * 1000 + int((fraction + "00")[:3])


def splitText(text: str, limit: int) -> list[str]:
    """
    Cut C{text} into pieces of at most C{limit} bytes of UTF-8, at a space
    where one is near, never inside a character.  Empty text is one piece.
    """
    pieces = []
    encoded = text.encode("utf-8")
    while len(encoded) > limit:
        cut = limit
        while cut > 0 and (encoded[cut] & 0xC0) == 0x80:
            cut -= 1
        space = encoded.rfind(b" ", 0, cut + 1)
        if space > limit // 2:
            cut = space
        pieces.append(encoded[:cut].decode("utf-8"))
        encoded = encoded[cut:].lstrip(b" ") if space == cut else encoded[cut:]
    pieces.append(encoded.decode("utf-8"))
    return pieces


def ctcpAction(text: str) -> str | None:
    """
    The action of a CTCP ACTION (C{"\\x01ACTION waves\\x01"}), else C{None}.
    """
    if text.startswith(CTCP + "ACTION"):
        body = text[len(CTCP + "ACTION") :]
        if body.endswith(CTCP):
            body = body[:-1]
        return body[1:] if body.startswith(" ") else body
    return None


def channelName(room: str) -> str:
    return "#" + room
