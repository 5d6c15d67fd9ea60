"""Usage over time from the DuckDB file: 15-minute rollups inside the range, raw events at its
ragged edges, each mapped onto bucket boundaries the service computed."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from usagelens.storage.duckdb.database import Database
from usagelens.usage.model import Dimension
from usagelens.usage.queries import UsageRow

_GRID = timedelta(minutes=15)
_EPOCH = datetime(1970, 1, 1)
_COLUMN: dict[Dimension, str] = {
    "agent": "agent_id",
    "subaccount": "organization_id",
    "type": "conversation_type",
}


def _floor(moment: datetime) -> datetime:
    return moment - (moment - _EPOCH) % _GRID


def _ceil(moment: datetime) -> datetime:
    floored = _floor(moment)
    return floored if floored == moment else floored + _GRID


class UsageStore(Database):
    def conversation_usage(
        self,
        tenant_id: int,
        organizations: Sequence[str],
        bucket_starts: Sequence[datetime],
        start: datetime,
        end: datetime,
        dimensions: Sequence[Dimension],
    ) -> list[UsageRow]:
        if not bucket_starts or not organizations or start >= end:
            return []
        # Whole 15-minute slots come from the rollup, the partial slots at the edges from
        # the raw events, so a range may start and end anywhere and stay exact.
        inner_start, inner_end = _ceil(start), _floor(end)
        if inner_start >= inner_end:
            inner_start = inner_end = end
        columns = [_COLUMN[d] for d in dimensions]
        picked = "".join(f", {c}" for c in columns)
        keys = "".join(f", s.{c}" for c in columns)
        sql = f"""
            WITH slots AS (
                SELECT bucket AS slot{picked}, conversations, seconds
                FROM rollup_conversations_15m
                WHERE tenant_id = $tenant AND bucket >= $inner_start AND bucket < $inner_end
                  AND organization_id IN (SELECT unnest($organizations))
                UNION ALL
                SELECT time AS slot{picked}, 1 AS conversations, seconds
                FROM events
                WHERE tenant_id = $tenant AND type = 'conversation'
                  AND ((time >= $start AND time < $inner_start)
                       OR (time >= $inner_end AND time < $end))
                  AND organization_id IN (SELECT unnest($organizations))
            ),
            bounds AS (
                SELECT unnest($bucket_starts) AS bucket_start, unnest($indexes) AS idx
            )
            SELECT b.idx{keys}, sum(s.conversations)::BIGINT, sum(s.seconds)::BIGINT
            FROM slots s ASOF JOIN bounds b ON s.slot >= b.bucket_start
            GROUP BY ALL
            ORDER BY ALL
        """
        rows = self._rows(
            sql,
            {
                "tenant": tenant_id,
                "organizations": list(organizations),
                "bucket_starts": list(bucket_starts),
                "indexes": list(range(len(bucket_starts))),
                "start": start,
                "end": end,
                "inner_start": inner_start,
                "inner_end": inner_end,
            },
        )
        width = len(columns)
        return [
            (int(row[0]), tuple(str(v) for v in row[1 : 1 + width]), int(row[-2]), int(row[-1]))
            for row in rows
        ]
