"""A request that finds the storage engine's memory limit reached gets a 503 with Retry-After in
its family's envelope, never a 500, and loses nothing: once memory is free the same requests
answer, and a write refused then is stored whole when retried, its new organization included.
(tests/storage/test_failed_commit.py fails a write at its last statement, deterministically.)"""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from tests.rollup_reference import Event, make_events
from tests.service import cli, new_key
from usagelens.app import create_app
from usagelens.settings import Settings
from usagelens.storage.duckdb.backend import DuckDBBackend

# Each read with the envelope of its family (BRIEF §4), the message as the service words it;
# the write below has the third family's.
MESSAGE = "the service has no memory left for this request right now; retry shortly"
READS: dict[str, Any] = {
    "/v1/analytics/overview?start_date=2024-02-01&end_date=2024-03-31": {
        "success": False,
        "error": MESSAGE,
    },
    "/public-api/billing/end-user-teams/detail?month=2024-02": {
        "error": {"code": "service_busy", "message": MESSAGE},
    },
}


def just_above_what_is_held(backend: DuckDBBackend) -> str:
    """A memory limit a quarter megabyte above what DuckDB holds now: less than a query with
    aggregates or a commit of events asks for (DuckDB takes such buffers by the megabyte)."""
    held = backend._rows("SELECT sum(memory_usage_bytes) FROM duckdb_memory()")[0][0]
    return f"{int(held) // 1024 + 256}KB"


def served(app: FastAPI, key: str, scenario: Any) -> Any:
    """``scenario(backend, client)`` against the app's real lifespan, over the ASGI stack."""

    async def run() -> Any:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://usagelens", headers={"X-API-Key": key}
            ) as client:
                return await scenario(app.state.backend, client)

    # A thread of its own: another test's event loop may still be set on this one.
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, run()).result()


def test_out_of_memory_is_a_503_that_loses_nothing(tmp_path: Path) -> None:
    db = tmp_path / "u.duckdb"
    cli("tenants", "create", "acme", "--tz", "Europe/Berlin", db=db)
    key = new_key(db, "--tenant", "acme")
    events = make_events(3, "e", 301)
    before, refused, between = events[:200], events[200:300], events[300:]
    newcomer: Event = {**refused[0], "data": {**refused[0]["data"], "organization_id": "org-new"}}
    refused = [newcomer, *refused[1:]]

    async def scenario(backend: DuckDBBackend, client: httpx.AsyncClient) -> dict[str, Any]:
        found: dict[str, Any] = {"before": await client.post("/v1/events", json=before)}
        found["busy"] = {}
        for path in READS:  # a failed query frees what it held: the limit is set each time
            backend.limit_memory(just_above_what_is_held(backend))
            found["busy"][path] = await client.get(path)
        backend.limit_memory(just_above_what_is_held(backend))
        found["busy write"] = await client.post("/v1/events", json=refused)
        backend.limit_memory("1GB")
        found["between"] = await client.post("/v1/events", json=between)
        found["retry"] = await client.post("/v1/events", json=refused)
        found["newcomer"] = await client.get("/v1/organizations/org-new")
        found["after"] = {path: await client.get(path) for path in READS}
        found["stored"] = backend.count_events()
        return found

    found = served(create_app(Settings(db=db)), key, scenario)
    assert found["before"].status_code == 200, found["before"].text
    for path, envelope in READS.items():
        busy = found["busy"][path]
        assert busy.status_code == 503, (path, busy.text)
        assert busy.headers["retry-after"] == "1"
        body = busy.json()
        body.pop("meta", None)  # seed 000's request id
        assert body == envelope
    assert found["busy write"].status_code == 503, found["busy write"].text
    assert found["busy write"].json() == {"detail": MESSAGE}
    assert found["between"].json()["accepted"] == 1
    assert found["retry"].json()["accepted"] == len(refused)
    assert found["newcomer"].status_code == 200, found["newcomer"].text
    for path in READS:
        assert found["after"][path].status_code == 200, (path, found["after"][path].text)
    assert found["stored"] == len(events)
