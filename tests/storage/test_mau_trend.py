"""The MAU trend over compacted and new rows: active users per month counted from the users'
totals as of the last compaction, corrected for the users the new rows touch, against the
counts computed in plain Python from the events."""

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.rollup_reference import Event
from tests.storage.test_duckdb_backend import append
from usagelens.storage.duckdb.backend import DuckDBBackend

TZ = "America/New_York"
THRESHOLDS = (1, 2, 3, 5, 8)
FIRST, LAST = date(2024, 1, 1), date(2024, 4, 1)


class CompactingAtEveryCommit(DuckDBBackend):
    compact_at_rows = 1


def events_of(seed: int, prefix: str, count: int) -> list[Event]:
    """Bot messages and tickets of 40 users in 3 organizations from January to April 2024,
    some at the months' edges in New York."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, 5, tzinfo=UTC)  # midnight in New York
    events: list[Event] = []
    for number in range(count):
        moment = start + timedelta(seconds=rng.randrange(121 * 86400))
        if rng.random() < 0.1:  # within a minute of a month's start in New York
            month = date(2024, rng.randrange(2, 5), 1)
            edge = datetime(month.year, month.month, 1, tzinfo=ZoneInfo(TZ))
            moment = edge + timedelta(seconds=rng.randrange(-60, 60))
        kind = "ticket" if rng.random() < 0.15 else "bot_message"
        data: dict[str, str] = {"organization_id": rng.choice(("org-a", "org-b", "org-c"))}
        if kind == "ticket":
            data["ticket_id"] = f"T-{number}"
        events.append(
            {
                "id": f"{prefix}-{number}",
                "type": kind,
                "time": moment.isoformat(),
                "subject": f"u{rng.randrange(40)}",
                "data": data,
            }
        )
    return events


def messages_per_user_month(events: list[Event]) -> dict[tuple[date, str], int]:
    zone = ZoneInfo(TZ)
    totals: dict[tuple[date, str], int] = defaultdict(int)
    for event in events:
        if event["type"] == "bot_message":
            local = datetime.fromisoformat(event["time"]).astimezone(zone)
            totals[(date(local.year, local.month, 1), event["subject"])] += 1
    return totals


def expected_trend(events: list[Event], minimum: int) -> dict[date, int]:
    counts: dict[date, int] = defaultdict(int)
    for (month, _user), messages in messages_per_user_month(events).items():
        if messages >= minimum:
            counts[month] += 1
    return dict(counts)


def stored(path: Path, compacted: list[Event], new: list[Event]) -> tuple[DuckDBBackend, int]:
    """A store of tenant "acme" whose rollups hold ``compacted`` in their runs and ``new`` in
    their new rows."""
    store = CompactingAtEveryCommit(path)
    tenant = store.create_tenant("acme", TZ, 2, None).tenant_id
    for start in range(0, len(compacted), 150):
        append(store, tenant, compacted[start : start + 150])
    store.compact_at_rows = 10**9
    for start in range(0, len(new), 100):
        append(store, tenant, new[start : start + 100])
    return store, tenant


def test_the_trend_counts_compacted_and_new_rows_alike(tmp_path: Path) -> None:
    compacted = events_of(3, "c", 600)
    new = events_of(4, "n", 300)
    store, tenant = stored(tmp_path / "mau.duckdb", compacted, new)
    try:
        assert store._rows("SELECT count(*) FROM user_month_totals")[0][0] > 0
        assert store._rows("SELECT count(*) FROM rollup_user_months_new")[0][0] > 0

        # The new rows must move users across thresholds, or the correction goes untested.
        before = messages_per_user_month(compacted)
        after = messages_per_user_month([*compacted, *new])
        crossing = {
            minimum
            for key, messages in after.items()
            for minimum in THRESHOLDS
            if before.get(key, 0) < minimum <= messages
        }
        assert crossing == set(THRESHOLDS)

        for minimum in THRESHOLDS:
            trend = store.mau_trend(tenant, FIRST, LAST, minimum)
            assert trend == expected_trend([*compacted, *new], minimum), minimum
        # A range that starts inside the data holds only its own months.
        february = store.mau_trend(tenant, date(2024, 2, 1), date(2024, 3, 1), 5)
        expected = expected_trend([*compacted, *new], 5)
        assert february == {m: expected[m] for m in (date(2024, 2, 1), date(2024, 3, 1))}
    finally:
        store.close()
