"""Rollups compacted into sorted runs: the sums read through each rollup's view never change, and
a compaction leaves one row per key in key order and no new rows behind: at a commit, at the
open of a file, and after a rebuild."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from tests.rollup_reference import (
    Event,
    distinct,
    expected_rollups,
    make_events,
    stored_rollups,
    usage_block_faults,
    usage_key_faults,
    user_month_total_faults,
)
from usagelens.ingest.rows import build_batch
from usagelens.ingest.schemas import decode_event
from usagelens.storage.duckdb.backend import DuckDBBackend
from usagelens.storage.duckdb.compaction import ROLLUPS

TZ = "America/New_York"


class CompactingEarly(DuckDBBackend):
    compact_at_rows = 100


@contextmanager
def opened(path: Path, kind: type[DuckDBBackend] = DuckDBBackend) -> Iterator[DuckDBBackend]:
    store = kind(path)
    try:
        yield store
    finally:
        store.close()


def batch(tenant_id: int, events: list[Event]) -> pa.Table:
    validated = [decode_event(event) for event in events]
    return build_batch(validated, lambda _event: tenant_id, datetime.now(UTC), timedelta(0))


def rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def count(path: Path, table: str) -> int:
    return int(rows(path, f"SELECT count(*) FROM {table}")[0][0])


def runs_keys(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Each rollup's runs table's keys in storage order."""
    return {
        rollup.name: rows(path, f"SELECT {', '.join(rollup.keys)} FROM {rollup.runs}")
        for rollup in ROLLUPS
    }


def test_compactions_at_commits_keep_every_sum(tmp_path: Path) -> None:
    path = tmp_path / "u.duckdb"
    events = make_events(7, "e", 4000)
    chunks = [events[start : start + 250] for start in range(0, len(events), 250)]
    with opened(path, CompactingEarly) as store:
        first = store.create_tenant("first", TZ, 2, None).tenant_id
        second = store.create_tenant("second", "Asia/Kathmandu", 2, None).tenant_id
        for chunk in chunks:
            store.append_events([batch(first, chunk), batch(second, chunk[:100])])
    for rollup in ROLLUPS:
        assert count(path, rollup.runs) > 0
        assert count(path, rollup.new) < CompactingEarly.compact_at_rows
    with duckdb.connect(str(path), read_only=True) as con:
        assert usage_key_faults(con) == []
        assert usage_block_faults(con) == []
        assert user_month_total_faults(con) == []
        assert count(path, "user_month_totals") > 0
        assert count(path, "rollup_usage_blocks") > 0  # the blocks' check is not of nothing
        assert stored_rollups(con, first) == expected_rollups(distinct(events).values(), TZ)
        theirs = [event for chunk in chunks for event in chunk[:100]]
        assert stored_rollups(con, second) == expected_rollups(
            distinct(theirs).values(), "Asia/Kathmandu"
        )


def test_the_open_compacts_what_is_due_into_one_ordered_run(tmp_path: Path) -> None:
    path = tmp_path / "u.duckdb"
    events = make_events(11, "e", 3000)
    with opened(path) as store:  # the default threshold: every row stays new
        tenant = store.create_tenant("t", TZ, 2, None).tenant_id
        for start in range(0, len(events), 100):
            store.append_events([batch(tenant, events[start : start + 100])])
    for rollup in ROLLUPS:
        assert count(path, rollup.runs) == 0
        assert count(path, rollup.new) >= CompactingEarly.compact_at_rows
    with opened(path, CompactingEarly):
        pass
    for name, keys in runs_keys(path).items():
        assert count(path, f"{name}_new") == 0
        assert keys == sorted(set(keys))  # strictly increasing: one row per key, in order
    with duckdb.connect(str(path), read_only=True) as con:
        assert user_month_total_faults(con) == []
        assert usage_block_faults(con) == []
        assert stored_rollups(con, tenant) == expected_rollups(distinct(events).values(), TZ)
    assert count(path, "rollup_usage_blocks") > 0


def test_a_rebuild_leaves_one_ordered_run(tmp_path: Path) -> None:
    path = tmp_path / "u.duckdb"
    events = make_events(13, "e", 2000)
    with opened(path) as store:
        tenant = store.create_tenant("t", TZ, 2, None).tenant_id
        for start in range(0, len(events), 100):
            store.append_events([batch(tenant, events[start : start + 100])])
        store.rebuild_rollups()
    for name, keys in runs_keys(path).items():
        assert count(path, f"{name}_new") == 0
        assert keys
        assert keys == sorted(set(keys))
    assert count(path, "rollup_usage_blocks") > 0
    with duckdb.connect(str(path), read_only=True) as con:
        assert usage_block_faults(con) == []
        assert user_month_total_faults(con) == []
        assert stored_rollups(con, tenant) == expected_rollups(distinct(events).values(), TZ)


def test_usage_keys_hold_across_a_rebuild_and_a_reopen(tmp_path: Path) -> None:
    """A rebuild gives every pair a key again, and the writer that made it, or a later one,
    keys the rows of later commits with those: every per-day row's key names its pair."""
    path = tmp_path / "u.duckdb"
    events = make_events(19, "e", 600)
    with opened(path) as store:
        tenant = store.create_tenant("t", TZ, 2, None).tenant_id
        store.append_events([batch(tenant, events[:300])])
        store.rebuild_rollups()
        store.append_events([batch(tenant, events[300:450])])
    with opened(path) as store:
        store.append_events([batch(tenant, events[450:])])
    with duckdb.connect(str(path), read_only=True) as con:
        assert usage_key_faults(con) == []
        assert usage_block_faults(con) == []
        assert count(path, "usage_keys") > 0
        assert stored_rollups(con, tenant) == expected_rollups(distinct(events).values(), TZ)
