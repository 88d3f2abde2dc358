"""
One run of the client: options, where to connect, and the wiring of a
view to the protocol and to standard I/O.

Only L{chatsvc.client.__main__} calls L{runClient}, with the real reactor;
everything else in the client takes a reactor or clock as an argument.
"""

from __future__ import annotations

import os
import signal
import sys
import termios
import tty
from typing import Any, Callable, Mapping

from twisted.internet.defer import Deferred
from twisted.internet.endpoints import (
    HostnameEndpoint,
    clientFromString,
    connectProtocol,
    wrapClientTLS,
)
from twisted.internet.error import (
    ConnectError,
    ConnectionRefusedError,
    DNSLookupError,
    NoRouteError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.internet.stdio import StandardIO
from twisted.python import usage
from twisted.python.failure import Failure

from chatsvc import __version__
from chatsvc.client.plain import PlainLineView
from chatsvc.client.reconnect import Conversation
from chatsvc.client.terminal import TerminalView, terminalProtocol
from chatsvc.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    languageFromEnvironment,
    normalizeLanguage,
    translation,
)

DEFAULT_HOST = "localhost"
DEFAULT_PORT = "5555"
EXIT_USAGE = 2
# The environment's way to give --account-password-file's password.
ACCOUNT_PASSWORD_VARIABLE = "CHATSVC_ACCOUNT_PASSWORD"


class ClientOptions(usage.Options):
    """
    C{python -m chatsvc.client [--host H] [--port P] [--nick N] [--lang L]}.

    Passwords come from files (or, for the account's, the environment:
    L{ACCOUNT_PASSWORD_VARIABLE}), never from the command line, where any
    user of the machine may read them.

    The help is in C{language} (the environment's, since C{--lang} is not
    read yet when the help is asked for).  After parsing, C{self.language}
    is the language to use: C{--lang}, else C{language}.
    """

    optParameters = [
        ["host", None, DEFAULT_HOST, None],
        ["port", "p", DEFAULT_PORT, None],
        ["nick", "n", None, None],
        ["lang", "l", None, None],
        ["cafile", None, None, None],
        ["password-file", None, None, None],
        ["account-password-file", None, None, None],
    ]
    optFlags = [["tls", None, None]]

    def __init__(self, language: str = DEFAULT_LANGUAGE) -> None:
        super().__init__()
        self.language = language
        t = translation(language)
        self.longdesc = t.gettext(
            "Chat on a chatsvc server.  Every line you enter is sent as it is "
            "(/help lists the server's commands); exit, /quit or the end of "
            "input leaves."
        )
        self.docs.update(
            {
                "host": t.gettext("The server's host name or address."),
                "port": t.gettext(
                    "The server's port number, or a client endpoint description "
                    "such as tcp:host=127.0.0.1:port=5555."
                ),
                "nick": t.gettext("Your nickname; asked for when not given."),
                "lang": t.gettext(
                    "The language of the client and of server messages ({codes}); "
                    "by default the environment's."
                ).format(codes=", ".join(LANGUAGES)),
                "tls": t.gettext(
                    "Connect with TLS and verify the server's certificate "
                    "(never falls back to plain text)."
                ),
                "cafile": t.gettext(
                    "With --tls: trust the certificate authority in this PEM "
                    "file instead of the system's."
                ),
                "password-file": t.gettext(
                    "A file whose first line is the server's password, for "
                    "servers that ask for one."
                ),
                "account-password-file": t.gettext(
                    "A file whose first line is the password of the account your "
                    "registered nickname belongs to, sent when the server asks for "
                    "it (or set {variable}); asked for when not given."
                ).format(variable=ACCOUNT_PASSWORD_VARIABLE),
                "help": t.gettext("Show this help and exit."),
                "version": t.gettext("Show the version and exit."),
            }
        )

    def opt_version(self) -> None:
        print(f"chatsvc-client {__version__}")
        sys.exit(0)

    def postOptions(self) -> None:
        t = translation(self.language)
        if self["lang"] is not None:
            language = normalizeLanguage(self["lang"])
            if language is None:
                raise usage.UsageError(
                    t.gettext("Unknown language {code}; available: {codes}.").format(
                        code=self["lang"], codes=", ".join(LANGUAGES)
                    )
                )
            self.language = language
        port = self["port"]
        if port.isdigit() and not 0 < int(port) < 65536:
            raise usage.UsageError(
                t.gettext("Not a port number: {port}.").format(port=port)
            )
        if not self["nick"]:
            self["nick"] = None
        self["password"] = self._firstLine(self["password-file"])
        self["account-password"] = self._firstLine(self["account-password-file"])
        if self["cafile"] is not None and not self["tls"]:
            self["tls"] = True
        if self["tls"] and not port.isdigit():
            raise usage.UsageError(
                t.gettext(
                    "--tls needs a port number; with an endpoint description "
                    "use a tls: endpoint instead."
                )
            )


    def _firstLine(self, path: str | None) -> str | None:
        """
        The first line of the file at C{path}, without its line ending.

        @raise usage.UsageError: it cannot be read.
        """
        if path is None:
            return None
        try:
            with open(path, encoding="utf-8") as file:
                return file.readline().rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as error:
            t = translation(self.language)
            raise usage.UsageError(
                t.gettext("Cannot read {path}: {reason}.").format(
                    path=path, reason=getattr(error, "strerror", None) or error
                )
            )


def parseOptions(argv: list[str], environ: Mapping[str, str]) -> ClientOptions:
    """
    Parse C{argv} with help and messages in the environment's language;
    the account's password is the environment's (L{ACCOUNT_PASSWORD_VARIABLE})
    unless a file gives it.

    @raise usage.UsageError: the arguments make no sense.
    """
    options = ClientOptions(languageFromEnvironment(environ))
    options.parseOptions(argv)
    if options["account-password"] is None:
        options["account-password"] = environ.get(ACCOUNT_PASSWORD_VARIABLE) or None
    return options


def clientEndpoint(
    reactor: Any, host: str, port: str, tls: bool = False, cafile: str | None = None
) -> IStreamClientEndpoint:
    """
    Where to connect: a bare port number means TCP to C{host} (by name, over
    IPv4 or IPv6); anything else is a client endpoint description.

    With C{tls}, the connection is TLS and the server's certificate must be
    valid for C{host}, signed by the authority in C{cafile} or else by one
    the system trusts; there is no falling back to plain text.

    @raise ValueError: C{port} is neither.
    @raise OSError: C{cafile} cannot be read.
    """
    trustRoot = None
    if tls:
        from twisted.internet.ssl import Certificate, platformTrust

        if cafile is None:
            trustRoot = platformTrust()
        else:
            with open(cafile, "rb") as pem:
                trustRoot = Certificate.loadPEM(pem.read())
    try:
        if not port.isdigit():
            return clientFromString(reactor, port)
        endpoint = HostnameEndpoint(reactor, host, int(port))
    except Exception as error:
        raise ValueError(port) from error
    if trustRoot is None:
        return endpoint
    from twisted.internet.ssl import optionsForClientTLS

    return wrapClientTLS(optionsForClientTLS(host, trustRoot), endpoint)


def connectFailureMessage(failure: Failure, host: str, port: str, language: str) -> str:
    """
    Why the connection could not be made, as one line for the user.
    """
    t = translation(language)
    error = failure.value
    if failure.check(ConnectionRefusedError):
        reason = t.gettext("Connection refused")
    elif failure.check(DNSLookupError):
        reason = t.gettext("Unknown host")
    elif failure.check(TimeoutError, TCPTimedOutError):
        reason = t.gettext("Timed out")
    elif failure.check(NoRouteError):
        reason = t.gettext("No route to host")
    elif isinstance(error, ConnectError) and isinstance(error.osError, int):
        reason = os.strerror(error.osError)
    else:
        reason = str(error) or type(error).__name__
    if port.isdigit():
        return t.gettext("Cannot connect to {host} port {port}: {reason}.").format(
            host=host, port=port, reason=reason
        )
    return t.gettext("Cannot connect to {address}: {reason}.").format(
        address=port, reason=reason
    )


def _terminalSize(fd: int) -> tuple[int, int]:
    try:
        size = os.get_terminal_size(fd)
    except OSError:
        return 80, 24
    return size.columns or 80, size.lines or 24


def runClient(
    reactor: Any,
    endpoint: IStreamClientEndpoint,
    options: ClientOptions,
    stdin: int = 0,
    stdout: int = 1,
) -> Deferred[int]:
    """
    Chat until the user leaves or the server is gone for good; fires with
    the exit status.

    A lost connection is made again (L{Conversation}).  A terminal on
    C{stdin} gets the line-editing view, in raw mode until the view is
    done; anything else gets plain lines.  C{SIGINT} leaves as Ctrl-C does,
    and on a terminal C{SIGWINCH} resizes the input row.
    """
    language = options.language
    host, port = options["host"], options["port"]
    restore: list[Callable[[], object]] = []
    view: PlainLineView | TerminalView
    if os.isatty(stdin):
        terminal = TerminalView(language, *_terminalSize(stdout))
        restore.append(_rawMode(stdin))
        view = terminal
    else:
        terminal = None
        view = PlainLineView(language)
    client = Conversation(
        view,
        lambda protocol: connectProtocol(endpoint, protocol),
        reactor,
        language,
        options["nick"],
        options["password"],
        describeFailure=lambda failure: connectFailureMessage(
            failure, host, port, language
        ),
        accountPassword=options["account-password"],
    )
    view.client = client

    def interrupted(signum: int, frame: object) -> None:
        reactor.callFromThread(client.leave, True)

    def resized(signum: int, frame: object) -> None:
        assert terminal is not None
        reactor.callFromThread(terminal.terminalSize, *_terminalSize(stdout))

    def installSignals() -> None:
        # After the reactor's own handlers, which would replace ours.
        restore.append(_handle(signal.SIGINT, interrupted))
        if terminal is not None:
            restore.append(_handle(signal.SIGWINCH, resized))

    reactor.callWhenRunning(installSignals)
    # (mypy reads the Windows signature of StandardIO.)
    if terminal is not None:
        StandardIO(terminalProtocol(terminal), stdin, stdout, reactor)  # type: ignore[call-arg]
    else:
        StandardIO(view, stdin, stdout, reactor)  # type: ignore[call-arg]

    client.start()

    def done(status: int) -> int:
        client.stop()
        for undo in reversed(restore):
            try:
                undo()
            except (OSError, termios.error):
                # The terminal is gone; there is nothing left to restore.
                pass
        return status

    return view.whenDone().addCallback(done)


def _rawMode(fd: int) -> Callable[[], None]:
    """
    Put the terminal on C{fd} in raw mode; the function that undoes it.
    """
    saved = termios.tcgetattr(fd)
    tty.setraw(fd, termios.TCSANOW)

    def undo() -> None:
        termios.tcsetattr(fd, termios.TCSANOW, saved)

    return undo


def _handle(signum: int, handler: Callable[[int, Any], None]) -> Callable[[], object]:
    """
    Handle C{signum} with C{handler}; the function that puts back the old one.
    """
    previous = signal.signal(signum, handler)
    return lambda: signal.signal(signum, previous)
