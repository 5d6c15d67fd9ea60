"""Seed 002: usage over time per account, in any time zone."""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

import msgspec
from fastapi import APIRouter, HTTPException, Path, Query, Response
from starlette.concurrency import run_in_threadpool

from usagelens.storage.base import Backend
from usagelens.timezones.months import is_known_zone
from usagelens.usage.model import DIMENSIONS, Dimension
from usagelens.usage.schemas import UsageResponse
from usagelens.usage.service import AccountNotFound, UsageQuery, usage_report
from usagelens.web.dependencies import BackendDep, UsageReaderDep

router = APIRouter(tags=["usage analytics"])

DEFAULT_SPAN = timedelta(days=30)
# Every event is after 1970; the bound keeps local readings of any zone inside datetime's range.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def _invalid(parameter: str, message: str, value: object) -> HTTPException:
    """A 422 shaped like FastAPI's own validation errors."""
    return HTTPException(
        422,
        [{"type": "value_error", "loc": ["query", parameter], "msg": message, "input": value}],
    )


def _moment(parameter: str, value: str, tz: str) -> datetime:
    """ISO-8601; a value without an offset is a reading of the clock in ``tz``."""
    # An unescaped `+` of an offset arrives as a space: read it as the `+` it was.
    text = value.strip().replace(" ", "+") if "T" in value else value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise _invalid(parameter, "must be an ISO-8601 date-time", value) from None
    try:
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=ZoneInfo(tz))
        moment = parsed.astimezone(UTC)
    except OverflowError:
        moment = LATEST + timedelta(days=1) if parsed.year > 2000 else EARLIEST - timedelta(days=1)
    if not EARLIEST <= moment <= LATEST:
        raise _invalid(parameter, "must lie between 1970-01-01 and 2200-01-01", value)
    return moment


def _dimensions(values: list[str] | None) -> tuple[Dimension, ...]:
    """Comma-separated, repeated, or both; repeats ignored, first mention keeps its place."""
    chosen: list[Dimension] = []
    for value in values or []:
        for part in value.split(","):
            name = part.strip()
            if not name:
                continue
            if name not in DIMENSIONS:
                raise _invalid(
                    "group_by", f"{name!r} is not one of: {', '.join(DIMENSIONS)}", value
                )
            dimension: Dimension = name
            if dimension not in chosen:
                chosen.append(dimension)
    return tuple(chosen)


@router.get(
    "/v1/accounts/{account_id}/analytics/usage",
    response_model=UsageResponse,
    summary="Get usage analytics",
    description=(
        "Conversations and conversation seconds of the account and all its subaccounts, per "
        "time bucket of the requested zone (buckets from the IANA tz database: a DST day has "
        "23 or 25 hours, a repeated fall-back hour is two buckets). Counts events in "
        "`[start, end)`; returns every bucket overlapping it, earliest first, up to `limit`."
    ),
)
async def get_usage(
    principal: UsageReaderDep,
    backend: BackendDep,
    account_id: Annotated[str, Path(min_length=1, max_length=256)],
    start: Annotated[
        str | None, Query(description="Start (ISO-8601). Defaults to 30 days before end.")
    ] = None,
    end: Annotated[str | None, Query(description="End (ISO-8601). Defaults to now.")] = None,
    granularity: Annotated[
        Literal["hour", "day", "month"], Query(description="Bucket granularity.")
    ] = "day",
    group_by: Annotated[
        list[str] | None,
        Query(description="agent, subaccount, type: comma separated or repeated."),
    ] = None,
    tz: Annotated[str | None, Query(description="IANA time zone of the buckets.")] = "UTC",
    limit: Annotated[int | None, Query(ge=1, le=500, description="Most buckets returned.")] = 500,
) -> Response:
    zone = tz or "UTC"
    if not is_known_zone(zone):
        raise _invalid("tz", f"{zone!r} is not an IANA time zone name", zone)
    until = _moment("end", end, zone) if end else datetime.now(UTC)
    since = _moment("start", start, zone) if start else until - DEFAULT_SPAN
    if since >= until:
        raise _invalid("start", "must be before end", start)
    query = UsageQuery(
        account_id=account_id,
        start=since,
        end=until,
        granularity=granularity,
        group_by=_dimensions(group_by),
        tz=zone,
        limit=limit or 500,
    )
    assert principal.tenant_id is not None
    tenant_id = principal.tenant_id
    try:
        body = await run_in_threadpool(_report, backend, tenant_id, query)
    except AccountNotFound:
        # The same answer whether the account is another tenant's or nobody's.
        raise HTTPException(404, f"account {account_id!r} not found") from None
    return Response(body, media_type="application/json")


def _report(backend: Backend, tenant_id: int, query: UsageQuery) -> bytes:
    """The whole answer, off the event loop: the tree, the query and the encoding."""
    parents = backend.organization_parents(tenant_id)
    return msgspec.json.encode(usage_report(backend, parents, tenant_id, query))
