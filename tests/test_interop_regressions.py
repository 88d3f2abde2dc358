"""
Regressions found by running real IRC clients (irssi, WeeChat) and the
terminal client against the server; see docs/interop.rst.
"""

from __future__ import annotations

from tests.test_irc_accounts import AccountTestCase
from tests.test_irc_protocol import IRCTestCase


class LusersTests(AccountTestCase):
    def test_operatorsCounted(self) -> None:
        """
        LUSERS counts the server operators online in 252, as irssi and
        WeeChat show it.
        """
        ola = self.irc("Ola2")
        self.irc("Ewa2")
        ola.send("OPER root toor")
        ola.raw()
        ola.send("LUSERS")
        [luserop] = [m.params for m in ola.messages() if m.command == "252"]
        self.assertEqual(luserop, ("Ola2", "1", "operator(s) online"))

    def test_invisibleCounted(self) -> None:
        """
        LUSERS 251 counts the +i users apart from the others (irssi sets +i
        on connecting), and the total stays in 255.
        """
        ola = self.irc("Ola2")
        ewa = self.irc("Ewa2")
        ewa.send("MODE Ewa2 +i")
        ola.raw()
        ola.send("LUSERS")
        replies = {m.command: m.params for m in ola.messages()}
        self.assertEqual(replies["251"], ("Ola2", "There are 1 users and 1 invisible on 1 servers"))
        self.assertEqual(replies["255"], ("Ola2", "I have 2 clients and 0 servers"))
        # Counted as it changes: -i, and leaving while +i, count down.
        ewa.send("MODE Ewa2 -i", "MODE Ewa2 +i", "QUIT")
        ewa.protocol.connectionLost(None)
        ola.raw()
        ola.send("LUSERS")
        replies = {m.command: m.params for m in ola.messages()}
        self.assertEqual(replies["251"], ("Ola2", "There are 1 users and 0 invisible on 1 servers"))


class KeyRemovalTests(IRCTestCase):
    def test_keyRemovalRelayedWithArgument(self) -> None:
        """
        A key removed is relayed as C{-k *}, so that a client reading
        CHANMODES (k always takes an argument) gives the next one to the
        next letter, as WeeChat does.
        """
        ola = self.irc("Ola", "#k")
        ewa = self.irc("Ewa", "#k")
        ola.send("MODE #k +k sezam")
        ola.raw()
        ewa.raw()
        ola.send("MODE #k -k+l sezam 5", "MODE #k +k abc", "MODE #k -k")
        relayed = [m.params for m in ewa.messages()]
        self.assertEqual(
            relayed,
            [("#k", "-k+l", "*", "5"), ("#k", "+k", "abc"), ("#k", "-k", "*")],
        )
