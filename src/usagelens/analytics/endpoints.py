"""Seed 001's family: per-user, per-organization and tenant-wide usage and costs.

Errors answer `{"success": false, "error": "<message>"}`; money is a JSON number with exactly the
currency's minor-unit decimals (``125.50``).
"""

from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Header, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from usagelens.analytics.csv import users_csv
from usagelens.analytics.schemas import ENCODER
from usagelens.analytics.service import (
    organizations_response,
    overview_response,
    usage_response,
    user_rows,
    users_response,
)
from usagelens.web.dependencies import AnalyticsReaderDep, BackendDep
from usagelens.web.errors import AnalyticsError

router = APIRouter(prefix="/v1/analytics", tags=["analytics (costs per user and organization)"])

_CONVENTIONS = """
Dates are `YYYY-MM-DD`, whole days of the tenant's time zone, both ends inclusive. Money is a
JSON number rounded once per figure, half-up, to the currency's minor unit (`125.50`); each
event is priced by the rate card version in force at its time. `total_cost` is the sum of the
reported components; an organization's figures are the sums of its users' figures plus those of
its own events (without a subject, brand registrations among them); the overview is the sum of
the organizations. Errors: `{"success": false, "error": "<message>"}` (400 a bad parameter,
named; 401 no or a bad key; 403 an operator key; 404 an unknown organization or user).
"""

StartDate = Annotated[
    str | None,
    Query(
        description="Start date (YYYY-MM-DD, tenant's zone). Defaults to 30 days ago.",
        examples=["2024-01-01"],
    ),
]
EndDate = Annotated[
    str | None,
    Query(
        description="End date (YYYY-MM-DD, inclusive). Defaults to today.", examples=["2024-01-31"]
    ),
]

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {
        "description": description,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"success": {"type": "boolean"}, "error": {"type": "string"}},
                }
            }
        },
    }
    for status, description in (
        (400, "A bad or missing parameter, named."),
        (401, "No key or token, or an invalid one."),
        (403, "An operator key."),
        (404, "No such organization (or user) in the caller's tenant."),
    )
}


def _json(value: msgspec.Struct) -> Response:
    return Response(ENCODER.encode(value), media_type="application/json")


def _wants_csv(format_: str | None, accept: str | None) -> bool:
    if format_ is not None and format_ not in ("json", "csv"):
        raise AnalyticsError(400, f"format must be json or csv, not {format_!r}")
    if format_ is not None:
        return format_ == "csv"
    return accept is not None and "text/csv" in accept.lower()


@router.get(
    "/users",
    summary="Get User Analytics",
    description="Usage and cost analytics broken down by individual users within a specific "
    "organization: one row per user of the organization (users without usage show zeros), "
    "most expensive first, then by `user_name` (the email, else the name, else the id). "
    "Brand registration is organization-level and never appears per user. "
    "`?format=csv` (or `Accept: text/csv`) answers the same rows as CSV with the columns "
    "User, SMS Sent, SMS Received, MMS Sent, MMS Received, Voice Calls, Voice Min "
    "(seconds / 60, half-up to 2 decimals), API Requests, Storage, Phone Monthly, "
    "Phones Purchased, KB Count, KB Min, Cost.\n" + _CONVENTIONS,
    response_class=Response,
    responses={200: {"description": "Success (JSON or CSV)."}, **_ERRORS},
)
async def users(
    principal: AnalyticsReaderDep,
    backend: BackendDep,
    organization_id: Annotated[
        str | None, Query(description="The organization ID to get user analytics for (required)")
    ] = None,
    start_date: StartDate = None,
    end_date: EndDate = None,
    format: Annotated[str | None, Query(description="`json` (default) or `csv`.")] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    assert principal.tenant_id is not None
    wants_csv = _wants_csv(format, accept)
    found = await run_in_threadpool(
        user_rows, backend, principal.tenant_id, organization_id, start_date, end_date
    )
    answer = users_response(found)
    if wants_csv:
        name = f"users-{found.range.start_date}-{found.range.end_date}.csv"
        return Response(
            users_csv(answer.users),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return _json(answer)


@router.get(
    "/organizations",
    summary="Get Organization Analytics",
    description="Usage and costs per organization of the tenant (every organization, with "
    "zeros when it had no usage), most expensive first, with `users_count` (its directory "
    "users and any user with usage in it) and brand registrations and the knowledge-base "
    "split (`kb_monthly_cost`, `kb_usage_cost`; `kb_cost` is their sum) in `cost_breakdown`."
    "\n" + _CONVENTIONS,
    response_class=Response,
    responses={200: {"description": "Success."}, **_ERRORS},
)
async def organizations(
    principal: AnalyticsReaderDep,
    backend: BackendDep,
    start_date: StartDate = None,
    end_date: EndDate = None,
) -> Response:
    assert principal.tenant_id is not None
    answer = await run_in_threadpool(
        organizations_response, backend, principal.tenant_id, start_date, end_date
    )
    return _json(answer)


@router.get(
    "/overview",
    summary="Get Analytics Overview",
    description="The tenant's totals: the sums of `/v1/analytics/organizations`, with "
    "`organizations_count` and `users_count` (distinct users)."
    "\n" + _CONVENTIONS,
    response_class=Response,
    responses={200: {"description": "Success."}, **_ERRORS},
)
async def overview(
    principal: AnalyticsReaderDep,
    backend: BackendDep,
    start_date: StartDate = None,
    end_date: EndDate = None,
) -> Response:
    assert principal.tenant_id is not None
    answer = await run_in_threadpool(
        overview_response, backend, principal.tenant_id, start_date, end_date
    )
    return _json(answer)


@router.get(
    "/usage",
    summary="Get Usage Counters",
    description="SMS and MMS segments (outbound, inbound, total) and voice seconds of an "
    "organization, a user, or a user within an organization: `organization_id` or `user_id` "
    "is required. All time unless `start_date` and/or `end_date` are given (then whole days "
    "of the tenant's zone, both inclusive; a `null` period end is unbounded)."
    "\n" + _CONVENTIONS,
    response_class=Response,
    responses={200: {"description": "Success."}, **_ERRORS},
)
async def usage(
    principal: AnalyticsReaderDep,
    backend: BackendDep,
    organization_id: Annotated[str | None, Query(description="An organization ID.")] = None,
    user_id: Annotated[str | None, Query(description="A user ID.")] = None,
    start_date: Annotated[
        str | None, Query(description="Start date (YYYY-MM-DD); unbounded by default.")
    ] = None,
    end_date: Annotated[
        str | None, Query(description="End date (YYYY-MM-DD, inclusive); unbounded by default.")
    ] = None,
) -> Response:
    assert principal.tenant_id is not None
    answer = await run_in_threadpool(
        usage_response,
        backend,
        principal.tenant_id,
        organization_id,
        user_id,
        start_date,
        end_date,
    )
    return _json(answer)
