"""`usagelens ingest FILE [--tenant NAME]`: bulk loading, validation, dedupe and resuming.

Every check reads the real DuckDB file (read-only, after the CLI has exited) and compares it
with what the test computes from the file it wrote.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest

from tests.service import cli

Event = dict[str, Any]
BASE = datetime(2026, 3, 1, tzinfo=UTC)
ORGS = ("org_a", "org_b", "org_c")


def run(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    """`usagelens ARGS --db DB`, whatever its exit code."""
    return subprocess.run(
        [sys.executable, "-m", "usagelens", *args, "--db", str(db)],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=300,
        check=False,
    )


def ok(*args: str, db: Path) -> str:
    done = run(*args, db=db)
    assert done.returncode == 0, done.stderr
    return done.stdout


def event(i: int, tenant: str | None = None, event_id: str | None = None) -> Event:
    """A small `api_request` event; its count and time follow from ``i``."""
    made: Event = {
        "id": event_id or f"evt-{i}",
        "type": "api_request",
        "time": (BASE + timedelta(seconds=37 * i)).isoformat().replace("+00:00", "Z"),
        "data": {"organization_id": ORGS[i % len(ORGS)], "count": i % 7 + 1},
    }
    if tenant is not None:
        made["tenant"] = tenant
    return made


def write_ndjson(path: Path, lines: Sequence[Event | str]) -> Path:
    with path.open("wb") as out:
        for line in lines:
            out.write(
                (line.encode() if isinstance(line, str) else json.dumps(line).encode()) + b"\n"
            )
    return path


def report(stdout: str) -> tuple[int, int]:
    """(new events, duplicates) from the report line."""
    found = re.search(r"([\d,]+) new events, ([\d,]+) duplicates", stdout)
    assert found is not None, stdout
    return int(found[1].replace(",", "")), int(found[2].replace(",", ""))


Sums = dict[tuple[date, str], int]
ZONES = {"a": "UTC", "b": "Europe/Berlin"}  # as the tests create the tenants


def expected_sums(events: list[Event], tz: str = "UTC") -> Sums:
    """API requests per date of the tenant's zone and organization, each id counted once."""
    sums: Counter[tuple[date, str]] = Counter()
    seen: set[str] = set()
    for each in events:
        if each["id"] in seen:
            continue
        seen.add(each["id"])
        day = datetime.fromisoformat(each["time"]).astimezone(ZoneInfo(tz)).date()
        sums[(day, each["data"]["organization_id"])] += each["data"]["count"]
    return dict(sums)


class Stored:
    """What the file holds, read once the CLI has exited."""

    def __init__(self, db: Path) -> None:
        self.db = db

    def _query(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.db), read_only=True) as con:
            return con.execute(sql, params).fetchall()

    def ids(self, tenant: str) -> list[str]:
        rows = self._query(
            "SELECT e.event_id FROM events e JOIN tenants t USING (tenant_id) WHERE t.name = ?",
            [tenant],
        )
        return [row[0] for row in rows]

    def sums(self, tenant: str) -> Sums:
        rows = self._query(
            """
            SELECT r.day, r.organization_id, sum(r.api_requests)
            FROM rollup_usage_days r JOIN tenants t USING (tenant_id)
            WHERE t.name = ? GROUP BY ALL HAVING sum(r.api_requests) <> 0
            """,
            [tenant],
        )
        return {(day, org): int(total) for day, org, total in rows}

    def total_events(self) -> int:
        return int(self._query("SELECT count(*) FROM events", [])[0][0])

    def checkpoints(self) -> list[tuple[int, int]]:
        rows = self._query("SELECT offset_bytes, events_seen FROM ingest_checkpoints", [])
        return [(int(offset), int(seen)) for offset, seen in rows]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file with tenants `a` and `b`, copied by each test."""
    db = tmp_path_factory.mktemp("ingest-template") / "usagelens.duckdb"
    cli("tenants", "create", "a", db=db)
    cli("tenants", "create", "b", "--tz", "Europe/Berlin", db=db)
    return db


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Path:
    return Path(shutil.copy(template, tmp_path / "usagelens.duckdb"))


# Chunks decoded in this process, or by worker processes (a file of more than one chunk).
WORKERS = pytest.mark.parametrize("workers", ["0", "2"])


@WORKERS
def test_ndjson_for_one_tenant_reports_new_and_duplicates_and_a_rerun_loads_nothing(
    db: Path, tmp_path: Path, workers: str
) -> None:
    events = [event(i) for i in range(300)]
    events[7]["tenant"] = "a"  # naming the tenant the file is loaded for is fine
    repeats = [dict(events[i]) for i in range(0, 300, 15)]  # 20 re-sent events
    lines: list[Event] = []
    for i, each in enumerate(events):
        lines.append(each)
        if i % 15 == 14:
            lines.append(repeats[i // 15])
    path = write_ndjson(tmp_path / "events.ndjson", lines)
    stored = Stored(db)

    # Chunks of 50 lines: most re-sent events are in a later chunk than their first.
    load = ("ingest", str(path), "--tenant", "a", "--chunk-events", "50", "--workers", workers)
    assert report(ok(*load, db=db)) == (300, 20)
    ids = stored.ids("a")
    assert sorted(ids) == sorted(e["id"] for e in events)
    assert stored.ids("b") == []
    assert stored.sums("a") == expected_sums(lines)

    new, _ = report(ok(*load, db=db))
    assert new == 0
    assert sorted(stored.ids("a")) == sorted(ids)
    assert stored.sums("a") == expected_sums(lines)


@WORKERS
def test_json_array_events_go_to_the_tenant_each_names(
    db: Path, tmp_path: Path, workers: str
) -> None:
    events = [event(i, tenant="a" if i % 3 else "b") for i in range(90)]
    # Ids are unique per tenant: the same id in the other tenant is another event.
    events += [event(i, tenant="b", event_id=f"evt-{i}") for i in range(1, 90, 3)]
    path = tmp_path / "events.json"
    path.write_bytes(json.dumps(events, indent=2).encode())
    stored = Stored(db)

    load = ("ingest", str(path), "--chunk-events", "25", "--workers", workers)
    assert report(ok(*load, db=db)) == (len(events), 0)
    for tenant in ("a", "b"):
        own = [e for e in events if e["tenant"] == tenant]
        assert sorted(stored.ids(tenant)) == sorted(e["id"] for e in own)
        assert stored.sums(tenant) == expected_sums(own, ZONES[tenant])

    new, _ = report(ok(*load, db=db))
    assert new == 0
    assert stored.total_events() == len(events)


def test_an_event_naming_another_tenant_than_the_option_is_an_error(
    db: Path, tmp_path: Path
) -> None:
    lines: list[Event | str] = [event(0), event(1), event(2, tenant="b"), event(3)]
    path = write_ndjson(tmp_path / "events.ndjson", lines)
    done = run("ingest", str(path), "--tenant", "a", db=db)
    assert done.returncode == 1
    assert "line 3" in done.stderr
    assert "tenant" in done.stderr
    assert "'b'" in done.stderr
    assert Stored(db).total_events() == 0


def test_without_the_option_every_event_must_name_its_tenant(db: Path, tmp_path: Path) -> None:
    lines: list[Event | str] = [event(0, tenant="a"), event(1), event(2, tenant="b")]
    path = write_ndjson(tmp_path / "events.ndjson", lines)
    done = run("ingest", str(path), db=db)
    assert done.returncode == 1
    assert "line 2" in done.stderr
    assert "tenant" in done.stderr
    assert "line 1" not in done.stderr
    assert Stored(db).total_events() == 0


@WORKERS
def test_an_invalid_line_keeps_the_chunks_before_it_and_the_fixed_file_loads_the_rest(
    db: Path, tmp_path: Path, workers: str
) -> None:
    events = [event(i) for i in range(12_000)]
    bad_index = 11_499
    bad = dict(events[bad_index], data={"organization_id": "org_a", "count": -1})
    # A blank third line: line numbers are the file's, blank lines included.
    lines: list[Event | str] = [*events[:2], "", *events[2:]]
    bad_line = bad_index + 2  # 1-based, one blank line before it
    lines[bad_line - 1] = bad
    path = write_ndjson(tmp_path / "events.ndjson", lines)
    stored = Stored(db)

    load = ("ingest", str(path), "--tenant", "a", "--chunk-events", "10000", "--workers", workers)
    done = run(*load, db=db)
    assert done.returncode == 1
    assert f"line {bad_line}:" in done.stderr
    assert "data.count" in done.stderr
    loaded = stored.ids("a")
    # What was loaded is a whole prefix of the file, ending before the bad line.
    assert 0 < len(loaded) <= bad_index
    assert sorted(loaded) == sorted(e["id"] for e in events[: len(loaded)])
    before = re.search(r"Loaded before it: ([\d,]+) new events", done.stderr)
    assert before is not None, done.stderr
    assert int(before[1].replace(",", "")) == len(loaded)

    # Unfixed, a re-run resumes after the loaded chunks and names the same line again.
    again = run(*load, db=db)
    assert again.returncode == 1
    assert f"line {bad_line}:" in again.stderr
    assert len(stored.ids("a")) == len(loaded)

    lines[bad_line - 1] = events[bad_index]
    write_ndjson(path, lines)
    new, _ = report(ok(*load, db=db))
    assert new == len(events) - len(loaded)
    ids = stored.ids("a")
    assert len(ids) == len(set(ids)) == len(events)
    assert stored.sums("a") == expected_sums(events)


def _kill_while_loading(db: Path, path: Path, settle: float) -> bool:
    """Start `usagelens ingest`, SIGKILL it ``settle`` seconds after its first commit began;
    False if it ended, or was past its last commit, before it could be killed."""
    wal = db.with_name(db.name + ".wal")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "usagelens",
            "ingest",
            str(path),
            *("--tenant", "a", "--chunk-events", "10000", "--workers", "2", "--db", str(db)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        # Commits go to the write-ahead log: once it grows, the first chunk is on its way in.
        while process.poll() is None and time.monotonic() < deadline:
            if wal.exists() and wal.stat().st_size > 0:
                time.sleep(settle)
                break
            time.sleep(0.01)
        if process.poll() is not None:
            return False
        workers = _children(process.pid)
        if not workers:
            # Every chunk decoded: it is past its last commit, checkpointing the file as it
            # closes (the log is only checkpointed then, up to 256 MiB). As if it had ended.
            return False
        process.send_signal(signal.SIGKILL)
        process.wait()
        _assert_they_end(workers)
        return True
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _stat(stat: Path) -> list[str] | None:
    """The fields of a /proc/PID/stat file after the command's name, or None once it ended."""
    try:
        return stat.read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _children(pid: int) -> set[int]:
    """The processes whose parent is ``pid``, from /proc."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = _stat(stat)
        if fields is not None and int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _assert_they_end(pids: set[int]) -> None:
    """Each of ``pids`` ends (or is a zombie nobody reaps) within 30 seconds."""
    deadline = time.monotonic() + 30
    alive = set(pids)
    while alive and time.monotonic() < deadline:
        for pid in list(alive):
            fields = _stat(Path(f"/proc/{pid}/stat"))
            if fields is None or fields[0] in ("Z", "X"):
                alive.discard(pid)
        time.sleep(0.05)
    assert not alive, f"processes of the killed load still run: {sorted(alive)}"


def test_a_killed_load_resumes_and_counts_nothing_twice(template: Path, tmp_path: Path) -> None:
    total, settle = 60_000, 0.5
    events = [event(i) for i in range(total)]
    path = write_ndjson(tmp_path / "events.ndjson", events)
    for attempt in range(4):
        db = Path(shutil.copy(template, tmp_path / f"usagelens-{attempt}.duckdb"))
        stored = Stored(db)
        killed = _kill_while_loading(db, path, settle)
        if not killed or stored.checkpoints() == [(path.stat().st_size, total)]:
            total *= 2  # it finished first: a bigger file takes longer
            events = [event(i) for i in range(total)]
            path = write_ndjson(tmp_path / f"events-{total}.ndjson", events)
            continue
        if stored.checkpoints():
            break
        # Killed before the first commit ended: then nothing at all may be stored.
        assert stored.total_events() == 0
        settle += 1.0
    else:
        pytest.fail("could not kill usagelens ingest between its first and its last commit")

    # The events and the checkpoint were committed together: they agree after the crash.
    ((offset, seen),) = stored.checkpoints()
    committed = stored.ids("a")
    assert 0 < len(committed) == seen < total
    assert sorted(committed) == sorted(e["id"] for e in events[:seen])

    out = ok("ingest", str(path), "--tenant", "a", db=db)
    assert f"resumed after {offset:,} bytes" in out
    new, _ = report(out)
    assert new == total - len(committed)
    ids = stored.ids("a")
    assert len(ids) == len(set(ids)) == total
    assert stored.sums("a") == expected_sums(events)
