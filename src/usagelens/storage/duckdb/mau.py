"""Monthly active end users in the DuckDB file: the per-user month rollup, the directory's names
and the raw ticket events, read in one transaction so every figure comes from one snapshot."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from usagelens.mau.queries import MauMonth, MauMonthQuery, MauTickets, MauUser
from usagelens.storage.duckdb.database import registered
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

# Active users per month: counted from each user's total as of the last compaction, then
# corrected for the users with rows since (the new rows): each counts again with those added.
_TREND = """
    WITH fresh AS (
        SELECT month, user_id, sum(bot_messages) AS messages
        FROM rollup_user_months_new
        WHERE tenant_id = $tenant AND month BETWEEN $first AND $month
        GROUP BY month, user_id
    ),
    counts AS (
        SELECT month, count(*) AS users
        FROM user_month_totals
        WHERE tenant_id = $tenant AND month BETWEEN $first AND $month AND bot_messages >= $min
        GROUP BY month
        UNION ALL
        SELECT
            f.month,
            sum(
                (coalesce(s.bot_messages, 0) + f.messages >= $min)::INTEGER
                - (coalesce(s.bot_messages, 0) >= $min)::INTEGER
            )
        FROM fresh f LEFT JOIN user_month_totals s
            ON s.tenant_id = $tenant AND s.month BETWEEN $first AND $month
            AND s.month = f.month AND s.user_id = f.user_id
        GROUP BY f.month
    )
    SELECT month, sum(users) FROM counts GROUP BY month HAVING sum(users) > 0
"""

_TICKET_LIST = (
    "to_json(list({'ticket_id': ticket_id, 'url': url} ORDER BY time, ticket_id, event_id))"
)

# The month's page in one statement, rows tagged by what they hold. Its active users are
# computed once (MATERIALIZED) for the page's users and for its companies, and tickets are
# listed for every user who can be on the page rather than for the page's users alone. As three
# statements, the active users read into Arrow and registered for the two others, the month's
# read took 20.5 ms at 10M events and 72.8 at 100M; now 16.1 and 65.5 (in one process,
# medians of 25, alternated). Each statement has a fixed cost: DuckDB parses, binds and
# optimizes it (1 to 3 ms here), and reading a result into Arrow through a relation binds it
# once more.
#
# 'user': each user who can be on a page ending at row $last (every user with at least as many
# turns as the $last-th most), with the name of their company. Ordering them by name as well is
# left to Python, which holds the users' names: joining the month's active users (about 34,000
# at 100M events) with a table of every user's names (about 95,000) took about 20 ms a page.
#
# 'companies': the month's ticket count and the page's `per_company` array in its order, each
# company with its tickets, built whole by the engine: at 100M events, turning about 3,800
# company rows into objects and back into JSON took about 25 ms of a 115 ms page.
#
# 'tickets': each of those users with tickets. Ticket lists are the page's JSON arrays of
# {ticket_id, url} in the order they were raised.
_PAGE = f"""
    WITH {_ACTIVE},
    month_active AS MATERIALIZED (SELECT * FROM active),
    candidates AS (
        SELECT a.user_id, a.organization_id, coalesce(c.name, a.organization_id) AS company,
            a.turns
        FROM month_active a LEFT JOIN company_names c ON c.organization_id = a.organization_id
        WHERE a.turns >= (
            SELECT coalesce(min(turns), 0)
            FROM (SELECT turns FROM month_active ORDER BY turns DESC LIMIT $last)
        )
    ),
    month_tickets AS MATERIALIZED (
        SELECT ticket_id, coalesce(url, '') AS url, subject, organization_id, time, event_id
        FROM ticket_events
        WHERE tenant_id = $tenant AND time >= $start AND time < $end
    ),
    company_tickets AS (
        SELECT organization_id, count(*) AS raised, {_TICKET_LIST} AS tickets
        FROM month_tickets
        GROUP BY organization_id
    ),
    companies AS (
        SELECT a.organization_id, coalesce(c.name, a.organization_id) AS name,
               count(*) AS active_users
        FROM month_active a LEFT JOIN company_names c ON c.organization_id = a.organization_id
        GROUP BY a.organization_id, c.name
    )
    SELECT 'user', user_id, organization_id, company, turns FROM candidates
    UNION ALL
    SELECT
        'companies',
        NULL,
        NULL,
        coalesce('[' || string_agg(
            json_object(
                'active_users', c.active_users,
                'company_name', c.name,
                'end_company_id', c.organization_id,
                'tickets', coalesce(t.tickets, '[]'::JSON),
                'tickets_raised', coalesce(t.raised, 0)
            )::VARCHAR,
            ',' ORDER BY c.active_users DESC, c.name, c.organization_id
        ) || ']', '[]'),
        (SELECT coalesce(sum(raised), 0) FROM company_tickets)
    FROM companies c LEFT JOIN company_tickets t ON t.organization_id = c.organization_id
    UNION ALL (
        SELECT 'tickets', subject, NULL, {_TICKET_LIST}::VARCHAR, count(*)
        FROM month_tickets WHERE subject IN (SELECT user_id FROM candidates)
        GROUP BY subject
    )
"""


class MauStore(DirectoryStore):
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

        # Registered outside the transaction: a failed one could not even unregister it.
        with (
            self._query_slot(),
            registered(self._cursor(), "company_names", self.company_names(query.tenant_id)),
            self._snapshot() as con,
        ):
            with timed("trend"):
                trend = con.execute(_TREND, {**month, "first": query.first_month}).fetchall()
            with timed("page"):
                page = {
                    **month,
                    "last": query.offset + query.limit + 1,
                    "start": query.utc_start,
                    "end": query.utc_end,
                }
                rows = con.execute(_PAGE, page).fetchall()
        candidates, user_tickets = [], {}
        for kind, user_id, organization_id, text, count in rows:
            if kind == "user":
                candidates.append((user_id, organization_id, text, count))
            elif kind == "tickets":
                user_tickets[user_id] = MauTickets(int(count), text)
            else:
                companies, tickets_raised = str(text), int(count)
        with timed("per_user"):
            users = self._page_of(query, candidates)
        return MauMonth(
            trend={row[0]: int(row[1]) for row in trend},
            companies_json=companies,
            tickets_raised=tickets_raised,
            users=users,
            user_tickets=user_tickets,
            timings_ms=timings,
        )

    def _page_of(self, query: MauMonthQuery, candidates: list[tuple[Any, ...]]) -> list[MauUser]:
        """The page's users (and the one after it, if any) among the candidates: named, then
        ordered by turns (descending), name and id."""
        known = self._users_of(query.tenant_id).by_id
        users = []
        for user_id, organization_id, company_name, turns in candidates:
            _, name, email, _ = known.get(user_id) or (user_id, None, None, None)
            named = user_id if name is None else name
            users.append(MauUser(user_id, named, email, organization_id, company_name, int(turns)))
        users.sort(key=lambda user: (-user.turns, user.name, user.user_id))
        return users[query.offset : query.offset + query.limit + 1]

    def mau_trend(
        self, tenant_id: int, first_month: date, month: date, min_messages: int
    ) -> dict[date, int]:
        params = {"tenant": tenant_id, "first": first_month, "month": month, "min": min_messages}
        return {row[0]: int(row[1]) for row in self._rows(_TREND, params)}
