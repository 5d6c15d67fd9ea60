"""`usagelens tenants create|list`, run as a user would, on a real DuckDB file."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.service import cli


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


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def stored_tenants(db: Path) -> dict[str, tuple[str, int, str | None]]:
    rows = query(db, "SELECT name, tz, mau_min_messages, entra_tenant_id FROM tenants")
    return {name: (tz, threshold, entra) for name, tz, threshold, entra in rows}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file with two tenants: one with every option given, one with the defaults."""
    path = tmp_path_factory.mktemp("tenants") / "usagelens.duckdb"
    cli(
        "tenants",
        "create",
        "acme",
        "--tz",
        "Asia/Kathmandu",
        "--mau-min-messages",
        "3",
        "--entra-tenant-id",
        "9f1c2d3e-entra",
        db=path,
    )
    cli("tenants", "create", "beta", db=path)
    return path


def test_create_stores_the_options_and_the_defaults(db: Path) -> None:
    assert stored_tenants(db) == {
        "acme": ("Asia/Kathmandu", 3, "9f1c2d3e-entra"),
        "beta": ("UTC", 2, None),
    }


def test_list_shows_every_tenant_with_its_settings(db: Path) -> None:
    out = cli("tenants", "list", db=db)
    rows = {line.split()[1]: line for line in out.splitlines() if line.startswith("│")}
    assert set(rows) == {"acme", "beta"}
    for cell in ("Asia/Kathmandu", " 3 ", "9f1c2d3e-entra"):
        assert cell in rows["acme"]
    for cell in (" UTC ", " 2 "):
        assert cell in rows["beta"]


def test_unknown_time_zone_is_refused_naming_it(db: Path) -> None:
    done = run("tenants", "create", "gamma", "--tz", "Mars/Olympus_Mons", db=db)
    assert done.returncode == 1
    assert "Mars/Olympus_Mons" in done.stderr
    assert "time zone" in done.stderr
    assert "gamma" not in stored_tenants(db)


def test_duplicate_name_is_refused(db: Path) -> None:
    done = run("tenants", "create", "acme", "--tz", "Europe/Berlin", db=db)
    assert done.returncode == 1
    assert "already exists" in done.stderr
    assert "name" in done.stderr
    assert stored_tenants(db)["acme"] == ("Asia/Kathmandu", 3, "9f1c2d3e-entra")
