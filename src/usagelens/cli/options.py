"""Options shared by every command that opens the database file."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from usagelens.settings import Settings
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


def load_settings(**overrides: object) -> Settings:
    """The settings, or a one-line error naming the variable that is wrong."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        for problem in error.errors():
            name = "USAGELENS_" + str(problem["loc"][0]).upper() if problem["loc"] else "settings"
            typer.echo(f"error: {name}: {problem['msg']}", err=True)
        raise typer.Exit(2) from None
