"""
Where our server's time goes under one scenario: py-spy, attached to twistd.

Usage: python bench/profile.py S1|S2|S3|S4|S5 [--server chatsvc] [--quick]
                               [--out DIR] [--rate HZ]

Runs the scenario once (as C{bench/run.py} would) with C{py-spy record}
attached to the server's PID for the measured phase (for S3: the
registration), writes py-spy's collapsed stacks to C{DIR/<scenario>.txt}
and prints the functions with the most samples, by own time and by
inclusive time, as percentages of the samples in which the server was busy.

Needs py-spy (C{pip install py-spy}); the benchmark itself does not.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import scenarios
from servers import SERVERS

LINE_NUMBER = re.compile(r":\d+\)$")


# Where a thread waits: the reactor in epoll, a thread pool's worker (the
# SQLite store's thread) for its next job.
IDLE = ("EPollReactor.doPoll (", "epoll_wait (", "Condition.wait (threading.py)")


def summarize(collapsed: Path, top: int = 25) -> str:
    """
    Own and inclusive sample shares per function, from collapsed stacks;
    and each thread's busy samples (the reactor's, a pool worker's).
    """
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    threadsBusy: Counter[str] = Counter()
    busy = idle = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        samples = int(count)
        frames = [LINE_NUMBER.sub(")", f) for f in stack.split(";")]
        if frames and frames[0].startswith("process "):
            frames = frames[1:]
        if frames and frames[0].startswith("thread "):
            frames = frames[1:]
        thread = "a worker thread" if frames and frames[0].startswith("Thread._bootstrap") else "main (reactor)"
        threads[thread] += samples
        leaf = frames[-1] if frames else "?"
        if leaf.startswith(IDLE):
            idle += samples
            continue
        busy += samples
        threadsBusy[thread] += samples
        own[leaf] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    total = busy + idle
    lines = [
        f"samples: {total}, busy {busy} ({100 * busy / max(total, 1):.0f}%), "
        f"waiting (epoll, a worker's queue) {idle} ({100 * idle / max(total, 1):.0f}%)",
    ]
    lines += [
        f"  {thread}: busy in {100 * threadsBusy[thread] / max(n, 1):.0f}% of its {n} samples"
        for thread, n in sorted(threads.items())
    ]
    lines += [
        "",
        "own time (% of busy samples):",
    ]
    lines += [f"  {100 * n / busy:5.1f}%  {name}" for name, n in own.most_common(top)]
    lines += ["", "inclusive time (% of busy samples):"]
    lines += [f"  {100 * n / busy:5.1f}%  {name}" for name, n in inclusive.most_common(top)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("scenario", choices=sorted(scenarios.SCENARIOS))
    parser.add_argument("--server", default="chatsvc", choices=sorted(SERVERS))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "chatsvc-profile")
    parser.add_argument("--rate", type=int, default=250)
    parser.add_argument("--extra", nargs="*", default=[], help="more py-spy options, e.g. --native")
    parser.add_argument("--case", type=int, default=-1, help="which case of the scenario (default: the last)")
    arguments = parser.parse_args()
    pyspy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(pyspy).exists():
        sys.exit("py-spy is not installed: pip install py-spy")
    server = SERVERS[arguments.server]()
    cases = scenarios.SCENARIOS[arguments.scenario](server, arguments.quick)
    case, load = cases[arguments.case]
    arguments.out.mkdir(parents=True, exist_ok=True)
    output = arguments.out / f"{arguments.scenario}-{server.name}.txt"
    phase = "register" if load.measure is None else "measure"
    seconds = (
        load.measure.get("warmup", 1.0) + load.measure["duration"]
        if load.measure
        else 5  # about as long as registering 19,900 takes
    )
    recorders: list[subprocess.Popen[bytes]] = []

    def watch(now: str, pid: int) -> None:
        if now == phase:
            recorders.append(
                subprocess.Popen(
                    [pyspy, "record", "--pid", str(pid), "--rate", str(arguments.rate),
                     "--duration", str(int(seconds)), "--idle", *arguments.extra,
                     "--format", "raw", "--output", str(output)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )

    result = scenarios.run(server, load, arguments.out, 0, 1, watch)
    for recorder in recorders:
        recorder.wait(timeout=seconds + 30)
    print(f"{arguments.scenario} {case} against {server.label}")
    for key in ("deliveriesPerSecond", "registerRate", "serverCpu", "generatorCpu"):
        if key in result:
            print(f"  {key}: {result[key]:,.2f}")
    print(f"collapsed stacks: {output}\n")
    print(summarize(output))


if __name__ == "__main__":
    main()
