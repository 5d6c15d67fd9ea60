from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.service import Server, Service, new_key


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """A real server on a real DuckDB file, shared by the session; tests use their own tenants."""
    db = tmp_path_factory.mktemp("service") / "usagelens.duckdb"
    operator_key = new_key(db, "--operator")
    server = Server(db).start()
    running = Service(server, operator_key)
    try:
        yield running
    finally:
        running.close()
        server.stop()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "usagelens.duckdb"
