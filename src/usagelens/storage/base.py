"""The narrow interface every storage engine implements (DuckDB embedded, ClickHouse later)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import pyarrow as pa

from usagelens.analytics.queries import AnalyticsQueries
from usagelens.auth.models import ApiKey
from usagelens.directory.models import Agent, Organization, User
from usagelens.mau.queries import MauQueries
from usagelens.pricing.queries import RateCardQueries
from usagelens.tenants.models import Tenant
from usagelens.usage.queries import UsageQueries


@dataclass(frozen=True)
class AppendResult:
    accepted: int
    duplicates: int


@dataclass(frozen=True)
class Checkpoint:
    """How far a bulk file load has got, committed with the events it covers."""

    fingerprint: str
    path: str
    offset_bytes: int
    events_seen: int


class DatabaseInUse(RuntimeError):
    """Another process (a running server) holds the database file."""


class TenantExists(ValueError):
    pass


class StorageBusy(RuntimeError):
    """The storage engine had no memory left for this request (its memory limit was reached
    by the requests running at once); nothing was changed, and a retry may well succeed."""


class Backend(AnalyticsQueries, MauQueries, RateCardQueries, UsageQueries, Protocol):
    def close(self) -> None: ...

    # tenants and keys
    def create_tenant(
        self, name: str, tz: str, mau_min_messages: int, entra_tenant_id: str | None
    ) -> Tenant: ...
    def list_tenants(self) -> list[Tenant]: ...
    def tenant_by_name(self, name: str) -> Tenant | None: ...
    def tenant_by_id(self, tenant_id: int) -> Tenant | None: ...
    def tenant_by_entra_id(self, entra_tenant_id: str) -> Tenant | None: ...
    def add_key(self, key: ApiKey) -> None: ...
    def list_keys(self) -> list[ApiKey]: ...
    def key_by_hash(self, key_hash: str) -> ApiKey | None: ...
    def revoke_key(self, key_id: str) -> bool: ...
    def service_secret(self, name: str) -> bytes: ...

    # directory
    def put_organization(
        self, tenant_id: int, organization_id: str, name: str | None, parent_id: str | None
    ) -> Organization: ...
    def put_user(
        self,
        tenant_id: int,
        user_id: str,
        name: str | None,
        email: str | None,
        organization_id: str,
    ) -> User: ...
    def put_agent(
        self, tenant_id: int, agent_id: str, name: str | None, organization_id: str
    ) -> Agent: ...
    def get_organization(self, tenant_id: int, organization_id: str) -> Organization | None: ...
    def get_user(self, tenant_id: int, user_id: str) -> User | None: ...
    def get_agent(self, tenant_id: int, agent_id: str) -> Agent | None: ...
    def list_organizations(self, tenant_id: int) -> list[Organization]: ...
    def organization_parents(self, tenant_id: int) -> Mapping[str, str | None]:
        """Each organization's parent (None for a top-level one), without names: cheap."""
        ...

    def list_users(self, tenant_id: int, organization_id: str | None = None) -> list[User]: ...
    def user_names(self, tenant_id: int, organization_id: str) -> Mapping[str, str]:
        """Each user the directory puts in the organization, by id, with the name the analytics
        show (``directory.models.display_name``)."""
        ...

    def organization_members(self, tenant_id: int) -> Mapping[str, int]:
        """Each organization's number of users in the directory (organizations with some)."""
        ...

    def list_agents(self, tenant_id: int, organization_id: str | None = None) -> list[Agent]: ...

    # events and rollups
    def append_events(
        self, batches: Sequence[pa.Table], checkpoint: Checkpoint | None = None
    ) -> list[AppendResult]: ...
    def checkpoint(self, fingerprint: str) -> Checkpoint | None: ...
    def ingest_ready(self) -> bool:
        """Whether a write would be stored without first waiting for the backend to load
        what dedupe needs."""
        ...

    def rebuild_rollups(self) -> None: ...
    def count_events(self, tenant_id: int | None = None) -> int: ...
