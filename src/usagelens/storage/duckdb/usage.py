"""Usage over time from the DuckDB file: rollups inside the range, raw events at its ragged
edges, each mapped onto bucket boundaries the service computed. The rollup is the 15-minute one,
or, when every bucket boundary is on the hour and no type is asked for, the hourly runs per
organization (or per organization and agent, for an agent) with the 15-minute rollup's new
rows."""

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import numpy as np

from usagelens.storage.duckdb.compaction import CONVERSATION_HOURS, ConversationHours
from usagelens.storage.duckdb.database import Database
from usagelens.usage.model import Dimension

_SLOT = timedelta(minutes=15)  # the rollup's grain
_HOUR = timedelta(hours=1)
_EPOCH = datetime(1970, 1, 1)
# Above this many cells the map is generated inside DuckDB from the bucket bounds: passing a
# Python list costs about a microsecond per element, generating it costs a join.
_MOST_LISTED_CELLS = 20_000
# The cell map expanded from its runs, for maps too long to pass as a list.
_CELL_RUNS = """
    SELECT unnest(generate_series(first, last - 1)) AS cell, idx
    FROM (SELECT unnest($run_first) AS first, unnest($run_end) AS last, unnest($run_bucket) AS idx)
"""
_COLUMN: dict[Dimension, str] = {
    "agent": "agent_id",
    "subaccount": "organization_id",
    "type": "conversation_type",
}


def _hours(hours: ConversationHours) -> str:
    """The hours of ``hours``, and the 15-minute rows not yet compacted (the hours are summed
    from those compacted), with the columns the questions read."""
    columns = ", ".join(["tenant_id", "bucket", *hours.keys, "conversations", "seconds"])
    return f"""(
        SELECT {columns} FROM {hours.table}
        UNION ALL
        SELECT {columns} FROM rollup_conversations_15m_new
    )"""


# The hourly rollups, smallest first, with the dimensions each keeps. At 100M events, the
# bench's largest tenant's last 30 days of runs: 994,011 rows of 15 minutes, 637,287 per hour
# and agent, 341,274 per hour and organization. Its account's 30 days by agent took 83.3 ms
# instead of 103.3 by day, 127.3 instead of 152.1 by hour (in-process, medians of 27
# alternated); the agents' hours cost 1.0 byte an event on disk.
_HOURLY = tuple(
    ({dimension for dimension, column in _COLUMN.items() if column in hours.keys}, _hours(hours))
    for hours in CONVERSATION_HOURS
)
# What each dimension reports, once the rows are joined with the account's subaccounts.
_KEY: dict[Dimension, str] = {
    "agent": "u.agent_id",
    "subaccount": "subaccounts.sub",
    "type": "u.conversation_type",
}


def _floor(moment: datetime, grid: timedelta = _SLOT) -> datetime:
    return moment - (moment - _EPOCH) % grid


def _ceil(moment: datetime, grid: timedelta = _SLOT) -> datetime:
    floored = _floor(moment, grid)
    return floored if floored == moment else floored + grid


def _on_the_hour(bucket_starts: Sequence[datetime], start: datetime, end: datetime) -> bool:
    """Whether every bucket boundary inside ``(start, end)`` is on the hour: in every zone but
    those whose offsets have 30 or 45 minutes."""
    return all(b == _floor(b, _HOUR) for b in bucket_starts if start < b < end)


def _hourly_rollup(dimensions: Sequence[Dimension]) -> str | None:
    """The smallest hourly rollup that keeps every dimension (None: only the 15-minute one)."""
    return next((rollup for kept, rollup in _HOURLY if kept >= set(dimensions)), None)


def _micros(span: timedelta) -> int:
    return span // timedelta(microseconds=1)


@dataclass(frozen=True)
class CellMap:
    """Which bucket each rollup slot of ``[start, end)`` falls in, by cells of ``grid``
    counted from ``origin``: hour cells when every bucket boundary inside is on the hour (all
    zones but a few), else the rollup's own 15-minute slots. A slot belongs to the bucket that
    holds its start, as an ASOF join on the bucket starts would say."""

    origin: datetime
    grid: timedelta
    bucket_of_cell: list[int]

    def runs(self) -> tuple[list[int], list[int], list[int]]:
        """The map as runs of cells (first, last + 1, bucket), for DuckDB to expand."""
        firsts: list[int] = []
        ends: list[int] = []
        indexes: list[int] = []
        for cell, index in enumerate(self.bucket_of_cell):
            if indexes and indexes[-1] == index:
                ends[-1] = cell + 1
            else:
                firsts.append(cell)
                ends.append(cell + 1)
                indexes.append(index)
        return firsts, ends, indexes


@lru_cache(maxsize=256)  # dashboards ask the same questions again and again
def cell_map(bucket_starts: tuple[datetime, ...], start: datetime, end: datetime) -> CellMap:
    grid = _HOUR if _on_the_hour(bucket_starts, start, end) else _SLOT
    origin = _floor(start, grid)
    cells = -(-(end - origin) // grid)
    bucket_of_cell = [
        bisect_right(bucket_starts, max(origin + k * grid, start)) - 1 for k in range(cells)
    ]
    return CellMap(origin, grid, bucket_of_cell)


def _edge_pieces(
    bucket_starts: Sequence[datetime], start: datetime, end: datetime
) -> list[tuple[datetime, datetime, int]]:
    """``[start, end)`` cut at the bucket boundaries inside it, each piece with its bucket."""
    pieces = []
    while start < end:
        index = bisect_right(bucket_starts, start) - 1
        following = index + 1
        until = end
        if following < len(bucket_starts):
            until = min(end, bucket_starts[following])
        pieces.append((start, until, index))
        start = until
    return pieces


def _arrays_by_bucket(values: dict[str, Any]) -> dict[int, str]:
    """The JSON values of each bucket (``values``: the columns ``idx`` and ``value`` as numpy
    arrays, ordered by bucket) joined into the bucket's array.

    Ordered by one sort of every value, then joined here, rather than by DuckDB's
    ``string_agg(... ORDER BY ...)``, which sorts each bucket's values apart. Alternated in one
    process (medians of 14), that way and this way: at 100M events, the bench's 500 hours by
    agent (97,319 values) took 102.4 and 87.5 ms, its 30 days by agent 55.9 and 48.3, by
    subaccount 20.9 and 19.3; at 10M, 22.0 and 18.2, 12.8 and 11.9, 14.2 and 13.7. Arrow
    would join faster still (75.6 ms for the 500 hours at 100M), but the relation API, DuckDB's
    way to Arrow without a warning, costs about 2 ms more a statement: a loss on every smaller
    answer."""
    buckets, texts = values["idx"], values["value"].tolist()
    if not texts:
        return {}
    firsts = [0, *(np.flatnonzero(np.diff(buckets)) + 1).tolist()]
    ends = [*firsts[1:], len(texts)]
    return {
        int(buckets[first]): "[" + ",".join(texts[first:end]) + "]"
        for first, end in zip(firsts, ends, strict=True)
    }


class UsageStore(Database):
    def conversation_usage(
        self,
        tenant_id: int,
        subaccount_of: Mapping[str, str],
        bucket_starts: Sequence[datetime],
        start: datetime,
        end: datetime,
        dimensions: Sequence[Dimension],
    ) -> dict[int, str]:
        if not bucket_starts or not subaccount_of or start >= end:
            return {}
        # Whole slots (of 15 minutes, or of an hour) come from a rollup, the partial slots at
        # the edges from the raw events, so a range may start and end anywhere and stay exact.
        hourly = _hourly_rollup(dimensions) if _on_the_hour(bucket_starts, start, end) else None
        grain = _HOUR if hourly else _SLOT
        inner_start, inner_end = _ceil(start, grain), _floor(end, grain)
        if inner_start >= inner_end:
            inner_start = inner_end = end
        columns = [_COLUMN[d] for d in dimensions]
        picked = "".join(f", {c}" for c in columns)
        params: dict[str, Any] = {"tenant": tenant_id, "organizations": list(subaccount_of)}
        if "subaccount" in dimensions:
            params["subaccounts"] = list(subaccount_of.values())
        parts: list[str] = []
        if inner_start < inner_end:
            rollup = hourly or "rollup_conversations_15m"
            part = self._rollup_part(bucket_starts, inner_start, inner_end, picked, params, rollup)
            parts.append(part)
        edges = _edge_pieces(bucket_starts, start, inner_start)
        edges += _edge_pieces(bucket_starts, inner_end, end)
        parts += [self._edge_part(n, piece, picked, params) for n, piece in enumerate(edges)]
        union = " UNION ALL ".join(parts)
        keys = [f"{_KEY[d]} AS {d}" for d in dimensions]
        named = "".join(f", {k}" for k in keys)
        dimensions_json = ", ".join(f"'{d}', {d}" for d in dimensions)
        order = "".join(f", {d}" for d in dimensions)
        source = f"({union}) u"
        if "subaccount" in dimensions:
            source += """ JOIN (
                SELECT unnest($organizations) AS organization_id, unnest($subaccounts) AS sub
            ) subaccounts USING (organization_id)"""
        sql = f"""
            WITH sums AS (
                SELECT u.idx{named}, sum(u.conversations)::BIGINT AS conversations,
                       sum(u.seconds)::BIGINT AS seconds
                FROM {source}
                GROUP BY ALL
            )
            SELECT idx, json_object('seconds', seconds, 'conversations', conversations,
                                    'dimensions', json_object({dimensions_json}))::VARCHAR AS value
            FROM sums
        """
        if not dimensions:  # a bucket's one value
            return {int(index): f"[{value}]" for index, value in self._rows(sql, params)}
        return _arrays_by_bucket(self._arrays(f"{sql} ORDER BY idx{order}", params))

    @staticmethod
    def _rollup_part(
        bucket_starts: Sequence[datetime],
        start: datetime,
        end: datetime,
        picked: str,
        params: dict[str, Any],
        rollup: str,
    ) -> str:
        cells = cell_map(tuple(bucket_starts), start, end)
        params.update(
            inner_start=start,
            inner_end=end,
            origin_us=_micros(cells.origin - _EPOCH),
            grid_us=_micros(cells.grid),
        )
        cell = "(epoch_us(r.bucket) - $origin_us) // $grid_us"
        columns = picked.replace(", ", ", r.")
        where = """
            WHERE r.tenant_id = $tenant AND r.bucket >= $inner_start AND r.bucket < $inner_end
              AND r.organization_id IN (SELECT unnest($organizations))
        """
        if len(cells.bucket_of_cell) <= _MOST_LISTED_CELLS:
            params["bucket_of_cell"] = cells.bucket_of_cell
            return f"""
                SELECT $bucket_of_cell[({cell})::INTEGER + 1] AS idx{columns},
                       r.conversations, r.seconds
                FROM {rollup} r {where}
            """
        params["run_first"], params["run_end"], params["run_bucket"] = cells.runs()
        return f"""
            SELECT m.idx{columns}, r.conversations, r.seconds
            FROM {rollup} r JOIN ({_CELL_RUNS}) m ON m.cell = {cell} {where}
        """

    @staticmethod
    def _edge_part(
        n: int, piece: tuple[datetime, datetime, int], picked: str, params: dict[str, Any]
    ) -> str:
        params[f"edge{n}_from"], params[f"edge{n}_until"], params[f"edge{n}_idx"] = piece
        return f"""
            SELECT $edge{n}_idx AS idx{picked}, 1 AS conversations, seconds
            FROM event_rows
            WHERE tenant_id = $tenant AND type = 'conversation'
              AND time >= $edge{n}_from AND time < $edge{n}_until
              AND organization_id IN (SELECT unnest($organizations))
        """
