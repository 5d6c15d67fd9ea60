"""Creating tenants, shared by the CLI and the admin API."""

import re

from usagelens.storage.base import Backend
from usagelens.tenants.models import Tenant
from usagelens.timezones.months import is_known_zone

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class InvalidTenant(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def create_tenant(
    backend: Backend,
    name: str,
    tz: str = "UTC",
    mau_min_messages: int = 2,
    entra_tenant_id: str | None = None,
) -> Tenant:
    if not _NAME.match(name):
        raise InvalidTenant(
            "name", "use 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit"
        )
    if not is_known_zone(tz):
        raise InvalidTenant("tz", f"{tz!r} is not an IANA time zone name (e.g. Europe/Berlin)")
    if mau_min_messages < 1:
        raise InvalidTenant("mau_min_messages", "must be at least 1")
    return backend.create_tenant(name, tz, mau_min_messages, entra_tenant_id)
