"""A dataset loaded into usagelens through its public path, each step measured (issue 5 §1):
tenants and keys with the CLI, most events with `usagelens ingest`, the directory with PUT, the
last events with `POST /v1/events` (batches of 1,000, 16 clients, an operator key); then disk
bytes per stored event, cold start to the first answer and the server's peak RSS."""

import gzip
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import duckdb
import httpx
import psutil

from bench.dataset import Dataset
from bench.timing import CONCURRENCY
from tests.service import cli, free_port, new_key

BATCH = 1_000
_LOADED = re.compile(r"([\d,]+) new events, ([\d,]+) duplicates")


@dataclass
class Keys:
    operator: str
    tenants: dict[str, str]


@dataclass(frozen=True)
class Rate:
    events: int  # lines sent
    accepted: int
    duplicates: int
    seconds: float

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def setup_tenants(db: Path, tenants: list[dict[str, Any]]) -> Keys:
    for tenant in tenants:
        tz, least = tenant["tz"], str(tenant["mau_min_messages"])
        cli("tenants", "create", tenant["name"], "--tz", tz, "--mau-min-messages", least, db=db)
    names = [tenant["name"] for tenant in tenants]
    return Keys(new_key(db, "--operator"), {name: new_key(db, "--tenant", name) for name in names})


def tail_size(lines: int) -> int:
    """Events sent over HTTP: 200,000, or a tenth of a smaller dataset."""
    return min(200_000, lines // 10)


def _parts_split(dataset: Dataset, bulk_lines: int) -> Iterator[tuple[Path, int, int]]:
    """Each part with its line count and how many of its first lines are among the dataset's
    first ``bulk_lines``: the HTTP tail may hold more lines than the last part (the 100M
    dataset's last part has 10,302), so it may span parts."""
    before = 0
    for path, part in zip(dataset.parts, dataset.manifest["parts"], strict=True):
        yield path, part["lines"], min(max(bulk_lines - before, 0), part["lines"])
        before += part["lines"]


def bulk_files(dataset: Dataset, bulk_lines: int, work: Path) -> Iterator[tuple[Path, int]]:
    """The first ``bulk_lines`` lines of the dataset as plain NDJSON files `usagelens ingest`
    reads, each with its line count. Gzip is expanded one part at a time and removed after use;
    a part may be cut short or left out."""
    for path, lines, keep in _parts_split(dataset, bulk_lines):
        if keep == 0:
            continue
        if not path.name.endswith(".gz") and keep == lines:
            yield path, keep
            continue
        plain = work / path.name.removesuffix(".gz")
        with _open(path) as source, plain.open("wb") as target:
            target.writelines(islice(source, keep))
        yield plain, keep
        plain.unlink()


def tail_lines(dataset: Dataset, bulk_lines: int) -> list[bytes]:
    """Every line after the first ``bulk_lines``, across parts."""
    tail: list[bytes] = []
    for path, lines, skipped in _parts_split(dataset, bulk_lines):
        if skipped < lines:
            with _open(path) as source:
                tail += [line.rstrip(b"\n") for line in islice(source, skipped, None)]
    return tail


def _open(path: Path) -> Any:
    return gzip.open(path, "rb") if path.name.endswith(".gz") else path.open("rb")


def bulk_load(db: Path, files: Iterator[tuple[Path, int]], log: Callable[[str], None]) -> Rate:
    """`usagelens ingest` on each file in turn, as an operator would (its progress bar shows
    on the terminal); the rate counts whole commands, process start included."""
    lines = accepted = duplicates = 0
    seconds = 0.0
    for path, count in files:
        command = [sys.executable, "-m", "usagelens", "ingest", str(path), "--db", str(db)]
        began = time.perf_counter()
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
        seconds += time.perf_counter() - began
        found = _LOADED.search(done.stdout)
        if found is None:
            raise RuntimeError(f"unexpected output of usagelens ingest: {done.stdout!r}")
        lines += count
        accepted += int(found[1].replace(",", ""))
        duplicates += int(found[2].replace(",", ""))
        log(f"  {path.name}: {done.stdout.strip()}")
    return Rate(lines, accepted, duplicates, seconds)


class Clients:
    """One keep-alive HTTP client per thread of a pool."""

    def __init__(self, url: str, key: str) -> None:
        self.url = url
        self.key = key
        self.local = threading.local()
        self.made: list[httpx.Client] = []

    def get(self) -> httpx.Client:
        client: httpx.Client | None = getattr(self.local, "client", None)
        if client is None:
            client = httpx.Client(base_url=self.url, headers={"X-API-Key": self.key}, timeout=600)
            self.local.client = client
            self.made.append(client)
        return client

    def close(self) -> None:
        for client in self.made:
            client.close()


def http_ingest(url: str, operator_key: str, lines: list[bytes]) -> Rate:
    """NDJSON batches of BATCH events from CONCURRENCY clients; each answer is durable."""
    bodies = [b"\n".join(lines[i : i + BATCH]) for i in range(0, len(lines), BATCH)]
    clients = Clients(url, operator_key)
    headers = {"Content-Type": "application/x-ndjson"}

    def send(body: bytes) -> tuple[int, int]:
        response = clients.get().post("/v1/events", content=body, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"POST /v1/events: {response.status_code} {response.text[:300]}")
        answer = response.json()
        return answer["accepted"], answer["duplicates"]

    try:
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            began = time.perf_counter()
            answers = list(pool.map(send, bodies))
            seconds = time.perf_counter() - began
    finally:
        clients.close()
    return Rate(len(lines), sum(a for a, _ in answers), sum(d for _, d in answers), seconds)


Put = tuple[str, str, dict[str, Any]]  # tenant, path, body
# A PUT costs tens of milliseconds (a commit each, one at a time; a user's more as the tenant's
# users grow): every organization is PUT (the trees), a sample of users and agents is timed, and
# the others are named by their events.
SAMPLE = 500


@dataclass(frozen=True)
class Round:
    kind: str
    puts: list[Put]


def directory_rounds(dataset: Dataset, sampled_tenant: str, organization: str) -> list[Round]:
    """The directory as rounds of PUTs: every organization, a tree level at a time (a parent
    must exist first), then the first SAMPLE agents of ``sampled_tenant`` and users of
    ``organization``."""
    levels: list[list[Put]] = []
    agents: list[Put] = []
    users: list[Put] = []
    depth: dict[tuple[str, str], int] = {}
    for entry in dataset.directory():
        tenant, kind, path = entry["tenant"], entry["kind"], f"/v1/{entry['kind']}s/{entry['id']}"
        if kind == "organization":
            parent = entry["parent_id"]
            level = 0 if parent is None else depth[(tenant, parent)] + 1
            depth[(tenant, entry["id"])] = level
            if level == len(levels):
                levels.append([])
            levels[level].append((tenant, path, {"name": entry["name"], "parent_id": parent}))
        elif kind == "agent" and tenant == sampled_tenant and len(agents) < SAMPLE:
            body = {"name": entry["name"], "organization_id": entry["organization_id"]}
            agents.append((tenant, path, body))
        elif kind == "user" and entry["organization_id"] == organization and len(users) < SAMPLE:
            body = {"name": entry["name"], "email": entry["email"], "organization_id": organization}
            users.append((tenant, path, body))
    levels_as_rounds = [Round("organizations", puts) for puts in levels]
    return [*levels_as_rounds, Round("agents", agents), Round("users", users)]


def put_directory(url: str, keys: Keys, rounds: list[Round]) -> dict[str, dict[str, float]]:
    """Each round with CONCURRENCY clients per tenant: entities and seconds of each kind."""
    clients = {tenant: Clients(url, key) for tenant, key in keys.tenants.items()}

    def put(item: Put) -> None:
        tenant, path, body = item
        response = clients[tenant].get().put(path, json=body)
        if response.status_code != 200:
            raise RuntimeError(f"PUT {path}: {response.status_code} {response.text[:300]}")

    figures: dict[str, dict[str, float]] = {}
    try:
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            for round_ in rounds:
                began = time.perf_counter()
                list(pool.map(put, round_.puts))
                kind = figures.setdefault(round_.kind, {"entities": 0, "seconds": 0.0})
                kind["entities"] += len(round_.puts)
                kind["seconds"] += time.perf_counter() - began
    finally:
        for tenant_clients in clients.values():
            tenant_clients.close()
    return figures


def disk_bytes(db: Path) -> tuple[int, int]:
    """(database file, write-ahead log) in bytes."""
    wal = db.with_name(db.name + ".wal")
    return db.stat().st_size, wal.stat().st_size if wal.exists() else 0


class Service:
    """`usagelens serve` on a file, for as long as a large file needs: ``tests.service.Server``
    gives up after 60 s to start and 30 s to stop, too little for 100M events."""

    def __init__(self, db: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = db.with_suffix(f".{self.port}.log")
        command = ["serve", "--db", str(db), "--port", str(self.port)]
        self.started = time.perf_counter()
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "usagelens", *command], stdout=log, stderr=subprocess.STDOUT
            )

    def answered(self, path: str, key: str | None = None, patience_s: float = 3600) -> float:
        """Seconds since the process started until ``path`` first answered 200 (polled every
        10 ms)."""
        headers = {"X-API-Key": key} if key else {}
        with httpx.Client(base_url=self.url, headers=headers, timeout=600) as client:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the server exited:\n{self.log.read_text()[-3000:]}")
                try:
                    if client.get(path).status_code == 200:
                        return time.perf_counter() - self.started
                except httpx.TransportError:
                    pass
                if time.perf_counter() - self.started > patience_s:
                    raise RuntimeError(f"no answer from {path} after {patience_s} s")
                time.sleep(0.01)

    def ingest_ready(self, patience_s: float = 3600) -> float:
        """Seconds since the process started until `/readyz` said writes are stored at once
        (the id index has loaded; polled every 100 ms)."""
        with httpx.Client(base_url=self.url, timeout=600) as client:
            while client.get("/readyz").json().get("ingest") != "ready":
                if time.perf_counter() - self.started > patience_s:
                    raise RuntimeError(f"the id index did not load within {patience_s} s")
                time.sleep(0.1)
        return time.perf_counter() - self.started

    def stop(self) -> None:
        """SIGTERM, and wait for the shutdown checkpoint however long it takes."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait()

    def __enter__(self) -> "Service":
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def peak_rss_kib(self) -> int:
        """The high-water marks of resident memory (VmHWM) of the server and of the processes
        it started (its decoding workers), summed: at most what they held at once, since the
        workers are forked and share pages."""
        workers = psutil.Process(self.process.pid).children(recursive=True)
        return sum(_peak_rss_kib(pid) for pid in (self.process.pid, *(w.pid for w in workers)))


def _peak_rss_kib(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return 0
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(found[1]) if found else 0


def export_events(db: Path, parquet: Path) -> int:
    """Every stored event (after the service's dedupe) as a neutral table for the baselines,
    in time order, as they were appended. The one place that reads usagelens's own schema."""
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(
            f"""COPY (
                SELECT t.name AS tenant, e.event_id AS id, e.type, e.time, e.subject,
                       e.organization_id, e.agent_id, e.conversation_type, e.direction,
                       e.channel, e.seconds, e.segments, e.requests,
                       e.minutes::DECIMAL(18, 6) AS minutes,
                       e.gb_hours::DECIMAL(18, 6) AS gb_hours, e.kb_id, e.phone_number,
                       e.brand_id, e.ticket_id, e.url
                FROM events e JOIN tenants t USING (tenant_id)
                ORDER BY e.time
            ) TO '{parquet}' (FORMAT parquet)"""
        )
        found = con.execute(f"SELECT count(*) FROM read_parquet('{parquet}')").fetchone()
    return int(found[0]) if found else 0


def fresh(work: Path) -> Path:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    return work
