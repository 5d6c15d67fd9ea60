"""Tenants, API keys and the service's own secrets in the DuckDB file."""

import secrets
from pathlib import Path

from usagelens.auth.models import ApiKey
from usagelens.storage.base import TenantExists
from usagelens.storage.duckdb.database import Database, utcnow
from usagelens.tenants.models import Tenant

_TENANT_COLUMNS = "tenant_id, name, tz, mau_min_messages, entra_tenant_id, created_at"
_KEY_COLUMNS = "key_id, tenant_id, kind, env, key_hash, hint, created_at, revoked_at"


class TenantStore(Database):
    def __init__(self, path: Path, read_only: bool = False) -> None:
        super().__init__(path, read_only)
        # Tenants are never changed nor removed once created: every one found is kept. By name
        # too: an operator key's ingest looks up each event's tenant, and those queries held
        # the query slots the writer's commits wait for (at 100M events, 16 clients).
        self._tenants: dict[int, Tenant] = {}
        self._tenants_by_name: dict[str, Tenant] = {}
        # Secrets never change once made; reading one from the file took the write lock, so a
        # paginated read could wait for a commit.
        self._secrets: dict[str, bytes] = {}

    def create_tenant(
        self, name: str, tz: str, mau_min_messages: int, entra_tenant_id: str | None
    ) -> Tenant:
        with self._transaction() as con:
            taken = con.execute(
                "SELECT name FROM tenants WHERE name = ? OR entra_tenant_id = ?",
                [name, entra_tenant_id],
            ).fetchall()
            if taken:
                what = "name" if taken[0][0] == name else "Entra tenant id"
                raise TenantExists(f"a tenant with this {what} already exists")
            row = con.execute("SELECT coalesce(max(tenant_id), 0) + 1 FROM tenants").fetchone()
            assert row is not None
            tenant = Tenant(int(row[0]), name, tz, mau_min_messages, entra_tenant_id, utcnow())
            con.execute(
                f"INSERT INTO tenants ({_TENANT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                [tenant.tenant_id, name, tz, mau_min_messages, entra_tenant_id, tenant.created_at],
            )
        return tenant

    def list_tenants(self) -> list[Tenant]:
        rows = self._rows(f"SELECT {_TENANT_COLUMNS} FROM tenants ORDER BY tenant_id")
        return [Tenant(*row) for row in rows]

    def tenant_by_name(self, name: str) -> Tenant | None:
        if name not in self._tenants_by_name:
            rows = self._rows(f"SELECT {_TENANT_COLUMNS} FROM tenants WHERE name = ?", [name])
            if not rows:
                return None  # not kept: it may be created later
            self._tenants_by_name[name] = Tenant(*rows[0])
        return self._tenants_by_name[name]

    def tenant_by_id(self, tenant_id: int) -> Tenant | None:
        if tenant_id not in self._tenants:
            rows = self._rows(
                f"SELECT {_TENANT_COLUMNS} FROM tenants WHERE tenant_id = ?", [tenant_id]
            )
            if not rows:
                return None
            self._tenants[tenant_id] = Tenant(*rows[0])
        return self._tenants[tenant_id]

    def tenant_by_entra_id(self, entra_tenant_id: str) -> Tenant | None:
        rows = self._rows(
            f"SELECT {_TENANT_COLUMNS} FROM tenants WHERE entra_tenant_id = ?", [entra_tenant_id]
        )
        return Tenant(*rows[0]) if rows else None

    def add_key(self, key: ApiKey) -> None:
        with self._transaction() as con:
            con.execute(
                f"INSERT INTO api_keys ({_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    key.key_id,
                    key.tenant_id,
                    key.kind,
                    key.env,
                    key.key_hash,
                    key.hint,
                    key.created_at,
                    key.revoked_at,
                ],
            )

    def list_keys(self) -> list[ApiKey]:
        rows = self._rows(f"SELECT {_KEY_COLUMNS} FROM api_keys ORDER BY created_at, key_id")
        return [ApiKey(*row) for row in rows]

    def key_by_hash(self, key_hash: str) -> ApiKey | None:
        rows = self._rows(f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE key_hash = ?", [key_hash])
        return ApiKey(*rows[0]) if rows else None

    def service_secret(self, name: str) -> bytes:
        """A random secret of the service, made on first use and kept in the file."""
        known = self._secrets.get(name)
        if known is not None:
            return known
        with self._write_lock:
            rows = self._rows("SELECT secret FROM service_secrets WHERE name = ?", [name])
            if rows:
                secret = bytes(rows[0][0])
            else:
                secret = secrets.token_bytes(32)
                with self._transaction() as con:
                    con.execute(
                        "INSERT INTO service_secrets VALUES (?, ?, ?)", [name, secret, utcnow()]
                    )
            self._secrets[name] = secret
            return secret

    def revoke_key(self, key_id: str) -> bool:
        with self._transaction() as con:
            updated = con.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL "
                "RETURNING key_id",
                [utcnow(), key_id],
            ).fetchall()
        return bool(updated)
