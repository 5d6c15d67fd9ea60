"""Monthly active users: the headline charge with its projection note, the trend, per company
and per user (a page at a time, with the API's cursor), as seed 000's two endpoints answer."""

from typing import Any

from playwright.sync_api import Browser, Page, expect

from tests.dashboard.browser import cells, open_page, settled, sign_in
from tests.dashboard.site import Site

DETAIL = "/public-api/billing/end-user-teams/detail"
CHARGE = "/public-api/billing/end-user-teams-usage"
PAGE = 50


def _mau_view(page: Page, site: Site) -> None:
    sign_in(page, site.url, site.demo_key)
    page.get_by_role("tab", name="Monthly active users").click()
    assert settled(page, "mau") == "ready"


def _previous_month(page: Page) -> str:
    """The month before the picker's (the current one): a whole month of the demo's tickets and
    users, whatever day of the month the tests run on."""
    year, month = map(int, page.input_value("#mau-month").split("-"))
    earlier = f"{year - (month == 1)}-{(month - 2) % 12 + 1:02d}"
    page.fill("#mau-month", earlier)
    assert settled(page, "mau") == "ready"
    expect(page.locator("#mau-month")).to_have_value(earlier)
    return earlier


def _tickets(tickets: list[dict[str, str]]) -> str:
    return "".join(ticket["ticket_id"] for ticket in tickets)


def _users(detail: Any) -> list[list[str]]:
    return [
        [u["end_user"], u["end_user_email"], u["company_name"], u["turns"], u["tickets_raised"],
         _tickets(u["tickets"])]
        for u in detail["data"]["per_user"]
    ]  # fmt: skip


def _shows(page: Page, site: Site, month: str | None) -> None:
    charge = site.exact(CHARGE, month=month)
    month = charge["data"]["month"]
    detail = site.exact(DETAIL, month=month, months="12", limit=str(PAGE))
    headline = page.eval_on_selector_all("#mau-headline dd", "dds => dds.map(dd => dd.textContent)")
    data = charge["data"]
    assert headline[:4] == [
        month,
        data["active_users"],
        f"{data['charge']} {data['currency']}",  # the API's digits: `281.00`, never 281
        detail["data"]["tickets_raised"],
    ]
    assert "." in data["charge"]
    warnings = page.eval_on_selector_all("#mau-warnings li", "lis => lis.map(li => li.textContent)")
    assert warnings == charge["meta"]["warnings"]
    trend = ", ".join(
        f"{entry['month']}: {entry['active_users']}"
        for entry in detail["data"]["monthly_active_users"]
    )
    label = page.get_attribute("#mau-trend", "aria-label") or ""
    assert label.endswith(trend)
    assert cells(page, "#mau-companies tbody tr") == [
        [c["company_name"], c["end_company_id"], c["active_users"], c["tickets_raised"],
         _tickets(c["tickets"])]
        for c in detail["data"]["per_company"]
    ]  # fmt: skip
    assert cells(page, "#mau-users tbody tr") == _users(detail)


def test_the_current_month_is_the_apis_with_its_projection_note(
    site: Site, browser: Browser
) -> None:
    with open_page(browser) as page:
        _mau_view(page, site)
        _shows(page, site, None)
        expect(page.locator("#mau-warnings")).to_contain_text("is a projection")


def test_tickets_with_a_url_are_links(site: Site, browser: Browser) -> None:
    with open_page(browser) as page:
        _mau_view(page, site)
        detail = site.exact(DETAIL, month=_previous_month(page), months="12", limit="50")
        tickets = [t for c in detail["data"]["per_company"] for t in c["tickets"]]
        links = page.eval_on_selector_all(
            "#mau-companies a", "links => links.map(a => [a.textContent, a.href])"
        )
        assert links == [[t["ticket_id"], t["url"]] for t in tickets if t["url"]]
        assert any(not t["url"] for t in tickets)  # and one without a URL is plain text


def test_pages_of_users_follow_the_apis_cursor(site: Site, browser: Browser) -> None:
    with open_page(browser) as page:
        _mau_view(page, site)
        month = _previous_month(page)
        first = site.exact(DETAIL, month=month, months="12", limit=str(PAGE))
        assert first["meta"]["pagination"]["has_more"] is True
        expect(page.get_by_role("button", name="Previous page")).to_be_disabled()
        page.get_by_role("button", name="Next page").click()
        assert settled(page, "mau") == "ready"
        expect(page.locator("#mau-page")).to_have_text("Page 2")
        cursor = first["meta"]["pagination"]["next_cursor"]
        second = site.exact(DETAIL, month=month, months="12", limit=str(PAGE), cursor=cursor)
        assert cells(page, "#mau-users tbody tr") == _users(second)
        page.get_by_role("button", name="Previous page").click()
        assert settled(page, "mau") == "ready"
        assert cells(page, "#mau-users tbody tr") == _users(first)


def test_an_earlier_month_has_no_projection(site: Site, browser: Browser) -> None:
    with open_page(browser) as page:
        _mau_view(page, site)
        earlier = _previous_month(page)
        _shows(page, site, earlier)
        expect(page.locator("#mau-warnings li")).to_have_count(0)


def test_a_month_in_the_future_names_the_field(site: Site, browser: Browser) -> None:
    with open_page(browser, expected_errors=2) as page:
        _mau_view(page, site)
        page.fill("#mau-month", "2999-01")
        assert settled(page, "mau") == "error"
        expect(page.get_by_role("alert")).to_contain_text("Check “Month” (month)")
        expect(page.locator("#mau-month")).to_have_attribute("aria-invalid", "true")
