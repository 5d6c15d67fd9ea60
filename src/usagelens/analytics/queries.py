"""What the seed 001 analytics need from storage: rollup sums per key and rate card version."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from typing import NamedTuple, Protocol


@dataclass(frozen=True)
class UsageSums:
    """The quantities of one (organization, user) in a range, of the buckets one rate card
    version prices. ``user_id`` is ``""`` for the organization's events without a subject."""

    organization_id: str
    user_id: str
    version: int  # index into the version starts the query was given
    sms_out_messages: int = 0
    sms_out_segments: int = 0
    sms_in_messages: int = 0
    sms_in_segments: int = 0
    mms_out_messages: int = 0
    mms_out_segments: int = 0
    mms_in_messages: int = 0
    mms_in_segments: int = 0
    voice_calls: int = 0
    voice_seconds: int = 0
    voice_started_minutes: int = 0
    api_requests: int = 0
    storage_gb_hours: Decimal = Decimal(0)
    phone_rentals: int = 0
    phone_purchases: int = 0
    brand_registrations: int = 0
    kb_count: int = 0
    kb_minutes: Decimal = Decimal(0)


QUANTITIES: tuple[str, ...] = tuple(item.name for item in fields(UsageSums))[3:]
"""The measures of ``rollup_usage_days`` that analytics price or count, in `UsageSums` order
(storage answers rows in this order)."""

MONEY_FIELDS = (
    "messaging_cost",
    "voice_cost",
    "api_request_cost",
    "api_storage_cost",
    "phone_rental_cost",
    "phone_purchase_cost",
    "kb_monthly_cost",
    "kb_usage_cost",
    "brand_registration_cost",
)
"""A row's reported money figures, each rounded on its own."""

COUNTS: tuple[tuple[str, str], ...] = (
    ("sms_sent", "sms_out_messages"),
    ("sms_received", "sms_in_messages"),
    ("mms_sent", "mms_out_messages"),
    ("mms_received", "mms_in_messages"),
    ("voice_calls", "voice_calls"),
    ("voice_seconds", "voice_seconds"),
    ("api_requests", "api_requests"),
    ("phone_rentals", "phone_rentals"),
    ("phone_purchases", "phone_purchases"),
    ("kb_count", "kb_count"),
    ("kb_minutes", "kb_minutes"),
    ("brand_registrations", "brand_registrations"),
)
"""A row's reported quantities, each with the `UsageSums` measure it sums."""


class Counts(NamedTuple):
    """A row's quantities, in `COUNTS` order (kb_minutes in units of 10^-QUANTITY_SCALE)."""

    sms_sent: int
    sms_received: int
    mms_sent: int
    mms_received: int
    voice_calls: int
    voice_seconds: int
    api_requests: int
    phone_rentals: int
    phone_purchases: int
    kb_count: int
    kb_minutes: int
    brand_registrations: int


class Units(NamedTuple):
    """A row's reported costs, in `MONEY_FIELDS` order, in minor units of the currency (each
    rounded on its own)."""

    messaging_cost: int
    voice_cost: int
    api_request_cost: int
    api_storage_cost: int
    phone_rental_cost: int
    phone_purchase_cost: int
    kb_monthly_cost: int
    kb_usage_cost: int
    brand_registration_cost: int


assert Counts._fields == tuple(name for name, _ in COUNTS)
assert Units._fields == MONEY_FIELDS

PRICE_SCALE = 12
"""Prices have at most 12 decimal places: `PriceVersion` holds them times 10^12."""
QUANTITY_SCALE = 6
"""GB-hours and KB minutes have at most 6 decimal places: `PricedUsage` holds kb_minutes times
10^6."""


@dataclass(frozen=True)
class PriceVersion:
    """One rate card version as exact integers, for the engine to price with."""

    first_day: date  # the tenant's local date it applies from (the first is before any event)
    per_started_minute: bool
    prices: Mapping[str, int]  # each of the card's prices times 10^PRICE_SCALE, by name


class PricedUsage(NamedTuple):
    """A key's (or a whole organization's) quantities and rounded costs, priced by the engine.
    (A tuple: an answer reads thousands of these, and a frozen dataclass took about 1 µs more
    to make each.)"""

    organization_id: str
    user_id: str  # "": the organization's own events, or the whole organization
    # For a whole organization: its users with usage whom the directory puts in another
    # organization, or in none (those it puts there are the directory's to count).
    users_elsewhere: list[str]
    counts: Counts
    units: Units


_NO_COUNTS = Counts._make((0,) * len(Counts._fields))
_NO_UNITS = Units._make((0,) * len(Units._fields))


def nothing_priced(organization_id: str = "", user_id: str = "") -> PricedUsage:
    """A key's figures without usage: zeros."""
    return PricedUsage(organization_id, user_id, [], _NO_COUNTS, _NO_UNITS)


class TenantPriced(NamedTuple):
    """A tenant's figures over a range: the sums of its organizations' (as ``priced_usage``
    gives them per organization)."""

    total: PricedUsage
    organizations: list[str]  # those with usage in the range
    users_outside: list[str]  # users with usage whom the directory puts in no organization


class PricingOverflow(ArithmeticError):
    """A figure does not fit the engine's exact integers: price it in Python decimals instead."""


class AnalyticsQueries(Protocol):
    def usage_sums(
        self,
        tenant_id: int,
        version_days: Sequence[date],
        first_day: date | None,
        end_day: date | None,
        organization_id: str | None = None,
        user_id: str | None = None,
    ) -> list[UsageSums]:
        """The tenant's usage quantities on the dates ``first_day`` up to (not including)
        ``end_day`` of its zone (None: unbounded), summed per organization, user and rate card
        version: a date's version is the latest of ``version_days`` (sorted, the first one before
        any event) not after it. Optionally only one organization and/or user."""
        ...

    def priced_usage(
        self,
        tenant_id: int,
        versions: Sequence[PriceVersion],
        minor_exponent: int,
        first_day: date | None,
        end_day: date | None,
        organization_id: str | None = None,
        per_organization: bool = False,
    ) -> list[PricedUsage]:
        """What ``usage_sums`` sums, priced as `usagelens.analytics.costs` prices it: per
        (organization, user) key each component's exact cost over every version, rounded
        half-up to 10^-``minor_exponent``. ``per_organization``: the keys' rounded figures
        summed per organization instead, with its ``users_elsewhere``. Raises
        `PricingOverflow` when an exact figure does not fit the engine's integers."""
        ...

    def priced_tenant(
        self,
        tenant_id: int,
        versions: Sequence[PriceVersion],
        minor_exponent: int,
        first_day: date | None,
        end_day: date | None,
    ) -> TenantPriced:
        """The sums of ``priced_usage``'s organizations, which of them have usage and which
        users with usage the directory puts in no organization. Raises `PricingOverflow` as
        ``priced_usage`` does."""
        ...
