"""
Regressions found by running real IRC clients (irssi, WeeChat) and the
terminal client against the server; see docs/interop.rst.
"""

from __future__ import annotations

from tests.test_irc_accounts import AccountTestCase


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
