"""A reference for the storage tests: random events of every type, the rollups they must yield
computed in plain Python (independently of usagelens), and the rollups a DuckDB file holds.

Shared by the durability, concurrency and backend tests, which check the same invariant: every
stored event is counted in every rollup exactly once.
"""

import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

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
    """The three rollups of the events, each counted once, aggregated by key in plain Python,
    each user's bot messages per month over all organizations, and conversations per (UTC hour,
    organization) and per (UTC hour, organization, agent)."""
    zone = ZoneInfo(tz)
    conversations: dict[tuple[Any, ...], Measures] = defaultdict(dict)
    usage: dict[tuple[Any, ...], Measures] = defaultdict(dict)
    months: dict[tuple[Any, ...], Measures] = defaultdict(dict)
    user_totals: dict[tuple[Any, ...], Measures] = defaultdict(dict)
    hours: dict[tuple[Any, ...], Measures] = defaultdict(dict)
    agent_hours: dict[tuple[Any, ...], Measures] = defaultdict(dict)
    for event in events:
        moment = _utc(event)
        data = event["data"]
        org = data["organization_id"]
        if event["type"] == "conversation":
            key = (_bucket(moment), org, data["agent_id"], data["conversation_type"])
            _add(conversations[key], {"conversations": 1, "seconds": data["seconds"]})
            hour = moment.replace(minute=0, second=0, microsecond=0, tzinfo=None)
            _add(hours[(hour, org)], {"conversations": 1, "seconds": data["seconds"]})
            agent_hour = (hour, org, data["agent_id"])
            _add(agent_hours[agent_hour], {"conversations": 1, "seconds": data["seconds"]})
            continue
        day = moment.astimezone(zone).date()
        _add(usage[(day, org, event.get("subject") or "")], _usage_of(event))
        if event["type"] in ("bot_message", "ticket"):
            local = moment.astimezone(zone)
            name = "bot_messages" if event["type"] == "bot_message" else "tickets"
            month = date(local.year, local.month, 1)
            _add(months[(month, event["subject"], org)], {name: 1})
            if name == "bot_messages":
                _add(user_totals[(month, event["subject"])], {name: 1})
    return {
        "conversations": _nonzero(conversations),
        "usage": _nonzero(usage),
        "user_months": _nonzero(months),
        "user_month_totals": _nonzero(user_totals),
        "organization_hours": _nonzero(hours),
        "agent_hours": _nonzero(agent_hours),
    }


def stored_rollups(con: duckdb.DuckDBPyConnection, tenant_id: int) -> Rollups:
    """The rollup tables of one tenant, summed by key (rows are additive partial sums), the
    users' month totals, and the organizations' and agents' hours."""

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
        "usage": read("rollup_usage_days", ("day", "organization_id", "user_id"), USAGE_COLUMNS),
        "user_months": read(
            "rollup_user_months",
            ("month", "user_id", "organization_id"),
            ("bot_messages", "tickets"),
        ),
        # As the MAU trend reads them: the totals as of the last compaction, plus the new rows.
        "user_month_totals": read(
            """(
                SELECT tenant_id, month, user_id, bot_messages FROM user_month_totals
                UNION ALL
                SELECT tenant_id, month, user_id, bot_messages FROM rollup_user_months_new
            )""",
            ("month", "user_id"),
            ("bot_messages",),
        ),
        # As hourly usage questions read them: the hours summed at compaction, plus the new
        # 15-minute rows.
        "organization_hours": read(
            """(
                SELECT tenant_id, bucket, organization_id, conversations, seconds
                FROM rollup_organization_hours
                UNION ALL
                SELECT tenant_id, time_bucket(INTERVAL 1 HOUR, bucket) AS bucket,
                    organization_id, conversations, seconds
                FROM rollup_conversations_15m_new
            )""",
            ("bucket", "organization_id"),
            ("conversations", "seconds"),
        ),
        "agent_hours": read(
            """(
                SELECT tenant_id, bucket, organization_id, agent_id, conversations, seconds
                FROM rollup_agent_hours
                UNION ALL
                SELECT tenant_id, time_bucket(INTERVAL 1 HOUR, bucket) AS bucket,
                    organization_id, agent_id, conversations, seconds
                FROM rollup_conversations_15m_new
            )""",
            ("bucket", "organization_id", "agent_id"),
            ("conversations", "seconds"),
        ),
    }


def usage_key_faults(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    """What breaks the usage keys' promise: a per-day usage row whose key names another pair
    (or none; a run's row names only its organization), a pair with two keys, a key of a tenant
    given twice. None when kept."""
    return con.execute(
        """
        SELECT 'row', r.tenant_id, r.usage_key, r.organization_id, r.user_id
        FROM (
            SELECT tenant_id, usage_key, organization_id, NULL AS user_id
            FROM rollup_usage_days_runs  -- which name the user by the key alone
            UNION ALL
            SELECT tenant_id, usage_key, organization_id, user_id FROM rollup_usage_days_new
        ) r LEFT JOIN usage_keys k USING (tenant_id, usage_key)
        WHERE k.organization_id IS DISTINCT FROM r.organization_id
            OR r.user_id IS NOT NULL AND k.user_id IS DISTINCT FROM r.user_id
        UNION ALL
        SELECT 'pair', tenant_id, count(*), organization_id, user_id FROM usage_keys
        GROUP BY ALL HAVING count(*) > 1
        UNION ALL
        SELECT 'key', tenant_id, usage_key, count(*)::VARCHAR, '' FROM usage_keys
        GROUP BY ALL HAVING count(*) > 1
        """
    ).fetchall()


def usage_block_faults(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    """What breaks the usage blocks' promise: a built block whose sums per key differ from
    those of the runs' rows of its days (in sum or in keys), or a block row of days not built
    yet. None when kept."""
    measures = ", ".join(f"sum({column}) AS {column}" for column in USAGE_COLUMNS)
    return con.execute(
        f"""
        WITH built AS (SELECT tenant_id, span, built_until FROM usage_blocks_built),
        of_runs AS (
            SELECT r.tenant_id, b.span,
                DATE '1970-01-01' + (((r.day - DATE '1970-01-01') // b.span) * b.span)::INTEGER
                    AS day,
                r.organization_id, r.usage_key, {measures}
            FROM rollup_usage_days_runs r JOIN built b USING (tenant_id)
            WHERE r.day < b.built_until
            GROUP BY ALL
        ),
        of_blocks AS (
            SELECT tenant_id, span, day, organization_id, usage_key, {measures}
            FROM rollup_usage_blocks GROUP BY ALL
        )
        (SELECT 'runs', * FROM of_runs EXCEPT SELECT 'runs', * FROM of_blocks)
        UNION ALL
        (SELECT 'blocks', * FROM of_blocks EXCEPT SELECT 'blocks', * FROM of_runs)
        """
    ).fetchall()


def user_month_total_faults(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    """(tenant, month, user) of the users' month totals held more than once: the MAU trend
    counts their rows. None when kept."""
    return con.execute(
        """
        SELECT tenant_id, month, user_id, count(*) FROM user_month_totals
        GROUP BY ALL HAVING count(*) > 1
        """
    ).fetchall()


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
    for table in expected:
        assert stored.rollups[table] == expected[table], table
