"""
The terminal client of chatsvc: C{python -m chatsvc.client}.

L{chatsvc.client.protocol} speaks the native protocol and knows nothing of
the screen.  A view shows its lines and takes the user's:
L{chatsvc.client.plain} as plain lines through a pipe,
L{chatsvc.client.terminal} with line editing on a terminal.  They meet at
the interfaces in L{chatsvc.client.interfaces}.  L{chatsvc.client.reconnect}
keeps a conversation going across connections (what it remembers is in
L{chatsvc.client.memory}; the server lines it follows, in
L{chatsvc.client.notices}; the replay without repeats, in
L{chatsvc.client.replay}).  L{chatsvc.client.session} wires a view and the
conversation to a server and to standard I/O, and L{chatsvc.client.__main__}
runs it.
"""
