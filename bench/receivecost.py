"""
What it costs a Python process to receive fan-out traffic, three ways.

Usage: python bench/receivecost.py [--connections 1000] [--rounds 500] [--rate 100]

A writer (this process) sends one 64-byte line to each of C{connections}
loopback connections, C{rate} rounds a second, like a server fanning a chat
line out to a big room.  A receiver subprocess, pinned to the other core
where there is one, counts the lines with C{bytes.count} using:

 - C{asyncio}: an C{asyncio.Protocol} per connection (C{data_received});
 - C{epoll}: C{select.epoll}, reading each socket as soon as it is ready;
 - C{epoll-batched}: the same, but polling only every 50 ms, so that one
   read carries several lines (what C{loadgen.py} does for every receiver
   whose latency it does not sample).

It prints the receiver's CPU time per line.  This is why the load generator
is built on C{epoll} rather than asyncio.
"""

from __future__ import annotations

import argparse
import os
import resource
import select
import socket
import subprocess
import sys
import time

LINE = b"u1: %" + b"x" * 57 + b"\r\n"


def receive(port: int, connections: int, expected: int, mode: str) -> None:
    socks = []
    for _ in range(connections):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setblocking(False)
        socks.append(sock)
    sys.stdout.write("connected\n")
    sys.stdout.flush()
    start = resource.getrusage(resource.RUSAGE_SELF)
    received = 0
    reads = 0
    if mode == "asyncio":
        import asyncio

        class Counter(asyncio.Protocol):
            def data_received(self, data: bytes) -> None:
                nonlocal received, reads
                received += data.count(b"%")
                reads += 1
                if received >= expected:
                    done.set()

        async def main() -> None:
            loop = asyncio.get_running_loop()
            for sock in socks:
                await loop.connect_accepted_socket(Counter, sock)
            await done.wait()

        global done
        done = asyncio.Event()
        asyncio.run(main())
    else:
        poller = select.epoll()
        byFd = {}
        for sock in socks:
            poller.register(sock.fileno(), select.EPOLLIN)
            byFd[sock.fileno()] = sock
        buffer = bytearray(262144)
        pause = 0.05 if mode == "epoll-batched" else 0
        while received < expected:
            for fd, _ in poller.poll(1.0):
                size = byFd[fd].recv_into(buffer)
                received += buffer.count(b"%", 0, size)
                reads += 1
            if pause:
                time.sleep(pause)
    end = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (end.ru_utime - start.ru_utime) + (end.ru_stime - start.ru_stime)
    sys.stdout.write(f"{cpu} {received} {reads}\n")


def measure(mode: str, connections: int, rounds: int, rate: float) -> tuple[float, int, int]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4096)
    port = listener.getsockname()[1]
    pin = ["taskset", "-c", "1"] if len(os.sched_getaffinity(0)) > 1 else []
    child = subprocess.Popen(
        [*pin, sys.executable, __file__, "--receive", mode, "--port", str(port),
         "--connections", str(connections), "--rounds", str(rounds)],
        stdout=subprocess.PIPE,
    )
    peers = [listener.accept()[0] for _ in range(connections)]
    for peer in peers:
        peer.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    assert child.stdout.readline() == b"connected\n"
    begin = time.monotonic()
    for n in range(rounds):
        for peer in peers:
            peer.sendall(LINE)
        delay = begin + (n + 1) / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    cpu, received, reads = child.stdout.readline().split()
    child.wait(30)
    for peer in peers:
        peer.close()
    listener.close()
    return float(cpu), int(received), int(reads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=500)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--receive", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.receive:
        receive(arguments.port, arguments.connections,
                arguments.connections * arguments.rounds, arguments.receive)
        return
    print(f"{arguments.connections} connections, {arguments.rounds} rounds at {arguments.rate:g}/s")
    for mode in ("asyncio", "epoll", "epoll-batched"):
        cpu, received, reads = measure(mode, arguments.connections, arguments.rounds, arguments.rate)
        print(f"{mode:14} {cpu:6.2f} s CPU for {received:,} lines in {reads:,} reads: "
              f"{cpu / received * 1e6:5.2f} µs a line")


if __name__ == "__main__":
    main()
