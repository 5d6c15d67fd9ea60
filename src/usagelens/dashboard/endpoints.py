"""`/` (sign-in), `/dashboard` and the bundle's scripts and styles, with a Content-Security-Policy
that allows nothing but this origin's own files and API."""

from typing import Annotated

from fastapi import APIRouter, Header, Path
from fastapi.responses import PlainTextResponse, Response

from usagelens.dashboard.bundle import SCRIPTS_AND_STYLES, Asset, Bundle
from usagelens.dashboard.zones import zones_asset

router = APIRouter(tags=["dashboard"], include_in_schema=False)

# No inline script or style anywhere, so none is allowed: an injected one cannot run.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; font-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
_SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


BUNDLE = Bundle()


def _send(asset: Asset, if_none_match: str | None, accept_encoding: str | None) -> Response:
    # Revalidated on every load (cheap: a 304), so a rebuilt bundle is never served stale.
    headers = {**_SECURITY_HEADERS, "ETag": asset.etag, "Cache-Control": "no-cache"}
    headers["Vary"] = "Accept-Encoding"
    if if_none_match is not None and asset.etag in if_none_match:
        return Response(status_code=304, headers=headers)
    if accept_encoding is not None and "gzip" in accept_encoding.lower():
        headers["Content-Encoding"] = "gzip"
        return Response(asset.gzipped, media_type=asset.media_type, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


def page(
    bundle: Bundle, name: str, if_none_match: str | None, accept_encoding: str | None
) -> Response:
    """The HTML page ``name``, or a 503 saying how to build the bundle when any of it is missing."""
    asset = bundle.get(name)
    if asset is None or bundle.missing():
        return PlainTextResponse(bundle.not_built_message(), status_code=503)
    return _send(asset, if_none_match, accept_encoding)


IfNoneMatch = Annotated[str | None, Header()]
AcceptEncoding = Annotated[str | None, Header()]


@router.get("/")
async def sign_in_page(
    if_none_match: IfNoneMatch = None, accept_encoding: AcceptEncoding = None
) -> Response:
    return page(BUNDLE, "signin.html", if_none_match, accept_encoding)


@router.get("/dashboard")
async def dashboard_page(
    if_none_match: IfNoneMatch = None, accept_encoding: AcceptEncoding = None
) -> Response:
    return page(BUNDLE, "dashboard.html", if_none_match, accept_encoding)


@router.get("/dashboard/assets/{name}")
async def dashboard_asset(
    name: Annotated[str, Path(max_length=64)],
    if_none_match: IfNoneMatch = None,
    accept_encoding: AcceptEncoding = None,
) -> Response:
    asset = BUNDLE.get(name) if name in SCRIPTS_AND_STYLES else None
    if asset is None:
        return PlainTextResponse(f"no dashboard asset {name!r}\n", status_code=404)
    return _send(asset, if_none_match, accept_encoding)


@router.get("/dashboard/timezones")
async def time_zones(
    if_none_match: IfNoneMatch = None, accept_encoding: AcceptEncoding = None
) -> Response:
    """The IANA zones of the service's tz database, for the dashboard's zone picker."""
    return _send(zones_asset(), if_none_match, accept_encoding)
