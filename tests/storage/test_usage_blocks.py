"""Blocks of 8, 16 and 32 days of the per-day usage rollup: which blocks and days read a range,
and the sums of random ranges, with and without rate card versions, read through built blocks,
late rows added to them and new rows, against a brute-force reference from the events."""

import random
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.rollup_reference import (
    Event,
    distinct,
    expected_rollups,
    make_events,
    usage_block_faults,
)
from tests.storage.test_duckdb_backend import append
from usagelens.analytics.queries import QUANTITIES
from usagelens.storage.duckdb.backend import DuckDBBackend
from usagelens.storage.duckdb.blocks import Cover, cover

TZ = "America/New_York"
FIRST = datetime(2024, 1, 1, 5, tzinfo=UTC)  # midnight in New York
DAYS = 70
EVERYWHERE = dict.fromkeys((8, 16, 32), date(2100, 1, 1))  # every block built


def test_a_range_reads_the_largest_blocks_inside_it() -> None:
    # 2026-10-21 is day 20,747 since 1970-01-01: days to 10-26 (20,752, a multiple of 16 but
    # not 32), a 16-day block to 11-11 (20,768, a multiple of 32), no 32 or 16 that fits
    # before 11-20, an 8-day block to 11-19, then its last day.
    assert cover(date(2026, 10, 21), date(2026, 11, 20), EVERYWHERE) == Cover(
        blocks=[(16, date(2026, 10, 26)), (8, date(2026, 11, 11))],
        days=[(date(2026, 10, 21), date(2026, 10, 26)), (date(2026, 11, 19), date(2026, 11, 20))],
    )


def test_blocks_not_built_yet_are_read_as_days() -> None:
    built = {8: date(2026, 11, 11), 16: date(2026, 11, 11), 32: date(2026, 10, 1)}
    assert cover(date(2026, 10, 21), date(2026, 11, 20), built) == Cover(
        blocks=[(16, date(2026, 10, 26))],
        days=[(date(2026, 10, 21), date(2026, 10, 26)), (date(2026, 11, 11), date(2026, 11, 20))],
    )
    assert cover(date(2026, 10, 21), date(2026, 11, 20), {}) == Cover(
        days=[(date(2026, 10, 21), date(2026, 11, 20))]
    )


def test_no_block_spans_the_start_of_a_version() -> None:
    # Cut at 10-30: 10-26 starts no block that ends by then; from 10-30 (day 20,756), days to
    # 11-03 (20,760, a multiple of 8 only), then 8-day blocks to 11-19.
    assert cover(date(2026, 10, 21), date(2026, 11, 20), EVERYWHERE, [date(2026, 10, 30)]) == (
        Cover(
            blocks=[(8, date(2026, 11, 3)), (8, date(2026, 11, 11))],
            days=[
                (date(2026, 10, 21), date(2026, 11, 3)),
                (date(2026, 11, 19), date(2026, 11, 20)),
            ],
        )
    )


def _spread(events: list[Event], rng: random.Random, days: int) -> list[Event]:
    for event in events:
        event["time"] = (FIRST + timedelta(seconds=rng.randrange(days * 86400))).isoformat()
    return sorted(events, key=lambda event: event["time"])


@pytest.fixture(scope="module")
def stored() -> Iterator[tuple[DuckDBBackend, int, list[Event]]]:
    """Ten weeks of events in time order, a compaction at every commit (which builds the blocks
    the latest day closes), then late events of the first weeks (added to built blocks), then
    events left as new rows; a second tenant with the same ids and keys."""
    rng = random.Random(3)
    events = _spread(make_events(5, "e", 4000), rng, DAYS)
    late = _spread(make_events(6, "late", 600), rng, 40)
    uncompacted = _spread(make_events(8, "new", 400), rng, DAYS)
    with tempfile.TemporaryDirectory() as folder:
        store = DuckDBBackend(Path(folder) / "blocks.duckdb")
        tenant = store.create_tenant("acme", TZ, 2, None).tenant_id
        other = store.create_tenant("other", TZ, 2, None).tenant_id
        store.compact_at_rows = 1
        for start in range(0, len(events), 500):
            append(store, tenant, events[start : start + 500])
            append(store, other, events[start : start + 100])
        append(store, tenant, late)
        store.compact_at_rows = 10**9
        append(store, tenant, uncompacted)
        yield store, tenant, [*events, *late, *uncompacted]
        store.close()


def test_the_blocks_hold_the_sums_of_their_days(
    stored: tuple[DuckDBBackend, int, list[Event]],
) -> None:
    store, _, _ = stored
    with duckdb.connect(str(store.path)) as con:
        assert usage_block_faults(con) == []
        spans = con.execute("SELECT DISTINCT span FROM rollup_usage_blocks ORDER BY 1").fetchall()
    assert spans == [(8,), (16,), (32,)]


def _reference(
    events: list[Event], first: date, end: date, cut: date | None
) -> dict[tuple[str, str, int], dict[str, int | Decimal]]:
    """Each (organization, user, version)'s nonzero sums over ``[first, end)``, version 1 from
    ``cut`` on, summed from the events' per-day usage."""
    found: dict[tuple[str, str, int], dict[str, int | Decimal]] = {}
    for (day, organization_id, user_id), measures in expected_rollups(events, TZ)["usage"].items():
        if first <= day < end:
            version = int(cut is not None and day >= cut)
            into = found.setdefault((organization_id, user_id, version), {})
            for name, value in measures.items():
                into[name] = into.get(name, 0) + value
    kept = {
        key: {name: value for name, value in sums.items() if value and name in QUANTITIES}
        for key, sums in found.items()
    }
    return {key: sums for key, sums in kept.items() if sums}


def test_random_ranges_sum_as_the_events_do(
    stored: tuple[DuckDBBackend, int, list[Event]],
) -> None:
    store, tenant, events = stored
    unique = list(distinct(events).values())
    rng = random.Random(11)
    start = FIRST.date()
    read = 0
    for _ in range(40):
        first = start + timedelta(days=rng.randrange(-3, DAYS))
        end = first + timedelta(days=rng.randrange(1, 60))
        cut = first + timedelta(days=rng.randrange(0, 40)) if rng.random() < 0.5 else None
        versions = [date(1970, 1, 1)] if cut is None else [date(1970, 1, 1), cut]
        summed = store.usage_sums(tenant, versions, first, end)
        got = {
            (row.organization_id, row.user_id, row.version): {
                name: getattr(row, name) for name in QUANTITIES if getattr(row, name)
            }
            for row in summed
        }
        got = {key: sums for key, sums in got.items() if sums}
        assert got == _reference(unique, first, end, cut), (first, end, cut)
        read += len(got)
    assert read > 100  # the ranges are not empty


def _requests(day: date, count: int, name: str) -> Event:
    moment = datetime(day.year, day.month, day.day, 17, tzinfo=UTC)  # noon in New York
    return {
        "id": name,
        "type": "api_request",
        "time": moment.isoformat(),
        "subject": "u1",
        "data": {"organization_id": "org-a", "count": count},
    }


def _built(store: DuckDBBackend) -> dict[int, date]:
    return {
        span: until
        for span, until in store._rows("SELECT span, built_until FROM usage_blocks_built")
    }


def test_usage_that_reaches_a_later_block_builds_the_blocks_before_it(tmp_path: Path) -> None:
    """Far below the rows that make a compaction due: 2024-01-01 is day 19,723, in the 8-day
    block from 2023-12-29 (19,720); 2024-01-06 (19,728) starts the next, 2024-01-14 the one
    after."""
    store = DuckDBBackend(tmp_path / "crossing.duckdb")
    store.compact_after_crossing_s = 0  # not a minute after the last compaction: at once
    try:
        tenant = store.create_tenant("t", TZ, 2, None).tenant_id
        days = [date(2024, 1, 1) + timedelta(days=n) for n in range(5)]
        append(store, tenant, [_requests(day, 1, f"a{n}") for n, day in enumerate(days)])
        assert _built(store) == {}
        append(store, tenant, [_requests(date(2024, 1, 6), 10, "b")])
        # 19,728 is a multiple of 16 too; the first 32-day block (from 19,712) is not over.
        assert _built(store) == {8: date(2024, 1, 6), 16: date(2024, 1, 6)}
        append(store, tenant, [_requests(date(2024, 1, 10), 100, "c")])  # the same block
        assert store._rows("SELECT count(*) FROM rollup_usage_days_new")[0][0] == 1
        late = _requests(date(2024, 1, 2), 1000, "late")
        append(store, tenant, [late, _requests(date(2024, 1, 14), 10000, "d")])
        assert _built(store) == {8: date(2024, 1, 14), 16: date(2024, 1, 6)}
        with duckdb.connect(str(store.path)) as con:
            assert usage_block_faults(con) == []
        # The block from 2023-12-29 with the late event; then 01-06 to 01-13.
        assert store._rows(
            "SELECT day, sum(api_requests) FROM rollup_usage_blocks WHERE span = 8 "
            "GROUP BY day ORDER BY day"
        ) == [(date(2023, 12, 29), 1005), (date(2024, 1, 6), 110)]
        [summed] = store.usage_sums(
            tenant, [date(1970, 1, 1)], date(2023, 12, 29), date(2024, 1, 15)
        )
        assert summed.api_requests == 11115
        # Within a minute of that compaction, usage of a later block (2024-01-22, day 19,744)
        # waits for the rows that make one due.
        store.compact_after_crossing_s = 60.0
        append(store, tenant, [_requests(date(2024, 1, 22), 1, "e")])
        assert store._rows("SELECT count(*) FROM rollup_usage_days_new")[0][0] == 1
        assert _built(store) == {8: date(2024, 1, 14), 16: date(2024, 1, 6)}
    finally:
        store.close()
