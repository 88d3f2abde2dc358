"""
The IRC front-end over TCP: what every IRC session shares, and the factory
that builds them behind the shared connection and the line adapter.
"""

from __future__ import annotations

import time
from itertools import count
from typing import Callable

from twisted.internet.interfaces import IReactorTime
from zope.interface import implementer

from chatsvc import events
from chatsvc.delivery import Audience
from chatsvc.history import History
from chatsvc.hub import Hub
from chatsvc.i18n import DEFAULT_LANGUAGE
from chatsvc.interfaces import IObserver
from chatsvc.irc import wire
from chatsvc.irc.session import IRCSession
from chatsvc.net.connection import Limits
from chatsvc.net.output import Outbox
from chatsvc.net.tcp import LineServerFactory
from chatsvc.whowas import Whowas


@implementer(IObserver)
class Peak:
    """
    The most people registered at once on this node since start-up,
    whatever their front-end, for LUSERS (265, 266).

    The count falls only when someone registered leaves, and a L{events.Left}
    is published after the hub has forgotten them: so the count was one more
    just before each Left seen, and the highest count ever is either one of
    those or the count now.
    """

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._highest = 0

    def published(self, event: events.Event, audience: Audience) -> None:
        if isinstance(event, events.Left) and not audience.remote:
            self._highest = max(self._highest, self._hub.localCount() + 1)

    def highest(self) -> int:
        """
        The most registered at once, now included.
        """
        self._highest = max(self._highest, self._hub.localCount())
        return self._highest


class IRCFactory(LineServerFactory):
    """
    IRC sessions over TCP, all sharing one hub, and what they share.

    @ivar serverName: the name IRC clients see.
    @ivar language: the language of crowd summaries.
    @ivar created: when the server started, as shown in 003.
    @ivar pingInterval: seconds of silence before the server sends a PING.
    @ivar pingTimeout: seconds after that PING before the client is dropped.
    @ivar history: what CHATHISTORY and the replay on joining read, if the
        server keeps history.
    @ivar whowas: who gave up which nickname, for WHOWAS.
    @ivar peak: the most users at once, for LUSERS.
    @ivar invisibleCount: how many of its clients are C{+i} now, for LUSERS.
    @ivar accounts: the account store (C{exists}, C{owner}, C{register},
        C{login}, ... answering with Deferreds), if the server has
        accounts: SASL, REGISTER and C{PASS account:password} use it.
    @ivar opers: the server operators (C{verify(name, password)}, a
        Deferred of a bool), if there are any: OPER uses it.
    """

    pingInterval = 90.0
    pingTimeout = 60.0

    def __init__(
        self,
        hub: Hub,
        clock: IReactorTime,
        serverName: str = "chatsvc",
        motd: list[str] | None = None,
        wallClock: Callable[[], float] = time.time,
        limits: Limits = Limits(),
        outbox: Outbox | None = None,
        language: str = DEFAULT_LANGUAGE,
        history: History | None = None,
        accounts=None,
        opers=None,
    ) -> None:
        super().__init__(
            hub,
            lambda: IRCSession(self),
            # Tags have their own budget; the session holds the rest of a
            # line to 510 bytes (wire.overLimit).
            wire.MAX_CLIENT_LINE_BYTES,
            clock=clock,
            limits=limits,
            outbox=outbox,
        )
        self.serverName = serverName
        self.language = language
        self.history = history
        self.accounts = accounts
        self.opers = opers
        self._batches = count(1)
        self.motd = motd if motd is not None else ["Welcome to chatsvc."]
        self._wallClock = wallClock
        self._offset = 0.0
        self.created = "at start-up"
        self.whowas = Whowas()
        self.peak = Peak(hub)
        self.invisibleCount = 0
        self._observing = False

    def startFactory(self) -> None:
        self.created = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self._wallClock()))
        self._offset = self._wallClock() - self.clock.seconds()
        # Once, however often the factory starts listening again: the hub's
        # delivery path has no way to let go of an observer.
        if not self._observing:
            self._observing = True
            self.hub.delivery.observe(self.whowas)
            self.hub.delivery.observe(self.peak)

    def newBatch(self) -> str:
        """
        A batch reference tag no other batch of this server has.
        """
        return "%x" % next(self._batches)

    def epoch(self, seconds: float) -> float:
        """
        The Unix time of a moment on the hub's clock.
        """
        return seconds + self._offset
