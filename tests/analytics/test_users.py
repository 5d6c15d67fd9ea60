"""`GET /v1/analytics/users` exactly per seed 001's page, on the real server.

The page's example follows from these prices (`helpers.EXAMPLE_PRICES`):

- voice 0.12/min billed per second: 21,560 s -> 43.12, 18,400 s -> 36.80;
- API 0.04 per 1,000: 250,000 -> 10.00, 200,000 -> 8.00;
- storage 0.10 per GB-month (730 GB-hours): 16,425 GB-hours -> 2.25, 10,950 -> 1.50;
- phone rental 2.99 (2 -> 5.98, 1 -> 2.99), purchase 1.00;
- messaging per segment: SMS out 0.025, SMS in 0.01, MMS out 0.05, MMS in 0.02, with every
  message one segment except 2,068 of john's and 1,690 of jane's outbound SMS (two segments):
  john 4,488 x 0.025 + 650 x 0.01 + 120 x 0.05 + 40 x 0.02 = 125.50,
  jane 3,490 x 0.025 + 420 x 0.01 + 65 x 0.05 + 25 x 0.02 = 95.20;
- knowledge bases: the page's 5.50 for 1 KB and 55.0 minutes does not follow from 5.00 + 0.01
  per minute (that is 5.55), so the KB is priced 4.95 a month and 0.01 a minute: 4.95 + 0.55.
"""

import csv
import io
from typing import Any

import pytest

from tests.analytics.helpers import Event, body, card, event, get, ingest, set_card
from tests.service import Service, Tenant

ORG = "org_abc123"


def at(index: int) -> str:
    """Times spread over January 2024 (New York), away from the edges."""
    return f"2024-01-{index % 31 + 1:02d}T15:{index % 60:02d}:00Z"


def usage_of(
    user: str,
    email: str,
    *,
    sms_out: int,
    two_segment: int,
    sms_in: int,
    mms_out: int,
    mms_in: int,
    calls: list[int],
    api: int,
    gb_hours: str,
    rentals: int,
    purchases: int,
    kb_minutes: str | None,
) -> list[Event]:
    def e(type_: str, index: int, **data: Any) -> Event:
        return event(
            type_, at(index), ORG, user, user_email=email, organization_name="Acme Corp", **data
        )

    events = [
        e("sms", i, direction="outbound", segments=2 if i < two_segment else 1)
        for i in range(sms_out)
    ]
    events += [e("sms", i, direction="inbound") for i in range(sms_in)]
    events += [e("mms", i, direction="outbound") for i in range(mms_out)]
    events += [e("mms", i, direction="inbound") for i in range(mms_in)]
    events += [e("voice_call", i, direction="outbound", seconds=s) for i, s in enumerate(calls)]
    events += [e("api_request", 1, count=api // 2), e("api_request", 2, count=api - api // 2)]
    events.append(e("storage", 3, gb_hours=gb_hours))
    events += [e("phone_rental", i, phone_number=f"+1555000{i}") for i in range(rentals)]
    events += [e("phone_purchase", i, phone_number=f"+1555100{i}") for i in range(purchases)]
    if kb_minutes is not None:
        events.append(e("knowledge_base", 4, kb_id="kb1"))
        events.append(e("kb_usage", 5, kb_id="kb1", minutes=kb_minutes))
    return events


def example_events() -> list[Event]:
    john = usage_of(
        "user_123",
        "john@acme.com",
        sms_out=2420,
        two_segment=2068,
        sms_in=650,
        mms_out=120,
        mms_in=40,
        calls=[63] * 339 + [203],
        api=250_000,
        gb_hours="16425",
        rentals=2,
        purchases=1,
        kb_minutes="55",
    )
    jane = usage_of(
        "user_456",
        "jane@acme.com",
        sms_out=1800,
        two_segment=1690,
        sms_in=420,
        mms_out=65,
        mms_in=25,
        calls=[65] * 279 + [265],
        api=200_000,
        gb_hours="10950",
        rentals=1,
        purchases=0,
        kb_minutes=None,
    )
    # The edges of January in New York (UTC-5): the first and last instants are in...
    john[0]["time"] = "2024-01-01T05:00:00Z"
    jane[0]["time"] = "2024-02-01T04:59:59Z"
    # ... and the instants just outside are not.
    outside = [
        event("sms", t, ORG, "user_123", direction="outbound")
        for t in ("2024-01-01T04:59:59Z", "2024-02-01T05:00:00Z")
    ] + [
        event(
            "voice_call", "2024-02-01T05:00:00Z", ORG, "user_456", direction="inbound", seconds=99
        )
    ]
    # Organization-level usage never shows per user.
    org_level = [
        event("brand_registration", at(7), ORG, brand_id="b1"),
        event("sms", at(8), ORG, direction="outbound"),
    ]
    return john + jane + outside + org_level


def expected_user(
    user_id: str, name: str, counts: tuple[int, ...], costs: dict[str, Any], total: str
) -> dict[str, Any]:
    sent, received, mms_sent, mms_received, calls, seconds = counts
    return {
        "user_id": user_id,
        "user_name": name,
        "total_sms_sent": sent,
        "total_sms_received": received,
        "total_mms_sent": mms_sent,
        "total_mms_received": mms_received,
        "total_voice_calls": calls,
        "total_voice_seconds": seconds,
        "cost_breakdown": costs,
        "total_cost": total,
    }


EXAMPLE = {
    "success": True,
    "organization_id": "org_abc123",
    "organization_name": "Acme Corp",
    "period": {"start": "2024-01-01", "end": "2024-01-31"},
    "users": [
        expected_user(
            "user_123",
            "john@acme.com",
            (2420, 650, 120, 40, 340, 21560),
            {
                "messaging_cost": "125.50",
                "voice_cost": "43.12",
                "api_request_cost": "10.00",
                "api_requests_count": 250000,
                "api_storage_cost": "2.25",
                "phone_rental_cost": "5.98",
                "phone_rental_count": 2,
                "phone_purchase_cost": "1.00",
                "phone_purchase_count": 1,
                "kb_cost": "5.50",
                "kb_count": 1,
                "kb_minutes": "55.0",
            },
            "193.35",
        ),
        expected_user(
            "user_456",
            "jane@acme.com",
            (1800, 420, 65, 25, 280, 18400),
            {
                "messaging_cost": "95.20",
                "voice_cost": "36.80",
                "api_request_cost": "8.00",
                "api_requests_count": 200000,
                "api_storage_cost": "1.50",
                "phone_rental_cost": "2.99",
                "phone_rental_count": 1,
                "phone_purchase_cost": "0.00",
                "phone_purchase_count": 0,
                "kb_cost": "0.00",
                "kb_count": 0,
                "kb_minutes": "0.0",
            },
            "144.49",
        ),
    ],
}
PARAMS = {"organization_id": ORG, "start_date": "2024-01-01", "end_date": "2024-01-31"}


@pytest.fixture(scope="module")
def acme(service: Service) -> Tenant:
    tenant = service.new_tenant(tz="America/New_York")
    set_card(service, tenant, card())
    ingest(tenant, example_events())
    return tenant


def test_the_pages_example_response_field_for_field(acme: Tenant) -> None:
    response = get(acme, "users", **PARAMS)
    assert body(response) == EXAMPLE
    # Money is a number with exactly two decimals, as the page writes it.
    assert '"messaging_cost":125.50,' in response.text
    assert '"phone_purchase_cost":0.00,' in response.text
    assert '"kb_minutes":55.0' in response.text
    assert '"api_requests_count":250000,' in response.text


def test_the_key_is_accepted_as_a_bearer_token_too(service: Service, acme: Tenant) -> None:
    key = acme.client.headers["X-API-Key"]
    client = service.client()
    response = client.get(
        "/v1/analytics/users", params=PARAMS, headers={"Authorization": f"Bearer {key}"}
    )
    assert body(response) == EXAMPLE


CSV_ROWS = [
    [
        "User",
        "SMS Sent",
        "SMS Received",
        "MMS Sent",
        "MMS Received",
        "Voice Calls",
        "Voice Min",
        "API Requests",
        "Storage",
        "Phone Monthly",
        "Phones Purchased",
        "KB Count",
        "KB Min",
        "Cost",
    ],
    # 21,560 s = 359.333... min and 18,400 s = 306.666... min, half-up to two decimals.
    [
        *("john@acme.com", "2420", "650", "120", "40", "340", "359.33", "250000", "2.25"),
        *("2", "1", "1", "55.0", "193.35"),
    ],
    [
        *("jane@acme.com", "1800", "420", "65", "25", "280", "306.67", "200000", "1.50"),
        *("1", "0", "0", "0.0", "144.49"),
    ],
]


def parse_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_csv_by_format_parameter_and_by_accept_header(acme: Tenant) -> None:
    by_format = get(acme, "users", **PARAMS, format="csv")
    assert by_format.status_code == 200, by_format.text
    assert by_format.headers["content-type"].startswith("text/csv")
    assert "attachment" in by_format.headers["content-disposition"]
    assert parse_csv(by_format.text) == CSV_ROWS
    by_accept = acme.client.get(
        "/v1/analytics/users", params=PARAMS, headers={"Accept": "text/csv"}
    )
    assert by_accept.status_code == 200
    assert by_accept.text == by_format.text
    # Explicit JSON wins over the header.
    as_json = acme.client.get(
        "/v1/analytics/users", params={**PARAMS, "format": "json"}, headers={"Accept": "text/csv"}
    )
    assert body(as_json) == EXAMPLE


def test_csv_rows_equal_the_json_rows(acme: Tenant) -> None:
    rows = parse_csv(get(acme, "users", **PARAMS, format="csv").text)[1:]
    users = body(get(acme, "users", **PARAMS))["users"]
    assert len(rows) == len(users)
    for row, user in zip(rows, users, strict=True):
        costs = user["cost_breakdown"]
        assert row[0] == user["user_name"]
        assert [int(v) for v in row[1:6]] == [
            user["total_sms_sent"],
            user["total_sms_received"],
            user["total_mms_sent"],
            user["total_mms_received"],
            user["total_voice_calls"],
        ]
        assert int(row[7]) == costs["api_requests_count"]
        assert row[8] == costs["api_storage_cost"]
        assert [int(v) for v in row[9:12]] == [
            costs["phone_rental_count"],
            costs["phone_purchase_count"],
            costs["kb_count"],
        ]
        assert row[12] == costs["kb_minutes"]
        assert row[13] == user["total_cost"]


def test_a_csv_name_that_looks_like_a_formula_is_defused(service: Service) -> None:
    tenant = service.new_tenant()
    ingest(
        tenant,
        [event("sms", "2024-03-01T00:00:00Z", "o", "u", direction="outbound", user_name="=1+1")],
    )
    rows = parse_csv(
        get(
            tenant,
            "users",
            organization_id="o",
            start_date="2024-03-01",
            end_date="2024-03-01",
            format="csv",
        ).text
    )
    assert rows[1][0] == "'=1+1"


def test_period_defaults_to_30_days_ago_through_today(service: Service) -> None:
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    tenant = service.new_tenant(tz="Pacific/Kiritimati")  # UTC+14: "today" differs from UTC's
    ingest(tenant, [event("sms", "2024-03-01T00:00:00Z", "o", "u", direction="outbound")])
    today = datetime.now(UTC).astimezone(ZoneInfo("Pacific/Kiritimati")).date()
    found = body(get(tenant, "users", organization_id="o"))
    assert found["period"] == {
        "start": (today - timedelta(days=30)).isoformat(),
        "end": today.isoformat(),
    }
    assert found["users"][0]["total_sms_sent"] == 0  # March 2024 is out of the default range
