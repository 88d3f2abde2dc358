"""
The web site of C{--web-port}: the page, its files, its WebSocket and IRC
over WebSocket (docs/web.rst).
"""

from __future__ import annotations

from pathlib import Path

from twisted.web.resource import NoResource, Resource
from twisted.web.server import Request, Site
from twisted.web.static import File

from chatsvc.irc.protocol import IRCFactory
from chatsvc.native import wire
from chatsvc.net.tcp import LineServerFactory
from chatsvc.web.frames import BINARY, Framer, pageLine
from chatsvc.web.socket import WebPolicy, WebSocketResource

STATIC = Path(__file__).parent / "static"

# The IRCv3 WebSocket extension's subprotocols.
IRC_TEXT = "text.ircv3.net"
IRC_BINARY = "binary.ircv3.net"

# Sent with every response: the page runs only its own files, shows nothing
# of anyone else's, and leaks nothing to other sites.
SECURITY_HEADERS = (
    (
        b"Content-Security-Policy",
        b"default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        b"img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    ),
    (b"X-Content-Type-Options", b"nosniff"),
    (b"Referrer-Policy", b"no-referrer"),
    (b"X-Frame-Options", b"DENY"),
    # The page and its files change with the server: ask each time.
    (b"Cache-Control", b"no-cache"),
)


class _SecureRequest(Request):
    def process(self) -> None:
        for name, value in SECURITY_HEADERS:
            self.setHeader(name, value)
        super().process()


class _Files(Resource):
    """
    The page's files, each by name; no directory listing.
    """

    def __init__(self, directory: Path) -> None:
        super().__init__()
        for path in sorted(directory.iterdir()):
            if path.is_file():
                self.putChild(path.name.encode("utf-8"), File(str(path)))

    def getChild(self, path: bytes, request: Request) -> Resource:
        return NoResource()


class WebSite(Site):
    """
    The site, starting and stopping the front-ends its WebSockets use as
    their TCP ports would (the IRC front-end observes the hub once started).
    """

    requestFactory = _SecureRequest

    def __init__(self, resource: Resource, factories: tuple[LineServerFactory, ...], reactor) -> None:
        super().__init__(resource, reactor=reactor)
        self._factories = factories

    def startFactory(self) -> None:
        super().startFactory()
        for factory in self._factories:
            factory.doStart()

    def stopFactory(self) -> None:
        for factory in self._factories:
            factory.doStop()
        super().stopFactory()


def webSite(
    page: LineServerFactory, irc: IRCFactory, policy: WebPolicy, reactor, static: Path = STATIC
) -> WebSite:
    """
    The site: C{/} the page, C{/static/} its files, C{/chat} its WebSocket
    to sessions of C{page}, C{/irc} IRC over WebSocket to sessions of
    C{irc}.
    """
    root = Resource()
    root.putChild(b"", File(str(static / "index.html")))
    root.putChild(b"static", _Files(static))
    root.putChild(
        b"chat",
        WebSocketResource(page, {None: Framer(convert=_pageLine)}, policy),
    )
    textFramer = Framer()
    root.putChild(
        b"irc",
        WebSocketResource(
            irc,
            {None: textFramer, IRC_TEXT: textFramer, IRC_BINARY: Framer(BINARY)},
            policy,
        ),
    )
    return WebSite(root, (page, irc), reactor)


def _pageLine(line: bytes) -> bytes:
    return pageLine(line, wire.classify)

