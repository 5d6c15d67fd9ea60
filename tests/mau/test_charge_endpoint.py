"""GET /public-api/billing/end-user-teams-usage (seed 000) against the real server.

Every expected charge is worked out by hand from the events each test sends and the rate card it
sets (or the default: first 50 users at 4.00, the next 200 at 3.00, the rest at 2.00, at least
100.00 a month).
"""

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.service import Service, Tenant
from usagelens.pricing.ratecard import DEFAULT_RATE_CARD_TOML

PATH = "/public-api/billing/end-user-teams-usage"
Event = dict[str, Any]

_ids = itertools.count()


def messages(count: int, time: str, user: str, org: str = "org") -> list[Event]:
    return [
        {
            "id": f"c-{next(_ids)}",
            "type": "bot_message",
            "time": time,
            "subject": user,
            "data": {"organization_id": org},
        }
        for _ in range(count)
    ]


def active(users: int, time: str, prefix: str = "u", per_user: int = 2) -> list[Event]:
    """``users`` end users with ``per_user`` bot messages each at ``time``."""
    return [e for n in range(users) for e in messages(per_user, time, f"{prefix}{n}")]


def ingest(tenant: Tenant, events: list[Event]) -> None:
    response = tenant.ingest(events)
    assert response.status_code in (200, 201, 202), response.text


def get(tenant: Tenant, **params: Any) -> httpx.Response:
    return tenant.client.get(PATH, params=params)


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["meta"]["request_id"] == response.headers["X-Request-ID"]
    return body


def usage(tenant: Tenant, month: str) -> Any:
    body = ok(get(tenant, month=month))
    assert body["meta"]["warnings"] == []
    return body["data"]


def charged(tenant: Tenant, month: str) -> tuple[int, str]:
    """(active_users, charge as written in the JSON text)."""
    response = get(tenant, month=month)
    data = ok(response)["data"]
    written = response.text.split('"charge":', 1)[1].split(",", 1)[0]
    return data["active_users"], written


def error(response: httpx.Response, status: int, code: str) -> Any:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "meta"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert body["meta"] == {"request_id": response.headers["X-Request-ID"]}
    uuid.UUID(body["meta"]["request_id"])
    return body["error"]


def rate_card(
    tiers: str | None = None,
    minimum: str = "100.00",
    trial: str | None = None,
    currency: str = "USD",
) -> str:
    text = DEFAULT_RATE_CARD_TOML.replace('minimum = "100.00"', f'minimum = "{minimum}"')
    text = text.replace('currency = "USD"', f'currency = "{currency}"')
    if tiers is not None:
        lines = [line for line in text.splitlines() if not line.startswith("tiers = ")]
        text = "\n".join([*lines, f"tiers = [{tiers}]"]) + "\n"
    if trial is not None:
        text += f'trial_end_date = "{trial}"\n'
    return text


def set_card(service: Service, tenant: Tenant, toml: str, effective: str = "2024-01-01") -> None:
    response = service.admin.put(
        "/v1/rate-cards",
        params={"tenant": tenant.name, "effective": effective},
        content=toml,
        headers={"Content-Type": "application/toml"},
    )
    assert response.status_code == 200, response.text


def month_of(moment: datetime, tz: str) -> str:
    return moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m")


# --- the charge -------------------------------------------------------------------------------


def test_tier_boundaries_and_the_minimum_with_the_default_card(service: Service) -> None:
    tenant = service.new_tenant()
    months = {
        "2025-01": 50,
        "2025-02": 51,
        "2025-03": 250,
        "2025-04": 251,
        "2025-05": 10,
        "2025-06": 26,
    }
    events = [e for m, n in months.items() for e in active(n, f"{m}-10T12:00:00Z")]
    events += messages(1, "2025-05-11T00:00:00Z", "one-message-only")  # never active
    ingest(tenant, events)
    assert charged(tenant, "2025-01") == (50, "200.00")  # 50 x 4
    assert charged(tenant, "2025-02") == (51, "203.00")  # + 1 x 3
    assert charged(tenant, "2025-03") == (250, "800.00")  # 200 + 200 x 3
    assert charged(tenant, "2025-04") == (251, "802.00")  # + 1 x 2
    assert charged(tenant, "2025-05") == (10, "100.00")  # 40.00 by the tiers: the minimum
    assert charged(tenant, "2025-06") == (26, "104.00")
    assert charged(tenant, "2025-07") == (0, "100.00")  # nobody: still the minimum
    assert usage(tenant, "2025-07") == {
        "active_users": 0,
        "charge": 100.0,
        "currency": "USD",
        "month": "2025-07",
        "trial_end_date": None,
    }


def test_the_answer_has_the_familys_shape(service: Service) -> None:
    tenant = service.new_tenant()
    ingest(tenant, active(3, "2025-09-09T09:00:00Z"))
    response = get(tenant, month="2025-09")
    body = ok(response)
    assert list(body) == ["data", "meta"]
    assert list(body["data"]) == ["active_users", "charge", "currency", "month", "trial_end_date"]
    assert list(body["meta"]) == ["request_id", "timings_ms", "warnings"]
    assert '"charge":100.00,' in response.text  # a number, with exactly the cents
    assert isinstance(body["data"]["active_users"], int)
    timings = body["meta"]["timings_ms"]
    assert {"query", "total"} <= set(timings)
    assert all(isinstance(v, int | float) and v >= 0 for v in timings.values())
    assert timings["total"] >= timings["query"]


def test_sub_cent_prices_and_other_currencies_round_once_half_up(service: Service) -> None:
    eighths = service.new_tenant()
    set_card(service, eighths, rate_card('{ unit_price = "0.125" }', minimum="0"))
    ingest(eighths, [*active(1, "2025-01-05T00:00:00Z"), *active(3, "2025-02-05T00:00:00Z")])
    assert charged(eighths, "2025-01") == (1, "0.13")
    assert charged(eighths, "2025-02") == (3, "0.38")
    assert charged(eighths, "2025-03") == (0, "0.00")

    yen = service.new_tenant()
    set_card(service, yen, rate_card('{ unit_price = "150.5" }', minimum="0", currency="JPY"))
    ingest(yen, active(3, "2025-01-05T00:00:00Z"))
    assert charged(yen, "2025-01") == (3, "452")  # 451.5, half-up, no decimals
    assert usage(yen, "2025-01")["currency"] == "JPY"


# --- the trial and the rate card's versions ----------------------------------------------------


def test_a_month_inside_the_trial_is_free_and_the_next_is_charged(service: Service) -> None:
    tenant = service.new_tenant()
    set_card(service, tenant, rate_card(trial="2025-02-28"))
    ingest(
        tenant,
        [
            *active(60, "2025-01-15T00:00:00Z"),
            *active(60, "2025-02-28T23:00:00Z"),
            *active(60, "2025-03-01T00:00:00Z"),
        ],
    )
    january = usage(tenant, "2025-01")
    assert january == {
        "active_users": 60,
        "charge": 0.0,
        "currency": "USD",
        "month": "2025-01",
        "trial_end_date": "2025-02-28",
    }
    assert charged(tenant, "2025-01") == (60, "0.00")
    assert charged(tenant, "2025-02") == (60, "0.00")  # the trial's last day ends February
    assert charged(tenant, "2024-12") == (0, "0.00")  # no minimum inside the trial
    assert charged(tenant, "2025-03") == (60, "230.00")  # 50 x 4 + 10 x 3
    assert charged(tenant, "2025-04") == (0, "100.00")
    assert usage(tenant, "2025-04")["trial_end_date"] == "2025-02-28"


def test_a_month_the_trial_ends_in_is_charged_in_full(service: Service) -> None:
    tenant = service.new_tenant()
    set_card(service, tenant, rate_card(trial="2025-03-15"))
    ingest(tenant, [*active(30, "2025-03-10T00:00:00Z"), *active(30, "2025-03-20T00:00:00Z", "v")])
    assert charged(tenant, "2025-03") == (60, "230.00")


def test_each_month_is_priced_by_the_card_in_force_at_its_start(service: Service) -> None:
    tz = "America/New_York"
    tenant = service.new_tenant(tz=tz)
    set_card(service, tenant, rate_card())  # the default's prices, from 2024-01-01
    cheaper = rate_card('{ up_to = 10, unit_price = "5.00" }, { unit_price = "1.00" }', "0")
    set_card(service, tenant, cheaper, effective="2025-03-01")
    # a change in the middle of April applies from May
    set_card(service, tenant, rate_card('{ unit_price = "9.00" }', "0"), effective="2025-04-15")
    ingest(
        tenant,
        [
            # 04:30 UTC on March 1 is still February in New York
            *active(20, "2025-03-01T04:30:00Z"),
            *active(20, "2025-03-01T05:00:00Z", "m"),  # midnight: March there
            *active(20, "2025-04-20T12:00:00Z"),
            *active(20, "2025-05-20T12:00:00Z"),
        ],
    )
    assert charged(tenant, "2025-02") == (20, "100.00")  # the first card: 80.00, minimum 100
    assert charged(tenant, "2025-03") == (20, "60.00")  # 10 x 5 + 10 x 1
    assert charged(tenant, "2025-04") == (20, "60.00")  # the card of April 1
    assert charged(tenant, "2025-05") == (20, "180.00")  # 20 x 9
    # months before the first version take the earliest one
    assert charged(tenant, "2023-06") == (0, "100.00")


# --- the current month ------------------------------------------------------------------------


def _now_and_last_month(tz: str) -> tuple[str, str, str]:
    """Now (a second ago), a moment of the previous month, and the current month, in ``tz``."""
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    local = now.astimezone(ZoneInfo(tz))
    first = local.replace(day=1, hour=12, minute=0, second=0)
    previous = (first - timedelta(days=15)).replace(hour=12)
    return now.isoformat(), previous.isoformat(), month_of(now, tz)


@pytest.mark.parametrize("tz", ["UTC", "Pacific/Kiritimati"])
def test_the_current_month_is_a_projection_from_last_month(service: Service, tz: str) -> None:
    now, last_month, current = _now_and_last_month(tz)
    shrinking = service.new_tenant(tz=tz)
    ingest(shrinking, [*active(60, last_month), *active(10, now, "now")])
    growing = service.new_tenant(tz=tz)
    ingest(growing, [*active(5, last_month), *active(30, now, "now")])

    body = ok(get(shrinking))  # the default month is the current one
    if month_of(datetime.now(UTC), tz) != current:
        pytest.skip("the month changed during the test")
    assert body["data"]["month"] == current
    assert body["data"]["active_users"] == 10  # active so far
    assert body["data"]["charge"] == 230.0  # priced for last month's 60: 50 x 4 + 10 x 3
    [warning] = body["meta"]["warnings"]
    assert "projection" in warning
    assert f"{current} is the current month" in warning
    assert "for 60 active users" in warning
    assert ok(get(shrinking, month=current))["data"] == body["data"]

    body = ok(get(growing, month=current))
    assert body["data"]["active_users"] == 30
    assert body["data"]["charge"] == 120.0  # the 30 so far, more than last month's 5
    assert "for 30 active users" in body["meta"]["warnings"][0]

    # last month itself is final: no projection, no warning
    previous = ok(get(shrinking, month=month_of(datetime.fromisoformat(last_month), tz)))
    assert previous["meta"]["warnings"] == []
    assert previous["data"]["active_users"] == 60
    assert previous["data"]["charge"] == 230.0


def test_the_current_month_inside_a_trial_projects_zero(service: Service) -> None:
    tenant = service.new_tenant()
    set_card(service, tenant, rate_card(trial="2999-12-31"))
    body = ok(get(tenant))
    assert body["data"]["charge"] == 0.0
    assert body["data"]["trial_end_date"] == "2999-12-31"
    assert "projection" in body["meta"]["warnings"][0]


# --- parameters, auth, isolation ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("month", "code"),
    [
        ("2025-13", "invalid_month"),
        ("2025-00", "invalid_month"),
        ("2025-1", "invalid_month"),
        ("2025-01-01", "invalid_month"),
        ("Jan 2025", "invalid_month"),
        ("", "invalid_month"),
        ("１９９９-01", "invalid_month"),
        ("1969-12", "invalid_month"),
        ("2999-01", "month_in_future"),
    ],
)
def test_each_bad_month_has_its_code(service: Service, month: str, code: str) -> None:
    tenant = service.new_tenant()
    found = error(get(tenant, month=month), 400, code)
    assert found["details"] == {"parameter": "month", "value": month}


def test_next_month_of_the_tenants_zone_is_in_the_future(service: Service) -> None:
    tz = "Pacific/Kiritimati"
    tenant = service.new_tenant(tz=tz)
    now = datetime.now(ZoneInfo(tz))
    following = f"{now.year + now.month // 12:04d}-{now.month % 12 + 1:02d}"
    error(get(tenant, month=following), 400, "month_in_future")
    ok(get(tenant, month="1970-01"))


def test_credentials(service: Service) -> None:
    tenant = service.new_tenant()
    anonymous = service.client()
    error(anonymous.get(PATH), 401, "unauthorized")
    error(service.client("ul_sk_live_not-a-real-key").get(PATH), 401, "unauthorized")
    error(anonymous.get(PATH, headers={"Authorization": "Bearer nonsense"}), 401, "unauthorized")
    error(service.admin.get(PATH), 403, "forbidden")
    error(anonymous.get(PATH, params={"month": "bad"}), 401, "unauthorized")
    bearer = anonymous.get(
        PATH, params={"month": "2025-01"}, headers={"Authorization": f"Bearer {tenant.key}"}
    )
    assert ok(bearer)["data"]["month"] == "2025-01"


def test_a_tenant_sees_only_its_own_users_and_card(service: Service) -> None:
    owner = service.new_tenant()
    set_card(service, owner, rate_card('{ unit_price = "7.00" }', minimum="0", trial="2025-01-31"))
    ingest(owner, [*active(60, "2025-02-10T00:00:00Z"), *active(60, "2025-01-10T00:00:00Z")])
    other = service.new_tenant()
    ingest(other, active(60, "2025-02-10T00:00:00Z", per_user=1))  # the same ids, not active
    assert usage(other, "2025-02") == {
        "active_users": 0,
        "charge": 100.0,
        "currency": "USD",
        "month": "2025-02",
        "trial_end_date": None,
    }
    assert charged(other, "2025-01") == (0, "100.00")
    assert charged(owner, "2025-02") == (60, "420.00")
    assert charged(owner, "2025-01") == (60, "0.00")


def test_openapi_documents_the_endpoint(service: Service) -> None:
    spec = service.client().get("/openapi.json").json()
    operation = spec["paths"][PATH]["get"]
    assert "projection" in operation["description"]
    assert "previous month" in operation["description"]
    assert "charged in full" in operation["description"]
    params = {p["name"]: p["schema"] for p in operation["parameters"] if p["in"] == "query"}
    assert params["month"]["type"] == "string"
    schema = spec["components"]["schemas"]["EndUserTeamsUsage"]
    assert list(schema["properties"]) == [
        "active_users",
        "charge",
        "currency",
        "month",
        "trial_end_date",
    ]
    assert schema["properties"]["charge"]["type"] == "number"
    assert set(operation["responses"]) >= {"200", "400", "401", "403"}
