"""`usagelens rates set`: a tenant's rate card, by version, on the database file."""

from pathlib import Path
from typing import Annotated

import typer

from usagelens.cli.options import DEFAULT_DB, DbOption, open_backend
from usagelens.pricing.ratecard import (
    EPOCH_DATE,
    RateCardError,
    local_midnight,
    parse_effective_date,
    parse_rate_card,
    rate_card_to_toml,
)

app = typer.Typer(
    help="Rate cards: a tenant's prices, as effective-dated versions (on the database file, "
    "while the server is stopped)."
)


def _fail(field: str, message: str) -> typer.Exit:
    typer.echo(f"error: {field}: {message}", err=True)
    return typer.Exit(1)


@app.command("set")
def set_rate_card(
    file: Annotated[Path, typer.Argument(help="The rate card, as TOML (see the README).")],
    tenant: Annotated[str, typer.Option("--tenant", help="Tenant name.")],
    effective: Annotated[
        str | None,
        typer.Option(
            "--effective",
            help="First date (YYYY-MM-DD, in the tenant's time zone) the card is in force; "
            "without it, from the beginning (1970-01-01). Replaces a version of the same date.",
        ),
    ] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Set the version of a tenant's rate card in force from a date (nothing is stored on error)."""
    try:
        effective_from = parse_effective_date(effective)
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise _fail(str(file), f"cannot read the rate card: {error}") from None
        card = parse_rate_card(text)
    except RateCardError as error:
        raise _fail(error.field, error.message) from None
    with open_backend(db) as backend:
        found = backend.tenant_by_name(tenant)
        if found is None:
            raise _fail("tenant", f"no tenant named {tenant!r}")
        replaced = any(day == effective_from for day, _ in backend.rate_cards(found.tenant_id))
        backend.set_rate_card(found.tenant_id, effective_from, card)
    if effective_from == EPOCH_DATE:
        when = "from the beginning (1970-01-01)"
    else:
        start = local_midnight(effective_from, found.tz).isoformat()
        when = f"from {effective_from} (midnight in {found.tz}, {start} UTC)"
    verb = "Replaced" if replaced else "Set"
    typer.echo(f"{verb} the {card.currency} rate card of tenant {found.name}, in force {when}:")
    typer.echo(rate_card_to_toml(card), nl=False)
