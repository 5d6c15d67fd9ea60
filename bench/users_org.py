"""Latency of the per-user cost table for one organization with many users.

    python -m bench.users_org [--users 10000] [--events 500000] [--requests 100]

Makes an organization with N users and a month of their messaging, voice, API, storage, phone
and knowledge-base events (deterministic), loads it with `usagelens ingest`, then times
`GET /v1/analytics/users` for 30 days at concurrency 1, against `GET /healthz` in the same run.
"""

import argparse
import random
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import msgspec

from bench.latency import measure
from tests.service import Server, cli, new_key

TYPES = ("sms", "sms", "sms", "mms", "voice_call", "api_request", "storage", "kb_usage")


def events(users: int, count: int, end: datetime, seed: int = 5) -> list[bytes]:
    rng = random.Random(seed)
    lines = []
    for n in range(count):
        kind = TYPES[n % len(TYPES)]
        data: dict[str, object] = {"organization_id": "org_big"}
        if kind in ("sms", "mms", "voice_call"):
            data["direction"] = rng.choice(("outbound", "inbound"))
        if kind == "sms":
            data["segments"] = rng.randint(1, 3)
        if kind == "voice_call":
            data["seconds"] = rng.randint(5, 900)
        if kind == "api_request":
            data["count"] = rng.randint(1, 200)
        if kind == "storage":
            data["gb_hours"] = f"{rng.uniform(0, 3):.3f}"
        if kind == "kb_usage":
            data["kb_id"] = "kb-1"
            data["minutes"] = f"{rng.uniform(0, 20):.2f}"
        moment = end - timedelta(seconds=rng.randrange(30 * 86400))
        event = {
            "id": f"big-{n}",
            "type": kind,
            "time": moment.isoformat(),
            "subject": f"usr-{rng.randrange(users):05d}",
            "data": data,
        }
        lines.append(msgspec.json.encode(event))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="usagelens-users-"))
    db = root / "users.duckdb"
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    path = root / "events.ndjson"
    path.write_bytes(b"\n".join(events(args.users, args.events, end)) + b"\n")
    cli("tenants", "create", "big", db=db)
    cli("ingest", str(path), "--tenant", "big", db=db)
    key = new_key(db, "--tenant", "big")
    start = (end - timedelta(days=29)).date().isoformat()
    query = f"/v1/analytics/users?organization_id=org_big&start_date={start}&end_date={end.date()}"
    server = Server(db).start()
    try:
        with httpx.Client(base_url=server.url, headers={"X-API-Key": key}, timeout=60) as client:
            users = len(client.get(query).json()["users"])
            baseline = measure(client, "GET /healthz", "/healthz", args.requests)
            table = measure(
                client, f"users of one organization ({users:,} rows)", query, args.requests
            )
    finally:
        server.stop()
    print(f"{args.events:,} events of {args.users:,} users over 30 days")
    print("| query | p50 ms | p95 ms | p99 ms | p50 / round trip |")
    print("|---|---:|---:|---:|---:|")
    for row in (baseline, table):
        ratio = row.p50_ms / baseline.p50_ms
        figures = f"{row.p50_ms:.1f} | {row.p95_ms:.1f} | {row.p99_ms:.1f}"
        print(f"| {row.name} | {figures} | {ratio:.1f}x |")


if __name__ == "__main__":
    main()
