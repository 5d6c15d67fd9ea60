"""The MAU page's active users over compacted and new rows: each user's turns and the
organization they sent the most bot messages in (ties: the smallest id), against plain Python
over the events. The new rows touch half the users; some send their new messages where they
led, others move their lead elsewhere."""

from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.rollup_reference import Event
from tests.storage.test_mau_trend import TZ, events_of, stored
from usagelens.mau.queries import MauMonthQuery
from usagelens.storage.duckdb.backend import DuckDBBackend

MONTHS = (date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1), date(2024, 4, 1))


def month_of(event: Event) -> date:
    local = datetime.fromisoformat(event["time"]).astimezone(ZoneInfo(TZ))
    return date(local.year, local.month, 1)


def messages_by_organization(events: list[Event], month: date) -> dict[str, dict[str, int]]:
    """Each user's bot messages of the month, per organization."""
    sent: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for event in events:
        if event["type"] == "bot_message" and month_of(event) == month:
            sent[event["subject"]][event["data"]["organization_id"]] += 1
    return sent


def expected_users(events: list[Event], month: date, minimum: int) -> dict[str, tuple[str, int]]:
    """Each active user of the month: (the organization of most messages, their messages)."""
    users = {}
    for user, sent in messages_by_organization(events, month).items():
        total = sum(sent.values())
        if total >= minimum:
            most = max(sent.values())
            users[user] = (min(o for o, n in sent.items() if n == most), total)
    return users


def page_users(
    store: DuckDBBackend, tenant: int, month: date, minimum: int
) -> dict[str, tuple[str, int]]:
    start = datetime(month.year, month.month, 1, tzinfo=ZoneInfo(TZ))
    end = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=ZoneInfo(TZ))
    query = MauMonthQuery(
        tenant_id=tenant,
        month=month,
        first_month=MONTHS[0],
        utc_start=start.astimezone(UTC).replace(tzinfo=None),
        utc_end=end.astimezone(UTC).replace(tzinfo=None),
        min_messages=minimum,
        offset=0,
        limit=100,
    )
    found = store.mau_month(query)
    assert len(found.users) < 100  # the whole month on one page
    return {user.user_id: (user.organization_id, user.turns) for user in found.users}


def test_the_page_counts_each_user_in_their_organization_over_compacted_and_new_rows(
    tmp_path: Path,
) -> None:
    compacted = events_of(5, "c", 900)
    leads = {month: expected_users(compacted, month, 1) for month in MONTHS}
    # New rows of half the users only: the others have compacted rows alone. Of those half,
    # u10 to u19 send their new messages where they already lead.
    new = []
    for event in events_of(6, "n", 600):
        number = int(event["subject"][1:])
        lead = leads[month_of(event)].get(event["subject"])
        if 10 <= number < 20 and lead is not None:
            event["data"]["organization_id"] = lead[0]
        if number < 20:
            new.append(event)
    store, tenant = stored(tmp_path / "mau.duckdb", compacted, new)
    try:
        fresh = {row[0] for row in store._rows("SELECT user_id FROM rollup_user_months_new")}
        assert fresh == {f"u{n}" for n in range(20)}

        every = [*compacted, *new]
        kept = moved = ties = 0
        for month in MONTHS:
            before, after = leads[month], expected_users(every, month, 1)
            for user, sent in messages_by_organization(new, month).items():
                led = before.get(user, ("",))[0]
                if set(sent) == {led}:
                    kept += 1
                elif led != after[user][0]:
                    moved += 1  # the new rows change the organization that leads
            # And ties among the users with compacted rows alone.
            ties += sum(
                list(sent.values()).count(max(sent.values())) > 1
                for user, sent in messages_by_organization(every, month).items()
                if user not in fresh
            )
            for minimum in (1, 3, 6):
                expected = expected_users(every, month, minimum)
                assert page_users(store, tenant, month, minimum) == expected, (month, minimum)
        assert kept
        assert moved
        assert ties
    finally:
        store.close()
