"""Pricing rollup sums exactly, then rounding each reported figure once (BRIEF §4 Money).

Each (organization, user) key's quantities come per rate card version; each version's prices
apply to its own quantities. The exact cost of a component is accumulated over
the versions as an exact decimal numerator over a fixed denominator (voice per second is
seconds x price / 60, storage gb_hours x price / 730, API requests x price / 1000), so the only
division is the one that rounds, done exactly in integers, half-up, to the currency's minor unit.

- messaging: segments x per-segment price (SMS and MMS, outbound and inbound);
- voice: seconds x voice_per_minute / 60, or with ``voice_rounding = "per_started_minute"``
  the calls' started minutes (each call rounded up to whole minutes) x voice_per_minute;
- API: requests x api_requests_per_1000 / 1000; storage: gb_hours x storage_per_gb_month / 730;
- phone rental and purchase: events x price; brand registration: events x price;
- knowledge bases: ``kb_monthly_cost`` = knowledge_base events x kb_monthly, ``kb_usage_cost`` =
  kb_usage minutes x kb_per_minute, each rounded; ``kb_cost`` is the sum of the two.

``total_cost`` is the sum of the reported (rounded) components, and a group's figures are the
sums of its members' reported figures, so everything shown adds up to the cent.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import (
    ROUND_HALF_UP,
    Context,
    Decimal,
    Inexact,
    InvalidOperation,
    Overflow,
    localcontext,
)

from usagelens.analytics.queries import (
    MONEY_FIELDS,
    QUANTITY_SCALE,
    Counts,
    PricedUsage,
    Units,
    UsageSums,
)
from usagelens.pricing.ratecard import GB_HOURS_PER_GB_MONTH, RateCard

# Enough digits for any product of a quantity (up to 10^12 per event, summed) and a price (12
# digits each side of the point); the Inexact trap turns any rounding of a sum or product into
# an error, never a lost cent.
_EXACT = Context(prec=100, rounding=ROUND_HALF_UP, traps=[Inexact, InvalidOperation, Overflow])
# For the one division that rounds. A quotient by 60, 730 or 1000 either terminates within 100
# digits (then it is exact) or never does, and then it is at least 10^-50 (relative) away from any
# half-cent boundary at our magnitudes, far more than the 10^-99 error of 100 digits: half-up
# rounding of the 100-digit quotient is the half-up rounding of the exact one.
_DIVIDE = Context(prec=100, rounding=ROUND_HALF_UP, traps=[InvalidOperation, Overflow])


def round_half_up(numerator: Decimal, denominator: int, minor_unit: Decimal) -> Decimal:
    """``numerator / denominator`` (not negative) rounded half-up to a multiple of
    ``minor_unit``."""
    if denominator == 1:  # most components: nothing to divide
        return numerator.quantize(minor_unit, context=_DIVIDE)
    return (_DIVIDE.divide(numerator, denominator)).quantize(minor_unit, context=_DIVIDE)


@dataclass
class Quantities:
    """What a row counts (all rate card versions together)."""

    sms_sent: int = 0
    sms_received: int = 0
    mms_sent: int = 0
    mms_received: int = 0
    voice_calls: int = 0
    voice_seconds: int = 0
    api_requests: int = 0
    phone_rentals: int = 0
    phone_purchases: int = 0
    kb_count: int = 0
    kb_minutes: Decimal = Decimal(0)
    brand_registrations: int = 0

    def add(self, other: "Quantities") -> None:
        # Spelled out: thousands of rows an answer, and attribute loops cost several times more.
        self.sms_sent += other.sms_sent
        self.sms_received += other.sms_received
        self.mms_sent += other.mms_sent
        self.mms_received += other.mms_received
        self.voice_calls += other.voice_calls
        self.voice_seconds += other.voice_seconds
        self.api_requests += other.api_requests
        self.phone_rentals += other.phone_rentals
        self.phone_purchases += other.phone_purchases
        self.kb_count += other.kb_count
        self.kb_minutes = _EXACT.add(self.kb_minutes, other.kb_minutes)
        self.brand_registrations += other.brand_registrations

    def add_sums(self, sums: UsageSums) -> None:
        self.sms_sent += sums.sms_out_messages
        self.sms_received += sums.sms_in_messages
        self.mms_sent += sums.mms_out_messages
        self.mms_received += sums.mms_in_messages
        self.voice_calls += sums.voice_calls
        self.voice_seconds += sums.voice_seconds
        self.api_requests += sums.api_requests
        self.phone_rentals += sums.phone_rentals
        self.phone_purchases += sums.phone_purchases
        self.kb_count += sums.kb_count
        self.kb_minutes = _EXACT.add(self.kb_minutes, sums.kb_minutes)
        self.brand_registrations += sums.brand_registrations


# Each component's exact cost is its numerator (a sum of exact decimal products) over this.
DENOMINATORS = {
    "messaging": 1,
    "voice": 60,
    "api_request": 1000,
    "api_storage": GB_HOURS_PER_GB_MONTH,
    "phone_rental": 1,
    "phone_purchase": 1,
    "kb_monthly": 1,
    "kb_usage": 1,
    "brand_registration": 1,
}


@dataclass
class ExactCosts:
    """Exact costs of one row's components before rounding, as numerators over
    `DENOMINATORS` (so that no division is done before the one that rounds)."""

    messaging: Decimal = Decimal(0)
    voice: Decimal = Decimal(0)  # over 60
    api_request: Decimal = Decimal(0)  # over 1000
    api_storage: Decimal = Decimal(0)  # over 730
    phone_rental: Decimal = Decimal(0)
    phone_purchase: Decimal = Decimal(0)
    kb_monthly: Decimal = Decimal(0)
    kb_usage: Decimal = Decimal(0)
    brand_registration: Decimal = Decimal(0)

    def add_sums(self, sums: UsageSums, card: RateCard) -> None:
        with localcontext(_EXACT):
            self.messaging += (
                sums.sms_out_segments * card.sms_outbound
                + sums.sms_in_segments * card.sms_inbound
                + sums.mms_out_segments * card.mms_outbound
                + sums.mms_in_segments * card.mms_inbound
            )
            if card.voice_rounding == "per_started_minute":
                self.voice += sums.voice_started_minutes * 60 * card.voice_per_minute
            else:
                self.voice += sums.voice_seconds * card.voice_per_minute
            self.api_request += sums.api_requests * card.api_requests_per_1000
            self.api_storage += sums.storage_gb_hours * card.storage_per_gb_month
            self.phone_rental += sums.phone_rentals * card.phone_rental
            self.phone_purchase += sums.phone_purchases * card.phone_purchase
            self.kb_monthly += sums.kb_count * card.kb_monthly
            self.kb_usage += sums.kb_minutes * card.kb_per_minute
            self.brand_registration += sums.brand_registrations * card.brand_registration


_ROUNDED = tuple(
    (name, name.removesuffix("_cost"), DENOMINATORS[name.removesuffix("_cost")])
    for name in MONEY_FIELDS
)


@dataclass
class Money:
    """A row's reported figures, each already rounded to the minor unit."""

    minor_unit: Decimal
    messaging_cost: Decimal = field(init=False)
    voice_cost: Decimal = field(init=False)
    api_request_cost: Decimal = field(init=False)
    api_storage_cost: Decimal = field(init=False)
    phone_rental_cost: Decimal = field(init=False)
    phone_purchase_cost: Decimal = field(init=False)
    kb_monthly_cost: Decimal = field(init=False)
    kb_usage_cost: Decimal = field(init=False)
    brand_registration_cost: Decimal = field(init=False)

    def __post_init__(self) -> None:
        zero = Decimal(0) * self.minor_unit
        for name in MONEY_FIELDS:
            setattr(self, name, zero)

    @classmethod
    def rounded(cls, exact: ExactCosts, minor_unit: Decimal) -> "Money":
        money = cls(minor_unit)
        for name, component, denominator in _ROUNDED:
            numerator: Decimal = getattr(exact, component)
            if numerator:
                setattr(money, name, round_half_up(numerator, denominator, minor_unit))
        return money

    def add(self, other: "Money") -> None:
        # Spelled out, as Quantities.add; in the exact context, as the default one keeps only 28
        # digits, fewer than a sum of figures at the rate card's bounds has.
        add = _EXACT.add
        self.messaging_cost = add(self.messaging_cost, other.messaging_cost)
        self.voice_cost = add(self.voice_cost, other.voice_cost)
        self.api_request_cost = add(self.api_request_cost, other.api_request_cost)
        self.api_storage_cost = add(self.api_storage_cost, other.api_storage_cost)
        self.phone_rental_cost = add(self.phone_rental_cost, other.phone_rental_cost)
        self.phone_purchase_cost = add(self.phone_purchase_cost, other.phone_purchase_cost)
        self.kb_monthly_cost = add(self.kb_monthly_cost, other.kb_monthly_cost)
        self.kb_usage_cost = add(self.kb_usage_cost, other.kb_usage_cost)
        self.brand_registration_cost = add(
            self.brand_registration_cost, other.brand_registration_cost
        )

    @property
    def kb_cost(self) -> Decimal:
        return _EXACT.add(self.kb_monthly_cost, self.kb_usage_cost)

    @property
    def total_cost(self) -> Decimal:
        total = Decimal(0) * self.minor_unit
        for name in MONEY_FIELDS:
            total = _EXACT.add(total, getattr(self, name))
        return total


@dataclass
class Row:
    """One reported row (a user, an organization's own events, an organization, a tenant)."""

    quantities: Quantities
    money: Money

    @classmethod
    def zero(cls, minor_unit: Decimal) -> "Row":
        return cls(Quantities(), Money(minor_unit))

    @classmethod
    def priced(cls, sums: Iterable[UsageSums], cards: list[RateCard], minor_unit: Decimal) -> "Row":
        """One key's sums (one per version) priced and rounded."""
        quantities = Quantities()
        exact = ExactCosts()
        for one in sums:
            quantities.add_sums(one)
            exact.add_sums(one, cards[one.version])
        return cls(quantities, Money.rounded(exact, minor_unit))

    def in_units(
        self, organization_id: str, user_id: str, users_elsewhere: list[str], minor_exponent: int
    ) -> PricedUsage:
        """The row as the engine gives one: counts, and costs in minor units (exact: each
        figure is rounded to them)."""
        quantities = self.quantities
        counts = Counts._make(getattr(quantities, name) for name in Counts._fields)._replace(
            kb_minutes=int(_EXACT.scaleb(quantities.kb_minutes, QUANTITY_SCALE))
        )
        units = Units._make(
            int(_EXACT.scaleb(getattr(self.money, name), minor_exponent)) for name in MONEY_FIELDS
        )
        return PricedUsage(organization_id, user_id, users_elsewhere, counts, units)

    def add(self, other: "Row") -> None:
        self.quantities.add(other.quantities)
        self.money.add(other.money)


# Distinct amounts the shared cache keeps before it starts again (answers repeat the same
# amounts, zeros above all: of the 43,000 the organizations answer writes on the bench's 100M
# file, 4,404 differ).
_MOST_KEPT = 1 << 16


class Decimals(dict[int, Decimal]):
    """Integers of 10^-``exponent`` as decimals, each made once (decimals are immutable, so
    answers may share them): a dict lookup instead of 0.5 µs to make each. Answers have
    thousands of rows of a dozen amounts each."""

    def __init__(self, exponent: int) -> None:
        super().__init__()
        self.exponent = exponent

    def __missing__(self, units: int) -> Decimal:
        if len(self) >= _MOST_KEPT:
            self.clear()
        value = self[units] = _EXACT.scaleb(Decimal(units), -self.exponent)
        return value


_DECIMALS: dict[int, Decimals] = {}


def decimals(exponent: int) -> Decimals:
    """The shared cache of amounts of 10^-``exponent``."""
    found = _DECIMALS.get(exponent)
    if found is None:
        found = _DECIMALS[exponent] = Decimals(exponent)
    return found
