"""Commits leave their log in the write-ahead log until it holds `WAL_CHECKPOINT_SIZE` (a
checkpoint per few commits cost the API's ingest a third of its time), and a crash before the
checkpoint loses nothing acknowledged: the next open replays the log."""

import subprocess
import sys
import textwrap
from pathlib import Path

from usagelens.storage.duckdb.backend import DuckDBBackend

EVENTS = 120_000  # about 22 MB of log: past DuckDB's default threshold (16 MiB), short of ours

# Stores the events in one commit, then dies without closing the file (no checkpoint at close).
_WRITE_THEN_CRASH = """
import os, sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tests.rollup_reference import make_events
from usagelens.ingest.rows import build_batch
from usagelens.ingest.schemas import decode_event
from usagelens.storage.duckdb.backend import DuckDBBackend

store = DuckDBBackend(Path(sys.argv[1]))
tenant = store.create_tenant("t", "UTC", 2, None).tenant_id
events = [decode_event(event) for event in make_events(7, "e", int(sys.argv[2]))]
table = build_batch(events, lambda _event: tenant, datetime.now(UTC), timedelta(0))
(result,) = store.append_events([table])
print(result.accepted, flush=True)
os._exit(0)
"""


def test_a_crash_after_commits_loses_none_of_them(tmp_path: Path) -> None:
    path = tmp_path / "u.duckdb"
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_WRITE_THEN_CRASH), str(path), str(EVENTS)],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    accepted = int(done.stdout.split()[-1])
    assert accepted > 0.99 * EVENTS  # random ids: a few may repeat
    wal = path.with_name(path.name + ".wal")
    assert wal.stat().st_size > 16 * 2**20  # still in the log: no checkpoint at the commit

    store = DuckDBBackend(path)
    try:
        tenant = store.tenant_by_name("t")
        assert tenant is not None
        assert store.count_events(tenant.tenant_id) == accepted
    finally:
        store.close()
    assert not wal.exists() or wal.stat().st_size < 2**20  # checkpointed at the close
