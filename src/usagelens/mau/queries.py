"""What the MAU family reads from storage: the narrow interface every backend implements."""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol


@dataclass(frozen=True)
class MauMonthQuery:
    """One tenant's month, as the storage engine needs it.

    ``first_month``..``month`` are first days of months in the tenant's zone (the keys of the
    per-user month rollup); ``utc_start``..``utc_end`` are the naive UTC instants the month
    begins and ends at in that zone, half-open, for the raw ticket events.
    """

    tenant_id: int
    month: date
    first_month: date
    utc_start: datetime
    utc_end: datetime
    min_messages: int
    offset: int
    limit: int


@dataclass(frozen=True)
class MauUser:
    """An active end user of the month, with the company they are attributed to."""

    user_id: str
    name: str
    email: str | None
    organization_id: str
    company_name: str
    turns: int


@dataclass(frozen=True)
class MauTickets:
    """The tickets of one company or user in the month: how many, and the list as the page
    shows it, a JSON array of ``{"ticket_id", "url"}`` (url ``""`` when the event carried
    none) in the order they were raised."""

    count: int
    json: str


@dataclass(frozen=True)
class MauMonth:
    """Everything the detail endpoint shows, read from one consistent snapshot."""

    trend: dict[date, int]  # active users per month that has any (others have none)
    # The page's `per_company` array as JSON: every end company with at least one active user
    # attributed to it, with its tickets of the month; by active users (descending), then name,
    # then id.
    companies_json: str
    tickets_raised: int  # the month's tickets, of every company, listed or not
    users: list[MauUser]  # the page asked for, plus one more if there is one
    user_tickets: dict[str, MauTickets]  # at least the users of ``users`` with tickets
    timings_ms: dict[str, float] = field(default_factory=dict)


class MauQueries(Protocol):
    def mau_month(self, query: MauMonthQuery) -> MauMonth:
        """The month's trend, companies, one page of users (``limit + 1`` rows from ``offset``,
        so the caller sees whether more follow) and the month's tickets per company and per
        user of that page.

        A user is active in a month with at least ``min_messages`` bot messages in it, summed
        over all organizations; they count once, for the organization they sent the most bot
        messages that month (a tie goes to the smallest organization id). Users are ordered by
        turns (descending), then name, then id.
        """
        ...

    def mau_trend(
        self, tenant_id: int, first_month: date, month: date, min_messages: int
    ) -> dict[date, int]:
        """Active users of each month from ``first_month`` to ``month`` that has any, counted
        as ``mau_month`` counts them."""
        ...
