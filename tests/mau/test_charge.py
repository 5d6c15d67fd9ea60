"""The MAU charge's arithmetic (usagelens.mau.charge), checked against exact `Fraction`s."""

import random
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

import pytest

from usagelens.mau.charge import (
    card_in_force,
    last_day,
    mau_charge,
    month_charge,
    projected_active_users,
    round_money,
    tiered_amount,
    wholly_in_trial,
)
from usagelens.pricing.ratecard import (
    DEFAULT_RATE_CARD,
    DEFAULT_RATE_CARD_TOML,
    MauTier,
    RateCard,
    parse_rate_card,
)

JANUARY = date(2025, 1, 1)


def card(
    tiers: str,
    minimum: str = "100.00",
    trial: str | None = None,
    currency: str = "USD",
) -> RateCard:
    text = DEFAULT_RATE_CARD_TOML.replace('minimum = "100.00"', f'minimum = "{minimum}"')
    text = text.replace('currency = "USD"', f'currency = "{currency}"')
    lines = [line for line in text.splitlines() if not line.startswith("tiers = ")]
    lines.append(f"tiers = [{tiers}]")
    if trial is not None:
        lines.append(f'trial_end_date = "{trial}"')
    return parse_rate_card("\n".join(lines) + "\n")


def marginal(users: int, tiers: list[tuple[int | None, Fraction]]) -> Fraction:
    """The graduated price, user by user: the n-th user costs the price of the first tier
    whose bound reaches n."""
    total = Fraction(0)
    for n in range(1, users + 1):
        price = next(p for up_to, p in tiers if up_to is None or n <= up_to)
        total += price
    return total


def half_up(amount: Fraction, decimals: int) -> Fraction:
    scaled = amount * 10**decimals
    whole = scaled.numerator // scaled.denominator
    if scaled - whole >= Fraction(1, 2):
        whole += 1
    return Fraction(whole, 10**decimals)


def fractions_of(tiers: tuple[MauTier, ...]) -> list[tuple[int | None, Fraction]]:
    return [(t.up_to, Fraction(t.unit_price)) for t in tiers]


DEFAULT_TIERS = [(50, Fraction(4)), (250, Fraction(3)), (None, Fraction(2))]


@pytest.mark.parametrize(
    ("users", "expected"),
    [
        (0, "100.00"),  # the minimum, with nobody active
        (1, "100.00"),
        (10, "100.00"),  # 40.00 by the tiers
        (25, "100.00"),  # exactly the minimum by the tiers
        (26, "104.00"),
        (50, "200.00"),  # 50 x 4
        (51, "203.00"),  # 50 x 4 + 1 x 3
        (250, "800.00"),  # 200 + 200 x 3
        (251, "802.00"),  # 800 + 1 x 2
        (1000, "2300.00"),  # 800 + 750 x 2
    ],
)
def test_default_card_at_its_boundaries(users: int, expected: str) -> None:
    charge = mau_charge(DEFAULT_RATE_CARD, users, JANUARY)
    assert str(charge) == expected
    exact = max(marginal(users, DEFAULT_TIERS), Fraction(100))
    assert Fraction(charge) == exact


def test_tiers_match_user_by_user_pricing_for_every_count() -> None:
    for users in range(0, 600):
        assert Fraction(tiered_amount(users, DEFAULT_RATE_CARD.mau_tiers)) == marginal(
            users, DEFAULT_TIERS
        ), users


def test_random_cards_with_sub_cent_prices_round_once_half_up() -> None:
    rng = random.Random(4)
    for _ in range(200):
        bounds = sorted(rng.sample(range(1, 400), rng.randint(0, 4)))
        prices = [
            f"{rng.randint(0, 9)}.{rng.randint(0, 10**6):06d}" for _ in range(len(bounds) + 1)
        ]
        tiers = [
            f'{{ up_to = {b}, unit_price = "{p}" }}' for b, p in zip(bounds, prices, strict=False)
        ]
        tiers.append(f'{{ unit_price = "{prices[-1]}" }}')
        minimum = f"{rng.randint(0, 300)}.{rng.randint(0, 999):03d}"
        priced = card(", ".join(tiers), minimum=minimum)
        users = rng.randint(0, 700)
        exact = marginal(users, fractions_of(priced.mau_tiers))
        assert Fraction(tiered_amount(users, priced.mau_tiers)) == exact
        charge = mau_charge(priced, users, JANUARY)
        assert Fraction(charge) == half_up(max(exact, Fraction(minimum)), 2)
        assert charge.as_tuple().exponent == -2  # written with exactly two decimals


def test_half_up_not_half_even() -> None:
    eighth = card('{ unit_price = "0.125" }', minimum="0")
    assert str(mau_charge(eighth, 1, JANUARY)) == "0.13"  # half-even would say 0.12
    assert str(mau_charge(eighth, 3, JANUARY)) == "0.38"
    assert str(mau_charge(eighth, 0, JANUARY)) == "0.00"
    # rounded once, on the total: 3 x 0.333 = 0.999 -> 1.00 (not 3 x 0.33)
    third = card('{ unit_price = "0.333" }', minimum="0")
    assert str(mau_charge(third, 3, JANUARY)) == "1.00"
    assert str(round_money(Decimal("2.675"), Decimal("0.01"))) == "2.68"


def test_the_minor_unit_follows_the_currency() -> None:
    yen = card('{ up_to = 10, unit_price = "150" }, { unit_price = "99.5" }', "0", None, "JPY")
    assert str(mau_charge(yen, 11, JANUARY)) == "1600"  # 1500 + 99.5, half-up
    dinar = card('{ unit_price = "0.0005" }', "0", None, "KWD")
    assert str(mau_charge(dinar, 3, JANUARY)) == "0.002"  # 0.0015 -> 0.002


def test_huge_counts_and_prices_stay_exact() -> None:
    big = card('{ up_to = 1, unit_price = "999999999999.999999999999" }, { unit_price = "0.1" }')
    users = 10**9
    exact = Fraction("999999999999.999999999999") + Fraction(1, 10) * (users - 1)
    assert Fraction(tiered_amount(users, big.mau_tiers)) == exact
    assert Fraction(mau_charge(big, users, JANUARY)) == half_up(exact, 2)


def test_a_month_wholly_inside_the_trial_is_free() -> None:
    trial = card('{ up_to = 50, unit_price = "4.00" }, { unit_price = "2.00" }', trial="2025-01-31")
    assert str(mau_charge(trial, 300, date(2025, 1, 1))) == "0.00"
    assert str(mau_charge(trial, 0, date(2024, 12, 1))) == "0.00"  # the minimum too
    # the month after: charged, minimum included
    assert str(mau_charge(trial, 0, date(2025, 2, 1))) == "100.00"
    assert str(mau_charge(trial, 51, date(2025, 2, 1))) == "202.00"


def test_a_month_the_trial_ends_in_is_charged_in_full() -> None:
    for end in ("2025-02-01", "2025-02-27"):
        trial = card('{ unit_price = "4.00" }', minimum="0", trial=end)
        assert str(mau_charge(trial, 10, date(2025, 2, 1))) == "40.00"
    ends_with_february = card('{ unit_price = "4.00" }', minimum="0", trial="2025-02-28")
    assert str(mau_charge(ends_with_february, 10, date(2025, 2, 1))) == "0.00"


def test_month_ends() -> None:
    assert last_day(date(2024, 2, 1)) == date(2024, 2, 29)
    assert last_day(date(2025, 2, 1)) == date(2025, 2, 28)
    assert last_day(date(2025, 12, 1)) == date(2025, 12, 31)
    assert last_day(date(2025, 4, 1)) == date(2025, 4, 30)
    assert wholly_in_trial(date(2024, 2, 1), date(2024, 2, 29))
    assert not wholly_in_trial(date(2024, 2, 1), date(2024, 2, 28))
    assert not wholly_in_trial(date(2024, 2, 1), None)


def test_the_projection_never_falls_below_the_users_so_far() -> None:
    assert projected_active_users(10, 60) == 60
    assert projected_active_users(70, 60) == 70
    assert projected_active_users(0, 0) == 0
    for so_far in range(0, 30):
        for previous in range(0, 30):
            assert projected_active_users(so_far, previous) >= so_far

    current = month_charge(DEFAULT_RATE_CARD, JANUARY, 10, previous_month_active=60)
    assert current.projected
    assert (current.active_users, current.billed_users) == (10, 60)
    assert str(current.charge) == "230.00"  # 50 x 4 + 10 x 3
    past = month_charge(DEFAULT_RATE_CARD, JANUARY, 10)
    assert not past.projected
    assert (past.billed_users, str(past.charge)) == (10, "100.00")


def test_the_card_in_force_is_the_last_one_started() -> None:
    a = card('{ unit_price = "1" }')
    b = card('{ unit_price = "2" }')
    c = card('{ unit_price = "3" }')
    versions = [
        (datetime(1970, 1, 1), a),
        (datetime(2025, 3, 1, 5), b),
        (datetime(2025, 4, 15, 4), c),
    ]
    assert card_in_force(versions, datetime(2025, 3, 1, 4, 59)) is a
    assert card_in_force(versions, datetime(2025, 3, 1, 5)) is b
    assert card_in_force(versions, datetime(2025, 4, 1, 4)) is b
    assert card_in_force(versions, datetime(2025, 5, 1, 4)) is c
    assert card_in_force(versions[:1], datetime(1970, 1, 1)) is a
    with pytest.raises(ValueError, match="no rate card"):
        card_in_force([], datetime(2025, 1, 1))


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        tiered_amount(-1, DEFAULT_RATE_CARD.mau_tiers)
    with pytest.raises(ValueError, match="last tier"):
        tiered_amount(11, (MauTier(10, Decimal(1)),))
