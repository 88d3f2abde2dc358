"""
Behaviours of the IRC front-end that IRC compliance suites (irctest) check,
each tested here in our own words, in memory: numerics and their parameters
exactly.
"""

from chatsvc.testing import FakeOpers
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


class NamesTests(IRCTestCase):
    def test_severalChannelsEndOnce(self) -> None:
        """
        NAMES of several channels gives 353 for each that can be shown and
        one 366 naming the channels as they were asked for.
        """
        ola = self.irc("Ola", "#a", "#b")
        ola.send("NAMES #a,#nowhere,#b")
        self.assertEqual(
            params(ola),
            [
                ("353", ("=", "#a", "@Ola")),
                ("353", ("=", "#b", "@Ola")),
                ("366", ("#a,#nowhere,#b", "End of /NAMES list")),
            ],
        )

    def test_oneChannelEndsWithItsName(self) -> None:
        """
        NAMES of one channel, existing or not, ends with 366 naming it.
        """
        ola = self.irc("Ola", "#a")
        ola.send("NAMES #a", "NAMES #nowhere")
        self.assertEqual(
            params(ola),
            [
                ("353", ("=", "#a", "@Ola")),
                ("366", ("#a", "End of /NAMES list")),
                ("366", ("#nowhere", "End of /NAMES list")),
            ],
        )

    def test_joinStillEndsItsNames(self) -> None:
        """
        JOIN's own names list still ends with 366 for the channel joined.
        """
        ola = self.irc("Ola")
        ola.send("JOIN #a")
        self.assertEqual([m.command for m in ola.messages()][-1], "366")


class AwayNotifyTests(IRCTestCase):
    def test_awayOnJoin(self) -> None:
        """
        With away-notify, someone who comes into a channel away is said to
        be away right after the JOIN; without it, only the JOIN comes.
        """
        ola = self.irc("Ola", "#a")
        ola.send("CAP REQ away-notify")
        iga = self.irc("Iga", "#a")
        ewa = self.irc("Ewa")
        ewa.send("AWAY :obiad")
        ola.raw()
        iga.raw()
        ewa.send("JOIN #a")
        self.assertEqual(
            [(m.command, m.params) for m in ola.messages()],
            [("JOIN", ("#a",)), ("AWAY", ("obiad",))],
        )
        self.assertEqual([m.command for m in iga.messages()], ["JOIN"])


class WallopsTests(IRCTestCase):
    def test_minusW(self) -> None:
        """
        WALLOPS reaches every client but those that set C{-w}; C{+w} is
        the default, as 221 shows, and can be set again.
        """
        self.factory.opers = FakeOpers({"szef": "haslo"})
        szef = self.irc("Szef")
        ola = self.irc("Ola")
        ewa = self.irc("Ewa")
        ola.raw()
        ola.send("MODE Ola")
        self.assertEqual(params(ola), [("221", ("+w",))])
        ewa.send("MODE Ewa -w")
        self.assertEqual([m.params for m in ewa.messages()], [("Ewa", "-w")])
        szef.send("OPER szef haslo")
        szef.raw()
        szef.send("WALLOPS :przerwa")
        wallops = [(m.command, m.params) for m in ola.messages()]
        self.assertEqual(wallops, [("WALLOPS", ("przerwa",))])
        self.assertEqual(ewa.messages(), [])
        ewa.send("MODE Ewa +w")
        ewa.raw()
        szef.send("WALLOPS :koniec")
        self.assertEqual([m.command for m in ewa.messages()], ["WALLOPS"])
