"""The `usagelens` command."""

import gc
from typing import Annotated

import typer
from rich.console import Console

from usagelens.cli import keys, rates, tenants
from usagelens.cli.demo import demo
from usagelens.cli.ingest import ingest
from usagelens.cli.options import DEFAULT_DB, DbOption, load_settings, open_backend

app = typer.Typer(
    help="usagelens: usage analytics and metering for AI agents, bots, voice and messaging.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(tenants.app, name="tenants")
app.add_typer(keys.app, name="keys")
app.add_typer(rates.app, name="rates")
app.command("ingest")(ingest)
app.command("demo")(demo)


@app.command("serve")
def serve(
    db: DbOption = DEFAULT_DB,
    host: Annotated[
        str | None, typer.Option("--host", help="Listen address [default: 127.0.0.1].")
    ] = None,
    port: Annotated[int | None, typer.Option("--port", help="Listen port [default: 8000].")] = None,
) -> None:
    """Run the HTTP service on the database file (schema created or migrated on start)."""
    overrides: dict[str, object] = {"db": db}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    settings = load_settings(**overrides)
    # Imported here, so that the other commands start without the web stack.
    import uvicorn

    from usagelens.app import create_app

    server = create_app(settings)
    # What exists now (modules, classes, functions: about 100,000 objects) lives as long as the
    # process: kept out of the cycle collector's full collections, which otherwise pause
    # whichever request they fall in (about 50 ms each serving the 100M benchmark's file).
    gc.collect()
    gc.freeze()
    uvicorn.run(server, host=settings.host, port=settings.port, log_level="info")


@app.command("rebuild")
def rebuild(db: DbOption = DEFAULT_DB) -> None:
    """Recompute every rollup from the raw events (the source of truth)."""
    with open_backend(db) as backend, Console(stderr=True).status("rebuilding rollups"):
        backend.rebuild_rollups()
    typer.echo("Rollups rebuilt from the raw events.")
