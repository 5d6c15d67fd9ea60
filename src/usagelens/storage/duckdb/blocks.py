"""The per-day usage rollup summed again over blocks of 8, 16 and 32 days, so that a range of
days reads a row per key for each whole block inside it instead of one per key and day.

Blocks are aligned on 1970-01-01 (a 16-day block is two 8-day ones, a 32-day block two 16-day
ones), and a tenant's blocks are built at a compaction once the tenant has usage of a later day
(its first usage in a later 8-day block makes one due, a minute or more after the last): every
block before ``built_until`` of its span in `usage_blocks_built` holds the sums of the runs'
rows of its days. Rows that reach the runs later (late events) are added to those blocks as they
do, as additive rows of their own. A question reads the built blocks inside its range, the runs'
rows of its other days, and the new rows of all its days.

Measured at 100M events (the bench's largest tenant, its 30 days to 2026-11-19): the runs'
1,435,391 rows of those days, or 407,090 of a 16-day block, an 8-day block and 6 days; the
organizations' priced question took 137-140 ms instead of 175-179 in the engine. The blocks
cost 3.2 bytes an event on disk. Spans of 2 and 4 days as well would read 301,937 rows, at
about twice that cost.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import pairwise

import duckdb

from usagelens.rollups.build import USAGE_MEASURES

SPANS = (8, 16, 32)  # each twice the one before: a block is built from two of the span below
EPOCH = date(1970, 1, 1)
BLOCKS = "rollup_usage_blocks"
BUILT = "usage_blocks_built"
_SUMS = ", ".join(f"sum({measure}) AS {measure}" for measure in USAGE_MEASURES)


def block_start(day: date, span: int) -> date:
    return day - timedelta(days=(day - EPOCH).days % span)


def _start_sql(span: int) -> str:
    return f"DATE '{EPOCH}' + (((day - DATE '{EPOCH}') // {span}) * {span})::INTEGER"


@dataclass
class Cover:
    """A range of days as the blocks (span, first day) and the intervals of days [first, end)
    that read it."""

    blocks: list[tuple[int, date]] = field(default_factory=list)
    days: list[tuple[date, date]] = field(default_factory=list)

    def add_day(self, day: date) -> None:
        if self.days and self.days[-1][1] == day:
            self.days[-1] = (self.days[-1][0], day + timedelta(days=1))
        else:
            self.days.append((day, day + timedelta(days=1)))


def cover(first: date, end: date, built: Mapping[int, date], cuts: Sequence[date] = ()) -> Cover:
    """``[first, end)`` read with the largest built blocks that fit inside it, none across a
    day of ``cuts`` (where a rate card version starts: a block is priced with one version)."""
    found = Cover()
    bounds = sorted({first, end, *(cut for cut in cuts if first < cut < end)})
    for low, high in pairwise(bounds):
        day = low
        while day < high:
            span = next(
                (
                    span
                    for span in reversed(SPANS)
                    if (day - EPOCH).days % span == 0
                    and day + timedelta(days=span) <= min(high, built.get(span, EPOCH))
                ),
                None,
            )
            if span is None:
                found.add_day(day)
                day += timedelta(days=1)
            else:
                found.blocks.append((span, day))
                day += timedelta(days=span)
    return found


def built_until(con: duckdb.DuckDBPyConnection, tenant_id: int) -> dict[int, date]:
    rows = con.execute(
        f"SELECT span, built_until FROM {BUILT} WHERE tenant_id = ?", [tenant_id]
    ).fetchall()
    return {int(span): until for span, until in rows}


def add_late_rows(con: duckdb.DuckDBPyConnection, tenant_id: int, new_rows: str) -> None:
    """Add the tenant's rows of ``new_rows`` (on their way into the runs) to the blocks already
    built that hold their days."""
    for span, until in built_until(con, tenant_id).items():
        con.execute(
            f"""
            INSERT INTO {BLOCKS} BY NAME
            SELECT tenant_id, {span} AS span, {_start_sql(span)} AS day, organization_id,
                usage_key, {_SUMS}
            FROM {new_rows} WHERE tenant_id = ? AND day < ?
            GROUP BY tenant_id, 3, organization_id, usage_key ORDER BY 3, 4, 5
            """,
            [tenant_id, until],
        )


def build_closed(con: duckdb.DuckDBPyConnection, tenant_id: int, newest: date) -> None:
    """Build the tenant's blocks that end on or before ``newest``, the latest day it has usage
    of, and are not built yet: 8-day blocks from the runs, each longer span from the one below.
    Call once the runs hold every row of those days."""
    built = built_until(con, tenant_id)
    first = None  # the tenant's first day in the runs, read only for a span never built
    if len(built) < len(SPANS):
        row = con.execute(
            "SELECT min(day) FROM rollup_usage_days_runs WHERE tenant_id = ?", [tenant_id]
        ).fetchone()
        first = None if row is None else row[0]
        if first is None:
            return
    source, below = "rollup_usage_days_runs", ""
    for span in SPANS:
        until = block_start(newest, span)
        start = built.get(span)
        if start is None:
            assert first is not None
            start = block_start(first, span)
        if start < until:
            con.execute(
                f"""
                INSERT INTO {BLOCKS} BY NAME
                SELECT tenant_id, {span} AS span, {_start_sql(span)} AS day, organization_id,
                    usage_key, {_SUMS}
                FROM {source} WHERE tenant_id = ? {below} AND day >= ? AND day < ?
                GROUP BY tenant_id, 3, organization_id, usage_key ORDER BY 3, 4, 5
                """,
                [tenant_id, start, until],
            )
            con.execute(
                f"INSERT OR REPLACE INTO {BUILT} VALUES (?, ?, ?)", [tenant_id, span, until]
            )
        source, below = BLOCKS, f"AND span = {span}"


def build_all_closed(con: duckdb.DuckDBPyConnection) -> None:
    """Build every tenant's closed blocks not built yet, from the runs: in a file from before
    the blocks. A day of the new rows closes blocks too (their rows join them as late rows)."""
    newest = con.execute(
        """
        SELECT tenant_id, max(day) FROM (
            SELECT tenant_id, day FROM rollup_usage_days_runs
            UNION ALL SELECT tenant_id, day FROM rollup_usage_days_new
        ) GROUP BY tenant_id ORDER BY 1
        """
    ).fetchall()
    for tenant_id, day in newest:
        build_closed(con, tenant_id, day)
