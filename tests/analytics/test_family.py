"""The rest of seed 001's family and the money rules, on the real server: effective-dated
prices, per-started-minute voice, sub-cent sums without drift, figures that add up, every
error body, and tenant isolation on every endpoint."""

import random
from decimal import Decimal
from fractions import Fraction
from typing import Any

import httpx
import pytest

from tests.analytics.helpers import body, card, event, get, ingest, set_card
from tests.service import Service, Tenant

MARCH = {"start_date": "2024-03-01", "end_date": "2024-03-31"}


def cents(value: Fraction) -> str:
    """Half-up to the cent, exactly, as text."""
    hundredths = value * 100
    whole = (hundredths.numerator * 2 + hundredths.denominator) // (hundredths.denominator * 2)
    return f"{whole // 100}.{whole % 100:02d}"


def only_user(tenant: Tenant, org: str, **params: Any) -> dict[str, Any]:
    users = body(get(tenant, "users", organization_id=org, **params))["users"]
    assert len(users) == 1
    found: dict[str, Any] = users[0]
    return found


def test_a_price_change_in_the_middle_of_the_range(service: Service) -> None:
    tenant = service.new_tenant(tz="Europe/Berlin")
    set_card(service, tenant, card(sms_outbound="0.004", voice_per_minute="0.12"))
    set_card(
        service, tenant, card(sms_outbound="0.003", voice_per_minute="0.60"), effective="2024-03-15"
    )
    # 2024-03-15 begins in Berlin at 2024-03-14T23:00Z.
    before, after = "2024-03-14T22:59:59Z", "2024-03-14T23:00:00Z"
    ingest(
        tenant,
        [
            event("sms", before, "o", "u", direction="outbound"),
            event("sms", after, "o", "u", direction="outbound"),
            event("voice_call", before, "o", "u", direction="outbound", seconds=30),
            event("voice_call", after, "o", "u", direction="outbound", seconds=30),
        ],
    )
    user = only_user(tenant, "o", **MARCH)
    # SMS 0.004 + 0.003 = 0.007, rounded once: 0.01. Voice 30 s at 0.12 + 30 s at 0.60 per min.
    assert user["cost_breakdown"]["messaging_cost"] == "0.01"
    assert user["cost_breakdown"]["voice_cost"] == "0.36"
    assert user["total_cost"] == "0.37"
    # Each side alone is priced by its own version.
    early = only_user(tenant, "o", start_date="2024-03-01", end_date="2024-03-14")
    late = only_user(tenant, "o", start_date="2024-03-15", end_date="2024-03-31")
    assert early["cost_breakdown"]["voice_cost"] == "0.06"
    assert late["cost_breakdown"]["voice_cost"] == "0.30"


def test_voice_per_started_minute(service: Service) -> None:
    tenant = service.new_tenant()
    set_card(service, tenant, card(voice_rounding="per_started_minute"))
    calls = [61, 60, 1, 0, 119]  # started minutes 2 + 1 + 1 + 0 + 2 = 6
    ingest(
        tenant,
        [
            event("voice_call", "2024-03-02T10:00:00Z", "o", "u", direction="inbound", seconds=s)
            for s in calls
        ],
    )
    user = only_user(tenant, "o", **MARCH)
    assert user["total_voice_seconds"] == 241
    assert user["total_voice_calls"] == 5
    assert user["cost_breakdown"]["voice_cost"] == "0.72"  # 6 x 0.12 (per second: 0.48)


def test_sub_cent_prices_over_many_events_do_not_drift(service: Service) -> None:
    tenant = service.new_tenant(tz="Asia/Kathmandu")
    prices = {
        "sms_outbound": "0.0079",
        "sms_inbound": "0.0031",
        "voice_per_minute": "0.0133",
        "api_requests_per_1000": "0.0007",
        "storage_per_gb_month": "0.023",
        "kb_per_minute": "0.0049",
    }
    set_card(service, tenant, card(**prices))
    price = {key: Fraction(value) for key, value in prices.items()}
    rng = random.Random(1)
    events = []
    messaging = voice = api = storage = kb = Fraction(0)
    for i in range(3000):
        time = f"2024-03-{i % 28 + 2:02d}T{i % 24:02d}:{i % 60:02d}:{i % 7:02d}Z"
        kind = i % 5
        if kind == 0:
            segments = rng.randint(1, 4)
            events.append(event("sms", time, "o", "u", direction="outbound", segments=segments))
            messaging += segments * price["sms_outbound"]
        elif kind == 1:
            segments = rng.randint(1, 4)
            events.append(event("sms", time, "o", "u", direction="inbound", segments=segments))
            messaging += segments * price["sms_inbound"]
        elif kind == 2:
            seconds = rng.randint(0, 900)
            events.append(
                event("voice_call", time, "o", "u", direction="outbound", seconds=seconds)
            )
            voice += seconds * price["voice_per_minute"] / 60
        elif kind == 3:
            count = rng.randint(1, 999)
            gb_hours = Fraction(rng.randint(1, 999_999), 1_000_000)
            events.append(event("api_request", time, "o", "u", count=count))
            events.append(
                event(
                    "storage",
                    time,
                    "o",
                    "u",
                    gb_hours=str(Decimal(gb_hours.numerator) / gb_hours.denominator),
                )
            )
            api += count * price["api_requests_per_1000"] / 1000
            storage += gb_hours * price["storage_per_gb_month"] / 730
        else:
            minutes = Fraction(rng.randint(1, 99_999), 1000)
            events.append(
                event(
                    "kb_usage",
                    time,
                    "o",
                    "u",
                    kb_id="k",
                    minutes=str(Decimal(minutes.numerator) / minutes.denominator),
                )
            )
            kb += minutes * price["kb_per_minute"]
    ingest(tenant, events)
    costs = only_user(tenant, "o", **MARCH)["cost_breakdown"]
    assert costs["messaging_cost"] == cents(messaging)
    assert costs["voice_cost"] == cents(voice)
    assert costs["api_request_cost"] == cents(api)
    assert costs["api_storage_cost"] == cents(storage)
    assert costs["kb_cost"] == cents(kb)


def _sum(values: list[str]) -> Decimal:
    return sum((Decimal(v) for v in values), Decimal(0))


def test_figures_add_up_from_users_to_organizations_to_the_overview(service: Service) -> None:
    tenant = service.new_tenant()
    set_card(service, tenant, card(sms_outbound="0.005", kb_monthly="5.00", kb_per_minute="0.0049"))
    put = tenant.client.put
    assert put("/v1/organizations/a", json={"name": "Alpha"}).status_code == 200
    assert (
        put("/v1/users/idle", json={"organization_id": "a", "name": "Idle One"}).status_code == 200
    )
    day = "2024-03-05T12:00:00Z"
    ingest(
        tenant,
        [
            # three users at half a cent each: each rounds up to 0.01 on its own row
            *(event("sms", day, "a", f"u{i}", direction="outbound") for i in range(3)),
            event("kb_usage", day, "a", "u0", kb_id="k", minutes="1"),
            event("knowledge_base", day, "a", "u1", kb_id="k"),
            # the organization's own events: an SMS without subject and a brand registration
            event("sms", day, "a", None, direction="outbound"),
            event("brand_registration", day, "a", brand_id="b"),
            event("sms", day, "b", "v", direction="outbound"),
            event("phone_rental", day, "b", None, phone_number="+1"),
        ],
    )
    users = body(get(tenant, "users", organization_id="a", **MARCH))["users"]
    assert [u["user_id"] for u in users] == ["u1", "u0", "u2", "idle"]
    assert users[-1]["user_name"] == "Idle One"
    assert users[-1]["total_cost"] == "0.00"
    assert [u["cost_breakdown"]["messaging_cost"] for u in users] == [
        "0.01",
        "0.01",
        "0.01",
        "0.00",
    ]

    organizations = body(get(tenant, "organizations", **MARCH))
    assert organizations["success"] is True
    assert organizations["period"] == {"start": "2024-03-01", "end": "2024-03-31"}
    assert organizations["currency"] == "USD"
    by_id = {o["organization_id"]: o for o in organizations["organizations"]}
    alpha, beta = by_id["a"], by_id["b"]
    assert alpha["organization_name"] == "Alpha"
    assert alpha["users_count"] == 4
    assert beta["users_count"] == 1
    costs = alpha["cost_breakdown"]
    # users' rounded figures (0.03) + the organization's own SMS (0.005 -> 0.01)
    assert costs["messaging_cost"] == "0.04"
    assert costs["brand_registration_cost"] == "4.00"
    assert costs["brand_registration_count"] == 1
    assert costs["kb_monthly_cost"] == "5.00"
    assert costs["kb_usage_cost"] == "0.00"  # 0.0049 rounds to 0.00
    assert costs["kb_cost"] == "5.00"
    assert costs["kb_count"] == 1
    assert costs["kb_minutes"] == "1.0"
    assert alpha["total_sms_sent"] == 4
    assert alpha["total_cost"] == "9.04"
    assert Decimal(alpha["total_cost"]) == _sum([u["total_cost"] for u in users]) + Decimal("4.01")
    assert beta["cost_breakdown"]["phone_rental_cost"] == "2.99"
    assert beta["total_cost"] == "3.00"
    assert [o["organization_id"] for o in organizations["organizations"]] == ["a", "b"]

    overview = body(get(tenant, "overview", **MARCH))
    assert overview["organizations_count"] == 2
    assert overview["users_count"] == 5
    assert overview["total_sms_sent"] == 5
    assert overview["total_cost"] == "12.04"
    for key, value in overview["cost_breakdown"].items():
        parts = [o["cost_breakdown"][key] for o in organizations["organizations"]]
        if isinstance(value, int):
            assert value == sum(parts), key
        else:
            assert Decimal(value) == _sum(parts), key
    money = [
        v for k, v in overview["cost_breakdown"].items() if k.endswith("_cost") and k != "kb_cost"
    ]
    assert Decimal(overview["total_cost"]) == _sum(money)


def test_usage_counters(service: Service) -> None:
    tenant = service.new_tenant()
    ingest(
        tenant,
        [
            event("sms", "2023-06-01T00:00:00Z", "o", "u", direction="outbound", segments=3),
            event("sms", "2024-03-01T00:00:00Z", "o", "u", direction="inbound", segments=2),
            event("mms", "2024-03-01T00:00:00Z", "o", "w", direction="outbound", segments=4),
            event("mms", "2024-03-01T00:00:00Z", "o", None, direction="inbound"),
            event("voice_call", "2024-03-02T00:00:00Z", "o", "u", direction="inbound", seconds=75),
            event("sms", "2024-03-01T00:00:00Z", "p", "x", direction="outbound"),
        ],
    )
    everything = body(get(tenant, "usage", organization_id="o"))
    assert everything == {
        "success": True,
        "organization_id": "o",
        "user_id": None,
        "period": {"start": None, "end": None},
        "sms_outbound_segments": 3,
        "sms_inbound_segments": 2,
        "sms_total_segments": 5,
        "mms_outbound_segments": 4,
        "mms_inbound_segments": 1,
        "mms_total_segments": 5,
        "voice_seconds": 75,
    }
    user = body(get(tenant, "usage", user_id="u", start_date="2024-01-01"))
    assert user["period"] == {"start": "2024-01-01", "end": None}
    assert (user["sms_total_segments"], user["mms_total_segments"], user["voice_seconds"]) == (
        2,
        0,
        75,
    )
    both = body(get(tenant, "usage", organization_id="o", user_id="w", end_date="2024-03-01"))
    assert (both["sms_total_segments"], both["mms_outbound_segments"]) == (0, 4)


def error(response: httpx.Response, status: int, message: str) -> None:
    assert response.status_code == status, response.text
    assert response.json() == {"success": False, "error": message}


def test_every_error_body(service: Service) -> None:
    tenant = service.new_tenant()
    other = service.new_tenant()
    ingest(other, [event("sms", "2024-03-01T00:00:00Z", "theirs", "them", direction="outbound")])
    ingest(tenant, [event("sms", "2024-03-01T00:00:00Z", "o", "u", direction="outbound")])
    error(get(tenant, "users"), 400, "organization_id is required")
    error(get(tenant, "users", organization_id=""), 400, "organization_id is required")
    error(get(tenant, "users", organization_id="nope"), 404, "organization 'nope' not found")
    error(get(tenant, "users", organization_id="theirs"), 404, "organization 'theirs' not found")
    for path in ("users", "organizations", "overview"):
        params = {"organization_id": "o"} if path == "users" else {}
        error(
            get(tenant, path, **params, start_date="2024-3-01"),
            400,
            "start_date must be a date as YYYY-MM-DD, not '2024-3-01'",
        )
        error(
            get(tenant, path, **params, end_date="2024-02-30"),
            400,
            "end_date is not a valid date: '2024-02-30'",
        )
        error(
            get(tenant, path, **params, start_date="2024-03-02", end_date="2024-03-01"),
            400,
            "start_date (2024-03-02) must not be after end_date (2024-03-01)",
        )
    error(
        get(tenant, "users", organization_id="o", format="xml"),
        400,
        "format must be json or csv, not 'xml'",
    )
    error(get(tenant, "usage"), 400, "organization_id or user_id is required")
    error(get(tenant, "usage", organization_id="theirs"), 404, "organization 'theirs' not found")
    error(get(tenant, "usage", user_id="them"), 404, "user 'them' not found")
    error(
        get(tenant, "usage", user_id="u", start_date="x"),
        400,
        "start_date must be a date as YYYY-MM-DD, not 'x'",
    )
    anonymous = service.client()
    for path in ("users", "organizations", "overview", "usage"):
        response = anonymous.get(f"/v1/analytics/{path}", params={"organization_id": "o"})
        assert response.status_code == 401
        assert response.json()["success"] is False
        forbidden = service.admin.get(f"/v1/analytics/{path}", params={"organization_id": "o"})
        assert forbidden.status_code == 403
        assert forbidden.json() == {
            "success": False,
            "error": "operator keys cannot read analytics; use a tenant key or sign in",
        }


@pytest.mark.parametrize("path", ["users", "organizations", "overview", "usage"])
def test_tenant_isolation(service: Service, path: str) -> None:
    mine, theirs = service.new_tenant(), service.new_tenant()
    day = "2024-03-03T00:00:00Z"
    ingest(mine, [event("sms", day, "org1", "u1", direction="outbound", segments=1)])
    ingest(
        theirs,
        [
            event("sms", day, "org1", "u1", direction="outbound", segments=7),
            event("sms", day, "org2", "u2", direction="outbound", segments=7),
            event("brand_registration", day, "org1", brand_id="b"),
        ],
    )
    params: dict[str, str] = {"organization_id": "org1"} if path in ("users", "usage") else {}
    found = body(get(mine, path, **params, **MARCH))
    if path == "users":
        assert [(u["user_id"], u["total_sms_sent"]) for u in found["users"]] == [("u1", 1)]
        error(get(mine, path, organization_id="org2"), 404, "organization 'org2' not found")
    elif path == "organizations":
        assert [o["organization_id"] for o in found["organizations"]] == ["org1"]
        assert found["organizations"][0]["cost_breakdown"]["brand_registration_count"] == 0
    elif path == "overview":
        assert (found["organizations_count"], found["users_count"], found["total_sms_sent"]) == (
            1,
            1,
            1,
        )
        assert found["cost_breakdown"]["brand_registration_count"] == 0
    else:
        assert found["sms_outbound_segments"] == 1
        error(get(mine, path, user_id="u2"), 404, "user 'u2' not found")


def test_a_user_with_usage_in_another_organization_is_listed_there(service: Service) -> None:
    tenant = service.new_tenant()
    day = "2024-03-04T00:00:00Z"
    ingest(
        tenant,
        [
            event("sms", day, "p", "x", direction="outbound", user_email="x@p.example"),
            event("sms", day, "q", "x", direction="outbound"),
            event("sms", day, "q", "y", direction="outbound"),
        ],
    )
    assert tenant.client.get("/v1/users/x").json()["organization_id"] == "p"
    in_q = body(get(tenant, "users", organization_id="q", **MARCH))["users"]
    assert [(u["user_id"], u["user_name"], u["total_sms_sent"]) for u in in_q] == [
        ("x", "x@p.example", 1),  # equal costs: by user_name
        ("y", "y", 1),
    ]
    organizations = body(get(tenant, "organizations", **MARCH))["organizations"]
    assert {o["organization_id"]: o["users_count"] for o in organizations} == {"p": 1, "q": 2}
    assert body(get(tenant, "overview", **MARCH))["users_count"] == 2
