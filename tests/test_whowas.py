"""
Tests for L{chatsvc.whowas}: the bounded record of given-up nicknames.
"""

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from chatsvc import events
from chatsvc.hub import Hub
from chatsvc.interfaces import IObserver
from chatsvc.names import nameKey
from chatsvc.testing import RecordingParticipant
from chatsvc.whowas import Gone, Whowas

NICKNAMES = st.sampled_from(["Ola", "OLA", "Ewa", "Iga", "Łukasz", "ŁUKASZ", "Bob"])


def who(nickname: str, username: str = "~u") -> events.Identity:
    return events.Identity(nickname, username, "192.0.2.7", None, f"{nickname} Real")


class WhowasTests(SynchronousTestCase):
    def test_providesObserver(self) -> None:
        """
        The record is an observer of the delivery path.
        """
        self.assertTrue(verifyObject(IObserver, Whowas()))

    def test_mostRecentFirst(self) -> None:
        """
        A nickname's holders come back newest first, by key, as many as asked.
        """
        whowas = Whowas()
        whowas.record(who("Ola", "~first"), 1.0)
        whowas.record(who("OLA", "~second"), 2.0)
        self.assertEqual(
            whowas.find(["ola"]), [Gone(who("OLA", "~second"), 2.0), Gone(who("Ola", "~first"), 1.0)]
        )
        self.assertEqual(whowas.find(["ola"], 1), [Gone(who("OLA", "~second"), 2.0)])
        self.assertEqual(whowas.find(["nobody"]), [])

    def test_severalNicknames(self) -> None:
        """
        Several nicknames at once come back as one list, newest first, each
        entry once however often its nickname is named.
        """
        whowas = Whowas()
        whowas.record(who("Ewa"), 1.0)
        whowas.record(who("Ola"), 2.0)
        whowas.record(who("Ewa"), 3.0)
        found = whowas.find(["ola", "ewa", "EWA"], 1)
        self.assertEqual([gone.time for gone in found], [3.0, 2.0])

    def test_bounded(self) -> None:
        """
        The record keeps the last nicknames given up, up to its limit, and
        no more than its share of one nickname.
        """
        whowas = Whowas(limit=3, perNickname=2)
        for time, nickname in enumerate(["Ola", "Ola", "Ola", "Ewa", "Iga"]):
            whowas.record(who(nickname), float(time))
        self.assertEqual(len(whowas), 3)
        self.assertEqual([gone.time for gone in whowas.find(["Ola", "Ewa", "Iga"])], [4.0, 3.0, 2.0])

    @given(st.lists(NICKNAMES, max_size=60), st.integers(1, 6), st.integers(1, 4))
    def test_keepsTheNewestOfEach(self, nicknames, limit, perNickname) -> None:
        """
        Whatever the churn, the record holds, of the last C{limit} nicknames
        given up, the last C{perNickname} holders of each.
        """
        whowas = Whowas(limit, perNickname)
        for time, nickname in enumerate(nicknames):
            whowas.record(who(nickname), float(time))
        window = list(enumerate(nicknames))[-limit:]
        self.assertLessEqual(len(whowas), limit)
        for nickname in set(nicknames):
            held = [float(time) for time, other in window if nameKey(other) == nameKey(nickname)]
            self.assertEqual([gone.time for gone in whowas.find([nickname])], held[::-1][:perNickname])

    def test_recordsLeavesAndRenames(self) -> None:
        """
        On a hub's delivery path it records who quit and whom a rename left
        behind, with their real names, and nothing else.
        """
        clock = Clock()
        hub = Hub(clock)
        whowas = Whowas()
        hub.delivery.observe(whowas)
        ola = hub.connect(RecordingParticipant(), "~ola", "192.0.2.7")
        hub.register(ola, "Ola", realname="Ola Nowak")
        hub.say(ola, "hi")
        clock.advance(5)
        hub.rename(ola, "Ala")
        clock.advance(5)
        hub.disconnect(ola, "bye")
        [renamed] = whowas.find(["Ola"])
        self.assertEqual(
            (renamed.identity.mask, renamed.identity.realname, renamed.time),
            ("Ola!~ola@192.0.2.7", "Ola Nowak", 5.0),
        )
        [left] = whowas.find(["Ala"])
        self.assertEqual((left.identity.nickname, left.time), ("Ala", 10.0))
        self.assertEqual(len(whowas), 2)
