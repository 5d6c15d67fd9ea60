"""Seed 001's analytics: parameters checked, rollup sums priced, rows assembled so they add up.

Every figure is built bottom-up from (organization, user) keys: a user row is one key priced and
rounded; an organization's figures are the sum of its users' rows plus the row of its own
events (those without a subject, brand registrations among them); the tenant overview is the sum
of its organizations. So each level adds up exactly to the level below.
"""

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cached_property, lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from usagelens.analytics.costs import Decimals, Row, decimals
from usagelens.analytics.queries import (
    PRICE_SCALE,
    QUANTITY_SCALE,
    Counts,
    PricedUsage,
    PriceVersion,
    PricingOverflow,
    TenantPriced,
    Units,
    UsageSums,
    nothing_priced,
)
from usagelens.analytics.schemas import (
    CostBreakdown,
    OrganizationAnalytics,
    OrganizationCostBreakdown,
    OrganizationsResponse,
    OverviewResponse,
    Period,
    UsageResponse,
    UserAnalytics,
    UsersResponse,
)
from usagelens.directory.models import User, display_name
from usagelens.pricing.ratecard import PRICE_KEYS, RateCard, rate_card_days
from usagelens.storage.base import Backend
from usagelens.web.errors import AnalyticsError

DEFAULT_DAYS = 30
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class Range:
    """Whole days of the tenant's zone, both inclusive (None: unbounded)."""

    start_date: date | None
    end_date: date | None

    @property
    def period(self) -> Period:
        return Period(self.start_date, self.end_date)

    @property
    def end_day(self) -> date | None:
        """The first date after the range (the storage's exclusive bound)."""
        return self.end_date + timedelta(days=1) if self.end_date is not None else None


@dataclass(frozen=True)
class Pricing:
    version_days: list[date]  # the first is before any event
    cards: list[RateCard]
    currency: str
    minor_unit: Decimal

    @cached_property  # read for every row of an answer
    def minor_exponent(self) -> int:
        exponent = self.minor_unit.as_tuple().exponent
        assert isinstance(exponent, int)
        return -exponent

    @property
    def for_engine(self) -> list[PriceVersion]:
        return [
            PriceVersion(
                day,
                card.voice_rounding == "per_started_minute",
                {key: int(getattr(card, key).scaleb(PRICE_SCALE)) for key in PRICE_KEYS},
            )
            for day, card in zip(self.version_days, self.cards, strict=True)
        ]


def _date(value: str | None, name: str) -> date | None:
    if value is None or value == "":
        return None
    if not _ISO_DATE.fullmatch(value):
        raise AnalyticsError(400, f"{name} must be a date as YYYY-MM-DD, not {value!r}")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise AnalyticsError(400, f"{name} is not a valid date: {value!r}") from None
    if day.year < 1970 or day.year > 9998:
        raise AnalyticsError(400, f"{name} must be between 1970-01-01 and 9998-12-31")
    return day


def _tz(backend: Backend, tenant_id: int) -> str:
    tenant = backend.tenant_by_id(tenant_id)
    return tenant.tz if tenant is not None else "UTC"


def _range(start_date: date | None, end_date: date | None, tz: str, defaults: bool) -> Range:
    if defaults:
        today = datetime.now(UTC).astimezone(ZoneInfo(tz)).date()
        end_date = end_date or today
        start_date = start_date or end_date - timedelta(days=DEFAULT_DAYS)
    if start_date is not None and end_date is not None and start_date > end_date:
        raise AnalyticsError(
            400, f"start_date ({start_date}) must not be after end_date ({end_date})"
        )
    return Range(start_date, end_date)


def day_range(
    backend: Backend,
    tenant_id: int,
    start_date: str | None,
    end_date: str | None,
    defaults: bool = True,
) -> Range:
    """The range of ``start_date``..``end_date`` (defaults: 30 days ago .. today, in the
    tenant's zone, when ``defaults``; else unbounded on the side not given)."""
    start = _date(start_date, "start_date")
    end = _date(end_date, "end_date")
    return _range(start, end, _tz(backend, tenant_id), defaults)


def pricing(backend: Backend, tenant_id: int) -> Pricing:
    versions = rate_card_days(backend.rate_cards(tenant_id))
    latest = versions[-1][1]
    return Pricing(
        version_days=[day for day, _ in versions],
        cards=[card for _, card in versions],
        currency=latest.currency,
        minor_unit=latest.minor_unit(),
    )


def user_name(user: User | None, user_id: str) -> str:
    if user is None:
        return user_id
    return display_name(user_id, user.name, user.email)


def _by_key(sums: Iterable[UsageSums]) -> dict[tuple[str, str], list[UsageSums]]:
    grouped: dict[tuple[str, str], list[UsageSums]] = defaultdict(list)
    for one in sums:
        grouped[(one.organization_id, one.user_id)].append(one)
    return grouped


def keys_in_python(
    backend: Backend,
    tenant_id: int,
    prices: Pricing,
    range_: Range,
    organization_id: str | None = None,
) -> dict[tuple[str, str], Row]:
    """Each (organization, user) key priced in Python decimals, which no magnitude overflows."""
    sums = backend.usage_sums(
        tenant_id, prices.version_days, range_.start_date, range_.end_day, organization_id
    )
    return {
        key: Row.priced(key_sums, prices.cards, prices.minor_unit)
        for key, key_sums in _by_key(sums).items()
    }


def priced_keys(
    backend: Backend,
    tenant_id: int,
    prices: Pricing,
    range_: Range,
    organization_id: str | None = None,
) -> list[PricedUsage]:
    """Each (organization, user) key's figures: priced by the storage engine in exact integers,
    or in Python decimals where a figure is too large for the engine's integers."""
    try:
        return backend.priced_usage(
            tenant_id,
            prices.for_engine,
            prices.minor_exponent,
            range_.start_date,
            range_.end_day,
            organization_id,
        )
    except PricingOverflow:
        in_python = keys_in_python(backend, tenant_id, prices, range_, organization_id)
        return [
            row.in_units(organization, user, [], prices.minor_exponent)
            for (organization, user), row in in_python.items()
        ]


def _directory_organization(backend: Backend, tenant_id: int, user_id: str) -> str | None:
    """The organization the directory puts a user in (None: in none, or not a user)."""
    user = backend.get_user(tenant_id, user_id)
    return None if user is None else user.organization_id or None


def priced_organizations(
    backend: Backend, tenant_id: int, prices: Pricing, range_: Range
) -> list[PricedUsage]:
    """Each organization with usage: the sum of its keys' rounded figures (as ``priced_keys``,
    summed by the engine), with its users with usage whom the directory does not count in it."""
    try:
        return backend.priced_usage(
            tenant_id,
            prices.for_engine,
            prices.minor_exponent,
            range_.start_date,
            range_.end_day,
            per_organization=True,
        )
    except PricingOverflow:
        return _organizations_in_python(backend, tenant_id, prices, range_)


def _organizations_in_python(
    backend: Backend, tenant_id: int, prices: Pricing, range_: Range
) -> list[PricedUsage]:
    found: dict[str, tuple[set[str], Row]] = {}
    for (organization_id, user_id), row in keys_in_python(
        backend, tenant_id, prices, range_
    ).items():
        users, total = found.setdefault(organization_id, (set(), Row.zero(prices.minor_unit)))
        if user_id and _directory_organization(backend, tenant_id, user_id) != organization_id:
            users.add(user_id)
        total.add(row)
    return [
        total.in_units(organization_id, "", sorted(users), prices.minor_exponent)
        for organization_id, (users, total) in sorted(found.items())
    ]


# The answers build thousands of these structs straight from the engine's integers, a row's
# never through a call that unpacks ``**fields`` (which makes its struct from a dict): on the
# bench's 100M file, the per-user answer (3,736 users) took 3.2 µs a user through an object of
# decimals per row and layered ``**fields`` calls, 0.9 µs now.


def _breakdown_fields(row: PricedUsage, money: Decimals) -> tuple[Any, ...]:
    """A user's breakdown, in ``CostBreakdown``'s order: the fields an organization's starts
    with too, so that neither is made from the other."""
    counts, units = row.counts, row.units
    return (
        money[units.messaging_cost],
        money[units.voice_cost],
        money[units.api_request_cost],
        counts.api_requests,
        money[units.api_storage_cost],
        money[units.phone_rental_cost],
        counts.phone_rentals,
        money[units.phone_purchase_cost],
        counts.phone_purchases,
        money[units.kb_monthly_cost + units.kb_usage_cost],
        counts.kb_count,
        kb_minutes(counts.kb_minutes),
    )


def _breakdown(row: PricedUsage, money: Decimals) -> CostBreakdown:
    return CostBreakdown(*_breakdown_fields(row, money))


def _organization_breakdown(row: PricedUsage, money: Decimals) -> OrganizationCostBreakdown:
    """A user's breakdown, then what only organizations have, by position: a subclass's fields
    follow its base's (``_ORGANIZATIONS_OWN``)."""
    units = row.units
    fields: tuple[Any, ...] = (
        *_breakdown_fields(row, money),
        # _ORGANIZATIONS_OWN:
        money[units.kb_monthly_cost],
        money[units.kb_usage_cost],
        money[units.brand_registration_cost],
        row.counts.brand_registrations,
    )
    return OrganizationCostBreakdown(*fields)


_ORGANIZATIONS_OWN = (
    "kb_monthly_cost",
    "kb_usage_cost",
    "brand_registration_cost",
    "brand_registration_count",
)
assert OrganizationCostBreakdown.__struct_fields__ == (
    *CostBreakdown.__struct_fields__,
    *_ORGANIZATIONS_OWN,
)


# Each level's struct (a user, an organization, the tenant) ends with these fields, which
# _totals gives by position.
_TOTALS = (
    "total_sms_sent",
    "total_sms_received",
    "total_mms_sent",
    "total_mms_received",
    "total_voice_calls",
    "total_voice_seconds",
    "cost_breakdown",
    "total_cost",
)
assert all(
    level.__struct_fields__[-len(_TOTALS) :] == _TOTALS
    for level in (UserAnalytics, OrganizationAnalytics, OverviewResponse)
)


def _totals(row: PricedUsage, money: Decimals, breakdown: CostBreakdown) -> tuple[Any, ...]:
    """A level's last fields, in _TOTALS' order."""
    counts = row.counts
    return (
        counts.sms_sent,
        counts.sms_received,
        counts.mms_sent,
        counts.mms_received,
        counts.voice_calls,
        counts.voice_seconds,
        breakdown,
        money[sum(row.units)],
    )


@lru_cache(maxsize=1 << 16)
def kb_minutes(units: int) -> Decimal:
    """KB minutes (``units`` of 10^-QUANTITY_SCALE) as the page shows them: at least one
    decimal (``55.0``), no trailing zeros. (Cached: answers repeat the same values, zero above
    all; equal values show alike.)"""
    normalized = decimals(QUANTITY_SCALE)[units].normalize()
    exponent = normalized.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= 0:
        return normalized.quantize(Decimal("0.1"))
    return normalized


def _by_total_cost(
    rows: Iterable[tuple[str, str, PricedUsage]],
) -> list[tuple[str, str, PricedUsage]]:
    """(id, name, row) items by total cost, largest first, then by name and id (unique: the
    rows themselves are never compared)."""
    ranked = sorted((-sum(row.units), name, id_, row) for id_, name, row in rows)
    return [(id_, name, row) for _, name, id_, row in ranked]


# ---- /v1/analytics/users ------------------------------------------------------------------


@dataclass(frozen=True)
class UserRows:
    range: Range
    organization_id: str
    organization_name: str
    minor_exponent: int
    rows: list[tuple[str, str, PricedUsage]]  # (user_id, user_name, row), sorted as the page wants


def _organization_name(backend: Backend, tenant_id: int, organization_id: str) -> str:
    found = backend.get_organization(tenant_id, organization_id)
    if found is None:
        raise AnalyticsError(404, f"organization {organization_id!r} not found")
    return found.name or organization_id


def user_rows(
    backend: Backend,
    tenant_id: int,
    organization_id: str | None,
    start_date: str | None,
    end_date: str | None,
) -> UserRows:
    if not organization_id:
        raise AnalyticsError(400, "organization_id is required")
    day_range_ = day_range(backend, tenant_id, start_date, end_date)
    organization_name = _organization_name(backend, tenant_id, organization_id)
    prices = pricing(backend, tenant_id)
    names = backend.user_names(tenant_id, organization_id)
    rows = {
        key.user_id: key
        for key in priced_keys(backend, tenant_id, prices, day_range_, organization_id)
        if key.user_id
    }
    for user_id in names.keys() - rows.keys():
        rows[user_id] = nothing_priced(organization_id, user_id)
    named = (
        # A user with usage here whom the directory puts elsewhere is looked up alone.
        (
            user_id,
            names[user_id]
            if user_id in names
            else user_name(backend.get_user(tenant_id, user_id), user_id),
            row,
        )
        for user_id, row in rows.items()
    )
    return UserRows(
        day_range_,
        organization_id,
        organization_name,
        prices.minor_exponent,
        _by_total_cost(named),
    )


def users_response(found: UserRows) -> UsersResponse:
    money = decimals(found.minor_exponent)
    return UsersResponse(
        success=True,
        organization_id=found.organization_id,
        organization_name=found.organization_name,
        period=found.range.period,
        users=[
            # user_id, user_name, then the totals
            UserAnalytics(user_id, name, *_totals(row, money, _breakdown(row, money)))
            for user_id, name, row in found.rows
        ],
    )


# ---- /v1/analytics/organizations and /v1/analytics/overview --------------------------------


@dataclass(frozen=True)
class OrganizationRows:
    prices: Pricing
    members: Mapping[str, int]  # each organization's users in the directory
    # (organization_id, organization_name, row), by total cost (largest first); a row's
    # users_elsewhere are its users with usage whom the directory puts elsewhere, or nowhere
    rows: list[tuple[str, str, PricedUsage]]


def _organization_ids(
    backend: Backend, tenant_id: int, members: Mapping[str, int], with_usage: Iterable[str]
) -> dict[str, str]:
    """Every organization of the tenant (the directory's, and any its users or events name),
    with its name."""
    names = {
        o.organization_id: o.name or o.organization_id
        for o in backend.list_organizations(tenant_id)
    }
    for organization_id in (*members, *with_usage):
        names.setdefault(organization_id, organization_id)  # named only by users or events
    return names


def organization_rows(backend: Backend, tenant_id: int, range_: Range) -> OrganizationRows:
    """Every organization of the tenant, each the sum of its users' rounded rows and its own
    events' rounded row."""
    prices = pricing(backend, tenant_id)
    members = backend.organization_members(tenant_id)
    priced = priced_organizations(backend, tenant_id, prices, range_)
    by_id = {organization.organization_id: organization for organization in priced}
    named = (
        (organization_id, name, by_id.get(organization_id) or nothing_priced(organization_id))
        for organization_id, name in _organization_ids(
            backend, tenant_id, members, (o.organization_id for o in priced)
        ).items()
    )
    return OrganizationRows(prices, members, _by_total_cost(named))


def organizations_response(
    backend: Backend, tenant_id: int, start_date: str | None, end_date: str | None
) -> OrganizationsResponse:
    range_ = day_range(backend, tenant_id, start_date, end_date)
    found = organization_rows(backend, tenant_id, range_)
    money = decimals(found.prices.minor_exponent)
    return OrganizationsResponse(
        success=True,
        period=range_.period,
        currency=found.prices.currency,
        organizations=[
            # organization_id, organization_name, users_count, then the totals
            OrganizationAnalytics(
                organization_id,
                name,
                found.members.get(organization_id, 0) + len(row.users_elsewhere),
                *_totals(row, money, _organization_breakdown(row, money)),
            )
            for organization_id, name, row in found.rows
        ],
    )


def _summed(priced: list[PricedUsage]) -> PricedUsage:
    """The figures of several organizations added up (integers: no decimal per organization)."""
    if not priced:
        return nothing_priced()
    counts = Counts._make(map(sum, zip(*(one.counts for one in priced), strict=True)))
    units = Units._make(map(sum, zip(*(one.units for one in priced), strict=True)))
    return PricedUsage("", "", [], counts, units)


def priced_tenant(backend: Backend, tenant_id: int, prices: Pricing, range_: Range) -> TenantPriced:
    """The tenant's figures (the sum of its organizations'), which organizations have usage and
    which users with usage the directory puts in no organization."""
    try:
        return backend.priced_tenant(
            tenant_id, prices.for_engine, prices.minor_exponent, range_.start_date, range_.end_day
        )
    except PricingOverflow:
        priced = _organizations_in_python(backend, tenant_id, prices, range_)
        outside = {
            user_id
            for organization in priced
            for user_id in organization.users_elsewhere
            if _directory_organization(backend, tenant_id, user_id) is None
        }
        organizations = [organization.organization_id for organization in priced]
        return TenantPriced(_summed(priced), organizations, sorted(outside))


def overview_response(
    backend: Backend, tenant_id: int, start_date: str | None, end_date: str | None
) -> OverviewResponse:
    range_ = day_range(backend, tenant_id, start_date, end_date)
    prices = pricing(backend, tenant_id)
    members = backend.organization_members(tenant_id)
    found = priced_tenant(backend, tenant_id, prices, range_)
    money = decimals(prices.minor_exponent)
    breakdown = _organization_breakdown(found.total, money)
    return OverviewResponse(
        success=True,
        period=range_.period,
        currency=prices.currency,
        organizations_count=len(
            _organization_ids(backend, tenant_id, members, found.organizations)
        ),
        users_count=sum(members.values()) + len(found.users_outside),
        **dict(zip(_TOTALS, _totals(found.total, money, breakdown), strict=True)),
    )


# ---- /v1/analytics/usage ---------------------------------------------------------------------


def usage_response(
    backend: Backend,
    tenant_id: int,
    organization_id: str | None,
    user_id: str | None,
    start_date: str | None,
    end_date: str | None,
) -> UsageResponse:
    organization_id = organization_id or None
    user_id = user_id or None
    if organization_id is None and user_id is None:
        raise AnalyticsError(400, "organization_id or user_id is required")
    range_ = day_range(backend, tenant_id, start_date, end_date, defaults=False)
    if organization_id is not None:
        _organization_name(backend, tenant_id, organization_id)
    if user_id is not None and backend.get_user(tenant_id, user_id) is None:
        raise AnalyticsError(404, f"user {user_id!r} not found")
    sums = backend.usage_sums(
        tenant_id, [date(1970, 1, 1)], range_.start_date, range_.end_day, organization_id, user_id
    )
    sms_out = sum(s.sms_out_segments for s in sums)
    sms_in = sum(s.sms_in_segments for s in sums)
    mms_out = sum(s.mms_out_segments for s in sums)
    mms_in = sum(s.mms_in_segments for s in sums)
    return UsageResponse(
        success=True,
        organization_id=organization_id,
        user_id=user_id,
        period=range_.period,
        sms_outbound_segments=sms_out,
        sms_inbound_segments=sms_in,
        sms_total_segments=sms_out + sms_in,
        mms_outbound_segments=mms_out,
        mms_inbound_segments=mms_in,
        mms_total_segments=mms_out + mms_in,
        voice_seconds=sum(s.voice_seconds for s in sums),
    )
