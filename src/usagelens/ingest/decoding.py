"""An ingest request's body to the batch the writer stores: decoded in a worker process, or in
one of the server's threads.

Decoding is Python work that holds the GIL. In threads, it keeps the writer's thread waiting
for the GIL at each of the thirty-odd DuckDB calls a commit makes (a count of a 1,000-row
Arrow table: 1.6 ms alone, 78 ms beside one busy thread). A worker process decodes beside the
writer instead; it cannot read the tenants, so an operator's events come back naming their
tenants by position, resolved here.
"""

import asyncio
import logging
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

import numpy as np
import pyarrow as pa
from starlette.concurrency import run_in_threadpool

from usagelens.auth.models import Principal
from usagelens.ingest.errors import InvalidEvents
from usagelens.ingest.parsing import parse_events
from usagelens.ingest.rows import TenantResolver, parse_and_build
from usagelens.ingest.tenancy import naming_resolver, tenant_resolver
from usagelens.ingest.workers import decoding_pool
from usagelens.storage.base import Backend

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestBody:
    body: bytes
    content_type: str | None
    principal: Principal
    received: datetime


@dataclass(frozen=True)
class Limits:
    max_events: int
    max_future: timedelta


def decode_away(request: IngestBody, limits: Limits) -> tuple[pa.Table, list[str] | None]:
    """In a worker: the request's batch, and for an operator the tenant names its tenant ids
    stand for by position (None: the ids are the caller's own tenant's)."""
    names: dict[str, int] | None = None
    if request.principal.tenant_id is None:
        names = {}
        resolve = naming_resolver(names)
    else:
        resolve = tenant_resolver(request.principal, _no_tenants)
    return _built(request, limits, resolve), None if names is None else list(names)


def _built(request: IngestBody, limits: Limits, resolve: TenantResolver) -> pa.Table:
    return parse_and_build(
        partial(parse_events, request.body, request.content_type, limits.max_events),
        resolve,
        request.received,
        limits.max_future,
    )


def _warm_up(pool: ProcessPoolExecutor) -> None:
    """Have the pool start its workers (they start at the first task), unless it was shut down
    or broken meanwhile: a request would then find that out for itself."""
    with suppress(RuntimeError):  # BrokenProcessPool is one too
        pool.submit(int)


def _no_tenants(_name: str) -> None:
    raise AssertionError("a tenant key's events never look a tenant up")


class RequestDecoder:
    """Decodes in ``processes`` worker processes (0: in threads). When a worker dies, the
    requests given to its pool are decoded in threads instead, and the next request starts a
    new pool: no request fails for it."""

    def __init__(self, backend: Backend, limits: Limits, processes: int) -> None:
        self._backend = backend
        self._limits = limits
        self._processes = processes
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> None:
        """Start the workers in the background, so that the first request does not wait for
        them (0.3 s for the first on this machine: the fork server imports the decoding code)."""
        if self._processes:
            pool = self._started_pool()
            threading.Thread(target=_warm_up, args=(pool,), daemon=True).start()

    def close(self) -> None:
        self._processes = 0  # a request after this one is decoded in a thread
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    async def decode(self, body: bytes, content_type: str | None, principal: Principal) -> pa.Table:
        request = IngestBody(body, content_type, principal, datetime.now(UTC))
        if not self._processes:
            return await run_in_threadpool(self._decode_here, request)
        pool = self._started_pool()
        try:
            decoding = pool.submit(decode_away, request, self._limits)
            table, names = await asyncio.wrap_future(decoding)
        except BrokenProcessPool:
            log.warning("an ingest decoding process ended; a new one takes over")
            if self._pool is pool:
                pool.shutdown(wait=False)
                self._pool = None
            return await run_in_threadpool(self._decode_here, request)
        except InvalidEvents:
            if principal.tenant_id is not None:
                raise
            # The worker could not tell which named tenants exist: decoded here again, the
            # rejection lists those errors too.
            return await run_in_threadpool(self._decode_here, request)
        if names is None:
            return table
        return await run_in_threadpool(self._with_tenant_ids, table, names, request)

    def _started_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = decoding_pool(self._processes)
        return self._pool

    def _decode_here(self, request: IngestBody) -> pa.Table:
        resolve = tenant_resolver(request.principal, self._backend.tenant_by_name)
        return _built(request, self._limits, resolve)

    def _with_tenant_ids(self, table: pa.Table, names: list[str], request: IngestBody) -> pa.Table:
        """The batch with the tenants' ids for their positions; if one of the names is no
        tenant, the request decoded here, whose rejection names every such event."""
        tenants = [self._backend.tenant_by_name(name) for name in names]
        if any(tenant is None for tenant in tenants):
            return self._decode_here(request)
        ids = np.array([tenant.tenant_id for tenant in tenants if tenant is not None], np.int32)
        positions = table.column("tenant_id").to_numpy()
        column = table.schema.get_field_index("tenant_id")
        return table.set_column(column, table.schema.field(column), pa.array(ids[positions]))
