"""Tenant isolation over the real server: nothing of tenant A is visible or changeable with
tenant B's key, and A's ids answer B exactly like ids that exist nowhere."""

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.service import Service, Tenant

A_EVENTS: list[dict[str, Any]] = [
    {
        "id": "evt-1",
        "type": "conversation",
        "time": "2024-03-01T10:00:00Z",
        "subject": "evt-user",
        "data": {
            "organization_id": "evt-org",
            "organization_name": "A Event Org",
            "agent_id": "evt-agent",
            "agent_name": "A Event Agent",
            "user_name": "A Event User",
            "user_email": "a-user@a.example",
            "conversation_type": "support",
            "seconds": 42,
        },
    },
    {
        "id": "evt-2",
        "type": "bot_message",
        "time": "2024-03-01T10:05:00Z",
        "subject": "evt-user",
        "data": {"organization_id": "evt-org"},
    },
    {
        "id": "evt-3",
        "type": "sms",
        "time": "2024-03-01T10:10:00Z",
        "data": {"organization_id": "acme", "direction": "outbound", "segments": 2},
    },
]

A_ORGS = [
    {"id": "acme", "name": "Acme A", "parent_id": None},
    {"id": "acme-sub", "name": "Acme Sub A", "parent_id": "acme"},
    {"id": "evt-org", "name": "A Event Org", "parent_id": None},
]
A_USERS = [
    {"id": "ada", "name": "Ada A", "email": "ada@a.example", "organization_id": "acme"},
    {
        "id": "evt-user",
        "name": "A Event User",
        "email": "a-user@a.example",
        "organization_id": "evt-org",
    },
]
A_AGENTS = [
    {"id": "bot", "name": "Bot A", "organization_id": "acme-sub"},
    {"id": "evt-agent", "name": "A Event Agent", "organization_id": "evt-org"},
]

# Every directory entry of A, as (kind of entity, path of its GET).
A_ENTRIES = [
    ("organization", "/v1/organizations/acme"),
    ("organization", "/v1/organizations/acme-sub"),
    ("organization", "/v1/organizations/evt-org"),
    ("user", "/v1/users/ada"),
    ("user", "/v1/users/evt-user"),
    ("agent", "/v1/agents/bot"),
    ("agent", "/v1/agents/evt-agent"),
]


@dataclass
class World:
    a: Tenant
    b: Tenant
    nobody: Tenant  # a tenant with nothing at all: the answer for ids that do not exist


def _ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def a_side(service: Service) -> tuple[Tenant, Tenant]:
    """Tenant A with its directory and events, and a tenant with nothing; shared by the module,
    since no test may change either through B."""
    a = service.new_tenant()
    _ok(a.client.put("/v1/organizations/acme", json={"name": "Acme A"}))
    _ok(
        a.client.put("/v1/organizations/acme-sub", json={"name": "Acme Sub A", "parent_id": "acme"})
    )
    _ok(
        a.client.put(
            "/v1/users/ada",
            json={"name": "Ada A", "email": "ada@a.example", "organization_id": "acme"},
        )
    )
    _ok(a.client.put("/v1/agents/bot", json={"name": "Bot A", "organization_id": "acme-sub"}))
    assert _ok(a.ingest(A_EVENTS)) == {"accepted": 3, "duplicates": 0}
    return a, service.new_tenant()


@pytest.fixture
def world(service: Service, a_side: tuple[Tenant, Tenant]) -> World:
    """A and the empty tenant, with a fresh tenant B."""
    world = World(a_side[0], service.new_tenant(), a_side[1])
    assert_a_unchanged(world)
    return world


def assert_a_unchanged(world: World) -> None:
    assert _ok(world.a.client.get("/v1/organizations")) == {"data": A_ORGS}
    assert _ok(world.a.client.get("/v1/users")) == {"data": A_USERS}
    assert _ok(world.a.client.get("/v1/agents")) == {"data": A_AGENTS}


def test_other_tenant_gets_the_404_of_an_id_that_exists_nowhere(world: World) -> None:
    for kind, path in A_ENTRIES:
        foreign = world.b.client.get(path)
        nowhere = world.nobody.client.get(path)
        assert foreign.status_code == nowhere.status_code == 404
        assert foreign.content == nowhere.content
        assert foreign.headers["content-type"] == nowhere.headers["content-type"]
        assert foreign.json() == {"detail": f"{kind} '{path.rsplit('/', 1)[1]}' not found"}
    # And for an id that does not exist in any tenant, B gets the same pattern.
    for kind, path in [
        ("organization", "/v1/organizations/ghost"),
        ("user", "/v1/users/ghost"),
        ("agent", "/v1/agents/ghost"),
    ]:
        missing = world.b.client.get(path)
        assert missing.status_code == 404
        assert missing.json() == {"detail": f"{kind} 'ghost' not found"}


def test_other_tenant_lists_never_show_a(world: World) -> None:
    b = world.b.client
    for path in (
        "/v1/organizations",
        "/v1/users",
        "/v1/agents",
        "/v1/users?organization_id=acme",
        "/v1/agents?organization_id=acme-sub",
        "/v1/users?organization_id=evt-org",
        "/v1/agents?organization_id=evt-org",
    ):
        assert _ok(b.get(path)) == {"data": []}, path
    _ok(b.put("/v1/organizations/b-org", json={"name": "B Org"}))
    _ok(b.put("/v1/users/bea", json={"organization_id": "b-org"}))
    _ok(b.put("/v1/agents/b-bot", json={"organization_id": "b-org"}))
    assert _ok(b.get("/v1/organizations")) == {
        "data": [{"id": "b-org", "name": "B Org", "parent_id": None}]
    }
    assert _ok(b.get("/v1/users")) == {
        "data": [{"id": "bea", "name": "bea", "email": None, "organization_id": "b-org"}]
    }
    assert _ok(b.get("/v1/agents")) == {
        "data": [{"id": "b-bot", "name": "b-bot", "organization_id": "b-org"}]
    }
    assert_a_unchanged(world)


def test_other_tenant_put_of_the_same_ids_creates_its_own_entries(world: World) -> None:
    b = world.b.client
    assert _ok(b.put("/v1/organizations/acme", json={"name": "Acme B"})) == {
        "id": "acme",
        "name": "Acme B",
        "parent_id": None,
    }
    assert _ok(b.put("/v1/organizations/evt-org", json={})) == {
        "id": "evt-org",
        "name": "evt-org",
        "parent_id": None,
    }
    assert _ok(b.put("/v1/users/ada", json={"name": "Ada B", "organization_id": "acme"})) == {
        "id": "ada",
        "name": "Ada B",
        "email": None,
        "organization_id": "acme",
    }
    assert _ok(b.put("/v1/users/evt-user", json={"organization_id": "evt-org"})) == {
        "id": "evt-user",
        "name": "evt-user",
        "email": None,
        "organization_id": "evt-org",
    }
    assert _ok(b.put("/v1/agents/bot", json={"organization_id": "acme"})) == {
        "id": "bot",
        "name": "bot",
        "organization_id": "acme",
    }
    # B sees its own entries only; A's are exactly as they were.
    assert _ok(b.get("/v1/organizations")) == {
        "data": [
            {"id": "acme", "name": "Acme B", "parent_id": None},
            {"id": "evt-org", "name": "evt-org", "parent_id": None},
        ]
    }
    assert _ok(b.get("/v1/users/ada")) == {
        "id": "ada",
        "name": "Ada B",
        "email": None,
        "organization_id": "acme",
    }
    assert _ok(b.get("/v1/agents")) == {
        "data": [{"id": "bot", "name": "bot", "organization_id": "acme"}]
    }
    assert_a_unchanged(world)


def test_other_tenant_may_send_the_same_event_ids(world: World) -> None:
    b_events = [
        {**event, "time": "2024-03-02T10:00:00Z"}
        | {"data": {**event["data"], "organization_name": "B Event Org"}}
        if event["type"] == "conversation"
        else event
        for event in A_EVENTS
    ]
    # Never reported as duplicates: that would tell B which ids A has.
    assert _ok(world.b.ingest(b_events)) == {"accepted": 3, "duplicates": 0}
    assert _ok(world.b.ingest(b_events)) == {"accepted": 0, "duplicates": 3}
    assert _ok(world.a.ingest(A_EVENTS[::-1])) == {"accepted": 0, "duplicates": 3}
    # B's later-time name names B's organization only.
    assert _ok(world.b.client.get("/v1/organizations/evt-org")) == {
        "id": "evt-org",
        "name": "B Event Org",
        "parent_id": None,
    }
    assert_a_unchanged(world)


def test_other_tenant_event_ids_do_not_make_a_duplicates(service: Service) -> None:
    first = service.new_tenant()
    second = service.new_tenant()
    assert _ok(second.ingest(A_EVENTS)) == {"accepted": 3, "duplicates": 0}
    assert _ok(first.ingest(A_EVENTS)) == {"accepted": 3, "duplicates": 0}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/users/new-user", {"name": "N", "organization_id": "acme"}, "organization_id"),
        ("/v1/users/ada", {"organization_id": "evt-org"}, "organization_id"),
        ("/v1/agents/new-agent", {"organization_id": "acme-sub"}, "organization_id"),
        ("/v1/organizations/new-org", {"parent_id": "acme"}, "parent_id"),
    ],
)
def test_naming_a_foreign_organization_is_422_like_a_missing_one(
    world: World, path: str, body: dict[str, Any], field: str
) -> None:
    foreign = world.b.client.put(path, json=body)
    nowhere = world.nobody.client.put(path, json=body)
    assert foreign.status_code == nowhere.status_code == 422
    assert foreign.content == nowhere.content
    assert foreign.json()["detail"][0]["loc"] == ["body", field]
    # Nothing was created in B.
    assert world.b.client.get(path).status_code == 404
    assert_a_unchanged(world)
