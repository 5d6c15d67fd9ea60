"""Users: seed 001's table as GET /v1/analytics/users answers it, sorted by any column, with
totals, and a CSV download that is the API's own `?format=csv`, in the order shown."""

import csv
import io
from decimal import Decimal
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.dashboard.browser import cells, open_page, settled, sign_in
from tests.dashboard.site import AWKWARD_NAMES, Site

COLUMNS = [
    "User", "SMS Sent", "SMS Received", "MMS Sent", "MMS Received", "Voice Calls", "Voice Min",
    "API Requests", "Storage", "Phone Monthly", "Phones Purchased", "KB Count", "KB Min", "Cost",
]  # fmt: skip
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _users_view(page: Page, site: Site) -> None:
    sign_in(page, site.url, site.demo_key)
    page.get_by_role("tab", name="Users", exact=True).click()
    assert settled(page, "users") == "ready"


def _api_csv(site: Site, page: Page) -> bytes:
    return site.api(
        "/v1/analytics/users",
        organization_id=page.input_value("#users-org"),
        start_date=page.input_value("#users-from"),
        end_date=page.input_value("#users-to"),
        format="csv",
    ).content


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(), newline="")))


def _as_shown(row: list[str]) -> list[str]:
    """A CSV row as the table shows it: the name without the CSV's formula guard."""
    name = (
        row[0][1:] if row[0].startswith("'") and row[0][1:].startswith(FORMULA_STARTS) else row[0]
    )
    return [name, *row[1:]]


def _download(page: Page, folder: Path) -> bytes:
    with page.expect_download() as event:
        page.get_by_role("button", name="Download CSV").click()
    path = folder / event.value.suggested_filename
    event.value.save_as(path)
    return path.read_bytes()


def _body(page: Page) -> list[list[str]]:
    # textContent keeps a name's line break, as the CSV does.
    return cells(page, "#users-table tbody tr")


def test_the_table_is_the_apis_with_totals(site: Site, browser: Browser) -> None:
    with open_page(browser) as page:
        _users_view(page, site)
        api = _rows(_api_csv(site, page))
        assert api[0] == COLUMNS
        headings = page.eval_on_selector_all(
            "#users-table thead th", "ths => ths.map(th => th.textContent)"
        )
        assert [heading.removesuffix(" (USD)") for heading in headings] == COLUMNS
        assert _body(page) == [_as_shown(row) for row in api[1:]]
        # And the JSON agrees on the raw fields: money with its digits, names unguarded.
        answer = site.exact(
            "/v1/analytics/users",
            organization_id="org_acme",
            start_date=page.input_value("#users-from"),
            end_date=page.input_value("#users-to"),
        )
        shown = {row[0]: row for row in _body(page)}
        for user in answer["users"]:
            row = shown[user["user_name"]]
            assert row[1] == user["total_sms_sent"]
            assert row[8] == user["cost_breakdown"]["api_storage_cost"]
            assert row[13] == user["total_cost"]
        assert set(AWKWARD_NAMES.values()) <= set(shown)
        (totals,) = cells(page, "#users-table tfoot tr")
        assert totals[0] == f"Total ({len(api) - 1} users)"
        for column in range(1, len(COLUMNS)):
            assert totals[column] == str(sum((Decimal(row[column]) for row in api[1:]), Decimal(0)))
        expect(page.locator("#users-summary")).to_contain_text(
            f"{answer['organization_name']}: {len(api) - 1} users, {answer['period']['start']} to"
        )


def test_the_csv_in_the_apis_order_is_the_apis_csv(
    site: Site, browser: Browser, tmp_path: Path
) -> None:
    with open_page(browser) as page:
        _users_view(page, site)
        downloaded = _download(page, tmp_path)
        assert downloaded == _api_csv(site, page)
        start, end = page.input_value("#users-from"), page.input_value("#users-to")
        assert (tmp_path / f"users-{start}-{end}.csv").exists()  # the API's file name


def test_sorting_by_a_column_sorts_the_table_and_the_csv(
    site: Site, browser: Browser, tmp_path: Path
) -> None:
    with open_page(browser) as page:
        _users_view(page, site)
        api = _rows(_api_csv(site, page))
        # Numbers sort largest first, names from A; a second click turns the order around.
        page.get_by_role("button", name="Cost (USD)").click()
        expect(page.locator("#users-table th").nth(13)).to_have_attribute("aria-sort", "descending")
        costs = sorted((Decimal(row[13]) for row in api[1:]), reverse=True)
        assert [Decimal(row[13]) for row in _body(page)] == costs
        page.get_by_role("button", name="Cost (USD)").click()
        expect(page.locator("#users-table th").nth(13)).to_have_attribute("aria-sort", "ascending")
        assert [Decimal(row[13]) for row in _body(page)] == costs[::-1]

        page.get_by_role("button", name="User", exact=True).focus()
        page.keyboard.press("Enter")  # a heading is a real button: the keyboard sorts too
        expect(page.locator("#users-table th").first).to_have_attribute("aria-sort", "ascending")
        by_name = _body(page)
        assert by_name != [_as_shown(row) for row in api[1:]]
        downloaded = _rows(_download(page, tmp_path))
        assert downloaded[0] == COLUMNS
        assert sorted(downloaded[1:]) == sorted(api[1:])  # the same rows...
        assert [_as_shown(row) for row in downloaded[1:]] == by_name  # ...in the order shown


def test_a_bad_range_names_the_field(site: Site, browser: Browser) -> None:
    with open_page(browser, expected_errors=2) as page:
        _users_view(page, site)
        page.fill("#users-from", "2030-01-01")
        page.press("#users-from", "Tab")
        assert settled(page, "users") == "error"
        expect(page.get_by_role("alert")).to_contain_text("Check “From” (start_date)")
        expect(page.locator("#users-from")).to_have_attribute("aria-invalid", "true")
