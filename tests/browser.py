"""
Browser-test support: the page of C{chatsvc/web/static} in Debian's headless
Chromium, driven by Selenium, against the real server with C{--web-port}.

Nothing is downloaded: Selenium Manager is kept offline and the system's
C{/usr/bin/chromium} and C{/usr/bin/chromedriver} are used.  Each browser
has a new profile in a temporary directory, removed when it quits.

Run as a program, it regenerates the README's screenshots::

    python -m tests.browser --screenshot docs/screenshot.png \\
        --phone docs/screenshot-phone.png
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from twisted.trial.unittest import SkipTest

from tests.harness import TIMEOUT, LineClient, ServerProcess

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)

T = TypeVar("T")


def browserMissing() -> str | None:
    """
    Why the browser tests cannot run here, or C{None} when they can.
    """
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install '.[test]')"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            return f"{path} is missing (apt-get install chromium chromium-driver)"
    return None


def requireBrowser() -> None:
    """
    Skip the calling test when there is no browser, except under CI (the
    environment variable C{CI} set), where a missing browser fails it: CI
    installs one, so its absence is a broken run, not a reason to pass.
    """
    reason = browserMissing()
    if reason is None:
        return
    if os.environ.get("CI"):
        raise AssertionError(f"browser tests cannot run under CI: {reason}")
    raise SkipTest(reason)


def waitFor(what: str, check: Callable[[], T | None], timeout: float = TIMEOUT) -> T:
    """
    Call C{check} until it returns something true, at most C{timeout}
    seconds; then fail, saying C{what} was awaited.
    """
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = check()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def pageURL(server: ServerProcess) -> str:
    """
    Where C{server}'s web site serves the page.
    """
    assert server.webPort is not None, "the server has no web site"
    return f"http://127.0.0.1:{server.webPort}/"


class WebServer(ServerProcess):
    """
    L{ServerProcess} with its web site, on a loopback port the system picks
    unless the arguments name one.
    """

    def __init__(self, *arguments: str, **options: Any) -> None:
        named = any(a == "--web-port" or a.startswith("--web-port=") for a in arguments)
        super().__init__(*arguments, web=not named, **options)

    @property
    def url(self) -> str:
        return pageURL(self)

    def restarted(self, workdir: str, *arguments: str) -> WebServer:
        """
        A new server with C{arguments}, on the ports this one listened on and
        in the same working directory (so with the same store), once this
        one has stopped.
        Binding is tried again for a while, in case a port is not free yet.
        """
        assert self.port is not None and self.webPort is not None
        self.stop()
        ports = [
            "--port",
            f"tcp:{self.port}:interface=127.0.0.1",
            "--web-port",
            f"tcp:{self.webPort}:interface=127.0.0.1",
        ]
        if self.ircPort is not None:
            ports += ["--irc-port", f"tcp:{self.ircPort}:interface=127.0.0.1"]
        deadline = time.monotonic() + TIMEOUT
        while True:
            again = WebServer(*arguments, *ports)
            try:
                again.start(workdir)
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
                continue
            return again


class Browser:
    """
    One headless Chromium with the page open, and what a test asks of it.

    @param language: the browser's language (C{--lang} and the
        C{Accept-Language} preference), which the page starts in.
    """

    def __init__(
        self, language: str = "en", width: int = 1100, height: int = 700
    ) -> None:
        os.environ["SE_OFFLINE"] = "true"
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.profile = tempfile.mkdtemp(prefix="chatsvc-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={self.profile}")
        options.add_argument(f"--lang={language}")
        options.add_argument(f"--window-size={width},{height}")
        options.add_experimental_option("prefs", {"intl.accept_languages": language})
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        try:
            self.driver = webdriver.Chrome(
                service=Service(executable_path=CHROMEDRIVER), options=options
            )
        except Exception:
            shutil.rmtree(self.profile, ignore_errors=True)
            raise
        self.driver.set_page_load_timeout(TIMEOUT)
        self.driver.set_script_timeout(TIMEOUT)
        self.console: list[dict[str, Any]] = []

    def quit(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    def run(self, script: str, *arguments: Any) -> Any:
        return self.driver.execute_script(script, *arguments)

    def open(self, url: str) -> None:
        self.driver.get(url)

    def consoleErrors(self) -> list[str]:
        """
        What the browser logged as errors or warnings since the last call
        (CSP violations, failed requests, script errors), kept in
        C{console} too.
        """
        entries = self.driver.get_log("browser")
        self.console.extend(entries)
        return [e["message"] for e in entries if e["level"] in ("SEVERE", "WARNING")]

    def status(self) -> str:
        return self.run("return document.getElementById('status').dataset.state;")

    def visible(self, elementId: str) -> bool:
        return self.run(
            "var e = document.getElementById(arguments[0]);"
            "return !!e && !e.hidden && e.offsetParent !== null;",
            elementId,
        )

    def title(self) -> str:
        """
        The heading of the conversation shown (C{#room}, or a nickname).
        """
        return self.run("return document.getElementById('conversation-title').textContent;")

    def login(self, nickname: str) -> None:
        """
        Answer the nickname prompt with C{nickname} and wait until in.
        """
        self.typeNickname(nickname)
        waitFor(f"{nickname} to be connected", lambda: self.status() == "connected")

    def typeNickname(self, nickname: str) -> None:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys

        waitFor("the nickname prompt", lambda: self.visible("login-nickname"))
        field = self.driver.find_element(By.ID, "login-nickname")
        field.clear()
        field.send_keys(nickname, Keys.ENTER)

    def say(self, text: str) -> None:
        """
        Type C{text} in the message box and press Enter.
        """
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys

        box = self.driver.find_element(By.ID, "message-input")
        box.send_keys(text, Keys.ENTER)

    def lines(self) -> list[dict[str, Any]]:
        """
        The lines of the conversation shown: each line's C{kind} (an event's
        kind, or C{info}, C{error}, C{notice}), C{id}, C{nick}, C{text} and
        its whole C{line} as shown.
        """
        return self.run(
            """
            return Array.from(document.querySelectorAll('#log li')).map(function (li) {
              var nick = li.querySelector('.nick'), text = li.querySelector('.text');
              return {kind: li.dataset.kind || li.className.replace(/^line /, ''),
                      id: li.dataset.id || null,
                      nick: nick ? nick.textContent : null,
                      text: text ? text.textContent : null,
                      line: li.textContent};
            });
            """
        )

    def said(self) -> list[tuple[str, str]]:
        """
        C{(nickname, text)} of every chat line (said, acted, whispered) shown.
        """
        return [
            (line["nick"], line["text"])
            for line in self.lines()
            if line["kind"] in ("Said", "Acted", "Whispered")
        ]

    def waitForSaid(self, nickname: str, text: str, timeout: float = TIMEOUT) -> None:
        waitFor(
            f"{nickname}: {text} in {self.said()!r}",
            lambda: (nickname, text) in self.said(),
            timeout,
        )

    def members(self) -> list[str]:
        return self.run(
            "return Array.from(document.querySelectorAll('#members-list li'))"
            ".map(function (li) { return li.dataset.nickname; });"
        )

    def waitForMembers(self, *nicknames: str) -> None:
        waitFor(
            f"members {nicknames!r}",
            lambda: set(nicknames) <= set(self.members()),
        )

    def screenshot(self, path: str, width: int, height: int, mobile: bool = False) -> None:
        """
        Save the page as a C{width} by C{height} viewport shows it (the
        window's size includes the browser's own bars).
        """
        self.driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
        )
        time.sleep(0.3)
        self.driver.save_screenshot(path)


class IRCUser:
    """
    A raw IRC client on a blocking socket, in C{#lobby}.

    @ivar said: C{(nickname, text)} of every C{PRIVMSG} to C{#lobby} read so
        far, in order.
    """

    PRIVMSG = re.compile(r":([^!\s]+)!\S* PRIVMSG #lobby :(.*)")

    def __init__(self, port: int, nickname: str) -> None:
        self.nickname = nickname
        self.said: list[tuple[str, str]] = []
        self.client = LineClient(port)
        self.client.sendLine(f"NICK {nickname}")
        self.client.sendLine(f"USER {nickname.lower()} 0 * :{nickname}")
        self.client.sendLine("JOIN #lobby")
        self.waitFor(lambda line: " 366 " in line)

    def waitFor(self, matches: Callable[[str], bool]) -> str:
        deadline = time.monotonic() + TIMEOUT
        while True:
            line = self.client.readLine(deadline)
            privmsg = self.PRIVMSG.fullmatch(line)
            if privmsg is not None:
                self.said.append((privmsg.group(1), privmsg.group(2)))
            if line.startswith("PING "):
                self.client.sendLine("PONG " + line[5:])
            elif matches(line):
                return line

    def say(self, text: str) -> None:
        self.client.sendLine(f"PRIVMSG #lobby :{text}")

    def heard(self, nickname: str, text: str) -> None:
        """
        Wait for C{nickname} saying C{text} in C{#lobby}, unless it was
        read already.
        """
        if (nickname, text) in self.said:
            return
        self.waitFor(lambda line: self.said[-1:] == [(nickname, text)])

    def close(self) -> None:
        self.client.close()


def screenshots(wide: str | None, phone: str | None) -> None:
    """
    Two people chatting, with a third on plain TCP, the member list in
    view: the wide page (Alicja's, in English) to C{wide}, a phone's (390
    by 844: Ola's, in Polish) to C{phone}.
    """
    workdir = tempfile.mkdtemp(prefix="chatsvc-screenshot-")
    server = WebServer("--replay", "20")
    server.start(workdir)
    browsers: list[Browser] = []
    native = None
    try:
        ola = Browser("pl", 1100, 700)
        browsers.append(ola)
        ola.open(server.url)
        ola.login("Ola")
        ola.say("/topic Plan lekcji i zadania domowe")
        native = LineClient(server.port)
        native.register("Bartek")
        ola.say("Dzień dobry! Czy ktoś ma notatki z fizyki?")
        native.sendLine("Ja mam, wrzucę je po południu.")
        ala = Browser("en", 1100, 700)
        browsers.append(ala)
        ala.open(server.url)
        ala.login("Alicja")
        ala.say("Hi both! I can help with the maths homework.")
        ola.say("/me macha na powitanie")
        ala.say("/msg Ola see you at 5?")
        waitFor(
            "Alicja's private message",
            lambda: ola.run("return !!document.querySelector('#tabs .unread');"),
        )
        native.sendLine("Super, dzięki!")
        for browser in browsers:
            browser.waitForSaid("Bartek", "Super, dzięki!")
        if wide:
            # The README's: the page in English, in a class that speaks both.
            ala.screenshot(wide, 1100, 640)
        if phone:
            ola.screenshot(phone, 390, 844, mobile=True)
    finally:
        if native is not None:
            native.close()
        for browser in browsers:
            browser.quit()
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--screenshot", help="where to write the wide screenshot (PNG)")
    parser.add_argument("--phone", help="where to write a phone-width one (PNG)")
    options = parser.parse_args(argv)
    reason = browserMissing()
    if reason is not None:
        print(f"tests.browser: {reason}", file=sys.stderr)
        return 1
    if not (options.screenshot or options.phone):
        parser.error("nothing to do: give --screenshot or --phone")
    screenshots(
        str(Path(options.screenshot).resolve()) if options.screenshot else None,
        str(Path(options.phone).resolve()) if options.phone else None,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
