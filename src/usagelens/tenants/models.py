"""A tenant: the isolation boundary of every event, entity, rate card and key."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Tenant:
    tenant_id: int
    name: str
    tz: str
    mau_min_messages: int
    entra_tenant_id: str | None
    created_at: datetime
