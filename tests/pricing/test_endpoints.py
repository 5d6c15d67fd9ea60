"""`PUT /v1/rate-cards` and `GET /v1/rate-cards` on the real server, with every error status."""

import json
from typing import Any

import httpx
import pytest

from tests.service import Service
from usagelens.pricing.ratecard import DEFAULT_RATE_CARD, parse_rate_card, rate_card_to_json

PATH = "/v1/rate-cards"
TOML = {"Content-Type": "application/toml"}

CARD = """\
currency = "EUR"
voice_rounding = "per_started_minute"

[prices]
sms_outbound = "0.0079"
sms_inbound = "0"
mms_outbound = "0.0200"
mms_inbound = "0.0200"
voice_per_minute = "0.12"
api_requests_per_1000 = "0.04"
storage_per_gb_month = "0.10"
phone_rental = "2.99"
phone_purchase = "1.00"
brand_registration = "4.00"
kb_monthly = "5.00"
kb_per_minute = "0.01"

[mau]
minimum = "100.00"
tiers = [{ up_to = 50, unit_price = "4.00" }, { unit_price = "2.00" }]
"""


def as_json(text: str) -> dict[str, Any]:
    """The card as the API shows it: the stored JSON."""
    shown: dict[str, Any] = json.loads(rate_card_to_json(parse_rate_card(text)))
    return shown


def put(
    service: Service,
    tenant: str,
    body: str | bytes,
    effective: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    params = {"tenant": tenant} if effective is None else {"tenant": tenant, "effective": effective}
    return service.admin.put(PATH, params=params, content=body, headers=headers or TOML)


def listed(service: Service, tenant: str) -> dict[str, Any]:
    response = service.admin.get(PATH, params={"tenant": tenant})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_tenant_without_a_card_lists_the_default(service: Service) -> None:
    tenant = service.new_tenant()
    assert listed(service, tenant.name) == {
        "tenant": tenant.name,
        "data": [],
        "default": json.loads(rate_card_to_json(DEFAULT_RATE_CARD)),
    }


def test_put_sets_versions_and_get_lists_them_by_date(service: Service) -> None:
    tenant = service.new_tenant(tz="America/New_York")
    later = CARD.replace('sms_outbound = "0.0079"', 'sms_outbound = "0.0081"')

    response = put(service, tenant.name, later, effective="2024-03-10")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "tenant": tenant.name,
        "effective_from": "2024-03-10",
        "card": as_json(later),
    }
    response = put(service, tenant.name, CARD, headers={"Content-Type": "text/plain"})
    assert response.status_code == 200, response.text
    assert response.json()["effective_from"] == "1970-01-01"

    assert listed(service, tenant.name) == {
        "tenant": tenant.name,
        "data": [
            {"effective_from": "1970-01-01", "card": as_json(CARD)},
            {"effective_from": "2024-03-10", "card": as_json(later)},
        ],
        "default": None,
    }
    card = listed(service, tenant.name)["data"][0]["card"]
    assert card["prices"]["mms_outbound"] == "0.0200"  # exactly as written
    assert card["mau"]["tiers"][-1] == {"up_to": None, "unit_price": "2.00"}
    assert card["mau"]["trial_end_date"] is None


def test_put_for_an_existing_date_replaces_it(service: Service) -> None:
    tenant = service.new_tenant()
    assert put(service, tenant.name, CARD, effective="2025-01-01").status_code == 200
    replacement = CARD.replace('"EUR"', '"JPY"')
    headers = {"Content-Type": "application/toml; charset=utf-8"}
    response = put(service, tenant.name, replacement, effective="2025-01-01", headers=headers)
    assert response.status_code == 200, response.text
    assert listed(service, tenant.name)["data"] == [
        {"effective_from": "2025-01-01", "card": as_json(replacement)}
    ]


def test_cards_are_per_tenant(service: Service) -> None:
    one, other = service.new_tenant(), service.new_tenant()
    assert put(service, one.name, CARD).status_code == 200
    assert listed(service, other.name)["data"] == []


def validation_error(response: httpx.Response) -> tuple[list[str], str]:
    assert response.status_code == 422, response.text
    [problem] = response.json()["detail"]
    assert problem["type"] == "value_error"
    return problem["loc"], problem["msg"]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (CARD.replace('"0.0079"', '"-0.0079"'), "prices.sms_outbound", "negative"),
        (CARD.replace('"0.0079"', "0.0079"), "prices.sms_outbound", "string"),
        (CARD.replace('"0.12"', '"0.12.0"'), "prices.voice_per_minute", "malformed"),
        (CARD.replace('"0.12"', '"NaN"'), "prices.voice_per_minute", "finite"),
        (CARD + 'extra = "1"\n', "mau.extra", "unknown key"),
        (CARD.replace('kb_per_minute = "0.01"\n', ""), "prices.kb_per_minute", "required"),
        (CARD.replace("up_to = 50, ", ""), "mau.tiers[0].up_to", "required"),
        (CARD.replace('"EUR"', '"EURO"'), "currency", "ISO 4217"),
        (CARD + 'trial_end_date = "2024-02-30"\n', "mau.trial_end_date", "not a valid date"),
        (CARD.replace("[mau]", "[mau"), "toml", "not valid TOML"),
        ("", "toml", "empty"),
        (b"\xff\xfe", "toml", "UTF-8"),
    ],
)
def test_an_invalid_card_is_422_naming_the_field_and_stores_nothing(
    service: Service, body: str | bytes, field: str, message: str
) -> None:
    tenant = service.new_tenant()
    loc, msg = validation_error(put(service, tenant.name, body))
    assert loc == ["body", field]
    assert message in msg
    assert listed(service, tenant.name)["data"] == []


@pytest.mark.parametrize("effective", ["2024-3-10", "2024-02-30", "yesterday", "1969-12-31", ""])
def test_an_invalid_effective_date_is_422(service: Service, effective: str) -> None:
    tenant = service.new_tenant()
    loc, _ = validation_error(put(service, tenant.name, CARD, effective=effective))
    assert loc == ["query", "effective"]
    assert listed(service, tenant.name)["data"] == []


def test_the_tenant_parameter_is_required(service: Service) -> None:
    for response in (
        service.admin.put(PATH, content=CARD, headers=TOML),
        service.admin.get(PATH),
    ):
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["query", "tenant"]


def test_an_unknown_tenant_is_404(service: Service) -> None:
    response = put(service, "no-such-tenant", CARD)
    assert response.status_code == 404, response.text
    assert "no-such-tenant" in response.json()["detail"]
    response = service.admin.get(PATH, params={"tenant": "no-such-tenant"})
    assert response.status_code == 404, response.text


def test_a_body_that_is_not_toml_is_415(service: Service) -> None:
    tenant = service.new_tenant()
    response = put(service, tenant.name, "{}", headers={"Content-Type": "application/json"})
    assert response.status_code == 415, response.text
    assert "application/toml" in response.json()["detail"]
    assert listed(service, tenant.name)["data"] == []


def test_a_huge_body_is_413(service: Service) -> None:
    tenant = service.new_tenant()
    response = put(service, tenant.name, CARD + "#" * (64 * 1024) + "\n")
    assert response.status_code == 413, response.text


def test_only_operator_keys_may_use_rate_cards(service: Service) -> None:
    tenant = service.new_tenant()
    anonymous = service.client()
    params = {"tenant": tenant.name}
    for client, status in ((anonymous, 401), (service.client("ul_sk_live_wrong"), 401)):
        assert client.get(PATH, params=params).status_code == status
        assert client.put(PATH, params=params, content=CARD, headers=TOML).status_code == status
    assert tenant.client.get(PATH, params=params).status_code == 403
    response = tenant.client.put(PATH, params=params, content=CARD, headers=TOML)
    assert response.status_code == 403, response.text
    bearer = {"Authorization": f"Bearer {service.operator_key}"}
    assert anonymous.get(PATH, params=params, headers=bearer).status_code == 200
    assert listed(service, tenant.name)["data"] == []
