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
    _spare_the_cycle_collector()
    uvicorn.run(server, host=settings.host, port=settings.port, log_level="info")


def _spare_the_cycle_collector() -> None:
    """A request allocates thousands of short-lived objects. At Python's default threshold
    (700), young collections promoted them so often that, in the bench's query mix on its 100M
    file, a full collection (about 120 ms, walking every live object) fell in one request of
    twelve. What exists before serving (modules, classes, functions: about 100,000 objects) lives
    as long as the process, so it is frozen out of the walks, and the young generation is
    collected every 10,000 allocations: then one full collection (23 ms) in 220 requests."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


@app.command("rebuild")
def rebuild(db: DbOption = DEFAULT_DB) -> None:
    """Recompute every rollup from the raw events (the source of truth)."""
    with open_backend(db) as backend, Console(stderr=True).status("rebuilding rollups"):
        backend.rebuild_rollups()
    typer.echo("Rollups rebuilt from the raw events.")
