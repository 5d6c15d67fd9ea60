"""`usagelens keys ...`: issue, list and revoke API keys on the database file (server stopped)."""

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from usagelens.auth.issuing import issue_key
from usagelens.auth.keys import KeyEnv
from usagelens.cli.options import DEFAULT_DB, DbOption, load_settings, open_backend

app = typer.Typer(help="Manage API keys (on the database file, while the server is stopped).")


@app.command("create")
def create(
    tenant: Annotated[str | None, typer.Option("--tenant", help="Tenant the key acts for.")] = None,
    operator: Annotated[
        bool, typer.Option("--operator", help="An operator key: ingest for any tenant, admin API.")
    ] = False,
    env: Annotated[str, typer.Option("--env", help="live or test.")] = "live",
    db: DbOption = DEFAULT_DB,
) -> None:
    """Create a key and print it, alone on the last line (it is shown only this once)."""
    if operator == (tenant is not None):
        typer.echo("error: give either --tenant NAME or --operator", err=True)
        raise typer.Exit(2)
    if env not in ("live", "test"):
        typer.echo("error: --env must be live or test", err=True)
        raise typer.Exit(2)
    key_env: KeyEnv = "live" if env == "live" else "test"
    prefix = load_settings().key_prefix
    with open_backend(db) as backend:
        tenant_id = None
        if tenant is not None:
            found = backend.tenant_by_name(tenant)
            if found is None:
                typer.echo(f"error: no tenant named {tenant!r}", err=True)
                raise typer.Exit(1)
            tenant_id = found.tenant_id
        record, plaintext = issue_key(backend, prefix, tenant_id, key_env)
    owner = f"tenant {tenant}" if tenant else "the operator"
    typer.echo(
        f"Created {record.env} key {record.key_id} for {owner};"
        " store it now, it is not shown again:"
    )
    typer.echo(plaintext)


@app.command("list")
def list_keys(db: DbOption = DEFAULT_DB) -> None:
    """List keys (never their secrets)."""
    with open_backend(db) as backend:
        keys = backend.list_keys()
        names = {t.tenant_id: t.name for t in backend.list_tenants()}
    table = Table("kind", "tenant", "env", "created (UTC)", "revoked (UTC)")
    # Ids are what `keys revoke` takes: never cut them, whatever the width of the output.
    table.add_column("key id", no_wrap=True, min_width=16)
    table.add_column("key", no_wrap=True, min_width=20)
    for key in keys:
        table.add_row(
            key.kind,
            names.get(key.tenant_id, "") if key.tenant_id is not None else "",
            key.env,
            key.created_at.isoformat(timespec="seconds"),
            key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else "",
            key.key_id,
            key.hint,
        )
    Console().print(table)


@app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key id shown by `keys list`.")],
    db: DbOption = DEFAULT_DB,
) -> None:
    """Revoke a key: it stops working at once."""
    with open_backend(db) as backend:
        revoked = backend.revoke_key(key_id)
    if not revoked:
        typer.echo(f"error: no active key {key_id!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"Revoked {key_id}.")
