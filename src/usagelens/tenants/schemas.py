"""Request and response bodies of the admin API."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from usagelens.auth.models import ApiKey
from usagelens.tenants.models import Tenant


class TenantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    tz: str = Field(default="UTC", description="IANA zone of the tenant's dates and months.")
    mau_min_messages: int = Field(default=2, description="Bot messages in a month to be active.")
    entra_tenant_id: str | None = Field(default=None, description="Entra ID `tid` of its users.")


class TenantOut(BaseModel):
    name: str
    tz: str
    mau_min_messages: int
    entra_tenant_id: str | None
    created_at: datetime

    @classmethod
    def of(cls, tenant: Tenant) -> "TenantOut":
        return cls(
            name=tenant.name,
            tz=tenant.tz,
            mau_min_messages=tenant.mau_min_messages,
            entra_tenant_id=tenant.entra_tenant_id,
            created_at=tenant.created_at,
        )


class TenantList(BaseModel):
    data: list[TenantOut]


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant: str | None = Field(default=None, description="Tenant name; omit with operator=true.")
    operator: bool = False
    env: Literal["live", "test"] = "live"


class KeyOut(BaseModel):
    key_id: str
    tenant: str | None
    kind: str
    env: str
    hint: str
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey, tenant_names: dict[int, str]) -> "KeyOut":
        return cls(
            key_id=key.key_id,
            tenant=tenant_names.get(key.tenant_id) if key.tenant_id is not None else None,
            kind=key.kind,
            env=key.env,
            hint=key.hint,
            created_at=key.created_at,
            revoked_at=key.revoked_at,
        )


class NewKeyOut(KeyOut):
    key: str = Field(description="The key itself: shown this once, stored only as a hash.")


class KeyList(BaseModel):
    data: list[KeyOut]
