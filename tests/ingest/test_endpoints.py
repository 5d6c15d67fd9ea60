"""POST /v1/events against the real server: formats, types, validation, dedupe, auth.

Every rejection is followed by its proof that nothing of the request was stored: the valid
events of the rejected request, sent alone, come back all accepted and none duplicate.
"""

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx
import pytest

from tests.service import Service, Tenant

Event = dict[str, Any]

T0 = "2024-03-01T10:00:00Z"
T1 = "2024-03-01T11:00:00Z"

# Valid `data` of every built-in type (BRIEF §3), with every optional field of the type.
FULL_DATA: dict[str, dict[str, Any]] = {
    "conversation": {
        "organization_id": "org-1",
        "organization_name": "Org One",
        "user_name": "Ada",
        "user_email": "ada@example.com",
        "agent_id": "agent-1",
        "agent_name": "Agent One",
        "conversation_type": "support",
        "seconds": 125,
    },
    "sms": {"organization_id": "org-1", "direction": "outbound", "segments": 3},
    "mms": {"organization_id": "org-1", "direction": "inbound", "segments": 2},
    "voice_call": {"organization_id": "org-1", "direction": "inbound", "seconds": 61},
    "api_request": {"organization_id": "org-1", "count": 40},
    "storage": {"organization_id": "org-1", "gb_hours": 1.123456},
    "phone_rental": {"organization_id": "org-1", "phone_number": "+14155550100"},
    "phone_purchase": {"organization_id": "org-1", "phone_number": "+14155550101"},
    "brand_registration": {
        "organization_id": "org-1",
        "organization_name": "Org One",
        "brand_id": "brand-1",
    },
    "knowledge_base": {"organization_id": "org-1", "kb_id": "kb-1"},
    "kb_usage": {"organization_id": "org-1", "kb_id": "kb-1", "minutes": 12.25},
    "bot_message": {"organization_id": "org-1", "channel": "slack", "user_name": "Ada"},
    "ticket": {
        "organization_id": "org-1",
        "ticket_id": "T-1",
        "url": "https://help.example.com/tickets/T-1",
    },
}
NO_SUBJECT = {"brand_registration"}


def event(
    event_id: str,
    type_: str = "conversation",
    time: Any = T0,
    data: Any = None,
    subject: str | None = "user-1",
    **top: Any,
) -> Event:
    """A valid CloudEvent of ``type_`` unless the arguments make it otherwise."""
    built: Event = {
        "id": event_id,
        "type": type_,
        "time": time,
        "data": dict(FULL_DATA[type_]) if data is None else data,
    }
    if subject is not None and type_ not in NO_SUBJECT:
        built["subject"] = subject
    built.update(top)
    return built


def without(mapping: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: value for key, value in mapping.items() if key not in keys}


def with_data(type_: str, **changes: Any) -> dict[str, Any]:
    return {**FULL_DATA[type_], **changes}


def iso(moment: datetime) -> str:
    return moment.isoformat()


def post(
    client: httpx.Client, body: bytes | str, content_type: str = "application/json"
) -> httpx.Response:
    return client.post("/v1/events", content=body, headers={"Content-Type": content_type})


def ndjson(events: list[Any]) -> str:
    return "".join(json.dumps(item) + "\n" for item in events)


def assert_counts(response: httpx.Response, accepted: int, duplicates: int) -> None:
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": accepted, "duplicates": duplicates}


class Ingests(Protocol):
    def ingest(self, events: Any, **kwargs: Any) -> httpx.Response: ...


def assert_nothing_stored(tenant: Ingests, valid_events: list[Event]) -> None:
    """The valid events of a rejected request, sent alone, are all new."""
    assert_counts(tenant.ingest(valid_events), len(valid_events), 0)


def relabel(items: list[Any], prefix: str) -> list[Any]:
    """The same events with ``prefix`` before every non-empty id, to keep tests apart."""
    return [
        {**item, "id": prefix + item["id"]}
        if isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"]
        else item
        for item in items
    ]


@pytest.fixture
def tenant(service: Service) -> Tenant:
    """A fresh tenant, for tests that look at its directory or use plain ids."""
    return service.new_tenant()


@pytest.fixture(scope="module")
def shared(service: Service) -> Tenant:
    """One tenant for the tests that keep apart by the ``uid`` prefix of their ids."""
    return service.new_tenant()


@pytest.fixture
def uid() -> str:
    return uuid.uuid4().hex[:12] + "-"


@dataclass
class Own:
    """The shared tenant seen through one test's own ids: ``ingest`` puts the test's prefix
    before every event id, so that plain ids like "e1" never meet another test's."""

    tenant: Tenant
    prefix: str

    @property
    def client(self) -> httpx.Client:
        return self.tenant.client

    def relabel(self, events: list[Any]) -> list[Any]:
        return relabel(events, self.prefix)

    def ingest(self, events: Any, **kwargs: Any) -> httpx.Response:
        if isinstance(events, list):
            return self.tenant.ingest(self.relabel(events), **kwargs)
        return self.tenant.ingest(self.relabel([events])[0], **kwargs)


@pytest.fixture
def own(shared: Tenant, uid: str) -> Own:
    return Own(shared, uid)


# --- formats ------------------------------------------------------------------------------


def test_one_cloudevent_object_is_accepted(own: Own) -> None:
    assert_counts(own.ingest(event("e1")), 1, 0)
    assert_counts(own.ingest(event("e1")), 0, 1)


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/cloudevents-batch+json",
        "application/json; charset=utf-8",
    ],
)
def test_json_array_is_accepted(shared: Tenant, uid: str, content_type: str) -> None:
    batch = relabel([event("e1"), event("e2"), event("e3", "sms")], uid)
    assert_counts(post(shared.client, json.dumps(batch), content_type), 3, 0)
    assert_counts(shared.ingest(batch), 0, 3)


def test_ndjson_is_accepted(own: Own) -> None:
    first, second, third = own.relabel([event("e1"), event("e2", "sms"), event("e3", "ticket")])
    body = ndjson([first, second]) + "\n" + ndjson([third])
    assert_counts(post(own.client, body, "application/x-ndjson"), 3, 0)
    assert_counts(own.ingest([event("e1"), event("e2", "sms"), event("e3", "ticket")]), 0, 3)


# --- every built-in type ------------------------------------------------------------------


@pytest.mark.parametrize("type_", sorted(FULL_DATA))
def test_every_builtin_type_is_accepted_with_all_its_fields(
    shared: Tenant, uid: str, type_: str
) -> None:
    full = event(f"{uid}e1", type_, source="//crm/eu", specversion="1.0")
    assert_counts(shared.ingest(full), 1, 0)
    assert_counts(shared.ingest(full), 0, 1)


def test_all_builtin_types_in_one_batch(shared: Tenant, uid: str) -> None:
    batch = [event(f"{uid}{type_}", type_) for type_ in sorted(FULL_DATA)]
    assert_counts(shared.ingest(batch), 13, 0)
    assert_counts(shared.ingest(batch), 0, 13)


@pytest.mark.parametrize(
    ("type_", "data"),
    [
        ("sms", {"organization_id": "org-1", "direction": "outbound"}),
        ("mms", {"organization_id": "org-1", "direction": "inbound"}),
        ("api_request", {"organization_id": "org-1"}),
        ("bot_message", {"organization_id": "org-1"}),
        ("ticket", {"organization_id": "org-1", "ticket_id": "T-9"}),
        ("conversation", without(FULL_DATA["conversation"], "agent_name", "user_name")),
    ],
)
def test_optional_fields_may_be_left_out(shared: Tenant, uid: str, type_: str, data: Event) -> None:
    """Defaults: sms/mms segments 1, api_request count 1, bot_message channel teams."""
    assert_counts(shared.ingest(event(f"{uid}e1", type_, data=data)), 1, 0)


def test_zero_quantities_and_six_decimal_places_are_accepted(shared: Tenant, uid: str) -> None:
    batch = [
        event("e1", data=with_data("conversation", seconds=0)),
        event("e2", "sms", data=with_data("sms", segments=0)),
        event("e3", "api_request", data=with_data("api_request", count=0)),
        event("e4", "storage", data=with_data("storage", gb_hours=0)),
        event("e5", "storage", data=with_data("storage", gb_hours=0.000001)),
        event("e6", "kb_usage", data=with_data("kb_usage", minutes=999999.999999)),
    ]
    assert_counts(shared.ingest(relabel(batch, uid)), 6, 0)


def test_time_with_any_offset_late_events_and_four_minutes_ahead_are_accepted(
    shared: Tenant, uid: str
) -> None:
    ahead = iso(datetime.now(UTC) + timedelta(minutes=4))
    batch = [
        event("e1", time="2024-03-01T15:30:00+05:30"),
        event("e2", time="2024-03-01T04:00:00-08:00"),
        event("e3", time="1970-01-01T00:00:00Z"),
        event("e4", time="2001-09-09T01:46:40.123456Z"),
        event("e5", time=ahead),
    ]
    assert_counts(shared.ingest(relabel(batch, uid)), 5, 0)


# --- all or nothing -----------------------------------------------------------------------

FIELD_MISSING = "required field is missing"
UNKNOWN_FIELD = "unknown field"


def _future(minutes: int) -> str:
    return iso(datetime.now(UTC) + timedelta(minutes=minutes))


# Times relative to when the test runs (not to when the cases are built).
SIX_MINUTES_AHEAD = "<six minutes ahead>"
A_DAY_AHEAD = "<a day ahead>"
_AHEAD = {SIX_MINUTES_AHEAD: 6, A_DAY_AHEAD: 24 * 60}


def _at_run_time(item: Event) -> Event:
    time = item.get("time")
    if isinstance(time, str) and time in _AHEAD:
        return {**item, "time": _future(_AHEAD[time])}
    return item


# (case, the bad event with id "bad", its errors as (field, exact message or None for any))
INVALID_CASES: list[tuple[str, Any, list[tuple[str, str | None]]]] = [
    ("unknown top-level field", event("bad", foo=1), [("foo", UNKNOWN_FIELD)]),
    (
        "unknown data field",
        event("bad", data=with_data("conversation", foo="x")),
        [("data.foo", UNKNOWN_FIELD)],
    ),
    (
        "two unknown data fields",
        event("bad", "sms", data=with_data("sms", seconds=3, agent_id="a")),
        [("data.agent_id", UNKNOWN_FIELD), ("data.seconds", UNKNOWN_FIELD)],
    ),
    ("missing id", without(event("bad"), "id"), [("id", FIELD_MISSING)]),
    ("missing time", without(event("bad"), "time"), [("time", FIELD_MISSING)]),
    ("missing type", without(event("bad"), "type"), [("type", FIELD_MISSING)]),
    ("missing data", without(event("bad"), "data"), [("data", FIELD_MISSING)]),
    (
        "missing organization_id",
        event("bad", data=without(FULL_DATA["conversation"], "organization_id")),
        [("data.organization_id", FIELD_MISSING)],
    ),
    (
        "missing seconds of a conversation",
        event("bad", data=without(FULL_DATA["conversation"], "seconds")),
        [("data.seconds", FIELD_MISSING)],
    ),
    (
        "missing seconds of a voice call",
        event("bad", "voice_call", data=without(FULL_DATA["voice_call"], "seconds")),
        [("data.seconds", FIELD_MISSING)],
    ),
    (
        "missing direction of an sms",
        event("bad", "sms", data=without(FULL_DATA["sms"], "direction")),
        [("data.direction", FIELD_MISSING)],
    ),
    (
        "missing gb_hours",
        event("bad", "storage", data={"organization_id": "org-1"}),
        [("data.gb_hours", FIELD_MISSING)],
    ),
    (
        "missing ticket_id",
        event("bad", "ticket", data={"organization_id": "org-1"}),
        [("data.ticket_id", FIELD_MISSING)],
    ),
    ("data a string", event("bad", data="seconds=3"), [("data", None)]),
    ("data an array", event("bad", data=[FULL_DATA["conversation"]]), [("data", None)]),
    ("data null", event("bad") | {"data": None}, [("data", None)]),
    (
        "negative seconds",
        event("bad", data=with_data("conversation", seconds=-1)),
        [("data.seconds", None)],
    ),
    (
        "negative voice seconds",
        event("bad", "voice_call", data=with_data("voice_call", seconds=-60)),
        [("data.seconds", None)],
    ),
    (
        "negative segments",
        event("bad", "sms", data=with_data("sms", segments=-1)),
        [("data.segments", None)],
    ),
    (
        "negative count",
        event("bad", "api_request", data=with_data("api_request", count=-5)),
        [("data.count", None)],
    ),
    (
        "negative gb_hours",
        event("bad", "storage", data=with_data("storage", gb_hours=-0.5)),
        [("data.gb_hours", None)],
    ),
    (
        "negative minutes",
        event("bad", "kb_usage", data=with_data("kb_usage", minutes=-1)),
        [("data.minutes", None)],
    ),
    (
        "seconds as a string",
        event("bad", data=with_data("conversation", seconds="30")),
        [("data.seconds", None)],
    ),
    (
        "seconds as a float",
        event("bad", data=with_data("conversation", seconds=30.0)),
        [("data.seconds", None)],
    ),
    (
        "segments as a string",
        event("bad", "sms", data=with_data("sms", segments="2")),
        [("data.segments", None)],
    ),
    (
        "count as a float",
        event("bad", "api_request", data=with_data("api_request", count=1.5)),
        [("data.count", None)],
    ),
    (
        "gb_hours with 7 decimal places",
        event("bad", "storage", data=with_data("storage", gb_hours=1.1234567)),
        [("data.gb_hours", None)],
    ),
    (
        # Stored in 18 digits with 6 decimals: 10^12 itself would not fit.
        "gb_hours of 10^12",
        event("bad", "storage", data=with_data("storage", gb_hours="1000000000000")),
        [("data.gb_hours", "must be at most 999999999999.999999")],
    ),
    (
        "minutes of 10^12",
        event("bad", "kb_usage", data=with_data("kb_usage", minutes="1000000000000.0")),
        [("data.minutes", "must be at most 999999999999.999999")],
    ),
    (
        "minutes with 7 decimal places",
        event("bad", "kb_usage", data=with_data("kb_usage", minutes=0.0000001)),
        [("data.minutes", None)],
    ),
    (
        "direction not outbound/inbound",
        event("bad", "sms", data=with_data("sms", direction="sideways")),
        [("data.direction", None)],
    ),
    ("time without offset", event("bad", time="2024-03-01T10:00:00"), [("time", None)]),
    ("time a date only", event("bad", time="2024-03-01"), [("time", None)]),
    ("time not a timestamp", event("bad", time="yesterday"), [("time", None)]),
    ("time a number", event("bad", time=1709287200), [("time", None)]),
    ("time before 1970", event("bad", time="1969-12-31T23:59:59Z"), [("time", None)]),
    ("time six minutes ahead", event("bad", time=SIX_MINUTES_AHEAD), [("time", None)]),
    ("time a day ahead", event("bad", time=A_DAY_AHEAD), [("time", None)]),
    (
        "brand_registration with a subject",
        event("bad", "brand_registration") | {"subject": "user-1"},
        [("subject", None)],
    ),
    (
        "bot_message without subject",
        event("bad", "bot_message", subject=None),
        [("subject", FIELD_MISSING)],
    ),
    ("ticket without subject", event("bad", "ticket", subject=None), [("subject", FIELD_MISSING)]),
    (
        "user_name without subject",
        event("bad", "sms", data=with_data("sms", user_name="Ada"), subject=None),
        [("data.user_name", None)],
    ),
    (
        "user_email without subject",
        event(
            "bad", "api_request", data=with_data("api_request", user_email="a@b.c"), subject=None
        ),
        [("data.user_email", None)],
    ),
    ("tenant attribute with a tenant key", event("bad", tenant="someone"), [("tenant", None)]),
    ("id empty", event(""), [("id", None)]),
    (
        "organization_id empty",
        event("bad", "sms", data=with_data("sms", organization_id="")),
        [("data.organization_id", None)],
    ),
]


def assert_rejected(
    response: httpx.Response, bad: int, total: int, expected: list[tuple[int, str, str | None]]
) -> None:
    """A 422 naming exactly ``expected`` as (index, field, message or None for any text)."""
    assert response.status_code == 422, response.text
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert body["detail"] == f"{bad} of {total} events are invalid; nothing was stored"
    got = [(e["index"], e["field"]) for e in body["errors"]]
    assert got == [(index, field) for index, field, _ in expected]
    for error, (_, _, message) in zip(body["errors"], expected, strict=True):
        assert set(error) == {"index", "field", "message"}
        assert isinstance(error["message"], str)
        assert error["message"]
        if message is not None:
            assert error["message"] == message


@pytest.mark.parametrize(
    ("bad", "errors"),
    [pytest.param(bad, errors, id=case) for case, bad, errors in INVALID_CASES],
)
def test_one_invalid_event_rejects_the_request_and_stores_nothing(
    shared: Tenant, uid: str, bad: Event, errors: list[tuple[str, str | None]]
) -> None:
    batch = relabel([event("ok-0"), _at_run_time(bad), event("ok-2", "sms")], uid)
    response = shared.ingest(batch)
    assert_rejected(response, 1, 3, [(1, field, message) for field, message in errors])
    # Sent alone as one CloudEvent object: the same errors, at index 0.
    response = shared.ingest(batch[1])
    assert_rejected(response, 1, 1, [(0, field, message) for field, message in errors])
    # Proof: the valid events, and the bad event's id, are all new.
    valid = relabel([event("ok-0"), event("ok-2", "sms"), event("bad")], uid)
    assert_nothing_stored(shared, valid)


def test_unknown_type_is_named_in_the_error(own: Own) -> None:
    batch = [event("ok-0"), event("bad", data={"organization_id": "org-1"}) | {"type": "xyz"}]
    response = own.ingest(batch)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["detail"] == "1 of 2 events are invalid; nothing was stored"
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(1, "type")]
    assert body["errors"][0]["message"].startswith("unknown event type 'xyz'")
    assert_nothing_stored(own, [event("ok-0"), event("bad")])


def test_every_bad_event_is_listed_sorted_by_index_then_field(own: Own) -> None:
    batch = [
        event("ok-0"),
        event("bad-1", data=with_data("conversation", seconds=-3, foo=1)),
        event("bad-2", "sms", time=_future(60)),
        event("ok-3", "ticket"),
        event("bad-4", "api_request", data={"count": 2}),
        event("bad-5", "storage", data=with_data("storage", zeta=1, alpha=2)),
        event("bad-6", "bot_message", subject=None),
        event("ok-7", "storage"),
    ]
    response = own.ingest(batch)
    assert_rejected(
        response,
        5,
        8,
        [
            (1, "data.foo", UNKNOWN_FIELD),
            (1, "data.seconds", None),
            (2, "time", None),
            (4, "data.organization_id", FIELD_MISSING),
            (5, "data.alpha", UNKNOWN_FIELD),
            (5, "data.zeta", UNKNOWN_FIELD),
            (6, "subject", FIELD_MISSING),
        ],
    )
    assert_nothing_stored(own, [event("ok-0"), event("ok-3", "ticket"), event("ok-7", "storage")])
    # The bad events were not stored either: corrected, they are new.
    corrected = [event("bad-1"), event("bad-2", "sms"), event("bad-4", "api_request")]
    assert_counts(own.ingest(corrected), 3, 0)


def test_problems_seen_only_in_context_are_all_listed(own: Own) -> None:
    """Well-formed events with a bad time, tenant or user field, none malformed."""
    batch = [
        event("bad-0", "sms", data=with_data("sms", user_email="x@y.z"), subject=None),
        event("ok-1"),
        event("bad-2", time=_future(10), tenant="someone"),
        event("bad-3", time="1900-01-01T00:00:00Z"),
    ]
    response = own.ingest(batch)
    assert_rejected(
        response,
        3,
        4,
        [(0, "data.user_email", None), (2, "tenant", None), (2, "time", None), (3, "time", None)],
    )
    assert_nothing_stored(own, [event("ok-1")])
    assert_counts(own.ingest([event("bad-0", "sms"), event("bad-2"), event("bad-3")]), 3, 0)


def test_non_object_events_in_an_array_are_whole_event_problems(own: Own) -> None:
    batch: list[Any] = [event("ok-0"), 5, "event", event("ok-3"), None, [event("x")]]
    response = own.ingest(batch)
    assert_rejected(response, 4, 6, [(1, "", None), (2, "", None), (4, "", None), (5, "", None)])
    assert_nothing_stored(own, [event("ok-0"), event("ok-3"), event("x")])


def test_ndjson_errors_name_each_bad_line(own: Own) -> None:
    ok_0, bad_2, ok_4 = own.relabel(
        [
            event("ok-0"),
            event("bad-2", data=with_data("conversation", seconds="9")),
            event("ok-4", "sms"),
        ]
    )
    lines = [json.dumps(ok_0), "{not json", json.dumps(bad_2), "42", json.dumps(ok_4)]
    body = "\n".join(lines) + "\n"
    response = post(own.client, body, "application/x-ndjson")
    assert_rejected(
        response,
        3,
        5,
        [(1, "", "the line is not valid JSON"), (2, "data.seconds", None), (3, "", None)],
    )
    assert_nothing_stored(own, [event("ok-0"), event("ok-4", "sms"), event("bad-2")])


# --- bodies the server cannot take --------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        '[{"id": "ok-0", "type": "conversation"',
        "{not json}",
        '[{"id": "x"},]',
        "",
        "nonsense",
    ],
)
def test_malformed_json_is_400(shared: Tenant, uid: str, body: str) -> None:
    response = post(shared.client, body.replace('"id": "', f'"id": "{uid}'))
    assert response.status_code == 400, response.text
    assert isinstance(response.json()["detail"], str)
    assert_nothing_stored(shared, relabel([event("ok-0"), event("x")], uid))


def test_malformed_json_after_valid_events_stores_nothing(own: Own) -> None:
    ok_0, ok_1 = own.relabel([event("ok-0"), event("ok-1")])
    body = "[" + json.dumps(ok_0) + ", " + json.dumps(ok_1)[:-3]
    response = post(own.client, body, "application/cloudevents-batch+json")
    assert response.status_code == 400, response.text
    assert_nothing_stored(own, [event("ok-0"), event("ok-1")])


@pytest.mark.parametrize("content_type", ["application/json", "application/cloudevents-batch+json"])
def test_empty_array_is_400(shared: Tenant, content_type: str) -> None:
    response = post(shared.client, "[]", content_type)
    assert response.status_code == 400, response.text
    assert isinstance(response.json()["detail"], str)


def test_empty_ndjson_is_400(shared: Tenant) -> None:
    response = post(shared.client, "\n\n", "application/x-ndjson")
    assert response.status_code == 400, response.text


def _many(count: int, prefix: str = "m") -> list[Event]:
    return [
        {
            "id": f"{prefix}{i}",
            "type": "api_request",
            "time": T0,
            "data": {"organization_id": "o"},
        }
        for i in range(count)
    ]


def test_more_than_10000_events_is_413(own: Own) -> None:
    events = _many(10_001)
    response = own.ingest(events)
    assert response.status_code == 413, response.text
    assert isinstance(response.json()["detail"], str)
    # Exactly 10,000 is allowed; the first 10,000 and the last are all new.
    assert_counts(own.ingest(events[:10_000]), 10_000, 0)
    assert_counts(own.ingest(events[10_000:]), 1, 0)


def test_more_than_10000_ndjson_lines_is_413(own: Own) -> None:
    events = _many(10_001)
    response = post(own.client, ndjson(own.relabel(events)), "application/x-ndjson")
    assert response.status_code == 413, response.text
    assert_counts(own.ingest(events[:10_000]), 10_000, 0)
    assert_counts(own.ingest(events[10_000:]), 1, 0)


OVER_10_MB = 10 * 1024 * 1024 + 1


def _padded_body(events: list[Event]) -> bytes:
    """A valid JSON array of ``events`` made larger than 10 MB with whitespace."""
    body = json.dumps(events).encode()
    return body[:-1] + b" " * (OVER_10_MB - len(body)) + b"]"


def test_body_over_10_mb_is_413(own: Own) -> None:
    events = [event("ok-0"), event("ok-1", "sms")]
    body = _padded_body(own.relabel(events))
    assert len(body) == OVER_10_MB
    response = post(own.client, body)
    assert response.status_code == 413, response.text
    assert isinstance(response.json()["detail"], str)
    assert_nothing_stored(own, events)


def test_streamed_body_over_10_mb_without_length_is_413(own: Own) -> None:
    events = [event("ok-0"), event("ok-1", "sms")]
    body = _padded_body(own.relabel(events))

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 1 << 20):
            yield body[start : start + (1 << 20)]

    response = own.client.post(
        "/v1/events", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413, response.text
    assert_nothing_stored(own, events)


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "multipart/form-data"])
def test_unsupported_content_type_is_415(shared: Tenant, uid: str, content_type: str) -> None:
    events = relabel([event("ok-0"), event("ok-1")], uid)
    response = post(shared.client, json.dumps(events), content_type)
    assert response.status_code == 415, response.text
    assert isinstance(response.json()["detail"], str)
    assert_nothing_stored(shared, events)


# --- keys ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no key"),
        pytest.param({"X-API-Key": "not-a-key"}, id="garbage x-api-key"),
        pytest.param({"X-API-Key": "ul_sk_live_" + "A" * 40}, id="unknown well-formed key"),
        pytest.param({"Authorization": "Bearer ul_sk_test_" + "b" * 40}, id="unknown bearer"),
        pytest.param({"Authorization": "Basic dXNlcjpwYXNz"}, id="basic auth"),
        pytest.param({"Authorization": "Bearer"}, id="bearer without key"),
        pytest.param({"X-API-Key": ""}, id="empty x-api-key"),
    ],
)
def test_missing_or_invalid_key_is_401(
    service: Service, shared: Tenant, uid: str, headers: dict[str, str]
) -> None:
    events = relabel([event("ok-0"), event("ok-1")], uid)
    response = service.client().post("/v1/events", json=events, headers=headers)
    assert response.status_code == 401, response.text
    assert isinstance(response.json()["detail"], str)
    assert_nothing_stored(shared, events)


def test_bearer_and_x_api_key_both_work(service: Service, tenant: Tenant) -> None:
    bearer = service.client()
    response = bearer.post(
        "/v1/events", json=event("e1"), headers={"Authorization": f"Bearer {tenant.key}"}
    )
    assert_counts(response, 1, 0)
    by_header = service.client()
    response = by_header.post("/v1/events", json=event("e1"), headers={"X-API-Key": tenant.key})
    assert_counts(response, 0, 1)
    response = by_header.post(
        "/v1/events", json=event("e2"), headers={"authorization": f"bearer {tenant.key}"}
    )
    assert_counts(response, 1, 0)


def test_revoked_tenant_key_is_401(service: Service, tenant: Tenant) -> None:
    issued = service.admin.post("/v1/admin/keys", json={"tenant": tenant.name})
    assert issued.status_code == 201, issued.text
    second = issued.json()
    client = service.client(second["key"])
    assert_counts(client.post("/v1/events", json=event("e1")), 1, 0)
    revoked = service.admin.delete(f"/v1/admin/keys/{second['key_id']}")
    assert revoked.status_code == 204, revoked.text
    response = client.post("/v1/events", json=event("e2"))
    assert response.status_code == 401, response.text
    assert_nothing_stored(tenant, [event("e2")])


# --- dedupe -------------------------------------------------------------------------------


def test_resent_id_is_a_duplicate_forever(own: Own) -> None:
    assert_counts(own.ingest([event("e1"), event("e2")]), 2, 0)
    assert_counts(own.ingest([event("e1")]), 0, 1)
    assert_counts(own.ingest([event("e2"), event("e1")]), 0, 2)
    assert_counts(own.ingest(event("e2")), 0, 1)


def test_resent_id_with_other_time_or_data_or_type_is_a_duplicate(own: Own) -> None:
    assert_counts(own.ingest(event("e1")), 1, 0)
    assert_counts(own.ingest(event("e1", time="2024-06-01T00:00:00Z")), 0, 1)
    assert_counts(own.ingest(event("e1", data=with_data("conversation", seconds=9))), 0, 1)
    assert_counts(own.ingest(event("e1", "sms", subject="someone-else")), 0, 1)
    assert_counts(own.ingest(event("e2")), 1, 0)


def test_duplicate_ids_inside_one_batch_first_wins(service: Service, tenant: Tenant) -> None:
    first = event("e1", data=with_data("conversation", organization_name="First"))
    later = event(
        "e1", time=T1, data=with_data("conversation", organization_name="Second", seconds=7)
    )
    # e2 names no organization, so only e1's copies could name it.
    unnamed = event("e2", data=without(FULL_DATA["conversation"], "organization_name"))
    assert_counts(tenant.ingest([first, later, unnamed, later]), 2, 2)
    assert_counts(tenant.ingest([first, unnamed]), 0, 2)
    # Had the later copy been stored, its later time would have named the organization.
    org = tenant.client.get("/v1/organizations/org-1")
    assert org.status_code == 200, org.text
    assert org.json() == {"id": "org-1", "name": "First", "parent_id": None}


def test_resent_id_with_a_later_name_changes_nothing(tenant: Tenant) -> None:
    assert_counts(tenant.ingest(event("e1")), 1, 0)
    late = event("e1", time=T1, data=with_data("conversation", organization_name="Renamed"))
    assert_counts(tenant.ingest(late), 0, 1)
    org = tenant.client.get("/v1/organizations/org-1")
    assert org.json() == {"id": "org-1", "name": "Org One", "parent_id": None}


def test_mixed_batch_reports_exact_counts(own: Own) -> None:
    assert_counts(own.ingest([event("old-1"), event("old-2"), event("old-3")]), 3, 0)
    batch = [
        event("old-1"),
        event("new-1"),
        event("new-2", "sms"),
        event("new-1", time=T1),
        event("old-3"),
        event("new-3", "ticket"),
        event("new-2", "sms"),
        event("old-1"),
    ]
    # new: new-1, new-2, new-3 -> 3; duplicates: old-1 x2, old-3, new-1, new-2 -> 5
    assert_counts(own.ingest(batch), 3, 5)
    assert_counts(own.ingest(batch), 0, 8)


def test_ndjson_and_array_share_dedupe(own: Own) -> None:
    body = ndjson(own.relabel([event("e1"), event("e2")]))
    assert_counts(post(own.client, body, "application/x-ndjson"), 2, 0)
    assert_counts(own.ingest([event("e2"), event("e3")]), 1, 1)
    body = json.dumps(own.relabel([event("e3"), event("e4")]))
    assert_counts(post(own.client, body, "application/cloudevents-batch+json"), 1, 1)


def test_ids_are_case_and_whitespace_sensitive(own: Own) -> None:
    assert_counts(own.ingest([event("abc"), event("ABC"), event("abc "), event(" abc")]), 4, 0)


# --- operator key -------------------------------------------------------------------------


def test_tenant_key_may_not_name_even_its_own_tenant(own: Own) -> None:
    batch = [event("ok-0"), event("bad-1", tenant=own.tenant.name)]
    assert_rejected(own.ingest(batch), 1, 2, [(1, "tenant", None)])
    assert_nothing_stored(own, [event("ok-0"), event("bad-1")])


def test_operator_key_ingests_for_the_named_tenant(service: Service) -> None:
    first = service.new_tenant()
    second = service.new_tenant()
    batch = [
        event("e1", tenant=first.name),
        event("e2", "sms", tenant=first.name),
        event("e1", tenant=second.name),
    ]
    assert_counts(service.admin.post("/v1/events", json=batch), 3, 0)
    assert_counts(service.admin.post("/v1/events", json=batch), 0, 3)
    # Stored in each named tenant, as each tenant's own key sees.
    assert_counts(first.ingest([event("e1"), event("e2", "sms"), event("e3")]), 1, 2)
    assert_counts(second.ingest([event("e1"), event("e2", "sms")]), 1, 1)


def test_operator_key_needs_a_known_tenant_on_every_event(service: Service) -> None:
    tenant = service.new_tenant()
    batch = [
        event("ok-0", tenant=tenant.name),
        event("bad-1"),
        event("bad-2", tenant=f"{tenant.name}-nope"),
        event("ok-3", "sms", tenant=tenant.name),
    ]
    response = service.admin.post("/v1/events", json=batch)
    assert_rejected(response, 2, 4, [(1, "tenant", None), (2, "tenant", None)])
    assert_nothing_stored(tenant, [event("ok-0"), event("ok-3", "sms")])


def test_operator_key_may_name_a_tenant_once_it_is_created(service: Service) -> None:
    # The server keeps the tenants it has found by name; one it did not find is looked up again.
    name = f"later-{uuid.uuid4().hex[:8]}"
    batch = [event("e1", tenant=name), event("e2", "sms", tenant=name)]
    response = service.admin.post("/v1/events", json=batch)
    unknown = f"unknown tenant {name!r}"
    assert_rejected(response, 2, 2, [(0, "tenant", unknown), (1, "tenant", unknown)])
    created = service.admin.post(
        "/v1/admin/tenants", json={"name": name, "tz": "UTC", "mau_min_messages": 2}
    )
    assert created.status_code == 201, created.text
    assert_counts(service.admin.post("/v1/events", json=batch), 2, 0)
    assert_counts(service.admin.post("/v1/events", json=batch), 0, 2)


def test_operator_key_with_one_event_and_no_tenant_is_422(service: Service) -> None:
    response = service.admin.post("/v1/events", json=event("e1"))
    assert_rejected(response, 1, 1, [(0, "tenant", None)])


def test_operator_key_cannot_use_the_directory(service: Service) -> None:
    tenant = service.new_tenant()
    assert tenant.client.put("/v1/organizations/org-1", json={}).status_code == 200
    admin = service.admin
    calls = [
        admin.get("/v1/organizations"),
        admin.get("/v1/organizations/org-1"),
        admin.put("/v1/organizations/org-1", json={"name": "x"}),
        admin.get("/v1/users"),
        admin.get("/v1/users/user-1"),
        admin.put("/v1/users/user-1", json={"organization_id": "org-1"}),
        admin.get("/v1/agents"),
        admin.get("/v1/agents/agent-1"),
        admin.put("/v1/agents/agent-1", json={"organization_id": "org-1"}),
    ]
    assert [call.status_code for call in calls] == [403] * len(calls)
    org = tenant.client.get("/v1/organizations/org-1")
    assert org.json() == {"id": "org-1", "name": "org-1", "parent_id": None}
