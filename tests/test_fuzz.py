"""
Fuzz tests over both front-ends: whatever bytes arrive, cut however, no
exception escapes and the outcome does not depend on the cuts.
"""

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase

from chatsvc.hub import Hub
from chatsvc.irc.protocol import IRCFactory
from chatsvc.native.protocol import NativeFactory
from chatsvc.testing import chunked

# Fragments that reach deep into the grammars, mixed with arbitrary bytes.
FRAGMENTS = [
    b"NICK Ola\r\n", b"USER o 0 * :O\r\n", b"JOIN #lobby\r\n", b"PRIVMSG #lobby :hi\r\n",
    b"PART #lobby\r\n", b"TOPIC #lobby :t\r\n", b"PING :x\r\n", b"CAP LS\r\n", b"CAP END\r\n",
    b"MODE Ola +i\r\n", b"WHOIS Ola\r\n", b"NICK \xc5\xbb\r\n", b"\xff\xfe\r\n", b"x" * 600,
    b"Bob\n", b"/join kuchnia\n", b"/msg Bob hi\n", b"/nick Ala\n", b"/me waves\n",
    b"/lang pl\n", b"/who\n", b"/rooms\n", b"\x1b[2J\n", b"\n", b"\r\n", b"z\xc3", b"\xbc\n",
]
streams = st.lists(st.sampled_from(FRAGMENTS) | st.binary(max_size=40), max_size=25).map(b"".join)
cuts = st.lists(st.integers(0, 5_000), max_size=15)


def run(factoryClass, data: bytes, pieces: list[bytes]) -> tuple[bytes, bytes]:
    """
    Feed C{pieces} to one client of a fresh server with an observer beside
    it; return what the client and the observer were sent.
    """
    clock = Clock()
    hub = Hub(clock)
    if factoryClass is IRCFactory:
        factory = IRCFactory(hub, clock, wallClock=lambda: 0.0)
    else:
        factory = NativeFactory(hub)
    observer = NativeFactory(hub).buildProtocol(None)
    observerTransport = StringTransport()
    observer.makeConnection(observerTransport)
    observer.dataReceived(b"Observer\n")
    client = factory.buildProtocol(None)
    transport = StringTransport()
    client.makeConnection(transport)
    for piece in pieces:
        if transport.disconnecting:
            break
        client.dataReceived(piece)
    client.connectionLost(None)
    return transport.value(), observerTransport.value()


class FuzzTests(SynchronousTestCase):
    @given(streams, cuts)
    def test_ircNeverRaisesAndIgnoresCuts(self, data, positions) -> None:
        """
        IRC: any bytes, cut anywhere, raise nothing and give the same replies
        and the same lines to others as when sent whole.
        """
        self.assertEqual(
            run(IRCFactory, data, chunked(data, positions)), run(IRCFactory, data, [data])
        )

    @given(streams, cuts)
    def test_nativeNeverRaisesAndIgnoresCuts(self, data, positions) -> None:
        """
        Native: the same holds for the line protocol.
        """
        self.assertEqual(
            run(NativeFactory, data, chunked(data, positions)),
            run(NativeFactory, data, [data]),
        )

    @given(streams)
    def test_everyLineEndsInCrlf(self, data) -> None:
        """
        Whatever a client sends, every line the server writes to anyone ends
        in CR LF, the last one too, and none holds a bare CR, LF or NUL.
        """
        for factoryClass in (IRCFactory, NativeFactory):
            for output in run(factoryClass, data, [data]):
                if output:
                    self.assertTrue(output.endswith(b"\r\n"), output[-100:])
                # Ending in CR LF, the output splits into its lines and an
                # empty string after the last.
                for line in output.split(b"\r\n")[:-1]:
                    self.assertNotIn(b"\n", line)
                    self.assertNotIn(b"\r", line)
                    self.assertNotIn(b"\x00", line)
