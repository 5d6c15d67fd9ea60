"""Rate cards in the DuckDB file: one row per (tenant, effective date), the card as JSON."""

from datetime import date
from pathlib import Path

from usagelens.pricing.ratecard import RateCard, rate_card_from_json, rate_card_to_json
from usagelens.storage.duckdb.cache import TenantCache
from usagelens.storage.duckdb.database import Database, utcnow


class RateCardStore(Database):
    def __init__(self, path: Path, read_only: bool = False) -> None:
        super().__init__(path, read_only)
        # Read by every priced answer, changed only by `set_rate_card`.
        self._rate_cards: TenantCache[tuple[tuple[date, RateCard], ...]] = TenantCache()

    def set_rate_card(self, tenant_id: int, effective_from: date, card: RateCard) -> None:
        with self._transaction() as con:
            con.execute(
                """
                INSERT INTO rate_cards (tenant_id, effective_from, card, created_at)
                VALUES (?, ?, ?, ?)
                ON CONFLICT (tenant_id, effective_from)
                DO UPDATE SET card = excluded.card, created_at = excluded.created_at
                """,
                [tenant_id, effective_from, rate_card_to_json(card), utcnow()],
            )
        self._rate_cards.changed(tenant_id)

    def rate_cards(self, tenant_id: int) -> list[tuple[date, RateCard]]:
        def read() -> tuple[tuple[date, RateCard], ...]:
            rows = self._rows(
                "SELECT effective_from, card FROM rate_cards WHERE tenant_id = ? "
                "ORDER BY effective_from",
                [tenant_id],
            )
            return tuple((day, rate_card_from_json(text)) for day, text in rows)

        return list(self._rate_cards.get(tenant_id, read))
