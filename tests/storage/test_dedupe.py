"""Dedupe stays exact where its shortcuts could mislead it: ids whose 64-bit hashes collide,
retries spread over distant times (looked up at their own times), ids repeated in one commit."""

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from tests.rollup_reference import make_events
from tests.storage.test_duckdb_backend import stored_ids, table_of
from usagelens.storage.base import AppendResult
from usagelens.storage.duckdb.backend import DuckDBBackend
from usagelens.storage.duckdb.events import repeated


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DuckDBBackend]:
    backend = DuckDBBackend(tmp_path / "x.duckdb")
    yield backend
    backend.close()


def with_hash(table: pa.Table, value: int) -> pa.Table:
    """The batch with every id given the same hash, as if they all collided."""
    position = table.schema.get_field_index("id_hash")
    hashes = pa.array([value] * table.num_rows, type=pa.uint64())
    return table.set_column(position, "id_hash", hashes)


def test_colliding_hashes_never_drop_a_new_event(store: DuckDBBackend) -> None:
    tenant = store.create_tenant("t", "UTC", 2, None).tenant_id
    events = make_events(seed=11, prefix="c", count=30)
    # Ten different ids with one hash in one commit, then twenty more with that hash later:
    # the index says "maybe" for each, and only the ids themselves decide.
    assert store.append_events([with_hash(table_of(tenant, events[:10]), 42)]) == [
        AppendResult(10, 0)
    ]
    later = with_hash(table_of(tenant, events), 42)
    assert store.append_events([later]) == [AppendResult(20, 10)]
    assert stored_ids(store, tenant) == sorted(event["id"] for event in events)


def test_repeats_in_one_commit_count_once_even_when_hashes_collide(store: DuckDBBackend) -> None:
    tenant = store.create_tenant("t", "UTC", 2, None).tenant_id
    events = make_events(seed=12, prefix="r", count=6)
    batch = with_hash(table_of(tenant, [*events, *events[:3]]), 7)
    second = with_hash(table_of(tenant, [*events[3:], *events[:1]]), 7)
    assert store.append_events([batch, second]) == [AppendResult(6, 3), AppendResult(0, 4)]
    assert stored_ids(store, tenant) == sorted(event["id"] for event in events)


def test_one_tenants_ids_are_not_stored_for_another_in_the_same_commit(
    store: DuckDBBackend,
) -> None:
    """Both tenants' candidates are confirmed in one query: an id stored for one tenant is new
    for the other, even when every hash collides and both send it in the same commit."""
    first = store.create_tenant("first", "UTC", 2, None).tenant_id
    second = store.create_tenant("second", "UTC", 2, None).tenant_id
    events = make_events(seed=15, prefix="s", count=8)
    shared, own, fresh = events[:3], events[3:4], events[4:]
    assert store.append_events(
        [with_hash(table_of(first, shared), 42), with_hash(table_of(second, own), 42)]
    ) == [AppendResult(3, 0), AppendResult(1, 0)]
    results = store.append_events(
        [
            with_hash(table_of(first, [*shared[:2], *fresh[:2]]), 42),
            with_hash(table_of(second, [*shared[:2], *own, *fresh[2:]]), 42),
        ]
    )
    assert results == [AppendResult(2, 2), AppendResult(4, 1)]
    assert stored_ids(store, first) == sorted(e["id"] for e in [*shared, *fresh[:2]])
    assert stored_ids(store, second) == sorted(e["id"] for e in [*shared[:2], *own, *fresh[2:]])


def test_retries_far_apart_in_time_are_all_found(store: DuckDBBackend) -> None:
    tenant = store.create_tenant("t", "UTC", 2, None).tenant_id
    rng = random.Random(13)
    start = datetime(2024, 1, 1)
    events = make_events(seed=13, prefix="f", count=600)
    for event in events:  # a year of events, one every few hours or days
        start += timedelta(minutes=rng.randrange(1, 3000))
        event["time"] = start.isoformat() + "Z"
    for at in range(0, len(events), 100):
        store.append_events([table_of(tenant, events[at : at + 100])])
    # Retries of old and recent events mixed with new ones, spread over the year: every retry
    # is still recognised, every new event kept.
    retried = rng.sample(events, 60)
    fresh = make_events(seed=14, prefix="n", count=40)
    results = store.append_events([table_of(tenant, [*retried, *fresh])])
    assert results == [AppendResult(40, 60)]
    assert len(stored_ids(store, tenant)) == 640


def test_repeated_marks_every_occurrence_of_a_repeated_value() -> None:
    values = np.array([5, 3, 5, 9, 3, 1, 5], dtype=np.uint64)
    assert repeated(values).tolist() == [True, True, True, False, True, False, True]
    assert repeated(np.array([], dtype=np.uint64)).tolist() == []
