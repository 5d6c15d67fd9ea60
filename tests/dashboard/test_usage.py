"""Usage over time: the chart and table show what GET /v1/accounts/{id}/analytics/usage answers
for the controls' values, and change when the zone, granularity or dimension does."""

from datetime import date, timedelta

from playwright.sync_api import Browser, Page, expect

from tests.dashboard.browser import BROWSER_ZONE, cells, open_page, settled, sign_in
from tests.dashboard.site import Site
from tests.dashboard.views import canvas, usage_answer, usage_query, usage_rows, usage_totals


def _signed_in(page: Page, site: Site) -> None:
    sign_in(page, site.url, site.demo_key)
    assert settled(page, "usage") == "ready"


def _change(page: Page, selector: str, value: str) -> str:
    """Sets a control as a person would and waits for the view's new answer."""
    if page.locator(selector).evaluate("e => e.tagName") == "SELECT":
        page.select_option(selector, value)
    else:
        page.fill(selector, value)
        page.press(selector, "Tab")  # a text field commits its value when it loses the focus
    return settled(page, "usage")


def _shows_the_api(page: Page, site: Site, names: dict[str, str] | None = None) -> None:
    answer = usage_answer(site, page)
    assert cells(page, "#usage-table tbody tr") == usage_rows(answer, names)
    conversations, seconds = usage_totals(answer)
    expect(page.locator("#usage-summary")).to_contain_text(
        f"{conversations} conversations, {seconds} seconds in {len(answer['data'])} buckets"
    )
    first, last = answer["data"][0]["ts"], answer["data"][-1]["ts"]
    for chart in ("#usage-conversations", "#usage-seconds"):
        label = page.get_attribute(chart, "aria-label") or ""
        assert f"from {first} to {last}" in label


def test_defaults_and_numbers_are_the_apis(site: Site, browser: Browser) -> None:
    with open_page(browser) as page:
        _signed_in(page, site)
        expect(page.locator("#usage-tz")).to_have_value(BROWSER_ZONE)
        expect(page.locator("#usage-granularity")).to_have_value("day")
        to = date.fromisoformat(page.input_value("#usage-to"))
        assert date.fromisoformat(page.input_value("#usage-from")) == to - timedelta(days=29)
        assert page.input_value("#usage-account") == "org_acme"  # first of the tree
        _shows_the_api(page, site)
        before = canvas(page, "#usage-conversations")
        page.hover("#usage-conversations", position={"x": 300, "y": 150})
        page.wait_for_timeout(100)
        assert canvas(page, "#usage-conversations") != before  # a tooltip was drawn


def test_zone_and_granularity_change_the_chart(site: Site, browser: Browser) -> None:
    with open_page(browser) as page:
        _signed_in(page, site)
        to = date.fromisoformat(page.input_value("#usage-to"))
        assert _change(page, "#usage-from", (to - timedelta(days=6)).isoformat()) == "ready"
        days = cells(page, "#usage-table tbody tr")
        drawn = canvas(page, "#usage-seconds")

        assert _change(page, "#usage-tz", "Asia/Kolkata") == "ready"
        _shows_the_api(page, site)
        kolkata = cells(page, "#usage-table tbody tr")
        assert all(row[0].endswith("+05:30") for row in kolkata)
        assert kolkata != days
        assert canvas(page, "#usage-seconds") != drawn
        drawn = canvas(page, "#usage-seconds")

        assert _change(page, "#usage-granularity", "hour") == "ready"
        _shows_the_api(page, site)
        hours = cells(page, "#usage-table tbody tr")
        assert len(hours) == 7 * 24
        assert hours[1][0].endswith("T01:00:00+05:30")
        assert canvas(page, "#usage-seconds") != drawn


def test_group_by_stacks_by_the_dimension(site: Site, browser: Browser) -> None:
    orgs = {org["id"]: org["name"] for org in site.exact("/v1/organizations")["data"]}
    agents = {agent["id"]: agent["name"] for agent in site.exact("/v1/agents")["data"]}
    with open_page(browser) as page:
        _signed_in(page, site)
        for dimension, names in (("subaccount", orgs), ("agent", agents), ("type", {})):
            assert _change(page, "#usage-group", dimension) == "ready"
            _shows_the_api(page, site, names)
            answer = usage_answer(site, page)
            stacked = {
                names.get(value["dimensions"][dimension], value["dimensions"][dimension])
                for bucket in answer["data"]
                for value in bucket["values"]
            }
            assert len(stacked) > 1
            label = page.get_attribute("#usage-conversations", "aria-label") or ""
            legend = label.split(f"stacked by {dimension}: ")[1].removesuffix(
                ". The data table below lists every value."
            )
            assert set(legend.split(", ")) == stacked


def test_more_buckets_than_one_answer_holds(site: Site, browser: Browser) -> None:
    """30 days of hours are 720 buckets: two pages of the API (at most 500 each), the second
    starting at the first's last bucket."""
    with open_page(browser) as page:
        _signed_in(page, site)
        assert _change(page, "#usage-granularity", "hour") == "ready"
        query = {**usage_query(page)}
        path = f"/v1/accounts/{page.input_value('#usage-account')}/analytics/usage"
        first = site.exact(path, **query)
        assert len(first["data"]) == 500
        second = site.exact(path, **{**query, "start": first["data"][-1]["ts"]})
        assert second["data"][0] == first["data"][-1]
        both = {**first, "data": first["data"] + second["data"][1:]}
        assert len(both["data"]) in (719, 720, 721)  # 30 days of hours, a DST change or not
        assert cells(page, "#usage-table tbody tr") == usage_rows(both)


def test_an_idle_range_says_so(site: Site, browser: Browser) -> None:
    # To before From for a moment: one refused request on the way.
    with open_page(browser, expected_errors=1) as page:
        _signed_in(page, site)
        assert _change(page, "#usage-to", "2001-01-31") == "error"
        assert _change(page, "#usage-from", "2001-01-01") == "empty"
        expect(page.locator("#usage-notice")).to_have_text(
            "No usage in this range. Pick another account, or a wider range."
        )
        expect(page.locator("#usage-conversations")).to_be_hidden()


def test_a_bad_range_names_the_field(site: Site, browser: Browser) -> None:
    with open_page(browser, expected_errors=1) as page:
        _signed_in(page, site)
        to = date.fromisoformat(page.input_value("#usage-to"))
        assert _change(page, "#usage-from", (to + timedelta(days=3)).isoformat()) == "error"
        expect(page.get_by_role("alert")).to_contain_text(
            "Check “From” (start): must be before end"
        )
        expect(page.locator("#usage-from")).to_have_attribute("aria-invalid", "true")


def test_a_zone_not_on_the_list_is_not_sent(site: Site, browser: Browser) -> None:
    with open_page(browser) as page:
        _signed_in(page, site)
        sent: list[str] = []
        page.on("request", lambda request: sent.append(request.url))
        assert _change(page, "#usage-tz", "Mars/Olympus_Mons") == "error"
        expect(page.get_by_role("alert")).to_contain_text("Pick a time zone from the list")
        expect(page.locator("#usage-tz")).to_have_attribute("aria-invalid", "true")
        assert sent == []
