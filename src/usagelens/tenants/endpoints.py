"""The admin API (operator keys): tenants, keys and rollup rebuilds on a running server."""

from fastapi import APIRouter, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from usagelens.auth.issuing import issue_key
from usagelens.auth.service import Authenticator
from usagelens.storage.base import TenantExists
from usagelens.tenants.schemas import (
    KeyIn,
    KeyList,
    KeyOut,
    NewKeyOut,
    TenantIn,
    TenantList,
    TenantOut,
)
from usagelens.tenants.service import InvalidTenant, create_tenant
from usagelens.web.dependencies import BackendDep, OperatorCallerDep, SettingsDep

router = APIRouter(prefix="/v1/admin", tags=["admin"])


@router.post("/tenants", status_code=201, response_model=TenantOut)
async def post_tenant(body: TenantIn, _: OperatorCallerDep, backend: BackendDep) -> TenantOut:
    try:
        tenant = await run_in_threadpool(
            create_tenant, backend, body.name, body.tz, body.mau_min_messages, body.entra_tenant_id
        )
    except InvalidTenant as error:
        raise HTTPException(
            422, [{"loc": ["body", error.field], "msg": error.message, "type": "value_error"}]
        ) from None
    except TenantExists as error:
        raise HTTPException(409, str(error)) from None
    return TenantOut.of(tenant)


@router.get("/tenants", response_model=TenantList)
async def get_tenants(_: OperatorCallerDep, backend: BackendDep) -> TenantList:
    tenants = await run_in_threadpool(backend.list_tenants)
    return TenantList(data=[TenantOut.of(t) for t in tenants])


@router.post("/keys", status_code=201, response_model=NewKeyOut)
async def post_key(
    body: KeyIn, _: OperatorCallerDep, backend: BackendDep, settings: SettingsDep
) -> NewKeyOut:
    if body.operator == (body.tenant is not None):
        raise HTTPException(422, "give either `tenant` (a tenant key) or `operator: true`")
    tenant_id = None
    names: dict[int, str] = {}
    if body.tenant is not None:
        tenant = await run_in_threadpool(backend.tenant_by_name, body.tenant)
        if tenant is None:
            raise HTTPException(404, f"tenant {body.tenant!r} not found")
        tenant_id = tenant.tenant_id
        names[tenant_id] = tenant.name
    record, plaintext = await run_in_threadpool(
        issue_key, backend, settings.key_prefix, tenant_id, body.env
    )
    return NewKeyOut(**KeyOut.of(record, names).model_dump(), key=plaintext)


@router.get("/keys", response_model=KeyList)
async def get_keys(_: OperatorCallerDep, backend: BackendDep) -> KeyList:
    keys = await run_in_threadpool(backend.list_keys)
    names = {t.tenant_id: t.name for t in await run_in_threadpool(backend.list_tenants)}
    return KeyList(data=[KeyOut.of(key, names) for key in keys])


@router.delete("/keys/{key_id}", status_code=204)
async def delete_key(
    key_id: str, request: Request, _: OperatorCallerDep, backend: BackendDep
) -> Response:
    if not await run_in_threadpool(backend.revoke_key, key_id):
        raise HTTPException(404, f"no active key {key_id!r}")
    authenticator: Authenticator = request.app.state.authenticator
    authenticator.forget_keys()
    return Response(status_code=204)


@router.post("/rebuild", status_code=204)
async def post_rebuild(_: OperatorCallerDep, backend: BackendDep) -> Response:
    await run_in_threadpool(backend.rebuild_rollups)
    return Response(status_code=204)
