"""Events, rate cards and requests for the seed 001 analytics tests."""

import itertools
import json
from typing import Any

import httpx

from tests.service import Service, Tenant

Event = dict[str, Any]
_ids = itertools.count()

CARD = """\
currency = "USD"
voice_rounding = "{voice_rounding}"

[prices]
sms_outbound = "{sms_outbound}"
sms_inbound = "{sms_inbound}"
mms_outbound = "{mms_outbound}"
mms_inbound = "{mms_inbound}"
voice_per_minute = "{voice_per_minute}"
api_requests_per_1000 = "{api_requests_per_1000}"
storage_per_gb_month = "{storage_per_gb_month}"
phone_rental = "{phone_rental}"
phone_purchase = "{phone_purchase}"
brand_registration = "{brand_registration}"
kb_monthly = "{kb_monthly}"
kb_per_minute = "{kb_per_minute}"

[mau]
minimum = "100.00"
tiers = [{{ up_to = 50, unit_price = "4.00" }}, {{ unit_price = "2.00" }}]
"""

# The prices the page's example follows from (see test_users.py for the derivation).
EXAMPLE_PRICES = {
    "voice_rounding": "per_second",
    "sms_outbound": "0.025",
    "sms_inbound": "0.01",
    "mms_outbound": "0.05",
    "mms_inbound": "0.02",
    "voice_per_minute": "0.12",
    "api_requests_per_1000": "0.04",
    "storage_per_gb_month": "0.10",
    "phone_rental": "2.99",
    "phone_purchase": "1.00",
    "brand_registration": "4.00",
    "kb_monthly": "4.95",
    "kb_per_minute": "0.01",
}


def card(**prices: str) -> str:
    return CARD.format(**{**EXAMPLE_PRICES, **prices})


def set_card(service: Service, tenant: Tenant, text: str, effective: str | None = None) -> None:
    params = {"tenant": tenant.name}
    if effective is not None:
        params["effective"] = effective
    response = service.admin.put(
        "/v1/rate-cards",
        params=params,
        content=text,
        headers={"Content-Type": "application/toml"},
    )
    assert response.status_code == 200, response.text


def event(type_: str, time: str, org: str, user: str | None = None, **data: Any) -> Event:
    found: Event = {
        "id": f"e-{next(_ids)}",
        "type": type_,
        "time": time,
        "data": {"organization_id": org, **data},
    }
    if user is not None:
        found["subject"] = user
    return found


def ingest(tenant: Tenant, events: list[Event]) -> None:
    for at in range(0, len(events), 5000):
        response = tenant.ingest(events[at : at + 5000])
        assert response.status_code in (200, 201, 202), response.text


def get(tenant: Tenant, path: str, **params: Any) -> httpx.Response:
    return tenant.client.get(f"/v1/analytics/{path}", params=params)


def body(response: httpx.Response) -> Any:
    """The JSON with every non-integer number kept as its exact text ("125.50" stays so)."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return json.loads(response.text, parse_float=str)
