"""Who is calling: a stored API key, and the principal a request acts as."""

from dataclasses import dataclass
from datetime import datetime

from usagelens.auth.keys import KeyEnv, KeyKind


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    tenant_id: int | None
    kind: KeyKind
    env: KeyEnv
    key_hash: str
    hint: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class Principal:
    """Operator keys have no tenant of their own; tenant keys and sign-ins have exactly one."""

    kind: KeyKind
    tenant_id: int | None
    key_id: str | None
