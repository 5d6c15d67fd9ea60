"""The demo dataset: deterministic, valid, shaped like real usage."""

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from usagelens.demo.dataset import (
    DEMO_TIMEZONE,
    DemoDirectory,
    demo_directory,
    demo_events,
    estimate_event_count,
)
from usagelens.ingest.schemas import EVENT_TYPES, decode_event

NOW = datetime(2026, 5, 14, 15, 27, 41, 123456, tzinfo=UTC)
DAYS = 240
SCALE = 0.05

Event = dict[str, Any]


@pytest.fixture(scope="module")
def events() -> list[Event]:
    return list(demo_events(NOW, seed=7, days=DAYS, scale=SCALE))


@pytest.fixture(scope="module")
def directory() -> DemoDirectory:
    return demo_directory(7)


def _time(event: Event) -> datetime:
    return datetime.fromisoformat(event["time"])


def test_same_arguments_give_the_same_events(events: list[Event]) -> None:
    again = list(demo_events(NOW, seed=7, days=DAYS, scale=SCALE))
    assert again == events


def test_another_seed_gives_other_events(events: list[Event]) -> None:
    other = list(demo_events(NOW, seed=8, days=DAYS, scale=SCALE))
    assert other != events


def test_directory_is_deterministic() -> None:
    assert demo_directory(3) == demo_directory(3)
    assert demo_directory(3) != demo_directory(4)


def test_every_event_validates(events: list[Event]) -> None:
    for event in events:
        decode_event(event)
        assert "tenant" not in event
        assert isinstance(event["time"], str)


def test_every_event_type_appears(events: list[Event]) -> None:
    counts = Counter(event["type"] for event in events)
    assert set(counts) == set(EVENT_TYPES)
    # The busiest streams are conversations, bot messages and SMS.
    assert {t for t, _ in counts.most_common(3)} == {"conversation", "bot_message", "sms"}


def test_events_lie_in_the_span_in_time_order(events: list[Event]) -> None:
    times = [_time(event) for event in events]
    assert all(t.utcoffset() is not None for t in times)
    assert times == sorted(times)
    assert times[-1] <= NOW
    assert times[0] >= NOW - timedelta(days=DAYS)
    assert times[-1] > NOW - timedelta(days=2)
    assert times[0] < NOW - timedelta(days=DAYS - 2)


def test_ids_are_unique(events: list[Event]) -> None:
    ids = [event["id"] for event in events]
    assert len(set(ids)) == len(ids)


def test_span_crosses_a_dst_change(events: list[Event]) -> None:
    zone = ZoneInfo(DEMO_TIMEZONE)
    offsets = {_time(event).astimezone(zone).utcoffset() for event in events}
    assert len(offsets) == 2


@pytest.mark.parametrize("now_month", [1, 4, 7, 10])
def test_any_240_day_span_crosses_a_dst_change(now_month: int) -> None:
    now = datetime(2027, now_month, 3, 8, tzinfo=UTC)
    zone = ZoneInfo(DEMO_TIMEZONE)
    offsets = {
        _time(event).astimezone(zone).utcoffset()
        for event in demo_events(now, seed=1, days=240, scale=0.01)
    }
    assert len(offsets) == 2


def test_subjects_where_the_type_needs_them(events: list[Event]) -> None:
    for event in events:
        if event["type"] == "brand_registration":
            assert "subject" not in event
        if event["type"] in ("bot_message", "ticket"):
            assert event["subject"].startswith("usr_")
        if "subject" not in event:
            assert "user_name" not in event["data"]
            assert "user_email" not in event["data"]


def test_events_reference_the_directory(events: list[Event], directory: DemoDirectory) -> None:
    org_ids = {o.organization_id for o in directory.organizations}
    user_org = {u.user_id: u.organization_id for u in directory.users}
    agent_org = {a.agent_id: a.organization_id for a in directory.agents}
    for event in events:
        data = event["data"]
        assert data["organization_id"] in org_ids
        if "subject" in event:
            assert user_org[event["subject"]] == data["organization_id"]
        if event["type"] == "conversation":
            assert agent_org[data["agent_id"]] == data["organization_id"]


def test_value_ranges(events: list[Event]) -> None:
    for event in events:
        data = event["data"]
        kind = event["type"]
        if kind == "conversation":
            assert 20 <= data["seconds"] <= 900
            assert data["conversation_type"] in {
                "inbound_call",
                "outbound_call",
                "web_chat",
                "sms_chat",
            }
        elif kind == "sms":
            assert 1 <= data.get("segments", 1) <= 4
        elif kind == "api_request":
            assert 1 <= data.get("count", 1) <= 500
        elif kind == "bot_message":
            assert data["channel"] == "teams"


def test_names_match_the_directory(events: list[Event], directory: DemoDirectory) -> None:
    org_name = {o.organization_id: o.name for o in directory.organizations}
    users = {u.user_id: u for u in directory.users}
    agent_name = {a.agent_id: a.name for a in directory.agents}
    last_org_name: dict[str, str] = {}
    named_orgs: set[str] = set()
    for event in events:
        data = event["data"]
        if "organization_name" in data:
            named_orgs.add(data["organization_id"])
            last_org_name[data["organization_id"]] = data["organization_name"]
        if "user_name" in data:
            user = users[event["subject"]]
            assert (data["user_name"], data["user_email"]) == (user.name, user.email)
        if "agent_name" in data:
            assert data["agent_name"] == agent_name[data["agent_id"]]
    # Every organization is named, and the latest name is the directory's.
    assert named_orgs == set(org_name)
    assert last_org_name == org_name
    assert sum("agent_name" in e["data"] for e in events) > 0
    assert sum("user_name" in e["data"] for e in events) > 0


def test_tickets_have_ids_and_mostly_urls(events: list[Event]) -> None:
    tickets = [e["data"] for e in events if e["type"] == "ticket"]
    ids = [t["ticket_id"] for t in tickets]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith("TCK-") for i in ids)
    with_url = [t for t in tickets if "url" in t]
    assert 0 < len(with_url) < len(tickets)
    for t in with_url:
        assert t["url"] == f"https://helpdesk.example/tickets/{t['ticket_id']}"


def test_monthly_items_are_billed_on_the_first(events: list[Event]) -> None:
    seen: Counter[tuple[str, str]] = Counter()
    for event in events:
        if event["type"] in ("phone_rental", "knowledge_base"):
            when = _time(event).astimezone(UTC)
            assert when.day == 1
            item = event["data"].get("phone_number") or event["data"]["kb_id"]
            seen[(item, when.strftime("%Y-%m"))] += 1
    assert seen
    assert set(seen.values()) == {1}


def test_some_users_send_one_bot_message_in_a_month_and_others_more(
    events: list[Event],
) -> None:
    per_user_month = Counter(
        (e["subject"], _time(e).astimezone(UTC).strftime("%Y-%m"))
        for e in events
        if e["type"] == "bot_message"
    )
    counts = list(per_user_month.values())
    assert counts.count(1) >= 10
    assert sum(c >= 2 for c in counts) >= 10


def test_business_hours_and_weekdays_are_busier(events: list[Event]) -> None:
    zone = ZoneInfo(DEMO_TIMEZONE)
    hours: Counter[int] = Counter()
    weekdays: Counter[int] = Counter()
    for event in events:
        if event["type"] not in ("conversation", "sms", "voice_call", "bot_message"):
            continue  # nightly storage reports and monthly bills run on a schedule
        local = _time(event).astimezone(zone)
        hours[local.hour] += 1
        weekdays[local.weekday()] += 1
    business = sum(hours[h] for h in range(10, 16)) / 6
    night = sum(hours[h] for h in range(2, 5)) / 3
    assert business > 4 * night
    weekday = sum(weekdays[d] for d in range(5)) / 5
    weekend = (weekdays[5] + weekdays[6]) / 2
    assert 0.2 < weekend / weekday < 0.5


def test_directory_shape(directory: DemoDirectory) -> None:
    orgs = directory.organizations
    by_id = {o.organization_id: o for o in orgs}
    top = [o for o in orgs if o.parent_id is None]
    assert [o.name for o in top] == ["Acme Corp", "Globex", "Initech"]
    for account in top:
        children = [o for o in orgs if o.parent_id == account.organization_id]
        assert 2 <= len(children) <= 3
    grandchildren = [
        o for o in orgs if o.parent_id is not None and by_id[o.parent_id].parent_id is not None
    ]
    assert len(grandchildren) == 1
    for org in orgs:
        users = [u for u in directory.users if u.organization_id == org.organization_id]
        agents = [a for a in directory.agents if a.organization_id == org.organization_id]
        assert 8 <= len(users) <= 25
        assert 1 <= len(agents) <= 3
    user_ids = [u.user_id for u in directory.users]
    emails = [u.email for u in directory.users]
    assert len(set(user_ids)) == len(user_ids)
    assert len(set(emails)) == len(emails)
    assert user_ids[0] == "usr_0001"
    assert directory.agents[0].agent_id == "agt_0001"
    assert all("@" in e and e.endswith(".example") for e in emails)


def test_estimate_is_close() -> None:
    actual = sum(1 for _ in demo_events(NOW, seed=11, days=DAYS, scale=0.2))
    estimate = estimate_event_count(days=DAYS, scale=0.2)
    assert abs(estimate - actual) <= 0.15 * actual


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        demo_events(datetime(2026, 5, 1), days=10)
    with pytest.raises(ValueError, match="days"):
        demo_events(NOW, days=0)
    with pytest.raises(ValueError, match="scale"):
        estimate_event_count(days=10, scale=-1.0)
