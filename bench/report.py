"""
RESULTS.md from the runs: machine, versions, command, one table per
scenario (median with min-max over the repetitions), ratios to the
baselines, and every target met or missed by how much.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
from typing import Callable, Iterable

from servers import BENCH, ROOT, SERVERS

GENERATOR_LIMIT = 0.8  # of a core: above it, the generator may be the bottleneck
LABELS = {name: kind.label for name, kind in SERVERS.items()}
BASELINES = ("threaded", "words", "ngircd", "inspircd")


def machine() -> dict:
    """
    What the numbers were measured on.
    """
    model = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        import twisted

        twistedVersion = twisted.__version__
    except ImportError:
        twistedVersion = "?"
    try:
        commit = subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        commit = "?"
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memoryGiB": memory / 2**30,
        "kernel": platform.release(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "twisted": twistedVersion,
        "commit": commit,
        "executable": sys.executable,
    }


# Numbers


def ok(records: list[dict]) -> list[dict]:
    return [r for r in records if "error" not in r["result"]]


def fmt(values: list[float], digits: int = 1, scale: float = 1.0) -> str:
    """
    Median, and the range when there is more than one value.
    """
    values = [v * scale for v in values if v is not None]
    if not values:
        return "–"
    spec = f",.{digits}f"
    median = format(statistics.median(values), spec)
    if len(values) == 1 or min(values) == max(values):
        return median
    return f"{median} [{format(min(values), spec)}–{format(max(values), spec)}]"


def medianOnly(what: str, values: list[float], limit: float, unit: str) -> list[str]:
    """
    A note when the median is under C{limit} but some runs were not.
    """
    values = [v for v in values if v is not None]
    over = [v for v in values if v >= limit]
    if not values or not over or statistics.median(values) >= limit:
        return []
    return [
        f"{what} is under {limit:g} {unit} by the median only: {len(over)} of {len(values)} runs "
        f"were at or over it ({', '.join(f'{v:.2f}'.rstrip('0').rstrip('.') for v in over)} {unit})."
    ]


def median(values: Iterable[float]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def column(records: list[dict], get: Callable[[dict], float | None]) -> list[float]:
    out = []
    for record in records:
        try:
            out.append(get(record["result"]))
        except (KeyError, TypeError, ZeroDivisionError):
            pass
    return [v for v in out if v is not None]


def groups(records: list[dict], scenario: str) -> list[tuple[str, str, list[dict]]]:
    """
    (case, server, runs) for a scenario, in the order they first ran.
    """
    seen: dict[tuple[str, str], list[dict]] = {}
    for record in records:
        if record["scenario"] == scenario:
            seen.setdefault((record["case"], record["server"]), []).append(record)
    ordered = sorted(seen.items(), key=lambda item: (caseOrder(records, scenario, item[0][0]), serverOrder(item[0][1])))
    return [(case, server, runs) for (case, server), runs in ordered]


def caseOrder(records: list[dict], scenario: str, case: str) -> int:
    cases = []
    for record in records:
        if record["scenario"] == scenario and record["case"] not in cases:
            cases.append(record["case"])
    return cases.index(case)


def serverOrder(name: str) -> int:
    order = ["chatsvc", "chatsvc-irc", "chatsvc-sqlite", "chatsvc-web", "threaded", "words", "ngircd", "inspircd"]
    return order.index(name) if name in order else len(order)


def generatorFlag(runs: list[dict]) -> str:
    worst = max(column(ok(runs), lambda r: r.get("generatorCpu") or r.get("generatorCpuRegistration")) or [0])
    return " ⚠" if worst >= GENERATOR_LIMIT else ""


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def failures(runs: list[dict]) -> str:
    failed = len(runs) - len(ok(runs))
    return f" ({failed} of {len(runs)} runs failed)" if failed else ""


def latencyCells(runs: list[dict], key: str = "latency") -> list[str]:
    good = ok(runs)
    return [fmt(column(good, lambda r, p=p: r[key][p]), 1) for p in ("p50", "p90", "p99", "max")]


def loadRows(records: list[dict], scenario: str, extra: Callable[[list[dict]], list[str]] = lambda runs: []) -> list[list[str]]:
    rows = []
    for case, server, runs in groups(records, scenario):
        good = ok(runs)
        rows.append(
            [
                case,
                LABELS.get(server, server) + failures(runs),
                fmt(column(good, lambda r: r["deliveriesPerSecond"]), 0),
                fmt(column(good, lambda r: r["messagesPerSecond"]), 0),
                *latencyCells(runs),
                fmt(column(good, lambda r: r["lost"]), 0),
                fmt(column(good, lambda r: r["serverCpu"]), 2),
                fmt(column(good, lambda r: r["generatorCpu"]), 2) + generatorFlag(runs),
                *extra(runs),
            ]
        )
    return rows


LOAD_HEADER = [
    "case", "server", "deliveries/s", "lines sent/s", "p50 ms", "p90 ms", "p99 ms", "max ms",
    "lost", "server CPU (cores)", "generator CPU (cores)",
]


def perConnection(r: dict) -> float:
    return (r["rssRegistered"] - r["rssIdle"]) / max(r["registered"], 1) / 1000


def ratio(records: list[dict], scenario: str, case: str, ours: str, theirs: str, get: Callable[[dict], float]) -> tuple[float, float, float] | None:
    """
    Median of C{ours / theirs} and its range, pairing the runs of each
    repetition.
    """
    return pairedRatio(records, scenario, (case, ours), (case, theirs), get)


def pairedRatio(
    records: list[dict],
    scenario: str,
    ours: tuple[str, str],
    theirs: tuple[str, str],
    get: Callable[[dict], float],
) -> tuple[float, float, float] | None:
    """
    Median of C{ours / theirs}, each a (case, server), and its range,
    pairing the runs of each repetition (and round, where a repetition runs
    a case more than once, as in S7).
    """

    def runs(which: tuple[str, str]) -> dict[tuple[int, int], float]:
        return {
            (r["rep"], r.get("round", 0)): get(r["result"])
            for r in ok(records)
            if (r["scenario"], r["case"], r["server"]) == (scenario, *which)
        }

    mine, other = runs(ours), runs(theirs)
    ratios = [mine[k] / other[k] for k in mine if k in other and other[k]]
    if not ratios:
        return None
    return statistics.median(ratios), min(ratios), max(ratios)


def verdict(value: float | None, good: Callable[[float], bool], missText: Callable[[float], str]) -> str:
    if value is None:
        return "not measured"
    return "**met**" if good(value) else "**missed**: " + missText(value)


def fmtRatio(value: tuple[float, float, float] | None) -> str:
    if value is None:
        return "–"
    m, lo, hi = value
    return f"{m:.2f}× [{lo:.2f}–{hi:.2f}]" if lo != hi else f"{m:.2f}×"


def pick(records: list[dict], scenario: str, case: str | None, server: str) -> list[dict]:
    return [
        r for r in ok(records)
        if r["scenario"] == scenario and r["server"] == server and (case is None or r["case"] == case)
    ]


def largestCase(records: list[dict], scenario: str, server: str) -> str | None:
    """
    The case of C{scenario} with the most clients that C{server} ran (the
    threaded original's smaller S3 case is not the target's).
    """
    runs = pick(records, scenario, None, server)
    return max(runs, key=lambda r: r["result"]["clients"])["case"] if runs else None


def caseNames(records: list[dict], scenario: str) -> list[str]:
    names: list[str] = []
    for record in records:
        if record["scenario"] == scenario and record["case"] not in names:
            names.append(record["case"])
    return names


# The document


def render(meta: dict, records: list[dict], more: list[str] = ()) -> str:
    """
    RESULTS.md; C{more} goes right after the targets.
    """
    out: list[str] = []
    add = out.append
    add("# chatsvc benchmark results\n")
    add(
        "Written by `bench/run.py`; every number is the median over the repetitions, "
        "with [min–max] when they differ.  See `bench/README.rst` for what each "
        "scenario does and how the load generator works.\n"
    )
    add("## Machine and versions\n")
    pin = meta["pinning"]
    add(table(["", ""], [
        ["CPU", f"{meta['cpu']}, {meta['cores']} cores"],
        ["memory", f"{meta['memoryGiB']:.0f} GiB"],
        ["kernel", meta["kernel"]],
        ["Python", meta["python"]],
        ["Twisted", meta["twisted"]],
        ["chatsvc", f"`{meta['commit']}`"],
        ["pinning", f"server on core {pin[0]}, load generator on core {pin[1]} (`taskset`)" if pin[0] is not None else "none (one core)"],
        ["open files", f"{meta['fileLimit']:,} per process"],
        ["run", f"{meta['started']}, {meta['minutes']:.1f} min, {meta['reps']} repetition(s){' (quick)' if meta['quick'] else ''}"],
    ]))
    add(f"\nCommand: `{meta['command']}`\n")
    add(
        "Servers: **chatsvc (native)** is `twistd -n chat --store memory` (history kept in "
        "memory: the core, without a disk); **chatsvc (IRC)** the same server "
        "through `--irc-port`; **chatsvc (native, SQLite)** the native server with its default "
        "store, a SQLite file of its own in the run's directory (every line committed before it "
        "is delivered); all three with `--replay 0` but where S7 measures replay; "
        "**threaded original** is `bench/baselines/threaded.py` (a thread "
        "per client, a lock around the broadcast, blocking sends); **twistd words (IRC)** is "
        "Twisted's own chat server, `bench/baselines/words.py`; **ngircd** and **InspIRCd** are "
        "two IRC servers written in C and C++, from their Debian packages, with their flood and "
        "per-address limits lifted (`bench/ircds.py`).  Each run gets a fresh server.  "
        "A generator CPU marked ⚠ was at or above "
        f"{GENERATOR_LIMIT:.0%} of a core: that run may measure the generator, not the server.\n"
    )

    flagged = [
        r for r in ok(records)
        if max(r["result"].get("generatorCpu") or 0, r["result"].get("generatorCpuRegistration") or 0) >= GENERATOR_LIMIT
    ]
    failed = [r for r in records if "error" in r["result"]]

    for name, why in meta.get("unavailable", {}).items():
        add(f"**Not run: {LABELS.get(name, name)}**: {why}.  Its rows and the targets against it are missing.\n")

    out += targets(records)
    out += browserTargets(records)
    out += more
    analysis = BENCH / "analysis.md"
    if analysis.exists():
        add("\n" + analysis.read_text().strip() + "\n")

    scenarios = meta["scenarios"]
    if "S1" in scenarios:
        add("\n## S1 fan-out: 100 clients in one room, 10 senders, closed loop\n")
        add(
            "Each sender keeps a window of lines in flight: it sends the next one when the "
            "last-joined client (the tracker) has received one of its lines.  Deliveries/s "
            "counts every line every client received during the measured seconds; latency "
            "is measured at four receivers.\n"
        )
        add(table(LOAD_HEADER, loadRows(records, "S1")))
        rows = []
        for case in caseNames(records, "S1"):
            for ours in ("chatsvc", "chatsvc-irc", "chatsvc-sqlite"):
                if not pick(records, "S1", case, ours):
                    continue
                rows.append([case, LABELS[ours]] + [
                    fmtRatio(ratio(records, "S1", case, ours, base, lambda r: r["deliveriesPerSecond"]))
                    for base in BASELINES
                ])
        if rows:
            add("\nDeliveries/s as a ratio to the baselines (paired by repetition):\n")
            add(table(["case", "server", *(f"÷ {LABELS[base]}" for base in BASELINES)], rows))
        out += storeRatios(records, "S1")
    if "S2" in scenarios:
        add("\n## S2 big room: 1,000 clients in one room, 5 senders at 20 lines/s each (open loop)\n")
        add(table(LOAD_HEADER + ["server RSS MB"], loadRows(
            records, "S2", lambda runs: [fmt(column(ok(runs), lambda r: r["rssMax"]), 1, 1e-6)]
        )))
        out += storeRatios(records, "S2")
    if "S3" in scenarios:
        add("\n## S3 capacity: idle connections\n")
        add(
            "Two generator processes (each with its own loopback source addresses) connect and "
            "register every client, at most a few hundred handshakes in flight.  Native clients "
            "end up in the lobby; IRC clients register (NICK/USER) and join no channel.  Memory "
            "per connection is (resident memory once all are registered − resident memory of "
            "the idle server) ÷ connections; server CPU is the server's while they register.\n"
        )
        rows = []
        for case, server, runs in groups(records, "S3"):
            good = ok(runs)
            rows.append([
                case,
                LABELS.get(server, server) + failures(runs),
                fmt(column(good, lambda r: r["registered"]), 0),
                fmt(column(good, lambda r: r["registerSeconds"]), 2),
                fmt(column(good, lambda r: r["registerRate"]), 0),
                fmt(column(good, lambda r: r["registerPerClientP99"]), 0),
                fmt(column(good, perConnection), 2),
                fmt(column(good, lambda r: r["rssRegistered"]), 1, 1e-6),
                fmt(column(good, lambda r: r["serverCpuRegistration"] / r["registerSeconds"]), 2),
                fmt(column(good, lambda r: r["generatorCpuRegistration"]), 2) + generatorFlag(runs),
                "yes" if any(r["result"].get("registerTimedOut") for r in good) else "",
            ])
        add(table(
            ["case", "server", "registered", "registration s", "registered/s", "one handshake p99 ms",
             "KB per connection", "server RSS MB", "server CPU (cores)", "generator CPU (cores)", "hit deadline"],
            rows,
        ))
    if "S4" in scenarios:
        add("\n## S4 many rooms: 10 clients a room, one sender per room at 4 lines/s\n")
        add(
            "Native clients `/join room<k>` after registering, IRC clients `JOIN #room<k>`.  "
            "The threaded original has no rooms and is not run.\n"
        )
        add(table(LOAD_HEADER + ["registration s", "server RSS MB"], loadRows(
            records, "S4", lambda runs: [
                fmt(column(ok(runs), lambda r: r["registerSeconds"]), 2),
                fmt(column(ok(runs), lambda r: r["rssMax"]), 1, 1e-6),
            ]
        )))
    if "S5" in scenarios:
        add("\n## S5 slow reader: 20 clients, 5 senders at 400 lines/s of 480 bytes; one stops reading\n")
        add(
            "The slow reader (receive buffer 8 KiB) reads like the others for 2 s (1.5 s with "
            "`--quick`), then stops.  Latency and loss are those of the 19 clients that keep "
            "reading (latency before / after the slow reader stopped; a lost line has no "
            "latency, so look at both).  Resident memory growth is the server's peak during "
            "the run over its size when the run began.\n"
        )
        rows = []
        for case, server, runs in groups(records, "S5"):
            good = ok(runs)
            disconnected = [r["result"]["slow"]["disconnected"] for r in good]
            at = column(good, lambda r: r["slow"]["at"])
            rows.append([
                LABELS.get(server, server) + failures(runs),
                fmt(column(good, lambda r: r["latency"]["p99"]), 1),
                fmt(column(good, lambda r: r["latencyAfterStop"]["p99"]), 1),
                fmt(column(good, lambda r: r["latencyAfterStop"]["max"]), 1),
                fmt(column(good, lambda r: r["lost"]), 0),
                f"{sum(disconnected)} of {len(disconnected)}" + (f", {fmt(at, 1)} s in" if at else ""),
                fmt(column(good, lambda r: r["rssMax"] - r["rssBefore"]), 1, 1e-6),
                fmt(column(good, lambda r: r["serverCpu"]), 2),
                fmt(column(good, lambda r: r["generatorCpu"]), 2) + generatorFlag(runs),
            ])
        add(table(
            ["server", "p99 ms before", "p99 ms after", "max ms after", "lost (others)",
             "slow reader cut off", "server RSS growth MB", "server CPU (cores)", "generator CPU (cores)"],
            rows,
        ))
    if "S6" in scenarios:
        out += historyWrite(records)
    if "S7" in scenarios:
        out += replayJoin(records)
    if "S8" in scenarios:
        out += loginLoad(records)
    if "S9" in scenarios:
        out += browserFanOut(records)
    if "S10" in scenarios:
        out += browserIdle(records)
    add("\n## Checks\n")
    add(f"- Runs where the generator used ≥ {GENERATOR_LIMIT:.0%} of a core: "
        + (", ".join(f"{r['scenario']} {r['case']} {r['server']} (rep {r['rep'] + 1})" for r in flagged) or "none") + ".")
    add("- Failed runs: " + (", ".join(f"{r['scenario']} {r['case']} {r['server']} (rep {r['rep'] + 1})" for r in failed) or "none") + ".")
    tracebacks = [r for r in ok(records) if r["result"].get("tracebacks")]
    add("- Server logs with a traceback: " + (", ".join(f"{r['scenario']} {r['case']} {r['server']}" for r in tracebacks) or "none") + ".")
    short = [r for r in ok(records) if r["result"]["registered"] < r["result"]["clients"]]
    add("- Runs where not every client registered: " + (", ".join(
        f"{r['scenario']} {r['case']} {r['server']} (rep {r['rep'] + 1}): {r['result']['registered']:,} of {r['result']['clients']:,}"
        + (f", {r['result']['registerFailures']}" if r['result']['registerFailures'] else "")
        for r in short) or "none") + ".")
    stores = [r for r in ok(records) if "sent" in r["result"] and ("storedLines" in r["result"] or "storeError" in r["result"])]
    mismatched = [r for r in stores if r["result"].get("storedLines") != r["result"]["sent"]]
    if stores:
        add(f"- Runs with a SQLite file whose lines said (`SELECT count(*) FROM events WHERE kind='said'`) "
            f"are not the lines sent ({len(stores)} checked): " + (", ".join(
                f"{r['scenario']} {r['case']} {r['server']} (rep {r['rep'] + 1}): "
                + (f"{r['result']['storedLines']:,} in the file, {r['result']['sent']:,} sent"
                   if "storedLines" in r["result"] else r["result"]["storeError"])
                for r in mismatched) or "none") + ".")
    watched = [r for r in ok(records) if r["result"].get("storeWatch")]
    early = [r for r in watched if r["result"]["storeWatch"]["violations"] or r["result"]["storeWatch"]["errors"]]
    if watched:
        add(f"- Runs where the tracker had a line the file did not (yet) hold, while measuring "
            f"({sum(r['result']['storeWatch']['checks'] for r in watched)} checks in {len(watched)} runs): "
            + (", ".join(
                f"{r['scenario']} {r['server']} (rep {r['rep'] + 1}): "
                f"{r['result']['storeWatch']['violations']} of {r['result']['storeWatch']['checks']} checks"
                + (f", errors {r['result']['storeWatch']['errors']}" if r["result"]["storeWatch"]["errors"] else "")
                for r in early) or "none") + ".")
    setupLoss = [r for r in ok(records) if r["result"].get("lostDuringSetup")]
    add("- Connections lost before measuring: " + (", ".join(f"{r['scenario']} {r['server']}: {r['result']['lostDuringSetup']}" for r in setupLoss) or "none") + ".")
    return "\n".join(out) + "\n"


def storeRatios(records: list[dict], scenario: str) -> list[str]:
    """
    The SQLite store against memory, the same server otherwise, per case.
    """
    rows = []
    for case in caseNames(records, scenario):
        if not (pick(records, scenario, case, "chatsvc-sqlite") and pick(records, scenario, case, "chatsvc")):
            continue
        rows.append([case] + [
            fmtRatio(ratio(records, scenario, case, "chatsvc-sqlite", "chatsvc", get))
            for get in (
                lambda r: r["deliveriesPerSecond"],
                lambda r: r["latency"]["p99"],
                lambda r: r["serverCpu"],
            )
        ])
    if not rows:
        return []
    return [
        f"\n{LABELS['chatsvc-sqlite']} ÷ {LABELS['chatsvc']} (history in memory), paired by repetition:\n",
        table(["case", "deliveries/s", "p99", "server CPU"], rows),
    ]


def committedPerSecond(r: dict) -> float | None:
    """
    Lines in the SQLite file after the run ÷ the seconds lines were sent.
    """
    if r.get("storedLines") is None or not r.get("sendingSeconds"):
        return None
    return r["storedLines"] / r["sendingSeconds"]


def historyWrite(records: list[dict]) -> list[str]:
    out = [
        "\n## S6 history write: 20 clients in one room, 10 senders, closed loop\n",
        ("Each sender keeps 8 lines in flight (32 in the full run's second case, SQLite only), as in S1 but with "
        "a fifth of its fan-out, so that the server spends its time on taking lines "
        "rather than delivering them.  *Committed/s* is the lines said in the SQLite file once "
        "the server has stopped (`SELECT count(*) FROM events WHERE kind='said'`) ÷ the seconds "
        "from the first line sent to the last (warm-up included); *in the file / sent / delivered* "
        "compares that count with the lines the generator sent and with those the tracker (which "
        "hears every line of the room) received.  *Early deliveries*: twice a second while measuring, "
        "the generator reads the tracker's count and then the file's; a line delivered before it was "
        "committed would show as a tracker ahead of the file.  Deliveries/s, lines sent/s and "
        "latency are over the measured seconds after the warm-up, as in S1.  chatsvc with its history "
        "in memory is the reference.\n"),
    ]
    rows = []
    for case, server, runs in groups(records, "S6"):
        good = ok(runs)
        watch = [r["result"]["storeWatch"] for r in good if r["result"].get("storeWatch")]
        counts = [
            f"{r['result']['storedLines']:,} / {r['result']['sent']:,} / {r['result']['trackerReceived']:,}"
            for r in good if r["result"].get("storedLines") is not None
        ]
        rows.append([
            case,
            LABELS.get(server, server) + failures(runs),
            fmt(column(good, committedPerSecond), 0),
            "; ".join(counts) or "–",
            (f"{sum(w['violations'] for w in watch)} in {sum(w['checks'] for w in watch)} checks") if watch else "–",
            fmt(column(good, lambda r: r["messagesPerSecond"]), 0),
            fmt(column(good, lambda r: r["deliveriesPerSecond"]), 0),
            *latencyCells(runs),
            fmt(column(good, lambda r: r["lost"]), 0),
            fmt(column(good, lambda r: r["serverCpu"]), 2),
            fmt(column(good, lambda r: r["generatorCpu"]), 2) + generatorFlag(runs),
            fmt(column(good, lambda r: r["storeBytes"]), 1, 1e-6),
        ])
    out.append(table(
        ["case", "server", "committed/s", "in the file / sent / delivered", "early deliveries", "lines sent/s",
         "deliveries/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "lost", "server CPU (cores)",
         "generator CPU (cores)", "file MB"],
        rows,
    ))
    return out


def replayJoin(records: list[dict]) -> list[str]:
    out = [
        "\n## S7 replay on joining: 20 lines said, then 1,000 clients register into the lobby\n",
        ("A client of the bench's own says 20 lines in the lobby and leaves; then 1,000 clients "
        "register (at most 500 handshakes in flight), each done once shown the 20 lines "
        "(`End of history.`) with `--replay 20`, or at the welcome with `--replay 0`.  Time: from "
        f"the first connect to the last client done.  Each repetition runs both cases "
        f"{max([r.get('round', 0) for r in records if r['scenario'] == 'S7'] or [0]) + 1} time(s), "
        "alternating which goes first, each on a fresh server; the ratios pair them round by round.  "
        "Server CPU is the server's (all its threads, from `/proc/<pid>/task/*/schedstat`) from the "
        "first connect to the last client done.\n"),
    ]
    rows = []
    for case, server, runs in groups(records, "S7"):
        good = ok(runs)
        rows.append([
            case,
            LABELS.get(server, server) + failures(runs),
            fmt(column(good, lambda r: r["registered"]), 0),
            fmt(column(good, lambda r: r["registerSeconds"]), 3),
            fmt(column(good, lambda r: r["registerRate"]), 0),
            fmt(column(good, lambda r: r["registerPerClientP99"]), 0),
            fmt(column(good, lambda r: r["serverCpuRegistering"] / r["registered"]), 0, 1e6),
            fmt(column(good, lambda r: r["serverCpuRegistering"] / r["registerSeconds"]), 2),
            fmt(column(good, lambda r: r["generatorCpuRegistration"]), 2) + generatorFlag(runs),
        ])
    out.append(table(
        ["case", "server", "registered", "time s", "registered/s", "one client p99 ms",
         "server CPU µs per client", "server CPU (cores)", "generator CPU (cores)"],
        rows,
    ))
    rows = []
    for server in ("chatsvc", "chatsvc-sqlite"):
        value = replayRatio(records, server, lambda r: r["registerSeconds"])
        if value is None:
            continue
        rows.append([
            LABELS[server],
            fmtRatio(value),
            fmtRatio(replayRatio(records, server, lambda r: r["serverCpuRegistering"] / r["registered"])),
        ])
    if rows:
        out.append("\nWith replay ÷ without, paired by repetition and round:\n")
        out.append(table(["server", "time", "server CPU per client"], rows))
    return out


def replayRatio(records: list[dict], server: str, get: Callable[[dict], float]) -> tuple[float, float, float] | None:
    return pairedRatio(records, "S7", ("20 lines replayed", server), ("no replay", server), get)


# Issue 12's targets: S1 over the page's WebSocket at this fraction of the
# native protocol's rate at least (its p99 within the inverse), and idle
# WebSockets at most this many KB resident each.
BROWSER_RATIO = 0.7
BROWSER_KB = 6.0


def browserFanOut(records: list[dict]) -> list[str]:
    out = [
        "\n## S9 S1 over the page's WebSocket: 100 clients on `/chat` against the same on the native port\n",
        ("S1's load (100 clients in one room, 10 senders, closed loop), every client a WebSocket on "
        "`/chat` (`chatsvc-web`: the HTTP upgrade, then native lines in masked text frames, one JSON "
        "event per frame back), or every client on the native port (`chatsvc`), each on a fresh "
        "server, one after the other in each repetition.  Deliveries are counted by the marker byte "
        "in the JSON's `text`; *miscounted* is what receivers counted beyond what was sent to them "
        "(a frame header holding the marker would show there), which must be 0.\n"),
        table(LOAD_HEADER + ["miscounted"], loadRows(
            records, "S9", lambda runs: [fmt(column(ok(runs), lambda r: r["extra"]), 0)]
        )),
    ]
    rows = []
    for case in caseNames(records, "S9"):
        rows.append([case] + [
            fmtRatio(ratio(records, "S9", case, "chatsvc-web", "chatsvc", get))
            for get in (
                lambda r: r["deliveriesPerSecond"],
                lambda r: r["latency"]["p99"],
                lambda r: r["latency"]["p50"],
                lambda r: r["serverCpu"],
                lambda r: r["serverCpu"] / r["deliveriesPerSecond"],
            )
        ])
    out.append(f"\n{LABELS['chatsvc-web']} ÷ {LABELS['chatsvc']}, paired by repetition:\n")
    out.append(table(["case", "deliveries/s", "p99", "p50", "server CPU", "server CPU per delivery"], rows))
    return out


def browserIdle(records: list[dict]) -> list[str]:
    out = [
        "\n## S10 idle WebSockets: 5,000 clients on `/chat` against 5,000 on the native port\n",
        ("Registered as in S3 (two generator processes, into the lobby), each kind on a fresh server: "
        "over `/chat` a client is done at its `Welcome` event.  KB per connection is (resident memory "
        "once all are registered and the server is quiet − resident memory of the idle server) ÷ "
        "connections.\n"),
    ]
    rows = []
    for case, server, runs in groups(records, "S10"):
        good = ok(runs)
        rows.append([
            case,
            LABELS.get(server, server) + failures(runs),
            fmt(column(good, lambda r: r["registered"]), 0),
            fmt(column(good, lambda r: r["registerSeconds"]), 2),
            fmt(column(good, lambda r: r["registerRate"]), 0),
            fmt(column(good, perConnection), 2),
            fmt(column(good, lambda r: r["rssRegistered"]), 1, 1e-6),
            fmt(column(good, lambda r: r["serverCpuRegistration"] / r["registerSeconds"]), 2),
            fmt(column(good, lambda r: r["generatorCpuRegistration"]), 2) + generatorFlag(runs),
        ])
    out.append(table(
        ["case", "server", "registered", "registration s", "registered/s", "KB per connection",
         "server RSS MB", "server CPU (cores)", "generator CPU (cores)"],
        rows,
    ))
    rows = [
        [case, fmtRatio(ratio(records, "S10", case, "chatsvc-web", "chatsvc", perConnection)),
         fmtRatio(ratio(records, "S10", case, "chatsvc-web", "chatsvc", lambda r: r["registerRate"]))]
        for case in caseNames(records, "S10")
    ]
    out.append(f"\n{LABELS['chatsvc-web']} ÷ {LABELS['chatsvc']}, paired by repetition:\n")
    out.append(table(["case", "KB per connection", "registered/s"], rows))
    return out


def browserTargets(records: list[dict]) -> list[str]:
    """
    Issue 12's targets, where S9 or S10 ran.
    """
    rows = []
    if pick(records, "S9", "8 in flight", "chatsvc-web"):
        rate = ratio(records, "S9", "8 in flight", "chatsvc-web", "chatsvc", lambda r: r["deliveriesPerSecond"])
        p99 = ratio(records, "S9", "8 in flight", "chatsvc-web", "chatsvc", lambda r: r["latency"]["p99"])
        rows.append([
            f"S9 deliveries/s over `/chat` ≥ {BROWSER_RATIO:g}× native (8 in flight)",
            fmtRatio(rate),
            verdict(rate[0] if rate else None, lambda v: v >= BROWSER_RATIO,
                    lambda v: f"{v:.2f}× of {BROWSER_RATIO:g}× ({100 * (1 - v / BROWSER_RATIO):.0f}% short)"),
        ])
        rows.append([
            f"S9 p99 over `/chat` ≤ native's ÷ {BROWSER_RATIO:g} ({1 / BROWSER_RATIO:.2f}×; 8 in flight)",
            fmtRatio(p99),
            verdict(p99[0] if p99 else None, lambda v: v <= 1 / BROWSER_RATIO, lambda v: f"{v:.2f}×"),
        ])
    web = pick(records, "S10", None, "chatsvc-web")
    if web:
        per = median(column(web, perConnection))
        rows.append([
            f"S10 ≤ {BROWSER_KB:g} KB resident per idle WebSocket (5,000)",
            f"{fmt(column(web, perConnection), 2)} KB (native: "
            f"{fmt(column(pick(records, 'S10', None, 'chatsvc'), perConnection), 2)} KB)",
            verdict(per, lambda v: v <= BROWSER_KB, lambda v: f"{v - BROWSER_KB:.2f} KB over"),
        ])
    if not rows:
        return []
    return ["\n## Targets of issue 12 (the browser: WebSockets)\n", table(["target", "measured", "verdict"], rows)]


# S8: S1's p99 under 50 logins a second counts as unchanged within this
# factor of the quiet p99 measured just before on the same server.
LOGIN_P99_MARGIN = 1.25


def loginRatio(r: dict, get: Callable[[dict], float]) -> float | None:
    """
    Under logins ÷ quiet, within one S8 run.
    """
    quiet = get(r["quiet"])
    return get(r["underLogins"]) / quiet if quiet else None


def verificationSpacing(r: dict) -> float | None:
    """
    Seconds between the server's answers to verified attempts (right or
    wrong password), first to last: one verification each, while its
    hashing queue is never empty.
    """
    logins = r["logins"]
    if logins["verified"] < 2:
        return None
    return (logins["verifiedLast"] - logins["verifiedFirst"]) / (logins["verified"] - 1)


def loginLoad(records: list[dict]) -> list[str]:
    out = [
        "\n## S8 logins beside chat: S1's load, quiet and while 50 logins a second are attempted\n",
        ("On one server: accounts are registered (`/register`), then S1's 100 clients (in a room of "
        "their own, `s8`) are measured twice, closed loop with 8 lines in flight per sender: quiet, "
        "then while a login generator (`bench/logins.py`) attempts 50 logins a second, one "
        "connection each (`NICK`, `PASS <account>`, the password), every fifth with a wrong password, "
        "from 1 s before the second warm-up to 0.5 s after its end.  Attempts are spread over enough "
        "accounts (4 each) and loopback source addresses (127.0.1.N, 15 each) that the server's "
        "limits (5 a minute per account, 60 per address) refuse none before hashing.  Ratios are "
        "under logins ÷ quiet, within each run.  *Server on 1 core*: pinned as for every other "
        "scenario, so its hashing thread shares the reactor's core; *server on every core*: unpinned, "
        "free to hash on the generators' core.  CPU is over the measured seconds: the reactor (the "
        "main thread) + the other threads (the hashing thread), in cores.\n"),
    ]
    rows = []
    for case, server, runs in groups(records, "S8"):
        good = ok(runs)

        def both(get: Callable[[dict], float], digits: int) -> list[str]:
            return [
                fmt(column(good, lambda r: get(r["quiet"])), digits),
                fmt(column(good, lambda r: get(r["underLogins"])), digits),
                fmt(column(good, lambda r: loginRatio(r, get)), 2) + "×",
            ]

        def cpu(phase: str) -> str:
            return (
                fmt(column(good, lambda r: r[phase]["serverMainThreadCpu"]), 2)
                + " + "
                + fmt(column(good, lambda r: r[phase]["serverOtherThreadsCpu"]), 2)
            )

        rows.append([
            case,
            LABELS.get(server, server) + failures(runs),
            *both(lambda r: r["deliveriesPerSecond"], 0),
            *both(lambda r: r["latency"]["p50"], 1),
            *both(lambda r: r["latency"]["p99"], 1),
            fmt(column(good, lambda r: r["quiet"]["lost"] + r["underLogins"]["lost"]), 0),
            cpu("quiet"),
            cpu("underLogins"),
            fmt(column(good, lambda r: r["generatorCpu"]), 2) + generatorFlag(runs),
        ])
    out.append(table(
        ["case", "server", "deliveries/s quiet", "under logins", "ratio", "p50 ms quiet", "under logins",
         "ratio", "p99 ms quiet", "under logins", "ratio", "lost", "server CPU quiet (reactor + others)",
         "under logins (reactor + hashing)", "generators' CPU (cores, most of the three)"],
        rows,
    ))
    out.append(
        "\nThe logins: *refused, busy* is the server's hashing queue (100) full, answered at once "
        "(`try again in 1 second`); *refused, limits* the per-account or per-address limit (which "
        "should be 0 here); *other* lists what the server said.  *Server ms per verification*: the "
        "seconds between its first and last answer to a verified attempt (right or wrong password) "
        "÷ the verifications in between, one at a time with its queue never empty.  *Here*: "
        "`PASSWORD_HASHER.verify` timed in the bench's own process before the run (median "
        "[min–max] of 7).  Answer latency: from the password sent to the server's answer.\n"
    )
    rows = []
    for case, server, runs in groups(records, "S8"):
        good = ok(runs)

        def count(name: str) -> str:
            return fmt(column(good, lambda r: r["logins"]["counts"][name]), 0)

        others = sorted({why for r in good for why in r["result"]["logins"]["details"]})
        rows.append([
            case,
            LABELS.get(server, server) + failures(runs),
            fmt(column(good, lambda r: r["logins"]["attempted"]), 0)
            + " in "
            + fmt(column(good, lambda r: r["logins"]["sendingSeconds"]), 1)
            + " s",
            count("succeeded"),
            count("wrongPassword"),
            count("refusedBusy"),
            count("refusedLimit"),
            count("otherError") + (f" ({'; '.join(others)})" if others else ""),
            fmt(column(good, lambda r: r["logins"]["counts"]["closed"] + r["logins"]["counts"]["unanswered"]), 0),
            fmt(column(good, lambda r: r["logins"]["latency"]["succeeded"]["p50"]), 0)
            + " / "
            + fmt(column(good, lambda r: r["logins"]["latency"]["succeeded"]["p99"]), 0),
            fmt(column(good, lambda r: r["logins"]["latency"]["refusedBusy"]["p99"]), 0),
            fmt(column(good, verificationSpacing), 0, 1000),
            fmt(column(good, lambda r: r["verificationMs"]["median"]), 0)
            + " ["
            + fmt(column(good, lambda r: r["verificationMs"]["min"]), 0)
            + "–"
            + fmt(column(good, lambda r: r["verificationMs"]["max"]), 0)
            + "]",
        ])
    out.append(table(
        ["case", "server", "attempted", "succeeded", "wrong password", "refused, busy", "refused, limits",
         "other", "closed or unanswered", "success answer p50 / p99 ms", "busy refusal p99 ms",
         "server ms per verification", "here ms per verification"],
        rows,
    ))
    return out


def targets(records: list[dict]) -> list[str]:
    """
    The issue's targets, each with the measured median and a verdict.
    """
    rows = []
    notes = []

    # S1
    s1case = "8 in flight"
    for base, goal in (("threaded", 2.0), ("words", 8.0)):
        value = ratio(records, "S1", s1case, "chatsvc", base, lambda r: r["deliveriesPerSecond"])
        m = value[0] if value else None
        rows.append([
            f"S1 deliveries/s ≥ {goal:g}× {LABELS[base]}",
            fmtRatio(value),
            verdict(m, lambda v, g=goal: v >= g, lambda v, g=goal: f"{v:.2f}× of {g:g}× ({100 * (1 - v / g):.0f}% short)"),
        ])
    runs = pick(records, "S1", s1case, "chatsvc")
    p99 = median(column(runs, lambda r: r["latency"]["p99"]))
    rate = median(column(runs, lambda r: r["messagesPerSecond"]))
    rows.append([
        "S1 p99 < 10 ms",
        f"{fmt(column(runs, lambda r: r['latency']['p99']))} ms" if p99 is not None else "–",
        verdict(p99, lambda v: v < 10, lambda v: f"{v - 10:.1f} ms over"),
    ])
    notes += medianOnly("S1 p99", column(runs, lambda r: r["latency"]["p99"]), 10, "ms")
    if rate and p99 is not None and p99 >= 10:
        notes.append(
            f"S1 latency is set by the closed loop itself: 10 senders × 8 lines in flight = 80 "
            f"lines queued at all times, so by Little's law the mean time in flight is "
            f"80 ÷ {rate:,.0f} lines/s = {80 / rate * 1000:.1f} ms.  A p99 under 10 ms with 80 lines "
            f"in flight needs more than 8,000 lines/s, i.e. 800,000 deliveries/s to 100 clients."
            + (
                f"  With one line in flight per sender (second S1 case) the same server answers in "
                f"{fmt(column(pick(records, 'S1', '1 in flight', 'chatsvc'), lambda r: r['latency']['p99']), 1)} ms at p99."
                if pick(records, "S1", "1 in flight", "chatsvc") else ""
            )
        )
    # S2
    runs = pick(records, "S2", None, "chatsvc")
    p99 = median(column(runs, lambda r: r["latency"]["p99"]))
    cpu = median(column(runs, lambda r: r["serverCpu"]))
    rows.append(["S2 p99 < 15 ms", f"{fmt(column(runs, lambda r: r['latency']['p99']))} ms" if p99 is not None else "–",
                 verdict(p99, lambda v: v < 15, lambda v: f"{v - 15:.1f} ms over ({v / 15:.1f}×)")])
    rows.append(["S2 server < 0.5 core", f"{fmt(column(runs, lambda r: r['serverCpu']), 2)} cores" if cpu is not None else "–",
                 verdict(cpu, lambda v: v < 0.5, lambda v: f"{v - 0.5:.2f} core over ({v / 0.5:.1f}×)")])
    notes += medianOnly("S2 p99", column(runs, lambda r: r["latency"]["p99"]), 15, "ms")
    notes += medianOnly("S2 server CPU", column(runs, lambda r: r["serverCpu"]), 0.5, "cores")
    # S3
    big = largestCase(records, "S3", "chatsvc")
    if big is not None:
        runs = pick(records, "S3", big, "chatsvc")
        registered = median(column(runs, lambda r: r["registered"]))
        per = median(column(runs, perConnection))
        rateS3 = median(column(runs, lambda r: r["registerRate"]))
        full = any(r["result"].get("clients", 0) >= 19_000 for r in runs)
        rows.append([f"S3 ~20,000 connections ({big})", f"{registered:,.0f}" if registered is not None else "–",
                     verdict(registered, lambda v: v >= 19_000, lambda v: f"{v:,.0f} registered")
                     if full else "not measured at this size (--quick)"])
        rows.append(["S3 ≤ 3 KB resident per connection", f"{per:.2f} KB" if per is not None else "–",
                     verdict(per, lambda v: v <= 3.0, lambda v: f"{v - 3:.2f} KB over")])
        rows.append(["S3 registration > 10,000/s", f"{rateS3:,.0f}/s" if rateS3 is not None else "–",
                     verdict(rateS3, lambda v: v > 10_000, lambda v: f"{v / 10_000:.0%} of the target")])
    # S4, S5
    runs = pick(records, "S4", None, "chatsvc")
    lost = median(column(runs, lambda r: r["lost"]))
    rows.append(["S4 no loss", f"{lost:,.0f} lost" if lost is not None else "–",
                 verdict(lost, lambda v: v == 0, lambda v: f"{v:,.0f} lines lost")])
    grow = median(column(runs, lambda r: r["rssMax"] - r["rssRegistered"]))
    rows.append(["S4 bounded memory", f"+{grow / 1e6:.1f} MB while measuring" if grow is not None else "–",
                 verdict(grow, lambda v: v < 20e6, lambda v: f"grew {v / 1e6:.1f} MB")])
    runs = pick(records, "S5", None, "chatsvc")
    lost = median(column(runs, lambda r: r["lost"]))
    cut = [r["result"]["slow"]["disconnected"] for r in runs]
    grow = median(column(runs, lambda r: r["rssMax"] - r["rssBefore"]))
    rows.append(["S5 no loss for the others", f"{lost:,.0f} lost" if lost is not None else "–",
                 verdict(lost, lambda v: v == 0, lambda v: f"{v:,.0f} lines lost")])
    rows.append(["S5 bounded memory (slow reader cut off)",
                 (f"cut off in {sum(cut)} of {len(cut)} runs, peak +{grow / 1e6:.1f} MB") if cut else "–",
                 verdict(grow if cut and all(cut) else (None if not cut else 1e12),
                         lambda v: v < 20e6, lambda v: "not cut off" if v >= 1e12 else f"grew {v / 1e6:.1f} MB")])
    before = median(column(runs, lambda r: r["latency"]["p99"]))
    after = median(column(runs, lambda r: r["latencyAfterStop"]["p99"]))
    if before is not None and after is not None:
        rows.append(["S5 others' latency unharmed", f"p99 {before:.1f} ms before, {after:.1f} ms after",
                     "**met**" if after <= max(2 * before, before + 5) else "**missed**: p99 grew "
                     f"{after / before:.1f}×"])
    # S8
    runs = pick(records, "S8", None, "chatsvc")
    here = median(column(runs, lambda r: r["verificationMs"]["median"]))
    spacing = median(column(runs, verificationSpacing))
    if runs:
        rows.append([
            "S8 one verification takes 20–100 ms",
            f"{fmt(column(runs, lambda r: r['verificationMs']['median']), 0)} ms in the bench's process; "
            + (f"{spacing * 1000:.0f} ms apart in the server under load" if spacing is not None else ""),
            verdict(here, lambda v: 20 <= v <= 100, lambda v: f"{v:.0f} ms"),
        ])
    for case in caseNames(records, "S8"):
        caseRuns = pick(records, "S8", case, "chatsvc")
        p99 = column(caseRuns, lambda r: loginRatio(r, lambda phase: phase["latency"]["p99"]))
        rate = column(caseRuns, lambda r: loginRatio(r, lambda phase: phase["deliveriesPerSecond"]))
        m = median(p99)
        rows.append([
            f"S8 S1 p99 unchanged while 50 logins/s are attempted ({case}; "
            f"≤ {LOGIN_P99_MARGIN:g}× quiet)",
            f"p99 {fmt(p99, 2)}×, deliveries/s {fmt(rate, 2)}× of quiet",
            verdict(m, lambda v: v <= LOGIN_P99_MARGIN, lambda v: f"p99 {v:.2f}× of quiet"),
        ])
    lines = ["## Targets (chatsvc, native protocol)\n", table(["target", "measured", "verdict"], rows)]
    if notes:
        lines.append("")
        lines += [f"- {note}" for note in notes]
    return lines
