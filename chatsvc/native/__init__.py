"""
The native line protocol: seed-compatible, usable from plain C{nc}.

L{chatsvc.native.wire} holds the pure grammar (shared with the client);
L{chatsvc.native.protocol} the thin protocol and its factory.  The grammar
is written down in C{docs/protocol.rst}.
"""
