"""Requests decoded in a worker process (the default) and in the server's threads
(USAGELENS_DECODE_PROCESSES=0) get the same answers and store the same events; a worker that
dies costs no request, and workers do not outlive their server."""

import asyncio
import json
import os
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psutil

from tests.rollup_reference import make_events
from tests.service import Server, cli, new_key
from usagelens.app import create_app
from usagelens.settings import Settings

Answer = tuple[int, Any]


def ndjson(events: list[dict[str, Any]]) -> bytes:
    return "\n".join(json.dumps(event) for event in events).encode()


def naming(events: list[dict[str, Any]], tenant: str | None) -> list[dict[str, Any]]:
    return [{**event, "tenant": tenant} if tenant else event for event in events]


def requests(tenants: tuple[str, str]) -> list[tuple[str, str, bytes]]:
    """(key, content type, body): accepted batches, repeats, and each kind of rejection, with
    tenant and operator keys."""
    acme, globex = tenants
    events = make_events(5, "d", 30)
    bad_time = {**events[3], "time": "2024-03-01 10:00"}
    bad_count = {**events[4], "type": "api_request", "data": {"organization_id": "o", "count": -1}}
    json_type = "application/json"
    lines = "application/x-ndjson"
    return [
        ("tenant", json_type, json.dumps(events[:10]).encode()),
        ("tenant", json_type, json.dumps(events[5:15]).encode()),  # five repeated
        ("tenant", lines, ndjson([*events[15:18], bad_time, bad_count])),
        ("tenant", json_type, json.dumps(naming(events[18:20], acme)).encode()),
        ("tenant", "text/csv", b"id,time"),
        ("tenant", json_type, b"[{"),
        ("tenant", json_type, json.dumps(events[:11]).encode()),  # over the limit of 10
        ("operator", json_type, json.dumps(naming(events[20:24], acme)).encode()),
        ("operator", lines, ndjson(naming(events[22:26], globex) + naming(events[26:27], acme))),
        ("operator", json_type, json.dumps(naming(events[27:28], "initech")).encode()),
        (
            "operator",
            json_type,
            json.dumps(
                [*naming(events[28:29], "initech"), bad_time, *naming(events[29:30], acme)]
            ).encode(),
        ),
        ("operator", json_type, json.dumps(events[0]).encode()),  # names no tenant
    ]


def answers(db: Path, processes: int, keys: dict[str, str], sent: list[Any]) -> list[Answer]:
    """Each request's status and body from an app deciding ``processes``, over the ASGI stack
    with its real lifespan; then each tenant's events sent again, to tell what was stored."""
    app = create_app(Settings(db=db, decode_processes=processes, max_batch_events=10))

    async def run() -> list[Answer]:
        found: list[Answer] = []
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://u") as client:
                for key, content_type, body in sent:
                    headers = {"X-API-Key": keys[key], "Content-Type": content_type}
                    response = await client.post("/v1/events", content=body, headers=headers)
                    found.append((response.status_code, response.json()))
        return found

    # A thread of its own: another test's event loop may still be set on this one.
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, run()).result()


def stored(db: Path, processes: int, keys: dict[str, str], names: tuple[str, str]) -> list[Answer]:
    """Every event of the requests sent again, six at a time, as each tenant's: the duplicates
    are the events stored."""
    events = make_events(5, "d", 30)
    again = [
        (
            "operator",
            "application/json",
            json.dumps(naming(events[start : start + 6], name)).encode(),
        )
        for name in names
        for start in range(0, len(events), 6)
    ]
    return answers(db, processes, keys, again)


def prepared(db: Path) -> dict[str, str]:
    for name in ("acme", "globex"):
        cli("tenants", "create", name, "--tz", "Europe/Berlin", db=db)
    return {"tenant": new_key(db, "--tenant", "acme"), "operator": new_key(db, "--operator")}


def test_worker_processes_and_threads_answer_alike(tmp_path: Path) -> None:
    sent = requests(("acme", "globex"))
    found: dict[int, list[Answer]] = {}
    again: dict[int, list[Answer]] = {}
    for processes in (0, 1):
        db = tmp_path / f"p{processes}.duckdb"
        keys = prepared(db)
        found[processes] = answers(db, processes, keys, sent)
        again[processes] = stored(db, processes, keys, ("acme", "globex"))
    assert found[1] == found[0]
    assert again[1] == again[0]
    statuses = [status for status, _ in found[1]]
    assert statuses == [200, 200, 422, 422, 415, 400, 413, 200, 200, 422, 422, 422]
    assert found[1][1][1] == {"accepted": 5, "duplicates": 5}
    # d-22 and d-23 again, but for globex: ids are per tenant.
    assert found[1][8][1] == {"accepted": 5, "duplicates": 0}
    assert [(e["index"], e["field"]) for e in found[1][2][1]["errors"]] == [
        (3, "time"),
        (4, "data.count"),
    ]
    unknown = [(e["index"], e["field"], e["message"]) for e in found[1][10][1]["errors"]]
    assert unknown == [(0, "tenant", "unknown tenant 'initech'"), (1, "time", unknown[1][2])]
    # acme holds d-0..d-14 (tenant key) and d-20..d-23, d-26 (operator); globex d-22..d-25.
    acme = sum(1 for i in range(30) if i < 15 or 20 <= i <= 23 or i == 26)
    globex = 4
    duplicates = [answer["duplicates"] for _, answer in again[1]]
    assert sum(duplicates[:5]) == acme
    assert sum(duplicates[5:]) == globex


def decoding_processes(server: Server) -> set[int]:
    """The fork server and the workers below the server process."""
    assert server.process is not None
    below = psutil.Process(server.process.pid).children(recursive=True)
    return {p.pid for p in below if "forkserver" in " ".join(_command(p))}


def _command(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return []


def ended(pid: int) -> bool:
    """Gone, or a zombie (a killed server's children are reaped by whoever adopts them)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def waited_for(condition: Callable[[], bool], seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_killed_decoding_process_loses_no_request(tmp_path: Path) -> None:
    db = tmp_path / "u.duckdb"
    cli("tenants", "create", "acme", db=db)
    key = new_key(db, "--tenant", "acme")
    events = make_events(6, "k", 40)
    server = Server(db).start()
    try:
        client = httpx.Client(base_url=server.url, headers={"X-API-Key": key}, timeout=60)
        # The fork server and its worker, started with the server.
        assert waited_for(lambda: len(decoding_processes(server)) == 2)
        assert client.post("/v1/events", json=events[:10]).json()["accepted"] == 10
        for pid in decoding_processes(server):
            os.kill(pid, signal.SIGKILL)
        assert client.post("/v1/events", json=events[10:20]).json()["accepted"] == 10
        assert client.post("/v1/events", json=events[20:30]).json()["accepted"] == 10
        # Workers run again: a new fork server and its worker.
        assert waited_for(lambda: len(decoding_processes(server)) == 2)
        assert client.post("/v1/events", json=events[30:]).json()["accepted"] == 10
        assert client.post("/v1/events", json=events).json() == {"accepted": 0, "duplicates": 40}
        client.close()
    finally:
        server.stop()


def test_decoding_processes_end_with_their_server_even_killed(tmp_path: Path) -> None:
    db = tmp_path / "u.duckdb"
    cli("tenants", "create", "acme", db=db)
    for end in (Server.stop, Server.kill):
        server = Server(db).start()
        assert waited_for(lambda: len(decoding_processes(server)) == 2)  # noqa: B023
        workers = decoding_processes(server)
        end(server)
        assert waited_for(lambda: all(ended(pid) for pid in workers))  # noqa: B023
