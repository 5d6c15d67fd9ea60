"""The benchmark of issue 5 §1 for one dataset size, end to end.

    python -m bench.run --size 1M|10M|100M [--seed 1] [--baselines abc] [--keep] [--resume]

1. The dataset (``bench.dataset``), generated once and kept in bench/data/<size>-seed<seed>/.
2. usagelens loads it through its public path (``bench.loading``): tenants and keys with the CLI,
   all but the last events with `usagelens ingest`, the directory with PUT, the last events
   (200,000, or a tenth of a smaller dataset) with `POST /v1/events` in batches of 1,000 from 16
   clients. Measured: events/s of each path, disk bytes per stored event, cold start to first
   answer, the server's peak RSS while serving the query mix.
3. The query mix (``bench.mix``) for the largest tenant over HTTP: latency at concurrency 1,
   requests/s at concurrency 16, per query and for the whole mix.
4. The same questions answered by the baselines (``bench.engines``) from the same stored events,
   exported after dedupe, each answer checked against the API's.
5. bench/results/<size>.json (committed) and bench/RESULTS.md, rendered from every size's JSON.
"""

import argparse
import json
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import environment, loading
from bench.dataset import Dataset, ensure, parse_size
from bench.figures import Row, Steps, figure, same_call
from bench.mix import Answer, Focus, Question, api_answer, questions
from bench.report import render
from bench.timing import Budget, Call, latency, round_robin, throughput
from bench.versus import baselines


def focus_of(dataset: Dataset) -> tuple[Focus, dict[str, str | None]]:
    chosen = dataset.manifest["focus"]
    tenant = next(t for t in dataset.manifest["tenants"] if t["name"] == chosen["tenant"])
    parents = {
        entry["id"]: entry["parent_id"]
        for entry in dataset.directory()
        if entry["kind"] == "organization" and entry["tenant"] == tenant["name"]
    }
    focus = Focus(
        tenant=tenant["name"],
        tz=tenant["tz"],
        mau_min_messages=tenant["mau_min_messages"],
        account=chosen["account"],
        organization=chosen["organization"],
        end=datetime.fromisoformat(dataset.manifest["end"]),
    )
    return focus, parents


# --------------------------------------------------------------------------------------------
# usagelens over HTTP
# --------------------------------------------------------------------------------------------


def serve_mix(
    url: str, key: str, mix: list[Question], budget: Budget
) -> tuple[dict[str, Answer], list[Row], float]:
    """The API's answer to each question, its latency and throughput; the whole mix's req/s."""
    clients = loading.Clients(url, key)

    def get(path: str) -> Call:
        return lambda: clients.get().get(path).raise_for_status()

    answers: dict[str, Answer] = {}
    rows: list[Row] = []
    try:
        for q in mix:
            response = clients.get().get(q.path)
            response.raise_for_status()
            answers[q.name] = api_answer(q, response.content)
            timed = latency(get(q.path), budget)
            rate = throughput(same_call(get(q.path)), budget)
            ours = figure("usagelens", "HTTP, rollups", timed, rate, "reference", True)
            rows.append(Row(q.name, q.path, len(answers[q.name]), [ours]))
            print(
                f"  usagelens | {q.name}: {timed.p50_ms:.1f} ms p50, {rate:.0f} req/s", flush=True
            )
        calls = [get(q.path) for q in mix]
        mix_rate = throughput(lambda n: round_robin(calls, n), budget)
    finally:
        clients.close()
    return answers, rows, mix_rate


def round_trip(url: str, key: str, budget: Budget) -> dict[str, float]:
    with httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=60) as client:
        timed = latency(lambda: client.get("/healthz").raise_for_status(), budget)
    return {"p50_ms": timed.p50_ms, "p99_ms": timed.p99_ms}


# --------------------------------------------------------------------------------------------
# The whole run
# --------------------------------------------------------------------------------------------


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", default="1M", help="1M, 10M or 100M (or any count: 200k)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--baselines", default="abc", help="which baselines to run")
    parser.add_argument("--requests", type=int, default=40, help="per query at concurrency 1")
    parser.add_argument("--most", type=int, default=300, help="requests at concurrency 16")
    parser.add_argument("--seconds", type=float, default=5.0, help="time cap of each measure")
    parser.add_argument("--gzip", action="store_true", help="gzip a newly generated dataset")
    parser.add_argument("--data", type=Path, default=Path("bench/data"))
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument("--results", type=Path, default=Path("bench/results"))
    parser.add_argument("--markdown", type=Path, default=Path("bench/RESULTS.md"))
    parser.add_argument("--keep", action="store_true", help="keep the loaded file in --out")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue after the bulk load of an earlier run of this size that stopped later",
    )
    return parser.parse_args(argv)


@dataclass
class Loaded:
    keys: loading.Keys
    bulk: loading.Rate
    http: loading.Rate
    directory: dict[str, dict[str, float]]
    file_bytes: int
    wal_bytes: int

    @property
    def stored(self) -> int:
        return self.bulk.accepted + self.http.accepted


@dataclass
class Bulked:
    """What the run keeps in its work folder once the bulk load is done (``state.json``), so
    that ``--resume`` after a later failure starts from there instead of loading again."""

    keys: loading.Keys
    bulk: loading.Rate
    bulk_lines: int  # the dataset's first lines, loaded in bulk; the rest go over HTTP
    notes: list[str]

    @staticmethod
    def path(work: Path) -> Path:
        return work / "state.json"

    def save(self, work: Path) -> None:
        self.path(work).write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def saved(cls, work: Path) -> "Bulked | None":
        if not cls.path(work).exists():
            return None
        state = json.loads(cls.path(work).read_text())
        return cls(
            loading.Keys(**state["keys"]),
            loading.Rate(**state["bulk"]),
            state["bulk_lines"],
            state["notes"],
        )


def bulk(dataset: Dataset, db: Path, work: Path, steps: Steps) -> Bulked:
    manifest = dataset.manifest
    bulk_lines = manifest["lines"] - loading.tail_size(manifest["lines"])
    with steps.step("tenants and keys (CLI)"):
        keys = loading.setup_tenants(db, manifest["tenants"])
    with steps.step("bulk ingest (usagelens ingest)"):
        rate = loading.bulk_load(db, loading.bulk_files(dataset, bulk_lines, work), print)
    bulked = Bulked(keys, rate, bulk_lines, [])
    bulked.save(work)
    return bulked


def load(dataset: Dataset, focus: Focus, db: Path, steps: Steps, bulked: Bulked) -> Loaded:
    keys = bulked.keys
    rounds = loading.directory_rounds(dataset, focus.tenant, focus.organization)
    lines = loading.tail_lines(dataset, bulked.bulk_lines)
    with loading.Service(db) as server:
        server.answered("/readyz")
        with steps.step("PUT directory"):
            directory = loading.put_directory(server.url, keys, rounds)
        with steps.step("HTTP ingest (POST /v1/events)"):
            http = loading.http_ingest(server.url, keys.operator, lines)
    return Loaded(keys, bulked.bulk, http, directory, *loading.disk_bytes(db))


@dataclass
class Served:
    answers: dict[str, Answer]
    rows: list[Row]
    mix_rate: float
    cold_start_s: float
    ingest_ready_s: float
    peak_rss_kib: int
    round_trip: dict[str, float]


def serve(db: Path, key: str, mix: list[Question], budget: Budget) -> Served:
    """A cold start on the loaded file, then the mix once the id index has loaded (its load
    takes a core for 6 to 8 s at 100M: queries during it measure the load, not the steady state);
    the peak RSS is the fresh process's."""
    with loading.Service(db) as server:
        cold_s = server.answered(mix[0].path, key)
        ready_s = server.ingest_ready()
        trip = round_trip(server.url, key, budget)
        answers, rows, mix_rate = serve_mix(server.url, key, mix, budget)
        rss_kib = server.peak_rss_kib()
    return Served(answers, rows, mix_rate, cold_s, ready_s, rss_kib, trip)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse(argv)
    began = time.perf_counter()
    load_before = os.getloadavg()
    steps = Steps()
    budget = Budget(args.requests, args.most, args.seconds)
    with steps.step("dataset"):
        compress = args.gzip or parse_size(args.size) >= 100_000_000
        dataset = ensure(args.data, args.size, args.seed, compress)
    focus, parents = focus_of(dataset)
    mix = questions(focus, parents)
    work = args.out / f"work-{args.size}"
    db = work / "usagelens.duckdb"
    bulked = Bulked.saved(work) if args.resume else None
    if bulked is None:
        bulked = bulk(dataset, db, loading.fresh(work), steps)
    loaded = load(dataset, focus, db, steps, bulked)
    with steps.step("usagelens queries"):
        served = serve(db, loaded.keys.tenants[focus.tenant], mix, budget)
    parquet = work / "events.parquet"
    with steps.step("export stored events"):
        exported = loading.export_events(db, parquet)
    mix_rates, notes = baselines(
        args.baselines, parquet, work, focus.tenant, mix, served.answers, served.rows, budget, steps
    )
    if not args.keep:
        shutil.rmtree(work)
    result = {
        "size": args.size,
        "seed": args.seed,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": environment.machine(),
        "commit": environment.commit(),
        "versions": environment.versions(),
        # Other work on the machine skews every figure: the load averages (1, 5, 15 minutes)
        # when the run began and ended say how much.
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "dataset": {k: v for k, v in dataset.manifest.items() if k != "parts"},
        "focus": asdict(focus) | {"end": focus.end.isoformat()},
        "load": _load_figures(loaded, exported),
        "storage": {
            "file_bytes": loaded.file_bytes,
            "wal_bytes": loaded.wal_bytes,
            "bytes_per_event": (loaded.file_bytes + loaded.wal_bytes) / loaded.stored,
        },
        "cold_start_s": served.cold_start_s,
        "ingest_ready_s": served.ingest_ready_s,
        "peak_rss_mib": served.peak_rss_kib / 1024,
        "round_trip_ms": served.round_trip,
        "budget": asdict(budget),
        "mix_requests_per_s": {"usagelens": served.mix_rate, **mix_rates},
        "rows": [asdict(row) for row in served.rows],
        "notes": bulked.notes + notes,
        "steps_s": steps.seconds,
        "total_s": round(time.perf_counter() - began, 1),
    }
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / f"{args.size}.json").write_text(json.dumps(result, indent=2) + "\n")
    args.markdown.write_text(render(args.results))
    print(f"wrote {args.results / f'{args.size}.json'} and {args.markdown}")


def _load_figures(loaded: Loaded, exported: int) -> dict[str, Any]:
    def rate(measured: loading.Rate) -> dict[str, Any]:
        return asdict(measured) | {"events_per_s": measured.events_per_s}

    return {
        "bulk": rate(loaded.bulk),
        "http": rate(loaded.http) | {"batch": loading.BATCH},
        "directory": loaded.directory,
        "stored_events": loaded.stored,
        "exported_events": exported,
    }


if __name__ == "__main__":
    main()
