"""
The IRC front-end: any IRC client joins the same rooms as native clients.

L{chatsvc.irc.wire} holds the pure message grammar (RFC 1459/2812 framing);
L{chatsvc.irc.protocol} the thin protocol and its factory.  See
C{docs/irc.rst}.
"""
