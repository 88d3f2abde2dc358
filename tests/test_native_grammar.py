"""
Tests for the moderation and account commands of L{chatsvc.native.wire}
and for the wording of the events and refusals they bring: pure functions
on strings.
"""

from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from chatsvc import events
from chatsvc.errors import (
    AccountExists,
    AlreadyThere,
    CannotJoin,
    CannotSpeak,
    ListFull,
    LoginFailed,
    NicknameReserved,
    NotInRoom,
    NotInThatRoom,
    NotLoggedIn,
    NotPermitted,
    RoomRegistered,
    TooManyAccounts,
    TooManyAttempts,
    WeakPassword,
)
from chatsvc.events import Identity
from chatsvc.i18n import LANGUAGES, translation
from chatsvc.moderation import ModeChange, Modes
from chatsvc.native import wire, wording
from chatsvc.records import Ban
from tests.test_wire import anyText, heldNicknames

words = st.text(
    st.characters(blacklist_categories=("Z", "C")), min_size=1, max_size=12
)


@st.composite
def modeChanges(draw) -> tuple[ModeChange, ...]:
    """
    Changes as /mode writes them: an argument for each letter that takes
    one, none for C{-k}.
    """
    changes = []
    for _ in range(draw(st.integers(1, 5))):
        adding = draw(st.booleans())
        letter = draw(st.sampled_from(wire.MODE_LETTERS))
        change = ModeChange(adding, letter)
        if change.takesArgument() and not (letter == "k" and not adding):
            change = ModeChange(adding, letter, draw(words))
        changes.append(change)
    return tuple(changes)


class CommandTests(SynchronousTestCase):
    def test_commands(self) -> None:
        """
        Each new command parses into its value.
        """
        cases = {
            "/join attic sezam": wire.Join("attic", "sezam"),
            "/join attic": wire.Join("attic"),
            "/op Bob": wire.ChangeModes((ModeChange(True, "o", "Bob"),)),
            "/DEOP Bob": wire.ChangeModes((ModeChange(False, "o", "Bob"),)),
            "/voice Bob": wire.ChangeModes((ModeChange(True, "v", "Bob"),)),
            "/devoice Bob": wire.ChangeModes((ModeChange(False, "v", "Bob"),)),
            "/ban *!*@192.0.2.*": wire.ChangeModes((ModeChange(True, "b", "*!*@192.0.2.*"),)),
            "/unban ~a:ola": wire.ChangeModes((ModeChange(False, "b", "~a:ola"),)),
            "/bans": wire.Bans(),
            "/kick Bob  go away": wire.Kick("Bob", "go away"),
            "/kick Bob": wire.Kick("Bob", None),
            "/invite Bob": wire.Invite("Bob"),
            "/topic": wire.Topic(None),
            "/topic Witamy  w klasie": wire.Topic("Witamy  w klasie"),
            "/mode": wire.ShowModes(),
            "/mode +o-v Bob Ewa": wire.ChangeModes(
                (ModeChange(True, "o", "Bob"), ModeChange(False, "v", "Ewa"))
            ),
            "/mode +kl-k sezam 30": wire.ChangeModes(
                (ModeChange(True, "k", "sezam"), ModeChange(True, "l", "30"), ModeChange(False, "k"))
            ),
            "/mode -lmi": wire.ChangeModes(
                (ModeChange(False, "l"), ModeChange(False, "m"), ModeChange(False, "i"))
            ),
            "/registerroom": wire.RegisterRoom(),
            "/register haslo123": wire.RegisterAccount("haslo123"),
            "/identify haslo123": wire.Identify(None, "haslo123"),
            "/identify Ala haslo123": wire.Identify("Ala", "haslo123"),
            "/password stare nowe": wire.ChangePassword("stare", "nowe"),
            "/drop haslo123": wire.Drop("haslo123"),
            "/oper root haslo": wire.Oper("root", "haslo"),
            "/kill Bob flooding the room": wire.Kill("Bob", "flooding the room"),
            "/wallops restart at noon": wire.Wallops("restart at noon"),
        }
        for line, command in cases.items():
            self.assertEqual(wire.parseLine(line), command, line)

    def test_malformed(self) -> None:
        """
        A command without the words it takes, or with more, asks for its
        usage; the usage names no password given.
        """
        for line, name in [
            ("/join a b c", "join"),
            ("/op", "op"),
            ("/op Bob Ewa", "op"),
            ("/ban", "ban"),
            ("/unban a b", "unban"),
            ("/kick", "kick"),
            ("/invite", "invite"),
            ("/invite Bob Ewa", "invite"),
            ("/mode +o", "mode"),
            ("/mode +m extra", "mode"),
            ("/mode m", "mode"),
            ("/mode +x", "mode"),
            ("/mode +", "mode"),
            ("/register", "register"),
            ("/register two words", "register"),
            ("/identify", "identify"),
            ("/identify a b c", "identify"),
            ("/password onlyone", "password"),
            ("/drop", "drop"),
            ("/oper root", "oper"),
            ("/kill Bob", "kill"),
            ("/wallops", "wallops"),
        ]:
            command = wire.parseLine(line)
            self.assertEqual(command, wire.Usage(name), line)
            self.assertIn(name, wire.USAGES)

    @given(modeChanges())
    def test_modesRoundTrip(self, changes) -> None:
        """
        Whatever changes, /mode reads back what formatModes writes.
        """
        self.assertEqual(wire.parseModes(wire.formatModes(changes)), changes)
        self.assertEqual(
            wire.parseLine("/mode " + wire.formatModes(changes)), wire.ChangeModes(changes)
        )

    @given(heldNicknames, anyText)
    def test_kickReason(self, nickname, reason) -> None:
        """
        A kick's reason is the rest of the line, spaces around it dropped.
        """
        self.assertEqual(
            wire.parseLine(f"/kick {nickname} {reason}"),
            wire.Kick(nickname, reason.strip(" ") or None),
        )

    @given(words, words)
    def test_identifyWords(self, account, password) -> None:
        """
        /identify takes a password, or an account then a password.
        """
        self.assertEqual(wire.parseLine(f"/identify {password}"), wire.Identify(None, password))
        self.assertEqual(
            wire.parseLine(f"/identify {account} {password}"), wire.Identify(account, password)
        )


class AccountPromptTests(SynchronousTestCase):
    @given(heldNicknames)
    def test_prompt(self, nickname) -> None:
        """
        C{PASS nick} asks for the password of nick's account; the line
        before it is a notice.
        """
        for language in LANGUAGES:
            notice, prompt = wording.accountPromptLines(nickname, translation(language))
            self.assertEqual(wire.classify(notice).kind, "notice")
            self.assertEqual(wire.classify(prompt), wire.Line("account", "", nickname))

    def test_notAPrompt(self) -> None:
        """
        C{PASS} and words that are no nickname are no account prompt.
        """
        self.assertEqual(wire.classify("PASS").kind, "password")
        self.assertEqual(wire.classify("PASS two words").kind, "notice")


def sampleEvents(nickname: str, other: str, text: str) -> list:
    who = Identity(nickname)
    return [
        events.ModeChanged(who, "lobby", (ModeChange(True, "o", other), ModeChange(False, "m"))),
        events.ModeChanged(who, "lobby", (ModeChange(True, "k", text.replace(" ", "") or "k"),)),
        events.ModeChanged(who, "lobby", (ModeChange(True, "b", text.replace(" ", "") + "!*@*"),)),
        events.Kicked(who, "lobby", other, text),
        events.Kicked(who, "lobby", other),
        events.Invited(who, "lobby", other),
        events.InviteNotice(who, "lobby", other),
        events.Wallops(who, text),
    ]


def sampleErrors(nickname: str, text: str) -> list:
    return [
        NicknameReserved(nickname),
        *(NotPermitted(action, "lobby") for action in ("topic", "mode", "kick", "invite", "register")),
        NotPermitted("kill"),
        NotPermitted("wallops"),
        *(CannotJoin("lobby", reason) for reason in ("banned", "invite-only", "key", "full")),
        *(CannotSpeak("lobby", reason) for reason in ("moderated", "banned", "outside")),
        NotInThatRoom(nickname, "lobby"),
        AlreadyThere(nickname, "lobby"),
        ListFull("lobby", 100),
        AccountExists(text),
        LoginFailed(text),
        TooManyAttempts(0.2),
        TooManyAttempts(61.5),
        WeakPassword(8, 256),
        TooManyAccounts(100_000),
        NotLoggedIn(),
        RoomRegistered("lobby", nickname),
        NotInRoom(""),
    ]


class ForgeryTests(SynchronousTestCase):
    """
    The new lines, like the old, are what they seem in every language.
    """

    @given(heldNicknames, heldNicknames, anyText)
    def test_noticesAreNotices(self, nickname, other, text) -> None:
        """
        Every new event and reply is a notice on each of its lines.
        """
        ban = Ban(text.replace(" ", "") + "!*@*", f"{other}!u@h", 0.0)
        for language in LANGUAGES:
            t = translation(language)
            lines = [wording.renderEvent(event, t) for event in sampleEvents(nickname, other, text)]
            lines.append(wording.renderEvent(events.AccountChanged(Identity(nickname), other), t, True))
            lines.append(wording.renderEvent(events.AccountChanged(Identity(nickname), None), t, True))
            lines.append(wording.topicReplyLine("lobby", text, t))
            lines.append(wording.modesLine("lobby", Modes(key=text.replace(" ", "") or None), t))
            lines += wording.bansLines("lobby", [ban, ban], t, 0.0)
            lines += wording.bansLines("lobby", [], t, 0.0)
            lines.append(wording.loggedInLine(other, t))
            for line in lines:
                self.assertNotIn("\n", line)
                self.assertEqual(wire.classify(line).kind, "notice", (language, line))

    @given(heldNicknames, anyText)
    def test_errorsAreErrors(self, nickname, text) -> None:
        """
        Every new refusal, and being put off the server, is an error line.
        """
        killed = events.Killed(Identity(nickname), text)
        for language in LANGUAGES:
            t = translation(language)
            lines = [wording.renderError(error, t) for error in sampleErrors(nickname, text)]
            lines.append(wording.renderEvent(killed, t))
            for line in lines:
                self.assertEqual(wire.classify(line).kind, "error", line)
                self.assertNotIn("\x1b", line)


class SilentEventTests(SynchronousTestCase):
    def test_saysNothing(self) -> None:
        """
        Away messages, real names and others' accounts say nothing to
        native clients; one's own account changing is a line.
        """
        ola = Identity("Ola")
        for event in (
            events.AwayChanged(ola, "lunch"),
            events.AwayChanged(ola, None),
            events.RealnameChanged(ola, "Ola N."),
            events.AccountChanged(ola, "Ola"),
        ):
            self.assertEqual(wording.encodeEvent(event, "en"), b"", event)
        self.assertEqual(
            wording.encodeEvent(events.AccountChanged(ola, "Ola"), "en", own=True),
            b"You are now logged in to the account Ola.\r\n",
        )

    def test_tooManyAttemptsCountsUp(self) -> None:
        """
        The wait is worded in whole seconds, rounded up, at least one.
        """
        t = translation("en")
        self.assertEqual(
            wording.renderError(TooManyAttempts(0.2), t),
            "! Too many login attempts; try again in 1 second.",
        )
        self.assertEqual(
            wording.renderError(TooManyAttempts(4.1), translation("pl")),
            "! Za dużo prób logowania; spróbuj znów za 5 sekund.",
        )
