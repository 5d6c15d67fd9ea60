"""`usagelens tenants ...`: manage tenants on the database file (server stopped)."""

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from usagelens.cli.options import DEFAULT_DB, DbOption, open_backend
from usagelens.storage.base import TenantExists
from usagelens.tenants.service import InvalidTenant, create_tenant

app = typer.Typer(help="Manage tenants (on the database file, while the server is stopped).")


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Tenant name, unique.")],
    tz: Annotated[
        str, typer.Option("--tz", help="IANA time zone of its dates and months.")
    ] = "UTC",
    mau_min_messages: Annotated[
        int, typer.Option("--mau-min-messages", help="Bot messages in a month to count as active.")
    ] = 2,
    entra_tenant_id: Annotated[
        str | None, typer.Option("--entra-tenant-id", help="Entra ID tenant (`tid`) of its users.")
    ] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Create a tenant."""
    with open_backend(db) as backend:
        try:
            tenant = create_tenant(backend, name, tz, mau_min_messages, entra_tenant_id)
        except (InvalidTenant, TenantExists) as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(1) from None
    typer.echo(
        f"Created tenant {tenant.name} (time zone {tenant.tz}, active from "
        f"{tenant.mau_min_messages} bot messages a month)."
    )


@app.command("list")
def list_tenants(db: DbOption = DEFAULT_DB) -> None:
    """List tenants."""
    with open_backend(db) as backend:
        tenants = backend.list_tenants()
    table = Table("name", "time zone", "MAU threshold", "Entra tenant", "created (UTC)")
    for tenant in tenants:
        table.add_row(
            tenant.name,
            tenant.tz,
            str(tenant.mau_min_messages),
            tenant.entra_tenant_id or "",
            tenant.created_at.isoformat(timespec="seconds"),
        )
    Console().print(table)
