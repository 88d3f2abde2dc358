"""
The seam between the hub and its front-ends.
"""

from __future__ import annotations

from zope.interface import Interface


class IParticipant(Interface):
    """
    One connection as the hub sees it, whatever its wire protocol.

    Each front-end implements this once (the native line protocol, IRC, ...);
    the hub calls it and never touches a transport.
    """

    def deliver(event):
        """
        Show C{event} (one of L{chatsvc.events}) to the user.

        Called synchronously while the hub handles someone's request, once
        per recipient, so it must not block, raise, or call back into the hub.
        """

    def close():
        """
        End the connection at once, without waiting for queued output.

        The hub calls this only when a graceful close (after L{Closing}) has
        taken too long; the front-end then reports the loss to the hub as
        usual.
        """
