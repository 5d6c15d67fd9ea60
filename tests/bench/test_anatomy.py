"""bench.anatomy on a small real file: every statement an answer runs is profiled, answers are
the same with the profiler on, and the figures of each question are filled in."""

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.anatomy import Statement, anatomy, profiled_reads, table
from tests.rollup_reference import make_events
from tests.storage.test_duckdb_backend import table_of
from tests.web.test_busy import served
from usagelens.app import create_app
from usagelens.auth.issuing import issue_key
from usagelens.settings import Settings
from usagelens.storage.duckdb.backend import DuckDBBackend
from usagelens.storage.duckdb.database import Database

PATHS = [
    ("organizations", "/v1/analytics/organizations?start_date=2024-02-01&end_date=2024-03-31"),
    ("overview", "/v1/analytics/overview?start_date=2024-02-01&end_date=2024-03-31"),
    ("MAU charge", "/public-api/billing/end-user-teams-usage?month=2024-02"),
]


def figures(body: bytes) -> Any:
    """An answer without its request id and timings (the billing answers' ``meta``)."""
    answer = json.loads(body)
    answer.pop("meta", None)
    return answer


@pytest.fixture
def loaded(tmp_path: Path) -> tuple[Path, str]:
    """A file with one tenant's events around 2024-02-29, and the tenant's key."""
    path = tmp_path / "anatomy.duckdb"
    backend = DuckDBBackend(path)
    try:
        tenant = backend.create_tenant("t", "Europe/Paris", 1, None).tenant_id
        events = make_events(5, "e", 300)  # about 2024-02-29
        backend.append_events([table_of(tenant, events)])
        _, key = issue_key(backend, "ul", tenant, "live")
    finally:
        backend.close()
    return path, key


def test_answers_are_the_same_profiled(loaded: tuple[Path, str]) -> None:
    path, key = loaded
    app = create_app(Settings(db=path))
    log: list[Statement] = []

    async def both(backend: DuckDBBackend, client: httpx.AsyncClient) -> list[tuple[bytes, bytes]]:
        answers = []
        for _, url in PATHS:
            answer = await client.get(url)
            assert answer.status_code == 200, answer.text
            with profiled_reads(log):
                profiled = await client.get(url)
            answers.append((answer.content, profiled.content))
        return answers

    original = Database._cursor
    for answer, profiled in served(app, key, both):
        assert figures(profiled) == figures(answer)
    assert Database._cursor is original
    assert any(statement.planning > 0 for statement in log)  # read through profiled cursors


def test_every_question_has_its_statements_profiled(loaded: tuple[Path, str]) -> None:
    path, key = loaded
    with ThreadPoolExecutor(1) as thread:  # anatomy runs a loop of its own
        found = thread.submit(anatomy, path, key, PATHS, 3).result()
    assert [parts.name for parts in found] == [name for name, _ in PATHS]
    for parts in found:
        assert parts.statements >= 1
        assert parts.planning_ms > 0  # each statement's profile was read back
        assert parts.execution_ms > 0
        assert parts.request_ms > 0
        assert parts.python_ms >= 0
    rendered = table(found).splitlines()
    assert len(rendered) == 2 + len(PATHS)
    for line, (name, _) in zip(rendered[2:], PATHS, strict=True):
        assert line.startswith(f"| {name} | ")
        assert line.count("|") == rendered[0].count("|")
