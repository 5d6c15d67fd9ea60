"""Which tenant each event belongs to, from the caller and the event's `tenant` attribute."""

from collections.abc import Callable

from usagelens.auth.models import Principal
from usagelens.tenants.models import Tenant

OPERATOR_NEEDS_TENANT = "required with an operator key: the name of the event's tenant"
FILE_NEEDS_TENANT = "required: the name of the event's tenant (or load the file with --tenant)"


def tenant_resolver(
    principal: Principal,
    tenant_by_name: Callable[[str], Tenant | None],
    missing_tenant: str = OPERATOR_NEEDS_TENANT,
) -> Callable[[str | None], int | str]:
    """A function giving each event's tenant id, or the reason it has none."""
    if principal.tenant_id is not None:
        own = principal.tenant_id

        def for_tenant_key(name: str | None) -> int | str:
            if name is not None:
                return "only operator keys may name a tenant; a tenant key ingests for its own"
            return own

        return for_tenant_key

    known: dict[str, Tenant | None] = {}

    def for_operator_key(name: str | None) -> int | str:
        if name is None:
            return missing_tenant
        if name not in known:
            known[name] = tenant_by_name(name)
        tenant = known[name]
        return tenant.tenant_id if tenant is not None else f"unknown tenant {name!r}"

    return for_operator_key


def bulk_tenant_resolver(
    default: Tenant | None, tenant_by_name: Callable[[str], Tenant | None]
) -> Callable[[str | None], int | str]:
    """For a file: every event belongs to ``default``, or names its tenant when there is none."""
    if default is None:
        return tenant_resolver(Principal("operator", None, None), tenant_by_name, FILE_NEEDS_TENANT)

    def for_default(name: str | None) -> int | str:
        if name is not None and name != default.name:
            return f"names tenant {name!r}, but the file is loaded for {default.name!r}"
        return default.tenant_id

    return for_default


def naming_resolver(names: dict[str, int]) -> Callable[[str | None], int | str]:
    """For an operator's events decoded away from the tenants (in a worker process): the tenant
    each event names stands as its position in ``names``, which the caller resolves after."""

    def by_position(name: str | None) -> int | str:
        if name is None:
            return OPERATOR_NEEDS_TENANT
        return names.setdefault(name, len(names))

    return by_position
