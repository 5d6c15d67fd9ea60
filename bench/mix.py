"""The fixed query mix of issue 5 §1 for the dataset's largest tenant, and each answer as the
engines compare it.

Every question is an API path plus what a baseline needs to answer the same question with the
same numbers. An ``Answer`` maps a key (a bucket and a dimension, a user, an organization, a
month) to its figures; keys whose figures are all zero are left out on every side, so that a row
of zeros the API lists and a row a query never produces compare equal.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import islice
from typing import Any, Literal
from zoneinfo import ZoneInfo

from usagelens.timezones.buckets import buckets
from usagelens.usage.service import subaccounts

Answer = dict[tuple[Any, ...], tuple[Any, ...]]
LIMIT = 500  # the usage API's most buckets per answer: 30 days by hour stop at 500 hours
DAYS = 30
TREND_MONTHS = 6

# The per-user table's plain counts (no money), in order: what a baseline recomputes.
COUNT_FIELDS = (
    "total_sms_sent",
    "total_sms_received",
    "total_mms_sent",
    "total_mms_received",
    "total_voice_calls",
    "total_voice_seconds",
    "api_requests_count",
    "phone_rental_count",
    "phone_purchase_count",
    "kb_count",
    "kb_minutes",
)


@dataclass(frozen=True)
class Usage:
    """Conversations and seconds of an account's tree per bucket (and agent or subaccount)."""

    name: str
    path: str
    granularity: Literal["hour", "day"]
    group: Literal["", "agent", "subaccount"]
    tz: str
    start: datetime  # aware UTC: events counted in [start, end)
    end: datetime
    subaccount_of: tuple[tuple[str, str], ...]  # each organization of the tree, its subaccount
    bucket_starts: tuple[datetime, ...]  # aware UTC, from the tz database


@dataclass(frozen=True)
class Counts:
    """The per-user table's counts, per user of one organization, per organization, or for
    the whole tenant (users, organizations and overview endpoints)."""

    name: str
    path: str
    level: Literal["user", "organization", "tenant"]
    organization: str | None
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Mau:
    """Users with at least ``min_messages`` bot messages in a month of the tenant's zone."""

    name: str
    path: str
    tz: str
    min_messages: int
    months: tuple[str, ...]  # YYYY-MM, oldest first
    month_starts: tuple[datetime, ...]  # aware UTC, one more than months (the end)


Question = Usage | Counts | Mau
Granularity = Literal["hour", "day"]
Group = Literal["", "agent", "subaccount"]
USAGE_KINDS: tuple[tuple[Granularity, Group], ...] = (
    ("day", ""),
    ("day", "agent"),
    ("day", "subaccount"),
    ("hour", ""),
    ("hour", "agent"),
    ("hour", "subaccount"),
)


@dataclass(frozen=True)
class Focus:
    tenant: str
    tz: str
    mau_min_messages: int
    account: str  # the largest account (usage questions)
    organization: str  # the organization with most users (per-user table)
    end: datetime  # where the data ends


def questions(focus: Focus, parents: dict[str, str | None]) -> list[Question]:
    zone = ZoneInfo(focus.tz)
    last = focus.end.astimezone(zone).date()  # the last local day, whose end may lack data
    first = last - timedelta(days=DAYS)
    start, end = _midnight(first, zone), _midnight(last, zone)
    tree = tuple(sorted(subaccounts(parents, focus.account).items()))
    made: list[Question] = [
        _usage(focus, granularity, group, start, end, tree) for granularity, group in USAGE_KINDS
    ]
    dates = f"start_date={first}&end_date={last - timedelta(days=1)}"
    made += [
        Counts(
            f"per-user costs of {focus.organization}, {DAYS} days",
            f"/v1/analytics/users?organization_id={focus.organization}&{dates}",
            "user",
            focus.organization,
            start,
            end,
        ),
        Counts(
            f"organizations, {DAYS} days",
            f"/v1/analytics/organizations?{dates}",
            "organization",
            None,
            start,
            end,
        ),
        Counts(
            f"overview, {DAYS} days", f"/v1/analytics/overview?{dates}", "tenant", None, start, end
        ),
    ]
    month = _add_months(date(last.year, last.month, 1), -1)  # the last complete month
    made.append(_mau(focus, month, TREND_MONTHS, "detail"))
    made.append(_mau(focus, month, 1, "charge"))
    return made


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def _usage(
    focus: Focus,
    granularity: Granularity,
    group: Group,
    start: datetime,
    end: datetime,
    tree: tuple[tuple[str, str], ...],
) -> Usage:
    spans = list(islice(buckets(start, end, focus.tz, granularity), LIMIT))
    window_end = min(end, spans[-1][1])
    zone = ZoneInfo(focus.tz)
    # As a dashboard sends them: readings of the zone's clock, without an offset.
    local = "&".join(
        f"{name}={moment.astimezone(zone):%Y-%m-%dT%H:%M:%S}"
        for name, moment in (("start", start), ("end", end))
    )
    name = f"usage, {DAYS} days by {granularity}" + (f", group_by {group}" if group else "")
    if window_end < end:
        name += f" (first {len(spans)} buckets: the API's limit)"
    path = (
        f"/v1/accounts/{focus.account}/analytics/usage?{local}&tz={focus.tz}"
        f"&granularity={granularity}" + (f"&group_by={group}" if group else "")
    )
    starts = tuple(first for first, _ in spans)
    return Usage(name, path, granularity, group, focus.tz, start, window_end, tree, starts)


def _mau(focus: Focus, month: date, months: int, endpoint: Literal["detail", "charge"]) -> Mau:
    zone = ZoneInfo(focus.tz)
    firsts = [_add_months(month, back) for back in range(1 - months, 2)]
    if endpoint == "detail":
        name = f"MAU detail {month:%Y-%m}, {months}-month trend"
        path = f"/public-api/billing/end-user-teams/detail?month={month:%Y-%m}&months={months}"
    else:
        name = f"MAU charge {month:%Y-%m}"
        path = f"/public-api/billing/end-user-teams-usage?month={month:%Y-%m}"
    return Mau(
        name,
        path,
        focus.tz,
        max(focus.mau_min_messages, 1),
        tuple(f"{first:%Y-%m}" for first in firsts[:-1]),
        tuple(_midnight(first, zone) for first in firsts),
    )


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


# --------------------------------------------------------------------------------------------
# The API's answers
# --------------------------------------------------------------------------------------------


def api_answer(question: Question, content: bytes) -> Answer:
    body = json.loads(content, parse_float=Decimal)  # money and minutes stay exact
    if isinstance(question, Usage):
        return _usage_answer(question, body)
    if isinstance(question, Counts):
        return _counts_answer(question, body)
    if question.path.startswith("/public-api/billing/end-user-teams/detail"):
        trend = body["data"]["monthly_active_users"]
        return nonzero(((m["month"],), (m["active_users"],)) for m in trend)
    return nonzero([((body["data"]["month"],), (body["data"]["active_users"],))])


def _usage_answer(question: Usage, body: dict[str, Any]) -> Answer:
    answer: Answer = {}
    for bucket in body["data"]:
        start = datetime.fromisoformat(bucket["ts"]).astimezone(UTC)
        for value in bucket["values"]:
            key = (start, value["dimensions"].get(question.group, "") if question.group else "")
            answer[key] = (value["conversations"], value["seconds"])
    return nonzero(answer.items())


def _counts_answer(question: Counts, body: dict[str, Any]) -> Answer:
    if question.level == "user":
        rows = [((row["user_id"],), row) for row in body["users"]]
    elif question.level == "organization":
        rows = [((row["organization_id"],), row) for row in body["organizations"]]
    else:
        rows = [(("tenant",), body)]
    return nonzero((key, _counts(row)) for key, row in rows)


def _counts(row: dict[str, Any]) -> tuple[Any, ...]:
    merged = {**row, **row["cost_breakdown"]}
    return tuple(merged[name] for name in COUNT_FIELDS)


def nonzero(items: Iterable[tuple[tuple[Any, ...], tuple[Any, ...]]]) -> Answer:
    return {key: values for key, values in items if any(values)}
