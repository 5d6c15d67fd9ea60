"""The admin HTTP API (operator keys) on a running server: tenants, keys, rebuild."""

import hashlib
import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.service import Service

KEY_SHAPE = r"ul_sk_(?P<env>live|test)_[A-Za-z0-9]{22,}"


def unique(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:12]}"


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def listed_tenants(service: Service) -> dict[str, dict[str, object]]:
    response = service.admin.get("/v1/admin/tenants")
    assert response.status_code == 200, response.text
    return {t["name"]: t for t in response.json()["data"]}


def listed_keys(service: Service) -> dict[str, dict[str, object]]:
    response = service.admin.get("/v1/admin/keys")
    assert response.status_code == 200, response.text
    return {k["key_id"]: k for k in response.json()["data"]}


def test_create_tenant_returns_201_and_lists_it(service: Service) -> None:
    name = unique("acme")
    before = datetime.now(UTC) - timedelta(seconds=5)
    created = service.admin.post(
        "/v1/admin/tenants",
        json={
            "name": name,
            "tz": "Australia/Lord_Howe",
            "mau_min_messages": 4,
            "entra_tenant_id": f"tid-{name}",
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert {k: v for k, v in body.items() if k != "created_at"} == {
        "name": name,
        "tz": "Australia/Lord_Howe",
        "mau_min_messages": 4,
        "entra_tenant_id": f"tid-{name}",
    }
    assert before <= parse_time(body["created_at"]) <= datetime.now(UTC) + timedelta(seconds=5)
    assert listed_tenants(service)[name] == body


def test_create_tenant_defaults(service: Service) -> None:
    name = unique("plain")
    created = service.admin.post("/v1/admin/tenants", json={"name": name})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["tz"], body["mau_min_messages"], body["entra_tenant_id"]) == ("UTC", 2, None)


@pytest.mark.parametrize(
    ("field", "value"),
    [("tz", "Mars/Olympus_Mons"), ("tz", "+02:00"), ("mau_min_messages", 0)],
)
def test_invalid_tenant_is_422_naming_the_field(
    service: Service, field: str, value: object
) -> None:
    name = unique("bad")
    response = service.admin.post("/v1/admin/tenants", json={"name": name, field: value})
    assert response.status_code == 422, response.text
    assert field in response.text
    assert name not in listed_tenants(service)


def test_duplicate_tenant_is_409(service: Service) -> None:
    name = unique("dup")
    entra = f"tid-{name}"
    first = service.admin.post("/v1/admin/tenants", json={"name": name, "entra_tenant_id": entra})
    assert first.status_code == 201, first.text
    again = service.admin.post("/v1/admin/tenants", json={"name": name, "tz": "Europe/Berlin"})
    assert again.status_code == 409, again.text
    assert "already exists" in again.json()["detail"]
    assert listed_tenants(service)[name]["tz"] == "UTC"

    other = unique("other")
    same_entra = service.admin.post(
        "/v1/admin/tenants", json={"name": other, "entra_tenant_id": entra}
    )
    assert same_entra.status_code == 409, same_entra.text
    assert other not in listed_tenants(service)


@pytest.mark.parametrize("env", ["live", "test"])
def test_tenant_key_is_shown_once_and_listed_without_it(service: Service, env: str) -> None:
    name = unique("keyed")
    assert service.admin.post("/v1/admin/tenants", json={"name": name}).status_code == 201
    issued = service.admin.post("/v1/admin/keys", json={"tenant": name, "env": env})
    assert issued.status_code == 201, issued.text
    body = issued.json()
    key = body["key"]
    match = re.fullmatch(KEY_SHAPE, key)
    assert match is not None, key
    assert match["env"] == env
    assert (body["tenant"], body["kind"], body["env"], body["revoked_at"]) == (
        name,
        "tenant",
        env,
        None,
    )

    listing = service.admin.get("/v1/admin/keys")
    assert key not in listing.text
    assert key.rsplit("_", 1)[1][:8] not in listing.text
    assert hashlib.sha256(key.encode()).hexdigest() not in listing.text
    listed = listed_keys(service)[body["key_id"]]
    assert "key" not in listed
    assert listed == {k: v for k, v in body.items() if k != "key"}

    works = httpx.get(
        f"{service.server.url}/v1/organizations", headers={"X-API-Key": key}, timeout=30
    )
    assert works.status_code == 200, works.text


def test_operator_key_can_use_the_admin_api(service: Service) -> None:
    issued = service.admin.post("/v1/admin/keys", json={"operator": True})
    assert issued.status_code == 201, issued.text
    body = issued.json()
    assert (body["kind"], body["tenant"], body["env"]) == ("operator", None, "live")
    assert re.fullmatch(KEY_SHAPE, body["key"])
    operator = service.client(body["key"])
    assert operator.get("/v1/admin/tenants").status_code == 200
    assert operator.get("/v1/organizations").status_code == 403
    assert body["key_id"] in listed_keys(service)


def test_key_for_unknown_tenant_is_404(service: Service) -> None:
    name = unique("ghost")
    before = listed_keys(service)
    response = service.admin.post("/v1/admin/keys", json={"tenant": name})
    assert response.status_code == 404, response.text
    assert name in response.json()["detail"]
    assert listed_keys(service) == before


@pytest.mark.parametrize(
    "body",
    [{}, {"tenant": "anything", "operator": True}, {"operator": True, "env": "prod"}],
)
def test_key_request_must_say_which_kind(service: Service, body: dict[str, object]) -> None:
    before = listed_keys(service)
    response = service.admin.post("/v1/admin/keys", json=body)
    assert response.status_code == 422, response.text
    assert listed_keys(service) == before


def test_revoke_key_is_204_then_404(service: Service) -> None:
    tenant = service.new_tenant()
    issued = service.admin.post("/v1/admin/keys", json={"tenant": tenant.name})
    assert issued.status_code == 201, issued.text
    key_id, key = issued.json()["key_id"], issued.json()["key"]
    client = service.client(key)
    assert client.get("/v1/organizations").status_code == 200

    revoked = service.admin.delete(f"/v1/admin/keys/{key_id}")
    assert revoked.status_code == 204
    assert revoked.content == b""
    assert client.get("/v1/organizations").status_code == 401
    assert listed_keys(service)[key_id]["revoked_at"] is not None
    # The tenant's first key is untouched.
    assert tenant.client.get("/v1/organizations").status_code == 200

    again = service.admin.delete(f"/v1/admin/keys/{key_id}")
    assert again.status_code == 404, again.text
    assert key_id in again.json()["detail"]
    unknown = service.admin.delete("/v1/admin/keys/key_doesnotexist")
    assert unknown.status_code == 404, unknown.text


def test_rebuild_is_204_and_keeps_every_event(service: Service) -> None:
    tenant = service.new_tenant()
    now = datetime.now(UTC).replace(microsecond=0)
    events = [
        {
            "id": f"rebuild-{i}",
            "type": "api_request",
            "time": (now - timedelta(minutes=i)).isoformat(),
            "data": {"organization_id": "org_1", "count": i + 1},
        }
        for i in range(5)
    ]
    first = tenant.ingest(events)
    assert first.status_code < 300, first.text
    assert first.json() == {"accepted": 5, "duplicates": 0}

    rebuilt = service.admin.post("/v1/admin/rebuild")
    assert rebuilt.status_code == 204, rebuilt.text

    again = tenant.ingest(events)
    assert again.json() == {"accepted": 0, "duplicates": 5}
    assert tenant.client.get("/v1/organizations").json()["data"][0]["id"] == "org_1"


def test_admin_api_needs_a_key(service: Service) -> None:
    anonymous = service.client()
    for method, path in (
        ("GET", "/v1/admin/tenants"),
        ("POST", "/v1/admin/tenants"),
        ("GET", "/v1/admin/keys"),
        ("POST", "/v1/admin/keys"),
        ("DELETE", "/v1/admin/keys/key_x"),
        ("POST", "/v1/admin/rebuild"),
    ):
        response = anonymous.request(method, path)
        assert response.status_code == 401, (method, path, response.text)
