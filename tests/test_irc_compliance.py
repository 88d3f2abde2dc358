"""
Behaviours of the IRC front-end that IRC compliance suites (irctest) check,
each tested here in our own words, in memory: numerics and their parameters
exactly.
"""

from tests.test_irc_protocol import IRCTestCase


def params(client) -> list[tuple[str, tuple[str, ...]]]:
    return [(m.command, m.params[1:]) for m in client.messages()]


class ChannelKeyTests(IRCTestCase):
    def test_refusedKeyIsNotEchoed(self) -> None:
        """
        A key that cannot be one gets 696 with C{*} in its place: a refused
        key may be a password typed in the wrong window.
        """
        ola = self.irc("Ola", "#k")
        ola.send("MODE #k +k :secret with spaces")
        self.assertEqual(params(ola), [("696", ("#k", "k", "*", "Invalid key"))])

    def test_refusedLimitIsEchoed(self) -> None:
        """
        A limit that cannot be one is named in its 696, as before.
        """
        ola = self.irc("Ola", "#k")
        ola.send("MODE #k +l many")
        self.assertEqual(params(ola), [("696", ("#k", "l", "many", "Invalid limit"))])

