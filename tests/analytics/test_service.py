"""The answers' structs built straight from the engine's integers: each integer under its own
name, with the currency's decimals, and rows in the page's order."""

import json
from datetime import date
from decimal import Decimal

from usagelens.analytics import service
from usagelens.analytics.costs import decimals
from usagelens.analytics.queries import (
    COUNTS,
    MONEY_FIELDS,
    Counts,
    PricedUsage,
    Units,
    nothing_priced,
)
from usagelens.analytics.schemas import ENCODER
from usagelens.analytics.service import Range, UserRows, users_response

# Distinct values in every position, so that any two fields swapped fail.
COUNTED = Counts._make(range(1, len(COUNTS) + 1))
PRICED = Units._make(100 * n + n for n in range(1, len(MONEY_FIELDS) + 1))  # 101, 202, ...

USER_BREAKDOWN = {
    "messaging_cost": 1.01,
    "voice_cost": 2.02,
    "api_request_cost": 3.03,
    "api_requests_count": 7,
    "api_storage_cost": 4.04,
    "phone_rental_cost": 5.05,
    "phone_rental_count": 8,
    "phone_purchase_cost": 6.06,
    "phone_purchase_count": 9,
    "kb_cost": 15.15,  # kb_monthly_cost 7.07 + kb_usage_cost 8.08
    "kb_count": 10,
    "kb_minutes": 0.000011,  # the 11th count, in 10^-6 minutes
}


def _users(*rows: tuple[str, str, PricedUsage]) -> list[dict[str, object]]:
    found = UserRows(Range(date(2024, 1, 1), date(2024, 1, 31)), "org", "Org", 2, [*rows])
    users: list[dict[str, object]] = json.loads(ENCODER.encode(users_response(found)))["users"]
    return users


def test_a_user_shows_each_integer_of_the_engine_under_its_own_name() -> None:
    [user] = _users(("u1", "ann@example.com", PricedUsage("org", "u1", [], COUNTED, PRICED)))
    breakdown = user.pop("cost_breakdown")
    assert user == {
        "user_id": "u1",
        "user_name": "ann@example.com",
        "total_sms_sent": 1,
        "total_sms_received": 2,
        "total_mms_sent": 3,
        "total_mms_received": 4,
        "total_voice_calls": 5,
        "total_voice_seconds": 6,
        "total_cost": 45.45,  # 101 + 202 + ... + 909 cents
    }
    assert breakdown == USER_BREAKDOWN


def test_an_organization_adds_its_own_fields_under_their_names() -> None:
    row = PricedUsage("org", "", [], COUNTED, PRICED)
    found = json.loads(ENCODER.encode(service._organization_breakdown(row, decimals(2))))
    assert found == {
        **USER_BREAKDOWN,
        "kb_monthly_cost": 7.07,
        "kb_usage_cost": 8.08,
        "brand_registration_cost": 9.09,
        "brand_registration_count": 12,
    }


def test_amounts_keep_the_exponents_decimals() -> None:
    found = UserRows(Range(None, None), "o", "O", 3, [("u", "u", nothing_priced("o", "u"))])
    text = ENCODER.encode(users_response(found)).decode()
    assert '"total_cost":0.000' in text
    assert '"kb_cost":0.000' in text
    assert '"kb_minutes":0.0' in text  # minutes show one decimal at least


def test_users_run_by_total_cost_then_name_then_id() -> None:
    def costing(units: int) -> PricedUsage:
        one = Units._make([units] + [0] * (len(MONEY_FIELDS) - 1))
        return PricedUsage("org", "", [], Counts._make([0] * len(COUNTS)), one)

    listed = [
        ("u3", "bob", costing(500)),
        ("u2", "amy", costing(100)),
        ("u1", "amy", costing(100)),
        ("u4", "cat", costing(900)),
        ("u5", "abe", costing(100)),
    ]
    ranked = service._by_total_cost(listed)
    assert [user_id for user_id, _, _ in ranked] == ["u4", "u3", "u5", "u1", "u2"]
    assert {item[0]: item for item in ranked} == {item[0]: item for item in listed}
    assert Decimal(str(_users(*ranked)[0]["total_cost"])) == Decimal("9.00")
