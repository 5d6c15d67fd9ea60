from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.auth.test_oidc import Issuer
from tests.dashboard.browser import CHROMIUM, CHROMIUM_ARGS
from tests.dashboard.site import Site, build


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    issuer = Issuer()
    built = build(tmp_path_factory.mktemp("dashboard"), issuer)
    try:
        yield built
    finally:
        built.server.stop()
        issuer.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
