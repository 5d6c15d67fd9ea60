"""Ids written as canonical ULIDs or UUIDs are kept as two integers, every other id as text: each
reads back exactly as it was sent, through the events view, and is stored once, forever, also
after the file is reopened and when the hashes of different ids collide."""

import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
from xxhash import xxh3_64_intdigest

from tests.rollup_reference import Event, make_events
from tests.storage.test_duckdb_backend import append, opened, stored_ids, table_of
from usagelens.storage.base import AppendResult
from usagelens.storage.duckdb.migrations import migrate
from usagelens.storage.event_ids import id_columns, mix

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LOW_64 = (1 << 64) - 1


def ulid_text(value: int) -> str:
    """A 128-bit value as the ULID specification writes it: 26 of Crockford's base-32 digits."""
    digits = []
    for _ in range(26):
        digits.append(CROCKFORD[value % 32])
        value //= 32
    return "".join(reversed(digits))


def uuid_text(value: int) -> str:
    return str(uuid.UUID(int=value))


RNG = random.Random(5)
PACKED = [
    "01ARZ3NDEKTSV4RRFFQ69G5FAV",  # the ULID specification's example
    "00000000000000000000000000",
    "7ZZZZZZZZZZZZZZZZZZZZZZZZZ",  # the largest ULID
    *(ulid_text(RNG.getrandbits(126)) for _ in range(40)),
    "00000000-0000-0000-0000-000000000000",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
    *(uuid_text(RNG.getrandbits(128)) for _ in range(40)),
    str(uuid.uuid4()),
]
AS_TEXT = [
    "01arz3ndektsv4rrffq69g5fav",  # a ULID in lower case: kept as sent
    "81ARZ3NDEKTSV4RRFFQ69G5FAV",  # over 128 bits
    "01ARZ3NDEKTSV4RRFFQ69G5FAU",  # U is no Crockford digit
    "01ARZ3NDEKTSV4RRFFQ69G5FA",
    "01ARZ3NDEKTSV4RRFFQ69G5FAVV",
    "6BA7B810-9DAD-11D1-80B4-00C04FD430C8",  # a UUID in upper case
    "6ba7b8109dad11d180b400c04fd430c8",
    "{6ba7b810-9dad-11d1-80b4-00c04fd430c8}",
    "6ba7b810-9dad-11d1-80b4-00c04fd430c8 ",
    "evt-42",
    "é",
    "01ARZ3NDEKTSV4RRFFQ69G5FÀ",  # 26 bytes, not 26 digits
]


def hashes(ids: list[str]) -> list[int]:
    """The hashes storage gives the ids (their events' times do not change them)."""
    times = pa.array([datetime(2024, 1, 2)] * len(ids), pa.timestamp("us"))
    return [int(value) for value in id_columns(pa.array(ids), times)[0].to_pylist()]


def with_ids(ids: list[str], seed: int) -> list[Event]:
    events = make_events(seed=seed, prefix="x", count=len(ids))
    return [{**event, "id": event_id} for event, event_id in zip(events, ids, strict=True)]


def with_ulids_of_their_time(events: list[Event], rng: random.Random) -> list[Event]:
    """Ids made when their event happened, as ULID generators make them: the event's
    milliseconds, then 80 random bits."""
    made = []
    for event in events:
        moment = datetime.fromisoformat(event["time"]).astimezone(UTC)
        ms = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // (moment.resolution * 1000)
        made.append({**event, "id": ulid_text((ms << 80) | rng.getrandbits(80))})
    return made


def packed_in_file(path: Path) -> int:
    with duckdb.connect(str(path)) as con:
        rows = con.execute("SELECT count(*) FROM event_rows WHERE id_text IS NULL").fetchall()
    return int(rows[0][0])


def test_every_id_reads_back_exactly_and_is_stored_once(tmp_path: Path) -> None:
    path = tmp_path / "ids.duckdb"
    rng = random.Random(6)
    events = [
        *with_ids(PACKED + AS_TEXT, seed=1),
        *with_ulids_of_their_time(make_events(seed=2, prefix="t", count=50), rng),
    ]
    rng.shuffle(events)
    sent = sorted(event["id"] for event in events)
    with opened(path) as backend:
        tenant = backend.create_tenant("t", "UTC", 2, None).tenant_id
        assert append(backend, tenant, events) == AppendResult(len(events), 0)
        assert stored_ids(backend, tenant) == sent
        assert packed_in_file(path) == len(events) - len(AS_TEXT)
        assert append(backend, tenant, events[::-1]) == AppendResult(0, len(events))
    with opened(path) as backend:  # the id index is loaded again, from the stored hashes
        assert append(backend, tenant, events) == AppendResult(0, len(events))
        assert stored_ids(backend, tenant) == sent


def test_packed_ids_whose_hashes_collide_are_told_apart(tmp_path: Path) -> None:
    """Two ids with one hash (built so: the low half of the second cancels its mix), and one
    128-bit value written both as a ULID and as a UUID."""
    rng = random.Random(7)
    ids = []
    for _ in range(20):
        pair = colliding_ulids(2, rng)
        assert pair[0] != pair[1]
        assert hashes(pair)[0] == hashes(pair)[1]
        ids += pair
    value = rng.getrandbits(126)
    ids += [ulid_text(value), uuid_text(value)]
    events = with_ids(ids, seed=3)
    with opened(tmp_path / "collide.duckdb") as backend:
        tenant = backend.create_tenant("t", "UTC", 2, None).tenant_id
        assert append(backend, tenant, events[::2]) == AppendResult(len(ids) // 2, 0)
        assert append(backend, tenant, events) == AppendResult(len(ids) // 2, len(ids) // 2)
        assert stored_ids(backend, tenant) == sorted(ids)


def test_a_packed_id_sent_again_at_another_time_is_a_duplicate(tmp_path: Path) -> None:
    """A packed id keeps its high half relative to its event's time: sent again with another
    time, it is found by the look-up over every stored event, also after a restart."""
    events = with_ids(PACKED, seed=4)

    def moved(by: timedelta) -> list[Event]:
        return [
            {**event, "time": (datetime.fromisoformat(event["time"]) + by).isoformat()}
            for event in events
        ]

    path = tmp_path / "moved.duckdb"
    with opened(path) as backend:
        tenant = backend.create_tenant("t", "UTC", 2, None).tenant_id
        assert append(backend, tenant, events) == AppendResult(len(events), 0)
        assert append(backend, tenant, moved(timedelta(days=-700))) == AppendResult(0, len(events))
    with opened(path) as backend:
        assert append(backend, tenant, moved(timedelta(minutes=3))) == AppendResult(0, len(events))
        assert stored_ids(backend, tenant) == sorted(PACKED)


def colliding_ulids(count: int, rng: random.Random) -> list[str]:
    """ULIDs that all have one hash: the low half of each cancels the mix of its high half."""
    highs = [rng.getrandbits(62) for _ in range(count)]
    mixed = mix(np.array(highs, dtype=np.uint64)).tolist()
    low = rng.getrandbits(64)
    return [
        ulid_text((high << 64) | (low ^ mixed[0] ^ m)) for high, m in zip(highs, mixed, strict=True)
    ]


def test_a_retry_far_from_its_time_is_found_among_colliding_ids(tmp_path: Path) -> None:
    """A commit holds a new id whose hash two stored ids share, and a retry sent with a time a
    month after its own: only ids the commit holds may count as found near its times, or the
    retry would not be looked for in full, and would be stored twice."""
    first, second, new = colliding_ulids(3, random.Random(9))
    [template, retried] = make_events(seed=10, prefix="f", count=2)
    same_time = [{**template, "id": event_id} for event_id in (first, second, new)]
    moved = {
        **retried,
        "time": (datetime.fromisoformat(retried["time"]) + timedelta(days=30)).isoformat(),
    }
    with opened(tmp_path / "far.duckdb") as backend:
        tenant = backend.create_tenant("t", "UTC", 2, None).tenant_id
        assert append(backend, tenant, [*same_time[:2], retried]) == AppendResult(3, 0)
        assert append(backend, tenant, [same_time[2], moved]) == AppendResult(1, 1)
        assert stored_ids(backend, tenant) == sorted([first, second, new, retried["id"]])


def test_ids_that_count_up_hash_apart() -> None:
    """Ids with a counter in their low half, or in their milliseconds, keep distinct hashes:
    their hashes are not just their low halves, which would all collide in the id index."""
    base = 1_700_000_000_000 << 16
    counters = [ulid_text((base << 64) | number) for number in range(50_000)]
    millis_up = [ulid_text((base + (number << 16)) << 64) for number in range(50_000)]
    grid = [ulid_text((high << 64) | low) for high in range(300) for low in range(300)]
    for ids in (counters, millis_up, grid):
        assert len(set(hashes(ids))) == len(ids)


def test_a_version_11_file_keeps_its_ids_and_their_dedupe(tmp_path: Path) -> None:
    """The events of a file from before version 12 are rewritten with packed ids: each reads
    back as it was, and none is stored again when sent again."""
    path = tmp_path / "eleven.duckdb"
    rng = random.Random(8)
    events = [
        *with_ids(PACKED + AS_TEXT, seed=4),
        *with_ulids_of_their_time(make_events(seed=5, prefix="t", count=50), rng),
    ]
    with duckdb.connect(str(path)) as con:
        assert migrate(con, target=11)[-1] == 11
        con.execute("DELETE FROM pending_rebuilds")
        con.execute("INSERT INTO tenants VALUES (1, 'old', 'UTC', 2, NULL, now()::TIMESTAMP)")
        for event in events:
            moment = datetime.fromisoformat(event["time"]).astimezone(UTC).replace(tzinfo=None)
            con.execute(
                "INSERT INTO events (tenant_id, id_hash, event_id, type, time, organization_id) "
                "VALUES (1, ?, ?, ?, ?, ?)",
                [
                    xxh3_64_intdigest(event["id"].encode()),
                    event["id"],
                    event["type"],
                    moment,
                    event["data"]["organization_id"],
                ],
            )
    with opened(path) as backend:
        assert stored_ids(backend, 1) == sorted(event["id"] for event in events)
        assert packed_in_file(path) == len(events) - len(AS_TEXT)
        assert backend.append_events([table_of(1, events)]) == [AppendResult(0, len(events))]
        fresh = with_ids([ulid_text(rng.getrandbits(126)), "evt-new"], seed=6)
        assert append(backend, 1, [*fresh, *events[:3]]) == AppendResult(2, 3)
