"""Durability: an acknowledged event survives a SIGKILL of the real server one instant later.

The server runs as a subprocess on a real DuckDB file; events go over real HTTP. After each
crash the server restarts on the same file and the raw events and rollups are checked against
sums computed here, in plain Python, from the events the test generated.
"""

import random
import shutil
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import httpx
import pytest

from tests.service import Server, cli, new_key

TENANT = "acme"
TZ = "Asia/Kathmandu"

Event = dict[str, Any]
Measures = dict[str, int | Decimal]
Rollups = dict[str, dict[tuple[Any, ...], Measures]]

TYPES = (
    "conversation",
    "sms",
    "mms",
    "voice_call",
    "api_request",
    "storage",
    "phone_rental",
    "phone_purchase",
    "brand_registration",
    "knowledge_base",
    "kb_usage",
    "bot_message",
    "ticket",
)
ORGS = ("org-a", "org-b", "org-c")
USERS = ("u1", "u2", "u3", "u4", "u5")
OFFSETS = (
    UTC,
    timezone(timedelta(hours=5, minutes=45)),
    timezone(timedelta(hours=-3, minutes=-30)),
    timezone(timedelta(hours=9)),
)
# Kathmandu's March starts at 2024-02-29T18:15Z: events straddle that month boundary.
AROUND = datetime(2024, 2, 29, 18, 15, tzinfo=UTC)

USAGE_COLUMNS = (
    "sms_out_messages",
    "sms_out_segments",
    "sms_in_messages",
    "sms_in_segments",
    "mms_out_messages",
    "mms_out_segments",
    "mms_in_messages",
    "mms_in_segments",
    "voice_calls",
    "voice_seconds",
    "voice_started_minutes",
    "api_requests",
    "storage_gb_hours",
    "phone_rentals",
    "phone_purchases",
    "brand_registrations",
    "kb_count",
    "kb_minutes",
    "bot_messages",
    "tickets",
)


# events --------------------------------------------------------------------------------------


def make_event(rng: random.Random, event_id: str) -> Event:
    """One random, valid event of a random built-in type, as JSON sent over the wire."""
    kind = rng.choice(TYPES)
    moment = AROUND + timedelta(seconds=rng.randrange(-2 * 86400, 2 * 86400))
    if rng.random() < 0.3:
        moment += timedelta(microseconds=rng.randrange(1, 1_000_000))
    text = moment.astimezone(rng.choice(OFFSETS)).isoformat().replace("+00:00", "Z")
    data: dict[str, Any] = {"organization_id": rng.choice(ORGS)}
    subject: str | None = rng.choice((None, *USERS))
    if kind == "conversation":
        data |= {
            "agent_id": rng.choice(("agent-1", "agent-2")),
            "conversation_type": rng.choice(("voice", "chat")),
            "seconds": rng.randrange(0, 1800),
        }
    elif kind in ("sms", "mms"):
        data["direction"] = rng.choice(("outbound", "inbound"))
        if rng.random() < 0.7:
            data["segments"] = rng.randrange(0, 6)
    elif kind == "voice_call":
        data["direction"] = rng.choice(("outbound", "inbound"))
        data["seconds"] = rng.choice((0, 1, 59, 60, 61, 119, 120, rng.randrange(0, 4000)))
    elif kind == "api_request":
        if rng.random() < 0.7:
            data["count"] = rng.randrange(0, 500)
    elif kind == "storage":
        data["gb_hours"] = round(rng.uniform(0, 100), 3)
    elif kind in ("phone_rental", "phone_purchase"):
        data["phone_number"] = f"+1555{rng.randrange(10**6):06d}"
    elif kind == "brand_registration":
        data["brand_id"] = f"brand-{rng.randrange(5)}"
        subject = None
    elif kind == "knowledge_base":
        data["kb_id"] = f"kb-{rng.randrange(5)}"
    elif kind == "kb_usage":
        data["kb_id"] = f"kb-{rng.randrange(5)}"
        data["minutes"] = round(rng.uniform(0, 30), 2)
    elif kind == "bot_message":
        subject = rng.choice(USERS)
        if rng.random() < 0.5:
            data["channel"] = rng.choice(("teams", "slack"))
    elif kind == "ticket":
        subject = rng.choice(USERS)
        data["ticket_id"] = f"T-{rng.randrange(10**6)}"
    event: Event = {"id": event_id, "type": kind, "time": text, "data": data}
    if subject is not None:
        event["subject"] = subject
    return event


def make_events(seed: int, prefix: str, count: int) -> list[Event]:
    rng = random.Random(seed)
    return [make_event(rng, f"{prefix}-{number}") for number in range(count)]


def distinct(events: Iterable[Event]) -> dict[str, Event]:
    """Each id once, with its first occurrence."""
    first: dict[str, Event] = {}
    for event in events:
        first.setdefault(event["id"], event)
    return first


# brute-force rollups ---------------------------------------------------------------------------


def _utc(event: Event) -> datetime:
    return datetime.fromisoformat(event["time"]).astimezone(UTC)


def _bucket(moment: datetime) -> datetime:
    naive = moment.replace(tzinfo=None)
    return naive.replace(minute=naive.minute // 15 * 15, second=0, microsecond=0)


def _usage_of(event: Event) -> Measures:
    kind, data = event["type"], event["data"]
    if kind in ("sms", "mms"):
        way = "out" if data["direction"] == "outbound" else "in"
        return {f"{kind}_{way}_messages": 1, f"{kind}_{way}_segments": data.get("segments", 1)}
    if kind == "voice_call":
        seconds = data["seconds"]
        return {
            "voice_calls": 1,
            "voice_seconds": seconds,
            "voice_started_minutes": -(-seconds // 60),
        }
    single = {
        "phone_rental": "phone_rentals",
        "phone_purchase": "phone_purchases",
        "brand_registration": "brand_registrations",
        "knowledge_base": "kb_count",
        "bot_message": "bot_messages",
        "ticket": "tickets",
    }
    if kind in single:
        return {single[kind]: 1}
    if kind == "api_request":
        return {"api_requests": data.get("count", 1)}
    if kind == "storage":
        return {"storage_gb_hours": Decimal(str(data["gb_hours"]))}
    assert kind == "kb_usage"
    return {"kb_minutes": Decimal(str(data["minutes"]))}


def _add(into: Measures, values: Measures) -> None:
    for name, value in values.items():
        into[name] = into.get(name, 0) + value


def _nonzero(rows: dict[tuple[Any, ...], Measures]) -> dict[tuple[Any, ...], Measures]:
    """Keys whose measures are not all zero, zero measures left out (absent means zero)."""
    kept: dict[tuple[Any, ...], Measures] = {}
    for key, measures in rows.items():
        values = {name: value for name, value in measures.items() if value != 0}
        if values:
            kept[key] = values
    return kept


def expected_rollups(events: Iterable[Event], tz: str) -> Rollups:
    """The three rollups of the events, each counted once, aggregated by key in plain Python."""
    zone = ZoneInfo(tz)
    conversations: dict[tuple[Any, ...], Measures] = defaultdict(dict)
    usage: dict[tuple[Any, ...], Measures] = defaultdict(dict)
    months: dict[tuple[Any, ...], Measures] = defaultdict(dict)
    for event in events:
        moment = _utc(event)
        data = event["data"]
        org = data["organization_id"]
        if event["type"] == "conversation":
            key = (_bucket(moment), org, data["agent_id"], data["conversation_type"])
            _add(conversations[key], {"conversations": 1, "seconds": data["seconds"]})
            continue
        _add(usage[(_bucket(moment), org, event.get("subject") or "")], _usage_of(event))
        if event["type"] in ("bot_message", "ticket"):
            local = moment.astimezone(zone)
            name = "bot_messages" if event["type"] == "bot_message" else "tickets"
            _add(months[(date(local.year, local.month, 1), event["subject"], org)], {name: 1})
    return {
        "conversations": _nonzero(conversations),
        "usage": _nonzero(usage),
        "user_months": _nonzero(months),
    }


def stored_rollups(con: duckdb.DuckDBPyConnection, tenant_id: int) -> Rollups:
    """The rollup tables of one tenant, summed by key (rows are additive partial sums)."""

    def read(table: str, keys: tuple[str, ...], measures: tuple[str, ...]) -> Any:
        sums = ", ".join(f"sum({name})" for name in measures)
        rows = con.execute(
            f"SELECT {', '.join(keys)}, {sums} FROM {table} WHERE tenant_id = ? "
            f"GROUP BY {', '.join(keys)}",
            [tenant_id],
        ).fetchall()
        width = len(keys)
        return _nonzero(
            {tuple(row[:width]): dict(zip(measures, row[width:], strict=True)) for row in rows}
        )

    return {
        "conversations": read(
            "rollup_conversations_15m",
            ("bucket", "organization_id", "agent_id", "conversation_type"),
            ("conversations", "seconds"),
        ),
        "usage": read("rollup_usage_15m", ("bucket", "organization_id", "user_id"), USAGE_COLUMNS),
        "user_months": read(
            "rollup_user_months",
            ("month", "user_id", "organization_id"),
            ("bot_messages", "tickets"),
        ),
    }


@dataclass
class Stored:
    ids: list[str]
    rollups: Rollups
    tz: str


def read_database(db: Path) -> Stored:
    """Open the file after the server stopped and read the tenant's raw ids and rollups."""
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute("SELECT tenant_id, tz FROM tenants WHERE name = ?", [TENANT]).fetchone()
        assert row is not None
        tenant_id, tz = int(row[0]), str(row[1])
        ids = [
            str(found[0])
            for found in con.execute(
                "SELECT event_id FROM events WHERE tenant_id = ?", [tenant_id]
            ).fetchall()
        ]
        return Stored(ids, stored_rollups(con, tenant_id), tz)


def assert_stored_exactly(db: Path, events: dict[str, Event]) -> None:
    stored = read_database(db)
    assert stored.tz == TZ
    assert len(stored.ids) == len(set(stored.ids)), "an event id is stored more than once"
    assert sorted(stored.ids) == sorted(events)
    expected = expected_rollups(events.values(), TZ)
    for table in ("conversations", "usage", "user_months"):
        assert stored.rollups[table] == expected[table], table


# fixtures --------------------------------------------------------------------------------------


@dataclass
class Setup:
    db: Path
    key: str


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    """A file with tenant `acme` and its key, made once with the real CLI."""
    db = tmp_path_factory.mktemp("durability-template") / "template.duckdb"
    cli("tenants", "create", TENANT, "--tz", TZ, db=db)
    key = new_key(db, "--tenant", TENANT)
    return Setup(db, key)


@pytest.fixture
def setup(template: Setup, tmp_path: Path) -> Setup:
    db = tmp_path / "usagelens.duckdb"
    shutil.copyfile(template.db, db)
    return Setup(db, template.key)


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """Every server a test starts, stopped at the end even when the test fails."""
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


def start(servers: list[Server], db: Path) -> Server:
    server = Server(db).start()
    servers.append(server)
    return server


def client(server: Server, key: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"X-API-Key": key}, timeout=60)


def post(http: httpx.Client, events: list[Event]) -> dict[str, int]:
    response = http.post("/v1/events", json=events)
    assert response.status_code == 200, response.text
    answer: dict[str, int] = response.json()
    return answer


# tests -----------------------------------------------------------------------------------------


def test_acknowledged_events_survive_sigkill_right_after_the_ack(
    setup: Setup, servers: list[Server]
) -> None:
    pool = iter(make_events(seed=1, prefix="seq", count=2001))
    rng = random.Random(2)
    seen: set[str] = set()
    sent: list[Event] = []
    # Two crash rounds. Later batches re-send ids of earlier ones (also from before the crash,
    # when only the file can know them) and repeat ids inside a batch; the last request of
    # the second round is a single CloudEvent object, the smallest possible commit.
    for round_number in range(2):
        server = start(servers, setup.db)
        with client(server, setup.key) as http:
            for batch_number in range(3):
                last = batch_number == 2
                body: Event | list[Event]
                if last and round_number == 1:
                    batch = [next(pool)]
                    body = batch[0]
                else:
                    fresh = [next(pool) for _ in range(400)]
                    batch = fresh + rng.sample(sent, min(len(sent), 150)) + fresh[:20]
                    rng.shuffle(batch)
                    body = batch
                new_ids = {event["id"] for event in batch} - seen
                response = http.post("/v1/events", json=body)
                if last:
                    server.kill()  # SIGKILL the instant the last 2xx is in
                assert response.status_code == 200, response.text
                expected = {"accepted": len(new_ids), "duplicates": len(batch) - len(new_ids)}
                assert response.json() == expected
                seen |= new_ids
                sent.extend(batch)
        assert server.process is None, f"round {round_number} did not end in a crash"

    server = start(servers, setup.db)
    everything = distinct(sent)
    assert set(everything) == seen
    with client(server, setup.key) as http:
        assert post(http, list(everything.values())) == {
            "accepted": 0,
            "duplicates": len(everything),
        }
    server.stop()
    assert_stored_exactly(setup.db, everything)


@dataclass
class Outcome:
    """What each client thread saw of its batches."""

    acknowledged: list[int] = field(default_factory=list)
    unanswered: list[int] = field(default_factory=list)
    answers: dict[int, dict[str, int]] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)


def test_sigkill_in_the_middle_of_concurrent_ingest(setup: Setup, servers: list[Server]) -> None:
    threads, batches_per_thread, batch_size = 4, 40, 100
    events = make_events(seed=3, prefix="conc", count=threads * batches_per_thread * batch_size)
    batches = [events[start : start + batch_size] for start in range(0, len(events), batch_size)]
    server = start(servers, setup.db)
    outcomes = [Outcome() for _ in range(threads)]
    acknowledged = threading.Semaphore(0)

    def run(worker: int) -> None:
        outcome = outcomes[worker]
        with client(server, setup.key) as http:
            for number in range(worker, len(batches), threads):
                try:
                    response = http.post("/v1/events", json=batches[number])
                except httpx.HTTPError:
                    outcome.unanswered.append(number)
                    return
                if response.status_code != 200:
                    outcome.unexpected.append(f"{response.status_code} {response.text}")
                    return
                outcome.acknowledged.append(number)
                outcome.answers[number] = response.json()
                acknowledged.release()

    workers = [threading.Thread(target=run, args=(worker,)) for worker in range(threads)]
    for worker in workers:
        worker.start()
    for _ in range(20):  # crash once 20 batches are acknowledged, with requests in flight
        assert acknowledged.acquire(timeout=60), "the server stopped acknowledging"
    server.kill()
    for worker in workers:
        worker.join(timeout=60)
        assert not worker.is_alive()

    done = [number for outcome in outcomes for number in outcome.acknowledged]
    lost = [number for outcome in outcomes for number in outcome.unanswered]
    assert [text for outcome in outcomes for text in outcome.unexpected] == []
    assert len(done) >= 20
    assert len(done) < len(batches), "the crash came after everything was sent"
    for outcome in outcomes:
        for number, answer in outcome.answers.items():
            assert answer == {"accepted": batch_size, "duplicates": 0}, number

    server = start(servers, setup.db)
    with client(server, setup.key) as http:
        for number in done:
            assert post(http, batches[number]) == {"accepted": 0, "duplicates": batch_size}
        # A request that got no answer is all or nothing: stored whole, or not at all.
        for number in lost:
            answer = post(http, batches[number])
            assert answer in (
                {"accepted": 0, "duplicates": batch_size},
                {"accepted": batch_size, "duplicates": 0},
            ), (number, answer)
    server.stop()
    sent = [number for number in range(len(batches)) if number in set(done) | set(lost)]
    assert_stored_exactly(setup.db, distinct(e for number in sent for e in batches[number]))
