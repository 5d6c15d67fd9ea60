"""Request-scoped dependencies: the storage backend and the authenticated caller."""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request

from usagelens.auth.models import Principal
from usagelens.auth.service import Authenticator, AuthFailure
from usagelens.ingest.decoding import RequestDecoder
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


def decoder(request: Request) -> RequestDecoder:
    found: RequestDecoder = request.app.state.decoder
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


_OPERATOR_CANNOT_READ = "operator keys cannot read analytics; use a tenant key or sign in"

Refusal = Callable[[int, str], Exception]
"""Builds an API family's error for a status (401 or 403) and a message."""


def _reader(
    refuse: Refusal, operator_refused: str = _OPERATOR_CANNOT_READ
) -> Callable[..., Principal]:
    """A dependency admitting who may read a tenant's data (a tenant key, or a dashboard user's
    access token), refusing everyone else in the family's own error envelope."""

    def reader(
        request: Request,
        authorization: Annotated[str | None, Header()] = None,
        x_api_key: Annotated[str | None, Header()] = None,
    ) -> Principal:
        authenticator: Authenticator = request.app.state.authenticator
        found = authenticator.authenticate(authorization, x_api_key, accept_tokens=True)
        if isinstance(found, AuthFailure):
            raise refuse(401, found.message)
        if found.tenant_id is None:  # an operator key: known, but not a tenant's reader
            raise refuse(403, operator_refused)
        return found

    return reader


def _usage_refusal(status: int, message: str) -> Exception:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return HTTPException(status, message, headers=headers)


def _billing_refusal(status: int, message: str) -> Exception:
    return BillingError(status, "unauthorized" if status == 401 else "forbidden", message)


# Seed 002's family answers FastAPI-style, seed 000's in its `{error, meta}` envelope, seed
# 001's as `{"success": false, "error": ...}`.
usage_reader = _reader(_usage_refusal)
billing_reader = _reader(_billing_refusal)
analytics_reader = _reader(AnalyticsError)
# The dashboard reads the directory too (its organization picker, agents' names), so its reads
# take a dashboard user's token; its writes stay with tenant keys.
directory_reader = _reader(
    _usage_refusal, "operator keys cannot read the directory; use a tenant key or sign in"
)


BackendDep = Annotated[Backend, Depends(backend)]
SettingsDep = Annotated[Settings, Depends(settings)]
WriterDep = Annotated[GroupCommitWriter, Depends(writer)]
DecoderDep = Annotated[RequestDecoder, Depends(decoder)]
CallerDep = Annotated[Principal, Depends(caller)]
TenantCallerDep = Annotated[Principal, Depends(tenant_caller)]
OperatorCallerDep = Annotated[Principal, Depends(operator_caller)]
UsageReaderDep = Annotated[Principal, Depends(usage_reader)]
BillingReaderDep = Annotated[Principal, Depends(billing_reader)]
AnalyticsReaderDep = Annotated[Principal, Depends(analytics_reader)]
DirectoryReaderDep = Annotated[Principal, Depends(directory_reader)]
