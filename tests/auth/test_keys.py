"""API keys over HTTP: both headers, every way a key can be wrong, and the two kinds of key."""

import re
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from tests.service import Service, Tenant

KEY_SHAPE = re.compile(r"^ul_sk_(live|test)_([A-Za-z0-9]+)$")


@pytest.fixture(scope="module")
def tenant(service: Service) -> Tenant:
    return service.new_tenant()


def call(
    service: Service, headers: dict[str, str], path: str = "/v1/organizations"
) -> httpx.Response:
    return httpx.get(f"{service.server.url}{path}", headers=headers, timeout=30)


def assert_unauthorized(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert set(body) == {"detail"}
    assert isinstance(body["detail"], str)
    assert body["detail"]


def test_tenant_key_works_as_bearer_token(service: Service, tenant: Tenant) -> None:
    response = call(service, {"Authorization": f"Bearer {tenant.key}"})
    assert response.status_code == 200, response.text
    assert response.json() == {"data": []}


def test_tenant_key_works_as_x_api_key(service: Service, tenant: Tenant) -> None:
    response = call(service, {"X-API-Key": tenant.key})
    assert response.status_code == 200, response.text
    assert response.json() == {"data": []}


def _change_one_character(key: str) -> str:
    last = key[-1]
    return key[:-1] + ("A" if last != "A" else "B")


def _other_prefix(key: str) -> str:
    return "xx" + key.removeprefix("ul")


def _other_env(key: str) -> str:
    match = KEY_SHAPE.match(key)
    assert match is not None
    other = "test" if match[1] == "live" else "live"
    return f"ul_sk_{other}_{match[2]}"


BAD_CREDENTIALS: dict[str, Callable[[str], dict[str, str]]] = {
    "no header": lambda key: {},
    "empty X-API-Key": lambda key: {"X-API-Key": ""},
    "bearer without a token": lambda key: {"Authorization": "Bearer"},
    "basic scheme": lambda key: {"Authorization": f"Basic {key}"},
    "malformed key": lambda key: {"X-API-Key": "not-a-key"},
    "malformed bearer": lambda key: {"Authorization": "Bearer ul_sk_prod_abc"},
    "other prefix": lambda key: {"X-API-Key": _other_prefix(key)},
    "other env": lambda key: {"Authorization": f"Bearer {_other_env(key)}"},
    "one character changed": lambda key: {"X-API-Key": _change_one_character(key)},
    "one character changed, bearer": lambda key: {
        "Authorization": f"Bearer {_change_one_character(key)}"
    },
    "truncated": lambda key: {"X-API-Key": key[:-1]},
    "extended": lambda key: {"X-API-Key": key + "x"},
}


@pytest.mark.parametrize("case", BAD_CREDENTIALS)
def test_bad_credentials_get_401_with_detail(service: Service, tenant: Tenant, case: str) -> None:
    headers = BAD_CREDENTIALS[case](tenant.key)
    assert_unauthorized(call(service, headers))


def test_bad_key_gets_401_on_ingest_and_admin_too(service: Service, tenant: Tenant) -> None:
    wrong = {"X-API-Key": _change_one_character(tenant.key)}
    event = {
        "id": "auth-1",
        "type": "api_request",
        "time": datetime.now(UTC).isoformat(),
        "data": {"organization_id": "org_1"},
    }
    url = service.server.url
    assert_unauthorized(httpx.post(f"{url}/v1/events", json=event, headers=wrong, timeout=30))
    assert_unauthorized(call(service, wrong, "/v1/admin/tenants"))
    assert_unauthorized(call(service, {}, "/v1/admin/keys"))
    # Nothing was ingested by the refused call.
    accepted = tenant.ingest(event)
    assert accepted.status_code < 300, accepted.text
    assert accepted.json() == {"accepted": 1, "duplicates": 0}


def test_revoked_key_gets_401(service: Service, tenant: Tenant) -> None:
    issued = service.admin.post("/v1/admin/keys", json={"tenant": tenant.name})
    assert issued.status_code == 201, issued.text
    key, key_id = issued.json()["key"], issued.json()["key_id"]
    assert call(service, {"X-API-Key": key}).status_code == 200

    assert service.admin.delete(f"/v1/admin/keys/{key_id}").status_code == 204
    assert_unauthorized(call(service, {"X-API-Key": key}))
    assert_unauthorized(call(service, {"Authorization": f"Bearer {key}"}))
    # The tenant's other key is untouched.
    assert call(service, {"X-API-Key": tenant.key}).status_code == 200


def test_operator_key_cannot_read_tenant_endpoints(service: Service) -> None:
    for path in ("/v1/organizations", "/v1/users", "/v1/agents", "/v1/organizations/org_1"):
        for headers in (
            {"X-API-Key": service.operator_key},
            {"Authorization": f"Bearer {service.operator_key}"},
        ):
            response = call(service, headers, path)
            assert response.status_code == 403, (path, response.text)
            assert isinstance(response.json()["detail"], str)


ADMIN_CALLS: list[tuple[str, str, dict[str, object] | None]] = [
    ("GET", "/v1/admin/tenants", None),
    ("POST", "/v1/admin/tenants", {"name": "made-by-a-tenant-key"}),
    ("GET", "/v1/admin/keys", None),
    ("POST", "/v1/admin/keys", {"operator": True}),
    ("DELETE", "/v1/admin/keys/key_000000000000", None),
    ("POST", "/v1/admin/rebuild", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_CALLS)
def test_tenant_key_cannot_call_admin_endpoints(
    service: Service, tenant: Tenant, method: str, path: str, body: dict[str, object] | None
) -> None:
    def state() -> tuple[object, object]:
        return (
            service.admin.get("/v1/admin/tenants").json(),
            service.admin.get("/v1/admin/keys").json(),
        )

    before = state()
    for client in (tenant.client, service.client()):
        headers = {} if client is tenant.client else {"Authorization": f"Bearer {tenant.key}"}
        response = client.request(method, path, json=body, headers=headers)
        assert response.status_code == 403, response.text
        assert isinstance(response.json()["detail"], str)
    assert state() == before
