"""Buckets checked against a brute force written here: walk every minute, read the local clock
with zoneinfo, and cut where the key of BRIEF §4 changes."""

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from usagelens.timezones.buckets import Granularity, buckets

ZONES = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Pacific/Chatham",
    "America/St_Johns",
]


def brute_force(start: datetime, end: datetime, tz: str, granularity: str) -> list[datetime]:
    zone = ZoneInfo(tz)

    def key(moment: datetime) -> object:
        local = moment.astimezone(zone)
        if granularity == "hour":
            return (local.year, local.month, local.day, local.hour, local.utcoffset())
        if granularity == "day":
            return (local.year, local.month, local.day)
        return (local.year, local.month)

    step = timedelta(minutes=1)
    # Walk back to the first minute of the bucket holding `start`.
    first = start.replace(second=0, microsecond=0)
    while key(first - step) == key(start):
        first -= step
    starts = [first]
    moment = first + step
    while moment < end:
        if key(moment) != key(moment - step):
            starts.append(moment)
        moment += step
    return starts


def starts_of(start: datetime, end: datetime, tz: str, granularity: Granularity) -> list[datetime]:
    return [first for first, _ in buckets(start, end, tz, granularity)]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_new_york_fall_back_hour_is_two_buckets() -> None:
    got = starts_of(
        at("2024-11-03T00:00:00-04:00"), at("2024-11-03T03:00:00-05:00"), "America/New_York", "hour"
    )
    local = [s.astimezone(ZoneInfo("America/New_York")).isoformat() for s in got]
    assert local == [
        "2024-11-03T00:00:00-04:00",
        "2024-11-03T01:00:00-04:00",
        "2024-11-03T01:00:00-05:00",
        "2024-11-03T02:00:00-05:00",
    ]


def test_new_york_spring_forward_skips_an_hour_and_day_is_23_hours() -> None:
    zone = ZoneInfo("America/New_York")
    hours = starts_of(
        at("2024-03-10T00:00:00-05:00"), at("2024-03-10T04:00:00-04:00"), "America/New_York", "hour"
    )
    assert [h.astimezone(zone).hour for h in hours] == [0, 1, 3]
    ((first, following),) = list(
        buckets(at("2024-03-10T12:00:00Z"), at("2024-03-10T13:00:00Z"), "America/New_York", "day")
    )
    assert following - first == timedelta(hours=23)


def test_lord_howe_half_hour_fall_back() -> None:
    zone = ZoneInfo("Australia/Lord_Howe")
    got = starts_of(
        at("2024-04-07T00:00:00+11:00"),
        at("2024-04-07T03:00:00+10:30"),
        "Australia/Lord_Howe",
        "hour",
    )
    assert [g.astimezone(zone).isoformat() for g in got] == [
        "2024-04-07T00:00:00+11:00",
        "2024-04-07T01:00:00+11:00",
        "2024-04-07T01:30:00+10:30",
        "2024-04-07T02:00:00+10:30",
    ]


def test_a_range_starting_and_ending_mid_bucket_includes_both_buckets() -> None:
    got = starts_of(
        at("2024-01-15T10:20:00+05:45"), at("2024-01-15T12:10:00+05:45"), "Asia/Kathmandu", "hour"
    )
    assert [g.astimezone(ZoneInfo("Asia/Kathmandu")).strftime("%H:%M") for g in got] == [
        "10:00",
        "11:00",
        "12:00",
    ]


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    tz=st.sampled_from(ZONES),
    granularity=st.sampled_from(["hour", "day", "month"]),
    start=st.datetimes(min_value=datetime(2019, 1, 1), max_value=datetime(2030, 12, 31)),
    minutes=st.integers(min_value=1, max_value=4 * 24 * 60),
)
def test_buckets_equal_brute_force(
    tz: str, granularity: Granularity, start: datetime, minutes: int
) -> None:
    begin = start.replace(tzinfo=UTC)
    if granularity == "month":
        minutes *= 12  # reach across month boundaries, still cheap to brute-force
    end = begin + timedelta(minutes=minutes)
    assert starts_of(begin, end, tz, granularity) == brute_force(begin, end, tz, granularity)


@pytest.mark.parametrize("tz", ZONES)
@pytest.mark.parametrize("granularity", ["hour", "day", "month"])
def test_buckets_tile_the_range_without_gaps(tz: str, granularity: Granularity) -> None:
    begin, end = at("2024-01-01T00:00:00Z"), at("2025-01-01T00:00:00Z")
    got = list(buckets(begin, end, tz, granularity))
    for (_, following), (first, _) in itertools.pairwise(got):
        assert following == first
    assert got[0][0] <= begin < got[0][1]
    assert got[-1][0] < end <= got[-1][1]
