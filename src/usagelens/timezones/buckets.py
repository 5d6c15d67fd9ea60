"""Time buckets of a zone, from the IANA tz database (BRIEF §4).

A bucket is a maximal run of instants whose local reading in the zone shares: the date, the hour
and the UTC offset (``hour``: a repeated fall-back hour is two buckets, a skipped hour none); the
date (``day``); the year and month (``month``). Every current offset and transition lies on the
15-minute UTC grid, so every bucket boundary does too, and 15-minute UTC rollups answer every
bucket exactly.
"""

from collections.abc import Hashable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

Granularity = Literal["hour", "day", "month"]
GRID = timedelta(minutes=15)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def floor_to_grid(moment: datetime) -> datetime:
    return moment - (moment - _EPOCH) % GRID


def bucket_key(moment: datetime, zone: ZoneInfo, granularity: Granularity) -> Hashable:
    local = moment.astimezone(zone)
    if granularity == "hour":
        return (local.date(), local.hour, local.utcoffset())
    if granularity == "day":
        return local.date()
    return (local.year, local.month)


def _wall_floor(local: datetime, granularity: Granularity) -> datetime:
    naive = local.replace(tzinfo=None, fold=0)
    if granularity == "hour":
        return naive.replace(minute=0, second=0, microsecond=0)
    if granularity == "day":
        return naive.replace(hour=0, minute=0, second=0, microsecond=0)
    return naive.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _wall_next(floor: datetime, granularity: Granularity) -> datetime:
    if granularity == "hour":
        return floor + timedelta(hours=1)
    if granularity == "day":
        return floor + timedelta(days=1)
    month = date(floor.year + floor.month // 12, floor.month % 12 + 1, 1)
    return datetime(month.year, month.month, 1)


def _instants(wall: datetime, zone: ZoneInfo) -> list[datetime]:
    """The UTC instants a wall-clock reading may mean (both folds; in a gap, both guesses)."""
    return sorted({wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)})


def _starts_bucket(moment: datetime, zone: ZoneInfo, granularity: Granularity) -> bool:
    key = bucket_key(moment, zone, granularity)
    return bucket_key(moment - GRID, zone, granularity) != key


def bucket_start(moment: datetime, zone: ZoneInfo, granularity: Granularity) -> datetime:
    """The first instant of the bucket holding ``moment``."""
    key = bucket_key(moment, zone, granularity)
    floor = _wall_floor(moment.astimezone(zone), granularity)
    for guess in _instants(floor, zone):
        if (
            guess <= moment
            and bucket_key(guess, zone, granularity) == key
            and _starts_bucket(guess, zone, granularity)
        ):
            return guess
    # A transition near the boundary: walk back along the grid, which holds every boundary.
    point = floor_to_grid(moment)
    while bucket_key(point - GRID, zone, granularity) == key:
        point -= GRID
    return point


def next_bucket_start(start: datetime, zone: ZoneInfo, granularity: Granularity) -> datetime:
    """The first instant after the bucket that begins at ``start``."""
    key = bucket_key(start, zone, granularity)
    local = start.astimezone(zone)
    wall_next = _wall_next(_wall_floor(local, granularity), granularity)
    for guess in _instants(wall_next, zone):
        if (
            guess > start
            and bucket_key(guess, zone, granularity) != key
            and bucket_key(guess - GRID, zone, granularity) == key
            and (granularity != "hour" or guess - start <= timedelta(hours=1))
        ):
            return guess
    point = floor_to_grid(start) + GRID
    while bucket_key(point, zone, granularity) == key:
        point += GRID
    return point


def buckets(
    start: datetime, end: datetime, tz: str, granularity: Granularity
) -> Iterator[tuple[datetime, datetime]]:
    """Each bucket overlapping ``[start, end)``, in order, as (first instant, next bucket's first
    instant), both in UTC."""
    zone = ZoneInfo(tz)
    current = bucket_start(start.astimezone(UTC), zone, granularity)
    while current < end:
        following = next_bucket_start(current, zone, granularity)
        yield current, following
        current = following
