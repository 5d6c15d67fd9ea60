"""`usagelens demo`: a demo tenant, a ready key and example calls that work as printed."""

import re
import shlex
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import httpx
import pytest

from tests.service import Server, cli
from usagelens.demo.dataset import demo_directory
from usagelens.demo.loader import load_demo
from usagelens.storage.duckdb.backend import DuckDBBackend

DAYS = "20"
SCALE = "0.05"
KEY_SHAPE = r"ul_sk_(live|test)_[A-Za-z0-9]{22,}"
PRINTED_BASE = "http://127.0.0.1:8000"  # the default `usagelens serve` address


@dataclass
class Demo:
    db: Path
    first: str  # stdout of the first run
    second: str  # stdout of the second run
    events_after_first: list[str]
    events_after_second: list[str]


def event_ids(db: Path) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "SELECT e.event_id FROM events e JOIN tenants t USING (tenant_id) "
            "WHERE t.name = 'demo' ORDER BY e.event_id"
        ).fetchall()
    return [row[0] for row in rows]


def printed_key(out: str) -> str:
    keys = [line.strip() for line in out.splitlines() if re.fullmatch(KEY_SHAPE, line.strip())]
    assert len(keys) == 1, out
    return keys[0]


def curl_lines(out: str) -> list[str]:
    return [line.strip() for line in out.splitlines() if line.strip().startswith("curl ")]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    db = tmp_path_factory.mktemp("demo") / "usagelens.duckdb"
    first = cli("demo", "--days", DAYS, "--scale", SCALE, db=db)
    after_first = event_ids(db)
    second = cli("demo", "--days", DAYS, "--scale", SCALE, db=db)
    return Demo(db, first, second, after_first, event_ids(db))


def test_demo_prints_a_key_and_three_curl_examples(demo: Demo) -> None:
    for out in (demo.first, demo.second):
        key = printed_key(out)
        commands = curl_lines(out)
        assert len(commands) == 3, out
        for command in commands:
            assert key in command


def test_demo_loads_events_once_and_again_adds_nothing(demo: Demo) -> None:
    assert len(demo.events_after_first) > 0
    assert len(set(demo.events_after_first)) == len(demo.events_after_first)
    assert demo.events_after_second == demo.events_after_first


def _request(command: str, base: str) -> httpx.Response:
    """Send what a printed curl command sends, to ``base`` instead of the default address."""
    words = shlex.split(command)
    assert words[0] == "curl"
    headers: dict[str, str] = {}
    data: str | None = None
    url = ""
    rest = iter(words[1:])
    for word in rest:
        if word == "-H":
            name, _, value = next(rest).partition(":")
            headers[name.strip()] = value.strip()
        elif word == "-d":
            data = next(rest)
        elif word.startswith("http"):
            url = word
        else:
            assert word == "-s", command
    assert url.startswith(PRINTED_BASE), command
    return httpx.request(
        "POST" if data is not None else "GET",
        base + url.removeprefix(PRINTED_BASE),
        headers=headers,
        content=data,
        timeout=30,
    )


def test_printed_key_and_examples_work_on_a_server_on_that_file(demo: Demo) -> None:
    directory = demo_directory()
    expected_orgs = {o.organization_id: (o.name, o.parent_id) for o in directory.organizations}
    assert any(parent is not None for _, parent in expected_orgs.values())

    server = Server(demo.db).start()
    try:
        for out in (demo.first, demo.second):
            key = printed_key(out)
            orgs = httpx.get(
                f"{server.url}/v1/organizations", headers={"X-API-Key": key}, timeout=30
            )
            assert orgs.status_code == 200, orgs.text
            got = {o["id"]: (o["name"], o["parent_id"]) for o in orgs.json()["data"]}
            assert got == expected_orgs
            subaccounts = [oid for oid, (_, parent) in got.items() if parent is not None]
            assert subaccounts
            for oid in subaccounts:
                assert got[oid][1] in got

            users = httpx.get(
                f"{server.url}/v1/users", headers={"Authorization": f"Bearer {key}"}, timeout=30
            )
            assert users.status_code == 200, users.text
            assert {u["id"] for u in users.json()["data"]} == {u.user_id for u in directory.users}

        get_orgs, get_users, post_event = curl_lines(demo.second)
        answer = _request(get_orgs, server.url)
        assert answer.status_code == 200, answer.text
        assert {o["id"] for o in answer.json()["data"]} == set(expected_orgs)
        answer = _request(get_users, server.url)
        assert answer.status_code == 200, answer.text
        assert answer.json()["data"]
        answer = _request(post_event, server.url)
        assert answer.status_code in (200, 201, 202), answer.text
        assert answer.json() == {"accepted": 1, "duplicates": 0}
    finally:
        server.stop()


def test_demo_run_again_an_hour_later_adds_no_events(tmp_path: Path) -> None:
    """`make run` runs `usagelens demo` at every start: a later run must not add events."""
    first_run = datetime(2026, 5, 14, 15, 27, 41, tzinfo=UTC)
    backend = DuckDBBackend(tmp_path / "usagelens.duckdb")
    try:
        load_demo(backend, first_run, "ul", days=7, scale=0.02)
        loaded = backend.count_events()
        assert loaded > 0
        load_demo(backend, first_run + timedelta(hours=1), "ul", days=7, scale=0.02)
        assert backend.count_events() == loaded
    finally:
        backend.close()
