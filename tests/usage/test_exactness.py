"""The usage API (seed 002) equals a brute force over the raw events, for random ranges, zones,
granularities, group-bys and accounts (issue 3 §4), over compacted and new rollup rows.

The brute force is written here with ``zoneinfo`` alone, from BRIEF §4: an instant's bucket key is
(local date, hour, UTC offset) / local date / (year, month); the buckets of ``[start, end)`` are the
keys its instants take (every key is constant on a 15-minute UTC slot, since every current offset
and transition is on that grid), each starting at the first instant of its run of equal keys.
"""

import json
import random
from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.service import Service

# Hypothesis leans to the first choices: the zones and grains with the most corners come first.
ZONES = [
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "America/St_Johns",
    "Europe/London",
    "Asia/Kolkata",
    "UTC",
]
GRANULARITIES = ["hour", "day", "month"]
DIMENSIONS = ["agent", "subaccount", "type"]
# holding ─ acct ─┬─ kid-a ─ grandkid
#                 └─ kid-b
# stranger
PARENTS: dict[str, str | None] = {
    "holding": None,
    "acct": "holding",
    "kid-a": "acct",
    "kid-b": "acct",
    "grandkid": "kid-a",
    "stranger": None,
}
ORG_WEIGHTS = {"acct": 3, "kid-a": 3, "kid-b": 3, "grandkid": 3, "holding": 1, "stranger": 2}
ACCOUNTS = ["acct", "acct", "acct", "kid-a", "holding", "grandkid"]
AGENTS = ["agent-1", "agent-2", "agent-3", "agent-4"]
TYPES = ["inbound", "outbound", "web"]
# Lord Howe's spring-forward, then London's and New York's (and St John's) fall-back and the
# October/November boundary of every zone.
WINDOWS = [
    (datetime(2024, 10, 3, tzinfo=UTC), datetime(2024, 10, 8, tzinfo=UTC)),
    (datetime(2024, 10, 25, tzinfo=UTC), datetime(2024, 11, 6, tzinfo=UTC)),
]
TRANSITIONS = [
    datetime(2024, 10, 5, 15, 30, tzinfo=UTC),  # Lord Howe +10:30 -> +11:00
    datetime(2024, 10, 27, 1, tzinfo=UTC),  # London +01:00 -> +00:00
    datetime(2024, 11, 3, 4, 30, tzinfo=UTC),  # St John's -02:30 -> -03:30
    datetime(2024, 11, 3, 6, tzinfo=UTC),  # New York -04:00 -> -05:00
    datetime(2024, 10, 31, 13, tzinfo=UTC),  # 1 November in Lord Howe
    datetime(2024, 10, 31, 18, 15, tzinfo=UTC),  # 1 November in Kathmandu
    datetime(2024, 11, 1, 4, tzinfo=UTC),  # 1 November in New York
]
QUARTER = timedelta(minutes=15)
EVENT_COUNT = 400


@dataclass(frozen=True)
class Conversation:
    event_id: str
    time: datetime
    org: str
    agent: str
    kind: str
    seconds: int

    def cloud_event(self) -> dict[str, Any]:
        return {
            "specversion": "1.0",
            "id": self.event_id,
            "type": "conversation",
            "source": "tests/usage/exactness",
            "time": self.time.isoformat(),
            "data": {
                "organization_id": self.org,
                "agent_id": self.agent,
                "conversation_type": self.kind,
                "seconds": self.seconds,
            },
        }


def random_time(rng: random.Random) -> datetime:
    first, last = rng.choices(WINDOWS, weights=[5, 12])[0]
    span = int((last - first).total_seconds())
    roll = rng.random()
    if roll < 0.5:  # any second
        return first + timedelta(seconds=rng.randrange(span))
    if roll < 0.6:  # any microsecond
        return first + timedelta(seconds=rng.randrange(span), microseconds=rng.randrange(10**6))
    if roll < 0.75:  # on the 15-minute grid
        return first + QUARTER * rng.randrange(span // 900)
    if roll < 0.85:  # a whole minute
        return first + timedelta(minutes=rng.randrange(span // 60))
    # at or next to a transition
    nudge = rng.choice([0, 0, -1, 1, -900, 900, -1800, 1800, -3600, 3600])
    return rng.choice(TRANSITIONS) + timedelta(seconds=nudge)


def random_events(rng: random.Random) -> list[Conversation]:
    orgs, weights = list(ORG_WEIGHTS), list(ORG_WEIGHTS.values())
    return [
        Conversation(
            event_id=f"x-{index}",
            time=random_time(rng),
            org=rng.choices(orgs, weights)[0],
            agent=rng.choice(AGENTS),
            kind=rng.choice(TYPES),
            seconds=rng.choice([0, 1, 7, rng.randrange(1, 4000)]),
        )
        for index in range(EVENT_COUNT)
    ]


# ------------------------------------------------------------------------------ brute force


def bucket_key(moment: datetime, zone: ZoneInfo, granularity: str) -> Hashable:
    local = moment.astimezone(zone)
    if granularity == "hour":
        return (local.date(), local.hour, local.utcoffset())
    if granularity == "day":
        return local.date()
    return (local.year, local.month)


def floor_quarter(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)


def render(moment: datetime, tz: str) -> str:
    text = moment.astimezone(ZoneInfo(tz)).isoformat()
    return text.replace("+00:00", "Z") if tz == "UTC" else text


def subaccount_of(org: str, account: str) -> str | None:
    """The account's child on the path from ``org`` up to the account; the account itself for
    its own events; None when ``org`` is outside the account's subtree."""
    below: str | None = None
    current: str | None = org
    while current is not None:
        if current == account:
            return below or account
        below, current = current, PARENTS[current]
    return None


Pair = tuple[str, str | int | float | bool | None]  # one query parameter, as httpx takes it


@dataclass(frozen=True)
class Query:
    account: str
    start: datetime
    end: datetime
    start_text: str
    end_text: str
    tz: str
    granularity: str
    group_by: tuple[str, ...]
    group_by_form: str
    limit: int | None

    def params(self) -> list[Pair]:
        params: list[Pair] = [
            ("start", self.start_text),
            ("end", self.end_text),
            ("granularity", self.granularity),
            ("tz", self.tz),
        ]
        if self.limit is not None:
            params.append(("limit", self.limit))
        dims = list(self.group_by)
        if not dims:
            return params
        if self.group_by_form == "comma":
            params.append(("group_by", ",".join(dims)))
        elif self.group_by_form == "repeat":
            params.extend(("group_by", dim) for dim in dims)
        else:
            params.append(("group_by", dims[0]))
            if dims[1:]:
                params.append(("group_by", ",".join(dims[1:])))
        return params


def expected_answer(events: list[Conversation], query: Query) -> dict[str, Any]:
    zone = ZoneInfo(query.tz)

    def key(moment: datetime) -> Hashable:
        return bucket_key(moment, zone, query.granularity)

    # The keys the instants of [start, end) take, in order: the start's, then each grid
    # instant's after it (a key changes only on the grid).
    keys: list[Hashable] = [key(query.start)]
    firsts = {keys[0]: floor_quarter(query.start)}
    point = floor_quarter(query.start) + QUARTER
    while point < query.end:
        if key(point) not in firsts:
            keys.append(key(point))
            firsts[key(point)] = point
        point += QUARTER
    # Each run begins where the key before it differs.
    for found, first in firsts.items():
        while key(first - QUARTER) == found:
            first -= QUARTER
        firsts[found] = first
    keys = keys[: 500 if query.limit is None else query.limit]

    dims = list(dict.fromkeys(query.group_by))
    totals: dict[Hashable, dict[tuple[str, ...], list[int]]] = defaultdict(dict)
    for event in events:
        if not query.start <= event.time < query.end:
            continue
        subaccount = subaccount_of(event.org, query.account)
        if subaccount is None:
            continue
        chosen = {"agent": event.agent, "subaccount": subaccount, "type": event.kind}
        combination = tuple(chosen[dim] for dim in dims)
        total = totals[key(event.time)].setdefault(combination, [0, 0])
        total[0] += 1
        total[1] += event.seconds

    data = []
    for found in keys:
        values = [
            {
                "seconds": seconds,
                "conversations": conversations,
                "dimensions": dict(zip(dims, combination, strict=True)),
            }
            for combination, (conversations, seconds) in totals[found].items()
        ]
        if not dims and not values:
            values = [{"seconds": 0, "conversations": 0, "dimensions": {}}]
        data.append({"ts": render(firsts[found], query.tz), "values": ordered(values)})
    return {
        "meta": {
            "account_id": query.account,
            "start": render(query.start, query.tz),
            "end": render(query.end, query.tz),
            "granularity": query.granularity,
            "group_by": dims,
            "tz": query.tz,
        },
        "data": data,
    }


def ordered(values: list[Any]) -> list[Any]:
    return sorted(values, key=lambda v: json.dumps(v["dimensions"], sort_keys=True))


# ------------------------------------------------------------------------------- strategies

LOWEST = WINDOWS[0][0] - timedelta(days=1)
HIGHEST = WINDOWS[-1][1] + timedelta(days=1)


def as_text(moment: datetime, form: str, tz: str) -> str:
    """The instant as the query writes it: in UTC with Z, with the zone's offset, as a local
    reading without offset (when that reading names one instant only), or with +05:45."""
    zone = ZoneInfo(tz)
    if form == "naive":
        local = moment.astimezone(zone).replace(tzinfo=None)
        readings = {local.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)}
        if readings == {moment}:
            return local.isoformat()
        form = "offset"
    if form == "z":
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if form == "offset":
        return moment.astimezone(zone).isoformat()
    return moment.astimezone(ZoneInfo("Asia/Kathmandu")).isoformat()


def make_query(
    *,
    account: str = "acct",
    start: datetime,
    end: datetime,
    tz: str,
    granularity: str,
    group_by: tuple[str, ...] = (),
    group_by_form: str = "comma",
    limit: int | None = None,
    start_form: str = "offset",
    end_form: str = "offset",
) -> Query:
    return Query(
        account=account,
        start=start,
        end=end,
        start_text=as_text(start, start_form, tz),
        end_text=as_text(end, end_form, tz),
        tz=tz,
        granularity=granularity,
        group_by=group_by,
        group_by_form=group_by_form,
        limit=limit,
    )


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# Corners every run checks, whatever Hypothesis draws.
EXAMPLES = [
    # New York's and St John's repeated 01:00 hours, ranges starting and ending mid-quarter.
    make_query(
        start=at("2024-11-03T03:07:00Z"),
        end=at("2024-11-03T08:52:00Z"),
        tz="America/New_York",
        granularity="hour",
        group_by=("subaccount", "agent"),
    ),
    make_query(
        start=at("2024-11-03T01:22:00Z"),
        end=at("2024-11-03T06:37:00Z"),
        tz="America/St_Johns",
        granularity="hour",
        start_form="naive",
    ),
    # London's 25-hour day, Lord Howe's 23.5-hour day and its 30-minute hour.
    make_query(
        start=at("2024-10-25T10:00:00Z"),
        end=at("2024-10-29T10:00:00Z"),
        tz="Europe/London",
        granularity="day",
        group_by=("type",),
    ),
    make_query(
        start=at("2024-10-04T13:37:00Z"),
        end=at("2024-10-06T13:08:00Z"),
        tz="Australia/Lord_Howe",
        granularity="day",
        account="kid-a",
        group_by=("subaccount",),
    ),
    make_query(
        start=at("2024-10-05T12:00:00Z"),
        end=at("2024-10-05T19:00:00Z"),
        tz="Australia/Lord_Howe",
        granularity="hour",
    ),
    # Kathmandu's :15 hours and Kolkata's :30 hours, cut by limit.
    make_query(
        start=at("2024-10-30T20:07:00Z"),
        end=at("2024-11-02T03:52:00Z"),
        tz="Asia/Kathmandu",
        granularity="hour",
        group_by=("type", "agent", "type"),
        group_by_form="mixed",
        limit=31,
    ),
    make_query(
        start=at("2024-10-31T18:29:00Z"),
        end=at("2024-11-01T06:31:00Z"),
        tz="Asia/Kolkata",
        granularity="hour",
        account="holding",
        group_by=("subaccount",),
        group_by_form="repeat",
    ),
    # Month buckets of both windows, in zones whose months begin at other instants.
    make_query(
        start=at("2024-10-01T00:00:00Z"),
        end=at("2024-11-06T00:00:00Z"),
        tz="Australia/Lord_Howe",
        granularity="month",
        group_by=("agent", "subaccount", "type"),
    ),
    make_query(
        start=at("2024-10-03T00:00:00Z"),
        end=at("2024-12-01T00:00:00Z"),
        tz="Asia/Kathmandu",
        granularity="month",
    ),
    # Years of months: more hours (New York) or quarter hours (Kathmandu) than the cell map
    # passes as a list, so it is built inside the database; ragged ends on both.
    make_query(
        start=at("2022-01-01T05:00:00Z"),
        end=at("2025-01-01T05:00:00Z"),
        tz="America/New_York",
        granularity="month",
        group_by=("subaccount",),
    ),
    make_query(
        start=at("2024-01-01T00:07:00Z"),
        end=at("2025-06-01T00:52:00Z"),
        tz="Asia/Kathmandu",
        granularity="month",
        group_by=("agent",),
    ),
]


def queries(events: list[Conversation]) -> st.SearchStrategy[Query]:
    whole_minutes = sorted({e.time for e in events if e.time.second == e.time.microsecond == 0})
    minutes_in_span = int((HIGHEST - LOWEST).total_seconds()) // 60

    @st.composite
    def build(draw: st.DrawFn) -> Query:
        anchor = draw(
            st.one_of(
                st.tuples(st.sampled_from(TRANSITIONS), st.integers(-12 * 60, 12 * 60)).map(
                    lambda pair: pair[0] + timedelta(minutes=pair[1])
                ),
                st.sampled_from(whole_minutes),
                st.integers(0, minutes_in_span).map(lambda m: LOWEST + timedelta(minutes=m)),
            )
        )
        duration = draw(
            st.one_of(
                st.integers(60, 8 * 60),
                st.integers(1, 4 * 24 * 60),
                st.integers(1, 40 * 24 * 60),
            )
        )
        start = anchor - timedelta(minutes=draw(st.integers(0, duration)))
        end = start + timedelta(minutes=duration)
        if draw(st.booleans()):  # sometimes end on an event
            later = [moment for moment in whole_minutes if start < moment <= end]
            if later:
                end = draw(st.sampled_from(later))
        tz = draw(st.sampled_from(ZONES))
        return make_query(
            account=draw(st.sampled_from(ACCOUNTS)),
            start=start,
            end=end,
            tz=tz,
            granularity=draw(st.sampled_from(GRANULARITIES)),
            group_by=tuple(draw(st.lists(st.sampled_from(DIMENSIONS), max_size=4))),
            group_by_form=draw(st.sampled_from(["comma", "repeat", "mixed"])),
            limit=draw(st.one_of(st.none(), st.integers(1, 40), st.just(500))),
            start_form=draw(st.sampled_from(["offset", "naive", "z", "other"])),
            end_form=draw(st.sampled_from(["offset", "naive", "z"])),
        )

    return build()


# ------------------------------------------------------------------------------------ test


def test_answers_equal_brute_force(service: Service) -> None:
    tenant = service.new_tenant()
    for org, parent in PARENTS.items():
        response = tenant.client.put(
            f"/v1/organizations/{org}", json={"name": org, "parent_id": parent}
        )
        assert response.status_code in (200, 201), response.text
    events = random_events(random.Random(20241103))
    # Most events compacted into runs (and their hours summed) by a rebuild, the rest new rows:
    # every answer reads both, by 15 minutes or by hour.
    compacted, new = events[:300], events[300:]
    for part, rebuild in ((compacted, True), (new, False)):
        response = tenant.ingest([event.cloud_event() for event in part])
        assert response.status_code == 200, response.text
        assert response.json() == {"accepted": len(part), "duplicates": 0}
        if rebuild:
            rebuilt = service.admin.post("/v1/admin/rebuild")
            assert rebuilt.status_code == 204, rebuilt.text

    def check(query: Query) -> None:
        answer = usage(tenant.client, query)
        expected = expected_answer(events, query)
        assert answer["meta"] == expected["meta"]
        assert [b["ts"] for b in answer["data"]] == [b["ts"] for b in expected["data"]]
        for got, want in zip(answer["data"], expected["data"], strict=True):
            assert {"ts": got["ts"], "values": ordered(got["values"])} == want

    tested = given(query=queries(events))(check)
    for corner in EXAMPLES:
        tested = example(query=corner)(tested)
    settings(
        max_examples=40,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )(tested)()


def usage(client: httpx.Client, query: Query) -> Any:
    response = client.get(f"/v1/accounts/{query.account}/analytics/usage", params=query.params())
    assert response.status_code == 200, response.text
    return response.json()
