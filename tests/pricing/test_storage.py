"""Rate cards in the DuckDB file: versions per tenant, sorted, replaced by date, kept on reopen."""

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb

from usagelens.pricing.ratecard import DEFAULT_RATE_CARD, RateCard
from usagelens.storage.duckdb.backend import DuckDBBackend


def card(sms_outbound: str) -> RateCard:
    return replace(DEFAULT_RATE_CARD, sms_outbound=Decimal(sms_outbound))


def test_versions_are_per_tenant_sorted_and_replaced_by_date(tmp_path: Path) -> None:
    path = tmp_path / "usagelens.duckdb"
    backend = DuckDBBackend(path)
    try:
        acme = backend.create_tenant("acme", "UTC", 2, None)
        beta = backend.create_tenant("beta", "UTC", 2, None)
        assert backend.rate_cards(acme.tenant_id) == []

        backend.set_rate_card(acme.tenant_id, date(2024, 3, 10), card("0.0300"))
        backend.set_rate_card(acme.tenant_id, date(1970, 1, 1), card("0.0100"))
        backend.set_rate_card(acme.tenant_id, date(2024, 3, 10), card("0.0200"))  # replaces
        backend.set_rate_card(beta.tenant_id, date(2025, 1, 1), card("9"))

        assert backend.rate_cards(acme.tenant_id) == [
            (date(1970, 1, 1), card("0.0100")),
            (date(2024, 3, 10), card("0.0200")),
        ]
        assert str(backend.rate_cards(acme.tenant_id)[1][1].sms_outbound) == "0.0200"
        assert backend.rate_cards(beta.tenant_id) == [(date(2025, 1, 1), card("9"))]
    finally:
        backend.close()

    with duckdb.connect(str(path), read_only=True) as con:
        stored = con.execute(
            "SELECT tenant_id, effective_from, card FROM rate_cards ORDER BY ALL"
        ).fetchall()
    assert [(tenant, day) for tenant, day, _ in stored] == [
        (acme.tenant_id, date(1970, 1, 1)),
        (acme.tenant_id, date(2024, 3, 10)),
        (beta.tenant_id, date(2025, 1, 1)),
    ]
    assert '"sms_outbound":"0.0200"' in stored[1][2]  # decimals stored as strings

    reopened = DuckDBBackend(path)
    try:
        assert [day for day, _ in reopened.rate_cards(acme.tenant_id)] == [
            date(1970, 1, 1),
            date(2024, 3, 10),
        ]
    finally:
        reopened.close()
