"""
The cluster's targets (S11, S12): several C{twistd -n chat --cluster} nodes
on this machine, against one node, measured in the same invocation.

Usage (from a checkout, as root on a machine with Debian's C{redis-server}
and C{postgresql}, or with them already installed)::

    python bench/cluster.py [--quick] [--reps N] [--only S11,S12] [--output PATH]

 - B{S11}: S1 (100 clients in one room, 10 senders, closed loop) with the
   clients spread over two nodes, against one node: with no cluster
   (C{--store memory}, as S1), with the cluster's store alone
   (C{--store postgresql}), and clustered alone (PostgreSQL and Redis, one
   node); the threaded original beside them, so that the ratios travel.
   Every server process (nodes, Redis, PostgreSQL) is pinned to the server
   core and the generator to the other, as in C{run.py}: two nodes get the
   same CPU as one, so the case measures what the Redis hop costs, not
   what a second core would give.  Then one node and two nodes again,
   unpinned: what running two nodes instead of one gives on this machine,
   its two cores shared by everything (the generator too).  The hop itself is read from each
   node's C{chatsvc_cluster_hop_seconds} histogram, over the measured
   phase only, and as latency added end to end (1 line in flight).
 - B{S12}: three nodes with 10,000 idle clients each in one room (three
   generator processes of 10,000 sockets, each spread over the three
   nodes: one process may hold 20,000 files); one line said, and how long
   it took to reach all 30,000.  Unpinned: it is a capacity target.

Redis and PostgreSQL are the project's own throwaway servers (C{.ci/redis},
C{.ci/postgresql}), one of each for the whole invocation; Redis is emptied
between runs.  Writes a Markdown report (default C{bench/RESULTS-cluster.md})
and every number beside it as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import scenarios
from loadgen import processCpu, processRss
from run import cores, raiseFileLimit
from scenarios import Load, fanOut
from servers import BENCH, ROOT, Chatsvc, Threaded, freePort

CI = ROOT / ".ci"


class Backing:
    """
    One throwaway Redis and one PostgreSQL (the project's C{.ci} scripts),
    started for the invocation and stopped at its end.
    """

    def __init__(self, workdir: Path) -> None:
        self.dirs: dict[str, Path] = {}
        self.redis = self._start("redis", workdir)
        self.dsn = self._start("postgresql", workdir)

    def _start(self, name: str, workdir: Path) -> str:
        directory = workdir / name
        directory.mkdir()
        done = subprocess.run(
            ["bash", str(CI / name), "start", str(directory)],
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
        if done.returncode:
            raise RuntimeError(f".ci/{name} start failed:\n{done.stderr[-2000:]}")
        self.dirs[name] = directory
        return done.stdout.split()[-1]

    def pids(self) -> list[int]:
        """
        Redis, and PostgreSQL's postmaster with its children (new backends
        inherit the postmaster's CPU affinity).
        """
        redis = int((self.dirs["redis"] / "pid").read_text())
        postmaster = int(
            next((self.dirs["postgresql"]).rglob("postmaster.pid")).read_text().split()[0]
        )
        children = Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split()
        return [redis, postmaster, *map(int, children)]

    def pin(self, cpu: int | None) -> None:
        if cpu is None:
            return
        for pid in self.pids():
            subprocess.run(["taskset", "-a", "-p", "-c", str(cpu), str(pid)], capture_output=True)

    def unpin(self) -> None:
        cpus = ",".join(map(str, sorted(os.sched_getaffinity(0))))
        for pid in self.pids():
            subprocess.run(["taskset", "-a", "-p", "-c", cpus, str(pid)], capture_output=True)

    def flushRedis(self) -> None:
        """
        Forget every lease and claim of the last run (its nodes stopped).
        """
        host, port = re.match(r"redis://([^:/]+):(\d+)", self.redis).groups()
        with socket.create_connection((host, int(port)), 5) as sock:
            sock.sendall(b"*1\r\n$8\r\nFLUSHALL\r\n")
            if not sock.recv(64).startswith(b"+OK"):
                raise RuntimeError("Redis did not empty")

    def stop(self) -> None:
        for name, directory in self.dirs.items():
            subprocess.run(
                ["bash", str(CI / name), "stop", str(directory)],
                capture_output=True,
                timeout=60,
                stdin=subprocess.DEVNULL,
            )


class StoreNode(Chatsvc):
    """
    One C{twistd chat} on the cluster's PostgreSQL, clustered or not, its
    metrics on a port of their own.
    """

    def __init__(self, backing: Backing, cluster: bool = False, index: int = 1) -> None:
        super().__init__()
        self.backing = backing
        self.cluster = cluster
        self.name = f"node{index}"
        self.metricsPort = 0

    def storeOption(self, workdir: Path) -> str:
        return self.backing.dsn

    def command(self, workdir: Path, users: int, rooms: list[str]) -> list[str]:
        self.metricsPort = freePort()
        extra = ["--metrics-port", f"tcp:{self.metricsPort}:interface=127.0.0.1"]
        if self.cluster:
            extra += ["--cluster", self.backing.redis, "--node-name", self.name]
        return [*super().command(workdir, users, rooms), *extra]

    def hops(self) -> dict[str, float]:
        """
        This node's hop histogram as it stands: C{le} to count, and the
        sum and count.
        """
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metricsPort}/metrics", timeout=5) as page:
            text = page.read().decode()
        found: dict[str, float] = {}
        for line in text.splitlines():
            if not line.startswith("chatsvc_cluster_hop_seconds"):
                continue
            name, value = line.rsplit(" ", 1)
            bucket = re.search(r'le="([^"]+)"', name)
            found[bucket.group(1) if bucket else name.rsplit("_", 1)[1]] = float(value)
        return found


class Nodes:
    """
    C{count} clustered nodes as one server for L{scenarios.run}: its clients
    spread over their ports (the generator's C{ports}), the first node's
    process measured as the server's, every node's CPU, memory and hop
    histogram kept by L{watch}.
    """

    dialect = "native"
    password = None
    window = 500
    storePath = None

    def __init__(self, backing: Backing, count: int) -> None:
        self.backing = backing
        self.nodes = [StoreNode(backing, cluster=True, index=k + 1) for k in range(count)]
        self.name = f"{count} nodes"
        self.marks: dict[str, list] = {}

    @property
    def port(self) -> int:
        return self.nodes[0].port

    @property
    def ports(self) -> list[int]:
        return [node.port for node in self.nodes]

    @property
    def pid(self) -> int:
        return self.nodes[0].pid

    def start(self, workdir: Path, cpu: int | None, users: int = 0, rooms=(), options=()) -> None:
        self.backing.flushRedis()
        self.marks = {}
        try:
            for node in self.nodes:
                node.start(workdir, cpu, users, rooms, options)
        except Exception:
            self.stop()
            raise

    def watch(self, phase: str, pid: int) -> None:
        """
        For L{scenarios.run}: every node's numbers as a phase begins.
        """
        self.marks[phase] = self.snapshot()

    def snapshot(self) -> list[dict]:
        return [
            {
                "cpu": processCpu(node.pid),
                "rss": processRss(node.pid),
                "hops": node.hops(),
                "at": time.monotonic(),
            }
            for node in self.nodes
        ]

    def stop(self) -> None:
        if all(node.process is not None and node.process.poll() is None for node in self.nodes):
            self.marks["end"] = self.snapshot()
        for node in self.nodes:
            node.stop()

    def tracebacks(self) -> int:
        return sum(node.tracebacks() for node in self.nodes)

    def numbers(self) -> dict:
        """
        What the nodes did from the phase they were last watched at to
        their stop: CPU per node, resident memory per node once every
        client had registered, and the hop histogram's difference.
        """
        begin = self.marks.get("measure") or self.marks.get("register")
        end = self.marks.get("end")
        if begin is None or end is None:
            return {}
        seconds = max(end[0]["at"] - begin[0]["at"], 1e-9)
        hops: dict[str, float] = {}
        for before, after in zip(begin, end):
            for key, value in after["hops"].items():
                hops[key] = hops.get(key, 0.0) + value - before["hops"].get(key, 0.0)
        return {
            "nodeCpu": [(a["cpu"] - b["cpu"]) / seconds for b, a in zip(begin, end)],
            "nodeRssRegistered": [b["rss"] for b in begin],
            "hop": hopSummary(hops),
        }


def hopSummary(hops: dict[str, float]) -> dict:
    """
    Mean and bucketed percentiles (the upper bound of the bucket the
    percentile falls in) of a hop histogram's counts.
    """
    count = hops.get("count", 0.0)
    if not count:
        return {"count": 0}
    bounds = sorted((float(le), n) for le, n in hops.items() if le not in ("sum", "count", "created"))
    summary = {"count": int(count), "meanMs": hops["sum"] / count * 1000}
    for p in (50, 90, 99):
        wanted = count * p / 100
        summary[f"p{p}Ms"] = next((le * 1000 for le, n in bounds if n >= wanted), float("inf"))
    return summary


def s11(backing: Backing, quick: bool) -> list[tuple[str, object, Load, bool]]:
    """
    S1's two cases against one node three ways, two nodes, and the threaded
    original, every server on one core; then one node and two unpinned,
    free to use both cores (the generator with them).
    """
    servers = [
        ("threaded original", lambda: Threaded(), True),
        ("1 node, memory store", lambda: Chatsvc(), True),
        ("1 node, PostgreSQL", lambda: StoreNode(backing), True),
        ("1 node, clustered", lambda: Nodes(backing, 1), True),
        ("2 nodes, clustered", lambda: Nodes(backing, 2), True),
        ("unpinned: 1 node, memory store", lambda: Chatsvc(), False),
        ("unpinned: 1 node, PostgreSQL", lambda: StoreNode(backing), False),
        ("unpinned: 2 nodes, clustered", lambda: Nodes(backing, 2), False),
    ]
    windows = [8] if quick else [8, 1]
    return [
        (f"{name}, {window} in flight", make, fanOut(window, quick), pinned)
        for window in windows
        for name, make, pinned in servers
    ]


def s12(backing: Backing, quick: bool) -> list[tuple[str, object, Load, bool]]:
    """
    3 nodes, C{size} idle clients each in the lobby, one line said.
    """
    size = 2_000 if quick else 10_000
    load = Load(
        clients=3 * size,
        workers=3,
        registerDeadline=300.0,
        quietMax=30.0,
        measure={
            "mode": "open",
            "senders": [0],
            "rate": 1.0,
            "sendLimit": 1,
            "tracker": None,
            "warmup": 0.5,
            "duration": 10.0,
            "drain": 5.0,
            "textBytes": 40,
            "bulkInterval": 0.01,
        },
    )
    return [(f"3 nodes x {size:,} in one room", lambda: Nodes(backing, 3), load, False)]


SCENARIOS = {"S11": s11, "S12": s12}


def measured(server, load: Load, workdir: Path, backing: Backing, cpus: tuple | None) -> dict:
    """
    One run; C{cpus} the (server, generator) cores, or C{None} for none.
    """
    serverCpu, generatorCpu = cpus or (None, None)
    if cpus:
        backing.pin(serverCpu)
    else:
        backing.unpin()
    watch = server.watch if isinstance(server, Nodes) else None
    try:
        result = scenarios.run(server, load, workdir, serverCpu, generatorCpu, watch)
    except Exception as error:  # a failed run is reported, not fatal
        return {"error": f"{type(error).__name__}: {error}"}
    if isinstance(server, Nodes):
        result.update(server.numbers())
    result["tracebacks"] = server.tracebacks()
    return result


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def report(meta: dict, records: list[dict]) -> str:
    """
    The Markdown report: per case, the median over repetitions, and the
    ratios the targets ask for.
    """
    cases: dict[tuple[str, str], list[dict]] = {}
    byRep: dict[tuple[str, str], dict[int, dict]] = {}
    for record in records:
        key = (record["scenario"], record["case"])
        cases.setdefault(key, []).append(record["result"])
        if "error" not in record["result"]:
            byRep.setdefault(key, {})[record["rep"]] = record["result"]

    def paired(key: tuple[str, str], base: tuple[str, str]) -> str:
        """
        Deliveries/s of C{key} over C{base}'s in the same repetition: the
        median [lowest–highest].
        """
        mine, theirs = byRep.get(key, {}), byRep.get(base, {})
        ratios = sorted(
            mine[rep]["deliveriesPerSecond"] / theirs[rep]["deliveriesPerSecond"]
            for rep in mine
            if rep in theirs and theirs[rep]["deliveriesPerSecond"]
        )
        if not ratios:
            return "—"
        return f"{median(ratios):.2f} [{ratios[0]:.2f}–{ratios[-1]:.2f}]"
    lines = [
        "# chatsvc cluster benchmarks (S11, S12)",
        "",
        f"Run {meta['date']} at {meta['commit']}, {meta['reps']} repetition(s)"
        f"{', quick sizes' if meta['quick'] else ''}, by `python bench/cluster.py`"
        f" ({meta['seconds']:.0f} s).  Medians over the repetitions; each cell's"
        " runs are in the JSON beside this file.",
        "",
    ]

    def good(key: tuple[str, str]) -> list[dict]:
        return [r for r in cases.get(key, []) if "error" not in r]

    def cell(values: list[float], fmt: str) -> str:
        m = median(values)
        return "—" if m is None else format(m, fmt)

    s11Rows = [key for key in cases if key[0] == "S11"]
    if s11Rows:
        lines += [
            "## S11: S1 over two nodes",
            "",
            "Every server process (nodes, Redis, PostgreSQL) on the server core, the"
            " generator on the other.  *Hop*: the nodes' `chatsvc_cluster_hop_seconds`"
            " over the measured phase (from publishing a line to Redis until it came"
            " back), bucket bounds.  Ratios: paired by repetition, median [lowest–highest].",
            "",
            "| case | deliveries/s | × 1 node, memory | × 1 node, PostgreSQL | × threaded | p50 ms | p99 ms | lost | hop mean ms | hop p99 ms ≤ | node CPU (cores) | errors |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for scenario, case in s11Rows:
            runs = good((scenario, case))
            window = case.rsplit(", ", 1)[1]
            unpinned = "unpinned: " if case.startswith("unpinned: ") else ""
            rate = [r["deliveriesPerSecond"] for r in runs]
            hops = [r["hop"] for r in runs if r.get("hop", {}).get("count")]
            lines.append(
                "| "
                + " | ".join(
                    [
                        case,
                        cell(rate, ",.0f"),
                        paired((scenario, case), (scenario, f"{unpinned}1 node, memory store, {window}")),
                        paired((scenario, case), (scenario, f"{unpinned}1 node, PostgreSQL, {window}")),
                        paired((scenario, case), (scenario, f"threaded original, {window}")),
                        cell([r["latency"].get("p50", 0) for r in runs], ".2f"),
                        cell([r["latency"].get("p99", 0) for r in runs], ".2f"),
                        cell([r["lost"] for r in runs], ".0f"),
                        cell([h["meanMs"] for h in hops], ".2f"),
                        cell([h["p99Ms"] for h in hops], ".1f"),
                        cell([sum(r.get("nodeCpu", [r["serverCpu"]])) for r in runs], ".2f"),
                        str(len(cases[(scenario, case)]) - len(runs)),
                    ]
                )
                + " |"
            )
        lines.append("")
    s12Rows = [key for key in cases if key[0] == "S12"]
    for key in s12Rows:
        runs = good(key)
        lines += [
            "## S12: three nodes, one room",
            "",
            f"{key[1]}: three generator processes, each spread over the three nodes; one"
            " line said by one client.  *Reach*: from its sending to the last delivery any"
            " generator saw (to within 10 ms, their bulk interval).",
            "",
            "| runs | registered | register s | received (one each, the sender's echo too) | reach s | node RSS registered (MB) | errors |",
            "|---|---|---|---|---|---|---|",
            "| "
            + " | ".join(
                [
                    str(len(cases[key])),
                    cell([r["registered"] for r in runs], ",.0f"),
                    cell([r["registerSeconds"] for r in runs], ".1f"),
                    cell([r["received"] for r in runs], ",.0f"),
                    cell([r.get("reachSeconds", float("nan")) for r in runs], ".2f"),
                    " / ".join(
                        cell([r["nodeRssRegistered"][k] / 1e6 for r in runs if "nodeRssRegistered" in r], ".0f")
                        for k in range(3)
                    ),
                    str(len(cases[key]) - len(runs)),
                ]
            )
            + " |",
            "",
        ]
    failures = [r for r in records if "error" in r["result"]]
    if failures:
        lines += ["## Failed runs", ""]
        lines += [f"- {r['scenario']} {r['case']} (rep {r['rep']}): {r['result']['error']}" for r in failures]
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--reps", type=int, default=None)
    parser.add_argument("--only", default="S11,S12")
    parser.add_argument("--output", default=str(BENCH / "RESULTS-cluster.md"))
    options = parser.parse_args()
    reps = options.reps or (1 if options.quick else 3)
    raiseFileLimit()
    serverCpu, generatorCpu = cores()
    workdir = Path("/tmp") / f"chatsvc-bench-cluster-{int(time.time())}"
    workdir.mkdir(parents=True)
    began = time.monotonic()
    backing = Backing(workdir)
    records = []
    try:
        for rep in range(reps):
            for scenario in options.only.split(","):
                cases = SCENARIOS[scenario](backing, options.quick)
                for index, (case, make, load, pinned) in enumerate(cases):
                    runDir = workdir / f"{scenario}-{rep}-{index}"
                    cpus = (serverCpu, generatorCpu) if pinned else None
                    result = measured(make(), load, runDir, backing, cpus)
                    records.append({"scenario": scenario, "case": case, "rep": rep, "result": result})
                    print(f"{scenario} {case} rep {rep}: {brief(result)}", flush=True)
    finally:
        backing.stop()
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    meta = {
        "date": time.strftime("%Y-%m-%d"),
        "commit": commit,
        "reps": reps,
        "quick": options.quick,
        "seconds": time.monotonic() - began,
        "pinning": [serverCpu, generatorCpu],
    }
    output = Path(options.output)
    output.write_text(report(meta, records))
    output.with_suffix(".json").write_text(json.dumps({"meta": meta, "records": records}, indent=1))
    print(f"wrote {output}; logs in {workdir}")


def brief(result: dict) -> str:
    if "error" in result:
        return "FAILED: " + result["error"].splitlines()[-1]
    text = f"registered {result['registered']}/{result['clients']} in {result['registerSeconds']:.1f} s"
    if "deliveriesPerSecond" in result:
        text += f", {result['deliveriesPerSecond']:,.0f} deliveries/s, lost {result['lost']}"
    if "reachSeconds" in result:
        text += f", received {result['received']}, reach {result['reachSeconds']:.2f} s"
    if result.get("hop", {}).get("count"):
        text += f", hop mean {result['hop']['meanMs']:.2f} ms"
    return text


if __name__ == "__main__":
    sys.exit(main())
