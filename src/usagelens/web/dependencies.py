"""Request-scoped dependencies: the storage backend and the authenticated caller."""

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request

from usagelens.auth.models import Principal
from usagelens.auth.service import Authenticator, AuthFailure
from usagelens.ingest.writer import GroupCommitWriter
from usagelens.settings import Settings
from usagelens.storage.base import Backend
from usagelens.web.errors import AnalyticsError, BillingError


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
    authenticator: Authenticator = request.app.state.authenticator
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


def _reader(request: Request, authorization: str | None, x_api_key: str | None) -> Principal | str:
    """Who reads analytics: a tenant key, or a dashboard user's access token; else why not."""
    authenticator: Authenticator = request.app.state.authenticator
    found = authenticator.authenticate(authorization, x_api_key, accept_tokens=True)
    if isinstance(found, AuthFailure):
        return found.message
    if found.tenant_id is None:
        return ""  # an operator key: known, but not allowed to read a tenant's analytics
    return found


_OPERATOR_CANNOT_READ = "operator keys cannot read analytics; use a tenant key or sign in"


def usage_reader(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
) -> Principal:
    """Seed 002's family: FastAPI-style errors."""
    found = _reader(request, authorization, x_api_key)
    if found == "":
        raise HTTPException(403, _OPERATOR_CANNOT_READ)
    if isinstance(found, str):
        raise HTTPException(401, found, headers={"WWW-Authenticate": "Bearer"})
    return found


def billing_reader(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
) -> Principal:
    """Seed 000's family: errors in its `{error, meta}` envelope."""
    found = _reader(request, authorization, x_api_key)
    if found == "":
        raise BillingError(403, "forbidden", _OPERATOR_CANNOT_READ)
    if isinstance(found, str):
        raise BillingError(401, "unauthorized", found)
    return found


def analytics_reader(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
) -> Principal:
    """Seed 001's family: errors as `{"success": false, "error": ...}`."""
    found = _reader(request, authorization, x_api_key)
    if found == "":
        raise AnalyticsError(403, _OPERATOR_CANNOT_READ)
    if isinstance(found, str):
        raise AnalyticsError(401, found)
    return found


BackendDep = Annotated[Backend, Depends(backend)]
SettingsDep = Annotated[Settings, Depends(settings)]
WriterDep = Annotated[GroupCommitWriter, Depends(writer)]
CallerDep = Annotated[Principal, Depends(caller)]
TenantCallerDep = Annotated[Principal, Depends(tenant_caller)]
OperatorCallerDep = Annotated[Principal, Depends(operator_caller)]
UsageReaderDep = Annotated[Principal, Depends(usage_reader)]
BillingReaderDep = Annotated[Principal, Depends(billing_reader)]
AnalyticsReaderDep = Annotated[Principal, Depends(analytics_reader)]
