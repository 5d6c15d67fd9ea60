"""The site the dashboard tests browse: a real server on demo data, a second tenant whose users
sign in with Entra-style access tokens, and the API itself, called with httpx, for the expected
figures."""

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.auth.test_oidc import Issuer
from tests.directory.tokens import serve_with_tokens
from tests.service import Server, cli, new_key
from usagelens.demo.dataset import DEMO_TIMEZONE

ENTRA_TID = str(uuid.uuid4())

# Users whose names put the CSV writer to the test: quoting, formula escaping, line breaks.
AWKWARD_NAMES = {
    "usr_csv_formula": '=HYPERLINK("http://x.example","click")',
    "usr_csv_plus": "+1 555 0100",
    "usr_csv_minus": "-minus",
    "usr_csv_at": "@handle",
    "usr_csv_tab": "\tTabbed",
    "usr_csv_comma": "Doe, Jane",
    "usr_csv_quote": 'Quote "Q" Person',
    "usr_csv_newline": "Line\nBreak",
    "usr_csv_unicode": "Zoë Ünïcødé 名前",
}


@dataclass
class Site:
    server: Server
    issuer: Issuer
    demo_key: str
    operator_key: str
    entra_key: str

    @property
    def url(self) -> str:
        return self.server.url

    def api(self, path: str, credential: str | None = None, **params: Any) -> httpx.Response:
        """The API answering what the dashboard asks, with the same credential."""
        response = httpx.get(
            f"{self.url}{path}",
            params={name: value for name, value in params.items() if value is not None},
            headers={"Authorization": f"Bearer {credential or self.demo_key}"},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        return response

    def exact(self, path: str, credential: str | None = None, **params: Any) -> Any:
        """The JSON answer with every number as the text the API wrote (`281.00`, not 281.0)."""
        text = self.api(path, credential, **params).text
        return json.loads(text, parse_float=str, parse_int=str)

    def token(self) -> str:
        return self.issuer.token(ENTRA_TID)


def _entra_events() -> list[dict[str, Any]]:
    """A few days of conversations of a small tree, ending yesterday, and a user's SMS."""
    start = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    events = []
    for day in range(1, 6):
        for n, (org, agent) in enumerate((("ent_root", "agt_e1"), ("ent_child", "agt_e2"))):
            events.append(
                {
                    "id": f"entra-{day}-{n}",
                    "type": "conversation",
                    "time": (start - timedelta(days=day)).isoformat(),
                    "data": {
                        "organization_id": org,
                        "agent_id": agent,
                        "conversation_type": "inbound_call",
                        "seconds": 60 * day + n,
                    },
                }
            )
    events.append(
        {
            "id": "entra-sms",
            "type": "sms",
            "time": (start - timedelta(days=1)).isoformat(),
            "subject": "usr_e1",
            "data": {"organization_id": "ent_root", "direction": "outbound", "segments": 2},
        }
    )
    return events


def _ticket_without_url() -> dict[str, Any]:
    """A ticket on the 15th of the demo zone's previous month, the month the MAU tests browse.
    The demo leaves 12% of its tickets without a URL, at random: about 20 tickets a month at
    this scale, so one month in fifteen would have none to show as plain text."""
    today = datetime.now(ZoneInfo(DEMO_TIMEZONE))
    last_month = today.replace(day=1) - timedelta(days=1)
    time = last_month.replace(day=15, hour=12, minute=0, second=0, microsecond=0)
    return {
        "id": "site-ticket-without-url",
        "type": "ticket",
        "time": time.isoformat(),
        "subject": "usr_csv_plus",
        "data": {"organization_id": "org_acme", "ticket_id": "TCK-NO-URL"},
    }


def build(folder: Path, issuer: Issuer) -> Site:
    db = folder / "usagelens.duckdb"
    cli("demo", "--days", "70", "--scale", "0.05", db=db)
    demo_key = new_key(db, "--tenant", "demo")
    operator_key = new_key(db, "--operator")
    cli(
        "tenants", "create", "entra", "--tz", "Europe/Berlin", "--entra-tenant-id", ENTRA_TID, db=db
    )
    entra_key = new_key(db, "--tenant", "entra")
    server = serve_with_tokens(db, issuer)
    site = Site(server, issuer, demo_key, operator_key, entra_key)
    with httpx.Client(base_url=site.url, timeout=60) as client:
        demo = {"X-API-Key": demo_key}
        for user_id, name in AWKWARD_NAMES.items():
            body = {"name": name, "organization_id": "org_acme"}
            assert client.put(f"/v1/users/{user_id}", json=body, headers=demo).status_code == 200
        assert client.post("/v1/events", json=[_ticket_without_url()], headers=demo).is_success
        entra = {"X-API-Key": entra_key}
        for org, body in (
            ("ent_root", {"name": "Entra Root"}),
            ("ent_child", {"name": "Entra Child", "parent_id": "ent_root"}),
        ):
            assert client.put(f"/v1/organizations/{org}", json=body, headers=entra).is_success
        assert client.post("/v1/events", json=_entra_events(), headers=entra).is_success
    return site
