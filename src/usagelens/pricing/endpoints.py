"""Rate cards on a running server (operator keys): set a version, list the versions."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from starlette.concurrency import run_in_threadpool

from usagelens.pricing.ratecard import (
    DEFAULT_RATE_CARD,
    RateCardError,
    parse_effective_date,
    parse_rate_card,
)
from usagelens.pricing.schemas import (
    CardOut,
    RateCardList,
    TenantVersionOut,
    VersionOut,
    toml_body_openapi,
)
from usagelens.storage.base import Backend
from usagelens.tenants.models import Tenant
from usagelens.web.dependencies import BackendDep, OperatorCallerDep

router = APIRouter(tags=["admin"])

MAX_BODY_BYTES = 64 * 1024
TOML_MEDIA_TYPES = ("application/toml", "text/plain", "text/x-toml", "application/x-toml")

TenantParam = Annotated[str, Query(description="Tenant name.")]
EffectiveParam = Annotated[
    str | None,
    Query(
        description="First date (YYYY-MM-DD, tenant's zone) the card is in force; default "
        "1970-01-01, i.e. from the beginning. A version set for the same date is replaced.",
    ),
]


def _invalid(where: str, error: RateCardError) -> HTTPException:
    return HTTPException(
        422, [{"loc": [where, error.field], "msg": error.message, "type": "value_error"}]
    )


async def _tenant(backend: Backend, name: str) -> Tenant:
    tenant = await run_in_threadpool(backend.tenant_by_name, name)
    if tenant is None:
        raise HTTPException(404, f"tenant {name!r} not found")
    return tenant


async def _toml_text(request: Request) -> str:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type and media_type not in TOML_MEDIA_TYPES:
        raise HTTPException(
            415, f"send the rate card as TOML with Content-Type: application/toml, not {media_type}"
        )
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise HTTPException(413, f"a rate card is at most {MAX_BODY_BYTES} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _invalid("body", RateCardError("toml", "the body is not UTF-8 text")) from None
    if not text.strip():
        raise _invalid("body", RateCardError("toml", "the body is empty: send the card as TOML"))
    return text


@router.put(
    "/v1/rate-cards",
    response_model=TenantVersionOut,
    summary="Set a version of a tenant's rate card",
    openapi_extra=toml_body_openapi(),
    responses={
        404: {"description": "No tenant of that name."},
        415: {"description": "A body that is not TOML."},
        422: {"description": "An invalid card or date; `loc` names the field."},
    },
)
async def put_rate_card(
    request: Request,
    _: OperatorCallerDep,
    backend: BackendDep,
    tenant: TenantParam,
    effective: EffectiveParam = None,
) -> TenantVersionOut:
    found = await _tenant(backend, tenant)
    try:
        effective_from = parse_effective_date(effective)
    except RateCardError as error:
        raise _invalid("query", error) from None
    text = await _toml_text(request)
    try:
        card = parse_rate_card(text)
    except RateCardError as error:
        raise _invalid("body", error) from None
    await run_in_threadpool(backend.set_rate_card, found.tenant_id, effective_from, card)
    return TenantVersionOut(tenant=found.name, effective_from=effective_from, card=CardOut.of(card))


@router.get(
    "/v1/rate-cards",
    response_model=RateCardList,
    summary="List the versions of a tenant's rate card",
    responses={404: {"description": "No tenant of that name."}},
)
async def get_rate_cards(
    _: OperatorCallerDep, backend: BackendDep, tenant: TenantParam
) -> RateCardList:
    found = await _tenant(backend, tenant)
    versions = await run_in_threadpool(backend.rate_cards, found.tenant_id)
    return RateCardList(
        tenant=found.name,
        data=[VersionOut(effective_from=day, card=CardOut.of(card)) for day, card in versions],
        default=None if versions else CardOut.of(DEFAULT_RATE_CARD),
    )
