"""The DuckDB backend on a real file: incremental rollups equal a rebuild and a brute-force
aggregation, dedupe is exact across restarts and tenants, and the directory follows its rules.

Events are validated by the ingest models and laid out by ``build_batch`` (as the server does),
then appended to ``DuckDBBackend`` directly. Expected values are computed here in plain Python.
"""

import random
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.rollup_reference import (
    OFFSETS,
    ORGS,
    TYPES,
    USERS,
    Event,
    Rollups,
    distinct,
    expected_rollups,
    make_events,
    stored_rollups,
)
from usagelens.directory.models import Agent, DirectoryError, Organization, User
from usagelens.ingest.rows import build_batch
from usagelens.ingest.schemas import decode_event
from usagelens.storage.base import AppendResult
from usagelens.storage.duckdb.backend import DuckDBBackend

# storage helpers -------------------------------------------------------------------------------

MAX_FUTURE = timedelta(minutes=5)


def table_of(tenant_id: int, events: list[Event]) -> pa.Table:
    """The columnar batch the server would append, from validated events."""
    validated = [decode_event(event) for event in events]
    return build_batch(validated, lambda _event: tenant_id, datetime.now(UTC), MAX_FUTURE)


def append(backend: DuckDBBackend, tenant_id: int, events: list[Event]) -> AppendResult:
    [result] = backend.append_events([table_of(tenant_id, events)])
    return result


def snapshot(backend: DuckDBBackend, tenant_id: int) -> Rollups:
    """The tenant's rollups as stored, read through a second connection to the same file."""
    with duckdb.connect(str(backend.path)) as con:
        return stored_rollups(con, tenant_id)


def stored_ids(backend: DuckDBBackend, tenant_id: int) -> list[str]:
    with duckdb.connect(str(backend.path)) as con:
        rows = con.execute("SELECT event_id FROM events WHERE tenant_id = ?", [tenant_id])
        return sorted(str(row[0]) for row in rows.fetchall())


def stored_times(backend: DuckDBBackend, tenant_id: int) -> dict[str, datetime]:
    with duckdb.connect(str(backend.path)) as con:
        rows = con.execute("SELECT event_id, time FROM events WHERE tenant_id = ?", [tenant_id])
        return {str(row[0]): row[1] for row in rows.fetchall()}


@contextmanager
def opened(path: Path) -> Iterator[DuckDBBackend]:
    """A backend on the file, closed at the end. (A plain context manager, not a pytest
    fixture: a fixture in this module makes DuckDB's bindings report leaks at exit when the
    hypothesis test runs.)"""
    store = DuckDBBackend(path)
    try:
        yield store
    finally:
        store.close()


# (a) rebuild equals incremental equals brute force ---------------------------------------------

ZONES = ("Asia/Kathmandu", "America/New_York")


def _month_edges() -> list[datetime]:
    """Local midnights of the 1st of each 2024 month in both zones (New York's include the
    DST months), as UTC instants: events are drawn around them."""
    edges = []
    for name in ZONES:
        for month in range(1, 13):
            local = datetime(2024, month, 1, tzinfo=ZoneInfo(name))
            edges.append(local.astimezone(UTC))
    return edges


EDGES = _month_edges()
WHOLE = st.integers(min_value=0, max_value=10**6)
QUANTITY = st.decimals(
    min_value=0, max_value=10**6, places=6, allow_nan=False, allow_infinity=False
)


@st.composite
def event_contents(draw: st.DrawFn) -> Event:
    """An event of any built-in type without its id; times near month edges, any offset."""
    kind = draw(st.sampled_from(TYPES))
    moment = draw(st.sampled_from(EDGES)) + timedelta(
        seconds=draw(st.integers(min_value=-4 * 3600, max_value=4 * 3600)),
        microseconds=draw(st.sampled_from((0, 0, 1, 999_999))),
    )
    text = moment.astimezone(draw(st.sampled_from(OFFSETS))).isoformat()
    data: dict[str, Any] = {"organization_id": draw(st.sampled_from(ORGS))}
    subject: str | None = draw(st.sampled_from((None, *USERS)))
    if kind == "conversation":
        data |= {
            "agent_id": draw(st.sampled_from(("agent-1", "agent-2"))),
            "conversation_type": draw(st.sampled_from(("voice", "chat"))),
            "seconds": draw(WHOLE),
        }
    elif kind in ("sms", "mms"):
        data["direction"] = draw(st.sampled_from(("outbound", "inbound")))
        if draw(st.booleans()):
            data["segments"] = draw(st.integers(min_value=0, max_value=20))
    elif kind == "voice_call":
        data["direction"] = draw(st.sampled_from(("outbound", "inbound")))
        data["seconds"] = draw(st.one_of(st.sampled_from((0, 1, 59, 60, 61, 120)), WHOLE))
    elif kind == "api_request":
        if draw(st.booleans()):
            data["count"] = draw(WHOLE)
    elif kind == "storage":
        data["gb_hours"] = draw(QUANTITY)
    elif kind in ("phone_rental", "phone_purchase"):
        data["phone_number"] = draw(st.sampled_from(("+15550001", "+15550002")))
    elif kind == "brand_registration":
        data["brand_id"] = "brand-1"
        subject = None
    elif kind == "knowledge_base":
        data["kb_id"] = "kb-1"
    elif kind == "kb_usage":
        data["kb_id"] = "kb-1"
        data["minutes"] = draw(QUANTITY)
    elif kind in ("bot_message", "ticket"):
        subject = draw(st.sampled_from(USERS))
        if kind == "ticket":
            data["ticket_id"] = "T-1"
    event: Event = {"type": kind, "time": text, "data": data}
    if subject is not None:
        event["subject"] = subject
    return event


# A commit: one or more batches appended together (as the group-commit writer does); a batch:
# (id number, content) pairs, ids from a small range so that duplicates abound.
COMMITS = st.lists(
    st.lists(
        st.lists(
            st.tuples(st.integers(min_value=0, max_value=40), event_contents()),
            min_size=1,
            max_size=15,
        ),
        min_size=1,
        max_size=3,
    ),
    min_size=1,
    max_size=5,
)


@settings(
    max_examples=12,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(tz=st.sampled_from(ZONES), commits=COMMITS)
def test_rebuild_equals_incremental_equals_brute_force(
    tz: str, commits: list[list[list[tuple[int, Event]]]]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = DuckDBBackend(Path(folder) / "x.duckdb")
        try:
            tenant = store.create_tenant("t", tz, 2, None)
            sent: list[Event] = []
            for commit in commits:
                batches: list[list[Event]] = []
                expected: list[AppendResult] = []
                known = {event["id"] for event in sent}
                for pairs in commit:
                    # An id repeated inside one batch repeats its content; across batches
                    # and commits the same id may come back with other content and time.
                    contents: dict[str, Event] = {}
                    batch = [
                        {"id": f"e{number}", **contents.setdefault(f"e{number}", content)}
                        for number, content in pairs
                    ]
                    new = {event["id"] for event in batch} - known
                    known |= new
                    expected.append(AppendResult(len(new), len(batch) - len(new)))
                    batches.append(batch)
                    sent.extend(batch)
                tables = [table_of(tenant.tenant_id, batch) for batch in batches]
                assert store.append_events(tables) == expected

            first = distinct(sent)  # the first occurrence of an id is the one that counts
            assert stored_ids(store, tenant.tenant_id) == sorted(first)
            incremental = snapshot(store, tenant.tenant_id)
            assert incremental == expected_rollups(first.values(), tz)
            store.rebuild_rollups()
            assert snapshot(store, tenant.tenant_id) == incremental
        finally:
            store.close()


def test_rebuild_of_several_tenants_in_different_zones(tmp_path: Path) -> None:
    """Same events, two tenants, two zones: months differ by zone, rebuild keeps them apart."""
    store = DuckDBBackend(tmp_path / "x.duckdb")
    try:
        events = make_events(seed=5, prefix="z", count=1500)
        tenants = [store.create_tenant(name, name, 2, None) for name in ZONES]
        for tenant in tenants:
            for start in range(0, len(events), 500):
                assert append(store, tenant.tenant_id, events[start : start + 500]).accepted == 500
        before = {tenant.tz: snapshot(store, tenant.tenant_id) for tenant in tenants}
        store.rebuild_rollups()
        for tenant in tenants:
            expected = expected_rollups(events, tenant.tz)
            assert before[tenant.tz] == expected
            assert snapshot(store, tenant.tenant_id) == expected
        # The zones disagree on the month of events near the edges: the test means something.
        assert before["Asia/Kathmandu"]["user_months"] != before["America/New_York"]["user_months"]
    finally:
        store.close()


# (b) dedupe is exact across restarts and per tenant --------------------------------------------


def test_dedupe_is_exact_across_restarts_and_independent_per_tenant(tmp_path: Path) -> None:
    path = tmp_path / "x.duckdb"
    events = make_events(seed=6, prefix="d", count=400)
    store = DuckDBBackend(path)
    first = store.create_tenant("first", "America/New_York", 2, None).tenant_id
    second = store.create_tenant("second", "UTC", 2, None).tenant_id
    assert append(store, first, events[:300]) == AppendResult(300, 0)
    expected = expected_rollups(events[:300], "America/New_York")
    store.close()

    store = DuckDBBackend(path)  # a restart: only the file knows which ids were stored
    try:
        assert append(store, first, events[:300]) == AppendResult(0, 300)
        # Half old, half new: only the new ones count.
        assert append(store, first, events[200:400]) == AppendResult(100, 100)
        expected = expected_rollups(events, "America/New_York")
        # The same ids with other times (years before, minutes after) and other content.
        moved = [
            {**event, "time": "2019-06-01T00:00:00Z" if n % 2 else "2024-03-10T12:00:00-04:00"}
            for n, event in enumerate(events)
        ]
        assert append(store, first, moved) == AppendResult(0, 400)
        changed = [
            {
                "id": event["id"],
                "type": "api_request",
                "time": "2024-01-01T00:00:00Z",
                "data": {"organization_id": "org-z", "count": 7},
            }
            for event in events[::7]
        ]
        assert append(store, first, changed) == AppendResult(0, len(changed))
        # The other tenant owns the same ids independently.
        assert append(store, second, events) == AppendResult(400, 0)
        assert append(store, second, events[::3]) == AppendResult(0, len(events[::3]))
        # Two batches in one commit with the same ids: the first batch takes them.
        fresh = make_events(seed=7, prefix="d2", count=50)
        results = store.append_events(
            [table_of(first, fresh), table_of(first, fresh[25:] + fresh[:10])]
        )
        assert results == [AppendResult(50, 0), AppendResult(0, 35)]
        expected = expected_rollups([*events, *fresh], "America/New_York")
    finally:
        store.close()

    store = DuckDBBackend(path)
    try:
        assert append(store, first, [*events, *fresh]) == AppendResult(0, 450)
        assert append(store, second, events) == AppendResult(0, 400)
        ids_first = stored_ids(store, first)
        assert ids_first == sorted(event["id"] for event in [*events, *fresh])
        assert stored_ids(store, second) == sorted(event["id"] for event in events)
        assert store.count_events() == 850
        # The stored copy is the first one sent, not a later variant.
        times = stored_times(store, first)
        for event in events:
            stamp = datetime.fromisoformat(event["time"]).astimezone(UTC).replace(tzinfo=None)
            assert times[event["id"]] == stamp
        assert snapshot(store, first) == expected
        assert snapshot(store, second) == expected_rollups(events, "UTC")
        store.rebuild_rollups()
        assert snapshot(store, first) == expected
    finally:
        store.close()


def test_appends_from_several_threads_store_each_id_once(tmp_path: Path) -> None:
    """The backend takes appends from any thread (it has a write lock and per-thread cursors):
    overlapping batches appended at once still store and count each id once. (The server
    funnels appends through one writer thread; the CLI and other callers need not.)"""
    pool = make_events(seed=8, prefix="t", count=400)
    rng = random.Random(9)
    with opened(tmp_path / "x.duckdb") as store:
        tenant = store.create_tenant("t", "UTC", 2, None).tenant_id
        plans = [[rng.sample(pool, 50) for _ in range(20)] for _ in range(4)]
        tables = [[table_of(tenant, batch) for batch in plan] for plan in plans]
        results: list[AppendResult] = []
        barrier = threading.Barrier(len(plans))

        def run(own: list[pa.Table]) -> None:
            barrier.wait(timeout=60)
            for table in own:
                results.extend(store.append_events([table]))

        workers = [threading.Thread(target=run, args=(own,)) for own in tables]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=120)
        sent = distinct(event for plan in plans for batch in plan for event in batch)
        assert sum(result.accepted + result.duplicates for result in results) == 4 * 20 * 50
        stored = stored_ids(store, tenant)
        twice = sorted(event_id for event_id, count in Counter(stored).items() if count > 1)
        assert twice == [], f"{len(twice)} ids stored more than once"
        assert stored == sorted(sent)
        assert sum(result.accepted for result in results) == len(sent)
        assert snapshot(store, tenant) == expected_rollups(sent.values(), "UTC")


# (c) directory rules from events ---------------------------------------------------------------


def named_event(
    event_id: str,
    time: str,
    organization: str = "org-1",
    subject: str | None = "user-1",
    **names: str,
) -> Event:
    """A conversation event (it names an agent too) carrying the given name fields."""
    data: dict[str, Any] = {
        "organization_id": organization,
        "agent_id": "agent-1",
        "conversation_type": "voice",
        "seconds": 10,
        **names,
    }
    event: Event = {"id": event_id, "type": "conversation", "time": time, "data": data}
    if subject is not None:
        event["subject"] = subject
    return event


def test_events_create_the_directory_entries_they_name(tmp_path: Path) -> None:
    with opened(tmp_path / "x.duckdb") as backend:
        tenant = backend.create_tenant("t", "UTC", 2, None).tenant_id
        append(backend, tenant, [named_event("1", "2024-05-01T10:00:00Z")])
        assert backend.get_organization(tenant, "org-1") == Organization("org-1", None, None)
        assert backend.get_user(tenant, "user-1") == User("user-1", None, None, "org-1")
        assert backend.get_agent(tenant, "agent-1") == Agent("agent-1", None, "org-1")
        other = backend.create_tenant("other", "UTC", 2, None).tenant_id
        assert backend.get_organization(other, "org-1") is None
        assert backend.list_users(other) == []


def test_a_commit_creates_what_each_tenant_does_not_know_yet(tmp_path: Path) -> None:
    """One commit whose tenants name the same ids: the one that knows them keeps its entries,
    the other gets its own, in the organization of its own first event naming them."""
    with opened(tmp_path / "x.duckdb") as backend:
        knows = backend.create_tenant("knows", "UTC", 2, None).tenant_id
        learns = backend.create_tenant("learns", "UTC", 2, None).tenant_id
        append(backend, knows, [named_event("1", "2024-05-01T10:00:00Z", organization="org-1")])
        backend.append_events(
            [
                table_of(knows, [named_event("2", "2024-05-01T11:00:00Z", organization="org-2")]),
                table_of(
                    learns,
                    [
                        named_event("3", "2024-05-01T12:00:00Z", organization="org-3"),
                        named_event("4", "2024-05-01T09:00:00Z", organization="org-1"),
                    ],
                ),
            ]
        )
        assert backend.get_user(knows, "user-1") == User("user-1", None, None, "org-1")
        assert backend.get_agent(knows, "agent-1") == Agent("agent-1", None, "org-1")
        assert backend.get_user(learns, "user-1") == User("user-1", None, None, "org-3")
        assert backend.get_agent(learns, "agent-1") == Agent("agent-1", None, "org-3")
        assert [o.organization_id for o in backend.list_organizations(knows)] == [
            "org-1",
            "org-2",
        ]
        assert [o.organization_id for o in backend.list_organizations(learns)] == [
            "org-1",
            "org-3",
        ]


def test_latest_event_time_wins_for_names_and_emails_first_event_for_organization(
    tmp_path: Path,
) -> None:
    with opened(tmp_path / "x.duckdb") as backend:
        tenant = backend.create_tenant("t", "UTC", 2, None).tenant_id
        # One batch, newest first: for names the order within the batch does not matter, time
        # does; the organization of a user or agent is that of the first event naming them.
        result = append(
            backend,
            tenant,
            [
                named_event(
                    "2",
                    "2024-05-01T12:00:00+02:00",  # 10:00Z, the newest
                    organization="org-2",
                    organization_name="Org Two",
                    user_name="Newer",
                    user_email="new@example.com",
                    agent_name="Agent New",
                ),
                named_event(
                    "1",
                    "2024-05-01T09:00:00Z",
                    organization="org-1",
                    organization_name="Org One",
                    user_name="Older",
                    user_email="old@example.com",
                    agent_name="Agent Old",
                ),
            ],
        )
        assert result == AppendResult(2, 0)
        assert backend.get_user(tenant, "user-1") == User(
            "user-1", "Newer", "new@example.com", "org-2"
        )
        assert backend.get_agent(tenant, "agent-1") == Agent("agent-1", "Agent New", "org-2")

        # A late event (older time) changes nothing; a newer one replaces.
        append(
            backend,
            tenant,
            [
                named_event(
                    "3",
                    "2024-04-30T00:00:00Z",
                    organization="org-2",
                    organization_name="Org Two Late",
                    user_name="Late",
                    user_email="late@example.com",
                    agent_name="Agent Late",
                )
            ],
        )
        assert backend.get_user(tenant, "user-1") == User(
            "user-1", "Newer", "new@example.com", "org-2"
        )
        assert backend.get_agent(tenant, "agent-1") == Agent("agent-1", "Agent New", "org-2")
        assert backend.get_organization(tenant, "org-2") == Organization("org-2", "Org Two", None)
        # A newer event without names, in another organization, changes neither their names
        # nor their organization.
        append(backend, tenant, [named_event("4", "2024-05-02T00:00:00Z", organization="org-1")])
        assert backend.get_user(tenant, "user-1") == User(
            "user-1", "Newer", "new@example.com", "org-2"
        )
        assert backend.get_agent(tenant, "agent-1") == Agent("agent-1", "Agent New", "org-2")
        append(
            backend,
            tenant,
            [named_event("5", "2024-05-03T00:00:00Z", organization_name="Org One Renamed")],
        )
        assert backend.get_organization(tenant, "org-1") == Organization(
            "org-1", "Org One Renamed", None
        )
        # A duplicate id with newer names is a duplicate: it changes nothing either.
        append(
            backend,
            tenant,
            [named_event("5", "2024-06-01T00:00:00Z", organization_name="Dup", user_name="Dup")],
        )
        assert backend.get_organization(tenant, "org-1") == Organization(
            "org-1", "Org One Renamed", None
        )
        assert backend.get_user(tenant, "user-1") == User(
            "user-1", "Newer", "new@example.com", "org-2"
        )


def test_explicit_upserts_win_over_event_fields(tmp_path: Path) -> None:
    with opened(tmp_path / "x.duckdb") as backend:
        tenant = backend.create_tenant("t", "UTC", 2, None).tenant_id
        backend.put_organization(tenant, "parent", "Parent", None)
        backend.put_organization(tenant, "org-1", "Explicit Org", "parent")
        backend.put_user(tenant, "user-1", "Explicit User", "user@example.com", "org-1")
        backend.put_agent(tenant, "agent-1", "Explicit Agent", "org-1")
        append(
            backend,
            tenant,
            [
                named_event(
                    "1",
                    "2024-05-01T00:00:00Z",
                    organization="org-2",
                    user_name="From Event",
                    user_email="event@example.com",
                    agent_name="Event Agent",
                ),
                named_event("2", "2024-05-02T00:00:00Z", organization_name="Event Org"),
            ],
        )
        assert backend.get_organization(tenant, "org-1") == Organization(
            "org-1", "Explicit Org", "parent"
        )
        assert backend.get_user(tenant, "user-1") == User(
            "user-1", "Explicit User", "user@example.com", "org-1"
        )
        assert backend.get_agent(tenant, "agent-1") == Agent("agent-1", "Explicit Agent", "org-1")
        # Events name org-2, which now exists, without a name.
        assert backend.get_organization(tenant, "org-2") == Organization("org-2", None, None)
        # An explicit upsert also replaces what events had set.
        backend.put_organization(tenant, "org-2", "Explicit Two", None)
        assert backend.get_organization(tenant, "org-2") == Organization(
            "org-2", "Explicit Two", None
        )
        assert [org.organization_id for org in backend.list_organizations(tenant)] == [
            "org-1",
            "org-2",
            "parent",
        ]


def test_user_names_follow_the_directory_of_one_organization(tmp_path: Path) -> None:
    with opened(tmp_path / "x.duckdb") as backend:
        tenant = backend.create_tenant("t", "UTC", 2, None).tenant_id
        other = backend.create_tenant("other", "UTC", 2, None).tenant_id
        for each in (tenant, other):
            backend.put_organization(each, "org-1", "One", None)
            backend.put_organization(each, "org-2", "Two", None)
        backend.put_user(tenant, "mailed", "Named Too", "mailed@example.com", "org-1")
        backend.put_user(tenant, "named", "Only Named", None, "org-1")
        backend.put_user(tenant, "bare", None, None, "org-1")
        backend.put_user(tenant, "elsewhere", "Else", None, "org-2")
        backend.put_user(other, "theirs", "Theirs", None, "org-1")
        assert backend.user_names(tenant, "org-1") == {
            "mailed": "mailed@example.com",
            "named": "Only Named",
            "bare": "bare",
        }
        assert backend.user_names(tenant, "nowhere") == {}
        # Asked again after a change, the names are those of the directory as it is now.
        backend.put_user(tenant, "elsewhere", "Else", "else@example.com", "org-1")
        backend.put_user(tenant, "named", "Renamed", None, "org-1")
        backend.put_user(tenant, "bare", None, None, "org-2")
        assert backend.user_names(tenant, "org-1") == {
            "mailed": "mailed@example.com",
            "named": "Renamed",
            "elsewhere": "else@example.com",
        }
        assert backend.user_names(tenant, "org-2") == {"bare": "bare"}
        assert backend.user_names(other, "org-1") == {"theirs": "Theirs"}


# (d) the organization tree ---------------------------------------------------------------------


def test_unknown_parent_and_cycles_are_rejected(tmp_path: Path) -> None:
    with opened(tmp_path / "x.duckdb") as backend:
        tenant = backend.create_tenant("t", "UTC", 2, None).tenant_id
        backend.put_organization(tenant, "a", "A", None)
        backend.put_organization(tenant, "b", "B", "a")
        backend.put_organization(tenant, "c", "C", "b")
        with pytest.raises(DirectoryError) as unknown:
            backend.put_organization(tenant, "d", "D", "nowhere")
        assert unknown.value.field == "parent_id"
        assert backend.get_organization(tenant, "d") is None
        for child, parent in (("a", "a"), ("a", "b"), ("a", "c"), ("b", "c")):
            with pytest.raises(DirectoryError) as cycle:
                backend.put_organization(tenant, child, "X", parent)
            assert cycle.value.field == "parent_id"
        # Nothing changed by the rejected upserts.
        assert backend.list_organizations(tenant) == [
            Organization("a", "A", None),
            Organization("b", "B", "a"),
            Organization("c", "C", "b"),
        ]
        # Re-parenting that keeps a tree is fine.
        assert backend.put_organization(tenant, "c", "C", "a") == Organization("c", "C", "a")
        # Another tenant's organizations are unknown parents here.
        other = backend.create_tenant("other", "UTC", 2, None).tenant_id
        with pytest.raises(DirectoryError):
            backend.put_organization(other, "x", "X", "a")
        with pytest.raises(DirectoryError):
            backend.put_user(other, "u", "U", None, "a")
        with pytest.raises(DirectoryError):
            backend.put_agent(other, "g", "G", "a")
        assert backend.list_organizations(other) == []
