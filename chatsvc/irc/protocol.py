"""
The IRC front-end over TCP: what every IRC session shares, and the factory
that builds them behind the shared connection and the line adapter.
"""

from __future__ import annotations

import time
from itertools import count
from typing import Callable

from twisted.internet.interfaces import IReactorTime

from chatsvc.history import History
from chatsvc.hub import Hub
from chatsvc.i18n import DEFAULT_LANGUAGE
from chatsvc.irc import wire
from chatsvc.irc.session import IRCSession
from chatsvc.net.connection import Limits
from chatsvc.net.output import Outbox
from chatsvc.net.tcp import LineServerFactory


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

    def startFactory(self) -> None:
        self.created = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self._wallClock()))
        self._offset = self._wallClock() - self.clock.seconds()

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
