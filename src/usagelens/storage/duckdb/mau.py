"""Monthly active end users in the DuckDB file: the per-user month rollup, the directory's names
and the raw ticket events, read in one transaction so every figure comes from one snapshot."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import duckdb

from usagelens.mau.queries import MauCompany, MauMonth, MauMonthQuery, MauTickets, MauUser
from usagelens.storage.duckdb.database import registered, transaction
from usagelens.storage.duckdb.directory import DirectoryStore

# Per user of the month: bot messages summed over all rollup rows (additive partial sums), the
# organization with the most of them (ties: the smallest id), and the total. Rows that carry only
# tickets (no messages) never decide the organization.
_ACTIVE = """
    per_org AS (
        SELECT user_id, organization_id, sum(bot_messages) AS messages
        FROM rollup_user_months
        WHERE tenant_id = $tenant AND month = $month
        GROUP BY user_id, organization_id
        HAVING sum(bot_messages) > 0
    ),
    active AS (
        SELECT
            user_id,
            arg_min(organization_id, struct_pack(m := -messages, o := organization_id))
                AS organization_id,
            sum(messages) AS turns
        FROM per_org
        GROUP BY user_id
        HAVING sum(messages) >= $min
    )
"""

# Names as the directory API resolves them (an explicit value, else the latest one events
# carried), from the directory's resolved names kept in memory: registered as `user_names`
# (user_id, name, email) and `company_names` (organization_id, name) for each read.
_TREND = """
    SELECT month, count(*) FROM (
        SELECT month, user_id
        FROM rollup_user_months
        WHERE tenant_id = $tenant AND month BETWEEN $first AND $month
        GROUP BY month, user_id
        HAVING sum(bot_messages) >= $min
    )
    GROUP BY month
"""

# Read once into Arrow and registered as `active` for the two queries below: at 100M events,
# computing it in each took about 25 ms of the page's 190.
_ACTIVE_USERS = f"WITH {_ACTIVE} SELECT user_id, organization_id, turns FROM active"

_COMPANIES = """
    SELECT a.organization_id, coalesce(c.name, a.organization_id), count(*) AS active_users
    FROM active a LEFT JOIN company_names c ON c.organization_id = a.organization_id
    GROUP BY a.organization_id, c.name
"""

_USERS = """
    SELECT
        a.user_id,
        coalesce(u.name, a.user_id) AS end_user,
        u.email,
        a.organization_id,
        coalesce(c.name, a.organization_id),
        a.turns
    FROM active a
        LEFT JOIN user_names u ON u.user_id = a.user_id
        LEFT JOIN company_names c ON c.organization_id = a.organization_id
    ORDER BY a.turns DESC, end_user, a.user_id
    LIMIT $limit OFFSET $offset
"""

# The month's tickets per company, and per user of the page, each list as the page's JSON array
# of {ticket_id, url} in the order they were raised: built by the engine, tens of thousands of
# tickets cost nothing in Python.
_TICKETS = """
    WITH month_tickets AS MATERIALIZED (
        SELECT ticket_id, coalesce(url, '') AS url, subject, organization_id, time, event_id
        FROM ticket_events
        WHERE tenant_id = $tenant AND time >= $start AND time < $end
    )
    SELECT 'company', organization_id, count(*), {json_list} FROM month_tickets GROUP BY ALL
    UNION ALL
    SELECT 'user', subject, count(*), {json_list}
    FROM month_tickets WHERE subject IN (SELECT unnest($users)) GROUP BY ALL
""".format(
    json_list="to_json(list({'ticket_id': ticket_id, 'url': url} "
    "ORDER BY time, ticket_id, event_id))::VARCHAR"
)


class MauStore(DirectoryStore):
    @contextmanager
    def _snapshot(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """This thread's read cursor inside a transaction: one snapshot for several reads."""
        cursor = self._cursor()
        with transaction(cursor):
            yield cursor

    @contextmanager
    def _names_registered(self, con: duckdb.DuckDBPyConnection, tenant_id: int) -> Iterator[None]:
        user_names, company_names = self.name_tables(tenant_id)
        con.register("user_names", user_names)
        con.register("company_names", company_names)
        try:
            yield
        finally:
            con.unregister("user_names")
            con.unregister("company_names")

    def mau_month(self, query: MauMonthQuery) -> MauMonth:
        month: dict[str, Any] = {
            "tenant": query.tenant_id,
            "month": query.month,
            "min": query.min_messages,
        }
        timings: dict[str, float] = {}

        @contextmanager
        def timed(stage: str) -> Iterator[None]:
            started = time.perf_counter()
            yield
            timings[stage] = (time.perf_counter() - started) * 1000

        # Registered outside the transaction: a failed one could not even unregister them.
        with (
            self._query_slot(),
            self._names_registered(self._cursor(), query.tenant_id),
            self._snapshot() as con,
        ):
            with timed("trend"):
                trend = con.execute(_TREND, {**month, "first": query.first_month}).fetchall()
            with timed("active"):
                active = con.sql(_ACTIVE_USERS, params=month).to_arrow_table()
            with registered(con, "active", active):
                with timed("per_company"):
                    companies = con.execute(_COMPANIES).fetchall()
                page = {"limit": query.limit + 1, "offset": query.offset}
                with timed("per_user"):
                    users = con.execute(_USERS, page).fetchall()
            tickets_of = {
                "tenant": query.tenant_id,
                "start": query.utc_start,
                "end": query.utc_end,
                "users": [row[0] for row in users],
            }
            with timed("tickets"):
                tickets = con.execute(_TICKETS, tickets_of).fetchall()
        found = {(kind, key): MauTickets(int(count), text) for kind, key, count, text in tickets}
        return MauMonth(
            trend={row[0]: int(row[1]) for row in trend},
            companies=[MauCompany(row[0], row[1], int(row[2])) for row in companies],
            users=[MauUser(row[0], row[1], row[2], row[3], row[4], int(row[5])) for row in users],
            company_tickets={key: t for (kind, key), t in found.items() if kind == "company"},
            user_tickets={key: t for (kind, key), t in found.items() if kind == "user"},
            timings_ms=timings,
        )

    def mau_trend(
        self, tenant_id: int, first_month: date, month: date, min_messages: int
    ) -> dict[date, int]:
        params = {"tenant": tenant_id, "first": first_month, "month": month, "min": min_messages}
        return {row[0]: int(row[1]) for row in self._rows(_TREND, params)}
