"""Loading the demo dataset into a tenant through the same path as bulk ingest."""

import gc
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from itertools import islice

import msgspec

from usagelens.auth.issuing import issue_key
from usagelens.demo.dataset import DEMO_TIMEZONE, demo_directory, demo_events, estimate_event_count
from usagelens.ingest.parsing import decode_lines
from usagelens.ingest.rows import build_batch
from usagelens.storage.base import Backend
from usagelens.tenants.models import Tenant
from usagelens.tenants.service import create_tenant

DEMO_TENANT = "demo"
_CHUNK = 10_000


def ensure_demo_tenant(backend: Backend) -> Tenant:
    return backend.tenant_by_name(DEMO_TENANT) or create_tenant(backend, DEMO_TENANT, DEMO_TIMEZONE)


def _chunks(events: Iterator[dict[str, object]]) -> Iterator[list[bytes]]:
    while chunk := [msgspec.json.encode(event) for event in islice(events, _CHUNK)]:
        yield chunk


def load_demo(
    backend: Backend,
    now: datetime,
    key_prefix: str,
    days: int = 240,
    scale: float = 1.0,
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[Tenant, str, int]:
    """Create the demo tenant, its directory and events, and a new key; return the tenant, the
    key and how many events were loaded. Once the demo tenant holds events, nothing more is
    loaded: the data would differ only by the hour it was generated."""
    tenant = ensure_demo_tenant(backend)
    _, key = issue_key(backend, key_prefix, tenant.tenant_id, "test")
    if backend.count_events(tenant.tenant_id):
        return tenant, key, 0
    directory = demo_directory()
    parents = {org.organization_id: org.parent_id for org in directory.organizations}

    def depth(organization_id: str | None) -> int:
        return 0 if organization_id is None else 1 + depth(parents[organization_id])

    # A parent must exist before its children point at it.
    for org in sorted(directory.organizations, key=lambda o: depth(o.parent_id)):
        backend.put_organization(tenant.tenant_id, org.organization_id, org.name, org.parent_id)
    for user in directory.users:
        backend.put_user(
            tenant.tenant_id, user.user_id, user.name, user.email, user.organization_id
        )
    for agent in directory.agents:
        backend.put_agent(tenant.tenant_id, agent.agent_id, agent.name, agent.organization_id)
    total = estimate_event_count(days, scale)
    done = 0
    generated = demo_events(now, days=days, scale=scale)
    # The generated events are all alive at once; keep the cycle collector from walking them
    # again and again while they are loaded (it would dominate at large scales).
    gc.freeze()
    for lines in _chunks(generated):
        events = decode_lines(lines, first_index=done)
        table = build_batch(events, lambda _: tenant.tenant_id, now, timedelta(minutes=5), done)
        backend.append_events([table])
        done += len(lines)
        if on_progress is not None:
            on_progress(done, max(total, done))
    return tenant, key, done
