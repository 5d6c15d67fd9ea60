"""Seed 000's headline endpoint: a month's active end users and what they cost."""

import time
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import msgspec
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, WithJsonSchema
from starlette.concurrency import run_in_threadpool

from usagelens.mau.charge import card_in_force, month_charge
from usagelens.mau.endpoints import MonthParam
from usagelens.mau.schemas import BillingErrorResponse
from usagelens.mau.service import Month, active_users_trend, parse_month
from usagelens.pricing.ratecard import local_midnight, rate_card_versions
from usagelens.storage.base import Backend
from usagelens.web.dependencies import BackendDep, BillingReaderDep
from usagelens.web.errors import BillingError, request_id

router = APIRouter(tags=["monthly active users"])

PATH = "/public-api/billing/end-user-teams-usage"

# Decimals written as JSON numbers with their exact digits: 151.00, never 151.0 nor "151.00".
_ENCODER = msgspec.json.Encoder(decimal_format="number")

_DESCRIPTION = """
A month's active end users of the Teams bot (MAU), in the tenant's time zone, and their charge.

- **Active**: as on `/public-api/billing/end-user-teams/detail`: an end user with at least the
  tenant's minimum number of bot messages (2 unless set otherwise) in the month. Exact.
- **Rate card**: the version in force at the month's start (midnight of the 1st in the tenant's
  zone); the built-in default when the tenant has none.
- **`charge`**: the card's `[mau]` tiers applied marginally (graduated) to the active users: with
  the default card the first 50 at 4.00, the next 200 at 3.00, the rest at 2.00; never below the
  card's `minimum` (100.00), zero users included; rounded once, half-up, to the currency's minor
  unit, and written as a JSON number with exactly its decimals (`151.00`).
- **Trial**: a month every day of which is on or before the card's `trial_end_date` costs `0.00`.
  A month the trial ends in is charged in full (a monthly distinct count is not prorated by days).
- **The current month is a projection**: its `active_users` are those active so far, and its
  `charge` is for the greater of that and the previous month's active users. MAU counts saturate
  (most users are last month's coming back, at any point of the month), so last month is the
  expected base and scaling a partial count by elapsed time would overstate it; the users already
  active are a floor, so the projection never falls below them. `meta.warnings` says the charge
  is a projection and for how many users.
- **Errors** (`{"error": {"code", "message", "details"}, "meta": {"request_id"}}`): 400
  `invalid_month`, `month_in_future`; 401 `unauthorized`; 403 `forbidden` (operator keys).
"""

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": BillingErrorResponse, "description": "A bad `month`, named in `details`."},
    401: {"model": BillingErrorResponse, "description": "No key or token, or an invalid one."},
    403: {"model": BillingErrorResponse, "description": "An operator key."},
}


class EndUserTeamsUsage(BaseModel):
    """Fields in alphabetical order, as every object of this family's pages lists them."""

    active_users: int = Field(
        description="End users active in the month (so far, for the current month)."
    )
    charge: Annotated[Decimal, WithJsonSchema({"type": "number"})] = Field(
        description="The month's charge in `currency`, with exactly its minor-unit decimals; a "
        "projection for the current month."
    )
    currency: str = Field(description="ISO 4217 code of the rate card's currency.")
    month: str = Field(description="The month, `YYYY-MM`, in the tenant's time zone.")
    trial_end_date: date | None = Field(
        description="Last day of the trial per the rate card in force; null without a trial."
    )


class EndUserTeamsUsageMeta(BaseModel):
    request_id: str = Field(description="This request's id (a UUID), also the X-Request-ID header.")
    timings_ms: dict[str, float] = Field(
        description="Milliseconds spent in named stages of the request, and in `total`."
    )
    warnings: list[str] = Field(
        description="Things to know about the figures, e.g. that the charge is a projection."
    )


class EndUserTeamsUsageResponse(BaseModel):
    data: EndUserTeamsUsage
    meta: EndUserTeamsUsageMeta


def _milliseconds(seconds: float) -> float:
    return round(seconds * 1000, 3)


def usage(backend: Backend, tenant_id: int, raw_month: str | None, request_id: str) -> bytes:
    """The JSON body of `GET /public-api/billing/end-user-teams-usage`."""
    started = time.perf_counter()
    tenant = backend.tenant_by_id(tenant_id)
    if tenant is None:
        raise BillingError(401, "unauthorized", "the credentials' tenant does not exist")
    zone = ZoneInfo(tenant.tz)
    current = Month.of(datetime.now(zone))
    month = parse_month(raw_month, current)
    is_current = month == current

    # The detail endpoint's count, read the same way; two months of trend for a projection.
    query_started = time.perf_counter()
    trend = active_users_trend(backend, tenant, month, 2 if is_current else 1)
    query_seconds = time.perf_counter() - query_started
    active = trend.get(month.first_day, 0)
    previous = trend.get(month.plus(-1).first_day, 0) if is_current else None

    cards_started = time.perf_counter()
    versions = rate_card_versions(backend.rate_cards(tenant.tenant_id), tenant.tz)
    card = card_in_force(versions, local_midnight(month.first_day, tenant.tz))
    cards_seconds = time.perf_counter() - cards_started

    priced = month_charge(card, month.first_day, active, previous)
    warnings = []
    if priced.projected:
        warnings.append(
            f"{month} is the current month: its figures are partial and the charge is a "
            f"projection, for {priced.billed_users} active users (the greater of the "
            f"{active} active so far and the {previous} active in {month.plus(-1)})"
        )
    trial_end = card.trial_end_date
    body = {
        "data": {
            "active_users": active,
            "charge": priced.charge,
            "currency": card.currency,
            "month": str(month),
            "trial_end_date": trial_end.isoformat() if trial_end is not None else None,
        },
        "meta": {
            "request_id": request_id,
            "timings_ms": {
                "query": _milliseconds(query_seconds),
                "rate_card": _milliseconds(cards_seconds),
                "total": _milliseconds(time.perf_counter() - started),
            },
            "warnings": warnings,
        },
    }
    return _ENCODER.encode(body)


@router.get(
    PATH,
    response_model=EndUserTeamsUsageResponse,
    summary="End-user Teams bot (MAU) count and charge for a month",
    description=_DESCRIPTION,
    response_description="Success.",
    responses=_ERRORS,
)
async def end_user_teams_usage(
    request: Request,
    principal: BillingReaderDep,
    backend: BackendDep,
    month: MonthParam = None,
) -> Response:
    assert principal.tenant_id is not None
    body = await run_in_threadpool(usage, backend, principal.tenant_id, month, request_id(request))
    return Response(body, media_type="application/json")
