"""Rollups as sorted runs: commits append their partial sums to a rollup's table of new rows;
once it holds enough, they are summed by key and moved, sorted by tenant and time, into the
rollup's runs. Readers query the view named after the rollup (runs and new rows together), so
no sum ever changes, while each row group of a run holds one tenant's consecutive times and
DuckDB skips, by its min/max, every row group outside a query's tenant and range.

Measured at 100M events (the bench's largest tenant, 30 days, summed per organization and user
with every measure): about 360 ms with the rows in arrival order, every tenant's interleaved;
about 220 ms from the runs; with the runs' integer keys, the organizations answer as a whole went
from 959 to 632 ms over HTTP.

Three compactions also keep tables derived from the rows they move, which readers combine
with the new rows in turn: the conversations per (hour, organization) and per (hour,
organization, agent), each user's bot messages per month, and the per-day usage summed over
blocks of days (storage/duckdb/blocks.py).
"""

from dataclasses import dataclass

import duckdb

from usagelens.rollups.build import USAGE_MEASURES
from usagelens.storage.duckdb import blocks

# About two days of rows at the bench's 100M traffic: few enough that the unsorted rows a query
# reads stay cheap and a compaction (about a second) rarely delays an acknowledgement.
COMPACT_AT_ROWS = 250_000


@dataclass(frozen=True)
class Rollup:
    name: str
    keys: tuple[str, ...]  # tenant, time, then the rest: the runs' sort order
    measures: tuple[str, ...]
    keyed: bool = False  # its rows also hold the usage_key of (tenant, organization, user)

    @property
    def new(self) -> str:
        return f"{self.name}_new"

    @property
    def runs(self) -> str:
        return f"{self.name}_runs"


CONVERSATIONS_15M = Rollup(
    "rollup_conversations_15m",
    ("tenant_id", "bucket", "organization_id", "agent_id", "conversation_type"),
    ("conversations", "seconds"),
)
# Its runs name the user by the usage key alone (which stands for the organization and user):
# at 100M events, user_id cost them 3.3 bytes an event. Its new rows keep user_id too.
USAGE_DAYS = Rollup(
    "rollup_usage_days",
    ("tenant_id", "day", "organization_id", "usage_key"),
    USAGE_MEASURES,
    keyed=True,
)
USER_MONTHS = Rollup(
    "rollup_user_months",
    ("tenant_id", "month", "user_id", "organization_id"),
    ("bot_messages", "tickets"),
)
ROLLUPS = (CONVERSATIONS_15M, USAGE_DAYS, USER_MONTHS)


@dataclass(frozen=True)
class ConversationHours:
    """The 15-minute conversations summed per (tenant, hour) and ``keys``."""

    table: str
    keys: tuple[str, ...]


# Usage questions in zones whose bucket boundaries are all on the hour read the smallest of
# these that keeps the dimensions they ask for (storage/duckdb/usage.py), instead of the
# 15-minute runs: about a third of their rows per organization, two thirds per agent, at the
# bench's traffic.
CONVERSATION_HOURS = (
    ConversationHours("rollup_organization_hours", ("organization_id",)),
    ConversationHours("rollup_agent_hours", ("organization_id", "agent_id")),
)


def new_rows(con: duckdb.DuckDBPyConnection, rollup: Rollup) -> int:
    row = con.execute(f"SELECT count(*) FROM {rollup.new}").fetchone()
    assert row is not None
    return int(row[0])


def compact(con: duckdb.DuckDBPyConnection, rollup: Rollup) -> None:
    """Move the rollup's new rows into a run of its own, one row per key, in key order: one
    tenant at a time, so that a first compaction of a large file sorts a tenant's rows, not
    the whole table, at once. Call inside a transaction: readers see the move whole."""
    keys = ", ".join(rollup.keys)
    sums = ", ".join(f"sum({measure}) AS {measure}" for measure in rollup.measures)
    tenants = con.execute(f"SELECT DISTINCT tenant_id FROM {rollup.new} ORDER BY 1").fetchall()
    for (tenant_id,) in tenants:
        con.execute(
            f"""
            INSERT INTO {rollup.runs} BY NAME
            SELECT {keys}, {sums} FROM {rollup.new} WHERE tenant_id = ?
            GROUP BY {keys} ORDER BY {keys}
            """,
            [tenant_id],
        )
        if rollup is CONVERSATIONS_15M:
            _sum_conversation_hours(con, tenant_id)
        if rollup is USAGE_DAYS:
            _sum_usage_blocks(con, tenant_id)
    if rollup is USER_MONTHS:
        _settle_user_month_totals(con)
    con.execute(f"DELETE FROM {rollup.new}")


def _sum_conversation_hours(con: duckdb.DuckDBPyConnection, tenant_id: int) -> None:
    """Append the tenant's new conversation rows, summed per hour and the keys of each of
    CONVERSATION_HOURS, to its table: runs of their own, as additive as the 15-minute runs."""
    for hours in CONVERSATION_HOURS:
        keys = ", ".join(hours.keys)
        con.execute(
            f"""
            INSERT INTO {hours.table} BY NAME
            SELECT tenant_id, time_bucket(INTERVAL 1 HOUR, bucket) AS bucket, {keys},
                sum(conversations) AS conversations, sum(seconds) AS seconds
            FROM rollup_conversations_15m_new WHERE tenant_id = ?
            GROUP BY ALL
            ORDER BY ALL
            """,
            [tenant_id],
        )


def _sum_usage_blocks(con: duckdb.DuckDBPyConnection, tenant_id: int) -> None:
    """Add the tenant's new per-day rows to the blocks built before them, then build the blocks
    their latest day closes (from the runs, which now hold them: never counted twice)."""
    blocks.add_late_rows(con, tenant_id, USAGE_DAYS.new)
    newest = con.execute(
        f"SELECT max(day) FROM {USAGE_DAYS.new} WHERE tenant_id = ?", [tenant_id]
    ).fetchone()
    assert newest is not None
    blocks.build_closed(con, tenant_id, newest[0])


def _settle_user_month_totals(con: duckdb.DuckDBPyConnection) -> None:
    """Sum again, over the runs, each user's bot messages of every (tenant, month) the new rows
    of the per-user month rollup touch: once the runs hold those rows too, before they leave the
    new rows. `user_month_totals` holds one row per (tenant, month, user) with any; the MAU trend
    counts a month's active users from it and sums again only the users of the new rows."""
    touched = "(tenant_id, month) IN (SELECT tenant_id, month FROM rollup_user_months_new)"
    con.execute(f"DELETE FROM user_month_totals WHERE {touched}")
    con.execute(
        f"""
        INSERT INTO user_month_totals BY NAME
        SELECT tenant_id, month, user_id, sum(bot_messages) AS bot_messages
        FROM rollup_user_months_runs
        WHERE {touched}
        GROUP BY tenant_id, month, user_id
        HAVING sum(bot_messages) > 0
        ORDER BY tenant_id, month, user_id
        """
    )
