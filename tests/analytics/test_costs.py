"""Exact half-up rounding of numerator / denominator, checked against `Fraction` arithmetic."""

import random
from dataclasses import fields
from decimal import Decimal
from fractions import Fraction

import pytest

from usagelens.analytics import costs
from usagelens.analytics.costs import Money, Quantities, Row, decimals, round_half_up
from usagelens.analytics.queries import MONEY_FIELDS


def reference(value: Fraction, minor_unit: Decimal) -> Decimal:
    units = value / Fraction(minor_unit)
    whole = (units.numerator * 2 + units.denominator) // (units.denominator * 2)
    return Decimal(whole) * minor_unit


@pytest.mark.parametrize(
    ("numerator", "denominator", "minor_unit", "expected"),
    [
        ("0.005", 1, "0.01", "0.01"),  # a tie rounds up
        ("0.0049999", 1, "0.01", "0.00"),
        ("0.3", 60, "0.01", "0.01"),  # 0.005 exactly: a tie
        ("0.29999", 60, "0.01", "0.00"),
        ("3.65", 730, "0.01", "0.01"),  # 0.005 exactly
        ("0", 1, "0.01", "0.00"),
        ("125.50", 1, "0.01", "125.50"),
        ("2.5", 1, "1", "3"),  # JPY
        ("0.0005", 1, "0.001", "0.001"),  # KWD
    ],
)
def test_known_values(numerator: str, denominator: int, minor_unit: str, expected: str) -> None:
    found = round_half_up(Decimal(numerator), denominator, Decimal(minor_unit))
    assert str(found) == expected


def test_random_values_match_fractions() -> None:
    rng = random.Random(4)
    for _ in range(5000):
        numerator = Decimal(rng.randint(0, 10**15)).scaleb(-rng.randint(0, 12))
        denominator = rng.choice([1, 60, 730, 1000])
        minor_unit = Decimal(rng.choice(["0.01", "1", "0.001"]))
        expected = reference(Fraction(numerator) / denominator, minor_unit)
        found = round_half_up(numerator, denominator, minor_unit)
        assert found == expected
        assert found.as_tuple().exponent == minor_unit.as_tuple().exponent


def test_adding_rows_adds_every_field() -> None:
    """Row sums are spelled out field by field: a field added later must not be left out."""
    quantities = Quantities()
    money = Money(Decimal("0.01"))
    for number, item in enumerate(fields(Quantities), start=1):
        kind = Decimal if isinstance(getattr(quantities, item.name), Decimal) else int
        setattr(quantities, item.name, kind(number))
    for number, name in enumerate(MONEY_FIELDS, start=1):
        setattr(money, name, Decimal(number))
    total = Row.zero(Decimal("0.01"))
    total.add(Row(quantities, money))
    total.add(Row(quantities, money))
    for number, item in enumerate(fields(Quantities), start=1):
        assert getattr(total.quantities, item.name) == 2 * number, item.name
    for number, name in enumerate(MONEY_FIELDS, start=1):
        assert getattr(total.money, name) == 2 * number, name


def test_shared_decimals_stay_right_past_their_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(costs, "_MOST_KEPT", 5)
    amounts = decimals(2)
    amounts.clear()
    for units in [*range(20), *range(20)]:
        assert amounts[units] == Decimal(units) / 100
        assert len(amounts) <= 5
    assert str(decimals(0)[7]) == "7"
    assert str(decimals(3)[7]) == "0.007"
