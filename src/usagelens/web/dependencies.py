"""Request-scoped dependencies: the storage backend and the authenticated caller."""

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request

from usagelens.auth.models import Principal
from usagelens.auth.service import AuthFailure, KeyAuthenticator
from usagelens.ingest.writer import GroupCommitWriter
from usagelens.settings import Settings
from usagelens.storage.base import Backend


def backend(request: Request) -> Backend:
    found: Backend = request.app.state.backend
    return found


def settings(request: Request) -> Settings:
    found: Settings = request.app.state.settings
    return found


def writer(request: Request) -> GroupCommitWriter:
    found: GroupCommitWriter = request.app.state.writer
    return found


def caller(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
) -> Principal:
    authenticator: KeyAuthenticator = request.app.state.authenticator
    found = authenticator.authenticate(authorization, x_api_key)
    if isinstance(found, AuthFailure):
        raise HTTPException(401, found.message, headers={"WWW-Authenticate": "Bearer"})
    return found


def tenant_caller(principal: Annotated[Principal, Depends(caller)]) -> Principal:
    if principal.tenant_id is None:
        raise HTTPException(403, "this endpoint needs a tenant key; operator keys cannot use it")
    return principal


def operator_caller(principal: Annotated[Principal, Depends(caller)]) -> Principal:
    if principal.kind != "operator":
        raise HTTPException(403, "this endpoint needs an operator key")
    return principal


BackendDep = Annotated[Backend, Depends(backend)]
SettingsDep = Annotated[Settings, Depends(settings)]
WriterDep = Annotated[GroupCommitWriter, Depends(writer)]
CallerDep = Annotated[Principal, Depends(caller)]
TenantCallerDep = Annotated[Principal, Depends(tenant_caller)]
OperatorCallerDep = Annotated[Principal, Depends(operator_caller)]
