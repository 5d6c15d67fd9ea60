"""Calendar-month boundaries of a zone, computed from the IANA tz database by the service."""

from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import numpy as np
import numpy.typing as npt

FIRST_YEAR = 1969  # so that every instant from 1970 on, in any zone, has its month
LAST_YEAR = 2100
EPOCH = datetime(1970, 1, 1)
MICROSECOND = timedelta(microseconds=1)


@cache
def _zone_names() -> frozenset[str]:
    """The tz database's zone names: listing them walks the zoneinfo files on disk (about 10 ms),
    so it is done once per process."""
    return frozenset(available_timezones())


def is_known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return name in _zone_names() or name == "UTC"


def month_starts(tz: str) -> list[tuple[date, datetime]]:
    """Each month's first day and the UTC instant (naive) when it begins in ``tz``."""
    zone = ZoneInfo(tz)
    starts = []
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        for month in range(1, 13):
            local = datetime(year, month, 1, tzinfo=zone)
            starts.append((date(year, month, 1), local.astimezone(UTC).replace(tzinfo=None)))
    return starts


MonthBounds = tuple[npt.NDArray[np.int64], npt.NDArray[np.int32]]


@cache
def month_start_micros(tz: str) -> MonthBounds:
    """``month_starts`` as sorted arrays: UTC microseconds of each start, and the month's first
    day as days since 1970-01-01 (Arrow's date32)."""
    starts = month_starts(tz)
    epoch_day = date(1970, 1, 1).toordinal()
    micros = np.array([(start - EPOCH) // MICROSECOND for _, start in starts], dtype=np.int64)
    days = np.array([month.toordinal() - epoch_day for month, _ in starts], dtype=np.int32)
    return micros, days


def local_months(micros: npt.NDArray[np.int64], tz: str) -> npt.NDArray[np.int32]:
    """The first day of the month in ``tz`` (days since 1970-01-01) of each UTC instant
    (microseconds since 1970)."""
    starts, days = month_start_micros(tz)
    found: npt.NDArray[np.int32] = days[np.searchsorted(starts, micros, side="right") - 1]
    return found
