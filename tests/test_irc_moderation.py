"""
Tests for channel moderation on the IRC front-end, in memory: roles and
their signs, MODE on channels, KICK, INVITE, the refusals of JOIN and
PRIVMSG, and the pure mode-string grammar (L{chatsvc.irc.modes}).
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from chatsvc.irc.modes import MAX_MODES, formatModes, parseModes
from chatsvc.irc.wire import parseMessage
from chatsvc.moderation import ModeChange
from tests.test_irc_protocol import IRCTestCase


def params(client) -> list[tuple[str, tuple[str, ...]]]:
    return [(m.command, m.params[1:]) for m in client.messages()]


class PrefixTests(IRCTestCase):
    def test_namesAndWhoShowRoles(self) -> None:
        """
        The first one in a channel is its operator: NAMES shows @, WHO shows
        H@; voice shows +; with multi-prefix both signs show.
        """
        ola = self.irc("Ola", "#k")
        ewa = self.irc("Ewa", "#k")
        ola.send("MODE #k +v Ola", "MODE #k +v Ewa")
        ewa.raw()
        ewa.send("NAMES #k", "WHO #k")
        replies = ewa.messages()
        self.assertEqual(replies[0].params[-1], "@Ola +Ewa")
        self.assertEqual([m.params[6] for m in replies if m.command == "352"], ["H@", "H+"])
        ewa.send("CAP REQ :multi-prefix userhost-in-names", "NAMES #k")
        names = [m for m in ewa.messages() if m.command == "353"][0]
        self.assertEqual(
            names.params[-1], "@+Ola!~ola@192.168.1.1 +Ewa!~ewa@192.168.1.1"
        )

    def test_whoisShowsRoleSigns(self) -> None:
        """
        WHOIS 319 writes each channel with its role sign.
        """
        self.irc("Ola", "#a", "#b")
        ewa = self.irc("Ewa", "#b")
        ewa.send("WHOIS Ola")
        channels = [m for m in ewa.messages() if m.command == "319"][0]
        self.assertEqual(channels.params[-1], "@#a @#b")


class ChannelModeTests(IRCTestCase):
    def test_queryShowsModesAndCreation(self) -> None:
        """
        MODE #c is 324 with the set modes (+nt for a new channel) and 329
        with when it was made.
        """
        self.clock.advance(5)
        ola = self.irc("Ola", "#k")
        ola.send("MODE #k")
        self.assertEqual(
            params(ola), [("324", ("#k", "+nt")), ("329", ("#k", "1000005"))]
        )

    def test_operatorSetsModesEveryoneHears(self) -> None:
        """
        An operator's changes are relayed to the channel as one MODE line,
        from the operator's mask, with their arguments.
        """
        ola = self.irc("Ola", "#k")
        ewa = self.irc("Ewa", "#k")
        ola.raw()
        ola.send("MODE #k +ov-t Ewa Ewa")
        line = parseMessage(":Ola!~ola@192.168.1.1 MODE #k +ov-t Ewa Ewa")
        self.assertEqual(ola.messages(), [line])
        self.assertEqual(ewa.messages(), [line])
        ola.send("MODE #k +kl sekret 10", "MODE #k")
        relayed, modes, _ = ola.messages()
        self.assertEqual(relayed.params, ("#k", "+kl", "sekret", "10"))
        self.assertEqual(modes.params[1:], ("#k", "+nkl", "sekret", "10"))

    def test_nonOperatorIsRefused(self) -> None:
        """
        Someone who is no operator gets 482 for a change, but may look.
        """
        self.irc("Ola", "#k")
        ewa = self.irc("Ewa", "#k")
        ewa.send("MODE #k +m", "MODE #k -o Ola", "MODE #k")
        self.assertEqual(
            [c for c, _ in params(ewa)], ["482", "482", "324", "329"]
        )

    def test_refusalsOfSingleChanges(self) -> None:
        """
        A change naming nobody gets 401, someone outside the channel 441, an
        unknown letter 472, a bad limit or key 696; the rest is made.
        """
        ola = self.irc("Ola", "#k")
        self.irc("Ewa")
        ola.send("MODE #k +oozm nobody Ewa", "MODE #k +l zero", "MODE #k +k a,b")
        self.assertEqual(
            params(ola),
            [
                ("472", ("z", "is unknown mode char to me")),
                ("MODE", ("+m",)),
                ("401", ("nobody", "No such nick/channel")),
                ("441", ("Ewa", "#k", "They aren't on that channel")),
                ("696", ("#k", "l", "zero", "Invalid limit")),
                ("696", ("#k", "k", "*", "Invalid key")),
            ],
        )

    def test_banList(self) -> None:
        """
        +b with a mask bans it (in full form); +b or b alone lists the bans
        (367 each, then 368); a banned user cannot join or speak.
        """
        ola = self.irc("Ola", "#k")
        ewa = self.irc("Ewa", "#k")
        ola.raw()
        ola.send("MODE #k +b Ewa")
        self.assertEqual(params(ola), [("MODE", ("+b", "Ewa!*@*"))])
        ola.send("MODE #k b")
        self.assertEqual(
            params(ola),
            [
                ("367", ("#k", "Ewa!*@*", "Ola!~ola@192.168.1.1", "1000000")),
                ("368", ("#k", "End of channel ban list")),
            ],
        )
        ewa.raw()
        ewa.send("PRIVMSG #k :hi", "PART #k", "JOIN #k")
        self.assertEqual(
            [c for c, _ in params(ewa)], ["404", "PART", "474"]
        )

    def test_unknownChannelAndNotOnChannel(self) -> None:
        """
        MODE on a channel that does not exist gets 403; changes by someone
        outside it 442.
        """
        self.irc("Ola", "#k")
        ewa = self.irc("Ewa")
        ewa.send("MODE #nowhere +m", "MODE #k +m")
        self.assertEqual([c for c, _ in params(ewa)], ["403", "442"])


class JoinRefusalTests(IRCTestCase):
    def test_keyInviteOnlyAndLimit(self) -> None:
        """
        A +k channel wants its key (475 without it), JOIN takes keys in
        order; +i gives 473 and +l 471.
        """
        ola = self.irc("Ola", "#a", "#b", "#c")
        ola.send("MODE #a +k sekret", "MODE #b +i", "MODE #c +l 1")
        ewa = self.irc("Ewa")
        ewa.send("JOIN #a,#b,#c")
        self.assertEqual([c for c, _ in params(ewa)], ["475", "473", "471"])
        ewa.send("JOIN #x,#a y,sekret")
        joins = [m.params for m in ewa.messages() if m.command == "JOIN"]
        self.assertEqual(joins, [("#x",), ("#a",)])

    def test_joinShowsTopicSetter(self) -> None:
        """
        Joining a channel with a topic brings 332 and 333.
        """
        ola = self.irc("Ola", "#k")
        ola.send("TOPIC #k :hello")
        ewa = self.irc("Ewa")
        ewa.send("JOIN #k")
        replies = params(ewa)
        self.assertEqual(replies[1], ("332", ("#k", "hello")))
        self.assertEqual(replies[2], ("333", ("#k", "Ola", "1000000")))

    def test_topicLocked(self) -> None:
        """
        In a +t channel only operators set the topic (482 for others).
        """
        self.irc("Ola", "#k")
        ewa = self.irc("Ewa", "#k")
        ewa.send("TOPIC #k :mine")
        self.assertEqual(params(ewa), [("482", ("#k", "You're not channel operator"))])

    def test_moderatedAndOutside(self) -> None:
        """
        +m silences who has no voice; +n (the default) those outside.
        """
        ola = self.irc("Ola", "#k")
        ewa = self.irc("Ewa", "#k")
        iga = self.irc("Iga")
        ola.send("MODE #k +m")
        ewa.raw()
        ewa.send("PRIVMSG #k :hi")
        iga.send("PRIVMSG #k :hi")
        self.assertEqual([c for c, _ in params(ewa)], ["404"])
        self.assertEqual([c for c, _ in params(iga)], ["404"])


class KickTests(IRCTestCase):
    def test_kick(self) -> None:
        """
        An operator's KICK is relayed to the channel, the one kicked
        included, and they are out.
        """
        ola = self.irc("Ola", "#k")
        ewa = self.irc("Ewa", "#k")
        ola.raw()
        ola.send("KICK #k Ewa :behave")
        line = parseMessage(":Ola!~ola@192.168.1.1 KICK #k Ewa :behave")
        self.assertEqual(ola.messages(), [line])
        self.assertEqual(ewa.messages(), [line])
        self.assertNotIn(self.hub.find("Ewa"), self.hub.room("k").members)

    def test_refusals(self) -> None:
        """
        KICK by a non-operator gets 482, of someone not there 441, from a
        channel one is not in 442, of a channel that does not exist 403.
        """
        ola = self.irc("Ola", "#k")
        ewa = self.irc("Ewa", "#k")
        self.irc("Iga", "#j")
        ewa.send("KICK #k Ola", "KICK #j Iga", "KICK #nowhere Iga")
        self.assertEqual([c for c, _ in params(ewa)], ["482", "442", "403"])
        ola.raw()
        ola.send("KICK #k Iga", "KICK #k nobody")
        self.assertEqual(
            params(ola),
            [
                ("441", ("Iga", "#k", "They aren't on that channel")),
                ("401", ("nobody", "No such nick/channel")),
            ],
        )


class InviteTests(IRCTestCase):
    def test_invite(self) -> None:
        """
        INVITE tells the inviter 341 and the guest INVITE, and lets the
        guest into a +i channel.
        """
        ola = self.irc("Ola", "#k")
        ola.send("MODE #k +i")
        ola.raw()
        ewa = self.irc("Ewa")
        ola.send("INVITE Ewa #k")
        self.assertEqual(params(ola), [("341", ("Ewa", "#k"))])
        self.assertEqual(ewa.messages(), [parseMessage(":Ola!~ola@192.168.1.1 INVITE Ewa #k")])
        ewa.send("JOIN #k")
        self.assertIn("JOIN", ewa.commands())

    def test_inviteNotify(self) -> None:
        """
        Other operators hear of an invitation only with invite-notify.
        """
        ola = self.irc("Ola", "#k")
        ewa = self.irc("Ewa", "#k")
        iga = self.irc("Iga", "#k")
        ola.send("MODE #k +oo Ewa Iga")
        iga.send("CAP REQ invite-notify")
        for client in (ola, ewa, iga):
            client.raw()
        self.irc("Zoe")
        ola.send("INVITE Zoe #k")
        self.assertEqual(ewa.messages(), [])
        self.assertEqual(iga.messages(), [parseMessage(":Ola!~ola@192.168.1.1 INVITE Zoe #k")])

    def test_refusals(self) -> None:
        """
        Inviting someone there gets 443, nobody 401, into a channel one is
        not in 442, into a +i channel as a non-operator 482.
        """
        ola = self.irc("Ola", "#k")
        ewa = self.irc("Ewa", "#k")
        self.irc("Iga")
        ola.raw()
        ola.send("INVITE Ewa #k", "INVITE nobody #k", "INVITE Iga #j")
        self.assertEqual(
            params(ola),
            [
                ("443", ("Ewa", "#k", "is already on channel")),
                ("401", ("nobody", "No such nick/channel")),
                ("403", ("#j", "No such channel")),
            ],
        )
        ola.send("MODE #k +i")
        ewa.raw()
        ewa.send("INVITE Iga #k")
        self.irc("Ula", "#u")
        ewa.send("INVITE Iga #u")
        self.assertEqual([c for c, _ in params(ewa)], ["482", "442"])


class ModeStringTests(SynchronousTestCase):
    def test_arguments(self) -> None:
        """
        Letters that take an argument take the next; b alone asks for the
        list; -k needs none; unknown letters are named once.
        """
        parsed = parseModes("+ob-kz+bz", ("ola", "x"))
        self.assertEqual(
            parsed.changes,
            (ModeChange(True, "o", "ola"), ModeChange(True, "b", "x"), ModeChange(False, "k")),
        )
        self.assertEqual(parsed.unknown, ("z",))
        self.assertTrue(parsed.listed)

    def test_atMostModes(self) -> None:
        """
        Changes with arguments beyond MODES are ignored.
        """
        parsed = parseModes("+vvvvv", tuple("abcde"))
        self.assertEqual(len(parsed.changes), MAX_MODES)

    @given(
        st.lists(
            st.one_of(
                st.builds(
                    ModeChange,
                    st.booleans(),
                    st.sampled_from("ovbk"),
                    st.text("abcXYZ019!@*.", min_size=1, max_size=8),
                ),
                st.builds(ModeChange, st.booleans(), st.sampled_from("imnst")),
                st.builds(ModeChange, st.just(False), st.just("l")),
            ),
            max_size=MAX_MODES,
        )
    )
    def test_roundTrip(self, changes: list[ModeChange]) -> None:
        """
        Any changes, formatted as a MODE line writes them, parse back to
        themselves.
        """
        text, *arguments = formatModes(changes)
        self.assertEqual(list(parseModes(text, tuple(arguments)).changes), changes)
