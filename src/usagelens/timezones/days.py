"""Local dates of instants in a zone, computed from the IANA tz database by the service."""

from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from usagelens.timezones.months import EPOCH, MICROSECOND

DAY_US = 86_400_000_000
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def first_instant(day: date, zone: ZoneInfo) -> datetime:
    """When ``day`` begins in ``zone``, as a naive UTC instant. A midnight the clocks skip reads
    with the offset before the change, which is the instant the date's clock starts (a date
    skipped whole begins when the next one does, so it holds nothing)."""
    local = datetime(day.year, day.month, day.day, tzinfo=zone)
    return local.astimezone(UTC).replace(tzinfo=None)


@lru_cache(maxsize=1 << 18)
def _first_micros(tz: str, day_number: int) -> int:
    day = date.fromordinal(day_number + _EPOCH_ORDINAL)
    return (first_instant(day, ZoneInfo(tz)) - EPOCH) // MICROSECOND


def local_days(micros: npt.NDArray[np.int64], tz: str) -> npt.NDArray[np.int32]:
    """The local date (days since 1970-01-01) in ``tz`` of each UTC instant (microseconds since
    1970). Only the dates the instants can fall on are looked up: a zone is never a whole day
    off UTC, so those are the UTC dates, widened by one on each side."""
    if len(micros) == 0:
        return np.empty(0, dtype=np.int32)
    first = int(micros.min()) // DAY_US - 1
    last = int(micros.max()) // DAY_US + 1
    numbers = np.arange(first, last + 1, dtype=np.int32)
    starts = np.array([_first_micros(tz, int(n)) for n in numbers], dtype=np.int64)
    found: npt.NDArray[np.int32] = numbers[np.searchsorted(starts, micros, side="right") - 1]
    return found
