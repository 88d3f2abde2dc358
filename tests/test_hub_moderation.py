"""
Tests for the roles, modes, bans, accounts and server operators of
L{chatsvc.hub}.
"""

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from chatsvc import events
from chatsvc.errors import (
    AlreadyThere,
    CannotJoin,
    CannotSpeak,
    ListFull,
    NicknameReserved,
    NoSuchNickname,
    NotInRoom,
    NotInThatRoom,
    NotLoggedIn,
    NotPermitted,
    RoomRegistered,
)
from chatsvc.hub import Hub, Member
from chatsvc.moderation import MAX_BANS, ModeChange, Modes, Role
from chatsvc.records import Ban
from chatsvc.testing import RecordingParticipant


def plus(letter: str, argument: str | None = None) -> ModeChange:
    return ModeChange(True, letter, argument)


def minus(letter: str, argument: str | None = None) -> ModeChange:
    return ModeChange(False, letter, argument)


class ModerationTestCase(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.hub = Hub(self.clock)
        self.owners: dict[str, str] = {}
        self.hub.nicknameOwner = lambda nickname: self.owners.get(nickname.casefold())
        self.changed: list[str] = []
        self.hub.roomChanged = lambda room: self.changed.append(room.name)

    def connect(
        self, nickname: str, room: str | None = "kuchnia", host: str = "192.0.2.1"
    ) -> tuple[Member, RecordingParticipant]:
        """
        A member with C{nickname}, in C{room} (IRC-style: not in the lobby).
        """
        participant = RecordingParticipant()
        member = self.hub.connect(participant, username="u", host=host)
        self.hub.register(member, nickname, enter=False)
        if room is not None:
            self.hub.enter(member, room)
        participant.take()
        return member, participant


class RoleTests(ModerationTestCase):
    def test_makerIsOperator(self) -> None:
        """
        Whoever makes a room is its operator; who comes later is not.
        """
        ala, _ = self.connect("Ala")
        ola, _ = self.connect("Ola")
        room = self.hub.room("kuchnia")
        self.assertEqual((room.role(ala), room.role(ola)), (Role.OPERATOR, Role.MEMBER))

    def test_emptyRoomIsNew(self) -> None:
        """
        A room that empties is gone with its modes; even the default room,
        which stays, is new to whoever enters it next.
        """
        ala, _ = self.connect("Ala", room="lobby")
        self.hub.setModes(ala, "lobby", [plus("m"), plus("b", "troll")])
        self.hub.part(ala, "lobby")
        ola, _ = self.connect("Ola", room="lobby")
        room = self.hub.room("lobby")
        self.assertEqual((room.modes, room.bans, room.role(ola)), (Modes(), {}, Role.OPERATOR))

    def test_topicLocked(self) -> None:
        """
        In a new (+t) room only operators set the topic; with -t anyone.
        """
        ala, heard = self.connect("Ala")
        ola, _ = self.connect("Ola")
        heard.take()
        error = self.assertRaises(NotPermitted, self.hub.setTopic, ola, "kuchnia", "x")
        self.assertEqual((error.action, error.room), ("topic", "kuchnia"))
        self.assertEqual(heard.take(), [])
        self.hub.setModes(ala, "kuchnia", [minus("t")])
        self.hub.setTopic(ola, "kuchnia", "zupa")
        room = self.hub.room("kuchnia")
        self.assertEqual((room.topic, room.topicSetter), ("zupa", "Ola"))

    def test_giveAndTakeRoles(self) -> None:
        """
        Operators give and take roles; everyone in the room hears the
        changes made, by nickname as it is, and not those that change
        nothing.
        """
        ala, heard = self.connect("Ala")
        ola, olaHeard = self.connect("Ola")
        heard.take()
        made, refused = self.hub.setModes(
            ala, "kuchnia", [plus("v", "ola"), plus("v", "Ola"), plus("o", "OLA")]
        )
        self.assertEqual(made, [plus("v", "Ola"), plus("o", "Ola")])
        self.assertEqual(refused, [])
        event = events.ModeChanged(ala.identity, "kuchnia", tuple(made))
        self.assertEqual(heard.take(), [event])
        self.assertEqual(olaHeard.take(), [event])
        room = self.hub.room("kuchnia")
        self.assertEqual(room.role(ola), Role.OPERATOR)
        self.hub.setModes(ola, "kuchnia", [minus("o", "Ala")])
        self.assertEqual(room.role(ala), Role.MEMBER)

    def test_onlyOperatorsChangeModes(self) -> None:
        """
        A member who is no operator changes nothing, and nobody hears.
        """
        _, heard = self.connect("Ala")
        ola, _ = self.connect("Ola")
        heard.take()
        error = self.assertRaises(NotPermitted, self.hub.setModes, ola, "kuchnia", [plus("m")])
        self.assertEqual(error.action, "mode")
        self.assertEqual(self.hub.room("kuchnia").modes, Modes())
        self.assertEqual(heard.take(), [])

    def test_refusalsOneByOne(self) -> None:
        """
        A change naming someone absent is refused alone.
        """
        ala, _ = self.connect("Ala")
        self.connect("Ewa", room="ogród")
        made, refused = self.hub.setModes(
            ala, "kuchnia", [plus("o", "nobody"), plus("v", "Ewa"), plus("m")]
        )
        self.assertEqual(made, [plus("m")])
        self.assertEqual(
            [type(error) for error in refused], [NoSuchNickname, NotInThatRoom]
        )

    def test_settingsAsMade(self) -> None:
        """
        A key and a limit come back with their values; bad ones are left out.
        """
        ala, _ = self.connect("Ala")
        made, _ = self.hub.setModes(
            ala, "kuchnia", [plus("k", "tajne"), plus("l", "x"), plus("l", "5"), plus("s")]
        )
        self.assertEqual(made, [plus("k", "tajne"), plus("l", "5"), plus("s")])
        self.assertEqual(self.hub.room("kuchnia").modes.letters(), ("+nstkl", ("tajne", "5")))


class EntryTests(ModerationTestCase):
    def test_modesKeepOut(self) -> None:
        """
        A key, a limit, invite-only and a ban each keep newcomers out.
        """
        ala, _ = self.connect("Ala")
        ola, _ = self.connect("Ola", room=None, host="198.51.100.9")
        for changes, reason, key in [
            ([plus("k", "tajne")], "key", "zle"),
            ([minus("k"), plus("l", "1")], "full", None),
            ([minus("l"), plus("i")], "invite-only", None),
            ([minus("i"), plus("b", "*!*@198.51.100.*")], "banned", None),
        ]:
            self.hub.setModes(ala, "kuchnia", changes)
            error = self.assertRaises(CannotJoin, self.hub.enter, ola, "kuchnia", key)
            self.assertEqual((error.room, error.reason), ("kuchnia", reason))
        self.assertEqual(ola.rooms, ())

    def test_rightKey(self) -> None:
        """
        The right key lets in.
        """
        ala, _ = self.connect("Ala")
        ola, _ = self.connect("Ola", room=None)
        self.hub.setModes(ala, "kuchnia", [plus("k", "tajne")])
        self.hub.enter(ola, "kuchnia", "tajne")
        self.assertIn(ola, self.hub.room("kuchnia").members)

    def test_invitation(self) -> None:
        """
        An invitation lets its guest into an invite-only room once; the
        guest and the room's other operators hear of it.
        """
        ala, _ = self.connect("Ala")
        ewa, ewaHeard = self.connect("Ewa")
        self.hub.setModes(ala, "kuchnia", [plus("o", "Ewa"), plus("i")])
        ola, olaHeard = self.connect("Ola", room=None)
        ewaHeard.take()
        self.assertRaises(NotInRoom, self.hub.invite, ola, "kuchnia", "Ola")
        self.hub.setModes(ala, "kuchnia", [minus("o", "Ewa")])
        self.assertRaises(NotPermitted, self.hub.invite, ewa, "kuchnia", "Ola")
        self.hub.setModes(ala, "kuchnia", [plus("o", "Ewa")])
        ewaHeard.take()
        self.hub.invite(ala, "kuchnia", "ola")
        self.assertEqual(olaHeard.take(), [events.Invited(ala.identity, "kuchnia", "Ola")])
        self.assertEqual(ewaHeard.take(), [events.InviteNotice(ala.identity, "kuchnia", "Ola")])
        self.hub.enter(ola, "kuchnia")
        self.hub.part(ola, "kuchnia")
        self.assertRaises(CannotJoin, self.hub.enter, ola, "kuchnia")
        self.assertRaises(AlreadyThere, self.hub.invite, ala, "kuchnia", "Ewa")

    def test_bannedFromTheLobby(self) -> None:
        """
        A native connection banned from the default room cannot register
        into it, and keeps no nickname.
        """
        ala, _ = self.connect("Ala", room="lobby")
        self.hub.setModes(ala, "lobby", [plus("b", "troll")])
        member = self.hub.connect(RecordingParticipant())
        self.assertRaises(CannotJoin, self.hub.register, member, "Troll")
        self.assertIsNone(member.nickname)
        self.hub.register(member, "Miły")


class SpeakingTests(ModerationTestCase):
    def test_moderated(self) -> None:
        """
        In a moderated room only the voiced and operators speak.
        """
        ala, heard = self.connect("Ala")
        ola, _ = self.connect("Ola")
        self.hub.setModes(ala, "kuchnia", [plus("m")])
        heard.take()
        error = self.assertRaises(CannotSpeak, self.hub.say, ola, "hej", "kuchnia")
        self.assertEqual(error.reason, "moderated")
        self.assertRaises(CannotSpeak, self.hub.act, ola, "macha", "kuchnia")
        self.assertEqual(heard.take(), [])
        self.hub.setModes(ala, "kuchnia", [plus("v", "Ola")])
        heard.take()
        self.hub.say(ola, "hej", "kuchnia")
        self.assertEqual(heard.take(), [events.Said(ola.identity, "kuchnia", "hej")])

    def test_bannedMemberIsQuiet(self) -> None:
        """
        A member banned after coming in stays, but speaks only with a voice.
        """
        ala, _ = self.connect("Ala")
        ola, _ = self.connect("Ola")
        self.hub.setModes(ala, "kuchnia", [plus("b", "ola")])
        error = self.assertRaises(CannotSpeak, self.hub.say, ola, "hej", "kuchnia")
        self.assertEqual(error.reason, "banned")
        self.hub.setModes(ala, "kuchnia", [plus("v", "Ola")])
        self.hub.say(ola, "hej", "kuchnia")

    def test_outside(self) -> None:
        """
        With +n (the default) only members speak to a room; with -n
        anyone may, and the room hears it.
        """
        ala, heard = self.connect("Ala")
        ola, _ = self.connect("Ola", room="ogród")
        error = self.assertRaises(CannotSpeak, self.hub.say, ola, "hej", "kuchnia")
        self.assertEqual(error.reason, "outside")
        self.hub.setModes(ala, "kuchnia", [minus("n")])
        heard.take()
        self.hub.say(ola, "hej", "kuchnia")
        self.assertEqual(heard.take(), [events.Said(ola.identity, "kuchnia", "hej")])


class KickTests(ModerationTestCase):
    def test_kick(self) -> None:
        """
        The room, the one kicked included, hears the kick; then they are out.
        """
        ala, heard = self.connect("Ala")
        ola, olaHeard = self.connect("Ola")
        heard.take()
        self.hub.kick(ala, "kuchnia", "ola", "spam")
        kicked = events.Kicked(ala.identity, "kuchnia", "Ola", "spam")
        self.assertEqual(heard.take(), [kicked])
        self.assertEqual(olaHeard.take(), [kicked])
        self.assertEqual(ola.rooms, ())
        self.assertRaises(NotInRoom, self.hub.say, ola, "hej")

    def test_refused(self) -> None:
        """
        Only operators kick, and only those in the room.
        """
        ala, _ = self.connect("Ala")
        ola, _ = self.connect("Ola")
        self.connect("Ewa", room="ogród")
        self.assertRaises(NotPermitted, self.hub.kick, ola, "kuchnia", "Ala")
        self.assertRaises(NotInThatRoom, self.hub.kick, ala, "kuchnia", "Ewa")
        self.assertRaises(NoSuchNickname, self.hub.kick, ala, "kuchnia", "Nikt")
        self.assertIn(ala, self.hub.room("kuchnia").members)

    def test_kickedNativeMemberJoinsAgain(self) -> None:
        """
        A native member kicked out of its one room is in none until it
        moves: as if it joined, the room hears it come.
        """
        ala, _ = self.connect("Ala", room="lobby")
        participant = RecordingParticipant()
        ola = self.hub.connect(participant)
        self.hub.register(ola, "Ola")
        self.hub.kick(ala, "lobby", "Ola")
        participant.take()
        self.hub.move(ola, "kuchnia")
        self.assertEqual(
            participant.take(),
            [events.Moved("kuchnia", 1)],
        )
        self.assertEqual(self.hub.room("kuchnia").role(ola), Role.OPERATOR)


class BanTests(ModerationTestCase):
    def test_listAndLimit(self) -> None:
        """
        Bans are kept normalized, once each, up to the limit.
        """
        ala, _ = self.connect("Ala")
        made, _ = self.hub.setModes(ala, "kuchnia", [plus("b", "troll"), plus("b", "troll!*@*")])
        self.assertEqual(made, [plus("b", "troll!*@*")])
        room = self.hub.room("kuchnia")
        self.assertEqual(list(room.bans.values()), [Ban("troll!*@*", ala.identity.mask, 0.0)])
        self.hub.setModes(
            ala, "kuchnia", [plus("b", f"t{n}") for n in range(MAX_BANS - 1)]
        )
        _, refused = self.hub.setModes(ala, "kuchnia", [plus("b", "one-more")])
        self.assertEqual([type(e) for e in refused], [ListFull])
        made, _ = self.hub.setModes(ala, "kuchnia", [minus("b", "troll"), minus("b", "troll")])
        self.assertEqual(made, [minus("b", "troll!*@*")])


class AccountTests(ModerationTestCase):
    def test_reservedNickname(self) -> None:
        """
        A registered nickname is for its account's holder only, at
        registration and by rename.
        """
        self.owners["ewa"] = "Ewa"
        member = self.hub.connect(RecordingParticipant())
        self.assertRaises(NicknameReserved, self.hub.register, member, "EWA", enter=False)
        self.hub.register(member, "Gość", enter=False)
        self.assertRaises(NicknameReserved, self.hub.rename, member, "ewa")
        self.hub.logIn(member, "Ewa")
        self.hub.rename(member, "ewa")
        self.assertEqual(member.identity.account, "Ewa")

    def test_loginHeard(self) -> None:
        """
        Those who share a room hear someone log in, named as they were.
        """
        ala, heard = self.connect("Ala")
        ola, _ = self.connect("Ola")
        heard.take()
        before = ola.identity
        self.hub.logIn(ola, "Ola")
        self.assertEqual(heard.take(), [events.AccountChanged(before, "Ola")])
        self.assertEqual(ola.identity.account, "Ola")

    def test_registerRoom(self) -> None:
        """
        A logged-in operator registers a room: it stays when empty, keeps
        its modes and the roles given to accounts, and its owner is its
        operator when it comes back.
        """
        ala, _ = self.connect("Ala")
        self.assertRaises(NotLoggedIn, self.hub.registerRoom, ala, "kuchnia")
        self.hub.logIn(ala, "Ala")
        ola, _ = self.connect("Ola")
        self.hub.logIn(ola, "Ola")
        self.assertRaises(NotPermitted, self.hub.registerRoom, ola, "kuchnia")
        self.hub.registerRoom(ala, "kuchnia")
        self.assertRaises(RoomRegistered, self.hub.registerRoom, ala, "kuchnia")
        self.hub.setModes(ala, "kuchnia", [plus("m"), plus("v", "Ola")])
        self.assertEqual(self.changed, ["kuchnia", "kuchnia"])
        self.hub.part(ala, "kuchnia")
        self.hub.part(ola, "kuchnia")
        room = self.hub.room("kuchnia")
        self.assertEqual(room.access, {"ala": Role.OPERATOR, "ola": Role.VOICE})
        self.assertTrue(room.modes.moderated)
        self.hub.enter(ola, "kuchnia")
        self.hub.enter(ala, "kuchnia")
        self.assertEqual((room.role(ola), room.role(ala)), (Role.VOICE, Role.OPERATOR))
        stranger, _ = self.connect("Obcy", room=None)
        self.hub.enter(stranger, "kuchnia")
        self.assertEqual(room.role(stranger), Role.MEMBER)

    def test_accountDropped(self) -> None:
        """
        An account dropped logs its holder out and lets go of its rooms.
        """
        ala, _ = self.connect("Ala")
        self.hub.logIn(ala, "Ala")
        self.hub.registerRoom(ala, "kuchnia")
        self.hub.accountDropped("ala")
        self.assertIsNone(ala.account)
        self.assertIsNone(self.hub.room("kuchnia").owner)


class ServerOperatorTests(ModerationTestCase):
    def test_overridesRooms(self) -> None:
        """
        A server operator comes past bans and keys and changes any room's
        modes.
        """
        ala, _ = self.connect("Ala")
        self.hub.setModes(ala, "kuchnia", [plus("b", "*!*@*"), plus("k", "x")])
        oper, _ = self.connect("Szef", room=None)
        self.hub.becomeOperator(oper, "szef")
        self.hub.enter(oper, "kuchnia")
        made, _ = self.hub.setModes(oper, "kuchnia", [minus("k")])
        self.assertEqual(made, [minus("k")])

    def test_killAndWallops(self) -> None:
        """
        Only server operators kill and send wallops; the killed is told,
        and leaves with the reason.
        """
        ala, heard = self.connect("Ala")
        ola, olaHeard = self.connect("Ola")
        self.assertRaises(NotPermitted, self.hub.kill, ala, "Ola", "x")
        self.assertRaises(NotPermitted, self.hub.wallops, ala, "x")
        self.hub.becomeOperator(ala, "ala")
        self.hub.becomeOperator(ala, "ala")
        self.assertEqual(self.hub.operatorCount, 1)
        heard.take()
        self.hub.wallops(ala, "restart o 12")
        wallops = events.Wallops(ala.identity, "restart o 12")
        self.assertEqual((heard.take(), olaHeard.take()), ([wallops], [wallops]))
        identity = ola.identity
        self.hub.kill(ala, "Ola", "spam")
        self.assertEqual(olaHeard.take(), [events.Killed(ala.identity, "spam")])
        self.assertEqual(heard.take(), [events.Left(identity, "Killed (Ala (spam))")])
        self.assertFalse(ola.connected)
        self.hub.disconnect(ala)
        self.assertEqual(self.hub.operatorCount, 0)


class PresenceTests(ModerationTestCase):
    def test_awayAndRealname(self) -> None:
        """
        Going away, coming back and a new real name are heard by those who
        share a room; the same away twice is heard once.
        """
        ala, heard = self.connect("Ala")
        ola, _ = self.connect("Ola")
        heard.take()
        identity = ola.identity
        self.hub.setAway(ola, "obiad")
        self.hub.setAway(ola, "obiad")
        self.hub.setAway(ola, None)
        self.hub.setRealname(ola, "Ola K.")
        self.assertEqual(
            heard.take(),
            [
                events.AwayChanged(identity, "obiad"),
                events.AwayChanged(identity, None),
                events.RealnameChanged(ola.identity, "Ola K."),
            ],
        )
        self.assertEqual(ola.identity.realname, "Ola K.")
