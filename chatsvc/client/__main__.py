"""
C{python -m chatsvc.client} and the C{chatsvc-client} script.

The only module of the client that touches the global reactor.  Exit
status: 0 after leaving, 1 when the server could not be reached in the
first place, ended the connection for good or stayed away too long (a lost
connection is otherwise made again), 2 for unusable arguments.  Whatever happens, the terminal is given
back as it was found and no traceback is shown: an error nobody expected is
reported in one line.
"""

from __future__ import annotations

import fcntl
import os
import sys
import termios
from typing import Any, Callable, NoReturn

from twisted.internet.defer import Deferred, maybeDeferred
from twisted.internet.task import react
from twisted.logger import ILogObserver, LogLevel, formatEvent, globalLogBeginner
from twisted.python import usage
from zope.interface import provider

from chatsvc.client.session import (
    EXIT_USAGE,
    ClientOptions,
    clientEndpoint,
    parseOptions,
    runClient,
)
from chatsvc.i18n import translation

PROGRAM = "chatsvc-client"


def _say(text: str) -> None:
    # In raw mode a bare "\n" does not return the carriage.
    ending = "\r\n" if os.isatty(2) else "\n"
    try:
        os.write(2, f"{PROGRAM}: {text}{ending}".encode("utf-8", "replace"))
    except OSError:
        pass


def _quietObserver(language: str) -> ILogObserver:
    """
    Report critical log events in one line each, without a traceback.
    """

    @provider(ILogObserver)
    def observe(event: dict[str, Any]) -> None:
        if event.get("log_level") is not LogLevel.critical:
            return
        failure = event.get("log_failure")
        if failure is not None:
            error = failure.getErrorMessage()
        else:
            error = formatEvent(event)
        t = translation(language)
        _say(t.gettext("Unexpected error: {error}").format(error=error))

    return observe


def _saveTerminal(fds: tuple[int, ...]) -> Callable[[], None]:
    """
    Remember the tty settings and blocking modes of C{fds}, to put back at
    exit: raw mode and non-blocking descriptors must not outlive us.
    """
    saved: list[Callable[[], object]] = []

    def setFlags(fd: int, flags: int) -> Callable[[], object]:
        return lambda: fcntl.fcntl(fd, fcntl.F_SETFL, flags)

    def setAttributes(fd: int, attributes: list[Any]) -> Callable[[], object]:
        return lambda: termios.tcsetattr(fd, termios.TCSANOW, attributes)

    for fd in fds:
        try:
            saved.append(setFlags(fd, fcntl.fcntl(fd, fcntl.F_GETFL)))
            if os.isatty(fd):
                saved.append(setAttributes(fd, termios.tcgetattr(fd)))
        except (OSError, termios.error):
            continue

    def restore() -> None:
        for undo in saved:
            try:
                undo()
            except (OSError, termios.error):
                pass

    return restore


def _run(reactor: Any, options: ClientOptions) -> Deferred[None]:
    try:
        endpoint = clientEndpoint(
            reactor, options["host"], options["port"], options["tls"], options["cafile"]
        )
    except OSError as error:
        t = translation(options.language)
        _say(
            t.gettext("Cannot read {path}: {reason}.").format(
                path=options["cafile"], reason=error.strerror or error
            )
        )
        raise SystemExit(EXIT_USAGE)
    except ValueError:
        t = translation(options.language)
        _say(
            t.gettext(
                "Not a port number or client endpoint description: {port}."
            ).format(port=options["port"])
        )
        raise SystemExit(EXIT_USAGE)

    def exit(status: int) -> None:
        if status:
            raise SystemExit(status)

    return maybeDeferred(runClient, reactor, endpoint, options).addCallback(exit)


def main(argv: list[str] | None = None) -> NoReturn:
    """
    Run the client with C{argv} (default: the command line) and exit.
    """
    if argv is None:
        argv = sys.argv[1:]
    try:
        options = parseOptions(argv, os.environ)
    except usage.UsageError as error:
        _say(str(error))
        sys.exit(EXIT_USAGE)
    globalLogBeginner.beginLoggingTo(
        [_quietObserver(options.language)], redirectStandardIO=False
    )
    restore = _saveTerminal((0, 1))
    try:
        react(_run, (options,))
    except KeyboardInterrupt:
        # Interrupted before the reactor took over SIGINT.
        sys.exit(130)
    finally:
        restore()


if __name__ == "__main__":
    main()
