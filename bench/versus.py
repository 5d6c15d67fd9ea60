"""The baselines asked the mix's questions: each loaded from the export of the stored events,
each answer compared key by key with the API's, then timed like the API."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.engines import Engine, Runner, summed
from bench.figures import Row, Steps, figure, same_call
from bench.mix import Answer, Question, Usage
from bench.openmeter import OpenMeterWay
from bench.postgres import Postgres, PostgresUnavailable
from bench.rawscan import RawScan
from bench.timing import Budget, Call, latency, round_robin, throughput
from tests.service import free_port


@dataclass(frozen=True)
class Baseline:
    letter: str
    name: str
    how: str
    wallclock: bool  # keys usage buckets by their local wall-clock start
    make: Callable[[Path, str], Engine]  # from the work folder and the tenant


BASELINES = (
    Baseline(
        "a", "a) DuckDB raw scan", "in-process, cursor per thread", False,
        lambda work, tenant: RawScan(work / "raw.duckdb", tenant),
    ),
    Baseline(
        "b", "b) PostgreSQL", "loopback connection per thread", True,
        lambda _, tenant: Postgres(free_port(), tenant).start(),  # in a folder of its own
    ),
    Baseline(
        "c", "c) OpenMeter way (chDB)", "in-process, Session per thread", False,
        lambda work, tenant: OpenMeterWay(work / "chdb", tenant),
    ),
)  # fmt: skip


def local_key(start: datetime, tz: str) -> datetime:
    """The naive wall-clock start a `date_trunc(... AT TIME ZONE tz)` query reports."""
    return start.astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def compare(ours: Answer, theirs: Answer) -> tuple[int, int]:
    """(keys that agree, keys that differ) over the union of both answers."""
    keys = set(ours) | set(theirs)
    same = sum(1 for k in keys if ours.get(k) == theirs.get(k))
    return same, len(keys) - same


def differences(ours: Answer, theirs: Answer, most: int = 3) -> str:
    """The first differing keys, as `key: ours vs theirs`."""
    keys = sorted((k for k in set(ours) | set(theirs) if ours.get(k) != theirs.get(k)), key=str)
    return "; ".join(
        f"{', '.join(str(part) for part in k)}: {ours.get(k)} vs {theirs.get(k)}"
        for k in keys[:most]
    )


def compare_wallclock(ours: Answer, theirs: Answer, tz: str) -> tuple[int, int, int, bool]:
    """Compare an answer keyed by wall-clock bucket start with ours, only where a wall-clock
    start names one of our buckets: (agreeing keys, differing keys, our keys at a DST repeat,
    which it cannot tell apart, and whether its merged sums there equal the sum of ours)."""
    starts: dict[datetime, set[datetime]] = {}
    for start, *_ in ours:
        starts.setdefault(local_key(start, tz), set()).add(start)
    repeated = {local for local, found in starts.items() if len(found) > 1}
    mine: list[tuple[tuple[Any, ...], tuple[Any, ...]]] = []
    merged: list[tuple[tuple[Any, ...], tuple[Any, ...]]] = []
    for (start, *rest), figures in ours.items():
        local = local_key(start, tz)
        (merged if local in repeated else mine).append(((local, *rest), figures))
    theirs_clean = {k: v for k, v in theirs.items() if k[0] not in repeated}
    theirs_dst = {k: v for k, v in theirs.items() if k[0] in repeated}
    same, differ = compare(dict(mine), theirs_clean)
    merged_sums = summed([(*key, *figures) for key, figures in merged], 2)
    return same, differ, len(merged), merged_sums == theirs_dst


def agreement(q: Question, ours: Answer, theirs: Answer, wallclock: bool) -> tuple[str, bool]:
    if wallclock and isinstance(q, Usage):
        same, differ, dst, merged_ok = compare_wallclock(ours, theirs, q.tz)
        text = f"{same} agree, {differ} differ"
        if dst:
            text += (
                f"; {dst} of our keys fall in a repeated fall-back hour, which it merges "
                f"into one bucket (merged sums {'equal' if merged_ok else 'DIFFER'})"
            )
        return text, differ == 0 and merged_ok
    same, differ = compare(ours, theirs)
    text = f"{same} agree, {differ} differ"
    if differ:
        text += f" (ours vs theirs, e.g. {differences(ours, theirs)})"
    return text, differ == 0


def run_baseline(
    baseline: Baseline,
    runner: Callable[[Question], Runner],
    mix: list[Question],
    answers: dict[str, Answer],
    rows: list[Row],
    budget: Budget,
) -> float:
    """Each question answered, checked and timed; the whole mix's req/s."""
    runs: list[Call] = []
    for q, row in zip(mix, rows, strict=True):
        run = runner(q)
        text, agrees = agreement(q, answers[q.name], run(), baseline.wallclock)
        timed = latency(run, budget)
        # A slow engine's calls are not warmed once more per thread: that alone takes minutes.
        rate = throughput(same_call(run), budget, warm=timed.p50_ms < 1000)
        row.figures.append(figure(baseline.name, baseline.how, timed, rate, text, agrees))
        print(f"  {baseline.name} | {q.name}: {timed.p50_ms:.1f} ms p50, {text}", flush=True)
        runs.append(run)
    return throughput(lambda n: round_robin(runs, n), budget)


@contextmanager
def loaded(engine: Engine, parquet: Path, name: str, steps: Steps) -> Iterator[Engine]:
    try:
        with steps.step(f"{name}: load"):
            engine.load(parquet)
        yield engine
    finally:
        engine.close()


def baselines(
    which: str,
    parquet: Path,
    work: Path,
    tenant: str,
    mix: list[Question],
    answers: dict[str, Answer],
    rows: list[Row],
    budget: Budget,
    steps: Steps,
) -> tuple[dict[str, float], list[str]]:
    """The chosen baselines in turn: loaded, asked every question, then the whole mix."""
    mix_rates: dict[str, float] = {}
    notes: list[str] = []
    for baseline in BASELINES:
        if baseline.letter not in which:
            continue
        try:
            engine = baseline.make(work, tenant)
            with loaded(engine, parquet, baseline.name, steps), steps.step(baseline.name):
                mix_rates[baseline.name] = run_baseline(
                    baseline, engine.runner, mix, answers, rows, budget
                )
        except PostgresUnavailable as error:
            notes.append(f"PostgreSQL baseline skipped: {error}")
    return mix_rates, notes
