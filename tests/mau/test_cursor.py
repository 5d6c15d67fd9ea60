"""The pagination cursor on its own: signed, canonical, bound to tenant and parameters."""

import base64
import json

import pytest

from usagelens.mau.cursor import CursorError, Page, offset_of, sign

SECRET = b"s" * 32
PAGE = Page(tenant_id=7, month="2025-04", months=6, limit=2, offset=4)


def test_a_cursor_carries_its_offset() -> None:
    assert offset_of(SECRET, sign(SECRET, PAGE), PAGE) == 4
    # the offset of the expected page plays no part
    assert offset_of(SECRET, sign(SECRET, PAGE), Page(7, "2025-04", 6, 2, 0)) == 4


@pytest.mark.parametrize(
    "other",
    [
        Page(8, "2025-04", 6, 2, 4),
        Page(7, "2025-05", 6, 2, 4),
        Page(7, "2025-04", 5, 2, 4),
        Page(7, "2025-04", 6, 3, 4),
    ],
)
def test_a_cursor_is_bound_to_tenant_and_parameters(other: Page) -> None:
    with pytest.raises(CursorError):
        offset_of(SECRET, sign(SECRET, PAGE), other)


def test_another_secret_rejects_it() -> None:
    with pytest.raises(CursorError):
        offset_of(b"t" * 32, sign(SECRET, PAGE), PAGE)


def test_every_changed_character_is_refused() -> None:
    cursor = sign(SECRET, PAGE)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
    for position, original in enumerate(cursor):
        for replacement in (alphabet[(alphabet.index(original) + 1) % len(alphabet)], "="):
            changed = cursor[:position] + replacement + cursor[position + 1 :]
            with pytest.raises(CursorError):
                offset_of(SECRET, changed, PAGE)


def test_a_forged_payload_without_the_secret_is_refused() -> None:
    payload = json.dumps({"l": 2, "m": "2025-04", "n": 6, "o": 0}).encode()
    encoded = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
    signature = sign(SECRET, PAGE).split(".")[1]
    with pytest.raises(CursorError):
        offset_of(SECRET, f"{encoded}.{signature}", PAGE)


@pytest.mark.parametrize("cursor", ["", ".", "a.b.c", "x" * 600, "abc", "é.é"])
def test_garbage_is_refused(cursor: str) -> None:
    with pytest.raises(CursorError):
        offset_of(SECRET, cursor, PAGE)
