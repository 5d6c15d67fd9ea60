"""The seed 000 family's MAU charge, as pure arithmetic (BRIEF §4 Money, issue 4 §4).

- **Tiers** are graduated (marginal): with tiers ``[(50, 4.00), (250, 3.00), (None, 2.00)]`` the
  first 50 active users cost 4.00 each, the next 200 (51st to 250th) 3.00 each, every further one
  2.00. A tier's ``up_to`` is the last user it prices, inclusive.
- **Minimum**: the charge is never below the card's monthly minimum, zero active users included.
- **Rounding**: once, half-up, to the currency's minor unit, after the minimum is applied; every
  step before is exact decimal arithmetic.
- **Trial**: a month every day of which is on or before ``trial_end_date`` costs zero (the minimum
  does not apply). A month the trial ends in is charged in full: MAU is a distinct count over the
  whole month, so a user active both in and after the trial days is one user either way, and
  prorating by days would price some of the same users twice (or none) depending on when they
  came; a trial is a whole-month waiver or none.
- **Projection** (the current month): priced for ``max(active so far, last month's active)``. See
  `projected_active_users`.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, Inexact, localcontext

from usagelens.pricing.ratecard import MauTier, RateCard

# Enough digits for any count times any price a rate card can hold (12 + 12 digits), exactly;
# an inexact step would raise `decimal.Inexact` rather than lose a cent.
_PRECISION = 80


def tiered_amount(active_users: int, tiers: Sequence[MauTier]) -> Decimal:
    """The exact, unrounded price of ``active_users`` by graduated tiers (the last has no
    ``up_to``)."""
    if active_users < 0:
        raise ValueError(f"active_users must not be negative, not {active_users}")
    total = Decimal(0)
    priced = 0  # users priced by the tiers before this one
    with localcontext(prec=_PRECISION) as context:
        context.traps[Inexact] = True
        for tier in tiers:
            if priced >= active_users:
                break
            upper = active_users if tier.up_to is None else min(tier.up_to, active_users)
            if upper > priced:
                total += tier.unit_price * (upper - priced)
                priced = upper
    if priced < active_users:
        raise ValueError("the last tier must have no upper bound (up_to None)")
    return total


def round_money(amount: Decimal, minor_unit: Decimal) -> Decimal:
    """``amount`` rounded half-up to ``minor_unit`` (e.g. Decimal("0.01")), written with exactly
    its decimals (``Decimal("151.00")``)."""
    with localcontext(prec=_PRECISION):
        return amount.quantize(minor_unit, rounding=ROUND_HALF_UP)


def last_day(first_day: date) -> date:
    """The last day of the month ``first_day`` begins."""
    if first_day.month == 12:
        return date(first_day.year, 12, 31)
    return date.fromordinal(date(first_day.year, first_day.month + 1, 1).toordinal() - 1)


def wholly_in_trial(first_day: date, trial_end_date: date | None) -> bool:
    """Every day of the month beginning ``first_day`` is on or before ``trial_end_date``."""
    return trial_end_date is not None and last_day(first_day) <= trial_end_date


def mau_charge(card: RateCard, active_users: int, first_day: date) -> Decimal:
    """The month's charge for ``active_users``: zero when the month lies wholly inside the card's
    trial, else the card's tiers applied marginally, never below its minimum, rounded once
    half-up to the currency's minor unit."""
    minor_unit = card.minor_unit()
    if wholly_in_trial(first_day, card.trial_end_date):
        return round_money(Decimal(0), minor_unit)
    amount = max(tiered_amount(active_users, card.mau_tiers), card.mau_minimum)
    return round_money(amount, minor_unit)


def projected_active_users(active_so_far: int, previous_month: int) -> int:
    """The current month's active users as projected for its charge: the greater of the users
    already active and those active in the whole previous month.

    MAU is a distinct count that saturates: most of a month's active users are last month's
    returning, at any point of the month, so scaling a partial count by the elapsed share of the
    month overstates it (and early in a month wildly: 3 users in its first hour would project to
    over 2,000). Last month's count is the steady base a month is expected to reach; the users
    already active are a floor, as they will be billed whatever happens, so growth beyond last
    month shows in the projection as soon as it happens and the projection never falls below
    the count so far. At the month's end it is the final count unless that fell below last
    month's.
    """
    return max(active_so_far, previous_month)


@dataclass(frozen=True)
class MonthCharge:
    """What the endpoint reports for a month (``projected`` for the current one)."""

    active_users: int  # active so far (the whole month, for a past one)
    billed_users: int  # the users the charge is for: projected for the current month
    charge: Decimal
    card: RateCard
    projected: bool


def month_charge(
    card: RateCard,
    first_day: date,
    active_users: int,
    previous_month_active: int | None = None,
) -> MonthCharge:
    """The charge of the month beginning ``first_day``; ``previous_month_active`` given: the
    month is the current one, and its charge a projection (`projected_active_users`)."""
    projected = previous_month_active is not None
    billed = (
        projected_active_users(active_users, previous_month_active)
        if previous_month_active is not None
        else active_users
    )
    return MonthCharge(
        active_users=active_users,
        billed_users=billed,
        charge=mau_charge(card, billed, first_day),
        card=card,
        projected=projected,
    )


def card_in_force(versions: Sequence[tuple[datetime, RateCard]], at: datetime) -> RateCard:
    """The version of `rate_card_versions` (sorted by start, the first from before any event) in
    force at ``at`` (naive UTC): the last one starting at or before it."""
    if not versions:
        raise ValueError("no rate card versions")
    found = versions[0][1]
    for start, card in versions:
        if start > at:
            break
        found = card
    return found
