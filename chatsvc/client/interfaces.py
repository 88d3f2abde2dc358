"""
The seam between the client protocol and whatever shows it to a person.

The protocol knows the wire; a view knows the screen.  Each side talks to
the other only through these interfaces, so either can be replaced (a plain
pipe, a line-editing terminal, a test double) without touching the other.
"""

from __future__ import annotations

from zope.interface import Interface


class IChatView(Interface):
    """
    What the client protocol (and the session around it) tells the user.

    Every method is called from the reactor thread and must not block.
    """

    def showLine(kind: str, line: str) -> None:
        """
        Show one line from the server, exactly as given.

        @param kind: what L{chatsvc.native.wire.classify} says the line is
            (C{"chat"}, C{"action"}, C{"private"}, C{"sent"}, C{"error"},
            C{"notice"}), or C{"local"} for a message of the client's own.
        @param line: the whole line, already made harmless by
            L{chatsvc.native.wire.visible}: it holds no control characters.
        """

    def askNickname(reason: str | None) -> None:
        """
        The server wants a nickname; the next line the user enters is it.

        Called again, with the refusal, when the server refused the last
        one.  Answer with L{IChatInput.submit}.

        @param reason: the server's refusal line (for instance
            C{"! The nickname Bob is taken."}), to be shown before asking,
            or C{None}.
        """

    def askPassword(nickname: str) -> None:
        """
        The server wants the password of the account C{nickname} is
        registered to; the next line the user enters is it.

        The view must not show it, echo it or keep it (no input history),
        and answers with L{IChatInput.submit}.  A wrong one is refused with
        an error line and, before any nickname was accepted, a new
        L{askNickname}.
        """

    def nicknameAccepted() -> None:
        """
        The server took the nickname: from now on every line is chat.
        """

    def reconnecting(message: str) -> None:
        """
        The connection was lost (or an attempt to make it again failed) and
        the client will try again; C{message} says so, and when.

        Until L{nicknameAccepted} is called again nothing the user enters
        can be sent: the view holds it, except that leaving (C{exit},
        C{/quit}, end of input) is passed on at once.
        """

    def connectionClosed(clean: bool) -> None:
        """
        The connection to the server is over, for good; the view finishes up.

        @param clean: C{True} when the user asked to leave, C{False} when
            the server went away on its own (the view says so).
        """

    def connectionFailed(message: str) -> None:
        """
        No connection could be made; C{message} says why, in one line.
        """


class IChatInput(Interface):
    """
    What a view may ask of the client protocol on the user's behalf.
    """

    def submit(text: str) -> None:
        """
        One line the user entered, without its line ending.

        It answers a pending L{IChatView.askNickname} or
        L{IChatView.askPassword}, or is sent as chat
        (or as a command, when it starts with C{/}).  C{exit} and C{/quit}
        leave.
        """

    def leave(insist=False) -> None:
        """
        The user wants out (end of input, Ctrl-D, Ctrl-C): say C{/quit},
        wait a moment for the server to close, then close anyway.

        Asking again while leaving changes nothing, unless C{insist} (a
        second interrupt): then the connection is dropped at once.
        """
