"""Baseline a) of issue 5: a raw scan, DuckDB SQL over the events table, no rollups, bucketed
with the service's boundaries (an ASOF join on instants from the tz database)."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from bench.engines import (
    COUNT_SQL,
    Built,
    Engine,
    Pool,
    Query,
    count_key,
    group_column,
    naive,
    tree,
    window,
)
from bench.mix import Counts, Mau, Usage


class RawScan(Engine):
    """The neutral events table in a DuckDB file; each thread its own cursor (one shared
    connection fails under threads)."""

    def __init__(self, db: Path, tenant: str) -> None:
        super().__init__(tenant)
        self.db = db
        self.con: duckdb.DuckDBPyConnection | None = None
        self.pool = Pool(self._cursor)

    def load(self, parquet: Path) -> None:
        with duckdb.connect(str(self.db)) as con:
            con.execute(f"CREATE TABLE events AS SELECT * FROM read_parquet('{parquet}')")
        self.con = duckdb.connect(str(self.db), read_only=True)
        self.con.execute("SET TimeZone = 'UTC'")

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        assert self.con is not None, "load first"
        return self.con.cursor()

    def _rows(self, query: Query) -> list[tuple[Any, ...]]:
        with self.pool.held() as cursor:
            rows = cursor.execute(query.sql, query.params).fetchall()
        return [_utc_key(row) for row in rows]

    def _usage(self, q: Usage) -> Built:
        group = group_column(q, "e.agent_id", "e.subaccount")
        sql = f"""
            WITH bounds AS (SELECT unnest($starts) AS bucket_start),
            tree AS (SELECT unnest($orgs) AS org, unnest($subs) AS subaccount),
            e AS (
                SELECT time, agent_id, subaccount, seconds FROM events JOIN tree
                    ON organization_id = org
                WHERE tenant = $tenant AND type = 'conversation'
                  AND time >= $start AND time < $end
            )
            SELECT b.bucket_start, {group}, count(*), coalesce(sum(e.seconds), 0)::BIGINT
            FROM e ASOF JOIN bounds b ON e.time >= b.bucket_start
            GROUP BY ALL
        """
        return sql, {**window(q), **tree(q), "starts": [naive(s) for s in q.bucket_starts]}, 2

    def _counts(self, q: Counts) -> Built:
        where = "AND organization_id = $org AND subject IS NOT NULL" if q.organization else ""
        sql = f"""
            SELECT {count_key(q, "subject", "organization_id")}, {COUNT_SQL}
            FROM events
            WHERE tenant = $tenant AND time >= $start AND time < $end {where}
            GROUP BY ALL
        """
        params = window(q) | ({"org": q.organization} if q.organization else {})
        return sql, params, 11

    def _mau(self, q: Mau) -> Built:
        sql = """
            WITH bounds AS (SELECT unnest($starts) AS month_start, unnest($months) AS month),
            e AS (
                SELECT time, subject FROM events
                WHERE tenant = $tenant AND type = 'bot_message'
                  AND time >= $start AND time < $end
            ),
            active AS (
                SELECT b.month, e.subject FROM e ASOF JOIN bounds b ON e.time >= b.month_start
                GROUP BY ALL HAVING count(*) >= $min
            )
            SELECT month, count(*) FROM active GROUP BY month
        """
        params = {
            "starts": [naive(s) for s in q.month_starts[:-1]],
            "months": list(q.months),
            "start": naive(q.month_starts[0]),
            "end": naive(q.month_starts[-1]),
            "min": q.min_messages,
        }
        return sql, params, 1

    def close(self) -> None:
        """And remove the copy: at 100M events the next baselines need the disk."""
        if self.con is not None:
            self.con.close()
        self.db.unlink(missing_ok=True)


def _utc_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """DuckDB gives naive UTC instants: make them aware, as the API's keys are."""
    first = row[0]
    if isinstance(first, datetime):
        return (first.replace(tzinfo=UTC), *row[1:])
    return row
