"""Latency of the analytics endpoints over HTTP on a demo dataset of any size.

    python -m bench.latency [--scale 1.0] [--days 240] [--requests 200] [--out bench/out]

Builds the dataset with `usagelens demo` (the same generator at any scale) in a fresh file,
starts the server and times each query of a fixed mix at concurrency 1. The baseline, measured in
the same run, is `GET /healthz`: the cost of the HTTP round trip alone.
"""

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import httpx

from tests.service import Server


@dataclass
class Latency:
    name: str
    path: str
    p50_ms: float
    p95_ms: float
    p99_ms: float


def percentile(sorted_ms: list[float], share: float) -> float:
    return sorted_ms[min(len(sorted_ms) - 1, int(share * len(sorted_ms)))]


def measure(client: httpx.Client, name: str, path: str, requests: int) -> Latency:
    for _ in range(3):  # warm caches and connections
        client.get(path).raise_for_status()
    samples = []
    for _ in range(requests):
        began = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - began) * 1000)
        response.raise_for_status()
    samples.sort()
    return Latency(
        name, path, statistics.median(samples), percentile(samples, 0.95), percentile(samples, 0.99)
    )


def query_mix(now: datetime) -> list[tuple[str, str]]:
    end = now.replace(minute=0, second=0, microsecond=0)
    start = (end - timedelta(days=30)).isoformat().replace("+00:00", "Z")
    until = end.isoformat().replace("+00:00", "Z")
    usage = f"/v1/accounts/org_acme/analytics/usage?start={start}&end={until}&tz=America/New_York"
    month = now.strftime("%Y-%m")
    return [
        ("usage, 30 days by day", f"{usage}&granularity=day"),
        ("usage, 30 days by hour", f"{usage}&granularity=hour"),
        (
            "usage, 30 days by hour, group_by agent,type",
            f"{usage}&granularity=hour&group_by=agent,type",
        ),
        (
            "MAU detail, current month, 6-month trend",
            f"/public-api/billing/end-user-teams/detail?month={month}&months=6",
        ),
        ("MAU charge, current month", f"/public-api/billing/end-user-teams-usage?month={month}"),
        ("costs per user of org_acme, 30 days", "/v1/analytics/users?organization_id=org_acme"),
        ("tenant overview, 30 days", "/v1/analytics/overview"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--days", type=int, default=240)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--db", type=Path, help="reuse a file made by an earlier run")
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    db = args.db or Path(tempfile.mkdtemp(prefix="usagelens-latency-")) / "demo.duckdb"
    command = [sys.executable, "-m", "usagelens", "demo", "--db", str(db)]
    loaded = subprocess.run(
        [*command, "--days", str(args.days), "--scale", str(args.scale)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    key = re.findall(r"\b\w+_sk_test_\w+", loaded)[0]
    with duckdb.connect(str(db), read_only=True) as con:
        events = int(con.execute("SELECT count(*) FROM events").fetchall()[0][0])
    server = Server(db).start()
    try:
        with httpx.Client(base_url=server.url, headers={"X-API-Key": key}, timeout=60) as client:
            baseline = measure(client, "GET /healthz (HTTP round trip)", "/healthz", args.requests)
            results = [
                measure(client, name, path, args.requests)
                for name, path in query_mix(datetime.now(UTC))
                if client.get(path).status_code != 404  # endpoints not built yet are skipped
            ]
    finally:
        server.stop()
    made = f"{args.db}" if args.db else f"scale {args.scale}, {args.days} days"
    header = f"{events:,} demo events ({made}), {args.requests} requests each, concurrency 1"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latency.json").write_text(
        json.dumps(
            {
                "header": header,
                "baseline": asdict(baseline),
                "results": [asdict(r) for r in results],
            },
            indent=2,
        )
    )
    print(header)
    print("| query | p50 ms | p95 ms | p99 ms | p50 / round trip |")
    print("|---|---:|---:|---:|---:|")
    for row in [baseline, *results]:
        print(
            f"| {row.name} | {row.p50_ms:.1f} | {row.p95_ms:.1f} | {row.p99_ms:.1f} | "
            f"{row.p50_ms / baseline.p50_ms:.1f}x |"
        )


if __name__ == "__main__":
    main()
