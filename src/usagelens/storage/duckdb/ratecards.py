"""Rate cards in the DuckDB file: one row per (tenant, effective date), the card as JSON."""

from datetime import date

from usagelens.pricing.ratecard import RateCard, rate_card_from_json, rate_card_to_json
from usagelens.storage.duckdb.database import Database, utcnow


class RateCardStore(Database):
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

    def rate_cards(self, tenant_id: int) -> list[tuple[date, RateCard]]:
        rows = self._rows(
            "SELECT effective_from, card FROM rate_cards WHERE tenant_id = ? "
            "ORDER BY effective_from",
            [tenant_id],
        )
        return [(day, rate_card_from_json(text)) for day, text in rows]
