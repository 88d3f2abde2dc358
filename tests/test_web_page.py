"""
The page (C{chatsvc/web/static}) in headless Chromium against the real
server, C{twistd -n chat --web-port ...}, with native and IRC users beside
it.

Selenium's calls block, so these tests run no reactor: the server is a
subprocess (see L{tests.harness}) and every wait has a deadline.  Without
Chromium they are skipped, except under CI, where they fail (see
L{tests.browser.requireBrowser}).
"""

from __future__ import annotations

import os
import time

from twisted.trial.unittest import SynchronousTestCase

from tests.browser import Browser, IRCUser, WebServer, pageURL, requireBrowser, waitFor
from tests.harness import TIMEOUT, LineClient, ServerTestCase

HOSTILE = (
    "<script>window.pwned=1</script>",
    '<img src=x onerror="window.pwned=1">',
    "javascript:window.pwned=1",
)


class BrowserTestCase(ServerTestCase):
    """
    Tests sharing one server with its web front-end, and opening browsers
    that quit after each test.
    """

    serverArguments = ("--replay", "20")
    irc = True
    web = True

    def setUp(self) -> None:
        requireBrowser()
        super().setUp()

    @property
    def url(self) -> str:
        return pageURL(self.server)

    def browser(self, nickname: str | None = None, language: str = "en") -> Browser:
        """
        A browser with the page open, quit after the test; logged in as
        C{nickname} if given.  The test fails if the page logs an error
        (a script error, a request or a CSP violation).
        """
        browser = Browser(language)
        self.addCleanup(browser.quit)
        self.addCleanup(lambda: self.assertEqual(browser.consoleErrors(), []))
        browser.open(self.url)
        if nickname is not None:
            browser.login(nickname)
        return browser

    def native(self, nickname: str) -> LineClient:
        return self.connect(nickname)

    def ircUser(self, nickname: str) -> IRCUser:
        assert self.server.ircPort is not None
        user = IRCUser(self.server.ircPort, nickname)
        self.addCleanup(user.close)
        return user


class ChatTests(BrowserTestCase):
    def test_everyoneHearsEveryone(self) -> None:
        """
        Two people on the page, one on plain TCP and one on IRC chat in one
        room: each sees the others' lines, in the order they were said.
        """
        ala = self.browser("Ala")
        ola = self.browser("Ola")
        bartek = self.native("Bartek")
        irena = self.ircUser("Irena")
        for page in (ala, ola):
            page.waitForMembers("Ala", "Ola", "Bartek", "Irena")

        ala.say("one from Ala")
        ola.waitForSaid("Ala", "one from Ala")
        ola.say("two from Ola")
        bartek.readUntil("Ola: two from Ola")
        bartek.sendLine("three from Bartek")
        irena.heard("Bartek", "three from Bartek")
        irena.say("four from Irena")

        expected = [
            ("Ala", "one from Ala"),
            ("Ola", "two from Ola"),
            ("Bartek", "three from Bartek"),
            ("Irena", "four from Irena"),
        ]
        texts = {text for _, text in expected}
        for page in (ala, ola):
            page.waitForSaid("Irena", "four from Irena")
            self.assertEqual([s for s in page.said() if s[1] in texts], expected)
        heard = bartek.readUntil("Irena: four from Irena")
        self.assertIn("Bartek: three from Bartek", heard)
        self.assertEqual([s for s in irena.said if s[1] in texts], expected[:3])

    def test_memberList(self) -> None:
        """
        The member list follows the room: roles given and taken, a rename,
        someone going to another room and coming back, a kick.
        """
        ala = self.browser("Ala")
        bartek = self.native("Bartek")
        ala.waitForMembers("Ala", "Bartek")

        def listed() -> list[str]:
            return ala.run(
                "return Array.from(document.querySelectorAll('#members-list li'))"
                ".map(function (li) { return li.textContent; });"
            )

        def becomes(*expected: str) -> None:
            waitFor(f"members {expected!r}, not {listed()!r}", lambda: listed() == list(expected))

        becomes("@Ala (operator, you)", "Bartek")
        ala.say("/voice Bartek")
        becomes("@Ala (operator, you)", "+Bartek (voice)")
        ala.say("/op Bartek")
        becomes("@Ala (operator, you)", "@Bartek (operator)")
        ala.say("/deop Bartek")
        becomes("@Ala (operator, you)", "+Bartek (voice)")
        bartek.sendLine("/nick Bartosz")
        becomes("@Ala (operator, you)", "+Bartosz (voice)")
        bartek.sendLine("/join attic")
        becomes("@Ala (operator, you)")
        bartek.sendLine("/join lobby")
        becomes("@Ala (operator, you)", "Bartosz")
        ala.say("/kick Bartosz spam")
        becomes("@Ala (operator, you)")
        self.assertEqual(
            [
                line["text"]
                for line in ala.lines()
                if line["kind"] in ("Renamed", "Kicked") and "Bartosz" in line["text"]
            ],
            ["Bartek is now Bartosz.", "Ala put Bartosz out of room lobby (spam)."],
        )

    def test_privateConversation(self) -> None:
        """
        A private message opens a conversation of its own on both pages;
        typing there answers the partner only.
        """
        ala = self.browser("Ala")
        ola = self.browser("Ola")
        bartek = self.native("Bartek")
        ola.waitForMembers("Ala", "Ola", "Bartek")
        ala.say("/msg Ola psst, Ola")
        tab = waitFor(
            "a tab for Ala on Ola's page",
            lambda: ola.run(
                "var b = document.querySelector('#tabs button[data-key=\"private:ala\"]');"
                "return b && b.textContent;"
            ),
        )
        self.assertIn("Ala", tab)
        ola.run("document.querySelector('#tabs button[data-key=\"private:ala\"]').click();")
        ola.waitForSaid("Ala", "psst, Ola")
        ola.say("hello back")
        ala.run("document.querySelector('#tabs button[data-key=\"private:ola\"]').click();")
        ala.waitForSaid("Ola", "hello back")
        bartek.sendLine("marker")
        for page in (ala, ola):
            page.run("document.querySelector('#tabs .tab.room button').click();")
            page.waitForSaid("Bartek", "marker")
            self.assertNotIn("hello back", [text for _, text in page.said()])
        self.assertNotIn("Ola: hello back", bartek.readUntil("Bartek: marker"))

    def test_scrollbackAfterReload(self) -> None:
        """
        After a reload the page is back in (with the nickname it
        remembered) and shows what was said before, once.
        """
        ala = self.browser("Ala")
        bartek = self.native("Bartek")
        ala.waitForMembers("Ala", "Bartek")
        bartek.sendLine("said before the reload")
        ala.waitForSaid("Bartek", "said before the reload")
        ala.driver.refresh()
        waitFor("Ala back", lambda: ala.status() == "connected")
        ala.waitForSaid("Bartek", "said before the reload")
        bartek.sendLine("said after the reload")
        ala.waitForSaid("Bartek", "said after the reload")
        said = [text for _, text in ala.said()]
        self.assertEqual(said.count("said before the reload"), 1)
        self.assertEqual(said.count("said after the reload"), 1)

    def test_lineTooLong(self) -> None:
        """
        A line over 2,048 bytes of UTF-8 is refused on the page, visibly,
        and kept in the box; one of 2,048 bytes goes.
        """
        ala = self.browser("Ala")
        bartek = self.native("Bartek")
        ala.waitForMembers("Ala", "Bartek")
        ala.say("ż" * 1025)
        error = waitFor(
            "the refusal",
            lambda: ala.run("return document.getElementById('send-error').textContent;"),
        )
        self.assertIn("2048", error)
        self.assertEqual(
            ala.run("return document.getElementById('message-input').value;"), "ż" * 1025
        )
        ala.run("document.getElementById('message-input').value = '';")
        ala.say("ż" * 1024)
        before = bartek.readUntil("Ala: " + "ż" * 1024)
        self.assertFalse([line for line in before if "ż" * 1025 in line])


class HostileTextTests(BrowserTestCase):
    def test_markupStaysText(self) -> None:
        """
        Markup and C{javascript:} said by others, or set as the topic, are
        shown as literal text: no script runs, no element nor link is made.
        """
        # First in, Bartek is the room's operator, who may set its topic.
        bartek = self.native("Bartek")
        ala = self.browser("Ala")
        ola = self.browser("Ola")
        ala.waitForMembers("Ala", "Ola", "Bartek")
        for text in HOSTILE:
            bartek.sendLine(text)
        ola.say(HOSTILE[1])
        bartek.sendLine("/topic " + HOSTILE[1])
        bartek.sendLine("/rooms")
        ala.run("document.getElementById('rooms-refresh').click();")
        for text in HOSTILE:
            ala.waitForSaid("Bartek", text)
        ala.waitForSaid("Ola", HOSTILE[1])
        waitFor(
            "the topic",
            lambda: HOSTILE[1] in ala.run("return document.getElementById('topic').textContent;"),
        )
        self.assertIsNone(ala.run("return window.pwned === undefined ? null : window.pwned;"))
        self.assertEqual(
            ala.run(
                "return document.querySelectorAll("
                "'#log img, #log script, #topic *, #rooms-list img, #rooms-list script').length;"
            ),
            0,
        )
        self.assertEqual(
            ala.run("return document.querySelectorAll('a[href^=\"javascript\" i]').length;"), 0
        )
        self.assertEqual(ala.run("return document.querySelectorAll('#log a').length;"), 0)
        self.assertEqual(ala.run("return document.images.length;"), 0)


class PolishTests(BrowserTestCase):
    def test_polishBrowser(self) -> None:
        """
        A browser in Polish gets the page in Polish, and the server's lines
        too; switching to English changes both, and is remembered.
        """
        ola = self.browser(language="pl")
        waitFor("the nickname prompt", lambda: ola.visible("login-nickname"))
        self.assertEqual(ola.run("return document.documentElement.lang;"), "pl")
        self.assertEqual(
            ola.run("return document.querySelector('label[for=login-nickname]').textContent;"),
            "Pseudonim",
        )
        ola.login("Ola")
        self.assertEqual(ola.run("return document.getElementById('status').textContent;"),
                         "Połączono jako Ola")
        bartek = self.native("Bartek")
        ola.waitForMembers("Ola", "Bartek")
        self.assertIn("Bartek wchodzi na czat.", [line["text"] for line in ola.lines()])
        self.assertEqual(
            ola.run("return document.getElementById('members-heading').textContent;"),
            "Obecni (2)",
        )
        ola.say("/nonsense")
        waitFor(
            "a Polish refusal",
            lambda: "Nieznane polecenie /nonsense; spróbuj /help."
            in [line["text"] for line in ola.lines()],
        )

        ola.run(
            "var s = document.getElementById('language'); s.value = 'en';"
            "s.dispatchEvent(new Event('change'));"
        )
        self.assertEqual(ola.run("return document.documentElement.lang;"), "en")
        self.assertEqual(
            ola.run("return document.getElementById('members-heading').textContent;"),
            "Members (2)",
        )
        self.assertIn("Bartek joined the chat.", [line["text"] for line in ola.lines()])
        self.assertEqual(ola.run("return localStorage.getItem('chatsvc.language');"), "en")
        ola.say("/nonsense")
        waitFor(
            "an English refusal",
            lambda: "Unknown command /nonsense; try /help."
            in [line["text"] for line in ola.lines()],
        )
        bartek.sendLine("marker")
        ola.waitForSaid("Bartek", "marker")


class RestartTests(SynchronousTestCase):
    def setUp(self) -> None:
        requireBrowser()

    def test_serverRestarts(self) -> None:
        """
        The server is stopped and started again on the same ports with its
        store: the page comes back by itself, logged in to its account and
        in its room, fills in what was said while it was away from the
        history (the new server replays nothing), shows no line twice, and
        new lines arrive.
        """
        workdir = os.path.abspath(self.mktemp())
        servers = [WebServer("--replay", "20")]
        servers[0].start(workdir)
        self.addCleanup(lambda: servers[-1].stop())
        ala = Browser()
        self.addCleanup(ala.quit)
        ala.open(servers[0].url)
        ala.login("Ala")
        ala.say("/register sezam-sezam")
        waitFor("the account", lambda: "You are now logged in to the account Ala." in [
            line["text"] for line in ala.lines()])
        ala.say("/join attic")
        waitFor("the attic", lambda: ala.title() == "#attic")
        bartek = LineClient(servers[0].port)
        self.addCleanup(bartek.close)
        bartek.register("Bartek")
        bartek.sendLine("/join attic")
        ala.waitForMembers("Ala", "Bartek")
        bartek.sendLine("before the restart")
        ala.waitForSaid("Bartek", "before the restart")
        ala.say("mine before the restart")
        ala.waitForSaid("Ala", "mine before the restart")

        servers[0].stop()
        # The page tries again after 1 s, 2 s, then 4 s: the server comes
        # back and Bartek speaks within that last wait.
        waitFor("the third wait", lambda: ala.status() == "waiting"
                and "in 4 s" in ala.run("return document.getElementById('status').textContent;"))
        started = time.monotonic()
        servers.append(servers[0].restarted(workdir, "--replay", "0"))
        bartek.close()
        bartek = LineClient(servers[-1].port)
        self.addCleanup(bartek.close)
        bartek.register("Bartek")
        bartek.sendLine("/join attic")
        bartek.sendLine("said while the page was away")
        bartek.sendLine("/who")
        bartek.readUntil("Bartek: said while the page was away")
        waitFor("the page back", lambda: ala.status() == "connected", 2 * TIMEOUT)
        self.assertLess(time.monotonic() - started, 2 * TIMEOUT)
        waitFor("the page back in the attic", lambda: ala.title() == "#attic")
        ala.waitForSaid("Bartek", "said while the page was away")
        bartek.sendLine("after the restart")
        ala.waitForSaid("Bartek", "after the restart")
        said = [text for _, text in ala.said()]
        self.assertEqual(
            [text for text in said if "restart" in text or "away" in text],
            [
                "before the restart",
                "mine before the restart",
                "said while the page was away",
                "after the restart",
            ],
        )
        # While the server was down, each attempt to connect was logged.
        self.assertEqual(
            [e for e in ala.consoleErrors() if "WebSocket connection to" not in e], []
        )
