"""What each view asked the API for, read back from its controls, and the API's answer to the
same question laid out as the view lays it out."""

from datetime import date, timedelta
from typing import Any

from playwright.sync_api import Page

from tests.dashboard.site import Site


def usage_query(page: Page) -> dict[str, str | None]:
    """From..To are whole days of the chosen zone: [From 00:00, the day after To 00:00)."""
    after = date.fromisoformat(page.input_value("#usage-to")) + timedelta(days=1)
    return {
        "start": f"{page.input_value('#usage-from')}T00:00:00",
        "end": f"{after.isoformat()}T00:00:00",
        "granularity": page.input_value("#usage-granularity"),
        "tz": page.input_value("#usage-tz"),
        "group_by": page.input_value("#usage-group") or None,
    }


def usage_answer(site: Site, page: Page, credential: str | None = None) -> Any:
    account = page.input_value("#usage-account")
    path = f"/v1/accounts/{account}/analytics/usage"
    return site.exact(path, credential, **usage_query(page))


def usage_rows(answer: Any, names: dict[str, str] | None = None) -> list[list[str]]:
    """The data table: a row per bucket and value; with a dimension, named as the directory
    names it."""
    dimensions: list[str] = answer["meta"]["group_by"]
    rows = []
    for bucket in answer["data"]:
        for value in bucket["values"]:
            named = [
                (names or {}).get(value["dimensions"][dimension], value["dimensions"][dimension])
                for dimension in dimensions
            ]
            rows.append([bucket["ts"], *named, value["conversations"], value["seconds"]])
    return rows


def usage_totals(answer: Any) -> tuple[int, int]:
    values = [value for bucket in answer["data"] for value in bucket["values"]]
    return (
        sum(int(value["conversations"]) for value in values),
        sum(int(value["seconds"]) for value in values),
    )


def canvas(page: Page, selector: str) -> str:
    """The chart's pixels, to tell whether it was drawn again differently."""
    pixels: str = page.eval_on_selector(selector, "canvas => canvas.toDataURL()")
    return pixels
