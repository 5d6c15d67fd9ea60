"""Cursors are signed with the configured secret, else with one kept in the database file: they
stay valid across restarts, and a server with another secret refuses them."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.service import Server, new_key

PATH = "/public-api/billing/end-user-teams/detail"
PARAMS: dict[str, str | int] = {"month": "2025-04", "limit": 1}


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


def test_cursor_secret_follows_the_setting_and_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, servers: list[Server]
) -> None:
    db = tmp_path / "usagelens.duckdb"
    operator = new_key(db, "--operator")
    key = ""

    def start(secret: str | None) -> httpx.Client:
        for server in servers:
            server.stop()
        if secret is None:
            monkeypatch.delenv("USAGELENS_CURSOR_SECRET", raising=False)
        else:
            monkeypatch.setenv("USAGELENS_CURSOR_SECRET", secret)
        server = Server(db).start()
        servers.append(server)
        return httpx.Client(base_url=server.url, headers={"X-API-Key": key}, timeout=60)

    def page(client: httpx.Client, cursor: str | None = None) -> httpx.Response:
        params = PARAMS if cursor is None else {**PARAMS, "cursor": cursor}
        return client.get(PATH, params=params)

    with start(None) as client:
        admin = {"X-API-Key": operator}
        created = client.post("/v1/admin/tenants", json={"name": "acme"}, headers=admin)
        assert created.status_code == 201, created.text
        issued = client.post("/v1/admin/keys", json={"tenant": "acme"}, headers=admin)
        key = issued.json()["key"]
        client.headers["X-API-Key"] = key
        events = [
            {
                "id": f"e-{user}-{i}",
                "type": "bot_message",
                "time": "2025-04-10T10:00:00Z",
                "subject": user,
                "data": {"organization_id": "org"},
            }
            for user in ("a", "b")
            for i in range(2)
        ]
        assert client.post("/v1/events", json=events).status_code == 200
        generated = page(client).json()["meta"]["pagination"]["next_cursor"]
    with start(None) as client:  # the generated secret is kept in the file
        assert page(client, generated).status_code == 200
    with start("configured secret") as client:
        refused = page(client, generated)
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == "invalid_cursor"
        configured = page(client).json()["meta"]["pagination"]["next_cursor"]
        assert configured != generated
        second = page(client, configured)
        assert second.status_code == 200
        assert [u["end_user"] for u in second.json()["data"]["per_user"]] == ["b"]
