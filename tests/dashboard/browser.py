"""Headless Debian Chromium driven by Playwright, and what the tests do with a page."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, ConsoleMessage, Page, ViewportSize

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
# Not the zone of any tenant in the tests: the dashboard must default to the browser's own.
BROWSER_ZONE = "America/Chicago"

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"


@contextmanager
def open_page(
    browser: Browser, viewport: ViewportSize = DESKTOP, expected_errors: int = 0
) -> Iterator[Page]:
    """A fresh page (its own cookies and storage); fails the test on any console error or page
    error beyond the failed requests it expects, CSP violations among them."""
    context = browser.new_context(viewport=viewport, timezone_id=BROWSER_ZONE, locale="en-US")
    page = context.new_page()
    problems: list[str] = []
    failed_requests: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            failed = message.text.startswith("Failed to load resource")
            (failed_requests if failed else problems).append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        yield page
    finally:
        context.close()
    assert problems == []
    assert len(failed_requests) <= expected_errors, failed_requests


def sign_in(page: Page, base: str, credential: str) -> None:
    page.goto(f"{base}/")
    page.fill("#credential", credential)
    page.click("#signin-submit")
    page.wait_for_url(f"{base}/dashboard#usage")


def settled(page: Page, view: str) -> str:
    """Waits for the view's answer (shown, empty or refused) and tells which."""
    locator = page.locator(f"#{view}-result:not([data-state=loading])")
    locator.wait_for()
    state = locator.get_attribute("data-state")
    assert state is not None
    return state


def cells(page: Page, selector: str) -> list[list[str]]:
    """The text of every cell of the rows that ``selector`` finds."""
    rows: list[list[str]] = page.eval_on_selector_all(
        selector,
        "rows => rows.map(row => [...row.cells].map(cell => cell.textContent))",
    )
    return rows


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path
