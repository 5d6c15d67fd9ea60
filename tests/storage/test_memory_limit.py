"""USAGELENS_DUCKDB_MEMORY_LIMIT: the served file's DuckDB instance takes the limit; a value that
is not a size never reaches SQL. And what else keeps the memory down: cache releases, which keep
the limit, and a bounded number of reads at once."""

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from usagelens.app import create_app
from usagelens.settings import Settings
from usagelens.storage.duckdb.backend import DuckDBBackend
from usagelens.storage.duckdb.database import QUERY_SLOTS


def served_memory_limit(settings: Settings) -> str:
    """The limit of the app's DuckDB instance while it runs (its real lifespan: the file opened
    and set up as `usagelens serve` does)."""
    app = create_app(settings)

    async def read(app: FastAPI) -> str:
        async with app.router.lifespan_context(app):
            backend: DuckDBBackend = app.state.backend
            return str(backend._rows("SELECT current_setting('memory_limit')")[0][0])

    # A thread of its own: another test's event loop may still be set on this one.
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, read(app)).result()


def test_the_served_file_takes_the_limit(tmp_path: Path) -> None:
    limit = served_memory_limit(Settings(db=tmp_path / "u.duckdb", duckdb_memory_limit="300MiB"))
    assert limit == "300.0 MiB"  # DuckDB reports it back in its own unit


def test_unset_leaves_duckdbs_default(tmp_path: Path) -> None:
    default = duckdb.connect().execute("SELECT current_setting('memory_limit')").fetchone()
    assert default is not None
    assert served_memory_limit(Settings(db=tmp_path / "u.duckdb")) == default[0]


@pytest.mark.parametrize("value", ["1GB'; DROP TABLE events; --", "lots", "1 GB", "-1GB", ""])
def test_what_is_not_a_size_is_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(ValidationError, match="duckdb_memory_limit"):
        Settings(db=tmp_path / "u.duckdb", duckdb_memory_limit=value)
    backend = DuckDBBackend(tmp_path / "u.duckdb")
    try:
        with pytest.raises(ValueError, match="not a memory size"):
            backend.limit_memory(value)
    finally:
        backend.close()


def _cached_bytes(backend: DuckDBBackend) -> int:
    found = backend._rows("SELECT memory_usage_bytes FROM duckdb_memory() WHERE tag = 'BASE_TABLE'")
    return int(found[0][0])


def _limit(backend: DuckDBBackend) -> str:
    return str(backend._rows("SELECT current_setting('memory_limit')")[0][0])


def test_a_cache_release_drops_read_blocks_and_keeps_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "u.duckdb"
    with duckdb.connect(str(path)) as con:  # 8 bytes a row, as random as the id hashes
        con.execute("CREATE TABLE big AS SELECT hash(i) AS h FROM range(4000000) t(i)")
    backend = DuckDBBackend(path)
    try:
        backend._wait_for_index()
        default = _limit(backend)
        for configured in (None, "300MiB"):
            if configured is not None:
                backend.limit_memory(configured)
            limit = _limit(backend)
            backend._rows("SELECT sum(h) FROM big")
            assert _cached_bytes(backend) > 16 * 2**20  # the column, 32 MB, read once
            with backend._con.cursor() as control:
                backend.release_cache(control, 4 * 2**20)
            assert _cached_bytes(backend) <= 4 * 2**20
            assert _limit(backend) == limit
        assert limit == "300.0 MiB"
        assert default != limit
    finally:
        backend.close()


def test_reads_nested_on_a_thread_take_one_query_slot(tmp_path: Path) -> None:
    """Every slot but one is held by other threads: a thread whose reads nest must still get
    through on the last one, rather than wait for a slot it holds itself."""
    backend = DuckDBBackend(tmp_path / "u.duckdb")
    others_hold, done = threading.Barrier(QUERY_SLOTS), threading.Event()
    answers: list[int] = []

    def hold_a_slot() -> None:
        with backend._query_slot():
            others_hold.wait()
            done.wait()

    def nested_reads() -> None:
        with backend._query_slot():
            answers.append(int(backend._rows("SELECT 41")[0][0]) + 1)

    def reader() -> threading.Thread:  # a daemon: one that never gets a slot fails, not hangs
        thread = threading.Thread(target=nested_reads, daemon=True)
        thread.start()
        return thread

    holders = [threading.Thread(target=hold_a_slot) for _ in range(QUERY_SLOTS - 1)]
    for holder in holders:
        holder.start()
    try:
        others_hold.wait(timeout=30)
        reader().join(timeout=30)
        assert answers == [42]
        # With the last slot taken too, a read waits until a slot is given back.
        with backend._query_slot():
            waiting = reader()
            waiting.join(timeout=0.2)
            assert waiting.is_alive()
        waiting.join(timeout=30)
        assert answers == [42, 42]
    finally:
        done.set()
        for holder in holders:
            holder.join()
        backend.close()
