"""Signing in with a key or an access token, keeping it out of URLs, and signing out."""

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.dashboard.browser import cells, open_page, settled, sign_in
from tests.dashboard.site import Site
from tests.dashboard.views import usage_answer, usage_rows, usage_totals

STORED = "() => sessionStorage.getItem('usagelens.credential')"


def test_the_dashboard_sends_a_stranger_to_sign_in(site: Site, browser: Browser) -> None:
    with open_page(browser) as page:
        page.goto(f"{site.url}/dashboard")
        page.wait_for_url(f"{site.url}/")
        expect(page.get_by_label("API key or Entra ID access token")).to_be_focused()


def test_sign_in_with_a_key_then_out(site: Site, browser: Browser) -> None:
    with open_page(browser) as page:
        visited: list[str] = []
        page.on("request", lambda request: visited.append(request.url))
        sign_in(page, site.url, site.demo_key)
        assert settled(page, "usage") == "ready"
        assert page.evaluate(STORED) == site.demo_key
        expect(page.locator("#who")).to_have_text(f"Signed in with API key …{site.demo_key[-4:]}")
        assert not [url for url in visited if site.demo_key in url]

        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(f"{site.url}/")
        assert page.evaluate(STORED) is None
        expect(page.locator("#signin-notice")).to_have_text("You have signed out.")
        page.goto(f"{site.url}/dashboard")
        page.wait_for_url(f"{site.url}/")


def test_sign_in_with_an_entra_access_token(site: Site, browser: Browser) -> None:
    token = site.token()
    with open_page(browser) as page:
        sign_in(page, site.url, token)
        assert settled(page, "usage") == "ready"
        expect(page.locator("#who")).to_have_text("Signed in with an access token")
        # The token's tenant, not the demo's: its own organization tree.
        options = page.eval_on_selector_all(
            "#usage-account option", "options => options.map(o => o.value)"
        )
        assert options == ["ent_root", "ent_child"]
        answer = usage_answer(site, page, token)
        assert cells(page, "#usage-table tbody tr") == usage_rows(answer)
        conversations, seconds = usage_totals(answer)
        assert conversations == 10
        expect(page.locator("#usage-summary")).to_contain_text(
            f"{conversations} conversations, {seconds} seconds"
        )
        # Every view works with the token: the directory, seed 001 and seed 000 alike.
        page.click("#tab-users")
        assert settled(page, "users") == "ready"
        assert cells(page, "#users-table tbody tr")[0][:2] == ["usr_e1", "1"]
        page.click("#tab-mau")
        assert settled(page, "mau") == "ready"


def test_keyboard_alone_signs_in(site: Site, browser: Browser) -> None:
    with open_page(browser) as page:
        page.goto(f"{site.url}/")
        page.keyboard.type(site.demo_key)  # the field has the focus from the start
        page.keyboard.press("Enter")
        page.wait_for_url(f"{site.url}/dashboard#usage")
        settled(page, "usage")
        page.focus("#tab-usage")
        page.keyboard.press("ArrowRight")
        expect(page.locator("#tab-users")).to_be_focused()
        expect(page.locator("#view-users")).to_be_visible()
        expect(page.locator("#view-usage")).to_be_hidden()
        assert page.url.endswith("#users")
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline == "solid"  # the focus is visible


def _refused(page: Page, site: Site, credential: str, advice: str) -> None:
    page.goto(f"{site.url}/")
    page.fill("#credential", credential)
    page.click("#signin-submit")
    expect(page.locator("#signin-notice")).to_contain_text(advice)
    assert page.url == f"{site.url}/"
    assert page.evaluate(STORED) is None
    expect(page.locator("#credential")).to_have_attribute("aria-invalid", "true")


def test_a_wrong_key_is_refused_with_advice(site: Site, browser: Browser) -> None:
    with open_page(browser, expected_errors=3) as page:
        _refused(page, site, site.demo_key[:-4] + "XXXX", "not accepted")
        _refused(page, site, site.issuer.token(site.issuer.kid, exp=1), "revoked or expired")
        _refused(page, site, site.operator_key, "operator key")


def test_a_revoked_key_asks_to_sign_in_again(site: Site, browser: Browser) -> None:
    operator = {"X-API-Key": site.operator_key}
    issued = httpx.post(
        f"{site.url}/v1/admin/keys", json={"tenant": "demo"}, headers=operator, timeout=30
    ).json()
    with open_page(browser, expected_errors=1) as page:
        sign_in(page, site.url, issued["key"])
        assert settled(page, "usage") == "ready"
        revoked = httpx.delete(
            f"{site.url}/v1/admin/keys/{issued['key_id']}", headers=operator, timeout=30
        )
        assert revoked.status_code == 204
        page.get_by_role("button", name="Update").first.click()
        assert settled(page, "usage") == "error"
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("Your sign-in has expired or is no longer valid.")
        alert.get_by_role("button", name="Sign in again").click()
        page.wait_for_url(f"{site.url}/")
        assert page.evaluate(STORED) is None
        expect(page.locator("#signin-notice")).to_contain_text("sign in again")


def test_a_stale_session_is_asked_to_sign_in_again(site: Site, browser: Browser) -> None:
    with open_page(browser, expected_errors=1) as page:
        page.goto(f"{site.url}/")
        page.evaluate("sessionStorage.setItem('usagelens.credential', 'ul_sk_live_gone')")
        page.goto(f"{site.url}/dashboard")
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("Your sign-in has expired or is no longer valid.")
        alert.get_by_role("button", name="Sign in again").click()
        page.wait_for_url(f"{site.url}/")
        assert page.evaluate(STORED) is None
