"""Ingest throughput: HTTP batches of 1,000 (durable acks) and the bulk file load, each as a
ratio to the plain Arrow insert into DuckDB measured on the same events in the same run.

    python -m bench.ingest [--events N] [--clients 1 4 16] [--out bench/out]
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import httpx
import msgspec

from tests.service import Server, cli, new_key
from usagelens.demo.dataset import demo_events, estimate_event_count
from usagelens.ingest.parsing import decode_lines
from usagelens.ingest.rows import build_batch

BATCH = 1_000


@dataclass
class Measure:
    name: str
    events: int
    seconds: float
    bytes_per_event: float

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds


def make_events(count: int) -> list[bytes]:
    """Realistic events (the demo generator's shapes and cycles), one JSON line each."""
    scale = count / estimate_event_count(days=365) * 1.1
    now = datetime(2026, 11, 1, tzinfo=UTC)
    return [msgspec.json.encode(e) for e in demo_events(now, seed=11, days=365, scale=scale)][
        :count
    ]


def fresh_db(root: Path, name: str) -> Path:
    db = root / f"{name}.duckdb"
    cli("tenants", "create", "bench", "--tz", "America/New_York", db=db)
    return db


def db_bytes(db: Path) -> int:
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))


def bench_bulk(root: Path, lines: list[bytes]) -> Measure:
    db = fresh_db(root, "bulk")
    path = root / "events.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    command = [sys.executable, "-m", "usagelens", "ingest", str(path), "--tenant", "bench"]
    started = time.perf_counter()
    subprocess.run([*command, "--db", str(db)], check=True, capture_output=True)
    seconds = time.perf_counter() - started
    return Measure("bulk file (usagelens ingest)", len(lines), seconds, db_bytes(db) / len(lines))


def bench_http(root: Path, lines: list[bytes], clients: int) -> Measure:
    db = fresh_db(root, f"http{clients}")
    key = new_key(db, "--tenant", "bench")
    bodies = [b"[" + b",".join(lines[i : i + BATCH]) + b"]" for i in range(0, len(lines), BATCH)]
    errors: list[str] = []
    server = Server(db).start()

    def send(mine: list[bytes]) -> None:
        headers = {"X-API-Key": key, "Content-Type": "application/json"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=120) as client:
            for body in mine:
                response = client.post("/v1/events", content=body)
                if response.status_code != 200:
                    errors.append(response.text[:300])

    threads = [threading.Thread(target=send, args=(bodies[n::clients],)) for n in range(clients)]
    try:
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
    finally:
        server.stop()
    if errors:
        raise RuntimeError(f"{len(errors)} requests failed, the first: {errors[0]}")
    name = f"HTTP, batches of {BATCH:,}, {clients} client{'s' if clients > 1 else ''}"
    return Measure(name, len(lines), seconds, db_bytes(db) / len(lines))


def bench_plain_arrow(root: Path, lines: list[bytes], batch: int) -> Measure:
    """Baseline: the same rows inserted from Arrow into a bare table, one commit per batch,
    without validation, dedupe, rollups or HTTP (the Arrow tables are built beforehand)."""
    now = datetime.now(UTC)
    # Ids as text only, as a bare table keeps them (the service packs ULIDs and UUIDs).
    tables = [
        build_batch(
            decode_lines(lines[i : i + batch], i), lambda _: 1, now, timedelta(0), i
        ).drop_columns(["id_form", "id_high"])
        for i in range(0, len(lines), batch)
    ]
    path = root / f"plain{batch}.duckdb"
    con = duckdb.connect(str(path))
    con.register("first_batch", tables[0])
    con.execute("CREATE TABLE events AS SELECT * FROM first_batch LIMIT 0")
    started = time.perf_counter()
    for table in tables:
        con.register("batch", table)
        con.execute("INSERT INTO events SELECT * FROM batch")
        con.unregister("batch")
    seconds = time.perf_counter() - started
    con.close()
    name = f"plain Arrow INSERT, batches of {batch:,}"
    return Measure(name, len(lines), seconds, db_bytes(path) / len(lines))


def commit_id() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--clients", type=int, nargs="*", default=[1, 4, 16])
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="usagelens-bench-"))
    try:
        lines = make_events(args.events)
        baseline = bench_plain_arrow(root, lines, BATCH)
        measures = [
            bench_plain_arrow(root, lines, 10_000),
            bench_bulk(root, lines),
            *(bench_http(root, lines, clients) for clients in args.clients),
        ]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    header = (
        f"{platform.machine()}, {os.cpu_count()} cores, {datetime.now(UTC):%Y-%m-%d}, "
        f"commit {commit_id()}, {len(lines):,} events"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    report = {
        "header": header,
        "baseline": asdict(baseline),
        "measures": [asdict(m) | {"events_per_s": m.events_per_s} for m in measures],
    }
    (args.out / "ingest.json").write_text(json.dumps(report, indent=2))
    print(header)
    print("| path | events/s | ratio to baseline | bytes/event on disk |")
    print("|---|---:|---:|---:|")
    for m in [baseline, *measures]:
        ratio = m.events_per_s / baseline.events_per_s
        print(f"| {m.name} | {m.events_per_s:,.0f} | {ratio:.2f}x | {m.bytes_per_event:.1f} |")


if __name__ == "__main__":
    main()
