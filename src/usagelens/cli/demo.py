"""`usagelens demo`: a demo tenant with months of realistic data and a ready key."""

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from usagelens.cli.options import DEFAULT_DB, DbOption, load_settings, open_backend
from usagelens.demo.loader import load_demo


def demo(
    db: DbOption = DEFAULT_DB,
    days: Annotated[int, typer.Option("--days", min=1, max=3650, help="Days of history.")] = 240,
    scale: Annotated[
        float, typer.Option("--scale", min=0.001, max=1000.0, help="Multiplies the volume.")
    ] = 1.0,
) -> None:
    """Create the `demo` tenant with a realistic dataset, and print a key and example calls."""
    settings = load_settings()
    with (
        open_backend(db) as backend,
        Progress(
            TextColumn("[bold]demo data"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        ) as progress,
    ):
        task = progress.add_task("demo", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        tenant, key, count = load_demo(
            backend, datetime.now(UTC), settings.key_prefix, days, scale, advance
        )
    base = f"http://{settings.host}:{settings.port}"
    about = f"\nDemo tenant {tenant.name!r} ({tenant.tz})"
    if count:
        typer.echo(f"{about}: loaded {count:,} events of {days} days.")
    else:
        typer.echo(f"{about} already holds its data; nothing more was loaded.")
    typer.echo("Its API key (shown once):")
    typer.echo(f"  {key}\n")
    typer.echo(f"Once `usagelens serve` runs, open {base}/ and sign in with it, or try:")
    typer.echo(f"  curl -s -H 'X-API-Key: {key}' {base}/v1/organizations")
    typer.echo(
        f"  curl -s -H 'Authorization: Bearer {key}' '{base}/v1/users?organization_id=org_acme'"
    )
    typer.echo(
        f"  curl -s -H 'X-API-Key: {key}' -H 'Content-Type: application/json' {base}/v1/events "
        '-d \'{"id": "try-1", "type": "api_request", "time": "'
        + datetime.now(UTC).isoformat(timespec="seconds")
        + '", "data": {"organization_id": "org_acme", "count": 3}}\''
    )
