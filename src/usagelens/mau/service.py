"""The MAU detail of one tenant's month: parameters checked, figures read, the answer assembled."""

import re
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import msgspec

from usagelens.mau.cursor import CursorError, Page, offset_of, sign
from usagelens.mau.queries import MauMonth, MauMonthQuery, MauQueries, MauTickets
from usagelens.settings import Settings
from usagelens.storage.base import Backend
from usagelens.tenants.models import Tenant
from usagelens.web.errors import BillingError

DEFAULT_MONTHS = 6
MAX_MONTHS = 24
DEFAULT_LIMIT = 500
MAX_LIMIT = 1000
FIRST_MONTH = (1970, 1)  # no event is older

_ENCODER = msgspec.json.Encoder()
_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")
_WHOLE_NUMBER = re.compile(r"^[0-9]{1,9}$")


@dataclass(frozen=True)
class DetailParams:
    """The query parameters as sent: None when absent."""

    month: str | None = None
    months: str | None = None
    limit: str | None = None
    cursor: str | None = None


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def of(cls, day: date | datetime) -> "Month":
        return cls(day.year, day.month)

    def plus(self, months: int) -> "Month":
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def utc_start(self, zone: ZoneInfo) -> datetime:
        """When the month begins in ``zone``, as a naive UTC instant (as events store time)."""
        local = datetime(self.year, self.month, 1, tzinfo=zone)
        return local.astimezone(UTC).replace(tzinfo=None)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def _bad(code: str, parameter: str, value: str, message: str) -> BillingError:
    return BillingError(400, code, message, {"parameter": parameter, "value": value})


def parse_month(raw: str | None, current: Month) -> Month:
    if raw is None:
        return current
    found = _MONTH.match(raw)
    if found is None or not 1 <= int(found[2]) <= 12:
        raise _bad("invalid_month", "month", raw, f"month must be YYYY-MM, not {raw!r}")
    month = Month(int(found[1]), int(found[2]))
    if (month.year, month.month) < FIRST_MONTH:
        raise _bad("invalid_month", "month", raw, "month must be 1970-01 or later")
    if month > current:
        raise _bad(
            "month_in_future",
            "month",
            raw,
            f"month {month} is after the current month ({current}) in the tenant's time zone",
        )
    return month


def _whole_number(raw: str | None, default: int, low: int, high: int, name: str, code: str) -> int:
    if raw is None:
        return default
    if _WHOLE_NUMBER.match(raw) is None or not low <= int(raw) <= high:
        raise _bad(code, name, raw, f"{name} must be an integer from {low} to {high}, not {raw!r}")
    return int(raw)


def parse_months(raw: str | None) -> int:
    return _whole_number(raw, DEFAULT_MONTHS, 1, MAX_MONTHS, "months", "invalid_months")


def parse_limit(raw: str | None) -> int:
    return _whole_number(raw, DEFAULT_LIMIT, 1, MAX_LIMIT, "limit", "invalid_limit")


def cursor_secret(settings: Settings, backend: Backend) -> bytes:
    if settings.cursor_secret:
        return settings.cursor_secret.encode("utf-8")
    return backend.service_secret("cursor")


_NO_TICKETS = MauTickets(0, "[]")


def _milliseconds(seconds: float) -> float:
    return round(seconds * 1000, 3)


def detail(
    backend: Backend,
    settings: Settings,
    tenant_id: int,
    params: DetailParams,
    request_id: str,
    started: float,
) -> bytes:
    """The JSON body of `GET /public-api/billing/end-user-teams/detail` (``started``: when the
    request began, by ``time.perf_counter``). Built as plain data, in the page's key order, and
    encoded once: a month can hold tens of thousands of tickets, each listed twice."""
    tenant = backend.tenant_by_id(tenant_id)
    if tenant is None:
        raise BillingError(401, "unauthorized", "the credentials' tenant does not exist")
    zone = ZoneInfo(tenant.tz)
    current = Month.of(datetime.now(zone))
    month = parse_month(params.month, current)
    months = parse_months(params.months)
    limit = parse_limit(params.limit)
    page = Page(tenant.tenant_id, str(month), months, limit, 0)
    secret: bytes | None = None
    if params.cursor:
        secret = cursor_secret(settings, backend)
        try:
            offset = offset_of(secret, params.cursor, page)
        except CursorError as error:
            raise BillingError(400, "invalid_cursor", str(error), {"parameter": "cursor"}) from None
        page = Page(page.tenant_id, page.month, months, limit, offset)

    found, query_seconds = read_month(backend, tenant, month, months, zone, page)
    has_more = len(found.users) > limit
    next_cursor = None
    if has_more:
        secret = secret or cursor_secret(settings, backend)
        following = Page(page.tenant_id, page.month, months, limit, page.offset + limit)
        next_cursor = sign(secret, following)

    data = _assemble(found, month, months, limit)
    warnings = []
    if month == current:
        warnings.append(f"{month} is the current month: its figures are partial")
    timings = {stage: round(ms, 3) for stage, ms in found.timings_ms.items()}
    timings["query"] = _milliseconds(query_seconds)
    timings["total"] = _milliseconds(time.perf_counter() - started)
    meta = {
        "request_id": request_id,
        "timings_ms": timings,
        "pagination": {"has_more": has_more, "next_cursor": next_cursor},
        "warnings": warnings,
    }
    return _ENCODER.encode({"data": data, "meta": meta})


def read_month(
    queries: MauQueries, tenant: Tenant, month: Month, months: int, zone: ZoneInfo, page: Page
) -> tuple[MauMonth, float]:
    """A month's figures, read from one snapshot, and the seconds the read took; shared by the
    detail and the charge endpoints."""
    query = MauMonthQuery(
        tenant_id=tenant.tenant_id,
        month=month.first_day,
        first_month=month.plus(1 - months).first_day,
        utc_start=month.utc_start(zone),
        utc_end=month.plus(1).utc_start(zone),
        min_messages=_active_threshold(tenant),
        offset=page.offset,
        limit=page.limit,
    )
    started = time.perf_counter()
    found = queries.mau_month(query)
    return found, time.perf_counter() - started


def active_users_trend(
    queries: MauQueries, tenant: Tenant, month: Month, months: int
) -> dict[date, int]:
    """Active users of the ``months`` months ending at ``month``, by first day (months without
    any are left out), counted as the detail endpoint counts them."""
    return queries.mau_trend(
        tenant.tenant_id,
        month.plus(1 - months).first_day,
        month.first_day,
        _active_threshold(tenant),
    )


def _active_threshold(tenant: Tenant) -> int:
    # Active means at least one message, whatever a tenant's threshold says below that.
    return max(tenant.mau_min_messages, 1)


def _assemble(found: MauMonth, month: Month, months: int, limit: int) -> dict[str, object]:
    """The `data` object of the page (the shape of ``schemas.EndUserTeamsDetail``)."""
    trend = [
        {"active_users": found.trend.get(each.first_day, 0), "month": str(each)}
        for each in (month.plus(-back) for back in range(months - 1, -1, -1))
    ]
    per_user = []
    for user in found.users[:limit]:
        tickets = found.user_tickets.get(user.user_id, _NO_TICKETS)
        per_user.append(
            {
                "company_name": user.company_name,
                "end_company_id": user.organization_id,
                "end_user": user.name,
                # The page types it as a string: unknown is empty, never null.
                "end_user_email": user.email or "",
                "tickets": msgspec.Raw(tickets.json),
                "tickets_raised": tickets.count,
                "turns": user.turns,
            }
        )
    return {
        "monthly_active_users": trend,
        "per_company": msgspec.Raw(found.companies_json),
        "per_user": per_user,
        "tickets_raised": found.tickets_raised,
    }
