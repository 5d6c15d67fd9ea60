"""The benchmark's dataset (issue 5 §1): a year of an operator's usage events, streamed to NDJSON.

    python -m bench.dataset --size 1M|10M|100M [--seed 1] [--data bench/data] [--gzip]

Deterministic from the seed and the size. Eight tenants in Zipf-like proportions (the largest,
in Europe/Berlin, holds 60%; others in New York, Kolkata, Los Angeles, Sydney, UTC, Sao Paulo
and Kathmandu), each with account trees of organizations, users and agents in Zipf-like
proportions; local daily and weekly cycles, holidays, growth and bursts (``bench.traffic``);
every event type; about 1% re-sent duplicates (same id, same bytes: most within minutes, some
weeks later) and 0.3% late events (minutes to days behind their neighbours). Every event names
its tenant (``tenant``), as an operator's firehose does.

Memory stays flat whatever the size: the year is drawn in chunks of a few hours (about 100,000
events each), encoded and written before the next; only delayed lines wait in a heap.

Writes ``<data>/<size>-seed<seed>/``: ``part-NNNNN.ndjson[.gz]`` (10M lines each), the directory to
PUT (``directory.ndjson``: organizations parents first, users, agents) and, last,
``manifest.json`` (counts, what the query mix asks about, generation speed): a folder with a
manifest is complete and is reused as it is.
"""

import argparse
import gzip
import heapq
import json
import queue
import resource
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from bench.encoding import Encoder, Event, paused_gc
from bench.traffic import (
    KINDS,
    STORAGE_REPORT_MS,
    ChunkMaker,
    Columns,
    daily,
    month_firsts,
    rates,
)
from bench.world import (
    END,
    END_MS,
    HOURS,
    MS_PER_HOUR,
    START,
    START_MS,
    IntArray,
    World,
    build_world,
)

DUPLICATE_SHARE = 0.01
LATE_SHARE = 0.003
PART_LINES = 10_000_000
CHUNK_EVENTS = 100_000  # events drawn, encoded and written at a time
MS_PER_MINUTE = 60 * 1000
MS_PER_DAY = 24 * MS_PER_HOUR


def parse_size(text: str) -> int:
    """``1M``, ``10M``, ``100M`` or any count such as ``200k`` or ``50000``."""
    units = {"k": 1_000, "K": 1_000, "M": 1_000_000}
    if text[-1:] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def folder_of(data: Path, size: str, seed: int) -> Path:
    return data / f"{size}-seed{seed}"


@dataclass
class Dataset:
    """A generated dataset on disk, described by its manifest."""

    folder: Path
    manifest: dict[str, Any]

    @property
    def parts(self) -> list[Path]:
        return [self.folder / part["file"] for part in self.manifest["parts"]]

    def directory(self) -> Iterator[dict[str, Any]]:
        with (self.folder / "directory.ndjson").open("rb") as lines:
            for line in lines:
                yield msgspec.json.decode(line)


def load(folder: Path) -> Dataset | None:
    manifest = folder / "manifest.json"
    if not manifest.exists():
        return None
    return Dataset(folder, json.loads(manifest.read_text()))


def ensure(data: Path, size: str, seed: int, compress: bool) -> Dataset:
    """The dataset of that size and seed, generated unless already on disk."""
    folder = folder_of(data, size, seed)
    found = load(folder)
    if found is not None:
        return found
    return generate(folder, parse_size(size), seed, compress)


# --------------------------------------------------------------------------------------------
# Arrival order: duplicates and late events
# --------------------------------------------------------------------------------------------


@dataclass
class Arrivals:
    """Events in the order they reach the operator: a chunk's own, and those of earlier chunks
    delayed until now, by arrival time."""

    waiting: list[tuple[int, int, Event]] = field(default_factory=list)  # arrival, serial, event
    serial: int = 0  # breaks ties in the heap in the order events were delayed

    def due(self, events: list[Event], arrival: IntArray, end_ms: int) -> list[Event]:
        """The events arriving before ``end_ms``, in arrival order; the others wait."""
        earlier: list[Event] = []
        earlier_arrival: list[int] = []
        while self.waiting and self.waiting[0][0] < end_ms:
            moment, _, event = heapq.heappop(self.waiting)
            earlier.append(event)
            earlier_arrival.append(moment)
        events = events + earlier
        arrival = np.concatenate([arrival, np.array(earlier_arrival, dtype=np.int64)])
        for i in np.flatnonzero(arrival >= end_ms).tolist():
            heapq.heappush(self.waiting, (int(arrival[i]), self.serial, events[i]))
            self.serial += 1
        now = np.flatnonzero(arrival < end_ms)
        order = now[np.argsort(arrival[now], kind="stable")]
        return [events[i] for i in order.tolist()]

    def rest(self) -> list[Event]:
        return [event for _, _, event in sorted(self.waiting)]


def arrival_times(
    rng: np.random.Generator, time_ms: IntArray
) -> tuple[IntArray, IntArray, IntArray]:
    """When each event arrives (late ones minutes to days after their time), which events are
    sent again and when the copies arrive: (arrival, re-sent indices, their copies' arrival)."""
    n = len(time_ms)
    arrival = time_ms.copy()
    late = rng.random(n) < LATE_SHARE
    delay = np.clip(rng.lognormal(np.log(180 * MS_PER_MINUTE), 1.3, n), 5 * MS_PER_MINUTE, None)
    arrival[late] += np.minimum(delay[late], 10 * MS_PER_DAY).astype(np.int64)
    resent = np.flatnonzero(rng.random(n) < DUPLICATE_SHARE)
    # Most are retries after a timeout; some are a replay of an old batch weeks later.
    retry = np.where(
        rng.random(len(resent)) < 0.85,
        rng.integers(1_000, 15 * MS_PER_MINUTE, len(resent)),
        rng.integers(MS_PER_DAY, 20 * MS_PER_DAY, len(resent)),
    )
    return arrival, resent, arrival[resent] + retry


# --------------------------------------------------------------------------------------------
# Part files
# --------------------------------------------------------------------------------------------


class PartWriter:
    """Events as JSON lines in part files of ``part_lines`` lines each: encoded here (msgspec
    holds the GIL), written and gzipped by a thread (zlib and file writes release it)."""

    def __init__(self, folder: Path, part_lines: int, compress: bool) -> None:
        self.folder = folder
        self.part_lines = part_lines
        self.compress = compress
        self.encoder = msgspec.json.Encoder()
        self.parts: list[dict[str, Any]] = []
        self.in_part = part_lines
        # Path: start that part; bytes: lines to append; None: done. Bounded: memory stays flat.
        self.queue: queue.Queue[Path | bytes | None] = queue.Queue(maxsize=4)
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def write(self, events: list[Event]) -> None:
        start = 0
        while start < len(events):
            if self.in_part == self.part_lines:
                name = f"part-{len(self.parts):05d}.ndjson" + (".gz" if self.compress else "")
                self.parts.append({"file": name, "lines": 0})
                self.queue.put(self.folder / name)
                self.in_part = 0
            taken = events[start : start + self.part_lines - self.in_part]
            start += len(taken)
            self.queue.put(self.encoder.encode_lines(taken))
            self.in_part += len(taken)
            self.parts[-1]["lines"] += len(taken)

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()

    def _drain(self) -> None:
        item = self.queue.get()
        while isinstance(item, Path):
            with gzip.open(item, "wb", 1) if self.compress else item.open("wb") as handle:
                item = self.queue.get()
                while isinstance(item, bytes):
                    handle.write(item)
                    item = self.queue.get()


# --------------------------------------------------------------------------------------------
# The whole dataset
# --------------------------------------------------------------------------------------------


def billing_events(world: World) -> int:
    """Events of the scheduled streams (known from the world, not drawn): daily storage,
    monthly rentals and knowledge bases, purchases, new knowledge bases, brand registrations."""
    monthly = sum(
        int((owned.since_ms < first).sum())
        for owned in (world.numbers, world.kbs)
        for first in month_firsts(START_MS, END_MS)
    )
    new = sum(
        int((owned.since_ms >= START_MS).sum())
        for owned in (world.numbers, world.kbs, world.brands)
    )
    storage = len(world.storage_orgs) * len(daily(START_MS, END_MS, STORAGE_REPORT_MS))
    return storage + monthly + new


def hours_per_chunk(events: int) -> int:
    """The longest whole divisor of a day holding about CHUNK_EVENTS events at most."""
    per_hour = events / HOURS
    fitting = [h for h in (1, 2, 3, 4, 6, 8, 12, 24) if h * per_hour <= CHUNK_EVENTS]
    return max(fitting, default=1)


@dataclass
class Tally:
    by_tenant: IntArray
    by_kind: IntArray
    duplicates: int = 0
    late: int = 0

    def add(self, columns: Columns, resent: int, late: int) -> None:
        self.by_tenant += np.bincount(columns.tenant, minlength=len(self.by_tenant))
        self.by_kind += np.bincount(columns.kind, minlength=len(self.by_kind))
        self.duplicates += resent
        self.late += late


def generate(folder: Path, events: int, seed: int, compress: bool) -> Dataset:
    began = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").unlink(missing_ok=True)
    unique = round(events / (1 + DUPLICATE_SHARE))
    world = build_world(seed, unique)
    scheduled = billing_events(world)
    maker = ChunkMaker(world, rates(world, seed, unique - scheduled), seed)
    encoder = Encoder(world)
    arrivals = Arrivals()
    writer = PartWriter(folder, PART_LINES, compress)
    tally = Tally(np.zeros(len(world.tenants), np.int64), np.zeros(len(KINDS), np.int64))
    step = hours_per_chunk(events)
    try:
        with paused_gc():
            for chunk, first_hour in enumerate(range(0, HOURS, step)):
                columns = maker.make(chunk, first_hour, step)
                rng = np.random.default_rng([seed, 3, chunk])
                batch, rows = encoder.events(columns, rng)
                arrival, resent, resent_arrival = arrival_times(rng, columns.time_ms)
                position = np.empty(len(rows), dtype=np.int64)
                position[rows] = np.arange(len(rows))  # of each row's event in the batch
                batch += [batch[i] for i in position[resent].tolist()]  # the very same content
                end_ms = START_MS + (first_hour + step) * MS_PER_HOUR
                arrivals_now = np.concatenate([arrival[rows], resent_arrival])
                writer.write(arrivals.due(batch, arrivals_now, end_ms))
                tally.add(columns, len(resent), int((arrival != columns.time_ms).sum()))
                if chunk % 50 == 0:
                    print(f"\r{first_hour / HOURS:6.1%}", end="", flush=True)
            writer.write(arrivals.rest())
    finally:
        writer.close()
    write_directory(folder / "directory.ndjson", world)
    seconds = time.perf_counter() - began
    used = resource.getrusage(resource.RUSAGE_SELF)
    manifest = {
        "size_events": events,
        "seed": seed,
        "start": START.isoformat(),
        "end": END.isoformat(),
        "lines": sum(part["lines"] for part in writer.parts),
        "unique_events": int(tally.by_tenant.sum()),
        "duplicates": tally.duplicates,
        "late": tally.late,
        "tenants": [
            {
                "name": profile.name,
                "tz": profile.tz,
                "mau_min_messages": profile.mau_min_messages,
                "events": int(tally.by_tenant[t]),
                "organizations": int((world.orgs.tenant == t).sum()),
                "users": int((world.orgs.tenant[world.users.org] == t).sum()),
                "agents": int((world.orgs.tenant[world.agents.org] == t).sum()),
            }
            for t, profile in enumerate(world.tenants)
        ],
        "kinds": {kind: int(tally.by_kind[k]) for k, kind in enumerate(KINDS)},
        "focus": focus(world),
        "parts": writer.parts,
        "generation": {
            "seconds": round(seconds, 1),
            "events_per_s": round(sum(part["lines"] for part in writer.parts) / seconds),
            # On a shared machine the wall clock says little: the CPU time is the cost.
            "cpu_seconds": round(used.ru_utime + used.ru_stime, 1),
            "peak_rss_mib": round(used.ru_maxrss / 1024),
            "hours_per_chunk": step,
            "compressed": compress,
        },
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print()
    return Dataset(folder, manifest)


def focus(world: World) -> dict[str, str]:
    """What the query mix asks about: the largest tenant, its largest account (the top-level
    organization whose tree carries the most activity) and its organization with most users."""
    tenant = int(np.argmax([profile.share for profile in world.tenants]))
    mine = np.flatnonzero(world.orgs.tenant == tenant)
    root = mine.copy()
    while (world.orgs.parent[root] >= 0).any():
        root = np.where(world.orgs.parent[root] >= 0, world.orgs.parent[root], root)
    tree_weight = np.bincount(root, world.orgs.weight[mine], len(world.orgs.ids))
    users = np.bincount(world.users.org, minlength=len(world.orgs.ids))
    return {
        "tenant": world.tenants[tenant].name,
        "account": world.orgs.ids[int(np.argmax(tree_weight))],
        "organization": world.orgs.ids[int(mine[np.argmax(users[mine])])],
    }


def write_directory(path: Path, world: World) -> None:
    """Organizations (every parent before its children), then users, then agents."""
    tenants = [profile.name for profile in world.tenants]
    orgs = world.orgs

    def entry(kind: str, org: int, entity_id: str, name: str, **more: str | None) -> bytes:
        fields = {"tenant": tenants[int(orgs.tenant[org])], "kind": kind, "id": entity_id}
        return msgspec.json.encode(fields | {"name": name, **more}) + b"\n"

    with path.open("wb") as out:
        for o, org_id in enumerate(orgs.ids):
            parent = int(orgs.parent[o])
            parent_id = orgs.ids[parent] if parent >= 0 else None
            out.write(entry("organization", o, org_id, orgs.names[o], parent_id=parent_id))
        users, agents = world.users, world.agents
        for u, org in enumerate(users.org.tolist()):
            more = {"email": users.emails[u], "organization_id": orgs.ids[org]}
            out.write(entry("user", org, users.ids[u], users.names[u], **more))
        for a, org in enumerate(agents.org.tolist()):
            more = {"organization_id": orgs.ids[org]}
            out.write(entry("agent", org, agents.ids[a], agents.names[a], **more))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--size", default="1M", help="1M, 10M, 100M (or any count: 200k)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=Path, default=Path("bench/data"))
    parser.add_argument("--gzip", action="store_true", help="gzip the parts (level 1)")
    args = parser.parse_args()
    folder = folder_of(args.data, args.size, args.seed)
    dataset = generate(folder, parse_size(args.size), args.seed, args.gzip)
    print(json.dumps({k: v for k, v in dataset.manifest.items() if k != "parts"}, indent=2))


if __name__ == "__main__":
    main()
