"""How the service serves the dashboard: its pages under a strict Content-Security-Policy, its
bundle compressed and revalidated, the zone list, and a 503 that says how to build it."""

import gzip
import zoneinfo
from pathlib import Path

import httpx
import pytest

from tests.dashboard.site import Site
from usagelens.dashboard.bundle import PAGES, SCRIPTS_AND_STYLES, Bundle
from usagelens.dashboard.endpoints import page


def _get(site: Site, path: str, **headers: str) -> httpx.Response:
    return httpx.get(f"{site.url}{path}", headers=headers, timeout=30)


@pytest.mark.parametrize(("path", "script"), [("/", "signin.js"), ("/dashboard", "dashboard.js")])
def test_pages_allow_only_their_own_scripts_and_styles(site: Site, path: str, script: str) -> None:
    response = _get(site, path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self';" in policy
    assert "style-src 'self';" in policy
    assert "unsafe-inline" not in policy
    assert f'src="/dashboard/assets/{script}"' in response.text
    assert "<script>" not in response.text
    assert "style=" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("name", SCRIPTS_AND_STYLES)
def test_assets_are_compressed_and_revalidated(site: Site, name: str) -> None:
    plain = _get(site, f"/dashboard/assets/{name}", **{"Accept-Encoding": "identity"})
    assert plain.status_code == 200
    assert "content-encoding" not in plain.headers
    raw = httpx.get(
        f"{site.url}/dashboard/assets/{name}", headers={"Accept-Encoding": "gzip"}, timeout=30
    )
    assert raw.headers["content-encoding"] == "gzip"
    assert int(raw.headers["content-length"]) < len(plain.content)
    assert raw.content == plain.content  # httpx decompressed it: the same file
    assert raw.headers["cache-control"] == "no-cache"
    again = _get(site, f"/dashboard/assets/{name}", **{"If-None-Match": raw.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""


@pytest.mark.parametrize(
    "name", ["signin.html", "nothing.js", "..%2F..%2Fsettings.py", ".built", "dashboard.js.map"]
)
def test_nothing_else_is_an_asset(site: Site, name: str) -> None:
    assert _get(site, f"/dashboard/assets/{name}").status_code == 404


def test_the_zone_list_is_the_services_tz_database(site: Site) -> None:
    response = _get(site, "/dashboard/timezones", **{"Accept-Encoding": "gzip"})
    zones = response.json()["zones"]
    assert zones == sorted(zones)
    assert {"UTC", "Asia/Kolkata", "Asia/Calcutta", "America/New_York"} <= set(zones)
    assert set(zones) <= zoneinfo.available_timezones()
    assert "localtime" not in zones


def test_a_missing_bundle_is_a_503_saying_how_to_build_it(tmp_path: Path) -> None:
    bundle = Bundle(tmp_path)
    for name in PAGES:
        (tmp_path / name).write_text("<!doctype html>")
    answer = page(bundle, "dashboard.html", None, None)  # the scripts are not built
    assert answer.status_code == 503
    assert b"make web" in answer.body
    assert b"npm ci && npm run build" in answer.body
    for name in SCRIPTS_AND_STYLES:
        (tmp_path / name).write_text("/* built */")
    assert page(bundle, "dashboard.html", None, None).status_code == 200


def test_a_rebuilt_file_is_served_at_once(tmp_path: Path) -> None:
    bundle = Bundle(tmp_path)
    (tmp_path / "dashboard.js").write_text("first")
    first = bundle.get("dashboard.js")
    (tmp_path / "dashboard.js").write_text("second, longer")
    second = bundle.get("dashboard.js")
    assert first is not None
    assert second is not None
    assert gzip.decompress(second.gzipped) == b"second, longer"
    assert first.etag != second.etag
