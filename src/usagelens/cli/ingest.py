"""`usagelens ingest FILE`: bulk-load a file of events, with progress, resumably."""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from usagelens.cli.options import DEFAULT_DB, DbOption, open_backend
from usagelens.ingest.bulk import CHUNK_EVENTS, BulkInvalid, load_file
from usagelens.ingest.errors import RejectedBody
from usagelens.ingest.workers import default_workers

_MAX_SHOWN = 50


def ingest(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="NDJSON or JSON array.")
    ],
    tenant: Annotated[
        str | None,
        typer.Option("--tenant", help="Tenant of every event; else each names its own `tenant`."),
    ] = None,
    chunk_events: Annotated[
        int,
        typer.Option(
            "--chunk-events",
            min=1,
            help="Events per commit; a re-run after a crash loads the chunk that was in flight.",
        ),
    ] = CHUNK_EVENTS,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=0,
            help="Processes that decode chunks while this one stores them "
            "(default: one per core but one, at least 1; 0: decode here).",
            show_default=False,
        ),
    ] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Load events from a file: same validation and dedupe as the API, resumable after a crash."""
    console = Console(stderr=True)
    with open_backend(db) as backend:
        default = None
        if tenant is not None:
            default = backend.tenant_by_name(tenant)
            if default is None:
                typer.echo(f"error: no tenant named {tenant!r}", err=True)
                raise typer.Exit(1)
        size = file.stat().st_size
        with Progress(
            TextColumn("[bold]loading"),
            BarColumn(),
            TextColumn("{task.fields[events]:,} events"),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("load", total=size, events=0)

            def advance(position: int, events: int) -> None:
                done = progress.tasks[0].fields["events"] + events
                progress.update(task, completed=min(position, size), events=done)

            try:
                report = load_file(
                    backend,
                    file,
                    default,
                    advance,
                    chunk_events,
                    workers=default_workers() if workers is None else workers,
                )
            except RejectedBody as rejected:
                typer.echo(f"error: {rejected.message}", err=True)
                raise typer.Exit(1) from None
            except BulkInvalid as bad:
                progress.stop()
                shown = list(zip(bad.where, bad.invalid.errors, strict=True))[:_MAX_SHOWN]
                for where, error in shown:
                    field = f" {error.field}:" if error.field else ""
                    typer.echo(f"{file}: {where}:{field} {error.message}", err=True)
                if len(bad.invalid.errors) > len(shown):
                    more = len(bad.invalid.errors) - len(shown)
                    typer.echo(f"{file}: ... and {more:,} more problems", err=True)
                typer.echo(
                    f"error: {bad.invalid}. Loaded before it: {bad.report.accepted:,} new events; "
                    "fix the file and run the same command again to load the rest.",
                    err=True,
                )
                raise typer.Exit(1) from None
            progress.update(task, completed=size)
    resumed = f" (resumed after {report.resumed_from:,} bytes)" if report.resumed_from else ""
    typer.echo(
        f"Loaded {file}{resumed}: {report.accepted:,} new events, {report.duplicates:,} duplicates."
    )
