"""
The native front-end over TCP: a factory of native sessions behind the
shared connection and the line adapter.
"""

from __future__ import annotations

from twisted.internet.interfaces import IReactorTime

from chatsvc.history import History
from chatsvc.hub import Hub
from chatsvc.i18n import DEFAULT_LANGUAGE
from chatsvc.native import wire
from chatsvc.native.replay import ReplayCache
from chatsvc.native.session import Accounts, NativeSession, Opers
from chatsvc.net.connection import Limits
from chatsvc.net.output import Outbox
from chatsvc.net.tcp import LineServerFactory


class NativeFactory(LineServerFactory):
    """
    Native sessions over TCP, all sharing one hub.

    @ivar language: the language of server messages for a connection until
        it asks for another with C{/lang}.

    C{accounts} (L{chatsvc.testing.FakeAccounts} shows its interface) and
    C{opers} (likewise L{chatsvc.testing.FakeOpers}) are the server's, if it
    has them; without them the commands that need them say so.  Which
    nicknames are registered the hub tells (L{Hub.nicknameOwner}), since it
    is the hub that refuses them.

    C{session} is the kind of session made: the page's
    (L{chatsvc.web.page.PageSession}) is a native session too.
    """

    def __init__(
        self,
        hub: Hub,
        language: str = DEFAULT_LANGUAGE,
        limits: Limits = Limits(),
        clock: IReactorTime | None = None,
        outbox: Outbox | None = None,
        history: History | None = None,
        accounts: Accounts | None = None,
        opers: Opers | None = None,
        session: type[NativeSession] = NativeSession,
    ) -> None:
        self.language = language
        # One for all sessions: a room's replay is worded once.
        replays = ReplayCache()
        super().__init__(
            hub,
            lambda: session(hub, language, history, replays, accounts, opers),
            wire.MAX_LINE_BYTES,
            clock=clock,
            limits=limits,
            outbox=outbox,
            username="native",
        )
