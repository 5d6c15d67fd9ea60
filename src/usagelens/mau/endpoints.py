"""Seed 000's family: monthly active end users of the Teams bot, with their tickets."""

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import WithJsonSchema
from starlette.concurrency import run_in_threadpool

from usagelens.mau.schemas import BillingErrorResponse, EndUserTeamsDetailResponse
from usagelens.mau.service import (
    DEFAULT_LIMIT,
    DEFAULT_MONTHS,
    MAX_LIMIT,
    MAX_MONTHS,
    DetailParams,
    detail,
)
from usagelens.web.dependencies import BackendDep, BillingReaderDep, SettingsDep
from usagelens.web.errors import request_id

router = APIRouter(tags=["monthly active users"])

_DESCRIPTION = f"""
Detailed end-user Teams bot (MAU) breakdown for a month of the tenant's time zone:
per company, per user, the tickets the bot raised, and a monthly active-user trend ending at
that month.

- **Active**: an end user who sent at least the tenant's minimum number of bot messages
  (2 unless set otherwise) in the month, summed over all companies. Counts are exact.
- **A user in several companies** in one month counts **once**: for the company where they sent
  the most bot messages that month (a tie goes to the smallest company id). Their `turns` are all
  their bot messages of the month, in every company. So `per_company[].active_users` adds up to
  the month's `active_users`, never more.
- **Tickets**: the `ticket` events of the month. A company's are those naming it, a user's are
  those with the user as subject, `data.tickets_raised` counts all of the tenant's. A ticket
  raised without a link has `url` `""`; a user without a known email has `end_user_email` `""`.
- **Names**: as the directory shows them: the name set explicitly, else the latest one events
  carried, else the id.
- **Pagination** applies to `per_user` (most turns first, then by name, then by id); the other
  fields are the same on every page. `meta.pagination.next_cursor` is opaque and signed: pass it
  back with the same `month`, `months` and `limit`, with the same credentials' tenant.
- **Errors** (`{{"error": {{"code", "message", "details"}}, "meta": {{"request_id"}}}}`): 400
  `invalid_month`, `month_in_future`, `invalid_months`, `invalid_limit`, `invalid_cursor`,
  `invalid_parameter`; 401 `unauthorized`; 403 `forbidden` (operator keys).

Limits: `months` 1-{MAX_MONTHS}, `limit` 1-{MAX_LIMIT}.
"""


def _integer(low: int, high: int, default: int) -> WithJsonSchema:
    """Checked by the endpoint itself (each parameter has its own error code), so declared as
    text; documented as the integer it must be."""
    return WithJsonSchema({"type": "integer", "minimum": low, "maximum": high, "default": default})


MonthParam = Annotated[
    str | None,
    WithJsonSchema({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}),
    Query(
        description="Month in YYYY-MM format. Defaults to current month (of the tenant's time "
        "zone).",
        examples=["2026-01"],
    ),
]
MonthsParam = Annotated[
    str | None,
    _integer(1, MAX_MONTHS, DEFAULT_MONTHS),
    Query(description="Trend length in months (1-24, default 6), ending at the selected month."),
]
LimitParam = Annotated[
    str | None,
    _integer(1, MAX_LIMIT, DEFAULT_LIMIT),
    Query(description="Most users in `per_user` per page (1-1000, default 500)."),
]
CursorParam = Annotated[
    str | None,
    WithJsonSchema({"type": "string"}),
    Query(
        description="`meta.pagination.next_cursor` of the previous page; omit it (or leave it "
        "empty) for the first."
    ),
]

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": BillingErrorResponse, "description": "A bad parameter, named in `details`."},
    401: {"model": BillingErrorResponse, "description": "No key or token, or an invalid one."},
    403: {"model": BillingErrorResponse, "description": "An operator key."},
}


@router.get(
    "/public-api/billing/end-user-teams/detail",
    response_model=EndUserTeamsDetailResponse,
    summary="Detailed end-user Teams bot (MAU) breakdown for a month",
    description=_DESCRIPTION,
    response_description="Success.",
    responses=_ERRORS,
)
async def end_user_teams_detail(
    request: Request,
    principal: BillingReaderDep,
    backend: BackendDep,
    settings: SettingsDep,
    month: MonthParam = None,
    months: MonthsParam = None,
    limit: LimitParam = None,
    cursor: CursorParam = None,
) -> Response:
    started = time.perf_counter()
    assert principal.tenant_id is not None
    params = DetailParams(month=month, months=months, limit=limit, cursor=cursor)
    found = await run_in_threadpool(
        detail, backend, settings, principal.tenant_id, params, request_id(request), started
    )
    return Response(found, media_type="application/json")
