"""Seed 001's analytics from the DuckDB file: daily usage rollups summed per organization, user
and rate card version (prices are applied by the service, in exact decimals)."""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from usagelens.analytics.queries import QUANTITIES, UsageSums
from usagelens.storage.duckdb.database import Database

_DECIMAL_QUANTITIES = ("storage_gb_hours", "kb_minutes")


def _sum(column: str) -> str:
    if column in _DECIMAL_QUANTITIES:
        # As text: the driver's own DECIMAL conversion costs microseconds a value.
        return f"sum(r.{column})::VARCHAR"
    return f"sum(r.{column})::BIGINT"


class AnalyticsStore(Database):
    def usage_sums(
        self,
        tenant_id: int,
        version_days: Sequence[date],
        first_day: date | None,
        end_day: date | None,
        organization_id: str | None = None,
        user_id: str | None = None,
    ) -> list[UsageSums]:
        if not version_days:
            return []
        if first_day is not None and end_day is not None and first_day >= end_day:
            return []
        where = ["tenant_id = $tenant"]
        params: dict[str, Any] = {
            "tenant": tenant_id,
            "starts": list(version_days),
            "indexes": list(range(len(version_days))),
        }
        if first_day is not None:
            where.append("day >= $first_day")
            params["first_day"] = first_day
        if end_day is not None:
            where.append("day < $end_day")
            params["end_day"] = end_day
        if organization_id is not None:
            where.append("organization_id = $organization")
            params["organization"] = organization_id
        if user_id is not None:
            where.append("user_id = $user")
            params["user"] = user_id
        sums = ", ".join(_sum(column) for column in QUANTITIES)
        rows = f"SELECT * FROM rollup_usage_days WHERE {' AND '.join(where)}"
        if len(version_days) == 1:
            # One version prices everything (its start is before any event): no join needed.
            del params["starts"], params["indexes"]
            sql = f"""
                SELECT r.organization_id, r.user_id, 0, {sums}
                FROM ({rows}) r
                GROUP BY ALL
                ORDER BY 1, 2
            """
        else:
            sql = f"""
                WITH versions AS (
                    SELECT unnest($starts) AS version_start, unnest($indexes) AS version
                )
                SELECT r.organization_id, r.user_id, v.version, {sums}
                FROM ({rows}) r ASOF JOIN versions v ON r.day >= v.version_start
                GROUP BY ALL
                ORDER BY 1, 2, 3
            """
        decimals = [3 + QUANTITIES.index(name) for name in _DECIMAL_QUANTITIES]
        found = []
        for row in self._rows(sql, params):  # Python ints and decimal text, in QUANTITIES' order
            values = list(row)
            for index in decimals:
                values[index] = Decimal(values[index])
            found.append(UsageSums(*values))
        return found
