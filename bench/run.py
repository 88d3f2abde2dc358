"""
The chatsvc benchmark: every scenario against our server and the baselines.

Usage: python bench/run.py [--quick] [--reps N] [--only S1,S3,S8]
                           [--servers chatsvc,chatsvc-irc,chatsvc-sqlite,chatsvc-web,threaded,words,ngircd,inspircd]
                           [--output bench/RESULTS.md] [--from-json results.json]

Each repetition runs every scenario against every server, interleaved (the
order of the servers rotates from one repetition to the next), each run on a
fresh server.  The server is pinned to core 0 and the load generator to
core 1 when the machine has two cores.  Writes RESULTS.md (tables of
medians with min-max, ratios to the baselines, targets) and, beside it,
results.json with every number of every run.  Needs only the standard
library and the project's own dependencies, and installs the C baselines'
Debian packages (ngircd, inspircd) when they are missing; a server that
cannot be had is left out, and stdout and RESULTS.md say so.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
import traceback
from pathlib import Path

import packages
import report
import scenarios
import versus
from servers import BENCH, SERVERS, hasHistory, hasIrcFrontEnd, hasWebFrontEnd


def cores() -> tuple[int | None, int | None]:
    """
    (server core, generator core), or no pinning on a one-core machine.
    """
    available = sorted(os.sched_getaffinity(0))
    if len(available) >= 2:
        return available[0], available[1]
    return None, None


def raiseFileLimit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def summary(record: dict) -> str:
    r = record["result"]
    if "error" in r:
        return "FAILED: " + r["error"].splitlines()[-1]
    stored = ""
    if "storedLines" in r:
        stored = f", {r['storedLines']:,} lines in the file"
        if r.get("sendingSeconds"):
            stored += f" ({r['storedLines'] / r['sendingSeconds']:,.0f}/s of sending)"
    elif "storeError" in r:
        stored = f", store: {r['storeError']}"
    if "underLogins" in r:
        quiet, loaded, logins = r["quiet"], r["underLogins"], r["logins"]
        return (
            f"quiet {quiet['deliveriesPerSecond']:,.0f} deliveries/s, p99 {quiet['latency'].get('p99', 0):.1f} ms; "
            f"under logins {loaded['deliveriesPerSecond']:,.0f}/s "
            f"({loaded['deliveriesPerSecond'] / max(quiet['deliveriesPerSecond'], 1):.2f}×), "
            f"p99 {loaded['latency'].get('p99', 0):.1f} ms; logins {logins['counts']}; "
            f"server {quiet['serverCpu']:.2f} / {loaded['serverCpu']:.2f} core; "
            f"one verification {r['verificationMs']['median']:.0f} ms here"
        )
    if "deliveriesPerSecond" in r:
        latency = r["latency"]
        return (
            f"{r['deliveriesPerSecond']:,.0f} deliveries/s, {r['messagesPerSecond']:,.0f} lines/s, "
            f"p99 {latency.get('p99', 0):.1f} ms, "
            f"lost {r['lost']}, server {r['serverCpu']:.2f} core, generator {r['generatorCpu']:.2f}"
            + stored
        )
    return (
        f"{r['registered']:,} registered in {r['registerSeconds']:.2f} s "
        f"({r['registerRate']:,.0f}/s), "
        f"{(r['rssRegistered'] - r['rssIdle']) / max(r['registered'], 1) / 1024:.2f} KiB each, "
        f"server {r.get('serverCpuRegistering', r['serverCpuRegistration']) / r['registerSeconds']:.2f} core, "
        f"generator {r['generatorCpuRegistration']:.2f}" + stored
    )


def available(names: list[str]) -> tuple[list[str], dict[str, str]]:
    """
    The servers that can be run, installing their packages when missing,
    and why each of the others cannot.
    """
    wanted = [SERVERS[name].package for name in names if SERVERS[name].package]
    why = packages.ensureInstalled(wanted)
    unavailable = {name: why[SERVERS[name].package] for name in names if SERVERS[name].package in why}
    for name, reason in unavailable.items():
        # On stdout as well as in RESULTS.md: a run without a baseline must say so.
        print(f"NOT RUN: {name}: {reason}", flush=True)
    return [name for name in names if name not in unavailable], unavailable


def document(meta: dict, records: list[dict]) -> str:
    return report.render(
        meta, records, versus.history(records) + versus.render(meta, records, versus.loadPrevious())
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--quick", action="store_true", help="one repetition, smaller sizes")
    parser.add_argument("--reps", type=int, default=None, help="repetitions (default 3, quick 1)")
    parser.add_argument("--only", default="", help="comma-separated scenarios, e.g. S1,S3")
    parser.add_argument("--servers", default="", help="comma-separated servers")
    parser.add_argument("--output", type=Path, default=BENCH / "RESULTS.md")
    parser.add_argument("--from-json", type=Path, metavar="PATH",
                        help="only rewrite the report from an earlier run's results.json")
    arguments = parser.parse_args()
    if arguments.from_json:
        saved = json.loads(arguments.from_json.read_text())
        arguments.output.write_text(document(saved["meta"], saved["runs"]))
        print(f"wrote {arguments.output}", file=sys.stderr)
        return
    reps = arguments.reps or (1 if arguments.quick else 3)
    chosen = [s.strip().upper() for s in arguments.only.split(",") if s.strip()] or list(
        scenarios.SCENARIOS
    )
    names = [s.strip() for s in arguments.servers.split(",") if s.strip()] or [
        "chatsvc",
        *(["chatsvc-irc"] if hasIrcFrontEnd() else []),
        *(["chatsvc-sqlite"] if hasHistory() else []),
        *(["chatsvc-web"] if hasWebFrontEnd() else []),
        "threaded",
        "words",
        "ngircd",
        "inspircd",
    ]
    for name in names:
        if name not in SERVERS:
            parser.error(f"unknown server {name!r}; known: {', '.join(SERVERS)}")
    names, unavailable = available(names)
    for name in chosen:
        if name not in scenarios.SCENARIOS:
            parser.error(f"unknown scenario {name!r}")
    files = raiseFileLimit()
    serverCpu, generatorCpu = cores()
    workdir = Path(tempfile.mkdtemp(prefix="chatsvc-bench-"))
    began = time.time()
    records = []
    print(
        f"{reps} repetition(s) of {', '.join(chosen)} against {', '.join(names)}; "
        f"server on core {serverCpu}, generator on core {generatorCpu}; logs in {workdir}",
        file=sys.stderr,
    )
    for rep in range(reps):
        for scenario in chosen:
            order = names[rep % len(names) :] + names[: rep % len(names)]
            for name in order:
                server = SERVERS[name]()
                cases = scenarios.SCENARIOS[scenario](server, arguments.quick)
                rounds = any(load.round for _, load in cases)
                for index, (case, load) in enumerate(cases):
                    started = time.monotonic()
                    try:
                        # A directory per case: each run's log (and history file) its own.
                        result = scenarios.run(
                            server, load, workdir / f"{scenario}-{name}-{rep}-{index}", serverCpu, generatorCpu
                        )
                        result["tracebacks"] = server.tracebacks()
                    except Exception:
                        result = {"error": traceback.format_exc(), "log": server.logTail()}
                    record = {
                        "rep": rep,
                        "round": load.round,
                        "scenario": scenario,
                        "case": case,
                        "server": name,
                        "seconds": time.monotonic() - started,
                        "result": result,
                    }
                    records.append(record)
                    again = f" (round {load.round + 1})" if rounds else ""
                    print(
                        f"[{rep + 1}/{reps}] {scenario} {case}{again} {name} "
                        f"({record['seconds']:.0f} s): {summary(record)}",
                        file=sys.stderr,
                        flush=True,
                    )
    meta = report.machine()
    meta.update(
        command=" ".join(["python", "bench/run.py", *sys.argv[1:]]),
        quick=arguments.quick,
        reps=reps,
        servers=names,
        unavailable=unavailable,
        scenarios=chosen,
        pinning=(serverCpu, generatorCpu),
        fileLimit=files,
        started=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(began)),
        minutes=(time.time() - began) / 60,
    )
    output = arguments.output
    output.parent.mkdir(parents=True, exist_ok=True)
    jsonPath = output.with_name(output.stem.lower() + ".json") if output.stem != "RESULTS" else output.with_name("results.json")
    jsonPath.write_text(json.dumps({"meta": meta, "runs": records}, indent=1))
    output.write_text(document(meta, records))
    print(f"wrote {output} and {jsonPath} in {meta['minutes']:.1f} min", file=sys.stderr)


if __name__ == "__main__":
    main()
