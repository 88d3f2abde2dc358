"""
How long N clients take to join one room of the real server.

Usage: python bench/crowd.py [--clients N] [--crowd-size S] [--baseline-crowd-size S]

Starts C{twistd -n chat} on a free loopback port once with the shipped crowd
policy and once with it effectively off (every join announced to everyone),
connects N clients (at most 500 connecting at once), and reports the time
until every client has its welcome, the time until one line then reaches all
N, and the server's peak resident memory.  Bounded: every wait has a deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.harness import ServerProcess  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from servers import limitOptions  # noqa: E402

DEADLINE = 120.0


async def drain(reader: asyncio.StreamReader) -> None:
    """
    Read and discard until EOF, like a well-behaved client.
    """
    while await reader.read(65536):
        pass


async def join(port: int, nickname: str, gate: asyncio.Semaphore):
    async with gate:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert (await reader.readline()).strip() == b"NICK"
        writer.write(nickname.encode() + b"\n")
        while (await reader.readline()).strip() != b"Connected to server!":
            pass
    return reader, writer


async def run(port: int, clients: int) -> dict[str, float]:
    gate = asyncio.Semaphore(500)
    started = time.monotonic()
    pairs = await asyncio.wait_for(
        asyncio.gather(*(join(port, f"user{n}", gate) for n in range(clients))),
        DEADLINE,
    )
    joined = time.monotonic() - started
    marker = b"user0: marker-line"

    async def await_marker(reader: asyncio.StreamReader) -> None:
        while marker not in (await reader.readline()):
            pass

    waiting = [asyncio.ensure_future(await_marker(reader)) for reader, _ in pairs]
    sent = time.monotonic()
    pairs[0][1].write(b"marker-line\n")
    await asyncio.wait_for(asyncio.gather(*waiting), DEADLINE)
    fanout = time.monotonic() - sent
    for _, writer in pairs:
        writer.close()
    return {"join_seconds": joined, "fanout_seconds": fanout}


def peakRss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def measure(clients: int, crowdSize: int, workdir: str) -> dict[str, float]:
    # Every client comes from 127.0.0.1: lift the per-address and total limits.
    server = ServerProcess("--crowd-size", str(crowdSize), *limitOptions())
    server.start(workdir)
    try:
        result = asyncio.run(run(server.port, clients))
        result["peak_rss_kib"] = peakRss(server.process.pid)
    finally:
        server.stop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--crowd-size", type=int, default=100)
    parser.add_argument("--baseline-crowd-size", type=int, default=None,
                        help="also run with this crowd size (e.g. a huge one = no policy)")
    arguments = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    workdir = tempfile.mkdtemp(prefix="chatsvc-crowd-")
    runs = [("policy", arguments.crowd_size)]
    if arguments.baseline_crowd_size:
        runs.append(("baseline", arguments.baseline_crowd_size))
    for name, crowdSize in runs:
        result = measure(arguments.clients, crowdSize, workdir)
        print(name, f"crowd-size={crowdSize}", f"clients={arguments.clients}",
              " ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}"
                       for k, v in result.items()), flush=True)


if __name__ == "__main__":
    main()
