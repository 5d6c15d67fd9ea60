"""Issuing keys, shared by the CLI and the admin API."""

from datetime import UTC, datetime

from usagelens.auth import keys
from usagelens.auth.models import ApiKey
from usagelens.storage.base import Backend


def issue_key(
    backend: Backend, prefix: str, tenant_id: int | None, env: keys.KeyEnv
) -> tuple[ApiKey, str]:
    """Store a new key and return it with its plaintext, which is never stored or shown again."""
    new = keys.generate(prefix, env)
    record = ApiKey(
        key_id=new.key_id,
        tenant_id=tenant_id,
        kind="operator" if tenant_id is None else "tenant",
        env=env,
        key_hash=new.key_hash,
        hint=new.hint,
        created_at=datetime.now(UTC).replace(tzinfo=None),
        revoked_at=None,
    )
    backend.add_key(record)
    return record, new.plaintext
