"""GET /v1/accounts/{account_id}/analytics/usage (seed 002) against the real server.

Hand-made events with expected answers worked out by hand (or with ``zoneinfo`` here, never with
usagelens code): DST days of 23 and 25 hours, the repeated fall-back hour as two buckets, half-hour
and 45-minute zones, Lord Howe's 30-minute shift, month buckets, ranges that start and end inside a
bucket and inside a 15-minute slot, ``limit``, idle buckets, the subaccount mapping, the forms of
``group_by``, every error, tenant isolation, and the official ``itellicoai`` client.

The ``grid`` tenant has one conversation at every 15-minute UTC instant of two long spans, with
``seconds`` 1, 2, 3, 4 for the quarters :00, :15, :30, :45: any whole hour holds 4 conversations
and 10 seconds, whatever the zone's offset, so every expected figure below is countable by hand.
"""

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import itellicoai
import pytest

from tests.service import Service, Tenant

Event = dict[str, Any]
Pair = tuple[str, str | int | float | bool | None]  # one query parameter, as httpx takes it
Params = dict[str, Any] | list[Pair]
Row = tuple[str, int, int]  # (ts, conversations, seconds) of a bucket without group_by

QUARTER = timedelta(minutes=15)
GRID_SPANS = [
    (datetime(2024, 2, 28, tzinfo=UTC), datetime(2024, 5, 2, tzinfo=UTC)),
    (datetime(2024, 9, 29, tzinfo=UTC), datetime(2024, 11, 10, tzinfo=UTC)),
]
NEW_YORK = "America/New_York"
LONDON = "Europe/London"
KOLKATA = "Asia/Kolkata"
KATHMANDU = "Asia/Kathmandu"
LORD_HOWE = "Australia/Lord_Howe"
ST_JOHNS = "America/St_Johns"
IDLE = {"seconds": 0, "conversations": 0, "dimensions": {}}


def path(account: str) -> str:
    return f"/v1/accounts/{account}/analytics/usage"


def conversation(
    event_id: str,
    when: datetime | str,
    org: str,
    agent: str = "agent-1",
    kind: str = "inbound",
    seconds: int = 60,
) -> Event:
    return {
        "specversion": "1.0",
        "id": event_id,
        "type": "conversation",
        "source": "tests/usage",
        "time": when if isinstance(when, str) else when.isoformat(),
        "data": {
            "organization_id": org,
            "agent_id": agent,
            "conversation_type": kind,
            "seconds": seconds,
        },
    }


def ingest(tenant: Tenant, events: list[Event]) -> None:
    for first in range(0, len(events), 5000):
        batch = events[first : first + 5000]
        response = tenant.ingest(batch)
        assert response.status_code == 200, response.text
        assert response.json() == {"accepted": len(batch), "duplicates": 0}


def put_org(tenant: Tenant, org: str, parent: str | None) -> None:
    response = tenant.client.put(
        f"/v1/organizations/{org}", json={"name": org, "parent_id": parent}
    )
    assert response.status_code in (200, 201), response.text


def get(client: httpx.Client, account: str, params: Params) -> httpx.Response:
    return client.get(path(account), params=params)


def usage(client: httpx.Client, account: str, params: Params) -> Any:
    response = get(client, account, params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"meta", "data"}
    return body


def rows(body: Any) -> list[Row]:
    """Each bucket's single value of an answer without group_by."""
    found = []
    for bucket in body["data"]:
        assert set(bucket) == {"ts", "values"}
        assert len(bucket["values"]) == 1, bucket
        value = bucket["values"][0]
        assert set(value) == {"seconds", "conversations", "dimensions"}
        assert value["dimensions"] == {}
        assert type(value["seconds"]) is int
        assert type(value["conversations"]) is int
        found.append((bucket["ts"], value["conversations"], value["seconds"]))
    return found


def grouped(body: Any) -> list[tuple[str, list[Any]]]:
    """Each bucket's values, in a fixed order (the page promises no order within a bucket)."""
    return [
        (
            bucket["ts"],
            sorted(bucket["values"], key=lambda v: json.dumps(v["dimensions"], sort_keys=True)),
        )
        for bucket in body["data"]
    ]


def value(conversations: int, seconds: int, **dimensions: str) -> dict[str, Any]:
    return {"seconds": seconds, "conversations": conversations, "dimensions": dimensions}


def local_iso(text: str, tz: str) -> str:
    """``text`` (read in ``tz`` when it has no offset) as the page renders an instant in ``tz``."""
    zone = ZoneInfo(tz)
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    rendered = moment.astimezone(zone).isoformat()
    return rendered.replace("+00:00", "Z") if tz == "UTC" else rendered


# --------------------------------------------------------------------------- the grid tenant


def grid_events() -> list[Event]:
    events = []
    for first, last in GRID_SPANS:
        moment = first
        while moment < last:
            seconds = moment.minute // 15 + 1
            events.append(conversation(f"q-{moment:%Y%m%dT%H%M}", moment, "acme", seconds=seconds))
            moment += QUARTER
    return events


@pytest.fixture(scope="module")
def grid(service: Service) -> Tenant:
    tenant = service.new_tenant()
    put_org(tenant, "acme", None)
    ingest(tenant, grid_events())
    return tenant


HOUR_CASES = [
    pytest.param(
        NEW_YORK,
        "2024-03-10T00:00:00",
        "2024-03-10T05:00:00",
        [
            ("2024-03-10T00:00:00-05:00", 4, 10),
            ("2024-03-10T01:00:00-05:00", 4, 10),
            ("2024-03-10T03:00:00-04:00", 4, 10),
            ("2024-03-10T04:00:00-04:00", 4, 10),
        ],
        id="new-york-spring-forward",
    ),
    pytest.param(
        NEW_YORK,
        "2024-11-03T00:00:00-04:00",
        "2024-11-03T03:00:00-05:00",
        [
            ("2024-11-03T00:00:00-04:00", 4, 10),
            ("2024-11-03T01:00:00-04:00", 4, 10),
            ("2024-11-03T01:00:00-05:00", 4, 10),
            ("2024-11-03T02:00:00-05:00", 4, 10),
        ],
        id="new-york-fall-back",
    ),
    pytest.param(
        # 05:20Z to 06:40Z: each 01:00 hour keeps only its own events inside the range.
        NEW_YORK,
        "2024-11-03T01:20:00-04:00",
        "2024-11-03T01:40:00-05:00",
        [("2024-11-03T01:00:00-04:00", 2, 3 + 4), ("2024-11-03T01:00:00-05:00", 3, 1 + 2 + 3)],
        id="new-york-inside-both-01h",
    ),
    pytest.param(
        LONDON,
        "2024-03-31T00:00:00",
        "2024-03-31T03:00:00",
        [("2024-03-31T00:00:00+00:00", 4, 10), ("2024-03-31T02:00:00+01:00", 4, 10)],
        id="london-spring-forward",
    ),
    pytest.param(
        LONDON,
        "2024-10-27T00:00:00+01:00",
        "2024-10-27T02:00:00+00:00",
        [
            ("2024-10-27T00:00:00+01:00", 4, 10),
            ("2024-10-27T01:00:00+01:00", 4, 10),
            ("2024-10-27T01:00:00+00:00", 4, 10),
        ],
        id="london-fall-back",
    ),
    pytest.param(
        # 02:00+11:00 becomes 01:30+10:30 at 15:00Z: the 01:30+10:30 bucket is 30 minutes.
        LORD_HOWE,
        "2024-04-07T00:00:00+11:00",
        "2024-04-07T03:00:00+10:30",
        [
            ("2024-04-07T00:00:00+11:00", 4, 10),
            ("2024-04-07T01:00:00+11:00", 4, 10),
            ("2024-04-07T01:30:00+10:30", 2, 1 + 2),
            ("2024-04-07T02:00:00+10:30", 4, 10),
        ],
        id="lord-howe-fall-back",
    ),
    pytest.param(
        # 02:00+10:30 becomes 02:30+11:00 at 15:30Z: hour 2 is the 30 minutes from 02:30.
        LORD_HOWE,
        "2024-10-06T01:00:00",
        "2024-10-06T04:00:00",
        [
            ("2024-10-06T01:00:00+10:30", 4, 10),
            ("2024-10-06T02:30:00+11:00", 2, 3 + 4),
            ("2024-10-06T03:00:00+11:00", 4, 10),
        ],
        id="lord-howe-spring-forward",
    ),
    pytest.param(
        KOLKATA,
        "2024-03-15T10:00:00",
        "2024-03-15T12:00:00",
        [("2024-03-15T10:00:00+05:30", 4, 10), ("2024-03-15T11:00:00+05:30", 4, 10)],
        id="kolkata",
    ),
    pytest.param(
        # 04:37Z to 06:22Z.
        KOLKATA,
        "2024-03-15T10:07:00",
        "2024-03-15T11:52:00",
        [("2024-03-15T10:00:00+05:30", 3, 4 + 1 + 2), ("2024-03-15T11:00:00+05:30", 4, 10)],
        id="kolkata-mid-quarter",
    ),
    pytest.param(
        KATHMANDU,
        "2024-03-15T10:00:00",
        "2024-03-15T12:00:00",
        [("2024-03-15T10:00:00+05:45", 4, 10), ("2024-03-15T11:00:00+05:45", 4, 10)],
        id="kathmandu",
    ),
    pytest.param(
        # 04:22Z to 06:07Z: the 04:15Z event is before the start, the 06:00Z one inside.
        KATHMANDU,
        "2024-03-15T10:07:00",
        "2024-03-15T11:52:00",
        [("2024-03-15T10:00:00+05:45", 3, 3 + 4 + 1), ("2024-03-15T11:00:00+05:45", 4, 10)],
        id="kathmandu-mid-quarter",
    ),
    pytest.param(
        "UTC",
        "2024-03-15T10:00:00Z",
        "2024-03-15T12:00:00Z",
        [("2024-03-15T10:00:00Z", 4, 10), ("2024-03-15T11:00:00Z", 4, 10)],
        id="utc",
    ),
    pytest.param(
        # 02:00-02:30 NDT becomes 01:00-03:30 NST at 04:30Z: two 01:00 buckets.
        ST_JOHNS,
        "2024-11-03T00:00:00-02:30",
        "2024-11-03T02:00:00-03:30",
        [
            ("2024-11-03T00:00:00-02:30", 4, 10),
            ("2024-11-03T01:00:00-02:30", 4, 10),
            ("2024-11-03T01:00:00-03:30", 4, 10),
        ],
        id="st-johns-fall-back",
    ),
]


@pytest.mark.parametrize(("tz", "start", "end", "expected"), HOUR_CASES)
def test_hour_buckets(grid: Tenant, tz: str, start: str, end: str, expected: list[Row]) -> None:
    body = usage(grid.client, "acme", {"granularity": "hour", "tz": tz, "start": start, "end": end})
    assert body["meta"] == {
        "account_id": "acme",
        "start": local_iso(start, tz),
        "end": local_iso(end, tz),
        "granularity": "hour",
        "group_by": [],
        "tz": tz,
    }
    assert rows(body) == expected


DAY_CASES = [
    pytest.param(
        NEW_YORK,
        "2024-03-09",
        ["2024-03-09T00:00:00-05:00", "2024-03-10T00:00:00-05:00", "2024-03-11T00:00:00-04:00"],
        (92, 230),
        id="new-york-23h",
    ),
    pytest.param(
        NEW_YORK,
        "2024-11-02",
        ["2024-11-02T00:00:00-04:00", "2024-11-03T00:00:00-04:00", "2024-11-04T00:00:00-05:00"],
        (100, 250),
        id="new-york-25h",
    ),
    pytest.param(
        LONDON,
        "2024-03-30",
        ["2024-03-30T00:00:00+00:00", "2024-03-31T00:00:00+00:00", "2024-04-01T00:00:00+01:00"],
        (92, 230),
        id="london-23h",
    ),
    pytest.param(
        LONDON,
        "2024-10-26",
        ["2024-10-26T00:00:00+01:00", "2024-10-27T00:00:00+01:00", "2024-10-28T00:00:00+00:00"],
        (100, 250),
        id="london-25h",
    ),
    pytest.param(
        LORD_HOWE,
        "2024-04-06",
        ["2024-04-06T00:00:00+11:00", "2024-04-07T00:00:00+11:00", "2024-04-08T00:00:00+10:30"],
        (98, 240 + 1 + 2),
        id="lord-howe-24h30",
    ),
    pytest.param(
        LORD_HOWE,
        "2024-10-05",
        ["2024-10-05T00:00:00+10:30", "2024-10-06T00:00:00+10:30", "2024-10-07T00:00:00+11:00"],
        (94, 230 + 3 + 4),
        id="lord-howe-23h30",
    ),
    pytest.param(
        ST_JOHNS,
        "2024-11-02",
        ["2024-11-02T00:00:00-02:30", "2024-11-03T00:00:00-02:30", "2024-11-04T00:00:00-03:30"],
        (100, 250),
        id="st-johns-25h",
    ),
    pytest.param(
        KOLKATA,
        "2024-03-14",
        ["2024-03-14T00:00:00+05:30", "2024-03-15T00:00:00+05:30", "2024-03-16T00:00:00+05:30"],
        (96, 240),
        id="kolkata",
    ),
    pytest.param(
        KATHMANDU,
        "2024-03-14",
        ["2024-03-14T00:00:00+05:45", "2024-03-15T00:00:00+05:45", "2024-03-16T00:00:00+05:45"],
        (96, 240),
        id="kathmandu",
    ),
    pytest.param(
        "UTC",
        "2024-03-14",
        ["2024-03-14T00:00:00Z", "2024-03-15T00:00:00Z", "2024-03-16T00:00:00Z"],
        (96, 240),
        id="utc",
    ),
]


@pytest.mark.parametrize(("tz", "first_day", "stamps", "middle"), DAY_CASES)
def test_day_buckets(
    grid: Tenant, tz: str, first_day: str, stamps: list[str], middle: tuple[int, int]
) -> None:
    """Three local days, the middle one a DST day (23, 23.5, 24.5 or 25 hours) or a plain one."""
    day = datetime.fromisoformat(first_day)
    start = f"{first_day}T00:00:00"
    end = f"{(day + timedelta(days=3)).date()}T00:00:00"
    params = {"granularity": "day", "tz": tz, "start": start, "end": end}
    body = usage(grid.client, "acme", params)
    assert rows(body) == [
        (stamps[0], 96, 240),
        (stamps[1], *middle),
        (stamps[2], 96, 240),
    ]
    assert body["meta"]["start"] == stamps[0]


@pytest.mark.parametrize(
    ("tz", "day", "hours"),
    [
        (NEW_YORK, "2024-03-10", 23),
        (NEW_YORK, "2024-11-03", 25),
        (LONDON, "2024-03-31", 23),
        (LONDON, "2024-10-27", 25),
        (ST_JOHNS, "2024-11-03", 25),
        (KATHMANDU, "2024-03-15", 24),
    ],
)
def test_every_hour_of_a_dst_day(grid: Tenant, tz: str, day: str, hours: int) -> None:
    """A whole local day in hours: 23 or 25 buckets, each one real hour of 4 events."""
    zone = ZoneInfo(tz)
    first = datetime.fromisoformat(day).replace(tzinfo=zone)
    following = (first + timedelta(days=1)).replace(tzinfo=zone)
    begin, finish = first.astimezone(UTC), following.astimezone(UTC)
    assert finish - begin == timedelta(hours=hours)
    expected = [
        ((begin + timedelta(hours=h)).astimezone(zone).isoformat(), 4, 10) for h in range(hours)
    ]
    params = {
        "granularity": "hour",
        "tz": tz,
        "start": first.isoformat(),
        "end": f"{following:%Y-%m-%dT%H:%M:%S}",
    }
    assert rows(usage(grid.client, "acme", params)) == expected
    # Without group_by, with a whole day of events per bucket: the day bucket holds them all.
    params["granularity"] = "day"
    assert rows(usage(grid.client, "acme", params)) == [(first.isoformat(), 4 * hours, 10 * hours)]


MONTH_CASES = [
    pytest.param(
        "UTC",
        "2024-03-01T00:00:00Z",
        "2024-04-01T00:00:00Z",
        [("2024-03-01T00:00:00Z", 2976, 7440)],
        id="utc",
    ),
    pytest.param(
        NEW_YORK,
        "2024-03-01T00:00:00",
        "2024-05-01T00:00:00",
        [("2024-03-01T00:00:00-05:00", 2972, 7430), ("2024-04-01T00:00:00-04:00", 2880, 7200)],
        id="new-york-743h-march",
    ),
    pytest.param(
        # 2024-03-10 06:30Z to 2024-04-02 16:07Z: 525.5 hours in March, 36 hours 7 minutes in April.
        NEW_YORK,
        "2024-03-10T01:30:00",
        "2024-04-02T12:07:00",
        [("2024-03-01T00:00:00-05:00", 2102, 5257), ("2024-04-01T00:00:00-04:00", 145, 361)],
        id="new-york-mid-month",
    ),
    pytest.param(
        LONDON,
        "2024-10-01T00:00:00",
        "2024-11-02T00:00:00",
        [("2024-10-01T00:00:00+01:00", 2980, 7450), ("2024-11-01T00:00:00+00:00", 96, 240)],
        id="london-745h-october",
    ),
    pytest.param(
        KOLKATA,
        "2024-03-01T00:00:00",
        "2024-04-01T00:00:00",
        [("2024-03-01T00:00:00+05:30", 2976, 7440)],
        id="kolkata",
    ),
    pytest.param(
        KATHMANDU,
        "2024-03-01T00:00:00",
        "2024-04-01T00:00:00",
        [("2024-03-01T00:00:00+05:45", 2976, 7440)],
        id="kathmandu",
    ),
    pytest.param(
        LORD_HOWE,
        "2024-04-01T00:00:00",
        "2024-05-01T00:00:00",
        [("2024-04-01T00:00:00+11:00", 2882, 7203)],
        id="lord-howe-april-30d30m",
    ),
    pytest.param(
        LORD_HOWE,
        "2024-10-01T00:00:00",
        "2024-11-01T00:00:00",
        [("2024-10-01T00:00:00+10:30", 2974, 7437)],
        id="lord-howe-october-31d-30m",
    ),
]


@pytest.mark.parametrize(("tz", "start", "end", "expected"), MONTH_CASES)
def test_month_buckets(grid: Tenant, tz: str, start: str, end: str, expected: list[Row]) -> None:
    body = usage(
        grid.client, "acme", {"granularity": "month", "tz": tz, "start": start, "end": end}
    )
    assert rows(body) == expected
    assert body["meta"]["start"] == local_iso(start, tz)
    assert body["meta"]["end"] == local_iso(end, tz)


def test_limit_keeps_the_first_buckets(grid: Tenant) -> None:
    zone = ZoneInfo(NEW_YORK)
    begin = datetime(2024, 11, 3, 4, tzinfo=UTC)
    stamps = [(begin + timedelta(hours=h)).astimezone(zone).isoformat() for h in range(25)]
    params: dict[str, Any] = {
        "granularity": "hour",
        "tz": NEW_YORK,
        "start": "2024-11-03T00:00:00",
        "end": "2024-11-04T00:00:00",
    }
    for limit, count in [(1, 1), (3, 3), (24, 24), (25, 25), (26, 25), (500, 25)]:
        body = usage(grid.client, "acme", {**params, "limit": limit})
        assert rows(body) == [(ts, 4, 10) for ts in stamps[:count]], limit
    body = usage(grid.client, "acme", {**params, "granularity": "day", "limit": 1})
    assert rows(body) == [("2024-11-03T00:00:00-04:00", 100, 250)]
    # The range in meta stays the one asked for, however many buckets are cut.
    assert body["meta"]["end"] == "2024-11-04T00:00:00-05:00"


def test_default_limit_is_500_buckets(grid: Tenant) -> None:
    params = {"granularity": "hour", "start": "2024-03-01T00:00:00Z", "end": "2024-04-01T00:00:00Z"}
    found = rows(usage(grid.client, "acme", params))
    first = datetime(2024, 3, 1, tzinfo=UTC)
    assert found == [
        (f"{first + timedelta(hours=h):%Y-%m-%dT%H:%M:%S}Z", 4, 10) for h in range(500)
    ]


def test_idle_buckets(grid: Tenant) -> None:
    params = {"granularity": "day", "start": "2024-09-27T00:00:00Z", "end": "2024-10-01T00:00:00Z"}
    body = usage(grid.client, "acme", params)
    assert rows(body) == [
        ("2024-09-27T00:00:00Z", 0, 0),
        ("2024-09-28T00:00:00Z", 0, 0),
        ("2024-09-29T00:00:00Z", 96, 240),
        ("2024-09-30T00:00:00Z", 96, 240),
    ]
    assert body["data"][0]["values"] == [IDLE]
    grouped_body = usage(grid.client, "acme", {**params, "group_by": "agent"})
    assert grouped(grouped_body) == [
        ("2024-09-27T00:00:00Z", []),
        ("2024-09-28T00:00:00Z", []),
        ("2024-09-29T00:00:00Z", [value(96, 240, agent="agent-1")]),
        ("2024-09-30T00:00:00Z", [value(96, 240, agent="agent-1")]),
    ]
    nothing = usage(
        grid.client,
        "acme",
        {
            "granularity": "hour",
            "tz": KATHMANDU,
            "start": "2024-06-01T00:00:00",
            "end": "2024-06-01T02:00:00",
        },
    )
    assert nothing["data"] == [
        {"ts": "2024-06-01T00:00:00+05:45", "values": [IDLE]},
        {"ts": "2024-06-01T01:00:00+05:45", "values": [IDLE]},
    ]


def test_meta_renders_the_range_in_the_zone(grid: Tenant) -> None:
    body = usage(
        grid.client,
        "acme",
        {"tz": NEW_YORK, "start": "2024-03-10T12:00:00Z", "end": "2024-03-11T02:30:00+05:30"},
    )
    assert body["meta"] == {
        "account_id": "acme",
        "start": "2024-03-10T08:00:00-04:00",
        "end": "2024-03-10T17:00:00-04:00",
        "granularity": "day",
        "group_by": [],
        "tz": NEW_YORK,
    }
    # 12:00Z to 21:00Z of 2024-03-10: 9 hours in the day bucket that began at 05:00Z.
    assert rows(body) == [("2024-03-10T00:00:00-05:00", 36, 90)]
    # A `+` of an offset sent unescaped arrives as a space; it still means `+`.
    raw = grid.client.get(
        path("acme") + "?start=2024-03-10T17:30:00+05:30&end=2024-03-10T18:30:00+05:30"
    )
    assert raw.status_code == 200, raw.text
    assert raw.json()["meta"]["start"] == "2024-03-10T12:00:00Z"
    assert rows(raw.json()) == [("2024-03-10T00:00:00Z", 4, 10)]


# --------------------------------------------------------------------- edges inside slots


def test_range_inside_buckets_and_quarters(service: Service) -> None:
    """10:07 to 11:52 UTC: only the events inside count, to the microsecond, in every zone."""
    tenant = service.new_tenant()
    times = {
        "2024-05-20T09:59:59Z": False,
        "2024-05-20T10:06:59.999999Z": False,
        "2024-05-20T10:07:00Z": True,
        "2024-05-20T10:14:59Z": True,
        "2024-05-20T10:15:00Z": True,
        "2024-05-20T10:59:59.999999Z": True,
        "2024-05-20T11:00:00Z": True,
        "2024-05-20T11:51:59.999999Z": True,
        "2024-05-20T11:52:00Z": False,
        "2024-05-20T11:59:59Z": False,
        "2024-05-20T12:00:00Z": False,
    }
    # Seconds are distinct powers of two: a sum names exactly the events counted.
    seconds = {when: 2**index for index, when in enumerate(times)}
    ingest(
        tenant,
        [
            conversation(f"e{n}", when, "edge", seconds=seconds[when])
            for n, when in enumerate(times)
        ],
    )

    def total(*stamps: str) -> int:
        assert all(times[stamp] for stamp in stamps)
        return sum(seconds[stamp] for stamp in stamps)

    t = "2024-05-20T"
    start, end = f"{t}10:07:00Z", f"{t}11:52:00Z"
    utc = usage(tenant.client, "edge", {"granularity": "hour", "start": start, "end": end})
    assert rows(utc) == [
        (
            f"{t}10:00:00Z",
            4,
            total(f"{t}10:07:00Z", f"{t}10:14:59Z", f"{t}10:15:00Z", f"{t}10:59:59.999999Z"),
        ),
        (f"{t}11:00:00Z", 2, total(f"{t}11:00:00Z", f"{t}11:51:59.999999Z")),
    ]
    # In Kathmandu the hours begin at :15 UTC: 10:07Z is 15:52+05:45.
    kathmandu = usage(
        tenant.client,
        "edge",
        {"granularity": "hour", "tz": KATHMANDU, "start": "2024-05-20T15:52:00", "end": end},
    )
    assert rows(kathmandu) == [
        ("2024-05-20T15:00:00+05:45", 2, total(f"{t}10:07:00Z", f"{t}10:14:59Z")),
        (
            "2024-05-20T16:00:00+05:45",
            3,
            total(f"{t}10:15:00Z", f"{t}10:59:59.999999Z", f"{t}11:00:00Z"),
        ),
        ("2024-05-20T17:00:00+05:45", 1, total(f"{t}11:51:59.999999Z")),
    ]
    inside = [stamp for stamp, counted in times.items() if counted]
    day = usage(tenant.client, "edge", {"start": start, "end": end})
    assert rows(day) == [(f"{t}00:00:00Z", 6, total(*inside))]
    month = usage(
        tenant.client, "edge", {"granularity": "month", "tz": KOLKATA, "start": start, "end": end}
    )
    assert rows(month) == [("2024-05-01T00:00:00+05:30", 6, total(*inside))]
    # A range of one microsecond holds the event at its start and nothing else.
    tiny = usage(tenant.client, "edge", {"start": f"{t}10:07:00Z", "end": f"{t}10:07:00.000001Z"})
    assert rows(tiny) == [(f"{t}00:00:00Z", 1, total(f"{t}10:07:00Z"))]


# ----------------------------------------------------------------------- the tree tenant

# holding ─┬─ acct ─┬─ kid-a ── grandkid
#          │        └─ kid-b
# stranger (a root of its own)
TREE = {
    "holding": None,
    "acct": "holding",
    "kid-a": "acct",
    "kid-b": "acct",
    "grandkid": "kid-a",
    "stranger": None,
}
TREE_EVENTS = [
    ("t1", "2024-05-10T09:10:00Z", "acct", "agent-1", "inbound", 10),
    ("t2", "2024-05-10T09:20:00Z", "kid-a", "agent-1", "outbound", 20),
    ("t3", "2024-05-10T09:30:00Z", "grandkid", "agent-2", "inbound", 40),
    ("t4", "2024-05-10T10:40:00Z", "grandkid", "agent-2", "inbound", 80),
    ("t5", "2024-05-10T10:50:00Z", "kid-b", "agent-3", "web", 160),
    ("t6", "2024-05-10T09:15:00Z", "holding", "agent-1", "inbound", 1000),
    ("t7", "2024-05-10T09:25:00Z", "stranger", "agent-1", "inbound", 2000),
    ("t8", "2024-05-12T08:00:00Z", "acct", "agent-2", "outbound", 320),
]
TREE_DAYS = {"start": "2024-05-10T00:00:00Z", "end": "2024-05-13T00:00:00Z"}
MAY = ["2024-05-10T00:00:00Z", "2024-05-11T00:00:00Z", "2024-05-12T00:00:00Z"]


@pytest.fixture(scope="module")
def tree(service: Service) -> Tenant:
    tenant = service.new_tenant()
    for org, parent in TREE.items():
        put_org(tenant, org, parent)
    ingest(tenant, [conversation(*event) for event in TREE_EVENTS])
    return tenant


def test_account_covers_its_whole_subtree(tree: Tenant) -> None:
    body = usage(tree.client, "acct", TREE_DAYS)
    assert rows(body) == [(MAY[0], 5, 310), (MAY[1], 0, 0), (MAY[2], 1, 320)]
    assert rows(usage(tree.client, "kid-a", TREE_DAYS)) == [
        (MAY[0], 3, 140),
        (MAY[1], 0, 0),
        (MAY[2], 0, 0),
    ]
    assert rows(usage(tree.client, "holding", TREE_DAYS))[0] == (MAY[0], 6, 1310)
    assert rows(usage(tree.client, "stranger", TREE_DAYS))[0] == (MAY[0], 1, 2000)


@pytest.mark.parametrize(
    ("account", "expected"),
    [
        (
            "acct",
            [
                (
                    MAY[0],
                    [
                        value(1, 10, subaccount="acct"),
                        value(3, 140, subaccount="kid-a"),
                        value(1, 160, subaccount="kid-b"),
                    ],
                ),
                (MAY[1], []),
                (MAY[2], [value(1, 320, subaccount="acct")]),
            ],
        ),
        (
            "kid-a",
            [
                (MAY[0], [value(2, 120, subaccount="grandkid"), value(1, 20, subaccount="kid-a")]),
                (MAY[1], []),
                (MAY[2], []),
            ],
        ),
        (
            "grandkid",
            [(MAY[0], [value(2, 120, subaccount="grandkid")]), (MAY[1], []), (MAY[2], [])],
        ),
        (
            "holding",
            [
                (MAY[0], [value(5, 310, subaccount="acct"), value(1, 1000, subaccount="holding")]),
                (MAY[1], []),
                (MAY[2], [value(1, 320, subaccount="acct")]),
            ],
        ),
    ],
)
def test_subaccount_is_the_child_on_the_path(
    tree: Tenant, account: str, expected: list[tuple[str, list[Any]]]
) -> None:
    body = usage(tree.client, account, {**TREE_DAYS, "group_by": "subaccount"})
    assert body["meta"]["group_by"] == ["subaccount"]
    assert grouped(body) == expected


def test_group_by_agent_type_and_all_three(tree: Tenant) -> None:
    agent = usage(tree.client, "acct", {**TREE_DAYS, "group_by": "agent"})
    assert grouped(agent)[0] == (
        MAY[0],
        [
            value(2, 30, agent="agent-1"),
            value(2, 120, agent="agent-2"),
            value(1, 160, agent="agent-3"),
        ],
    )
    kind = usage(tree.client, "acct", {**TREE_DAYS, "group_by": "type"})
    assert grouped(kind)[0] == (
        MAY[0],
        [value(3, 130, type="inbound"), value(1, 20, type="outbound"), value(1, 160, type="web")],
    )
    everything = usage(
        tree.client,
        "acct",
        {
            **TREE_DAYS,
            "granularity": "hour",
            "end": "2024-05-10T12:00:00Z",
            "group_by": "type,subaccount,agent",
        },
    )
    assert everything["meta"]["group_by"] == ["type", "subaccount", "agent"]
    hours = grouped(everything)
    assert len(hours) == 12
    assert all(values == [] for ts, values in hours[:9] + hours[11:])
    assert hours[9] == (
        "2024-05-10T09:00:00Z",
        [
            value(1, 10, agent="agent-1", subaccount="acct", type="inbound"),
            value(1, 20, agent="agent-1", subaccount="kid-a", type="outbound"),
            value(1, 40, agent="agent-2", subaccount="kid-a", type="inbound"),
        ],
    )
    assert hours[10] == (
        "2024-05-10T10:00:00Z",
        [
            value(1, 80, agent="agent-2", subaccount="kid-a", type="inbound"),
            value(1, 160, agent="agent-3", subaccount="kid-b", type="web"),
        ],
    )


def test_values_come_ordered_by_their_dimensions_as_asked(tree: Tenant) -> None:
    """The page promises no order within a bucket; ours is fixed, so that the same question
    gets the same bytes: by the first dimension asked, then the next."""
    params = {**TREE_DAYS, "granularity": "hour", "end": "2024-05-10T10:00:00Z"}
    asked = usage(tree.client, "acct", {**params, "group_by": "type,subaccount,agent"})
    assert asked["data"][9]["values"] == [
        value(1, 10, type="inbound", subaccount="acct", agent="agent-1"),
        value(1, 40, type="inbound", subaccount="kid-a", agent="agent-2"),
        value(1, 20, type="outbound", subaccount="kid-a", agent="agent-1"),
    ]
    by_agent = get(tree.client, "acct", {**params, "group_by": "agent,type"})
    assert json.loads(by_agent.content)["data"][9]["values"] == [
        value(1, 10, agent="agent-1", type="inbound"),
        value(1, 20, agent="agent-1", type="outbound"),
        value(1, 40, agent="agent-2", type="inbound"),
    ]
    again = get(tree.client, "acct", {**params, "group_by": "agent,type"})
    assert again.content == by_agent.content


@pytest.mark.parametrize(
    ("form", "meta"),
    [
        ([("group_by", "agent,type")], ["agent", "type"]),
        ([("group_by", "agent"), ("group_by", "type")], ["agent", "type"]),
        ([("group_by", "agent,type"), ("group_by", "agent")], ["agent", "type"]),
        ([("group_by", "agent"), ("group_by", "type,agent")], ["agent", "type"]),
        ([("group_by", "agent,type,type,agent")], ["agent", "type"]),
        ([("group_by", "type"), ("group_by", "agent,type")], ["type", "agent"]),
        ([("group_by", "type,agent")], ["type", "agent"]),
    ],
)
def test_group_by_forms_agree(tree: Tenant, form: list[tuple[str, str]], meta: list[str]) -> None:
    body = usage(tree.client, "acct", [*TREE_DAYS.items(), *form])
    assert body["meta"]["group_by"] == meta
    assert grouped(body) == [
        (
            MAY[0],
            [
                value(1, 10, agent="agent-1", type="inbound"),
                value(1, 20, agent="agent-1", type="outbound"),
                value(2, 120, agent="agent-2", type="inbound"),
                value(1, 160, agent="agent-3", type="web"),
            ],
        ),
        (MAY[1], []),
        (MAY[2], [value(1, 320, agent="agent-2", type="outbound")]),
    ]


def test_tree_is_read_when_asked(service: Service) -> None:
    """An organization placed under the account after its events were stored is counted."""
    tenant = service.new_tenant()
    put_org(tenant, "root", None)
    ingest(tenant, [conversation("late", "2024-05-10T12:00:00Z", "late-kid", seconds=4)])
    assert rows(usage(tenant.client, "root", VALID)) == [("2024-05-10T00:00:00Z", 0, 0)]
    put_org(tenant, "late-kid", "root")
    body = usage(tenant.client, "root", {**VALID, "group_by": "subaccount"})
    assert grouped(body) == [("2024-05-10T00:00:00Z", [value(1, 4, subaccount="late-kid")])]


def test_an_organization_first_named_by_an_event_is_an_account_at_once(service: Service) -> None:
    """The tree read by the previous question does not hide an organization created since."""
    tenant = service.new_tenant()
    put_org(tenant, "old", None)
    usage(tenant.client, "old", VALID)
    assert get(tenant.client, "fresh", VALID).status_code == 404
    ingest(tenant, [conversation("first", "2024-05-10T12:00:00Z", "fresh", seconds=9)])
    assert rows(usage(tenant.client, "fresh", VALID)) == [("2024-05-10T00:00:00Z", 1, 9)]


def test_only_stored_conversations_count(service: Service) -> None:
    """A re-sent event counts once (in a whole 15-minute slot and at a ragged edge alike), a
    rejected batch adds nothing, and other event types are no conversations."""
    tenant = service.new_tenant()
    whole = conversation("c-whole", "2024-05-10T12:00:00Z", "org", seconds=5)
    edge = conversation("c-edge", "2024-05-10T12:07:30Z", "org", seconds=11)
    ingest(tenant, [whole, edge])
    again = tenant.ingest([whole, edge, {**whole, "time": "2024-05-10T18:00:00Z"}])
    assert again.status_code == 200, again.text
    assert again.json() == {"accepted": 0, "duplicates": 3}
    invalid = conversation("c-bad", "2024-05-10T12:30:00Z", "org", seconds=7)
    invalid["data"]["seconds"] = -1
    rejected = tenant.ingest([conversation("c-ok", "2024-05-10T12:30:00Z", "org"), invalid])
    assert 400 <= rejected.status_code < 500, rejected.text
    voice = {
        "id": "v1",
        "type": "voice_call",
        "time": "2024-05-10T12:45:00Z",
        "subject": "user-1",
        "data": {"organization_id": "org", "direction": "inbound", "seconds": 600},
    }
    ingest(tenant, [voice])
    assert rows(usage(tenant.client, "org", VALID)) == [("2024-05-10T00:00:00Z", 2, 16)]
    hours = {"granularity": "hour", "start": "2024-05-10T12:07:00Z", "end": "2024-05-10T19:00:00Z"}
    found = rows(usage(tenant.client, "org", hours))
    assert found[0] == ("2024-05-10T12:00:00Z", 1, 11)
    assert all(row[1:] == (0, 0) for row in found[1:])


# ------------------------------------------------------------------------------ defaults


def test_defaults(service: Service) -> None:
    """end = now, start = end - 30 days, day buckets in UTC, no grouping."""
    tenant = service.new_tenant()
    now = datetime.now(UTC)
    ingest(
        tenant,
        [
            conversation("recent", now - timedelta(days=2), "org", seconds=7),
            conversation("old", now - timedelta(days=31), "org", seconds=100),
        ],
    )
    before = datetime.now(UTC)
    body = usage(tenant.client, "org", {})
    after = datetime.now(UTC)
    meta = body["meta"]
    assert meta["account_id"] == "org"
    assert meta["granularity"] == "day"
    assert meta["tz"] == "UTC"
    assert meta["group_by"] == []
    assert meta["start"].endswith("Z")
    assert meta["end"].endswith("Z")
    end = datetime.fromisoformat(meta["end"])
    start = datetime.fromisoformat(meta["start"])
    assert before - timedelta(seconds=1) <= end <= after + timedelta(seconds=1)
    assert end - start == timedelta(days=30)
    days = []
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    while day < end:
        days.append(f"{day:%Y-%m-%dT%H:%M:%S}Z")
        day += timedelta(days=1)
    found = rows(body)
    assert [ts for ts, _, _ in found] == days
    assert sum(c for _, c, _ in found) == 1
    assert sum(s for _, _, s in found) == 7


# -------------------------------------------------------------------------------- errors

VALID = {"start": "2024-05-10T00:00:00Z", "end": "2024-05-11T00:00:00Z"}


@pytest.mark.parametrize(
    ("params", "parameter", "mentioned"),
    [
        ({"group_by": "agent,colour"}, "group_by", "colour"),
        ({"group_by": ["agent", "colour"]}, "group_by", "colour"),
        ({"group_by": "Agent"}, "group_by", "Agent"),
        ({"group_by": "organization"}, "group_by", "organization"),
        ({"tz": "Mars/Olympus_Mons"}, "tz", "Mars/Olympus_Mons"),
        ({"tz": "../../etc/passwd"}, "tz", None),
        ({"limit": 0}, "limit", None),
        ({"limit": 501}, "limit", None),
        ({"limit": -1}, "limit", None),
        ({"limit": "ten"}, "limit", None),
        ({"granularity": "week"}, "granularity", None),
        ({"granularity": "minute"}, "granularity", None),
        ({"start": VALID["end"]}, "start", None),
        ({"start": "2024-05-12T00:00:00Z"}, "start", None),
        ({"start": "2024-05-10T05:30:00+05:30", "end": "2024-05-10T00:00:00Z"}, "start", None),
        ({"start": "yesterday"}, "start", "yesterday"),
        ({"start": "2024-02-30T00:00:00Z"}, "start", None),
        ({"end": "soon"}, "end", "soon"),
        ({"start": "2999-01-01T00:00:00Z", "end": None}, "start", None),
    ],
)
def test_bad_parameters_are_422(
    tree: Tenant, params: dict[str, Any], parameter: str, mentioned: str | None
) -> None:
    """Each a 422 in FastAPI's shape, naming the parameter (and the bad value where asked)."""
    query: list[Pair] = []
    for name, given in {**VALID, **params}.items():
        if given is None:
            continue
        query.extend((name, item) for item in (given if isinstance(given, list) else [given]))
    response = get(tree.client, "acct", query)
    assert response.status_code == 422, response.text
    body = response.json()
    assert set(body) == {"detail"}
    detail = body["detail"]
    assert isinstance(detail, list), body
    assert detail, body
    assert any(item.get("loc", [None])[-1] == parameter for item in detail), body
    if mentioned is not None:
        assert mentioned in json.dumps(detail), body


@pytest.mark.parametrize(
    "params",
    [
        pytest.param(
            {"start": "0001-01-01T00:00:00Z", "end": "2024-01-01T00:00:00Z", "tz": NEW_YORK},
            id="year-1-utc-read-in-new-york",
        ),
        pytest.param(
            {"start": "0001-01-01T00:00:00", "end": "0001-01-02T00:00:00", "tz": NEW_YORK},
            id="year-1-new-york-local",
        ),
        pytest.param(
            {"start": "2024-01-01T00:00:00Z", "end": "9999-12-31T23:59:59Z", "tz": KOLKATA},
            id="year-9999-end-in-kolkata",
        ),
        pytest.param(
            {
                "start": "9999-12-31T00:00:00Z",
                "end": "9999-12-31T23:59:59Z",
                "tz": "Pacific/Kiritimati",
                "granularity": "month",
            },
            id="year-9999-kiritimati-month",
        ),
    ],
)
def test_far_instants_are_no_server_error(
    service: Service, tree: Tenant, params: dict[str, str]
) -> None:
    """Instants whose local reading falls outside years 1..9999: an answer or a 422 naming the
    parameter, never a 5xx (BRIEF §4)."""
    client = service.client(tree.key)  # its own connection: a 500 may close the one it used
    response = get(client, "acct", params)
    assert response.status_code in (200, 422), f"{response.status_code}: {response.text}"
    if response.status_code == 422:
        detail = response.json()["detail"]
        assert any(item["loc"][-1] in ("start", "end") for item in detail), detail


def test_unknown_account_is_404(tree: Tenant) -> None:
    response = get(tree.client, "nobody", VALID)
    assert response.status_code == 404
    assert response.json() == {"detail": "account 'nobody' not found"}
    # An agent's id is no account.
    response = get(tree.client, "agent-1", VALID)
    assert response.status_code == 404
    assert response.json() == {"detail": "account 'agent-1' not found"}


def test_another_tenants_account_answers_like_a_missing_one(service: Service) -> None:
    owner, other = service.new_tenant(), service.new_tenant()
    account = f"acme-{uuid.uuid4().hex[:8]}"
    before = get(other.client, account, VALID)
    put_org(owner, account, None)
    ingest(owner, [conversation("a1", "2024-05-10T12:00:00Z", account, seconds=5)])
    assert rows(usage(owner.client, account, VALID)) == [("2024-05-10T00:00:00Z", 1, 5)]
    after = get(other.client, account, VALID)
    for response in (before, after):
        assert response.status_code == 404
        assert response.json() == {"detail": f"account {account!r} not found"}
    assert after.content == before.content
    assert after.headers.get("content-type") == before.headers.get("content-type")
    grouped_after = get(other.client, account, {**VALID, "group_by": "agent", "tz": KOLKATA})
    assert grouped_after.status_code == 404
    assert grouped_after.content == before.content
    # The other tenant's organization of the same id holds only its own events.
    ingest(other, [conversation("b1", "2024-05-10T13:00:00Z", account, seconds=9)])
    assert rows(usage(other.client, account, VALID)) == [("2024-05-10T00:00:00Z", 1, 9)]
    assert rows(usage(owner.client, account, VALID)) == [("2024-05-10T00:00:00Z", 1, 5)]


def test_auth(service: Service, tree: Tenant) -> None:
    anonymous = service.client()
    response = get(anonymous, "acct", VALID)
    assert response.status_code == 401
    assert set(response.json()) == {"detail"}
    wrong = service.client("ul_sk_live_" + "x" * 40)
    response = get(wrong, "acct", VALID)
    assert response.status_code == 401
    assert set(response.json()) == {"detail"}
    response = get(service.admin, "acct", VALID)
    assert response.status_code == 403
    assert set(response.json()) == {"detail"}
    bearer = service.client()
    response = bearer.get(
        path("acct"), params=VALID, headers={"Authorization": f"Bearer {tree.key}"}
    )
    assert response.status_code == 200, response.text
    assert rows(response.json()) == [("2024-05-10T00:00:00Z", 5, 310)]


# ------------------------------------------------------------------- the official client


@pytest.fixture(scope="module")
def official(service: Service) -> Iterator[tuple[itellicoai.Client, str]]:
    tenant = service.new_tenant()
    put_org(tenant, "c-acct", None)
    put_org(tenant, "c-kid", "c-acct")
    ingest(
        tenant,
        [
            # 01:30 EDT, then 01:30 and 01:45 EST: the two 01:00 hours of 2024-11-03.
            conversation("c1", "2024-11-03T05:30:00Z", "c-acct", "agent-1", "inbound", 10),
            conversation("c2", "2024-11-03T06:30:00Z", "c-kid", "agent-2", "outbound", 20),
            conversation("c3", "2024-11-03T06:45:00Z", "c-kid", "agent-2", "outbound", 5),
            conversation("c4", "2024-11-04T12:00:00Z", "c-acct", "agent-1", "inbound", 7),
            conversation("c5", "2024-12-02T12:00:00Z", "c-kid", "agent-1", "inbound", 9),
        ],
    )
    with itellicoai.Client(
        api_key=tenant.key, base_url=service.server.url, max_retries=0
    ) as client:
        yield client, "c-acct"


def _parsed(result: Any) -> list[tuple[datetime, list[tuple[int, int, dict[str, str]]]]]:
    data = result.data
    assert data is not None
    parsed = []
    for bucket in data:
        assert isinstance(bucket.ts, datetime)
        values = []
        for item in bucket.values or []:
            assert type(item.conversations) is int
            assert type(item.seconds) is int
            assert isinstance(item.dimensions, dict)
            values.append((item.conversations, item.seconds, dict(item.dimensions)))
        parsed.append((bucket.ts, sorted(values, key=lambda v: sorted(v[2].items()))))
    return parsed


def _offsets(result: Any) -> list[timedelta | None]:
    return [bucket.ts.utcoffset() for bucket in result.data]


EDT, EST = timedelta(hours=-4), timedelta(hours=-5)


def test_official_client_hour(official: tuple[itellicoai.Client, str]) -> None:
    client, account = official
    result = client.accounts.analytics.get_usage(
        account,
        granularity="hour",
        group_by=["agent", "type"],
        tz=NEW_YORK,
        start=datetime(2024, 11, 3, 5, tzinfo=UTC),
        end="2024-11-03T02:00:00-05:00",
    )
    assert result.meta.account_id == account
    assert result.meta.granularity == "hour"
    assert result.meta.tz == NEW_YORK
    assert result.meta.group_by == ["agent", "type"]
    assert result.meta.start == datetime(2024, 11, 3, 5, tzinfo=UTC)
    assert result.meta.start.utcoffset() == EDT
    assert result.meta.end == datetime(2024, 11, 3, 7, tzinfo=UTC)
    assert result.meta.end.utcoffset() == EST
    assert _parsed(result) == [
        (datetime(2024, 11, 3, 5, tzinfo=UTC), [(1, 10, {"agent": "agent-1", "type": "inbound"})]),
        (datetime(2024, 11, 3, 6, tzinfo=UTC), [(2, 25, {"agent": "agent-2", "type": "outbound"})]),
    ]
    assert _offsets(result) == [EDT, EST]


def test_official_client_day(official: tuple[itellicoai.Client, str]) -> None:
    client, account = official
    result = client.accounts.analytics.get_usage(
        account,
        granularity="day",
        group_by=["type", "agent", "type"],
        tz=NEW_YORK,
        start="2024-11-03T00:00:00",
        end="2024-11-06T00:00:00",
        limit=2,
    )
    assert result.meta.group_by == ["type", "agent"]
    assert _parsed(result) == [
        (
            datetime(2024, 11, 3, 4, tzinfo=UTC),
            [
                (1, 10, {"agent": "agent-1", "type": "inbound"}),
                (2, 25, {"agent": "agent-2", "type": "outbound"}),
            ],
        ),
        (datetime(2024, 11, 4, 5, tzinfo=UTC), [(1, 7, {"agent": "agent-1", "type": "inbound"})]),
    ]
    assert _offsets(result) == [EDT, EST]


def test_official_client_month(official: tuple[itellicoai.Client, str]) -> None:
    client, account = official
    result = client.accounts.analytics.get_usage(
        account,
        granularity="month",
        group_by=["subaccount"],
        tz=NEW_YORK,
        start="2024-10-15T00:00:00",
        end="2025-01-01T00:00:00",
    )
    assert _parsed(result) == [
        (datetime(2024, 10, 1, 4, tzinfo=UTC), []),
        (
            datetime(2024, 11, 1, 4, tzinfo=UTC),
            [(2, 17, {"subaccount": "c-acct"}), (2, 25, {"subaccount": "c-kid"})],
        ),
        (datetime(2024, 12, 1, 5, tzinfo=UTC), [(1, 9, {"subaccount": "c-kid"})]),
    ]
    assert _offsets(result) == [EDT, EDT, EST]
    plain = client.accounts.analytics.get_usage(
        account, granularity="month", start="2024-11-01T00:00:00Z", end="2024-12-01T00:00:00Z"
    )
    assert plain.meta.tz == "UTC"
    assert plain.meta.group_by == []
    assert _parsed(plain) == [(datetime(2024, 11, 1, tzinfo=UTC), [(4, 42, {})])]


def test_official_client_not_found(official: tuple[itellicoai.Client, str]) -> None:
    client, _ = official
    with pytest.raises(itellicoai.NotFoundError) as raised:
        client.accounts.analytics.get_usage("no-such-account")
    assert raised.value.status_code == 404
    assert raised.value.body == {"detail": "account 'no-such-account' not found"}
