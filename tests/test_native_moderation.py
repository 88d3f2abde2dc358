"""
Tests for the native front-end's moderation commands (C{/op}, C{/kick},
C{/ban}, C{/mode}, C{/topic}, ...), one connection at a time over
L{StringTransport}.
"""

from tests.test_native import NativeTestCase


class ModerationTestCase(NativeTestCase):
    def setUp(self) -> None:
        super().setUp()
        # Alicja made the lobby: its operator.
        self.alicja = self.connect("Alicja")
        self.bob = self.connect("Bob")
        self.alicja.lines()


class TopicTests(ModerationTestCase):
    def test_operatorSetsTopic(self) -> None:
        """
        The room's operator sets its topic with /topic; everyone hears it.
        """
        self.alicja.say("/topic Witamy\x1b[2J")
        heard = "Alicja set the topic of room lobby: Witamy\u241b[2J"
        self.assertEqual(self.alicja.lines(), [heard])
        self.assertEqual(self.bob.lines(), [heard])

    def test_memberMayNotSetTopic(self) -> None:
        """
        A member who is no operator is told that only operators set it.
        """
        self.bob.say("/topic mine")
        self.assertEqual(
            self.bob.lines(), ["! Only operators of room lobby may change its topic."]
        )
        self.assertEqual(self.alicja.lines(), [])

    def test_showTopic(self) -> None:
        """
        /topic alone shows the topic, or that there is none.
        """
        self.bob.say("/topic")
        self.assertEqual(self.bob.lines(), ["Room lobby has no topic."])
        self.alicja.say("/topic Witamy")
        self.bob.lines()
        self.bob.say("/topic")
        self.assertEqual(self.bob.lines(), ["The topic of room lobby: Witamy"])


class RoleTests(ModerationTestCase):
    def test_opAndDeop(self) -> None:
        """
        /op makes someone an operator, who may then set the topic; /deop
        takes it back.  The room hears each change as a mode line.
        """
        self.alicja.say("/op bob")
        self.assertEqual(self.bob.lines(), ["Alicja set the modes of room lobby: +o Bob"])
        self.assertEqual(self.alicja.lines(), ["Alicja set the modes of room lobby: +o Bob"])
        self.bob.say("/topic mine")
        self.assertEqual(self.bob.lines(), ["Bob set the topic of room lobby: mine"])
        self.alicja.lines()
        self.alicja.say("/deop Bob")
        self.assertEqual(self.bob.lines(), ["Alicja set the modes of room lobby: -o Bob"])

    def test_memberMayNotOp(self) -> None:
        """
        Only operators change roles.
        """
        self.bob.say("/op Bob")
        self.assertEqual(
            self.bob.lines(), ["! Only operators of room lobby may change its modes."]
        )

    def test_opSomeoneElsewhere(self) -> None:
        """
        A role for someone not in the room is refused by name; for nobody,
        as nobody.
        """
        carol = self.connect("Carol")
        carol.say("/join attic")
        self.alicja.lines()
        self.alicja.say("/op Carol")
        self.assertEqual(self.alicja.lines(), ["! Carol is not in room lobby."])
        self.alicja.say("/voice Zed")
        self.assertEqual(self.alicja.lines(), ["! Nobody called Zed is here."])

    def test_nothingChanged(self) -> None:
        """
        Giving a role someone holds changes nothing, and says so.
        """
        self.alicja.say("/op Alicja")
        self.assertEqual(self.alicja.lines(), ["Nothing changed."])

    def test_moderatedRoom(self) -> None:
        """
        In a +m room only the voiced and operators speak; /voice gives the
        word.
        """
        self.alicja.say("/mode +m")
        self.assertEqual(self.bob.lines(), ["Alicja set the modes of room lobby: +m"])
        self.bob.say("hello?")
        self.assertEqual(
            self.bob.lines(),
            ["! Room lobby is moderated: only voiced members and operators speak there."],
        )
        self.alicja.say("/voice Bob")
        self.bob.lines()
        self.bob.say("hello!")
        self.assertEqual(self.bob.lines(), ["Bob: hello!"])


class KickTests(ModerationTestCase):
    def test_kick(self) -> None:
        """
        /kick puts someone out, with the reason, for the room and them to
        hear; they are in no room until they /join one.
        """
        self.alicja.say("/kick Bob spam\x1b")
        heard = "Alicja put Bob out of room lobby (spam\u241b)."
        self.assertEqual(self.alicja.lines(), [heard])
        self.assertEqual(self.bob.lines(), [heard])
        self.bob.say("hello?")
        self.assertEqual(self.bob.lines(), ["! You are in no room; /join one."])
        self.assertEqual(self.alicja.lines(), [])
        self.bob.say("/who")
        self.assertEqual(self.bob.lines(), ["! You are in no room; /join one."])
        self.bob.say("/join lobby")
        self.assertEqual(self.bob.lines(), ["You are now in room lobby (2 members)."])
        self.assertEqual(self.alicja.lines(), ["Bob joined the chat!"])

    def test_kickWithoutReason(self) -> None:
        """
        A kick without a reason says none.
        """
        self.alicja.say("/kick bob")
        self.assertEqual(self.bob.lines(), ["Alicja put Bob out of room lobby."])

    def test_memberMayNotKick(self) -> None:
        """
        Only operators kick.
        """
        self.bob.say("/kick Alicja")
        self.assertEqual(
            self.bob.lines(), ["! Only operators of room lobby may put people out of it."]
        )

    def test_usage(self) -> None:
        """
        /kick without a nickname shows its usage.
        """
        self.alicja.say("/kick")
        self.assertEqual(self.alicja.lines(), ["! Usage: /kick <nickname> [reason]"])


class BanTests(ModerationTestCase):
    def test_banAndList(self) -> None:
        """
        /ban of a nickname bans its mask; /bans lists it with its setter;
        the banned may not come back in, nor speak while there.
        """
        self.alicja.say("/ban Bob")
        self.assertEqual(self.bob.lines(), ["Alicja set the modes of room lobby: +b Bob!*@*"])
        self.bob.say("still here")
        self.assertEqual(
            self.bob.lines(), ["! You are banned from room lobby: you cannot speak there."]
        )
        self.alicja.lines()
        self.alicja.say("/bans")
        lines = self.alicja.lines()
        self.assertEqual(lines[0], "Room lobby bans 1 mask:")
        self.assertTrue(lines[1].startswith("  Bob!*@* (set by Alicja!Alicja@"), lines)
        self.alicja.say("/kick Bob")
        self.bob.lines()
        self.bob.say("/join lobby")
        self.assertEqual(self.bob.lines(), ["! You are banned from room lobby."])
        self.alicja.say("/unban Bob")
        self.alicja.lines()
        self.bob.say("/join lobby")
        self.assertEqual(self.bob.lines(), ["You are now in room lobby (2 members)."])

    def test_noBans(self) -> None:
        """
        /bans of a room without bans says so.
        """
        self.bob.say("/bans")
        self.assertEqual(self.bob.lines(), ["Nobody is banned from room lobby."])


class ModeTests(ModerationTestCase):
    def test_showModes(self) -> None:
        """
        /mode alone shows the room's modes: +nt for a new room.
        """
        self.bob.say("/mode")
        self.assertEqual(self.bob.lines(), ["The modes of room lobby: +nt"])

    def test_secretRoomUnlisted(self) -> None:
        """
        A +s room is listed by /rooms only to those inside it.
        """
        self.alicja.say("/join attic")
        self.alicja.say("/mode +s")
        self.alicja.lines()
        self.bob.lines()
        self.bob.say("/rooms")
        self.assertEqual(self.bob.lines(), ["1 room: lobby (1)"])
        self.alicja.say("/rooms")
        self.assertEqual(self.alicja.lines(), ["2 rooms: attic (1), lobby (1)"])

    def test_keyedRoom(self) -> None:
        """
        A +k room needs its key: /join room key.
        """
        self.alicja.say("/join attic")
        self.alicja.say("/mode +k sezam")
        self.alicja.lines()
        self.bob.lines()
        self.bob.say("/join attic")
        self.assertEqual(self.bob.lines(), ["! Room attic needs a key: /join attic <key>."])
        self.bob.say("/join attic sezam")
        self.assertEqual(self.bob.lines(), ["You are now in room attic (2 members)."])
        self.bob.say("/mode")
        self.assertEqual(self.bob.lines(), ["The modes of room attic: +ntk sezam"])

    def test_inviteOnly(self) -> None:
        """
        A +i room lets in only the invited; the guest is told how to come.
        """
        self.alicja.say("/join attic")
        self.alicja.say("/mode +i")
        self.alicja.lines()
        self.bob.lines()
        self.bob.say("/join attic")
        self.assertEqual(
            self.bob.lines(),
            ["! Room attic is invite-only; ask one of its operators to /invite you."],
        )
        self.alicja.say("/invite Bob")
        self.assertEqual(self.alicja.lines(), ["You invited Bob to room attic."])
        self.assertEqual(self.bob.lines(), ["Alicja invited Bob to room attic (/join attic)."])
        self.bob.say("/join attic")
        self.assertEqual(self.bob.lines(), ["You are now in room attic (2 members)."])
        self.bob.say("/invite Alicja")
        self.assertEqual(
            self.bob.lines(), ["! Room attic is invite-only: only its operators may invite."]
        )

    def test_inviteSomeoneThere(self) -> None:
        """
        Inviting someone already in the room is refused.
        """
        self.alicja.say("/invite Bob")
        self.assertEqual(self.alicja.lines(), ["! Bob is in room lobby already."])

    def test_limit(self) -> None:
        """
        A full +l room refuses newcomers.
        """
        self.alicja.say("/mode +l 2")
        self.assertEqual(self.alicja.lines(), ["Alicja set the modes of room lobby: +l 2"])
        carol = self.connect()
        carol.lines()
        carol.say("Carol")
        self.assertEqual(
            carol.lines(),
            ["Connected to server!", "! Room lobby is full.", "! You are in no room; /join one."],
        )

    def test_malformedMode(self) -> None:
        """
        Modes without their arguments, or unknown letters, show the usage.
        """
        for line in ["/mode +o", "/mode +x", "/mode m", "/mode +m extra"]:
            self.alicja.say(line)
            self.assertEqual(
                self.alicja.lines(),
                ["! Usage: /mode [+|-letters [arguments]] (letters: o v b i m n s t k l)"],
                line,
            )


class RegisterRoomTests(ModerationTestCase):
    def test_needsAccount(self) -> None:
        """
        Registering a room needs an account.
        """
        self.alicja.say("/registerroom")
        self.assertEqual(
            self.alicja.lines(),
            ["! Log in first: /identify <password>, or /register <password>."],
        )


class OperatorTests(ModerationTestCase):
    def test_noOperators(self) -> None:
        """
        Without server operators, /oper says so; /kill and /wallops are
        refused.
        """
        self.bob.say("/oper root secret")
        self.assertEqual(self.bob.lines(), ["! This server has no server operators."])
        self.bob.say("/kill Alicja go")
        self.assertEqual(self.bob.lines(), ["! Only server operators may use /kill."])
        self.bob.say("/wallops hi")
        self.assertEqual(self.bob.lines(), ["! Only server operators may use /wallops."])
