"""The directory's reads take a dashboard user's access token (the dashboard's organization
picker and agent names); its writes still take tenant keys only."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.auth.test_oidc import Issuer
from tests.directory.tokens import serve_with_tokens
from tests.service import Server, cli, new_key

TID = str(uuid.uuid4())
OTHER_TID = str(uuid.uuid4())
READS = [
    "/v1/organizations",
    "/v1/organizations/org-root",
    "/v1/users",
    "/v1/users?organization_id=org-child",
    "/v1/users/usr-1",
    "/v1/agents",
    "/v1/agents?organization_id=org-root",
    "/v1/agents/agt-1",
]


@dataclass
class Site:
    server: Server
    issuer: Issuer
    key: str
    operator_key: str

    def get(self, path: str, credential: str) -> httpx.Response:
        return httpx.get(
            f"{self.server.url}{path}",
            headers={"Authorization": f"Bearer {credential}"},
            timeout=30,
        )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    db = tmp_path_factory.mktemp("directory-tokens") / "usagelens.duckdb"
    cli("tenants", "create", "acme", "--entra-tenant-id", TID, db=db)
    cli("tenants", "create", "beta", "--entra-tenant-id", OTHER_TID, db=db)
    key = new_key(db, "--tenant", "acme")
    operator_key = new_key(db, "--operator")
    issuer = Issuer()
    server = serve_with_tokens(db, issuer)
    try:
        with httpx.Client(base_url=server.url, headers={"X-API-Key": key}) as client:
            for path, body in (
                ("/v1/organizations/org-root", {"name": "Root"}),
                ("/v1/organizations/org-child", {"name": "Child", "parent_id": "org-root"}),
                ("/v1/users/usr-1", {"name": "Ann", "organization_id": "org-child"}),
                ("/v1/agents/agt-1", {"name": "Bot", "organization_id": "org-root"}),
            ):
                assert client.put(path, json=body).status_code == 200
        yield Site(server, issuer, key, operator_key)
    finally:
        server.stop()
        issuer.close()


@pytest.mark.parametrize("path", READS)
def test_a_token_reads_what_its_tenants_key_reads(site: Site, path: str) -> None:
    with_token = site.get(path, site.issuer.token(TID))
    with_key = site.get(path, site.key)
    assert with_token.status_code == 200, with_token.text
    assert with_token.json() == with_key.json()


@pytest.mark.parametrize("path", ["/v1/organizations/org-root", "/v1/users/usr-1"])
def test_another_tenants_token_finds_nothing(site: Site, path: str) -> None:
    response = site.get(path, site.issuer.token(OTHER_TID))
    assert response.status_code == 404, response.text
    assert site.get("/v1/organizations", site.issuer.token(OTHER_TID)).json() == {"data": []}


def test_a_bad_token_gets_401(site: Site) -> None:
    expired = site.issuer.token(TID, exp=1)
    response = site.get("/v1/organizations", expired)
    assert response.status_code == 401, response.text
    assert response.json() == {"detail": "invalid access token"}
    assert response.headers["www-authenticate"] == "Bearer"


def test_an_operator_key_still_cannot_read(site: Site) -> None:
    response = site.get("/v1/organizations", site.operator_key)
    assert response.status_code == 403, response.text
    assert "operator keys cannot read the directory" in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/organizations/org-new", {"name": "New"}),
        ("/v1/users/usr-new", {"organization_id": "org-root"}),
        ("/v1/agents/agt-new", {"organization_id": "org-root"}),
    ],
)
def test_writes_still_need_a_tenant_key(site: Site, path: str, body: dict[str, str]) -> None:
    response = httpx.put(
        f"{site.server.url}{path}",
        json=body,
        headers={"Authorization": f"Bearer {site.issuer.token(TID)}"},
        timeout=30,
    )
    assert response.status_code == 401, response.text
    assert site.get(path, site.key).status_code == 404
