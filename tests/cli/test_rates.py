"""`usagelens rates set`, run as a user would on a real DuckDB file, read back through the
running server's `GET /v1/rate-cards`."""

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.service import Server, cli, new_key
from usagelens.pricing.ratecard import parse_rate_card, rate_card_to_json

CARD = """\
currency = "USD"
voice_rounding = "per_second"

[prices]
sms_outbound = "0.0079"
sms_inbound = "0.0079"
mms_outbound = "0.0200"
mms_inbound = "0.0200"
voice_per_minute = "0.12"
api_requests_per_1000 = "0.04"
storage_per_gb_month = "0.10"
phone_rental = "2.99"
phone_purchase = "1.00"
brand_registration = "4.00"
kb_monthly = "5.00"
kb_per_minute = "0.01"

[mau]
minimum = "100.00"
tiers = [{ up_to = 50, unit_price = "4.00" }, { up_to = 250, unit_price = "3.00" }, { unit_price = "2.00" }]
trial_end_date = "2024-01-15"
"""  # noqa: E501
MARCH = CARD.replace('voice_per_minute = "0.12"', 'voice_per_minute = "0.10"')
MARCH_FIXED = MARCH.replace('"per_second"', '"per_started_minute"')


def run(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    """`usagelens ARGS --db DB`, whatever its exit code."""
    return subprocess.run(
        [sys.executable, "-m", "usagelens", *args, "--db", str(db)],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=300,
        check=False,
    )


def as_json(text: str) -> dict[str, Any]:
    shown: dict[str, Any] = json.loads(rate_card_to_json(parse_rate_card(text)))
    return shown


@dataclass
class Session:
    outputs: dict[str, str]  # stdout of each successful `rates set`
    errors: dict[str, subprocess.CompletedProcess[str]]
    listed: dict[str, dict[str, Any]]  # GET /v1/rate-cards per tenant, after all of it


ERRORS = {
    # name: (card text or None for a missing file, extra arguments)
    "negative price": (CARD.replace('"0.0079"', '"-0.0079"', 1), ()),
    "unknown key": (CARD.replace("[mau]", "[mau]\ncolour = 1"), ()),
    "invalid toml": (CARD.replace("[mau]", "[mau"), ()),
    "bad date": (CARD, ("--effective", "2024-02-30")),
    "missing file": (None, ()),
}


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Session:
    folder = tmp_path_factory.mktemp("rates")
    db = folder / "usagelens.duckdb"
    cards = {"card": CARD, "march": MARCH, "march_fixed": MARCH_FIXED}
    for name, text in cards.items():
        (folder / f"{name}.toml").write_text(text)
    cli("tenants", "create", "acme", "--tz", "America/New_York", db=db)
    cli("tenants", "create", "beta", db=db)

    outputs = {
        "march": cli(
            "rates",
            "set",
            "--tenant",
            "acme",
            str(folder / "march.toml"),
            "--effective",
            "2024-03-10",
            db=db,
        ),
        "card": cli("rates", "set", "--tenant", "acme", str(folder / "card.toml"), db=db),
        "replace": cli(
            "rates",
            "set",
            "--tenant",
            "acme",
            str(folder / "march_fixed.toml"),
            "--effective",
            "2024-03-10",
            db=db,
        ),
    }

    def failing(name: str) -> subprocess.CompletedProcess[str]:
        text, extra = ERRORS[name]
        path = folder / f"bad-{name.replace(' ', '-')}.toml"
        if text is not None:
            path.write_text(text)
        return run("rates", "set", "--tenant", "acme", str(path), *extra, db=db)

    # These stop before opening the file, so they may run side by side.
    with ThreadPoolExecutor(4) as pool:
        errors = dict(zip(ERRORS, pool.map(failing, ERRORS), strict=True))
    errors["unknown tenant"] = run(
        "rates", "set", "--tenant", "nope", str(folder / "card.toml"), db=db
    )

    operator = new_key(db, "--operator")
    server = Server(db).start()
    try:
        with httpx.Client(base_url=server.url, headers={"X-API-Key": operator}) as client:
            listed = {}
            for tenant in ("acme", "beta"):
                response = client.get("/v1/rate-cards", params={"tenant": tenant})
                assert response.status_code == 200, response.text
                listed[tenant] = response.json()
    finally:
        server.stop()
    return Session(outputs, errors, listed)


def test_set_stores_versions_that_the_server_lists_by_date(session: Session) -> None:
    assert session.listed["acme"] == {
        "tenant": "acme",
        "data": [
            {"effective_from": "1970-01-01", "card": as_json(CARD)},
            {"effective_from": "2024-03-10", "card": as_json(MARCH_FIXED)},
        ],
        "default": None,
    }


def test_set_for_the_same_date_replaces_the_version(session: Session) -> None:
    march = session.listed["acme"]["data"][1]["card"]
    assert march["voice_rounding"] == "per_started_minute"
    assert session.outputs["replace"].startswith("Replaced the USD rate card of tenant acme")


def test_set_prints_what_it_set(session: Session) -> None:
    first, _, toml = session.outputs["march"].partition("\n")
    assert first == (
        "Set the USD rate card of tenant acme, in force from 2024-03-10 "
        "(midnight in America/New_York, 2024-03-10T05:00:00 UTC):"
    )
    assert parse_rate_card(toml) == parse_rate_card(MARCH)
    first, _, toml = session.outputs["card"].partition("\n")
    assert first == (
        "Set the USD rate card of tenant acme, in force from the beginning (1970-01-01):"
    )
    assert parse_rate_card(toml) == parse_rate_card(CARD)


def test_a_tenant_without_a_card_keeps_the_default(session: Session) -> None:
    assert session.listed["beta"]["data"] == []
    assert session.listed["beta"]["default"]["currency"] == "USD"


@pytest.mark.parametrize(
    ("name", "starts"),
    [
        ("negative price", "error: prices.sms_outbound: must not be negative"),
        ("unknown key", "error: mau.colour: unknown key"),
        ("invalid toml", "error: toml: not valid TOML"),
        ("bad date", "error: effective: '2024-02-30' is not a valid date"),
        ("missing file", "error: "),
        ("unknown tenant", "error: tenant: no tenant named 'nope'"),
    ],
)
def test_errors_exit_1_naming_the_field_and_store_nothing(
    session: Session, name: str, starts: str
) -> None:
    done = session.errors[name]
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith(starts), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert done.stdout == ""
    if name == "missing file":
        assert "bad-missing-file.toml: cannot read the rate card" in done.stderr
    # Nothing stored: the two versions the successful commands set, and no other.
    assert len(session.listed["acme"]["data"]) == 2
