"""
The targets that compare chatsvc with the C baselines (ngircd, InspIRCd)
and twistd words measured in the same run, and with the previous results
(C{previous.json}, a copy of an earlier full run's C{results.json}); and
the history issue's: the SQLite store against memory, the write rate into
SQLite, replay on joining.

Ratios to another server pair the runs of each repetition, as the other
tables do, so a machine that is slower on the day is slower for both.  The
previous results come from another day: their table also says how much the
Python baselines moved, which is how much the machine did.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from report import (
    LABELS,
    caseNames,
    column,
    committedPerSecond,
    fmt,
    fmtRatio,
    largestCase,
    median,
    perConnection,
    pick,
    ratio,
    replayRatio,
    table,
    verdict,
)

PREVIOUS = Path(__file__).resolve().parent / "previous.json"
# Names in the targets' wording, possessive where it is "theirs".
SHORT = {"chatsvc": "native", "chatsvc-irc": "chatsvc IRC"}
THEIRS = {"words": "twistd words'", "ngircd": "ngircd's", "inspircd": "InspIRCd's"}

# What "not slower" is measured by, per scenario: (what, how to get it, higher is better).
SPEED: dict[str, list[tuple[str, Callable[[dict], float], bool]]] = {
    "S1": [("deliveries/s", lambda r: r["deliveriesPerSecond"], True), ("p99 ms", lambda r: r["latency"]["p99"], False)],
    "S2": [("p99 ms", lambda r: r["latency"]["p99"], False)],
    "S3": [("registered/s", lambda r: r["registerRate"], True)],
    "S4": [("p99 ms", lambda r: r["latency"]["p99"], False)],
    "S5": [("p99 ms after the stop", lambda r: r["latencyAfterStop"]["p99"], False)],
}


def loadPrevious(path: Path = PREVIOUS) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None


def relative(records: list[dict], what: str, scenario: str, case: str, ours: str, theirs: str,
             get: Callable[[dict], float], goal: float, atLeast: bool) -> list[str]:
    """
    A target row: C{ours / theirs} of C{get}, at least or at most C{goal}.
    """
    value = ratio(records, scenario, case, ours, theirs, get)
    sign = "≥" if atLeast else "≤"
    return [
        f"{scenario} {SHORT[ours]}: {what} {sign} {goal:.1f}× {THEIRS[theirs]}",
        fmtRatio(value),
        verdict(
            value[0] if value else None,
            (lambda v: v >= goal) if atLeast else (lambda v: v <= goal),
            lambda v: f"{v:.2f}×, {abs(v / goal - 1):.0%} {'short' if atLeast else 'over'}",
        ),
    ]


def baselineTargets(records: list[dict]) -> list[list[str]]:
    """
    Issue 9, item 8: the C baselines and twistd words, same run.
    """
    deliveries = lambda r: r["deliveriesPerSecond"]  # noqa: E731
    p99 = lambda r: r["latency"]["p99"]  # noqa: E731
    s1 = "8 in flight"
    rows = [
        relative(records, "deliveries/s", "S1", s1, "chatsvc", "ngircd", deliveries, 1.0, True),
        relative(records, "p99", "S1", s1, "chatsvc", "ngircd", p99, 1.0, False),
        relative(records, "deliveries/s (stretch)", "S1", s1, "chatsvc", "inspircd", deliveries, 1.0, True),
        relative(records, "deliveries/s", "S1", s1, "chatsvc-irc", "ngircd", deliveries, 0.8, True),
    ]
    s2 = (caseNames(records, "S2") or ["1,000 clients"])[0]
    rows += [
        relative(records, "server CPU", "S2", s2, "chatsvc", "ngircd", lambda r: r["serverCpu"], 1.0, False),
        relative(records, "p99", "S2", s2, "chatsvc", "ngircd", p99, 1.0, False),
    ]
    lost = median(column(pick(records, "S2", None, "chatsvc"), lambda r: r["lost"]))
    rows.append(["S2 native: nothing lost", f"{lost:,.0f} lost" if lost is not None else "–",
                 verdict(lost, lambda v: v == 0, lambda v: f"{v:,.0f} lines lost")])
    big = largestCase(records, "S3", "chatsvc")
    if big is not None:
        per = median(column(pick(records, "S3", big, "chatsvc"), perConnection))
        rows.append([f"S3 native: ≤ 2.5 KB resident per connection ({big})",
                     f"{per:.2f} KB" if per is not None else "–",
                     verdict(per, lambda v: v <= 2.5, lambda v: f"{v - 2.5:.2f} KB over")])
        rows.append(relative(records, "registered/s", "S3", big, "chatsvc", "words",
                             lambda r: r["registerRate"], 2.0, True))
    return rows


# The history issue's figures.
STORE_RATIO = 0.8  # S1 deliveries/s with SQLite ÷ with memory, at least
COMMIT_RATE = 20_000  # lines a second committed into SQLite, at least
S1_P99 = 10.0  # the core issue's S1 p99, ms
P99_FACTOR = 1.5  # S6 delivery p99 under S1_P99 × this
REPLAY_RATIO = 1.2  # joining with replay ÷ without, at most


def historyTargets(records: list[dict]) -> tuple[list[list[str]], list[str]]:
    """
    The history issue's targets, and notes on them.
    """
    rows, notes = [], []
    s1 = "8 in flight"
    value = ratio(records, "S1", s1, "chatsvc-sqlite", "chatsvc", lambda r: r["deliveriesPerSecond"])
    rows.append([
        f"S1 native, SQLite store: deliveries/s ≥ {STORE_RATIO:g}× the same with `--store memory`",
        fmtRatio(value),
        verdict(value[0] if value else None, lambda v: v >= STORE_RATIO,
                lambda v: f"{v:.3f}×, {1 - v / STORE_RATIO:.1%} short"),
    ])
    runs = pick(records, "S6", "8 in flight", "chatsvc-sqlite")
    rate = median(column(runs, committedPerSecond))
    rows.append([
        f"S6 history write (8 in flight): ≥ {COMMIT_RATE:,} lines/s committed into SQLite",
        f"{fmt(column(runs, committedPerSecond), 0)} lines/s" if rate is not None else "–",
        verdict(rate, lambda v: v >= COMMIT_RATE, lambda v: f"{v / COMMIT_RATE:.0%} of the target"),
    ])
    consistent = [
        r["result"].get("storedLines") == r["result"]["sent"] == r["result"].get("trackerReceived")
        and not (r["result"].get("storeWatch") or {}).get("violations")
        for r in runs
    ]
    rows.append([
        "S6: the file holds every line delivered, none delivered before it was committed",
        f"equal in {sum(consistent)} of {len(consistent)} runs" if consistent else "–",
        ("**met**" if all(consistent) else f"**missed**: {len(consistent) - sum(consistent)} of "
         f"{len(consistent)} runs (see Checks)") if consistent else "not measured",
    ])
    limit = S1_P99 * P99_FACTOR
    p99 = median(column(runs, lambda r: r["latency"]["p99"]))
    rows.append([
        f"S6 delivery p99 < {limit:g} ms (S1's {S1_P99:g} ms × {P99_FACTOR:g})",
        f"{fmt(column(runs, lambda r: r['latency']['p99']))} ms" if p99 is not None else "–",
        verdict(p99, lambda v: v < limit, lambda v: f"{v - limit:.1f} ms over"),
    ])
    value = replayRatio(records, "chatsvc-sqlite", lambda r: r["registerSeconds"])
    rows.append([
        (f"S7 1,000 joining one room, 20 lines replayed: ≤ {REPLAY_RATIO:g}× the time without "
         "replay (SQLite store)"),
        fmtRatio(value),
        verdict(value[0] if value else None, lambda v: v <= REPLAY_RATIO,
                lambda v: f"{v:.3f}×, {v / REPLAY_RATIO - 1:.1%} over"),
    ])
    wide = pick(records, "S6", "32 in flight", "chatsvc-sqlite")
    if wide:
        notes.append(
            f"S6 with 32 lines in flight per sender: {fmt(column(wide, committedPerSecond), 0)} lines/s "
            f"committed, p99 {fmt(column(wide, lambda r: r['latency']['p99']))} ms."
        )
    notes.append(
        "The targets against ngircd and InspIRCd above measure chatsvc with `--store memory` "
        "(the core, without a disk); the SQLite store's cost is the first row here, and S1's "
        "and S2's tables compare the two stores."
    )
    memory = replayRatio(records, "chatsvc", lambda r: r["registerSeconds"])
    if memory is not None:
        notes.append(f"S7 with `--store memory`: {fmtRatio(memory)} the time without replay.")
    return rows, notes


def number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}"


def previousRows(records: list[dict], previous: dict) -> tuple[list[list[str]], list[str]]:
    """
    Every speed figure of chatsvc's in both runs, before and now; and the
    ones that got worse.
    """
    before = previous["runs"]
    rows, worse = [], []
    for scenario, figures in SPEED.items():
        for case in caseNames(records, scenario):
            for server in ("chatsvc", "chatsvc-irc", "threaded", "words"):
                for what, get, higher in figures:
                    now = median(column(pick(records, scenario, case, server), get))
                    then = median(column(pick(before, scenario, case, server), get))
                    if now is None or then is None or not then:
                        continue
                    change = now / then - 1
                    slower = change < 0 if higher else change > 0
                    ours = server.startswith("chatsvc")
                    if ours and slower:
                        worse.append(f"{scenario} {case} {LABELS[server]} {what} {change:+.0%}")
                    rows.append([
                        scenario, case, LABELS[server], what, number(then), number(now), f"{change:+.0%}",
                        ("**slower**" if slower else "not slower") if ours else "(baseline: the machine)",
                    ])
    return rows, worse


def render(meta: dict, records: list[dict], previous: dict | None) -> list[str]:
    """
    The section of RESULTS.md with these targets.
    """
    rows = baselineTargets(records)
    out = ["\n## Targets against the C baselines and the previous results (issue 9, item 8)\n"]
    if previous is None:
        rows.append(["No scenario slower than the previous results", "–", "not measured (no previous.json)"])
        out.append(table(["target", "measured", "verdict"], rows))
        return out
    compared, worse = previousRows(records, previous)
    then = previous["meta"]
    reference = f"`{then['commit']}`, {then['started']}"
    rows.append([
        f"No scenario slower than the previous results ({reference})",
        f"{len(compared)} figures compared" if compared else "–",
        ("**met**" if not worse else f"**missed**: {'; '.join(worse)}") if compared else "not measured (no case in common)",
    ])
    out.append(table(["target", "measured", "verdict"], rows))
    if compared:
        out.append(
            f"\nMedians before ({reference}, `{then['command']}`) and now.  The Python baselines' rows "
            "show how much the machine itself moved between the two runs"
            + ("; this run is `--quick`: shorter, smaller, one repetition." if meta["quick"] else ".")
            + "\n"
        )
        out.append(table(["scenario", "case", "server", "figure", "before", "now", "change", ""], compared))
    return out


def history(records: list[dict]) -> list[str]:
    """
    The section of RESULTS.md with the history issue's targets.
    """
    rows, notes = historyTargets(records)
    out = ["\n## Targets of the history issue (same run, ratios)\n", table(["target", "measured", "verdict"], rows)]
    if notes:
        out.append("")
        out += [f"- {note}" for note in notes]
    return out
