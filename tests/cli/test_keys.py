"""`usagelens keys create|list|revoke` on a real DuckDB file, checked against a real server."""

import hashlib
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from tests.service import Server, cli

KEY_SHAPE = r"(?P<prefix>[a-z][a-z0-9]*)_sk_(?P<env>live|test)_(?P<secret>[A-Za-z0-9]{22,})"


def run(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    """`usagelens ARGS --db DB`, whatever its exit code."""
    return subprocess.run(
        [sys.executable, "-m", "usagelens", *args, "--db", str(db)],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=300,
        check=False,
    )


def query(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def last_line(out: str) -> str:
    lines = out.rstrip("\n").split("\n")
    return lines[-1]


@dataclass
class Issued:
    db: Path
    outputs: dict[str, str]  # full stdout of each `keys create`
    keys: dict[str, str]  # name -> the key printed on the last line
    key_ids: dict[str, str]  # name -> key id, looked up in the file by the key's SHA-256


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> Issued:
    db = tmp_path_factory.mktemp("keys") / "usagelens.duckdb"
    cli("tenants", "create", "acme", db=db)
    outputs = {
        "live": cli("keys", "create", "--tenant", "acme", db=db),
        "test": cli("keys", "create", "--tenant", "acme", "--env", "test", db=db),
        "operator": cli("keys", "create", "--operator", db=db),
    }
    keys = {name: last_line(out) for name, out in outputs.items()}
    by_hash = {row[1]: row[0] for row in query(db, "SELECT key_id, key_hash FROM api_keys")}
    key_ids = {name: by_hash[sha256(key)] for name, key in keys.items() if sha256(key) in by_hash}
    return Issued(db, outputs, keys, key_ids)


def works_on_tenant_api(server: Server, key: str) -> int:
    return httpx.get(
        f"{server.url}/v1/organizations", headers={"Authorization": f"Bearer {key}"}, timeout=30
    ).status_code


def test_create_prints_the_key_alone_on_the_last_line(issued: Issued) -> None:
    expected_env = {"live": "live", "test": "test", "operator": "live"}
    for name, key in issued.keys.items():
        match = re.fullmatch(KEY_SHAPE, key)
        assert match is not None, issued.outputs[name]
        assert match["prefix"] == "ul"
        assert match["env"] == expected_env[name]
    assert len(set(issued.keys.values())) == 3


def test_the_file_holds_only_sha256_digests_of_the_keys(issued: Issued) -> None:
    rows = query(
        issued.db, "SELECT key_id, tenant_id IS NULL, kind, env, key_hash, hint FROM api_keys"
    )
    assert len(rows) == 3
    by_hash = {row[4]: row for row in rows}
    assert set(by_hash) == {sha256(key) for key in issued.keys.values()}
    expected = {
        "live": ("tenant", "live"),
        "test": ("tenant", "test"),
        "operator": ("operator", "live"),
    }
    for name, key in issued.keys.items():
        key_id, no_tenant, kind, env, _, _ = by_hash[sha256(key)]
        assert (kind, env) == expected[name]
        assert no_tenant == (name == "operator")
        assert key_id == issued.key_ids[name]
    secrets = [key.rsplit("_", 1)[1] for key in issued.keys.values()]
    for row in rows:
        for value in row:
            for secret in secrets:
                assert secret not in str(value)
    on_disk = b"".join(
        path.read_bytes() for path in issued.db.parent.iterdir() if path.name.startswith("usage")
    )
    for key, secret in zip(issued.keys.values(), secrets, strict=True):
        assert key.encode() not in on_disk
        assert secret.encode() not in on_disk


def test_list_shows_every_key_id_and_no_secret(issued: Issued) -> None:
    out = cli("keys", "list", db=issued.db)
    for name, key in issued.keys.items():
        assert issued.key_ids[name] in out, out
        secret = key.rsplit("_", 1)[1]
        assert secret[:8] not in out
        assert key not in out


def test_revoked_key_is_refused_once_the_server_starts(issued: Issued) -> None:
    unknown = run("keys", "revoke", "key_doesnotexist", db=issued.db)
    assert unknown.returncode == 1
    assert "key_doesnotexist" in unknown.stderr

    revoked = run("keys", "revoke", issued.key_ids["live"], db=issued.db)
    assert revoked.returncode == 0, revoked.stderr
    revoked_at = "SELECT revoked_at IS NOT NULL FROM api_keys WHERE key_id = ?"
    assert query(issued.db, revoked_at, [issued.key_ids["live"]]) == [(True,)]

    server = Server(issued.db).start()
    try:
        assert works_on_tenant_api(server, issued.keys["live"]) == 401
        assert works_on_tenant_api(server, issued.keys["test"]) == 200
        admin = httpx.get(
            f"{server.url}/v1/admin/tenants",
            headers={"X-API-Key": issued.keys["operator"]},
            timeout=30,
        )
        assert admin.status_code == 200
        assert [t["name"] for t in admin.json()["data"]] == ["acme"]

        # The server holds the file: the CLI says so instead of corrupting or hanging.
        busy = run("keys", "create", "--tenant", "acme", db=issued.db)
        assert busy.returncode != 0
        assert "in use" in busy.stderr
        assert re.search(KEY_SHAPE, busy.stdout) is None
        assert works_on_tenant_api(server, issued.keys["test"]) == 200
    finally:
        server.stop()


def test_custom_prefix_from_the_environment(
    issued: Issued, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USAGELENS_KEY_PREFIX", "acmeco")
    key = last_line(cli("keys", "create", "--tenant", "acme", db=issued.db))
    match = re.fullmatch(KEY_SHAPE, key)
    assert match is not None
    assert match["prefix"] == "acmeco"
    assert match["env"] == "live"
    stored = "SELECT count(*) FROM api_keys WHERE key_hash = ?"
    assert query(issued.db, stored, [sha256(key)]) == [(1,)]

    server = Server(issued.db).start()  # inherits USAGELENS_KEY_PREFIX=acmeco
    try:
        assert works_on_tenant_api(server, key) == 200
        # A key of another prefix is not one of this deployment's keys.
        assert works_on_tenant_api(server, issued.keys["test"]) == 401
    finally:
        server.stop()
