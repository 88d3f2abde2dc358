"""
What one small send() to a loopback TCP connection costs the sender.

Usage: python bench/sendcost.py [--connections 1000] [--rate 100] [--seconds 3]
                                [--nodelay] [--lazy]

A receiver subprocess (pinned to core 1 where there is one) holds
C{connections} loopback connections and reads them with C{epoll}; this
process (core 0) sends one 62-byte line to each, C{rate} rounds a second,
like a server fanning a chat line out to a big room, and prints its own CPU
time per C{send()}.  C{--nodelay} sets C{TCP_NODELAY} on the sending side;
C{--lazy} makes the receiver read only every 2 ms, so that the sender's
segments can merge while earlier ones wait for their acknowledgement
(Nagle).  On loopback the sender's C{send()} also runs the receiving side's
TCP processing, so these costs are higher than over a network.
"""

from __future__ import annotations

import argparse
import os
import resource
import select
import socket
import sys
import time

LINE = b"x" * 60 + b"\r\n"


def pin(core: int) -> None:
    if hasattr(os, "sched_setaffinity") and core in os.sched_getaffinity(0):
        os.sched_setaffinity(0, {core})


def receive(port: int, connections: int, seconds: float, lazy: bool) -> None:
    pin(1)
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(connections)]
    poller = select.epoll()
    byFd = {}
    for sock in socks:
        sock.setblocking(False)
        poller.register(sock.fileno(), select.EPOLLIN)
        byFd[sock.fileno()] = sock
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if lazy:
            time.sleep(0.002)
        for fd, _ in poller.poll(0.1):
            byFd[fd].recv(65536)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--nodelay", action="store_true")
    parser.add_argument("--lazy", action="store_true")
    arguments = parser.parse_args()

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(arguments.connections)
    port = listener.getsockname()[1]
    child = os.fork()
    if child == 0:
        try:
            receive(port, arguments.connections, arguments.seconds + 3, arguments.lazy)
        finally:
            os._exit(0)
    pin(0)
    socks = [listener.accept()[0] for _ in range(arguments.connections)]
    for sock in socks:
        sock.setblocking(False)
        if arguments.nodelay:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    time.sleep(0.5)
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.monotonic()
    sent = 0
    for round in range(int(arguments.rate * arguments.seconds)):
        for sock in socks:
            try:
                sent += sock.send(LINE) > 0
            except BlockingIOError:
                pass
        delay = start + (round + 1) / arguments.rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    after = resource.getrusage(resource.RUSAGE_SELF)
    elapsed = time.monotonic() - start
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    print(
        f"{sent:,} sends in {elapsed:.1f} s: {cpu / elapsed:.2f} core, "
        f"{cpu / max(sent, 1) * 1e6:.2f} us per send"
        f"{' (TCP_NODELAY)' if arguments.nodelay else ''}{' (lazy receiver)' if arguments.lazy else ''}"
    )
    os.waitpid(child, 0)


if __name__ == "__main__":
    sys.exit(main())
