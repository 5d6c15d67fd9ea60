"""Calendar-month boundaries of a zone, computed from the IANA tz database by the service."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

FIRST_YEAR = 1970
LAST_YEAR = 2100


def is_known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return name in available_timezones() or name == "UTC"


def month_starts(tz: str) -> list[tuple[date, datetime]]:
    """Each month's first day and the UTC instant (naive) when it begins in ``tz``."""
    zone = ZoneInfo(tz)
    starts = []
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        for month in range(1, 13):
            local = datetime(year, month, 1, tzinfo=zone)
            starts.append((date(year, month, 1), local.astimezone(UTC).replace(tzinfo=None)))
    return starts
