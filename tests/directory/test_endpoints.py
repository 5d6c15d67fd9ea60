"""The directory API against the real server: organizations, users and agents of one tenant,
created by PUT or by the events that name them.

Most tests share one tenant and keep apart by a prefix on every id they use (``Directory``);
tests that look at whole lists get a tenant of their own.
"""

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.service import Service, Tenant

T0 = "2024-03-01T09:00:00Z"
T1 = "2024-03-01T10:00:00Z"
T2 = "2024-03-01T11:00:00Z"

KINDS = {"organization": "organizations", "user": "users", "agent": "agents"}


@dataclass
class Directory:
    """One tenant's directory API, with ``prefix`` put before every id the test names."""

    tenant: Tenant
    prefix: str = ""

    def id(self, name: str) -> str:
        return self.prefix + name

    def path(self, kind: str, name: str) -> str:
        return f"/v1/{KINDS[kind]}/{self.id(name)}"

    def _body(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            key: self.id(value)
            if key in ("parent_id", "organization_id") and isinstance(value, str)
            else value
            for key, value in body.items()
        }

    def put_response(self, kind: str, name: str, body: dict[str, Any]) -> httpx.Response:
        return self.tenant.client.put(self.path(kind, name), json=self._body(body))

    def put(self, kind: str, entity: str, /, **body: Any) -> Any:
        return ok(self.put_response(kind, entity, body))

    def get_response(self, kind: str, name: str) -> httpx.Response:
        return self.tenant.client.get(self.path(kind, name))

    def get(self, kind: str, name: str) -> Any:
        return ok(self.get_response(kind, name))

    def listing(self, kind: str, organization_id: str | None = None) -> Any:
        params = {} if organization_id is None else {"organization_id": self.id(organization_id)}
        return ok(self.tenant.client.get(f"/v1/{KINDS[kind]}", params=params))

    def org(self, name: str, label: str | None = None, parent: str | None = None) -> Any:
        """The organization as the API shows it; ``label`` None means named by its id."""
        return {
            "id": self.id(name),
            "name": label or self.id(name),
            "parent_id": None if parent is None else self.id(parent),
        }

    def user(
        self, name: str, org: str | None, label: str | None = None, email: str | None = None
    ) -> Any:
        return {
            "id": self.id(name),
            "name": label or self.id(name),
            "email": email,
            "organization_id": None if org is None else self.id(org),
        }

    def agent(self, name: str, org: str | None, label: str | None = None) -> Any:
        return {
            "id": self.id(name),
            "name": label or self.id(name),
            "organization_id": None if org is None else self.id(org),
        }

    def conversation(
        self,
        event_id: str,
        time: str = T1,
        org: str = "o1",
        agent: str = "a1",
        subject: str | None = "u1",
        **names: str,
    ) -> dict[str, Any]:
        event: dict[str, Any] = {
            "id": self.id(event_id),
            "type": "conversation",
            "time": time,
            "data": {
                "organization_id": self.id(org),
                "agent_id": self.id(agent),
                "conversation_type": "support",
                "seconds": 30,
                **names,
            },
        }
        if subject is not None:
            event["subject"] = self.id(subject)
        return event

    def ingest(self, *events: dict[str, Any]) -> None:
        response = self.tenant.ingest(list(events))
        assert response.status_code == 200, response.text
        assert response.json() == {"accepted": len(events), "duplicates": 0}


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def assert_unprocessable(response: httpx.Response, loc: list[str]) -> None:
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list)
    assert detail[0]["loc"] == loc


@pytest.fixture(scope="module")
def shared(service: Service) -> Tenant:
    return service.new_tenant()


@pytest.fixture
def d(shared: Tenant) -> Directory:
    """The shared tenant, with ids of this test's own."""
    return Directory(shared, uuid.uuid4().hex[:12] + "-")


@pytest.fixture
def fresh(service: Service) -> Directory:
    """A tenant of this test's own, with plain ids."""
    return Directory(service.new_tenant())


# --- organizations ------------------------------------------------------------------------


def test_put_organization_creates_it_and_get_returns_it(d: Directory) -> None:
    assert d.put("organization", "acme", name="Acme Inc") == d.org("acme", "Acme Inc")
    assert d.get("organization", "acme") == d.org("acme", "Acme Inc")


def test_organization_without_a_name_is_named_by_its_id(fresh: Directory) -> None:
    response = fresh.tenant.client.put("/v1/organizations/acme", json={})
    assert response.status_code == 200, response.text
    assert response.json() == {"id": "acme", "name": "acme", "parent_id": None}
    response = fresh.tenant.client.get("/v1/organizations/acme")
    assert response.json() == {"id": "acme", "name": "acme", "parent_id": None}


def test_put_organization_again_updates_name_and_parent(d: Directory) -> None:
    d.put("organization", "root", name="Root")
    d.put("organization", "other")
    assert d.put("organization", "sub", name="Sub", parent_id="root") == d.org("sub", "Sub", "root")
    assert d.put("organization", "sub", name="Sub 2", parent_id="other") == d.org(
        "sub", "Sub 2", "other"
    )
    assert d.put("organization", "sub", name="Sub 3", parent_id=None) == d.org("sub", "Sub 3")
    assert d.get("organization", "sub") == d.org("sub", "Sub 3")


def test_unknown_parent_is_422_and_changes_nothing(d: Directory) -> None:
    response = d.put_response("organization", "sub", {"parent_id": "ghost"})
    assert_unprocessable(response, ["body", "parent_id"])
    assert d.get_response("organization", "sub").status_code == 404

    d.put("organization", "sub", name="Sub")
    response = d.put_response("organization", "sub", {"name": "X", "parent_id": "ghost"})
    assert_unprocessable(response, ["body", "parent_id"])
    assert d.get("organization", "sub") == d.org("sub", "Sub")
    assert d.get_response("organization", "ghost").status_code == 404


def test_organization_cannot_be_its_own_parent(d: Directory) -> None:
    # Not existing yet: its own id is an unknown parent.
    response = d.put_response("organization", "a", {"parent_id": "a"})
    assert_unprocessable(response, ["body", "parent_id"])
    assert d.get_response("organization", "a").status_code == 404

    d.put("organization", "a", name="A")
    response = d.put_response("organization", "a", {"name": "X", "parent_id": "a"})
    assert_unprocessable(response, ["body", "parent_id"])
    assert d.get("organization", "a") == d.org("a", "A")


def test_two_organization_cycle_is_422(d: Directory) -> None:
    d.put("organization", "a", name="A")
    d.put("organization", "b", name="B", parent_id="a")
    response = d.put_response("organization", "a", {"name": "X", "parent_id": "b"})
    assert_unprocessable(response, ["body", "parent_id"])
    assert d.get("organization", "a") == d.org("a", "A")
    assert d.get("organization", "b") == d.org("b", "B", "a")


def test_longer_cycle_is_422_but_moving_within_the_tree_is_fine(fresh: Directory) -> None:
    fresh.put("organization", "a")
    fresh.put("organization", "b", parent_id="a")
    fresh.put("organization", "c", parent_id="b")
    fresh.put("organization", "d", parent_id="c")
    for descendant in ("b", "c", "d"):
        response = fresh.put_response("organization", "a", {"parent_id": descendant})
        assert_unprocessable(response, ["body", "parent_id"])
    response = fresh.put_response("organization", "b", {"parent_id": "d"})
    assert_unprocessable(response, ["body", "parent_id"])
    # d moves up under a: no cycle.
    assert fresh.put("organization", "d", parent_id="a") == fresh.org("d", None, "a")
    assert fresh.listing("organization") == {
        "data": [
            {"id": "a", "name": "a", "parent_id": None},
            {"id": "b", "name": "b", "parent_id": "a"},
            {"id": "c", "name": "c", "parent_id": "b"},
            {"id": "d", "name": "d", "parent_id": "a"},
        ]
    }


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("organization", {"name": "X", "colour": "red"}),
        ("organization", {"parent": "o1"}),
        ("user", {"organization_id": "o1", "phone": "+1555"}),
        ("agent", {"organization_id": "o1", "model": "gpt"}),
    ],
)
def test_unknown_fields_in_the_body_are_422(d: Directory, kind: str, body: Any) -> None:
    d.put("organization", "o1")
    response = d.put_response(kind, "x", body)
    assert response.status_code == 422, response.text
    assert d.get_response(kind, "x").status_code == 404


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        ("/v1/organizations/nope", "organization 'nope' not found"),
        ("/v1/users/nope", "user 'nope' not found"),
        ("/v1/agents/nope", "agent 'nope' not found"),
    ],
)
def test_unknown_id_is_404(shared: Tenant, path: str, detail: str) -> None:
    response = shared.client.get(path)
    assert response.status_code == 404, response.text
    assert response.json() == {"detail": detail}


# --- users and agents ---------------------------------------------------------------------


def test_put_user_creates_it_and_get_returns_it(d: Directory) -> None:
    d.put("organization", "acme")
    expected = d.user("ada", "acme", "Ada Lovelace", "ada@example.com")
    body = {"name": "Ada Lovelace", "email": "ada@example.com", "organization_id": "acme"}
    assert d.put("user", "ada", **body) == expected
    assert d.get("user", "ada") == expected
    # Only the organization: named by the id, no email.
    assert d.put("user", "bob", organization_id="acme") == {
        "id": d.id("bob"),
        "name": d.id("bob"),
        "email": None,
        "organization_id": d.id("acme"),
    }


def test_put_user_again_moves_them(d: Directory) -> None:
    d.put("organization", "o1")
    d.put("organization", "o2")
    d.put("user", "ada", name="Ada", organization_id="o1")
    expected = d.user("ada", "o2", "Ada L")
    assert d.put("user", "ada", name="Ada L", organization_id="o2") == expected
    assert d.listing("user", "o1") == {"data": []}
    assert d.listing("user", "o2") == {"data": [expected]}


def test_put_agent_creates_it_and_get_returns_it(d: Directory) -> None:
    d.put("organization", "acme")
    expected = d.agent("bot", "acme", "Helper")
    assert d.put("agent", "bot", name="Helper", organization_id="acme") == expected
    assert d.get("agent", "bot") == expected
    assert d.put("agent", "bot2", organization_id="acme") == {
        "id": d.id("bot2"),
        "name": d.id("bot2"),
        "organization_id": d.id("acme"),
    }


@pytest.mark.parametrize("kind", ["user", "agent"])
def test_user_or_agent_of_an_unknown_organization_is_422(d: Directory, kind: str) -> None:
    d.put("organization", "real")
    response = d.put_response(kind, "x", {"name": "X", "organization_id": "ghost"})
    assert_unprocessable(response, ["body", "organization_id"])
    assert d.get_response(kind, "x").status_code == 404
    # An existing user or agent is left as it was.
    before = d.put(kind, "x", organization_id="real")
    response = d.put_response(kind, "x", {"name": "X", "organization_id": "ghost"})
    assert_unprocessable(response, ["body", "organization_id"])
    assert d.get(kind, "x") == before
    assert before["organization_id"] == d.id("real")
    assert before["name"] == d.id("x")


# --- lists --------------------------------------------------------------------------------


def test_lists_of_a_new_tenant_are_empty(fresh: Directory) -> None:
    for kind in KINDS:
        assert fresh.listing(kind) == {"data": []}


def test_lists_are_sorted_by_id_and_filter_by_organization(fresh: Directory) -> None:
    for name in ("o2", "o10", "o1"):
        fresh.put("organization", name, name=name.upper())
    fresh.put("organization", "o3", parent_id="o1")
    fresh.put("user", "zoe", organization_id="o1", email="zoe@example.com")
    fresh.put("user", "amy", organization_id="o2", name="Amy")
    fresh.put("user", "max", organization_id="o1")
    fresh.put("agent", "b2", organization_id="o2")
    fresh.put("agent", "a9", organization_id="o1", name="Nine")
    fresh.put("agent", "b1", organization_id="o2")

    assert fresh.listing("organization") == {
        "data": [
            {"id": "o1", "name": "O1", "parent_id": None},
            {"id": "o10", "name": "O10", "parent_id": None},
            {"id": "o2", "name": "O2", "parent_id": None},
            {"id": "o3", "name": "o3", "parent_id": "o1"},
        ]
    }
    amy = {"id": "amy", "name": "Amy", "email": None, "organization_id": "o2"}
    max_ = {"id": "max", "name": "max", "email": None, "organization_id": "o1"}
    zoe = {"id": "zoe", "name": "zoe", "email": "zoe@example.com", "organization_id": "o1"}
    assert fresh.listing("user") == {"data": [amy, max_, zoe]}
    assert fresh.listing("user", "o1") == {"data": [max_, zoe]}
    assert fresh.listing("user", "o3") == {"data": []}
    assert fresh.listing("user", "ghost") == {"data": []}
    a9 = {"id": "a9", "name": "Nine", "organization_id": "o1"}
    b1 = {"id": "b1", "name": "b1", "organization_id": "o2"}
    b2 = {"id": "b2", "name": "b2", "organization_id": "o2"}
    assert fresh.listing("agent") == {"data": [a9, b1, b2]}
    assert fresh.listing("agent", "o2") == {"data": [b1, b2]}
    assert fresh.listing("agent", "o10") == {"data": []}


# --- the directory filled by events -------------------------------------------------------


def test_entities_named_by_events_exist_from_then_on(fresh: Directory) -> None:
    fresh.ingest(
        fresh.conversation("e1"),
        {
            "id": "e2",
            "type": "sms",
            "time": T1,
            "subject": "u2",
            "data": {"organization_id": "o2", "direction": "outbound"},
        },
        {
            "id": "e3",
            "type": "brand_registration",
            "time": T1,
            "data": {"organization_id": "o3", "brand_id": "b-1"},
        },
        {
            "id": "e4",
            "type": "api_request",
            "time": T1,
            "data": {"organization_id": "o4", "count": 3},
        },
    )
    assert fresh.get("organization", "o1") == {"id": "o1", "name": "o1", "parent_id": None}
    assert fresh.get("user", "u1") == {
        "id": "u1",
        "name": "u1",
        "email": None,
        "organization_id": "o1",
    }
    assert fresh.get("agent", "a1") == {"id": "a1", "name": "a1", "organization_id": "o1"}
    assert fresh.listing("organization") == {
        "data": [fresh.org("o1"), fresh.org("o2"), fresh.org("o3"), fresh.org("o4")]
    }
    assert fresh.listing("user") == {"data": [fresh.user("u1", "o1"), fresh.user("u2", "o2")]}
    assert fresh.listing("agent") == {"data": [fresh.agent("a1", "o1")]}


def test_names_and_email_come_from_event_fields(d: Directory) -> None:
    d.ingest(
        d.conversation(
            "e1",
            organization_name="Acme",
            user_name="Ada",
            user_email="ada@example.com",
            agent_name="Helper",
        )
    )
    assert d.get("organization", "o1") == d.org("o1", "Acme")
    assert d.get("user", "u1") == d.user("u1", "o1", "Ada", "ada@example.com")
    assert d.get("agent", "a1") == d.agent("a1", "o1", "Helper")


NAMES_LATE = {
    "organization_name": "Org Late",
    "user_name": "User Late",
    "user_email": "late@example.com",
    "agent_name": "Agent Late",
}
NAMES_EARLY = {
    "organization_name": "Org Early",
    "user_name": "User Early",
    "user_email": "early@example.com",
    "agent_name": "Agent Early",
}


def assert_late_names(d: Directory) -> None:
    assert d.get("organization", "o1") == d.org("o1", "Org Late")
    assert d.get("user", "u1") == d.user("u1", "o1", "User Late", "late@example.com")
    assert d.get("agent", "a1") == d.agent("a1", "o1", "Agent Late")


def test_later_event_time_wins_when_it_arrives_first(d: Directory) -> None:
    d.ingest(d.conversation("late", T2, **NAMES_LATE))
    d.ingest(d.conversation("early", T1, **NAMES_EARLY))
    assert_late_names(d)


def test_later_event_time_wins_when_it_arrives_last(d: Directory) -> None:
    d.ingest(d.conversation("early", T1, **NAMES_EARLY))
    assert d.get("organization", "o1") == d.org("o1", "Org Early")
    assert d.get("user", "u1") == d.user("u1", "o1", "User Early", "early@example.com")
    d.ingest(d.conversation("late", T2, **NAMES_LATE))
    assert_late_names(d)


@pytest.mark.parametrize("late_first", [True, False])
def test_later_event_time_wins_inside_one_batch(d: Directory, late_first: bool) -> None:
    late = d.conversation("late", T2, **NAMES_LATE)
    early = d.conversation("early", T1, **NAMES_EARLY)
    d.ingest(*([late, early] if late_first else [early, late]))
    assert_late_names(d)


def test_later_event_time_is_compared_as_an_instant(d: Directory) -> None:
    # 10:30+02:00 is 08:30Z: earlier than 09:00Z although its local reading is later.
    d.ingest(d.conversation("a", "2024-03-01T09:00:00Z", organization_name="Later"))
    d.ingest(d.conversation("b", "2024-03-01T10:30:00+02:00", organization_name="Earlier"))
    assert d.get("organization", "o1") == d.org("o1", "Later")


def test_an_event_without_name_fields_keeps_the_names(d: Directory) -> None:
    d.ingest(d.conversation("e1", T1, **NAMES_LATE))
    d.ingest(d.conversation("e2", T2))
    assert_late_names(d)


def test_explicit_put_wins_over_later_events(d: Directory) -> None:
    d.put("organization", "o1", name="Org Put")
    d.put("user", "u1", name="User Put", email="put@x.io", organization_id="o1")
    d.put("agent", "a1", name="Agent Put", organization_id="o1")
    d.ingest(d.conversation("e1", T1, **NAMES_EARLY))
    d.ingest(d.conversation("e2", T2, **NAMES_LATE))
    assert d.get("organization", "o1") == d.org("o1", "Org Put")
    assert d.get("user", "u1") == d.user("u1", "o1", "User Put", "put@x.io")
    assert d.get("agent", "a1") == d.agent("a1", "o1", "Agent Put")


def test_explicit_put_after_events_wins_forever_after(d: Directory) -> None:
    d.ingest(d.conversation("e1", T1, **NAMES_EARLY))
    d.put("organization", "o1", name="Org Put")
    d.put("user", "u1", name="User Put", email="put@x.io", organization_id="o1")
    d.put("agent", "a1", name="Agent Put", organization_id="o1")
    d.ingest(d.conversation("e2", T2, **NAMES_LATE))
    assert d.get("organization", "o1") == d.org("o1", "Org Put")
    assert d.get("user", "u1") == d.user("u1", "o1", "User Put", "put@x.io")
    assert d.get("agent", "a1") == d.agent("a1", "o1", "Agent Put")


def test_events_keep_the_parent_set_by_put(d: Directory) -> None:
    d.put("organization", "root", name="Root")
    d.put("organization", "o1", parent_id="root")
    d.ingest(d.conversation("e1", T2, organization_name="Named"))
    assert d.get("organization", "o1") == d.org("o1", "Named", "root")


def test_users_organization_is_that_of_the_first_event_naming_them(d: Directory) -> None:
    d.ingest(d.conversation("e1", T1, org="o1", agent="a1"))
    assert d.get("user", "u1") == d.user("u1", "o1")
    # Later events in other organizations (newer or older) do not move the user.
    d.ingest(d.conversation("e2", T2, org="o2", agent="a2"))
    d.ingest(d.conversation("e3", T0, org="o3", agent="a3"))
    assert d.get("user", "u1") == d.user("u1", "o1")
    assert d.listing("user", "o1") == {"data": [d.user("u1", "o1")]}
    assert d.listing("user", "o2") == {"data": []}
    assert d.listing("user", "o3") == {"data": []}
    # Only PUT moves them.
    d.put("user", "u1", organization_id="o2")
    assert d.get("user", "u1") == d.user("u1", "o2")


def test_users_organization_set_by_put_is_kept(d: Directory) -> None:
    d.ingest(d.conversation("e1", T1, org="o1"))
    d.put("user", "u1", organization_id="o1")
    d.ingest(d.conversation("e2", T2, org="o2", agent="a2"))
    assert d.get("user", "u1") == d.user("u1", "o1")
    assert d.get("organization", "o2") == d.org("o2")
    assert d.listing("user", "o2") == {"data": []}


def test_put_answers_with_names_events_carried_for_fields_it_leaves_out(d: Directory) -> None:
    # Two users and two organizations named by events, so that the PUT's answer shows it
    # resolved the entity it wrote and no neighbour's names.
    d.ingest(
        d.conversation("e1", T1, org="o1", subject="u1", **NAMES_EARLY),
        d.conversation("e2", T2, org="o2", agent="a2", subject="u2", **NAMES_LATE),
    )
    assert d.put("organization", "o1", parent_id="o2") == d.org("o1", "Org Early", "o2")
    assert d.put("organization", "o2") == d.org("o2", "Org Late")
    assert d.put("user", "u1", organization_id="o2") == d.user(
        "u1", "o2", "User Early", "early@example.com"
    )
    assert d.put("user", "u2", email="put@x.io", organization_id="o2") == d.user(
        "u2", "o2", "User Late", "put@x.io"
    )
    assert d.get("user", "u2") == d.user("u2", "o2", "User Late", "put@x.io")
