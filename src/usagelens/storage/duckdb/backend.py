"""The embedded backend: everything in one local DuckDB file."""

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from usagelens.auth.models import ApiKey
from usagelens.directory.models import Agent, DirectoryError, Organization, User
from usagelens.storage.base import AppendResult, Checkpoint, DatabaseInUse, TenantExists
from usagelens.storage.duckdb.migrations import migrate
from usagelens.storage.duckdb.rollups import ROLLUP_TABLES, directory_statements, rollup_statements
from usagelens.storage.id_index import IdIndex
from usagelens.tenants.models import Tenant
from usagelens.timezones.months import month_starts

_TENANT_COLUMNS = "tenant_id, name, tz, mau_min_messages, entra_tenant_id, created_at"
_KEY_COLUMNS = "key_id, tenant_id, kind, env, key_hash, hint, created_at, revoked_at"


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class DuckDBBackend:
    def __init__(self, path: Path, read_only: bool = False) -> None:
        self.path = path
        try:
            self._con = duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as error:
            if "lock" in str(error).lower():
                raise DatabaseInUse(
                    f"{path} is in use by another process (is `usagelens serve` running?); "
                    "stop it, or use the admin HTTP API of the running server"
                ) from error
            raise
        # TIMESTAMP columns hold UTC; pin the session zone so no machine setting leaks in.
        self._con.execute("SET TimeZone = 'UTC'")
        self._write_lock = threading.Lock()
        self._local = threading.local()
        if not read_only:
            migrate(self._con)
        self._index = IdIndex()
        self._load_index()

    # connections -------------------------------------------------------------------------

    def close(self) -> None:
        with self._write_lock:
            self._con.close()

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor per thread: one DuckDB connection must not be shared across threads."""
        cursor: duckdb.DuckDBPyConnection | None = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._con.cursor()
            cursor.execute("SET TimeZone = 'UTC'")
            self._local.cursor = cursor
        return cursor

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._write_lock:
            con = self._con
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._cursor().execute(sql, params).fetchall()

    # tenants and keys --------------------------------------------------------------------

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
            tenant = Tenant(int(row[0]), name, tz, mau_min_messages, entra_tenant_id, _utcnow())
            con.execute(
                f"INSERT INTO tenants ({_TENANT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                [tenant.tenant_id, name, tz, mau_min_messages, entra_tenant_id, tenant.created_at],
            )
            starts = month_starts(tz)
            months = pa.table(
                {
                    "tenant_id": pa.array([tenant.tenant_id] * len(starts), pa.int32()),
                    "month": pa.array([month for month, _ in starts], pa.date32()),
                    "start_utc": pa.array([start for _, start in starts], pa.timestamp("us")),
                }
            )
            con.register("new_month_starts", months)
            con.execute("INSERT INTO tenant_month_starts SELECT * FROM new_month_starts")
            con.unregister("new_month_starts")
        return tenant

    def list_tenants(self) -> list[Tenant]:
        rows = self._rows(f"SELECT {_TENANT_COLUMNS} FROM tenants ORDER BY tenant_id")
        return [Tenant(*row) for row in rows]

    def tenant_by_name(self, name: str) -> Tenant | None:
        rows = self._rows(f"SELECT {_TENANT_COLUMNS} FROM tenants WHERE name = ?", [name])
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

    def revoke_key(self, key_id: str) -> bool:
        with self._transaction() as con:
            updated = con.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL "
                "RETURNING key_id",
                [_utcnow(), key_id],
            ).fetchall()
        return bool(updated)

    # directory ---------------------------------------------------------------------------

    def put_organization(
        self, tenant_id: int, organization_id: str, name: str | None, parent_id: str | None
    ) -> Organization:
        with self._transaction() as con:
            if parent_id is not None:
                self._check_parent(con, tenant_id, organization_id, parent_id)
            con.execute(
                """
                INSERT INTO organizations
                    (tenant_id, organization_id, name, name_time, name_explicit, parent_id,
                     created_at)
                VALUES (?, ?, ?, NULL, ?, ?, ?)
                ON CONFLICT (tenant_id, organization_id) DO UPDATE SET
                    name = coalesce(excluded.name, name),
                    name_explicit = excluded.name_explicit,
                    parent_id = excluded.parent_id
                """,
                [tenant_id, organization_id, name, name is not None, parent_id, _utcnow()],
            )
        found = self.get_organization(tenant_id, organization_id)
        assert found is not None
        return found

    @staticmethod
    def _check_parent(
        con: duckdb.DuckDBPyConnection, tenant_id: int, organization_id: str, parent_id: str
    ) -> None:
        parents = dict(
            con.execute(
                "SELECT organization_id, parent_id FROM organizations WHERE tenant_id = ?",
                [tenant_id],
            ).fetchall()
        )
        if parent_id not in parents:
            raise DirectoryError("parent_id", f"unknown organization {parent_id!r}")
        ancestor: str | None = parent_id
        while ancestor is not None:
            if ancestor == organization_id:
                raise DirectoryError(
                    "parent_id", f"{parent_id!r} is {organization_id!r} or one of its descendants"
                )
            ancestor = parents.get(ancestor)

    def _require_organization(
        self, con: duckdb.DuckDBPyConnection, tenant_id: int, organization_id: str
    ) -> None:
        exists = con.execute(
            "SELECT 1 FROM organizations WHERE tenant_id = ? AND organization_id = ?",
            [tenant_id, organization_id],
        ).fetchall()
        if not exists:
            raise DirectoryError("organization_id", f"unknown organization {organization_id!r}")

    def put_user(
        self,
        tenant_id: int,
        user_id: str,
        name: str | None,
        email: str | None,
        organization_id: str,
    ) -> User:
        with self._transaction() as con:
            self._require_organization(con, tenant_id, organization_id)
            con.execute(
                """
                INSERT INTO users
                    (tenant_id, user_id, name, name_time, name_explicit, email, email_time,
                     email_explicit, organization_id, organization_time, organization_explicit,
                     created_at)
                VALUES (?, ?, ?, NULL, ?, ?, NULL, ?, ?, NULL, true, ?)
                ON CONFLICT (tenant_id, user_id) DO UPDATE SET
                    name = coalesce(excluded.name, name),
                    name_explicit = excluded.name_explicit,
                    email = coalesce(excluded.email, email),
                    email_explicit = excluded.email_explicit,
                    organization_id = excluded.organization_id,
                    organization_explicit = true
                """,
                [
                    tenant_id,
                    user_id,
                    name,
                    name is not None,
                    email,
                    email is not None,
                    organization_id,
                    _utcnow(),
                ],
            )
        found = self.get_user(tenant_id, user_id)
        assert found is not None
        return found

    def put_agent(
        self, tenant_id: int, agent_id: str, name: str | None, organization_id: str
    ) -> Agent:
        with self._transaction() as con:
            self._require_organization(con, tenant_id, organization_id)
            con.execute(
                """
                INSERT INTO agents
                    (tenant_id, agent_id, name, name_time, name_explicit, organization_id,
                     organization_time, organization_explicit, created_at)
                VALUES (?, ?, ?, NULL, ?, ?, NULL, true, ?)
                ON CONFLICT (tenant_id, agent_id) DO UPDATE SET
                    name = coalesce(excluded.name, name),
                    name_explicit = excluded.name_explicit,
                    organization_id = excluded.organization_id,
                    organization_explicit = true
                """,
                [tenant_id, agent_id, name, name is not None, organization_id, _utcnow()],
            )
        found = self.get_agent(tenant_id, agent_id)
        assert found is not None
        return found

    def get_organization(self, tenant_id: int, organization_id: str) -> Organization | None:
        rows = self._rows(
            "SELECT organization_id, name, parent_id FROM organizations "
            "WHERE tenant_id = ? AND organization_id = ?",
            [tenant_id, organization_id],
        )
        return Organization(*rows[0]) if rows else None

    def get_user(self, tenant_id: int, user_id: str) -> User | None:
        rows = self._rows(
            "SELECT user_id, name, email, organization_id FROM users "
            "WHERE tenant_id = ? AND user_id = ?",
            [tenant_id, user_id],
        )
        return User(*rows[0]) if rows else None

    def get_agent(self, tenant_id: int, agent_id: str) -> Agent | None:
        rows = self._rows(
            "SELECT agent_id, name, organization_id FROM agents "
            "WHERE tenant_id = ? AND agent_id = ?",
            [tenant_id, agent_id],
        )
        return Agent(*rows[0]) if rows else None

    def list_organizations(self, tenant_id: int) -> list[Organization]:
        rows = self._rows(
            "SELECT organization_id, name, parent_id FROM organizations WHERE tenant_id = ? "
            "ORDER BY organization_id",
            [tenant_id],
        )
        return [Organization(*row) for row in rows]

    def list_users(self, tenant_id: int, organization_id: str | None = None) -> list[User]:
        rows = self._rows(
            "SELECT user_id, name, email, organization_id FROM users WHERE tenant_id = ? "
            "AND (? IS NULL OR organization_id = ?) ORDER BY user_id",
            [tenant_id, organization_id, organization_id],
        )
        return [User(*row) for row in rows]

    def list_agents(self, tenant_id: int, organization_id: str | None = None) -> list[Agent]:
        rows = self._rows(
            "SELECT agent_id, name, organization_id FROM agents WHERE tenant_id = ? "
            "AND (? IS NULL OR organization_id = ?) ORDER BY agent_id",
            [tenant_id, organization_id, organization_id],
        )
        return [Agent(*row) for row in rows]

    # events ------------------------------------------------------------------------------

    def _load_index(self) -> None:
        reader = (
            self._cursor()
            .sql("SELECT tenant_id, id_hash FROM events ORDER BY tenant_id")
            .to_arrow_reader(1_000_000)
        )
        for batch in reader:
            tenants = batch.column(0).to_numpy()
            hashes = batch.column(1).to_numpy()
            for tenant_id in np.unique(tenants):
                self._index.add(int(tenant_id), hashes[tenants == tenant_id])

    def _stored_ids(
        self, con: duckdb.DuckDBPyConnection, tenant_id: int, candidates: pa.Table
    ) -> set[str]:
        """Which candidate ids are really stored. A retry carries its original time, so the
        cheap time-bounded look-up settles nearly all; the rest are checked in full."""
        con.register("candidates", candidates)
        try:
            found = {
                row[0]
                for row in con.execute(
                    """
                    SELECT e.event_id FROM events e SEMI JOIN candidates c
                        ON e.id_hash = c.id_hash AND e.event_id = c.event_id
                    WHERE e.tenant_id = $tenant
                      AND e.time BETWEEN (SELECT min(time) FROM candidates)
                                     AND (SELECT max(time) FROM candidates)
                    """,
                    {"tenant": tenant_id},
                ).fetchall()
            }
            if len(found) < candidates.num_rows:
                found |= {
                    row[0]
                    for row in con.execute(
                        """
                        SELECT e.event_id FROM events e SEMI JOIN candidates c
                            ON e.id_hash = c.id_hash AND e.event_id = c.event_id
                        WHERE e.tenant_id = $tenant
                        """,
                        {"tenant": tenant_id},
                    ).fetchall()
                }
        finally:
            con.unregister("candidates")
        return found

    def _new_rows(
        self, con: duckdb.DuckDBPyConnection, table: pa.Table, seen: dict[int, set[str]]
    ) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Mask of the rows whose id is neither stored nor earlier in this commit."""
        tenants = table.column("tenant_id").to_numpy()
        hashes = table.column("id_hash").to_numpy()
        ids: list[str] = table.column("event_id").to_pylist()
        keep = np.ones(table.num_rows, dtype=np.bool_)
        for tenant in np.unique(tenants):
            tenant_id = int(tenant)
            rows = np.flatnonzero(tenants == tenant)
            maybe = rows[self._index.might_contain(tenant_id, hashes[rows])]
            if maybe.size:
                candidates = table.take(pa.array(maybe)).select(["id_hash", "event_id", "time"])
                stored = self._stored_ids(con, tenant_id, candidates)
                for row in maybe:
                    keep[row] = ids[row] not in stored
            earlier = seen.setdefault(tenant_id, set())
            for row in rows:
                if keep[row]:
                    if ids[row] in earlier:
                        keep[row] = False
                    else:
                        earlier.add(ids[row])
        return keep

    def append_events(
        self, batches: Sequence[pa.Table], checkpoint: Checkpoint | None = None
    ) -> list[AppendResult]:
        """Store every batch in one transaction, each id once; rollups and the directory follow
        in the same transaction, so they never count an event the raw table lacks, or twice."""
        results: list[AppendResult] = []
        fresh: list[pa.Table] = []
        with self._transaction() as con:
            seen: dict[int, set[str]] = {}
            for table in batches:
                keep = self._new_rows(con, table, seen)
                accepted = int(keep.sum())
                results.append(AppendResult(accepted, table.num_rows - accepted))
                if accepted:
                    fresh.append(
                        table.filter(pa.array(keep)) if accepted < table.num_rows else table
                    )
            if fresh:
                new_events = pa.concat_tables(fresh)
                con.register("new_events", new_events)
                try:
                    con.execute("INSERT INTO events SELECT * FROM new_events")
                    for statement in rollup_statements("new_events"):
                        con.execute(statement)
                    for statement in directory_statements("new_events"):
                        con.execute(statement)
                finally:
                    con.unregister("new_events")
            if checkpoint is not None:
                self._save_checkpoint(con, checkpoint)
        for table in fresh:
            tenants = table.column("tenant_id").to_numpy()
            hashes = table.column("id_hash").to_numpy()
            for tenant in np.unique(tenants):
                self._index.add(int(tenant), hashes[tenants == tenant])
        return results

    @staticmethod
    def _save_checkpoint(con: duckdb.DuckDBPyConnection, checkpoint: Checkpoint) -> None:
        con.execute(
            """
            INSERT INTO ingest_checkpoints VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (fingerprint) DO UPDATE SET offset_bytes = excluded.offset_bytes,
                events_seen = excluded.events_seen, updated_at = excluded.updated_at
            """,
            [
                checkpoint.fingerprint,
                checkpoint.path,
                checkpoint.offset_bytes,
                checkpoint.events_seen,
                _utcnow(),
            ],
        )

    def checkpoint(self, fingerprint: str) -> Checkpoint | None:
        rows = self._rows(
            "SELECT fingerprint, path, offset_bytes, events_seen FROM ingest_checkpoints "
            "WHERE fingerprint = ?",
            [fingerprint],
        )
        return Checkpoint(*rows[0]) if rows else None

    def rebuild_rollups(self) -> None:
        with self._transaction() as con:
            for table in ROLLUP_TABLES:
                con.execute(f"DELETE FROM {table}")
            for statement in rollup_statements("events"):
                con.execute(statement)

    def count_events(self) -> int:
        row = self._rows("SELECT count(*) FROM events")[0]
        return int(row[0])
