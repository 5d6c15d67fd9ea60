"""Opaque, signed pagination cursors of the MAU detail endpoint.

A cursor is ``<payload>.<signature>``, both base64url without padding. The payload (compact
JSON) carries the offset of the next page and the query parameters it belongs to; the signature
is an HMAC-SHA256 over the payload *and the tenant*, which the payload does not carry. So a
cursor cannot be altered, nor used by another tenant, nor with other parameters.
"""

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass

MAX_CURSOR_LENGTH = 512
_DOMAIN = b"usagelens/mau/end-user-teams/detail/v1\n"
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]+$")


class CursorError(ValueError):
    """The cursor is not one this service issued for this tenant and these parameters."""


@dataclass(frozen=True)
class Page:
    """What a cursor binds: the tenant, every other query parameter, and where the page starts."""

    tenant_id: int
    month: str
    months: int
    limit: int
    offset: int


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    """Strict base64url: only its alphabet, and only the canonical spelling of the bytes."""
    if not _BASE64URL.match(text):
        raise CursorError("cursor is malformed")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise CursorError("cursor is malformed") from None
    if _encode(raw) != text:
        raise CursorError("cursor is malformed")
    return raw


def _signature(secret: bytes, tenant_id: int, payload: bytes) -> bytes:
    message = _DOMAIN + str(tenant_id).encode("ascii") + b"\n" + payload
    return hmac.new(secret, message, hashlib.sha256).digest()


def _payload(page: Page) -> bytes:
    fields = {"m": page.month, "n": page.months, "l": page.limit, "o": page.offset}
    return json.dumps(fields, separators=(",", ":"), sort_keys=True).encode("utf-8")


def sign(secret: bytes, page: Page) -> str:
    payload = _payload(page)
    return f"{_encode(payload)}.{_encode(_signature(secret, page.tenant_id, payload))}"


def offset_of(secret: bytes, cursor: str, expected: Page) -> int:
    """The offset a cursor carries, if it was issued for ``expected``'s tenant and parameters
    (``expected.offset`` is ignored); else CursorError."""
    if len(cursor) > MAX_CURSOR_LENGTH or cursor.count(".") != 1:
        raise CursorError("cursor is malformed")
    encoded_payload, encoded_signature = cursor.split(".")
    payload = _decode(encoded_payload)
    signature = _decode(encoded_signature)
    if not hmac.compare_digest(signature, _signature(secret, expected.tenant_id, payload)):
        raise CursorError("cursor was altered, or was not issued to this tenant")
    try:
        fields = json.loads(payload)
        month, months, limit, offset = fields["m"], fields["n"], fields["l"], fields["o"]
    except (ValueError, KeyError, TypeError):
        raise CursorError("cursor is malformed") from None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise CursorError("cursor is malformed")
    if (month, months, limit) != (expected.month, expected.months, expected.limit):
        raise CursorError(
            f"cursor belongs to month={month}, months={months}, limit={limit}: "
            "repeat those parameters with it, or leave it out to start again"
        )
    return offset
