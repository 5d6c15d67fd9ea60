"""Every view at desktop and phone size (screenshots saved as test artifacts), no sideways
scrolling on a phone, and the weight of a first load of the dashboard."""

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, ViewportSize

from tests.dashboard.browser import (
    ARTIFACTS,
    DESKTOP,
    PHONE,
    open_page,
    screenshot,
    settled,
    sign_in,
)
from tests.dashboard.site import Site

VIEWS = {"usage": "Usage over time", "users": "Users", "mau": "Monthly active users"}
# What the dashboard's own files (page, scripts, styles) may weigh on the wire, compressed.
ASSET_BUDGET = 100_000


def _fits(page: Page) -> bool:
    width: bool = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    return width


@pytest.mark.parametrize(("size", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_every_view_fits_and_is_captured(
    site: Site, browser: Browser, size: str, viewport: ViewportSize
) -> None:
    with open_page(browser, viewport) as page:
        page.goto(f"{site.url}/")
        screenshot(page, f"signin-{size}")
        sign_in(page, site.url, site.demo_key)
        for view, name in VIEWS.items():
            page.get_by_role("tab", name=name, exact=True).click()
            assert settled(page, view) == "ready"
            assert _fits(page), f"{view} scrolls sideways at {viewport}"
            screenshot(page, f"{view}-{size}")
        page.get_by_role("tab", name="Usage over time").click()
        page.select_option("#usage-group", "subaccount")
        assert settled(page, "usage") == "ready"
        assert _fits(page)
        screenshot(page, f"usage-stacked-{size}")


class Transfers:
    """Bytes on the wire per request (headers and compressed body), from Chromium's own
    network events, in the order the requests were sent."""

    def __init__(self) -> None:
        self.order: list[tuple[str, str, str]] = []  # request id, URL, resource type
        self.size: dict[str, int] = {}

    def sent(self, event: dict[str, Any]) -> None:
        self.order.append((event["requestId"], event["request"]["url"], event.get("type", "")))

    def finished(self, event: dict[str, Any]) -> None:
        self.size[event["requestId"]] = int(event["encodedDataLength"])

    def since(self, url: str) -> list[tuple[str, str, int]]:
        """Every request from the document ``url`` on: (URL, type, bytes)."""
        start = next(
            i for i, (_, sent, kind) in enumerate(self.order) if sent == url and kind == "Document"
        )
        return [(sent, kind, self.size.get(rid, 0)) for rid, sent, kind in self.order[start:]]


def test_page_weight_of_a_first_load(site: Site, browser: Browser) -> None:
    """Signed in, the browser's first load of /dashboard with nothing cached, until the first
    view shows its numbers."""
    with open_page(browser) as page:
        network = page.context.new_cdp_session(page)
        transfers = Transfers()
        network.on("Network.requestWillBeSent", transfers.sent)
        network.on("Network.loadingFinished", transfers.finished)
        network.send("Network.enable")
        network.send("Network.setCacheDisabled", {"cacheDisabled": True})
        sign_in(page, site.url, site.demo_key)
        assert settled(page, "usage") == "ready"
        page.wait_for_load_state("networkidle")
        loaded = transfers.since(f"{site.url}/dashboard")

    own = [
        (url, size) for url, kind, size in loaded if kind in ("Document", "Script", "Stylesheet")
    ]
    api = [(url, size) for url, kind, size in loaded if kind in ("Fetch", "XHR")]
    lines = [
        "First load of /dashboard after signing in (cache disabled), bytes transferred",
        "(headers + gzip-compressed bodies, Chromium's Network.loadingFinished encodedDataLength):",
        *(f"  {size:>8}  {url.removeprefix(site.url)}" for url, size in own + api),
        f"  {sum(size for _, size in own):>8}  page, scripts and styles",
        f"  {sum(size for _, size in api):>8}  API answers and the zone list",
        f"  {sum(size for _, _, size in loaded):>8}  in all ({len(loaded)} requests)",
    ]
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "page-weight.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    assert {url.removeprefix(site.url) for url, _ in own} == {
        "/dashboard",
        "/dashboard/assets/dashboard.css",
        "/dashboard/assets/dashboard.js",
    }
    assert all(size > 0 for _, size in own)
    # Nothing from elsewhere (no CDN): the dashboard works offline.
    assert all(url.startswith((site.url, "data:")) for url, _, _ in loaded)
    assert sum(size for _, size in own) < ASSET_BUDGET
