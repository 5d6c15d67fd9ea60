"""GET /public-api/billing/end-user-teams/detail (seed 000) against the real server.

Every expected figure is worked out by hand from the events each test sends. Fixed data lies in
past months (the server rejects event times in the future); tests of the current month compute
it with zoneinfo, relative to now.
"""

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.service import Service, Tenant

PATH = "/public-api/billing/end-user-teams/detail"
Event = dict[str, Any]

_ids = itertools.count()


def message(time: str, user: str, org: str, event_id: str | None = None, **data: Any) -> Event:
    return {
        "id": event_id or f"m-{next(_ids)}",
        "type": "bot_message",
        "time": time,
        "subject": user,
        "data": {"organization_id": org, **data},
    }


def messages(count: int, time: str, user: str, org: str, **data: Any) -> list[Event]:
    return [message(time, user, org, **data) for _ in range(count)]


def ticket(time: str, user: str, org: str, ticket_id: str, url: str | None = None) -> Event:
    data: dict[str, Any] = {"organization_id": org, "ticket_id": ticket_id}
    if url is not None:
        data["url"] = url
    return {
        "id": f"t-{next(_ids)}",
        "type": "ticket",
        "time": time,
        "subject": user,
        "data": data,
    }


def ingest(tenant: Tenant, events: list[Event]) -> Any:
    response = tenant.ingest(events)
    assert response.status_code in (200, 201, 202), response.text
    return response.json()


def get(tenant: Tenant, **params: Any) -> httpx.Response:
    return tenant.client.get(PATH, params=params)


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["meta"]["request_id"] == response.headers["X-Request-ID"]
    return body


def detail(tenant: Tenant, **params: Any) -> Any:
    return ok(get(tenant, **params))["data"]


def error(response: httpx.Response, status: int, code: str) -> Any:
    """The family's envelope, with the status, code and request id expected."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "meta"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    assert body["meta"] == {"request_id": response.headers["X-Request-ID"]}
    uuid.UUID(body["meta"]["request_id"])
    return body["error"]


def users(data: Any) -> list[tuple[str, str, int]]:
    """per_user as (end_user, end_company_id, turns)."""
    return [(u["end_user"], u["end_company_id"], u["turns"]) for u in data["per_user"]]


def companies(data: Any) -> dict[str, int]:
    return {c["end_company_id"]: c["active_users"] for c in data["per_company"]}


def trend(data: Any) -> list[tuple[str, int]]:
    return [(m["month"], m["active_users"]) for m in data["monthly_active_users"]]


def current_month(tz: str) -> str:
    return datetime.now(ZoneInfo(tz)).strftime("%Y-%m")


# --- the active-user rule -------------------------------------------------------------------


def test_threshold_is_inclusive_at_the_tenants_minimum(service: Service) -> None:
    t = "2025-03-10T12:00:00Z"
    default = service.new_tenant()  # N = 2
    ingest(
        default,
        [
            *messages(1, t, "below", "org"),
            *messages(2, t, "at", "org"),
            *messages(3, t, "above", "org"),
        ],
    )
    data = detail(default, month="2025-03", months=1)
    assert users(data) == [("above", "org", 3), ("at", "org", 2)]
    assert trend(data) == [("2025-03", 2)]
    assert companies(data) == {"org": 2}

    three = service.new_tenant(mau_min_messages=3)
    ingest(
        three,
        [
            *messages(2, t, "below", "org"),
            *messages(3, t, "at", "org"),
            *messages(4, t, "above", "org"),
        ],
    )
    data = detail(three, month="2025-03", months=1)
    assert users(data) == [("above", "org", 4), ("at", "org", 3)]
    assert trend(data) == [("2025-03", 2)]


def test_months_follow_the_tenants_time_zone(service: Service) -> None:
    events = [
        # 2026-02-01 04:30 and 04:59:59 UTC: January in New York, February in UTC.
        message("2026-01-31T23:30:00-05:00", "late", "org"),
        message("2026-01-31T23:59:59-05:00", "late", "org"),
        # Midnight starting February in New York: its first instant is February there.
        message("2026-02-01T00:00:00-05:00", "midnight", "org"),
        message("2026-02-01T00:00:00-05:00", "midnight", "org"),
        # The last second of January in UTC and the first of February: 18:59:59 and 19:00 of
        # January 31 in New York.
        message("2026-01-31T23:59:59Z", "split", "org"),
        message("2026-02-01T00:00:00Z", "split", "org"),
        ticket("2026-01-31T23:30:00-05:00", "late", "org", "T-edge"),
    ]
    new_york = service.new_tenant(tz="America/New_York")
    utc = service.new_tenant(tz="UTC")
    ingest(new_york, events)
    ingest(utc, events)

    data = detail(new_york, month="2026-02", months=2)
    assert trend(data) == [("2026-01", 2), ("2026-02", 1)]
    assert users(data) == [("midnight", "org", 2)]
    assert data["tickets_raised"] == 0
    january = detail(new_york, month="2026-01", months=1)
    assert users(january) == [("late", "org", 2), ("split", "org", 2)]
    assert january["tickets_raised"] == 1

    data = detail(utc, month="2026-02", months=2)
    assert trend(data) == [("2026-01", 0), ("2026-02", 2)]
    assert users(data) == [("late", "org", 2), ("midnight", "org", 2)]
    assert data["tickets_raised"] == 1
    assert detail(utc, month="2026-01", months=1)["per_user"] == []


def test_trend_has_exactly_months_entries_oldest_first(service: Service) -> None:
    tenant = service.new_tenant()
    ingest(
        tenant,
        [
            *messages(2, "2025-10-05T10:00:00Z", "a", "org"),
            *messages(2, "2025-10-06T10:00:00Z", "b", "org"),
            *messages(5, "2025-12-31T23:00:00Z", "a", "org"),
            *messages(1, "2025-12-31T23:00:00Z", "b", "org"),  # not active in December
        ],
    )
    data = detail(tenant, month="2026-01", months=4)
    assert trend(data) == [("2025-10", 2), ("2025-11", 0), ("2025-12", 1), ("2026-01", 0)]
    assert data["per_user"] == []
    assert data["per_company"] == []

    default = detail(tenant, month="2026-01")  # six months by default
    months = ["2025-08", "2025-09", "2025-10", "2025-11", "2025-12", "2026-01"]
    assert trend(default) == list(zip(months, [0, 0, 2, 0, 1, 0], strict=True))

    assert trend(detail(tenant, month="2025-12", months=1)) == [("2025-12", 1)]
    longest = trend(detail(tenant, month="2025-12", months=24))
    assert len(longest) == 24
    assert longest[0] == ("2024-01", 0)
    assert longest[-3:] == [("2025-10", 2), ("2025-11", 0), ("2025-12", 1)]
    assert sum(count for _, count in longest) == 3


def test_a_user_in_two_companies_counts_once_where_they_talked_most(service: Service) -> None:
    t = "2025-05-20T09:00:00Z"
    tenant = service.new_tenant()
    ingest(
        tenant,
        [
            # most messages in org-b: there, with all 5 turns
            *messages(2, t, "u-most", "org-a"),
            *messages(3, t, "u-most", "org-b"),
            # a tie: the smaller organization id
            *messages(2, t, "u-tie", "org-b"),
            *messages(2, t, "u-tie", "org-a"),
            # active only by the sum of both companies
            *messages(1, t, "u-sum", "org-b"),
            *messages(1, t, "u-sum", "org-c"),
            # a company of tickets only never takes a user
            *messages(2, t, "u-one", "org-c"),
            *(ticket(t, "u-one", "org-a", f"T-{i}") for i in range(3)),
        ],
    )
    data = detail(tenant, month="2025-05", months=1)
    assert users(data) == [
        ("u-most", "org-b", 5),
        ("u-tie", "org-a", 4),
        ("u-one", "org-c", 2),
        ("u-sum", "org-b", 2),
    ]
    assert companies(data) == {"org-b": 2, "org-a": 1, "org-c": 1}
    assert [c["end_company_id"] for c in data["per_company"]] == ["org-b", "org-a", "org-c"]
    assert trend(data) == [("2025-05", 4)]
    assert sum(companies(data).values()) == 4
    # org-a's tickets are org-a's, though its only active user is u-tie; they are u-one's
    org_a = next(c for c in data["per_company"] if c["end_company_id"] == "org-a")
    assert org_a["tickets_raised"] == 3
    u_one = next(u for u in data["per_user"] if u["end_user"] == "u-one")
    assert u_one["tickets_raised"] == 3


def test_resent_events_never_raise_a_count(service: Service) -> None:
    t = "2025-06-02T08:00:00Z"
    tenant = service.new_tenant()
    once = message(t, "once", "org", event_id="dup-1")
    twice = [message(t, "twice", "org", event_id=f"dup-{i}") for i in (2, 3)]
    raised = ticket(t, "twice", "org", "T-1", "https://help.example.com/T-1")
    first = ingest(tenant, [once, *twice, raised])
    assert first == {"accepted": 4, "duplicates": 0}
    again = ingest(tenant, [once, once, *twice, raised])
    assert again == {"accepted": 0, "duplicates": 5}
    # a re-sent id with another time is the same event still
    moved = dict(once, time="2025-06-03T08:00:00Z")
    assert ingest(tenant, [moved]) == {"accepted": 0, "duplicates": 1}

    data = detail(tenant, month="2025-06", months=1)
    assert users(data) == [("twice", "org", 2)]
    assert data["tickets_raised"] == 1
    assert data["per_user"][0]["tickets"] == [
        {"ticket_id": "T-1", "url": "https://help.example.com/T-1"}
    ]
    assert trend(data) == [("2025-06", 1)]


# --- tickets and names ----------------------------------------------------------------------


def test_tickets_per_company_per_user_and_in_total(service: Service) -> None:
    tenant = service.new_tenant()
    t = "2025-07-10T10:00:00Z"
    url = "https://help.example.com/tickets/"
    ingest(
        tenant,
        [
            *messages(2, t, "ann", "acme"),
            *messages(3, t, "bob", "acme"),
            *messages(2, t, "cy", "globex"),
            # out of order on purpose: listed by time, then ticket id
            ticket("2025-07-20T10:00:00Z", "bob", "acme", "T-3"),
            ticket("2025-07-01T00:00:00Z", "ann", "acme", "T-2", url + "T-2"),
            ticket("2025-07-01T00:00:00Z", "ann", "acme", "T-1", url + "T-1"),
            ticket("2025-07-15T10:00:00Z", "ann", "globex", "T-4", url + "T-4"),
            # a user who is not active, in a company with no active users
            ticket("2025-07-16T10:00:00Z", "dee", "initech", "T-5"),
            # other months
            ticket("2025-06-30T23:59:59Z", "ann", "acme", "T-june"),
            ticket("2025-08-01T00:00:00Z", "ann", "acme", "T-august"),
        ],
    )
    data = detail(tenant, month="2025-07", months=1)
    t1 = {"ticket_id": "T-1", "url": url + "T-1"}
    t2 = {"ticket_id": "T-2", "url": url + "T-2"}
    t3 = {"ticket_id": "T-3", "url": ""}
    t4 = {"ticket_id": "T-4", "url": url + "T-4"}
    assert data["tickets_raised"] == 5
    assert data["per_company"] == [
        {
            "active_users": 2,
            "company_name": "acme",
            "end_company_id": "acme",
            "tickets": [t1, t2, t3],
            "tickets_raised": 3,
        },
        {
            "active_users": 1,
            "company_name": "globex",
            "end_company_id": "globex",
            "tickets": [t4],
            "tickets_raised": 1,
        },
    ]
    by_user = {u["end_user"]: (u["tickets"], u["tickets_raised"]) for u in data["per_user"]}
    assert by_user == {"bob": ([t3], 1), "ann": ([t1, t2, t4], 3), "cy": ([], 0)}


def test_any_ticket_text_comes_back_as_sent(service: Service) -> None:
    """Ticket lists are written as JSON by the engine: quotes, backslashes, control characters
    and characters beyond the BMP round-trip exactly."""
    tenant = service.new_tenant()
    odd = ['quo"te', "back\\slash", "tab\tline\nend", "\u0001", "ünï ✓ 😀", "</script>"]
    ingest(
        tenant,
        [
            *messages(2, "2025-07-10T10:00:00Z", "ann", "acme"),
            *(
                ticket(f"2025-07-11T10:00:0{n}Z", "ann", "acme", text, f"https://x.test/{n}")
                for n, text in enumerate(odd)
            ),
        ],
    )
    data = detail(tenant, month="2025-07", months=1)
    expected = [{"ticket_id": text, "url": f"https://x.test/{n}"} for n, text in enumerate(odd)]
    assert data["per_company"][0]["tickets"] == expected
    assert data["per_user"][0]["tickets"] == expected


def test_names_and_emails_are_resolved_like_the_directory(service: Service) -> None:
    tenant = service.new_tenant()
    t0, t1 = "2025-08-01T10:00:00Z", "2025-08-02T10:00:00Z"
    ingest(
        tenant,
        [
            message(t0, "u-named", "org-x", organization_name="Old X", user_name="Old Name"),
            message(t1, "u-named", "org-x", organization_name="X Corp", user_name="Nia"),
            message(t0, "u-put", "org-y", user_email="events@example.com", user_name="Evt"),
            message(t1, "u-put", "org-y"),
            *messages(2, t0, "u-bare", "org-z"),
        ],
    )
    put = tenant.client.put("/v1/organizations/org-y", json={"name": "Yoyodyne"})
    assert put.status_code == 200, put.text
    put = tenant.client.put(
        "/v1/users/u-put",
        json={"name": "Pat", "email": "pat@example.com", "organization_id": "org-y"},
    )
    assert put.status_code == 200, put.text

    data = detail(tenant, month="2025-08", months=1)
    people = [
        (u["end_user"], u["end_user_email"], u["end_company_id"], u["company_name"])
        for u in data["per_user"]
    ]
    # all have 2 turns: ordered by name
    assert people == [
        ("Nia", "", "org-x", "X Corp"),
        ("Pat", "pat@example.com", "org-y", "Yoyodyne"),
        ("u-bare", "", "org-z", "org-z"),
    ]
    assert [(c["end_company_id"], c["company_name"]) for c in data["per_company"]] == [
        ("org-x", "X Corp"),
        ("org-y", "Yoyodyne"),
        ("org-z", "org-z"),
    ]


def test_companies_are_ordered_by_users_then_name_by_code_point_then_id(service: Service) -> None:
    tenant = service.new_tenant()  # N = 2
    t = "2025-08-05T10:00:00Z"
    names = {
        "org-1": "Ärzte GmbH",
        "org-2": "apex",
        "org-3": 'Zeta "Q" \\ Co\n',
        "org-4": "Beta",
        "org-6": "Same",
        "org-5": "Same",
    }
    events = [
        *messages(2, t, "u-4b", "org-4", organization_name="Beta"),
        ticket(t, "u-3", "org-3", "T-1", url="https://x.test/?a=1&b=\u00e9"),
    ]
    for org, name in names.items():
        events += messages(2, t, f"u-{org}", org, organization_name=name)
    ingest(tenant, events)

    data = detail(tenant, month="2025-08", months=1)
    # 'S' < 'Z' < 'a' < 'Ä' by code point; the two "Same" by id
    assert [
        (c["end_company_id"], c["company_name"], c["active_users"]) for c in data["per_company"]
    ] == [
        ("org-4", "Beta", 2),
        ("org-5", "Same", 1),
        ("org-6", "Same", 1),
        ("org-3", 'Zeta "Q" \\ Co\n', 1),
        ("org-2", "apex", 1),
        ("org-1", "Ärzte GmbH", 1),
    ]
    zeta = data["per_company"][3]
    assert zeta["tickets"] == [{"ticket_id": "T-1", "url": "https://x.test/?a=1&b=\u00e9"}]
    assert zeta["tickets_raised"] == 1
    assert data["tickets_raised"] == 1


# --- the answer's shape -----------------------------------------------------------------------


def test_the_answer_has_the_pages_shape(service: Service) -> None:
    tenant = service.new_tenant()
    t = "2025-09-09T09:00:00Z"
    ingest(tenant, [*messages(2, t, "u", "org"), ticket(t, "u", "org", "T-1")])
    response = get(tenant, month="2025-09")
    body = ok(response)
    assert list(body) == ["data", "meta"]
    assert list(body["data"]) == [
        "monthly_active_users",
        "per_company",
        "per_user",
        "tickets_raised",
    ]
    assert list(body["meta"]) == ["request_id", "timings_ms", "pagination", "warnings"]
    assert list(body["data"]["monthly_active_users"][0]) == ["active_users", "month"]
    company = body["data"]["per_company"][0]
    assert list(company) == [
        "active_users",
        "company_name",
        "end_company_id",
        "tickets",
        "tickets_raised",
    ]
    assert list(company["tickets"][0]) == ["ticket_id", "url"]
    assert list(body["data"]["per_user"][0]) == [
        "company_name",
        "end_company_id",
        "end_user",
        "end_user_email",
        "tickets",
        "tickets_raised",
        "turns",
    ]
    meta = body["meta"]
    assert str(uuid.UUID(meta["request_id"])) == meta["request_id"]
    assert meta["pagination"] == {"has_more": False, "next_cursor": None}
    assert meta["warnings"] == []
    timings = meta["timings_ms"]
    assert "total" in timings
    assert "query" in timings
    assert all(isinstance(v, int | float) and v >= 0 for v in timings.values())
    assert timings["total"] >= timings["query"]


def test_openapi_documents_the_endpoint(service: Service) -> None:
    spec = service.client().get("/openapi.json").json()
    operation = spec["paths"][PATH]["get"]
    assert operation["summary"] == "Detailed end-user Teams bot (MAU) breakdown for a month"
    assert "counts **once**" in operation["description"]
    assert "most bot messages" in operation["description"]
    params = {p["name"]: p["schema"] for p in operation["parameters"] if p["in"] == "query"}
    assert params["months"]["type"] == "integer"
    assert params["month"]["type"] == "string"
    assert "EndUserTeamsDetail" in spec["components"]["schemas"]


# --- the current month ------------------------------------------------------------------------


@pytest.mark.parametrize("tz", ["Pacific/Kiritimati", "America/Los_Angeles"])
def test_default_month_is_the_current_month_of_the_tenants_zone(service: Service, tz: str) -> None:
    tenant = service.new_tenant(tz=tz)
    now = datetime.now(UTC).replace(microsecond=0)
    times = [(now - timedelta(seconds=s)).isoformat() for s in (1, 2)]
    ingest(tenant, [message(time, "now-user", "org") for time in times])
    before = current_month(tz)
    body = ok(get(tenant, months=2))
    if current_month(tz) != before:
        pytest.skip("the month changed during the test")
    this_month = trend(body["data"])[-1]
    assert this_month[0] == before
    assert body["meta"]["warnings"] == [f"{before} is the current month: its figures are partial"]
    # the events of a second ago lie in the zone's current month
    assert this_month[1] == 1
    assert users(body["data"]) == [("now-user", "org", 2)]
    explicit = ok(get(tenant, month=before, months=2))
    assert explicit["data"] == body["data"]
    assert explicit["meta"]["warnings"] == body["meta"]["warnings"]
    past = ok(get(tenant, month="2025-01", months=2))
    assert past["meta"]["warnings"] == []


def test_a_month_after_the_current_one_is_refused(service: Service) -> None:
    tz = "Pacific/Kiritimati"
    tenant = service.new_tenant(tz=tz)
    now = datetime.now(ZoneInfo(tz))
    following = f"{now.year + now.month // 12:04d}-{now.month % 12 + 1:02d}"
    found = error(get(tenant, month=following), 400, "month_in_future")
    assert found["details"]["parameter"] == "month"
    error(get(tenant, month="2999-01"), 400, "month_in_future")


# --- parameters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"month": "2025-13"}, "invalid_month"),
        ({"month": "2025-00"}, "invalid_month"),
        ({"month": "2025-1"}, "invalid_month"),
        ({"month": "2025-01-01"}, "invalid_month"),
        ({"month": "Jan 2025"}, "invalid_month"),
        ({"month": ""}, "invalid_month"),
        ({"month": "１９９９-01"}, "invalid_month"),
        ({"month": "1969-12"}, "invalid_month"),
        ({"months": "0"}, "invalid_months"),
        ({"months": "25"}, "invalid_months"),
        ({"months": "-1"}, "invalid_months"),
        ({"months": "1.5"}, "invalid_months"),
        ({"months": "six"}, "invalid_months"),
        ({"limit": "0"}, "invalid_limit"),
        ({"limit": "1001"}, "invalid_limit"),
        ({"limit": "ten"}, "invalid_limit"),
        ({"limit": "99999999999999999999"}, "invalid_limit"),
        ({"cursor": "not-a-cursor"}, "invalid_cursor"),
        ({"cursor": "e30.e30"}, "invalid_cursor"),
    ],
)
def test_each_bad_parameter_has_its_code(
    service: Service, params: dict[str, str], code: str
) -> None:
    tenant = service.new_tenant()
    found = error(get(tenant, **params), 400, code)
    name = next(iter(params))
    assert found["details"]["parameter"] == name


def test_limits_of_the_ranges_are_accepted(service: Service) -> None:
    tenant = service.new_tenant()
    for params in ({"months": "1"}, {"months": "24"}, {"limit": "1"}, {"limit": "1000"}):
        ok(get(tenant, month="2025-01", **params))
    assert len(detail(tenant, month="1970-01", months=24)["monthly_active_users"]) == 24


# --- pagination -------------------------------------------------------------------------------


def _five_users(service: Service) -> Tenant:
    tenant = service.new_tenant()
    t = "2025-04-15T12:00:00Z"
    ingest(
        tenant,
        [
            *messages(6, t, "u1", "org", user_name="Eve"),
            *messages(5, t, "u2", "org", user_name="Dan"),
            *messages(5, t, "u3", "org", user_name="Cat"),
            *messages(4, t, "u4", "org", user_name="Bea"),
            *messages(5, t, "u5", "org", user_name="Cat"),  # same name as u3: by id
        ],
    )
    return tenant


def test_pages_of_users_follow_the_cursor(service: Service) -> None:
    tenant = _five_users(service)
    # A ticket of a user on each page: each page lists its own users' tickets.
    ingest(
        tenant,
        [
            ticket("2025-04-16T10:00:00Z", "u1", "org", "T-1"),
            ticket("2025-04-17T10:00:00Z", "u2", "org", "T-2"),
            ticket("2025-04-18T10:00:00Z", "u4", "org", "T-4a"),
            ticket("2025-04-19T10:00:00Z", "u4", "org", "T-4b"),
        ],
    )
    everyone = ok(get(tenant, month="2025-04"))
    tickets = [
        (u["end_user"], [t["ticket_id"] for t in u["tickets"]])
        for u in everyone["data"]["per_user"]
    ]
    assert tickets == [
        ("Eve", ["T-1"]),
        ("Cat", []),
        ("Cat", []),
        ("Dan", ["T-2"]),
        ("Bea", ["T-4a", "T-4b"]),
    ]
    expected = [
        ("Eve", "org", 6),
        ("Cat", "org", 5),  # u3
        ("Cat", "org", 5),  # u5
        ("Dan", "org", 5),
        ("Bea", "org", 4),
    ]
    assert users(everyone["data"]) == expected
    assert everyone["meta"]["pagination"] == {"has_more": False, "next_cursor": None}

    pages = []
    cursor = None
    while True:
        params: dict[str, Any] = {"month": "2025-04", "limit": 2}
        if cursor is not None:
            params["cursor"] = cursor
        body = ok(get(tenant, **params))
        pages.append(body)
        # everything but the users is the same on every page
        for field in ("monthly_active_users", "per_company", "tickets_raised"):
            assert body["data"][field] == everyone["data"][field]
        cursor = body["meta"]["pagination"]["next_cursor"]
        if cursor is None:
            break
    assert [len(p["data"]["per_user"]) for p in pages] == [2, 2, 1]
    assert [p["meta"]["pagination"]["has_more"] for p in pages] == [True, True, False]
    assert [u for p in pages for u in p["data"]["per_user"]] == everyone["data"]["per_user"]

    # an empty cursor (a client passing on a null next_cursor) is the first page
    first_again = ok(get(tenant, month="2025-04", limit=2, cursor=""))
    assert first_again["data"] == pages[0]["data"]

    # exactly full pages: the last one says there is no more
    full = ok(get(tenant, month="2025-04", limit=5))
    assert full["meta"]["pagination"] == {"has_more": False, "next_cursor": None}


def test_a_cursor_belongs_to_its_tenant_and_parameters(service: Service) -> None:
    tenant = _five_users(service)
    first = ok(get(tenant, month="2025-04", months=3, limit=2))
    cursor = first["meta"]["pagination"]["next_cursor"]
    assert isinstance(cursor, str)
    second = ok(get(tenant, month="2025-04", months=3, limit=2, cursor=cursor))
    assert [u["end_user"] for u in second["data"]["per_user"]] == ["Cat", "Dan"]

    # the same parameters written differently are the same parameters
    ok(get(tenant, month="2025-04", months="03", limit="2", cursor=cursor))

    for other in (
        {"month": "2025-03", "months": 3, "limit": 2},
        {"month": "2025-04", "months": 4, "limit": 2},
        {"month": "2025-04", "limit": 2},  # months by default: 6
        {"month": "2025-04", "months": 3, "limit": 3},
        {"month": "2025-04", "months": 3},
    ):
        error(get(tenant, **other, cursor=cursor), 400, "invalid_cursor")

    stranger = service.new_tenant()
    ingest(stranger, messages(2, "2025-04-15T12:00:00Z", "u1", "org"))
    error(get(stranger, month="2025-04", months=3, limit=2, cursor=cursor), 400, "invalid_cursor")

    payload, signature = cursor.split(".")
    tampered = [
        cursor[:-1] + ("A" if cursor[-1] != "A" else "B"),
        ("B" if cursor[0] != "B" else "C") + cursor[1:],
        cursor + "A",
        cursor + "=",
        payload,
        f"{payload}.{signature}.{signature}",
        f"{signature}.{payload}",
        cursor.replace(".", "!"),
        " " + cursor,
    ]
    for bad in tampered:
        error(get(tenant, month="2025-04", months=3, limit=2, cursor=bad), 400, "invalid_cursor")


def test_cursors_of_both_tenants_lead_to_their_own_users(service: Service) -> None:
    a = _five_users(service)
    b = service.new_tenant()
    t = "2025-04-15T12:00:00Z"
    ingest(b, [*messages(3, t, "b1", "b-org"), *messages(2, t, "b2", "b-org")])
    ingest(b, messages(2, t, "b3", "b-org"))
    page = ok(get(b, month="2025-04", limit=1))
    assert users(page["data"]) == [("b1", "b-org", 3)]
    following = ok(
        get(b, month="2025-04", limit=1, cursor=page["meta"]["pagination"]["next_cursor"])
    )
    assert users(following["data"]) == [("b2", "b-org", 2)]
    assert companies(following["data"]) == {"b-org": 3}
    a_page = ok(get(a, month="2025-04", limit=1))
    assert users(a_page["data"]) == [("Eve", "org", 6)]


# --- isolation and auth -----------------------------------------------------------------------


def test_a_tenant_never_sees_another_tenants_data(service: Service) -> None:
    t = "2025-02-10T10:00:00Z"
    owner = service.new_tenant()
    ingest(
        owner,
        [
            *messages(3, t, "shared-user", "shared-org", user_name="Secret", user_email="s@x.io"),
            ticket(t, "shared-user", "shared-org", "T-secret", "https://secret.example.com/1"),
        ],
    )
    other = service.new_tenant()
    # the same ids, but too few messages to be active here
    ingest(other, [message(t, "shared-user", "shared-org")])
    data = detail(other, month="2025-02", months=2)
    assert data == {
        "monthly_active_users": [
            {"active_users": 0, "month": "2025-01"},
            {"active_users": 0, "month": "2025-02"},
        ],
        "per_company": [],
        "per_user": [],
        "tickets_raised": 0,
    }
    mine = detail(owner, month="2025-02", months=1)
    assert users(mine) == [("Secret", "shared-org", 3)]
    assert mine["per_user"][0]["end_user_email"] == "s@x.io"


def test_credentials(service: Service) -> None:
    tenant = service.new_tenant()
    anonymous = service.client()
    found = error(anonymous.get(PATH), 401, "unauthorized")
    assert "details" not in found or found["details"] is None
    error(service.client("ul_sk_live_not-a-real-key").get(PATH), 401, "unauthorized")
    error(anonymous.get(PATH, headers={"Authorization": "Bearer nonsense"}), 401, "unauthorized")
    error(service.admin.get(PATH), 403, "forbidden")
    # authentication comes before the parameters
    error(anonymous.get(PATH, params={"month": "bad"}), 401, "unauthorized")
    # the key as a bearer token
    bearer = anonymous.get(
        PATH, params={"month": "2025-01"}, headers={"Authorization": f"Bearer {tenant.key}"}
    )
    assert ok(bearer)["meta"]["pagination"]["has_more"] is False


def test_request_ids_are_uuids_on_every_answer(service: Service) -> None:
    tenant = service.new_tenant()
    seen = set()
    for response in (
        get(tenant, month="2025-01"),
        get(tenant, month="2025-01"),
        get(tenant, month="nope"),
        service.client().get(PATH),
    ):
        header = response.headers["X-Request-ID"]
        assert str(uuid.UUID(header)) == header
        body = response.json()
        assert body["meta"]["request_id"] == header
        seen.add(header)
    assert len(seen) == 4
