"""USAGELENS_DUCKDB_MEMORY_LIMIT: the served file's DuckDB instance takes the limit; a value that
is not a size never reaches SQL."""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from usagelens.app import create_app
from usagelens.settings import Settings
from usagelens.storage.duckdb.backend import DuckDBBackend


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
