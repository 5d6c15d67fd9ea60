"""usagelens against three baselines on the same events and the same questions (issue 5 §1).

    python -m bench.baselines [--scale 3.2] [--days 240] [--requests 60] [--out bench/out]

About 1,000,000 demo events over 240 days (tenant `demo`, America/New_York) are written as
NDJSON, loaded with `usagelens ingest` and the demo directory is PUT over HTTP. Four usage
questions for `org_acme` and its subaccounts (30 days by day and by hour, without and with
group_by agent) are timed over HTTP against the running server, then answered by:

a) a raw scan in DuckDB of a copy of the same file's `events` table (no rollups), in-process,
   bucketed with the service's own boundaries;
b) PostgreSQL in its own throwaway cluster (btree on (tenant, time),
   `GROUP BY date_trunc(..., time AT TIME ZONE tz)`), over a loopback connection;
c) the OpenMeter query shape (`JSON_VALUE` over a JSON string, `tumbleStart` with a zone) on
   chDB, in-process.

Each is checked against the API's numbers. Writes bench/RESULTS.md and bench/out/baselines.json.
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
import msgspec

from bench.engines import (
    Answer,
    OpenMeterWay,
    Postgres,
    PostgresUnavailable,
    Question,
    RawScan,
    Runner,
    compare,
    compare_wallclock,
    differences,
)
from bench.latency import Latency, measure, percentile
from tests.service import Server, cli, free_port, new_key
from usagelens.demo.dataset import DEMO_TIMEZONE, DemoDirectory, demo_directory, demo_events
from usagelens.timezones.buckets import Granularity
from usagelens.usage.service import bucket_spans, subaccounts

TENANT = "demo"
ACCOUNT = "org_acme"
# A fixed "now" keeps the dataset and the questions identical from run to run; its 30 days
# span the 2026-11-01 fall-back in New York.
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
LIMIT = 500  # the API's most buckets per answer: 30 days by hour is cut at 500 hours
CONCURRENCY = 16


@dataclass
class Figure:
    engine: str
    how: str
    p50_ms: float
    p95_ms: float
    p99_ms: float
    requests_per_s: float
    agreement: str


@dataclass
class Row:
    question: str
    path: str
    buckets: int
    keys: int
    figures: list[Figure] = field(default_factory=list)


def timed(fn: Callable[[], object], requests: int) -> Latency:
    """`bench.latency.measure` for an in-process call."""
    for _ in range(3):
        fn()
    samples = []
    for _ in range(requests):
        began = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    return Latency(
        "", "", samples[len(samples) // 2], percentile(samples, 0.95), percentile(samples, 0.99)
    )


def throughput(make: Callable[[], Callable[[], object]], most: int, seconds: float) -> float:
    """Requests/s with CONCURRENCY threads, each with its own client from ``make``, until
    ``most`` requests are done or ``seconds`` have passed."""
    lock = threading.Lock()
    done = [0]
    errors: list[BaseException] = []
    ready = threading.Barrier(CONCURRENCY + 1)
    deadline = [0.0]

    def worker() -> None:
        try:
            call = make()
            call()  # warm this thread's connection, cursor or session
        except BaseException as error:
            errors.append(error)
            ready.abort()
            return
        try:
            ready.wait()
            while time.perf_counter() < deadline[0]:
                with lock:
                    if done[0] >= most:
                        return
                    done[0] += 1
                call()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(CONCURRENCY)]
    for thread in threads:
        thread.start()
    deadline[0] = time.perf_counter() + 3600
    try:
        ready.wait()
    except threading.BrokenBarrierError:
        for thread in threads:
            thread.join()
        raise errors[0] from None
    began = time.perf_counter()
    deadline[0] = began + seconds
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise errors[0]
    return done[0] / elapsed


def api_answer(body: dict[str, Any]) -> Answer:
    answer: Answer = {}
    for bucket in body["data"]:
        start = datetime.fromisoformat(bucket["ts"]).astimezone(UTC)
        for value in bucket["values"]:
            if value["conversations"] or value["seconds"]:
                agent = value["dimensions"].get("agent", "")
                answer[(start, agent)] = (value["conversations"], value["seconds"])
    return answer


def questions(organizations: tuple[str, ...]) -> list[tuple[Question, str]]:
    end = NOW.replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=30)
    made = []
    kinds: tuple[tuple[Granularity, bool], ...] = (
        ("day", False),
        ("day", True),
        ("hour", False),
        ("hour", True),
    )
    for granularity, by_agent in kinds:
        spans = bucket_spans(start, end, DEMO_TIMEZONE, granularity, LIMIT)
        window_end = min(end, spans[-1][1])
        name = f"usage, 30 days by {granularity}" + (", group_by agent" if by_agent else "")
        if window_end < end:
            name += f" (first {len(spans)} buckets: the API's limit)"
        path = (
            f"/v1/accounts/{ACCOUNT}/analytics/usage?start={start:%Y-%m-%dT%H:%M:%SZ}"
            f"&end={end:%Y-%m-%dT%H:%M:%SZ}&tz={DEMO_TIMEZONE}&granularity={granularity}"
            + ("&group_by=agent" if by_agent else "")
        )
        q = Question(
            name=name,
            granularity=granularity,
            by_agent=by_agent,
            start=start,
            end=window_end,
            tz=DEMO_TIMEZONE,
            organizations=organizations,
            bucket_starts=tuple(first.astimezone(UTC) for first, _ in spans),
        )
        made.append((q, path))
    return made


def machine() -> str:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.1f} GiB RAM"
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs ({model}){memory}"


def versions() -> dict[str, str]:
    from importlib.metadata import version

    postgres = subprocess.run(
        ["/usr/local/bin/postgres", "--version"], capture_output=True, text=True
    ).stdout.split()
    return {
        "duckdb": version("duckdb"),
        "chdb": version("chdb"),
        "postgres": postgres[2] if len(postgres) > 2 else "?",
    }


def commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], capture_output=True, text=True).stdout.strip()

    dirty = " (with uncommitted changes)" if git("status", "--porcelain") else ""
    return git("rev-parse", "--short", "HEAD") + dirty


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=3.2)
    parser.add_argument("--days", type=int, default=240)
    parser.add_argument("--requests", type=int, default=60, help="per query at concurrency 1")
    parser.add_argument("--most", type=int, default=400, help="requests at concurrency 16")
    parser.add_argument("--seconds", type=float, default=8.0, help="time cap at concurrency 16")
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument("--results", type=Path, default=Path("bench/RESULTS.md"))
    args = parser.parse_args()
    began = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="usagelens-baselines-"))
    steps: dict[str, float] = {}

    def step(name: str, since: float) -> float:
        now = time.perf_counter()
        steps[name] = round(now - since, 2)
        print(f"{name}: {now - since:.1f} s", flush=True)
        return now

    # 1. Dataset through the public path
    mark = time.perf_counter()
    ndjson = root / "events.ndjson"
    lines = 0
    with ndjson.open("wb") as out:
        encoder = msgspec.json.Encoder()
        for event in demo_events(NOW, seed=7, days=args.days, scale=args.scale):
            out.write(encoder.encode(event) + b"\n")
            lines += 1
    mark = step("generate NDJSON", mark)
    db = root / "usagelens.duckdb"
    cli("tenants", "create", TENANT, "--tz", DEMO_TIMEZONE, db=db)
    cli("ingest", str(ndjson), "--tenant", TENANT, db=db)
    mark = step("usagelens ingest", mark)
    key = new_key(db, "--tenant", TENANT)
    raw = root / "raw.duckdb"
    shutil.copyfile(db, raw)
    with duckdb.connect(str(raw), read_only=True) as con:
        stored = int(con.execute("SELECT count(*) FROM events").fetchall()[0][0])
    ndjson.unlink()

    directory = demo_directory()
    organizations = tuple(sorted(subaccounts(_orgs(directory), ACCOUNT)))
    mix = questions(organizations)
    rows: list[Row] = []
    answers: dict[str, Answer] = {}

    # 2. usagelens over HTTP
    server = Server(db).start()
    try:
        headers = {"X-API-Key": key}
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
            parents = {o.organization_id: o.parent_id for o in directory.organizations}

            def depth(org: str | None) -> int:
                return 0 if org is None else 1 + depth(parents[org])

            for org in sorted(directory.organizations, key=lambda o: depth(o.parent_id)):
                client.put(
                    f"/v1/organizations/{org.organization_id}",
                    json={"name": org.name, "parent_id": org.parent_id},
                ).raise_for_status()
            mark = step("PUT directory", mark)
            round_trip = measure(client, "GET /healthz", "/healthz", args.requests)
            for q, path in mix:
                response = client.get(path)
                response.raise_for_status()
                body = response.json()
                answers[q.name] = api_answer(body)
                latency = measure(client, q.name, path, args.requests)

                def make(path: str = path) -> Callable[[], object]:
                    own = httpx.Client(base_url=server.url, headers=headers, timeout=60)
                    return lambda: own.get(path).raise_for_status()

                rate = throughput(make, args.most, args.seconds)
                row = Row(q.name, path, len(body["data"]), len(answers[q.name]))
                row.figures.append(
                    Figure(
                        "usagelens",
                        "HTTP, rollups",
                        latency.p50_ms,
                        latency.p95_ms,
                        latency.p99_ms,
                        rate,
                        "reference",
                    )
                )
                rows.append(row)
    finally:
        server.stop()
    mark = step("usagelens queries", mark)

    def run_engine(engine: str, how: str, runner: Callable[[Question], Runner], wall: bool) -> None:
        for (q, _), row in zip(mix, rows, strict=True):
            run = runner(q)
            theirs = run()
            ours = answers[q.name]
            if wall:
                same, differ, dst, merged_ok = compare_wallclock(ours, theirs, q.tz)
                agreement = f"{same} agree, {differ} differ" + (
                    f"; {dst} of our keys fall in the repeated fall-back hour, which it merges "
                    f"into one bucket (merged sums {'equal' if merged_ok else 'DIFFER'})"
                    if dst
                    else ""
                )
            else:
                same, differ = compare(ours, theirs)
                agreement = f"{same} agree, {differ} differ"
                if differ:
                    agreement += f" (ours vs theirs, e.g. {differences(ours, theirs)})"
            latency = timed(run, args.requests)
            rate = throughput(lambda run=run: run, args.most, args.seconds)  # type: ignore[misc]
            row.figures.append(
                Figure(
                    engine,
                    how,
                    latency.p50_ms,
                    latency.p95_ms,
                    latency.p99_ms,
                    rate,
                    agreement,
                )
            )
            print(f"  {engine} | {q.name}: {latency.p50_ms:.1f} ms p50, {agreement}", flush=True)

    # 3a. raw scan
    scan = RawScan(raw, TENANT)
    try:
        run_engine("a) DuckDB raw scan", "in-process, cursor per thread", scan.runner, False)
    finally:
        scan.close()
    mark = step("baseline a (DuckDB raw scan)", mark)

    # 3b. PostgreSQL
    notes: list[str] = []
    try:
        pg = Postgres(free_port()).start()
    except PostgresUnavailable as error:
        notes.append(f"PostgreSQL baseline skipped: {error}")
        print(notes[-1])
    else:
        try:
            pg.load(raw, TENANT)
            mark = step("baseline b load (COPY + index)", mark)
            run_engine(
                "b) PostgreSQL",
                "loopback connection per thread",
                lambda q: pg.runner(q, TENANT),
                True,
            )
        finally:
            pg.stop()
        mark = step("baseline b (PostgreSQL)", mark)

    # 3c. OpenMeter way on chDB
    om = OpenMeterWay(root / "chdb")
    try:
        om.load(raw, TENANT)
        mark = step("baseline c load", mark)
        run_engine(
            "c) OpenMeter way (chDB)",
            "in-process, Session per thread",
            lambda q: om.runner(q, TENANT),
            False,
        )
    finally:
        om.close()
    mark = step("baseline c (chDB)", mark)
    shutil.rmtree(root, ignore_errors=True)

    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "commit": commit(),
        "generated_events": lines,
        "stored_events": stored,
        "scale": args.scale,
        "days": args.days,
        "requests": args.requests,
        "concurrency_throughput": {"threads": CONCURRENCY, "most": args.most, "s": args.seconds},
        "round_trip": asdict(round_trip),
        "steps_s": steps,
        "total_s": round(time.perf_counter() - began, 1),
        "notes": notes,
        "versions": versions(),
        "rows": [asdict(r) for r in rows],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "baselines.json").write_text(json.dumps(report, indent=2))
    args.results.write_text(markdown(report, rows, round_trip))
    print(args.results.read_text())


def _orgs(directory: DemoDirectory) -> dict[str, str | None]:
    return {o.organization_id: o.parent_id for o in directory.organizations}


def markdown(report: dict[str, Any], rows: list[Row], round_trip: Latency) -> str:
    lines = [
        "# Benchmark: usagelens against baselines (bench-quick)",
        "",
        "Regenerated by `make bench-quick` (`python -m bench.baselines`); raw figures in "
        "`bench/out/baselines.json`.",
        "",
        f"- Date: {report['date']}",
        f"- Machine: {report['machine']}",
        f"- Commit: {report['commit']}",
        f"- Dataset: {report['generated_events']:,} demo events generated (scale "
        f"{report['scale']}, {report['days']} days to {NOW:%Y-%m-%d %H:%M} UTC), "
        f"{report['stored_events']:,} stored after dedupe; tenant `{TENANT}` in "
        f"{DEMO_TIMEZONE}; account `{ACCOUNT}` and its subaccounts.",
        f"- Latency: {report['requests']} requests per query at concurrency 1 (after 3 warm-up "
        f"calls). Throughput: {CONCURRENCY} threads, each with its own client, connection or "
        f"session, until {report['concurrency_throughput']['most']} requests or "
        f"{report['concurrency_throughput']['s']} s.",
        f"- usagelens is timed over HTTP (httpx, keep-alive); an HTTP round trip alone "
        f"(`GET /healthz`) took p50 {round_trip.p50_ms:.2f} ms. Baselines a) and c) are timed "
        "in-process (no HTTP, no JSON), b) over a loopback PostgreSQL connection.",
        "- Ratio = baseline p50 / usagelens p50 (above 1: usagelens is faster); "
        "req/s ratio = usagelens req/s / baseline req/s.",
        "- Agreement: each baseline's (bucket, agent) → (conversations, seconds) against the "
        "API's answer, zero rows dropped. PostgreSQL buckets by wall-clock start "
        "(`date_trunc(... AT TIME ZONE ...)`), so it is compared only where a wall-clock start "
        "names one bucket; the repeated 01:00 of 2026-11-01 is counted apart.",
        f"- Run time of the whole command: {report['total_s']:.0f} s "
        f"(steps: {', '.join(f'{k} {v:.0f} s' for k, v in report['steps_s'].items())}).",
    ]
    lines += [
        f"- Engines: DuckDB {report['versions']['duckdb']} (usagelens and a), PostgreSQL "
        f"{report['versions']['postgres']} (shared_buffers 256MB, fsync off: reads only), "
        f"chDB {report['versions']['chdb']}; all on the same machine as the server and client.",
        "- Baselines b) and c) hold the demo tenant's stored events (after the service's "
        "dedupe), exported from the same file; c)'s `data` JSON is rebuilt from the stored "
        "columns. The API returns at most 500 buckets, so the hourly questions cover the "
        "first 500 hours of the 30 days and every baseline is asked for the same window.",
    ]
    for note in report["notes"]:
        lines.append(f"- **{note}**")
    for row in rows:
        ours = row.figures[0]
        lines += [
            "",
            f"## {row.question}",
            "",
            f"`{row.path}` — {row.buckets} buckets, {row.keys} non-zero (bucket, agent) keys",
            "",
            "| engine | how | p50 ms | p95 ms | p99 ms | req/s @16 | p50 ratio | req/s ratio "
            "| answers |",
            "|---|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for f in row.figures:
            lines.append(
                f"| {f.engine} | {f.how} | {f.p50_ms:.1f} | {f.p95_ms:.1f} | {f.p99_ms:.1f} | "
                f"{f.requests_per_s:.0f} | {f.p50_ms / ours.p50_ms:.2f}x | "
                f"{ours.requests_per_s / f.requests_per_s:.2f}x | {f.agreement} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
