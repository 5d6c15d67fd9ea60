"""Baseline c) of issue 5: the query shape OpenMeter sends to ClickHouse, on chDB: a raw scan of
an ``om_events`` table whose payload is a JSON string, fields read with ``JSON_VALUE``, windows
from ``tumbleStart`` with a zone."""

import shutil
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from bench.engines import Built, Engine, Pool, Query, count_key, group_column
from bench.mix import Counts, Mau, Usage

# The payload as the producer sent it: only the fields the event had.
OM_DATA = """
    json_merge_patch('{}', json_object(
        'organization_id', organization_id, 'agent_id', agent_id,
        'conversation_type', conversation_type, 'seconds', seconds,
        'direction', direction, 'segments', segments, 'count', requests,
        'gb_hours', gb_hours, 'kb_id', kb_id, 'minutes', minutes, 'channel', channel,
        'phone_number', phone_number, 'brand_id', brand_id, 'ticket_id', ticket_id, 'url', url
    ))::VARCHAR
"""

OM_COUNTS = """
    countIf(type = 'sms' AND JSON_VALUE(data, '$.direction') = 'outbound'),
    countIf(type = 'sms' AND JSON_VALUE(data, '$.direction') = 'inbound'),
    countIf(type = 'mms' AND JSON_VALUE(data, '$.direction') = 'outbound'),
    countIf(type = 'mms' AND JSON_VALUE(data, '$.direction') = 'inbound'),
    countIf(type = 'voice_call'),
    sumIf(toInt64OrZero(JSON_VALUE(data, '$.seconds')), type = 'voice_call'),
    sumIf(toInt64OrZero(JSON_VALUE(data, '$.count')), type = 'api_request'),
    countIf(type = 'phone_rental'),
    countIf(type = 'phone_purchase'),
    countIf(type = 'knowledge_base'),
    sumIf(toDecimal128OrZero(JSON_VALUE(data, '$.minutes'), 6), type = 'kb_usage')
"""


class OpenMeterWay(Engine):
    """OpenMeter's om_events table shape; a chDB Session per thread (a shared one serialises)."""

    def __init__(self, path: Path, tenant: str) -> None:
        super().__init__(tenant)
        self.path = path
        self.pool = Pool(self._open)

    def _open(self) -> Any:
        from chdb import session

        return session.Session(str(self.path))

    def load(self, parquet: Path) -> None:
        om = self.path.parent / "om_events.parquet"
        with duckdb.connect() as con:
            con.execute("SET TimeZone = 'UTC'")
            con.execute(
                f"""COPY (
                    SELECT tenant AS namespace, id, type, '' AS source,
                           coalesce(subject, '') AS subject, epoch_ms(time) AS time_ms,
                           {OM_DATA} AS data
                    FROM read_parquet('{parquet}')
                ) TO '{om}' (FORMAT parquet)"""
            )
        with self.pool.held() as s:
            s.query(
                """CREATE TABLE om_events (
                    namespace String, id String, type LowCardinality(String), source String,
                    subject String, time DateTime('UTC'), data String,
                    ingested_at DateTime('UTC') DEFAULT now()
                ) ENGINE = MergeTree ORDER BY (namespace, type, subject, toStartOfHour(time))"""
            )
            s.query(
                f"""INSERT INTO om_events (namespace, id, type, source, subject, time, data)
                    SELECT namespace, id, type, source, subject,
                           toDateTime(intDiv(time_ms, 1000), 'UTC'), data
                    FROM file('{om}', Parquet)"""
            )
            s.query("OPTIMIZE TABLE om_events FINAL")
        om.unlink()

    def _rows(self, query: Query) -> list[tuple[Any, ...]]:
        with self.pool.held() as s:
            text = str(s.query(query.sql, "TabSeparated"))
        lines = text.splitlines()
        return [_cells(line.split("\t"), query.width, query.instant_first) for line in lines]

    def _usage(self, q: Usage) -> Built:
        interval = "toIntervalHour(1)" if q.granularity == "hour" else "toIntervalDay(1)"
        orgs = ", ".join(f"'{org}'" for org, _ in q.subaccount_of)
        subs = ", ".join(f"'{sub}'" for _, sub in q.subaccount_of)
        organization = "JSON_VALUE(data, '$.organization_id')"
        group = group_column(
            q, "JSON_VALUE(data, '$.agent_id')", f"transform({organization}, [{orgs}], [{subs}])"
        )
        sql = f"""
            SELECT toUnixTimestamp(tumbleStart(time, {interval}, '{q.tz}')) AS windowstart,
                   {group} AS dimension, count(*),
                   sum(toInt64OrZero(JSON_VALUE(data, '$.seconds')))
            FROM om_events
            WHERE namespace = '{self.tenant}' AND type = 'conversation' AND {_omwindow(q)}
              AND {organization} IN ({orgs})
            GROUP BY windowstart, dimension
        """
        return sql, {}, 2

    def _counts(self, q: Counts) -> Built:
        where = ""
        if q.organization:
            where = f"AND JSON_VALUE(data, '$.organization_id') = '{q.organization}'"
            where += " AND subject != ''"
        key = count_key(q, "subject", "JSON_VALUE(data, '$.organization_id')")
        sql = f"""
            SELECT {key} AS key, {OM_COUNTS}
            FROM om_events
            WHERE namespace = '{self.tenant}' AND {_omwindow(q)} {where}
            GROUP BY key
        """
        return sql, {}, 11

    def _mau(self, q: Mau) -> Built:
        start, end = q.month_starts[0], q.month_starts[-1]
        sql = f"""
            SELECT formatDateTime(windowstart, '%Y-%m', '{q.tz}'), count() FROM (
                SELECT tumbleStart(time, toIntervalMonth(1), '{q.tz}') AS windowstart, subject
                FROM om_events
                WHERE namespace = '{self.tenant}' AND type = 'bot_message'
                  AND time >= toDateTime({_seconds(start)}, 'UTC')
                  AND time < toDateTime({_seconds(end)}, 'UTC')
                GROUP BY windowstart, subject HAVING count() >= {q.min_messages}
            ) GROUP BY windowstart
        """
        return sql, {}, 1

    def close(self) -> None:
        """And remove its data: it is a copy."""
        for s in self.pool.all:
            s.close()
        shutil.rmtree(self.path, ignore_errors=True)


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def _omwindow(q: Usage | Counts) -> str:
    # Whole seconds, as OpenMeter stores time: every boundary asked is a whole second.
    return (
        f"time >= toDateTime({_seconds(q.start)}, 'UTC') "
        f"AND time < toDateTime({_seconds(q.end)}, 'UTC')"
    )


def _cells(cells: list[str], width: int, instant_first: bool) -> tuple[Any, ...]:
    """chDB's text cells: keys as text (a window as an aware instant), figures as numbers."""
    keys: list[Any] = cells[:-width]
    if instant_first:
        keys[0] = datetime.fromtimestamp(int(keys[0]), UTC)
    return (*keys, *(Decimal(cell) if "." in cell else int(cell) for cell in cells[-width:]))
