"""
Tests for L{chatsvc.hub}.
"""

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from chatsvc import events
from chatsvc.errors import (
    AlreadyInRoom,
    AlreadyRegistered,
    CannotSpeak,
    InvalidName,
    NicknameInUse,
    NoSuchNickname,
    NoSuchRoom,
    NotInRoom,
    NotRegistered,
    TooManyConnections,
    TooManyRooms,
)
from chatsvc.hub import Hub, Member
from chatsvc.interfaces import IParticipant
from chatsvc.testing import RecordingParticipant


def who(nickname: str) -> events.Identity:
    """
    The identity of a member connected by L{HubTestCase.connect}.
    """
    return events.Identity(nickname)


class HubTestCase(SynchronousTestCase):
    crowdSize = 100

    def setUp(self) -> None:
        self.clock = Clock()
        self.hub = Hub(self.clock, crowdSize=self.crowdSize)

    def connect(self, nickname: str | None = None) -> tuple[Member, RecordingParticipant]:
        participant = RecordingParticipant()
        member = self.hub.connect(participant)
        if nickname is not None:
            self.hub.register(member, nickname)
            participant.take()
        return member, participant


class FakeTests(SynchronousTestCase):
    def test_recordingParticipantProvidesTheInterface(self) -> None:
        """
        The shipped fake is a real IParticipant, so tests using it are honest.
        """
        self.assertTrue(verifyObject(IParticipant, RecordingParticipant()))


class RegistrationTests(HubTestCase):
    def test_welcomeAndAnnouncement(self) -> None:
        """
        The newcomer is welcomed; everyone else in the room hears of the join.
        """
        alicja, alicjaSees = self.connect("Alicja")
        bob, bobSees = self.connect()
        self.hub.register(bob, "Bob")
        self.assertEqual(bobSees.take(), [events.Welcome("Bob", "lobby")])
        self.assertEqual(alicjaSees.take(), [events.Joined(who("Bob"), "lobby")])
        self.assertEqual(bob.nickname, "Bob")

    def test_takenNicknameIgnoringCase(self) -> None:
        """
        A nickname that differs only in case is refused, and nothing changes.
        """
        self.connect("Alicja")
        member, participant = self.connect()
        error = self.assertRaises(NicknameInUse, self.hub.register, member, "ALICJA")
        self.assertEqual(error.nickname, "ALICJA")
        self.assertIsNone(member.nickname)
        self.assertEqual(participant.events, [])
        self.hub.register(member, "Bob")
        self.assertEqual(member.nickname, "Bob")

    def test_malformedNickname(self) -> None:
        """
        A malformed nickname is refused with the rule's reason.
        """
        member, _ = self.connect()
        self.assertEqual(
            self.assertRaises(InvalidName, self.hub.register, member, "a b").problem,
            "character",
        )

    def test_registerTwice(self) -> None:
        """
        A second registration is refused: renames go through rename().
        """
        member, _ = self.connect("Alicja")
        self.assertRaises(AlreadyRegistered, self.hub.register, member, "Ala")

    def test_requestsNeedANickname(self) -> None:
        """
        Saying anything before registering is refused.
        """
        member, _ = self.connect()
        self.assertRaises(NotRegistered, self.hub.say, member, "hi")
        self.assertRaises(NotRegistered, self.hub.who, member)


class ChatTests(HubTestCase):
    def test_sayReachesTheRoomIncludingSender(self) -> None:
        """
        A line goes to everyone in the room, the sender included, and no one
        elsewhere.
        """
        alicja, alicjaSees = self.connect("Alicja")
        bob, bobSees = self.connect("Bob")
        carol, carolSees = self.connect("Carol")
        alicjaSees.take()
        bobSees.take()
        self.hub.move(carol, "kitchen")
        alicjaSees.take()
        bobSees.take()
        carolSees.take()
        self.hub.say(bob, "Hi everyone!")
        said = events.Said(who("Bob"), "lobby", "Hi everyone!")
        self.assertEqual(alicjaSees.take(), [said])
        self.assertEqual(bobSees.take(), [said])
        self.assertEqual(carolSees.take(), [])

    def test_act(self) -> None:
        """
        An action is delivered like a line, as its own kind of event.
        """
        alicja, alicjaSees = self.connect("Alicja")
        self.hub.act(alicja, "waves")
        self.assertEqual(alicjaSees.take(), [events.Acted(who("Alicja"), "lobby", "waves")])

    def test_whisper(self) -> None:
        """
        A private message reaches its recipient, found by key, and is echoed
        to the sender only.
        """
        alicja, alicjaSees = self.connect("Alicja")
        bob, bobSees = self.connect("Bob")
        carol, carolSees = self.connect("Carol")
        for participant in (alicjaSees, bobSees, carolSees):
            participant.take()
        self.hub.whisper(alicja, "bob", "psst")
        whispered = events.Whispered(who("Alicja"), "Bob", "psst")
        self.assertEqual(bobSees.take(), [whispered])
        self.assertEqual(alicjaSees.take(), [whispered])
        self.assertEqual(carolSees.take(), [])

    def test_whisperToNobody(self) -> None:
        """
        A private message to an unknown nickname is refused.
        """
        alicja, _ = self.connect("Alicja")
        error = self.assertRaises(NoSuchNickname, self.hub.whisper, alicja, "Zed", "hi")
        self.assertEqual(error.nickname, "Zed")

    def test_whisperToOneselfIsDeliveredOnce(self) -> None:
        """
        A note to oneself arrives once, not twice.
        """
        alicja, alicjaSees = self.connect("Alicja")
        self.hub.whisper(alicja, "Alicja", "remember")
        self.assertEqual(len(alicjaSees.take()), 1)


class RenameTests(HubTestCase):
    def test_renameIsAnnounced(self) -> None:
        """
        A rename is announced to the room, the renamed included, and frees the
        old nickname.
        """
        alicja, alicjaSees = self.connect("Alicja")
        bob, bobSees = self.connect("Bob")
        alicjaSees.take()
        self.hub.rename(alicja, "Ala")
        renamed = events.Renamed(who("Alicja"), "Ala")
        self.assertEqual(alicjaSees.take(), [renamed])
        self.assertEqual(bobSees.take(), [renamed])
        self.assertIs(self.hub.find("ala"), alicja)
        self.assertRaises(NoSuchNickname, self.hub.find, "Alicja")
        newcomer, _ = self.connect("Alicja")
        self.assertEqual(newcomer.nickname, "Alicja")

    def test_caseOnlyRename(self) -> None:
        """
        Changing only the case of one's own nickname is allowed.
        """
        bob, bobSees = self.connect("bob")
        self.hub.rename(bob, "Bob")
        self.assertEqual(bobSees.take(), [events.Renamed(who("bob"), "Bob")])

    def test_renameToTaken(self) -> None:
        """
        Renaming to someone else's nickname is refused.
        """
        self.connect("Alicja")
        bob, bobSees = self.connect("Bob")
        self.assertRaises(NicknameInUse, self.hub.rename, bob, "alicja")
        self.assertEqual(bob.nickname, "Bob")
        self.assertEqual(bobSees.take(), [])


class RoomTests(HubTestCase):
    def test_moveIsAnnouncedToBothRooms(self) -> None:
        """
        Moving tells the old room where one went, the new room where one came
        from, and the mover where they are.
        """
        alicja, alicjaSees = self.connect("Alicja")
        bob, bobSees = self.connect("Bob")
        carol, carolSees = self.connect("Carol")
        self.hub.move(carol, "kitchen")
        alicjaSees.take()
        bobSees.take()
        self.hub.move(bob, "#Kitchen")
        self.assertEqual(alicjaSees.take(), [events.Departed(who("Bob"), "lobby", "kitchen")])
        self.assertEqual(carolSees.take()[-1], events.Arrived(who("Bob"), "kitchen", "lobby"))
        self.assertEqual(bobSees.take(), [events.Moved("kitchen", 2)])
        self.assertEqual(self.hub.who(bob), ["Carol", "Bob"])

    def test_alreadyThere(self) -> None:
        """
        Joining one's own room is refused.
        """
        alicja, _ = self.connect("Alicja")
        self.assertRaises(AlreadyInRoom, self.hub.move, alicja, "LOBBY")

    def test_emptyRoomsVanishButNotTheDefault(self) -> None:
        """
        A room exists while someone is in it; the default room always does.
        """
        alicja, _ = self.connect("Alicja")
        self.hub.move(alicja, "kitchen")
        self.assertEqual([(r.name, len(r.members)) for r in self.hub.rooms()], [("kitchen", 1), ("lobby", 0)])
        self.hub.move(alicja, "lobby")
        self.assertEqual([(r.name, len(r.members)) for r in self.hub.rooms()], [("lobby", 1)])

    def test_badRoomName(self) -> None:
        """
        A malformed room name is refused and the member stays put.
        """
        alicja, _ = self.connect("Alicja")
        self.assertRaises(InvalidName, self.hub.move, alicja, "two words")
        self.assertEqual(alicja.room.name, "lobby")


class LeaveTests(HubTestCase):
    def test_leaveIsAnnouncedOnce(self) -> None:
        """
        However many times a disconnect is reported, the room hears of it once.
        """
        alicja, alicjaSees = self.connect("Alicja")
        bob, _ = self.connect("Bob")
        alicjaSees.take()
        self.hub.disconnect(bob, "bye")
        self.hub.disconnect(bob)
        self.assertEqual(alicjaSees.take(), [events.Left(who("Bob"), "bye")])
        self.assertRaises(NoSuchNickname, self.hub.find, "Bob")

    def test_unregisteredLeaveIsSilent(self) -> None:
        """
        A connection that never picked a nickname leaves without a word.
        """
        alicja, alicjaSees = self.connect("Alicja")
        member, _ = self.connect()
        self.hub.disconnect(member)
        self.assertEqual(alicjaSees.take(), [])
        self.assertEqual(self.hub.members, {alicja})


class CrowdTests(HubTestCase):
    crowdSize = 3

    def test_smallRoomsAnnounceAtOnce(self) -> None:
        """
        Below the crowd size every join is announced immediately.
        """
        alicja, alicjaSees = self.connect("Alicja")
        self.connect("Bob")
        self.assertEqual(alicjaSees.take(), [events.Joined(who("Bob"), "lobby")])

    def test_crowdedRoomsSummarize(self) -> None:
        """
        From the crowd size on, joins and leaves are gathered into one summary
        per interval; someone who came and went within it is not mentioned.
        """
        alicja, alicjaSees = self.connect("Alicja")
        self.connect("Bob")
        alicjaSees.take()
        carol, _ = self.connect("Carol")
        self.connect("Dave")
        eve, _ = self.connect("Eve")
        self.hub.disconnect(eve)
        bob = self.hub.find("Bob")
        self.hub.disconnect(bob)
        self.assertEqual(alicjaSees.take(), [])
        self.clock.advance(1)
        self.assertEqual(
            alicjaSees.take(), [events.Crowd("lobby", ("Carol", "Dave"), ("Bob",))]
        )
        self.clock.advance(10)
        self.assertEqual(alicjaSees.take(), [])

    def test_chatIsNeverDelayed(self) -> None:
        """
        Lines said while a summary is pending arrive at once.
        """
        alicja, alicjaSees = self.connect("Alicja")
        self.connect("Bob")
        self.connect("Carol")
        alicjaSees.take()
        self.hub.say(alicja, "now")
        self.assertEqual(alicjaSees.take(), [events.Said(who("Alicja"), "lobby", "now")])

    def test_renameWhilePending(self) -> None:
        """
        A summary names a newcomer by the nickname they have when it is sent.
        """
        alicja, alicjaSees = self.connect("Alicja")
        self.connect("Bob")
        carol, _ = self.connect("Carol")
        self.hub.rename(carol, "Karolina")
        alicjaSees.take()
        self.clock.advance(1)
        self.assertEqual(alicjaSees.take(), [events.Crowd("lobby", ("Karolina",), ())])


class BigRoomTests(SynchronousTestCase):
    def test_tenThousandJoinAtLinearCost(self) -> None:
        """
        10,000 people joining one room cause deliveries linear in their
        number, not quadratic: the crowd policy at work.
        """
        clock = Clock()
        hub = Hub(clock, maxPerAddress=10_000)
        participants = []
        for number in range(10_000):
            participant = RecordingParticipant()
            hub.register(hub.connect(participant), f"user{number}")
            participants.append(participant)
            if number % 1000 == 999:
                clock.advance(1)
        clock.advance(1)
        delivered = sum(len(p.events) for p in participants)
        # Each member: a welcome, at most ten summaries, and the one-by-one
        # announcements of the first hundred.
        self.assertLess(delivered, 10_000 * 12 + 100 * 100)
        last = participants[-1].events
        self.assertIsInstance(last[-1], events.Crowd)
        self.assertEqual(len(hub.who(hub.find("user0"))), 10_000)


class ShutdownTests(HubTestCase):
    def test_everyoneHearsOfTheClose(self) -> None:
        """
        On shutdown every connection, registered or not, is told.
        """
        _, alicjaSees = self.connect("Alicja")
        _, anonymousSees = self.connect()
        self.hub.shutdown()
        self.assertEqual(alicjaSees.take(), [events.Closing()])
        self.assertEqual(anonymousSees.take(), [events.Closing()])

    def test_whenEmpty(self) -> None:
        """
        The hub says when the last connection is gone.
        """
        alicja, _ = self.connect("Alicja")
        called = []
        self.hub.whenEmpty(lambda: called.append(True))
        self.assertEqual(called, [])
        self.hub.disconnect(alicja)
        self.assertEqual(called, [True])
        self.hub.whenEmpty(lambda: called.append(True))
        self.assertEqual(called, [True, True])

    def test_closeAll(self) -> None:
        """
        closeAll asks every remaining connection to close at once.
        """
        _, alicjaSees = self.connect("Alicja")
        _, anonymousSees = self.connect()
        self.hub.closeAll()
        self.assertTrue(alicjaSees.closed)
        self.assertTrue(anonymousSees.closed)

    def test_pendingSummaryDropped(self) -> None:
        """
        A crowd summary pending at shutdown is never sent.
        """
        hub = Hub(self.clock, crowdSize=1)
        first = RecordingParticipant()
        hub.register(hub.connect(first), "Alicja")
        hub.register(hub.connect(RecordingParticipant()), "Bob")
        hub.shutdown()
        first.take()
        self.clock.advance(5)
        self.assertEqual(first.take(), [])


class ManyRoomsTests(HubTestCase):
    """
    IRC members are in several rooms at once.
    """

    def test_enterKeepsOtherRooms(self) -> None:
        """
        Entering a room adds to a member's rooms; the room's others hear it.
        """
        alicja, alicjaSees = self.connect("Alicja")
        bob, bobSees = self.connect("Bob")
        self.hub.enter(alicja, "kitchen")
        self.hub.enter(bob, "#kitchen")
        self.assertEqual([room.name for room in bob.rooms], ["lobby", "kitchen"])
        self.assertEqual(alicjaSees.take()[-1], events.Joined(who("Bob"), "kitchen"))
        self.assertRaises(AlreadyInRoom, self.hub.enter, bob, "Kitchen")

    def test_sayInANamedRoom(self) -> None:
        """
        A line said in a named room reaches that room only; a room one is
        not in is refused (the room is +n, as every new one).
        """
        alicja, alicjaSees = self.connect("Alicja")
        bob, bobSees = self.connect("Bob")
        self.hub.enter(alicja, "kitchen")
        self.hub.enter(bob, "kitchen")
        carol, carolSees = self.connect("Carol")
        for participant in (alicjaSees, bobSees):
            participant.take()
        self.hub.say(bob, "in the kitchen", "kitchen", notice=True)
        said = events.Said(who("Bob"), "kitchen", "in the kitchen", True)
        self.assertEqual(alicjaSees.take(), [said])
        self.assertEqual(carolSees.take(), [])
        error = self.assertRaises(CannotSpeak, self.hub.say, carol, "hi", "kitchen")
        self.assertEqual(error.reason, "outside")
        self.assertRaises(NoSuchRoom, self.hub.say, carol, "hi", "attic")

    def test_leaveHeardOnceAcrossSharedRooms(self) -> None:
        """
        Someone sharing two rooms with a leaver hears of the leave once.
        """
        alicja, alicjaSees = self.connect("Alicja")
        bob, bobSees = self.connect("Bob")
        self.hub.enter(alicja, "kitchen")
        self.hub.enter(bob, "kitchen")
        alicjaSees.take()
        self.hub.disconnect(bob, "bye")
        self.assertEqual(alicjaSees.take(), [events.Left(who("Bob"), "bye")])
        self.assertEqual(self.hub.who(alicja, "kitchen"), ["Alicja"])

    def test_renameHeardOnce(self) -> None:
        """
        A rename reaches each member sharing any room once, and the renamed.
        """
        alicja, alicjaSees = self.connect("Alicja")
        bob, bobSees = self.connect("Bob")
        self.hub.enter(alicja, "kitchen")
        self.hub.enter(bob, "kitchen")
        alicjaSees.take()
        bobSees.take()
        self.hub.rename(bob, "Robert")
        self.assertEqual(alicjaSees.take(), [events.Renamed(who("Bob"), "Robert")])
        self.assertEqual(bobSees.take(), [events.Renamed(who("Bob"), "Robert")])

    def test_part(self) -> None:
        """
        Parting leaves one room, staying connected; the room hears the reason.
        """
        alicja, alicjaSees = self.connect("Alicja")
        bob, bobSees = self.connect("Bob")
        self.hub.enter(alicja, "kitchen")
        self.hub.enter(bob, "kitchen")
        alicjaSees.take()
        self.hub.part(bob, "kitchen", "dinner done")
        self.assertEqual(alicjaSees.take(), [events.Parted(who("Bob"), "kitchen", "dinner done")])
        self.assertEqual([room.name for room in bob.rooms], ["lobby"])
        self.assertRaises(NotInRoom, self.hub.part, bob, "kitchen")

    def test_registerWithoutARoom(self) -> None:
        """
        IRC clients register into no room and pick their channels themselves.
        """
        alicja, alicjaSees = self.connect("Alicja")
        member, participant = self.connect()
        self.hub.register(member, "Bob", enter=False)
        self.assertEqual(participant.take(), [events.Welcome("Bob", "")])
        self.assertEqual(alicjaSees.take(), [])
        self.assertEqual(member.rooms, ())
        self.assertRaises(NotInRoom, self.hub.say, member, "hi")

    def test_topic(self) -> None:
        """
        A topic is kept on the room and announced to its members.
        """
        alicja, alicjaSees = self.connect("Alicja")
        self.hub.setTopic(alicja, "lobby", "Welcome!")
        self.assertEqual(self.hub.room("LOBBY").topic, "Welcome!")
        self.assertEqual(alicjaSees.take(), [events.TopicChanged(who("Alicja"), "lobby", "Welcome!")])

    def test_away(self) -> None:
        """
        Away is a message, and an empty one means back.
        """
        alicja, _ = self.connect("Alicja")
        self.hub.setAway(alicja, "lunch")
        self.assertEqual(self.hub.find("alicja").away, "lunch")
        self.hub.setAway(alicja, "")
        self.assertIsNone(alicja.away)

    def test_signonAndIdle(self) -> None:
        """
        The hub's clock stamps sign-on and the last time a member spoke.
        """
        self.clock.advance(100)
        alicja, _ = self.connect("Alicja")
        self.clock.advance(20)
        self.hub.say(alicja, "hi")
        self.assertEqual((alicja.signon, alicja.lastSpoke), (100, 120))


class LimitTests(SynchronousTestCase):
    def test_perAddressAndTotal(self) -> None:
        """
        Connections beyond the per-address or total limit are refused, and a
        departure makes room again.
        """
        hub = Hub(Clock(), maxConnections=3, maxPerAddress=2)
        first = hub.connect(RecordingParticipant(), host="10.0.0.1")
        hub.connect(RecordingParticipant(), host="10.0.0.1")
        error = self.assertRaises(
            TooManyConnections, hub.connect, RecordingParticipant(), host="10.0.0.1"
        )
        self.assertEqual((error.scope, error.limit), ("address", 2))
        hub.connect(RecordingParticipant(), host="10.0.0.2")
        error = self.assertRaises(
            TooManyConnections, hub.connect, RecordingParticipant(), host="10.0.0.3"
        )
        self.assertEqual((error.scope, error.limit), ("total", 3))
        hub.disconnect(first)
        hub.connect(RecordingParticipant(), host="10.0.0.1")

    def test_registrationTimeout(self) -> None:
        """
        A connection without a nickname after the timeout is told so; one
        that registered in time is not, and leaves no timer behind.
        """
        clock = Clock()
        hub = Hub(clock, registrationTimeout=30)
        slow, quick = RecordingParticipant(), RecordingParticipant()
        hub.connect(slow)
        hub.register(hub.connect(quick), "Ola")
        clock.advance(30)
        self.assertEqual(slow.take(), [events.TimedOut()])
        self.assertEqual(quick.take(), [events.Welcome("Ola", "lobby")])
        self.assertEqual(clock.getDelayedCalls(), [])


class IdentityTests(HubTestCase):
    def test_eventsCarryIdTimeAndSender(self) -> None:
        """
        A published event carries a fresh id, the hub clock's time when it
        was accepted, and its sender's whole identity.
        """
        participant = RecordingParticipant()
        member = self.hub.connect(participant, username="~ola", host="192.0.2.7")
        self.hub.register(member, "Ola")
        participant.take()
        self.clock.advance(12.5)
        self.hub.say(member, "one")
        self.hub.say(member, "two")
        first, second = participant.take()
        self.assertEqual(first.sender, events.Identity("Ola", "~ola", "192.0.2.7"))
        self.assertEqual(first.sender.mask, "Ola!~ola@192.0.2.7")
        self.assertEqual((first.time, second.time), (12.5, 12.5))
        self.assertNotEqual(first.id, second.id)
        self.assertRegex(first.id, "^[a-z0-9]+$")

    def test_idsUniqueAcrossHubs(self) -> None:
        """
        Two hubs (two processes, two nodes) never hand out the same id.
        """
        ids = set()
        for _ in range(2):
            hub = Hub(Clock())
            participant = RecordingParticipant()
            member = hub.connect(participant)
            hub.register(member, "Ola")
            for n in range(50):
                hub.say(member, str(n))
            ids.update(event.id for event in participant.take())
        self.assertEqual(len(ids), 102)

    def test_renameNamesTheOldIdentity(self) -> None:
        """
        A rename names who the member was, so that others can match it.
        """
        alicja, alicjaSees = self.connect("Alicja")
        bob, bobSees = self.connect("Bob")
        alicjaSees.take()
        self.hub.rename(bob, "Robert")
        [renamed] = alicjaSees.take()
        self.assertEqual((renamed.sender.nickname, renamed.new), ("Bob", "Robert"))
        self.assertEqual(bob.identity.nickname, "Robert")

    def test_leaveNamesTheLeaver(self) -> None:
        """
        The leave still describes who left, though the hub has forgotten them.
        """
        alicja, alicjaSees = self.connect("Alicja")
        bob, _ = self.connect("Bob")
        alicjaSees.take()
        self.hub.disconnect(bob, "bye")
        [left] = alicjaSees.take()
        self.assertEqual(left.sender, who("Bob"))
        self.assertRaises(NoSuchNickname, self.hub.find, "Bob")


class Exploding(RecordingParticipant):
    """
    A participant whose output raises, as a broken front-end might.
    """

    def send(self, data) -> None:
        raise RuntimeError("broken front-end")


class DeliveryTests(HubTestCase):
    def test_observerSeesEachEventOnce(self) -> None:
        """
        An observer (history, a bus) sees every published event once, with
        its audience, before anyone else; notices to one connection are not
        published.
        """
        seen = []

        class Observer:
            def published(self, event, audience):
                seen.append((event, [room.name for room in audience.rooms]))

        self.hub.delivery.observe(Observer())
        alicja, _ = self.connect("Alicja")
        bob, _ = self.connect("Bob")
        self.hub.say(alicja, "hi")
        self.hub.disconnect(bob)
        self.assertEqual(
            seen,
            [
                (events.Joined(who("Alicja"), "lobby"), ["lobby"]),
                (events.Joined(who("Bob"), "lobby"), ["lobby"]),
                (events.Said(who("Alicja"), "lobby", "hi"), ["lobby"]),
                (events.Left(who("Bob")), ["lobby"]),
            ],
        )

    def test_failingParticipantIsDropped(self) -> None:
        """
        A participant that raises is logged and dropped after the turn; the
        others still get the event, and the room hears it left.
        """
        alicja, alicjaSees = self.connect("Alicja")
        carol, carolSees = self.connect("Carol")
        broken = Exploding()
        member = self.hub.connect(broken)
        self.hub.register(member, "Broken")
        alicjaSees.take()
        carolSees.take()
        self.hub.say(alicja, "hello")
        self.assertEqual(carolSees.take(), [events.Said(who("Alicja"), "lobby", "hello")])
        self.assertTrue(broken.closed)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        self.clock.advance(0)
        self.assertEqual(self.hub.who(alicja), ["Alicja", "Carol"])
        self.assertEqual(
            alicjaSees.take(),
            [events.Said(who("Alicja"), "lobby", "hello"), events.Left(who("Broken"), "Internal error")],
        )

    def test_orderPerConnectionAcrossRooms(self) -> None:
        """
        A member in two rooms receives events in the order the hub emitted
        them, whatever room or private conversation each came from.
        """
        alicja, alicjaSees = self.connect("Alicja")
        bob, _ = self.connect("Bob")
        self.hub.enter(alicja, "kitchen")
        self.hub.enter(bob, "kitchen")
        alicjaSees.take()
        self.hub.say(bob, "1", "lobby")
        self.hub.say(bob, "2", "kitchen")
        self.hub.whisper(bob, "Alicja", "3")
        self.hub.say(bob, "4", "lobby")
        self.assertEqual([event.text for event in alicjaSees.take()], ["1", "2", "3", "4"])


class BoundsTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.hub = Hub(Clock(), maxRoomsPerMember=3, maxRooms=4)

    def member(self, nickname: str) -> Member:
        member = self.hub.connect(RecordingParticipant())
        self.hub.register(member, nickname)
        return member

    def test_roomsPerMember(self) -> None:
        """
        A member in as many rooms as allowed is refused one more, and
        nothing changes.
        """
        ola = self.member("Ola")
        self.hub.enter(ola, "a")
        self.hub.enter(ola, "b")
        error = self.assertRaises(TooManyRooms, self.hub.enter, ola, "c")
        self.assertEqual((error.scope, error.limit, error.room), ("member", 3, "c"))
        self.assertEqual([room.name for room in self.hub.rooms()], ["a", "b", "lobby"])

    def test_roomsOnTheServer(self) -> None:
        """
        Past the server's room limit nobody makes a new room, by IRC JOIN or
        native /join; existing rooms stay open to all.
        """
        ola, ewa = self.member("Ola"), self.member("Ewa")
        self.hub.enter(ola, "a")
        self.hub.move(ewa, "c")
        iga = self.member("Iga")
        self.hub.enter(iga, "b")
        self.assertEqual(len(self.hub.rooms()), 4)
        error = self.assertRaises(TooManyRooms, self.hub.enter, ola, "d")
        self.assertEqual((error.scope, error.limit), ("server", 4))
        self.assertRaises(TooManyRooms, self.hub.move, ewa, "d")
        self.assertEqual(ewa.room.name, "c")
        self.hub.move(ewa, "a")
        self.hub.move(ewa, "d")
        self.assertEqual(ewa.room.name, "d")

    def test_emptyRoomsLeaveNothing(self) -> None:
        """
        A room that existed only because someone joined it is gone when they
        leave, so it no longer counts.
        """
        ola = self.member("Ola")
        for name in ["a", "b", "c", "d", "e", "f"]:
            self.hub.enter(ola, name)
            self.hub.part(ola, name)
        self.assertEqual([room.name for room in self.hub.rooms()], ["lobby"])

    def test_textsAreCut(self) -> None:
        """
        Topics, away messages and real names are cut to their limits.
        """
        from chatsvc.names import MAX_AWAY_LENGTH, MAX_REALNAME_LENGTH, MAX_TOPIC_LENGTH

        member = self.hub.connect(RecordingParticipant())
        self.hub.register(member, "Ola", realname="r" * 1000)
        self.assertEqual(len(member.realname), MAX_REALNAME_LENGTH)
        self.hub.setTopic(member, "lobby", "t" * 1000)
        self.assertEqual(len(self.hub.room("lobby").topic), MAX_TOPIC_LENGTH)
        self.hub.setAway(member, "a" * 1000)
        self.assertEqual(len(member.away), MAX_AWAY_LENGTH)


class DeadlineTests(SynchronousTestCase):
    def test_eachConnectionItsOwnDeadline(self) -> None:
        """
        Connections that arrive at different times each get the full
        registration time, from one timer; none is left once all are named.
        """
        clock = Clock()
        hub = Hub(clock, registrationTimeout=10)
        early, late = RecordingParticipant(), RecordingParticipant()
        hub.connect(early)
        clock.advance(4)
        member = hub.connect(late)
        self.assertEqual(len(clock.getDelayedCalls()), 1)
        clock.advance(6)
        self.assertEqual(early.take(), [events.TimedOut("unknown")])
        self.assertEqual(late.take(), [])
        clock.advance(3.9)
        self.assertEqual(late.take(), [])
        hub.register(member, "Ola")
        self.assertEqual(clock.getDelayedCalls(), [])
        clock.advance(100)
        self.assertNotIn(events.TimedOut("unknown"), late.take())
