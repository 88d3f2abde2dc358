"""
The client's ends of a line stream: the server connection and standard I/O.
"""

from __future__ import annotations

from chatsvc.net.framing import LineProtocol
from chatsvc.net.output import DEFAULT_SEND_QUEUE, Output


class ClientLineProtocol(LineProtocol):
    """
    Lines in through the shared framing; output bounded, so that a peer
    that stops reading (a server, or whoever reads our standard output) is
    noticed rather than hoarded for: L{sendQueueOverflowed}.
    """

    sendQueueLimit = DEFAULT_SEND_QUEUE
    _output: Output | None = None

    def connectionMade(self) -> None:
        self._output = Output.open(
            self.transport, self.sendQueueLimit, overflowed=self.sendQueueOverflowed
        )

    def connectionLost(self, reason=None) -> None:
        if self._output is not None:
            self._output.discard()

    def write(self, data: bytes) -> None:
        if self._output is not None:
            self._output.send(data)

    def loseConnection(self) -> None:
        """
        Close once everything written so far has been sent.
        """
        if self._output is not None:
            self._output.close()
        else:
            self.transport.loseConnection()

    def sendQueueOverflowed(self) -> None:
        raise NotImplementedError()
