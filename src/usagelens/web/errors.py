"""Each API family answers errors in its own envelope (BRIEF §4):

- seed 000's family (`/public-api/`):
  `{"error": {"code", "message", "details"}, "meta": {"request_id"}}`
- seed 001's family (`/v1/analytics/`): `{"success": false, "error": "<message>"}`
- everything else, seed 002's family included: FastAPI's `{"detail": ...}`
"""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from usagelens.storage.base import StorageBusy

BILLING_PREFIX = "/public-api/"
ANALYTICS_PREFIX = "/v1/analytics/"


class BillingError(Exception):
    """An error of the seed 000 family, with a `code` a program can branch on."""

    def __init__(
        self, status: int, code: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


class AnalyticsError(Exception):
    """An error of the seed 001 family."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def request_id(request: Request) -> str:
    found: str = getattr(request.state, "request_id", "")
    return found


def billing_body(request: Request, error: BillingError) -> dict[str, Any]:
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.details is not None:
        body["details"] = error.details
    return {"error": body, "meta": {"request_id": request_id(request)}}


async def _billing(request: Request, error: Exception) -> Response:
    assert isinstance(error, BillingError)
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
    return JSONResponse(billing_body(request, error), status_code=error.status, headers=headers)


async def _analytics(_: Request, error: Exception) -> Response:
    assert isinstance(error, AnalyticsError)
    return JSONResponse({"success": False, "error": error.message}, status_code=error.status)


def _parameter_problems(error: RequestValidationError) -> list[tuple[str, str]]:
    problems = []
    for problem in error.errors():
        location = [str(part) for part in problem.get("loc", ()) if part not in ("query", "path")]
        problems.append((".".join(location) or "request", str(problem.get("msg", "invalid"))))
    return problems


async def _validation(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    path = request.url.path
    if path.startswith(BILLING_PREFIX):
        problems = _parameter_problems(error)
        name, message = problems[0]
        billing = BillingError(
            400,
            "invalid_parameter",
            f"{name}: {message}",
            {"parameters": [{"name": n, "message": m} for n, m in problems]},
        )
        return await _billing(request, billing)
    if path.startswith(ANALYTICS_PREFIX):
        name, message = _parameter_problems(error)[0]
        return await _analytics(request, AnalyticsError(400, f"{name}: {message}"))
    return await request_validation_exception_handler(request, error)


BUSY_MESSAGE = "the service has no memory left for this request right now; retry shortly"
BUSY_RETRY_AFTER_S = 1


async def _busy(request: Request, error: Exception) -> Response:
    """503 in the family's own envelope, with Retry-After: the storage's memory limit was
    reached by the requests running at once, and nothing was changed."""
    assert isinstance(error, StorageBusy)
    path = request.url.path
    if path.startswith(BILLING_PREFIX):
        response = await _billing(request, BillingError(503, "service_busy", BUSY_MESSAGE))
    elif path.startswith(ANALYTICS_PREFIX):
        response = await _analytics(request, AnalyticsError(503, BUSY_MESSAGE))
    else:
        response = JSONResponse({"detail": BUSY_MESSAGE}, status_code=503)
    response.headers["Retry-After"] = str(BUSY_RETRY_AFTER_S)
    return response


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(BillingError, _billing)
    app.add_exception_handler(AnalyticsError, _analytics)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StorageBusy, _busy)
