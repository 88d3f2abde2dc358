"""
Every event type has a rendering in every front-end: a test that walks the
event union, so that a new event can never vanish silently in one of them.
"""

from __future__ import annotations

import typing

from attrs import evolve
from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from chatsvc import events
from chatsvc.client import notices
from chatsvc.i18n import LANGUAGES
from chatsvc.interfaces import IRenderer
from chatsvc.irc.render import RENDERING, IRCRenderer, chunks, relayedText, room
from chatsvc.irc.wire import MAX_LINE_BYTES, parseMessage
from chatsvc.moderation import ModeChange
from chatsvc.native import wire
from chatsvc.native.render import NativeRenderer

OLA = events.Identity("Ola", "~ola", "192.0.2.7")

# One instance of every event type, with the fields that vary its wording.
SAMPLES: dict[type, events.Event] = {
    events.Welcome: events.Welcome("Ola", "lobby"),
    events.Joined: events.Joined(OLA, "lobby"),
    events.Left: events.Left(OLA, "bye"),
    events.Parted: events.Parted(OLA, "lobby", "later"),
    events.TopicChanged: events.TopicChanged(OLA, "lobby", "Witamy"),
    events.Said: events.Said(OLA, "lobby", "hello"),
    events.Acted: events.Acted(OLA, "lobby", "waves"),
    events.Whispered: events.Whispered(OLA, "Bob", "psst"),
    events.Renamed: events.Renamed(OLA, "Ala"),
    events.Departed: events.Departed(OLA, "lobby", "kitchen"),
    events.Arrived: events.Arrived(OLA, "kitchen", "lobby"),
    events.Moved: events.Moved("kitchen", 2),
    events.Crowd: events.Crowd("lobby", ("Ewa", "Iga"), ("Ula",)),
    events.TimedOut: events.TimedOut("192.0.2.7"),
    events.Closing: events.Closing(),
    events.Announcement: events.Announcement("history-failing"),
    events.ModeChanged: events.ModeChanged(
        OLA, "lobby", (ModeChange(True, "o", "Bob"), ModeChange(False, "t"))
    ),
    events.Kicked: events.Kicked(OLA, "lobby", "Bob", "spam"),
    events.Invited: events.Invited(OLA, "lobby", "Bob"),
    events.InviteNotice: events.InviteNotice(OLA, "lobby", "Bob"),
    events.AccountChanged: events.AccountChanged(OLA, "ola"),
    events.AwayChanged: events.AwayChanged(OLA, "lunch"),
    events.RealnameChanged: events.RealnameChanged(OLA, "Ola Nowak"),
    events.Wallops: events.Wallops(OLA, "restarting soon"),
    events.Killed: events.Killed(OLA, "flooding"),
    events.Dropped: events.Dropped("taken", "Ola"),
}

# IRC says these its own way (replies to registration and JOIN), not as events.
IRC_SILENT = {events.Welcome, events.Moved}
# And these only to clients that negotiated the capability that asks for
# them (account-notify, away-notify, setname, invite-notify).
IRC_NOTIFIED = {
    events.AccountChanged,
    events.AwayChanged,
    events.RealnameChanged,
    events.InviteNotice,
}


class EventUnionTests(SynchronousTestCase):
    def test_samplesCoverTheUnion(self) -> None:
        """
        The samples hold exactly one of each type in the event union.
        """
        self.assertEqual(set(SAMPLES), set(typing.get_args(events.Event)))
        for kind, event in SAMPLES.items():
            self.assertIsInstance(event, kind)

    def test_publishedAreInTheUnion(self) -> None:
        """
        Every published event type is one of the union.
        """
        self.assertTrue(set(events.PUBLISHED) <= set(typing.get_args(events.Event)))


class NativeRenderingTests(SynchronousTestCase):
    def test_renderer(self) -> None:
        """
        The native renderer is an IRenderer, one per language.
        """
        renderer = NativeRenderer.forLanguage("pl")
        self.assertTrue(verifyObject(IRenderer, renderer))
        self.assertIs(renderer, NativeRenderer.forLanguage("pl"))

    def test_everyEventInEveryLanguage(self) -> None:
        """
        Every event type, for others and for its sender, is one or more
        whole CRLF lines of UTF-8 in every language; but native clients are
        not told of others' away messages, real names and accounts, which
        they have no place to show (C{/whois} shows them).
        """
        silent = {events.AwayChanged, events.RealnameChanged, events.AccountChanged}
        for language in LANGUAGES:
            renderer = NativeRenderer.forLanguage(language)
            for kind, event in SAMPLES.items():
                for data in (renderer.render(event), renderer.renderOwn(event)):
                    if not data and kind in silent:
                        continue
                    self.assertTrue(data.endswith(b"\r\n"), (language, kind))
                    text = data.decode("utf-8")
                    self.assertNotIn("\n", text.replace("\r\n", ""), (language, kind))

    def test_unknownEventRaises(self) -> None:
        """
        Something that is not an event has no rendering: it raises rather
        than vanishing.
        """
        self.assertRaises(TypeError, NativeRenderer.forLanguage("en").render, object())

    def test_dropped(self) -> None:
        """
        A user the cluster let go reads why, in English and Polish, with no
        operator named, as an error the terminal client reconnects after
        (no final refusal).
        """
        expected = {
            "en": {
                "lost": "This server lost touch with the rest of the chat; please reconnect.",
                "unreachable": "This server cannot reach the rest of the chat to check "
                "nicknames just now; please reconnect shortly.",
                "taken": "Someone on another server has the nickname Ola; please reconnect "
                "and choose another.",
            },
            "pl": {
                "lost": "Ten serwer stracił łączność z resztą czatu; połącz się ponownie.",
                "unreachable": "Ten serwer nie może teraz sprawdzić pseudonimów u reszty "
                "czatu; połącz się ponownie za chwilę.",
                "taken": "Ktoś na innym serwerze ma pseudonim Ola; połącz się ponownie i "
                "wybierz inny.",
            },
        }
        for language, lines in expected.items():
            renderer = NativeRenderer.forLanguage(language)
            for why, text in lines.items():
                line = renderer.render(events.Dropped(why, "Ola")).decode("utf-8").strip()
                classified = wire.classify(line)
                self.assertEqual((classified.kind, classified.text), ("error", text))
                self.assertFalse(notices.isFinalRefusal(classified.text), text)

    def test_ownPrivateMessage(self) -> None:
        """
        Only a private message reads differently to its sender.
        """
        renderer = NativeRenderer.forLanguage("en")
        event = SAMPLES[events.Whispered]
        self.assertEqual(wire.classify(renderer.render(event).decode().strip()).kind, "private")
        self.assertEqual(wire.classify(renderer.renderOwn(event).decode().strip()).kind, "sent")


class IRCRenderingTests(SynchronousTestCase):
    def test_renderer(self) -> None:
        """
        The IRC renderer is an IRenderer, one per server name and language.
        """
        renderer = IRCRenderer.forServer("irc.example", "en")
        self.assertTrue(verifyObject(IRenderer, renderer))
        self.assertIs(renderer, IRCRenderer.forServer("irc.example", "en"))

    def test_everyEventInEveryLanguage(self) -> None:
        """
        Every event type is IRC lines that parse and fit, naming the sender
        by the identity the event carries (but for the ERROR that ends the
        connection of someone killed); only native notices say nothing, and
        notifications only to the clients that asked for them.
        """
        for language in LANGUAGES:
            for capabilities in (frozenset(), RENDERING):
                renderer = IRCRenderer.forServer("irc.example", language, capabilities)
                for kind, event in SAMPLES.items():
                    lines = renderer.lines(event)
                    if kind in IRC_SILENT or (kind in IRC_NOTIFIED and not capabilities):
                        self.assertEqual(lines, [], kind)
                        continue
                    self.assertTrue(lines, kind)
                    for line in lines:
                        self.assertLessEqual(len(line.encode("utf-8")), MAX_LINE_BYTES)
                        message = parseMessage(line)
                        self.assertIsNotNone(message)
                        if isinstance(event, events._Caused) and message.command != "ERROR":
                            self.assertEqual(message.prefix, OLA.mask, kind)

    def test_moderationLines(self) -> None:
        """
        Mode changes, kicks, invitations, notifications, WALLOPS and KILL
        read as IRC servers word them.
        """
        renderer = IRCRenderer.forServer("irc.example", "en", RENDERING)
        lines = {kind: renderer.lines(SAMPLES[kind]) for kind in SAMPLES}
        mask = OLA.mask
        self.assertEqual(lines[events.ModeChanged], [f":{mask} MODE #lobby +o-t :Bob"])
        self.assertEqual(lines[events.Kicked], [f":{mask} KICK #lobby Bob :spam"])
        self.assertEqual(lines[events.Invited], [f":{mask} INVITE Bob :#lobby"])
        self.assertEqual(lines[events.InviteNotice], [f":{mask} INVITE Bob :#lobby"])
        plain = IRCRenderer.forServer("irc.example", "en")
        self.assertEqual(plain.lines(SAMPLES[events.Invited]), [f":{mask} INVITE Bob :#lobby"])
        self.assertEqual(plain.lines(SAMPLES[events.InviteNotice]), [])
        self.assertEqual(lines[events.AccountChanged], [f":{mask} ACCOUNT ola"])
        self.assertEqual(lines[events.AwayChanged], [f":{mask} AWAY lunch"])
        self.assertEqual(lines[events.RealnameChanged], [f":{mask} SETNAME :Ola Nowak"])
        self.assertEqual(lines[events.Wallops], [f":{mask} WALLOPS :restarting soon"])
        self.assertEqual(
            lines[events.Killed],
            ["ERROR :Closing Link: irc.example (Killed (Ola (flooding)))"],
        )
        self.assertEqual(
            renderer.lines(events.AccountChanged(OLA, None)), [f":{mask} ACCOUNT *"]
        )
        self.assertEqual(
            lines[events.Dropped],
            [
                "ERROR :Closing Link: irc.example (Nickname Ola is in use on another"
                " server; choose another)"
            ],
        )
        self.assertEqual(renderer.lines(events.AwayChanged(OLA, None)), [f":{mask} AWAY"])
        joined = events.Joined(evolve(OLA, account="ola", realname="Ola N"), "lobby")
        self.assertEqual(renderer.lines(joined), [f":{mask} JOIN #lobby ola :Ola N"])

    def test_dropped(self) -> None:
        """
        A client the cluster let go is told why in the ERROR that ends its
        connection, which names no operator and no kill.
        """
        renderer = IRCRenderer.forServer("irc.example", "en")
        self.assertEqual(
            renderer.lines(events.Dropped("lost")),
            [
                "ERROR :Closing Link: irc.example (This server lost touch with the rest"
                " of the chat; please reconnect)"
            ],
        )
        self.assertEqual(
            renderer.lines(events.Dropped("unreachable", "Ola")),
            [
                "ERROR :Closing Link: irc.example (This server cannot check nicknames"
                " just now; please reconnect shortly)"
            ],
        )

    def test_accountTag(self) -> None:
        """
        With account-tag, what a logged-in user does carries its account.
        """
        renderer = IRCRenderer.forServer("irc.example", "en", frozenset({"account-tag"}))
        said = events.Said(evolve(OLA, account="ola"), "lobby", "hi")
        self.assertEqual(renderer.tagged(said), [f"@account=ola :{OLA.mask} PRIVMSG #lobby :hi"])
        self.assertEqual(renderer.tagged(SAMPLES[events.Said]), [f":{OLA.mask} PRIVMSG #lobby :hello"])

    def test_unknownEventRaises(self) -> None:
        """
        Something that is not an event has no rendering: it raises rather
        than vanishing.
        """
        self.assertRaises(TypeError, IRCRenderer.forServer("s", "en").render, object())

    def test_ownLinesAreNotEchoed(self) -> None:
        """
        IRC clients show their own lines and private messages themselves;
        their own rename comes back as everyone sees it.
        """
        renderer = IRCRenderer.forServer("s", "en")
        for kind in (events.Said, events.Acted, events.Whispered):
            self.assertEqual(renderer.renderOwn(SAMPLES[kind]), b"")
        renamed = SAMPLES[events.Renamed]
        self.assertEqual(renderer.renderOwn(renamed), renderer.render(renamed))


class ChunksTests(SynchronousTestCase):
    @given(
        st.text(st.sampled_from("xż €😀"), max_size=700),
        st.booleans(),
        st.sampled_from(["Bob!Bob@192.0.2.7", "Łukasz!~lukasz@2001:db8::1"]),
    )
    def test_wholeIfItFits(self, text: str, action: bool, prefix: str) -> None:
        """
        A text that fits in the room of one line is one message, exactly as
        given; a longer one is pieces of legal lines that make it up.
        """
        lines = chunks("PRIVMSG", prefix, "#lobby", text, action)
        for line in lines:
            self.assertLessEqual(len(line.encode("utf-8")), MAX_LINE_BYTES)
        if len(relayedText(text, action).encode("utf-8")) <= room("PRIVMSG", prefix, "#lobby"):
            [line] = lines
            self.assertEqual(parseMessage(line).params[-1], relayedText(text, action))
        else:
            self.assertGreater(len(lines), 1)
            texts = [parseMessage(line).params[-1] for line in lines]
            if action:
                texts = [piece.removeprefix("\x01ACTION ").removesuffix("\x01") for piece in texts]
            self.assertEqual("".join(texts).replace(" ", ""), text.replace(" ", ""))
