"""Local dates of instants against zoneinfo itself, one instant at a time, in zones whose
midnights move, vanish or repeat."""

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from usagelens.timezones.days import local_days

ZONES = [
    "UTC",
    "America/New_York",
    "America/Santiago",  # DST changes at midnight
    "America/Havana",
    "Asia/Beirut",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Pacific/Apia",  # skipped 2011-12-30 whole
    "Pacific/Kiritimati",  # +14
    "Pacific/Pago_Pago",  # -11
]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def brute_force(moment: datetime, tz: str) -> int:
    return (moment.astimezone(ZoneInfo(tz)).date() - date(1970, 1, 1)).days


@pytest.mark.parametrize("tz", ZONES)
def test_each_instant_falls_on_its_local_date(tz: str) -> None:
    rng = random.Random(tz)
    span = int((datetime(2040, 1, 1, tzinfo=UTC) - EPOCH).total_seconds())
    moments = [EPOCH + timedelta(seconds=rng.randrange(span)) for _ in range(3000)]
    # And right around every local midnight of two years that hold DST changes and a skipped day.
    zone = ZoneInfo(tz)
    day = date(2011, 1, 1)
    while day < date(2013, 1, 1):
        midnight = datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
        moments += [midnight + timedelta(microseconds=n) for n in (-1, 0, 1)]
        day += timedelta(days=1)
    micros = np.array([(m - EPOCH) // timedelta(microseconds=1) for m in moments], np.int64)
    assert local_days(micros, tz).tolist() == [brute_force(m, tz) for m in moments]


def test_no_instants_no_dates() -> None:
    assert local_days(np.empty(0, np.int64), "Asia/Kolkata").tolist() == []
