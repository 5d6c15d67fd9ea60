"""Options shared by every command that opens the database file."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from usagelens.storage.base import DatabaseInUse
from usagelens.storage.duckdb.backend import DuckDBBackend

DbOption = Annotated[
    Path,
    typer.Option(
        "--db",
        envvar="USAGELENS_DB",
        help="DuckDB database file (created if missing).",
        show_default=True,
    ),
]
DEFAULT_DB = Path("usagelens.duckdb")


@contextmanager
def open_backend(db: Path) -> Iterator[DuckDBBackend]:
    try:
        backend = DuckDBBackend(db)
    except DatabaseInUse as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    try:
        yield backend
    finally:
        backend.close()
