"""The directory in the DuckDB file: explicit entries, plus names appended from events."""

from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from usagelens.directory.from_events import (
    AGENT,
    ENTITY_KINDS,
    ORGANIZATION,
    USER,
    EntityKind,
    entities_named,
    ids_named,
    names_of,
)
from usagelens.directory.models import Agent, DirectoryError, Organization, User, display_name
from usagelens.storage.duckdb.cache import TenantCache
from usagelens.storage.duckdb.database import Database, utcnow
from usagelens.storage.duckdb.usage_keys import PLACE_USER

_Entity = TypeVar("_Entity", Organization, User, Agent)


# A user as the cache keeps one: (user_id, name, email, organization_id), a plain tuple of
# strings, which Python's cycle collector stops tracking. At 100M events a tenant has about
# 98,000 users; as objects, every full collection walked them all (about 120 ms, one every
# dozen requests of the bench's mix, each a pause of whichever request it fell in).
_UserRow = tuple[str, str | None, str | None, str | None]


@dataclass(frozen=True)
class _Users:
    """A tenant's users, indexed: scanning them all for one organization's or one user's cost
    17 ms a request at 100M events."""

    every: tuple[_UserRow, ...]
    by_id: Mapping[str, _UserRow]
    by_organization: Mapping[str | None, tuple[_UserRow, ...]]
    members: Mapping[str, int]  # each organization's number of users
    # Each organization's users by id with their display names, made when first asked for:
    # strings only, so the cycle collector leaves them alone too.
    names: dict[str, Mapping[str, str]] = field(default_factory=dict)

    @classmethod
    def of(cls, users: list[_UserRow]) -> "_Users":
        by_organization: dict[str | None, list[_UserRow]] = defaultdict(list)
        for user in users:
            by_organization[user[3]].append(user)
        return cls(
            tuple(users),
            {user[0]: user for user in users},
            {organization: tuple(found) for organization, found in by_organization.items()},
            {
                organization: len(found)
                for organization, found in by_organization.items()
                if organization
            },
        )


def _latest(kind: str, field: str, one: bool) -> str:
    """The latest value of a field that events carried, per entity of one tenant (one: of the
    entity $id only)."""
    only = "AND entity_id = $id" if one else ""
    return f"""
        SELECT entity_id, arg_max(value, struct_pack(t := time, s := seq)) AS value
        FROM directory_names
        WHERE tenant_id = $tenant AND kind = '{kind}' AND field = '{field}' {only}
        GROUP BY entity_id
    """


# An explicit value (PUT) wins over the ones events carry; of those, the latest event time wins,
# and of equal times the later arrival. One entity (after a PUT) is a point query: resolving
# every entity of the tenant made each PUT cost as much as the whole directory.
def _organizations(one: bool) -> str:
    return f"""
        SELECT o.organization_id, coalesce(o.name, n.value), o.parent_id
        FROM organizations o LEFT JOIN ({_latest("organization", "name", one)}) n
            ON n.entity_id = o.organization_id
        WHERE o.tenant_id = $tenant {"AND o.organization_id = $id" if one else ""}
        ORDER BY o.organization_id
    """


def _users(one: bool) -> str:
    return f"""
        SELECT u.user_id, coalesce(u.name, n.value), coalesce(u.email, e.value),
            u.organization_id
        FROM users u
            LEFT JOIN ({_latest("user", "name", one)}) n ON n.entity_id = u.user_id
            LEFT JOIN ({_latest("user", "email", one)}) e ON e.entity_id = u.user_id
        WHERE u.tenant_id = $tenant {"AND u.user_id = $id" if one else ""}
        ORDER BY u.user_id
    """


_ORGANIZATIONS, _ORGANIZATION = _organizations(one=False), _organizations(one=True)
_USERS, _USER = _users(one=False), _users(one=True)
_AGENTS = f"""
    SELECT a.agent_id, coalesce(a.name, n.value), a.organization_id
    FROM agents a LEFT JOIN ({_latest("agent", "name", one=False)}) n ON n.entity_id = a.agent_id
    WHERE a.tenant_id = $tenant AND ($id IS NULL OR a.agent_id = $id)
        AND ($organization IS NULL OR a.organization_id = $organization)
    ORDER BY a.agent_id
"""


_COMPACT_NAMES_EVERY = 200_000
_COMPACT_NAMES = """
    CREATE OR REPLACE TEMP TABLE compacted_names AS
    SELECT tenant_id, kind, entity_id, field,
           arg_max(struct_pack(value := value, time := time, seq := seq),
                   struct_pack(t := time, s := seq)) AS winner
    FROM directory_names
    GROUP BY ALL;
    DELETE FROM directory_names;
    INSERT INTO directory_names
    SELECT tenant_id, kind, entity_id, field, winner.value, winner.time, winner.seq
    FROM compacted_names;
    DROP TABLE compacted_names;
"""


class DirectoryStore(Database):
    def __init__(self, path: Path, read_only: bool = False) -> None:
        super().__init__(path, read_only)
        # Ids known per (kind, tenant), so that a commit inserts only entities that are new
        # (loaded per tenant on first use; only the writer thread touches it).
        self._known: dict[tuple[str, int], set[str]] = {}
        self._pending: list[tuple[EntityKind, int, str]] = []
        # Numbers the commits that append names, so the later of two equal times wins.
        self._names_seq = int(self._rows("SELECT coalesce(max(seq), 0) FROM directory_names")[0][0])
        self._names_since_compaction = 0
        # Each tenant's organization tree (id -> parent), read on every usage request, changes
        # only when an organization is created or PUT.
        self._trees: TenantCache[Mapping[str, str | None]] = TenantCache()
        # Each tenant's organizations and users with their names resolved: names change with
        # every commit whose events carry some, but reads between commits are many.
        self._organizations: TenantCache[tuple[Organization, ...]] = TenantCache()
        self._users: TenantCache[_Users] = TenantCache()
        # The organizations' names as an Arrow table, for queries to join.
        self._company_names: TenantCache[pa.Table] = TenantCache()

    # writes ------------------------------------------------------------------------------

    def put_organization(
        self, tenant_id: int, organization_id: str, name: str | None, parent_id: str | None
    ) -> Organization:
        with self._write_lock:
            with self._transaction() as con:
                if parent_id is not None:
                    self._check_parent(con, tenant_id, organization_id, parent_id)
                con.execute(
                    """
                    INSERT INTO organizations VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (tenant_id, organization_id) DO UPDATE SET
                        name = excluded.name, parent_id = excluded.parent_id
                    """,
                    [tenant_id, organization_id, name, parent_id, utcnow()],
                )
            self._known_ids(ORGANIZATION, tenant_id).add(organization_id)
            self._trees.changed(tenant_id)
            self.directory_changed(tenant_id)
        return self._one(
            [
                Organization(*row)
                for row in self._rows(_ORGANIZATION, {"tenant": tenant_id, "id": organization_id})
            ]
        )

    @staticmethod
    def _check_parent(
        con: duckdb.DuckDBPyConnection, tenant_id: int, organization_id: str, parent_id: str
    ) -> None:
        parents: dict[str, str | None] = dict(
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

    @staticmethod
    def _require_organization(
        con: duckdb.DuckDBPyConnection, tenant_id: int, organization_id: str
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
        with self._write_lock:
            with self._transaction() as con:
                self._require_organization(con, tenant_id, organization_id)
                con.execute(
                    """
                    INSERT INTO users VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (tenant_id, user_id) DO UPDATE SET
                        name = excluded.name, email = excluded.email,
                        organization_id = excluded.organization_id
                    """,
                    [tenant_id, user_id, name, email, organization_id, utcnow()],
                )
                params = {"tenant": tenant_id, "user": user_id, "organization": organization_id}
                con.execute(PLACE_USER, params)
            self._known_ids(USER, tenant_id).add(user_id)
            self.directory_changed(tenant_id)
        return self._one(
            [User(*row) for row in self._rows(_USER, {"tenant": tenant_id, "id": user_id})]
        )

    def put_agent(
        self, tenant_id: int, agent_id: str, name: str | None, organization_id: str
    ) -> Agent:
        with self._write_lock:
            with self._transaction() as con:
                self._require_organization(con, tenant_id, organization_id)
                con.execute(
                    """
                    INSERT INTO agents VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (tenant_id, agent_id) DO UPDATE SET
                        name = excluded.name, organization_id = excluded.organization_id
                    """,
                    [tenant_id, agent_id, name, organization_id, utcnow()],
                )
            self._known_ids(AGENT, tenant_id).add(agent_id)
        return self._one(self.list_agents(tenant_id, agent_id=agent_id))

    def _known_ids(self, kind: EntityKind, tenant_id: int) -> set[str]:
        key = (kind.kind, tenant_id)
        if key not in self._known:
            rows = self._rows(
                f"SELECT {kind.key_column} FROM {kind.table} WHERE tenant_id = ?", [tenant_id]
            )
            self._known[key] = {row[0] for row in rows}
        return self._known[key]

    def _record_directory(self, con: duckdb.DuckDBPyConnection, events: pa.Table) -> None:
        """In the ingest transaction: create the entities the events name for the first time,
        and append the names and emails they carry."""
        for kind in ENTITY_KINDS:
            # Almost every id a commit names is known: only the events naming one that is not
            # are read in full, and each tenant's ids are checked as one set (this method's part
            # of a commit of 15,000 events at 10M: 34.5 ms with each id looked up in turn, 18.8
            # this way and with names_of filtering only the columns it needs).
            unknown: set[str] = set()
            for tenant, ids in ids_named(events, kind).items():
                unknown |= set(ids) - self._known_ids(kind, tenant)
            if not unknown:
                continue
            naming = events.filter(
                pc.is_in(events[kind.id_column], pa.array(list(unknown), pa.string()))
            )
            fresh = [  # those ids may be known to other tenants
                row
                for row in entities_named(naming, kind).to_pylist()
                if row[kind.key_column] not in self._known_ids(kind, row["tenant_id"])
            ]
            now = utcnow()
            columns = {
                "tenant_id": pa.array([row["tenant_id"] for row in fresh], pa.int32()),
                kind.key_column: pa.array([row[kind.key_column] for row in fresh], pa.string()),
                "created_at": pa.array([now] * len(fresh), pa.timestamp("us")),
            }
            if kind is not ORGANIZATION:
                organizations = [row["organization_id"] for row in fresh]
                columns["organization_id"] = pa.array(organizations, pa.string())
            self._insert(con, kind.table, pa.table(columns))
            # Only after the commit may the cache learn them: see _learn_pending.
            self._pending.extend((kind, row["tenant_id"], row[kind.key_column]) for row in fresh)
        self._names_seq += 1
        names = names_of(events, self._names_seq)
        self._insert(con, "directory_names", names)
        self._names_since_compaction += names.num_rows
        if self._names_since_compaction >= _COMPACT_NAMES_EVERY:
            self._compact_names(con)

    def _compact_names(self, con: duckdb.DuckDBPyConnection) -> None:
        """Keep only the winning value of each entity's field: reads aggregate over what is
        left, so they cost as much as there are entities, not as there were names sent."""
        con.execute(_COMPACT_NAMES)
        self._names_since_compaction = 0

    def directory_changed(self, tenant_id: int | None = None) -> None:
        """After a commit that changed the tenant's entities or their names (None: any
        tenant's): resolved names read before are stale from now."""
        for cache in (self._organizations, self._users, self._company_names):
            if tenant_id is None:
                cache.all_changed()
            else:
                cache.changed(tenant_id)

    @contextmanager
    def _forgetting_pending_on_failure(self) -> Iterator[None]:
        """Around a transaction that records the directory: if it fails, nothing it inserted
        was stored, so no later commit may learn those entities as known."""
        try:
            yield
        except BaseException:
            self._pending.clear()
            raise

    def _learn_pending(self) -> None:
        for kind, tenant_id, entity_id in self._pending:
            self._known_ids(kind, tenant_id).add(entity_id)
            if kind is ORGANIZATION:
                self._trees.changed(tenant_id)
        self._pending.clear()

    # reads -------------------------------------------------------------------------------

    @staticmethod
    def _one(found: list[_Entity]) -> _Entity:
        assert len(found) == 1
        return found[0]

    def get_organization(self, tenant_id: int, organization_id: str) -> Organization | None:
        found = self.list_organizations(tenant_id, organization_id)
        return found[0] if found else None

    def get_user(self, tenant_id: int, user_id: str) -> User | None:
        found = self.list_users(tenant_id, user_id=user_id)
        return found[0] if found else None

    def get_agent(self, tenant_id: int, agent_id: str) -> Agent | None:
        found = self.list_agents(tenant_id, agent_id=agent_id)
        return found[0] if found else None

    def list_organizations(
        self, tenant_id: int, organization_id: str | None = None
    ) -> list[Organization]:
        def read() -> tuple[Organization, ...]:
            rows = self._rows(_ORGANIZATIONS, {"tenant": tenant_id})
            return tuple(Organization(*row) for row in rows)

        every = self._organizations.get(tenant_id, read)
        return [o for o in every if organization_id in (None, o.organization_id)]

    def company_names(self, tenant_id: int) -> pa.Table:
        """The organizations' resolved names as a table (organization_id, name)."""

        def read() -> pa.Table:
            organizations = self.list_organizations(tenant_id)
            return pa.table(
                {
                    "organization_id": pa.array(
                        [o.organization_id for o in organizations], pa.string()
                    ),
                    "name": pa.array([o.name for o in organizations], pa.string()),
                }
            )

        return self._company_names.get(tenant_id, read)

    def organization_parents(self, tenant_id: int) -> Mapping[str, str | None]:
        def read() -> Mapping[str, str | None]:
            rows = self._rows(
                "SELECT organization_id, parent_id FROM organizations WHERE tenant_id = ?",
                [tenant_id],
            )
            return MappingProxyType({row[0]: row[1] for row in rows})

        return self._trees.get(tenant_id, read)

    def list_users(
        self, tenant_id: int, organization_id: str | None = None, user_id: str | None = None
    ) -> list[User]:
        users = self._users_of(tenant_id)
        found: tuple[_UserRow, ...]
        if user_id is not None:
            user = users.by_id.get(user_id)
            found = () if user is None else (user,)
        elif organization_id is not None:
            found = users.by_organization.get(organization_id, ())
        else:
            found = users.every
        return [User(*user) for user in found if organization_id in (None, user[3])]

    def user_names(self, tenant_id: int, organization_id: str) -> Mapping[str, str]:
        """Made once per organization and directory change: at 100M events, making ``User``
        objects of the per-user answer's 3,737 users took 4.4 to 6.5 ms a request."""
        users = self._users_of(tenant_id)
        found = users.names.get(organization_id)
        if found is None:
            found = MappingProxyType(
                {
                    user_id: display_name(user_id, name, email)
                    for user_id, name, email, _ in users.by_organization.get(organization_id, ())
                }
            )
            users.names[organization_id] = found
        return found

    def organization_members(self, tenant_id: int) -> Mapping[str, int]:
        return MappingProxyType(self._users_of(tenant_id).members)

    def _users_of(self, tenant_id: int) -> _Users:
        def read() -> _Users:
            return _Users.of(self._rows(_USERS, {"tenant": tenant_id}))

        return self._users.get(tenant_id, read)

    def list_agents(
        self, tenant_id: int, organization_id: str | None = None, agent_id: str | None = None
    ) -> list[Agent]:
        params = {"tenant": tenant_id, "id": agent_id, "organization": organization_id}
        return [Agent(*row) for row in self._rows(_AGENTS, params)]
