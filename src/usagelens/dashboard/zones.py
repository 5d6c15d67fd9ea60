"""The time zones the dashboard offers: exactly those this service's tz database knows, so
that a zone picked is a zone the usage API accepts (browsers' own lists use other names, such as
Asia/Calcutta for Asia/Kolkata)."""

import json
import zoneinfo
from functools import cache

from usagelens.dashboard.bundle import Asset

# Present in some tz databases but not zones anyone picks.
_NOT_ZONES = {"Factory", "localtime", "posixrules"}


def zone_names() -> list[str]:
    return sorted(zoneinfo.available_timezones() - _NOT_ZONES)


@cache
def zones_asset() -> Asset:
    body = json.dumps({"zones": zone_names()}, separators=(",", ":")).encode()
    return Asset.of(body, "application/json")
