"""Versioned schema migrations of the DuckDB file.

Each migration runs once, in order, inside one transaction with the bump of
``schema_version``, so a file written by any older release opens and is brought up to date.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from usagelens.storage.duckdb.usage_keys import place_keys
from usagelens.storage.event_ids import (
    CROCKFORD,
    SQL_MACROS,
    SQL_MILLIS,
    TIME_SHIFT,
    ULID,
    ULID_PATTERN,
    UUID,
    UUID_PATTERN,
)


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: Sequence[str]


# The per-user usage rollups' measures (versions 1 and 5 lay them out alike).
_USAGE_MEASURES = """
    sms_out_messages BIGINT NOT NULL, sms_out_segments BIGINT NOT NULL,
    sms_in_messages BIGINT NOT NULL, sms_in_segments BIGINT NOT NULL,
    mms_out_messages BIGINT NOT NULL, mms_out_segments BIGINT NOT NULL,
    mms_in_messages BIGINT NOT NULL, mms_in_segments BIGINT NOT NULL,
    voice_calls BIGINT NOT NULL, voice_seconds BIGINT NOT NULL,
    voice_started_minutes BIGINT NOT NULL, api_requests BIGINT NOT NULL,
    storage_gb_hours DECIMAL(38, 6) NOT NULL, phone_rentals BIGINT NOT NULL,
    phone_purchases BIGINT NOT NULL, brand_registrations BIGINT NOT NULL,
    kb_count BIGINT NOT NULL, kb_minutes DECIMAL(38, 6) NOT NULL,
    bot_messages BIGINT NOT NULL, tickets BIGINT NOT NULL
"""

_CONVERSATIONS_COLUMNS = """
    tenant_id INTEGER NOT NULL, bucket TIMESTAMP NOT NULL, organization_id VARCHAR NOT NULL,
    agent_id VARCHAR NOT NULL, conversation_type VARCHAR NOT NULL,
    conversations BIGINT NOT NULL, seconds BIGINT NOT NULL
"""
_USAGE_DAYS_COLUMNS = f"""
    tenant_id INTEGER NOT NULL, day DATE NOT NULL, organization_id VARCHAR NOT NULL,
    user_id VARCHAR NOT NULL, {_USAGE_MEASURES}
"""
_USER_MONTHS_COLUMNS = """
    tenant_id INTEGER NOT NULL, month DATE NOT NULL, user_id VARCHAR NOT NULL,
    organization_id VARCHAR NOT NULL, bot_messages BIGINT NOT NULL, tickets BIGINT NOT NULL
"""


def _in_runs(rollup: str, columns: str) -> tuple[str, ...]:
    """The rollup's rows so far become its new rows (the next compaction sorts them into runs);
    readers keep its name, now a view of both tables."""
    return (
        f"ALTER TABLE {rollup} RENAME TO {rollup}_new",
        f"CREATE TABLE {rollup}_runs ({columns})",
        f"CREATE VIEW {rollup} AS SELECT * FROM {rollup}_runs UNION ALL SELECT * FROM {rollup}_new",
    )


def _keyed(table: str, order: str = "") -> tuple[str, ...]:
    """The per-day usage rows of ``table`` copied into a table of that name with the
    usage_key of their (tenant, organization, user), which must all be in usage_keys."""
    return (
        f"ALTER TABLE {table} RENAME TO rollup_usage_days_unkeyed",
        f"CREATE TABLE {table} ({_USAGE_DAYS_COLUMNS}, usage_key INTEGER NOT NULL)",
        f"""
        INSERT INTO {table} BY NAME
        SELECT r.*, k.usage_key
        FROM rollup_usage_days_unkeyed r
            JOIN usage_keys k USING (tenant_id, organization_id, user_id)
        {order}
        """,
        "DROP TABLE rollup_usage_days_unkeyed",
    )


# The raw events' columns after their id (version 1 laid them out; version 12 kept them).
_EVENT_COLUMNS_AFTER_ID = """
    type VARCHAR NOT NULL,
    time TIMESTAMP NOT NULL,
    subject VARCHAR,
    organization_id VARCHAR NOT NULL,
    agent_id VARCHAR,
    conversation_type VARCHAR,
    direction VARCHAR,
    channel VARCHAR,
    phone_number VARCHAR,
    brand_id VARCHAR,
    kb_id VARCHAR,
    ticket_id VARCHAR,
    url VARCHAR,
    seconds BIGINT,
    segments BIGINT,
    requests BIGINT,
    gb_hours DECIMAL(18, 6),
    minutes DECIMAL(18, 6),
    source VARCHAR,
    user_name VARCHAR,
    user_email VARCHAR,
    organization_name VARCHAR,
    agent_name VARCHAR
"""

# What the MAU page lists of a ticket, copied from its event at ingest.
TICKET_EVENT_FIELDS = (
    "tenant_id",
    "time",
    "event_id",
    "ticket_id",
    "url",
    "subject",
    "organization_id",
)
TICKET_EVENTS_COLUMNS = """
    tenant_id INTEGER NOT NULL,
    time TIMESTAMP NOT NULL,
    event_id VARCHAR NOT NULL,
    ticket_id VARCHAR,
    url VARCHAR,
    subject VARCHAR,
    organization_id VARCHAR
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "tenants, keys, directory, raw events and rollups",
        (
            """
            CREATE TABLE tenants (
                tenant_id INTEGER PRIMARY KEY,
                name VARCHAR NOT NULL UNIQUE,
                tz VARCHAR NOT NULL,
                mau_min_messages INTEGER NOT NULL,
                entra_tenant_id VARCHAR UNIQUE,
                created_at TIMESTAMP NOT NULL
            )
            """,
            """
            CREATE TABLE api_keys (
                key_id VARCHAR PRIMARY KEY,
                tenant_id INTEGER,
                kind VARCHAR NOT NULL,
                env VARCHAR NOT NULL,
                key_hash VARCHAR NOT NULL UNIQUE,
                hint VARCHAR NOT NULL,
                created_at TIMESTAMP NOT NULL,
                revoked_at TIMESTAMP
            )
            """,
            # Directory entities hold what was set explicitly (PUT); names and emails that
            # events carry are appended to directory_names and resolved when read.
            """
            CREATE TABLE organizations (
                tenant_id INTEGER NOT NULL,
                organization_id VARCHAR NOT NULL,
                name VARCHAR,
                parent_id VARCHAR,
                created_at TIMESTAMP NOT NULL,
                PRIMARY KEY (tenant_id, organization_id)
            )
            """,
            """
            CREATE TABLE users (
                tenant_id INTEGER NOT NULL,
                user_id VARCHAR NOT NULL,
                name VARCHAR,
                email VARCHAR,
                organization_id VARCHAR NOT NULL,
                created_at TIMESTAMP NOT NULL,
                PRIMARY KEY (tenant_id, user_id)
            )
            """,
            """
            CREATE TABLE agents (
                tenant_id INTEGER NOT NULL,
                agent_id VARCHAR NOT NULL,
                name VARCHAR,
                organization_id VARCHAR NOT NULL,
                created_at TIMESTAMP NOT NULL,
                PRIMARY KEY (tenant_id, agent_id)
            )
            """,
            """
            CREATE TABLE directory_names (
                tenant_id INTEGER NOT NULL,
                kind VARCHAR NOT NULL,
                entity_id VARCHAR NOT NULL,
                field VARCHAR NOT NULL,
                value VARCHAR NOT NULL,
                time TIMESTAMP NOT NULL,
                seq BIGINT NOT NULL
            )
            """,
            # No primary key: forever-exact dedupe is done by the backend's id index, because a
            # DuckDB unique index over every id slows ingest down as the table grows.
            f"""
            CREATE TABLE events (
                tenant_id INTEGER NOT NULL,
                id_hash UBIGINT NOT NULL,
                event_id VARCHAR NOT NULL,
                {_EVENT_COLUMNS_AFTER_ID}
            )
            """,
            # Rollups hold additive partial sums: every ingest appends its own rows, readers
            # always SUM by key, so no index has to be kept up to date at ingest.
            f"CREATE TABLE rollup_conversations_15m ({_CONVERSATIONS_COLUMNS})",
            f"""
            CREATE TABLE rollup_usage_15m (
                tenant_id INTEGER NOT NULL,
                bucket TIMESTAMP NOT NULL,
                organization_id VARCHAR NOT NULL,
                user_id VARCHAR NOT NULL,
                {_USAGE_MEASURES}
            )
            """,
            f"CREATE TABLE rollup_user_months ({_USER_MONTHS_COLUMNS})",
        ),
    ),
    Migration(
        2,
        "checkpoints of bulk file ingest, so an interrupted load resumes where it stopped",
        (
            """
            CREATE TABLE ingest_checkpoints (
                fingerprint VARCHAR PRIMARY KEY,
                path VARCHAR NOT NULL,
                offset_bytes BIGINT NOT NULL,
                events_seen BIGINT NOT NULL,
                updated_at TIMESTAMP NOT NULL
            )
            """,
        ),
    ),
)

MIGRATIONS += (
    Migration(
        3,
        "secrets the service generates for itself (signing pagination cursors)",
        (
            """
            CREATE TABLE service_secrets (
                name VARCHAR PRIMARY KEY,
                secret BLOB NOT NULL,
                created_at TIMESTAMP NOT NULL
            )
            """,
        ),
    ),
)

MIGRATIONS += (
    Migration(
        4,
        "rate cards: effective-dated versions per tenant, the card as JSON (decimals as strings)",
        (
            """
            CREATE TABLE rate_cards (
                tenant_id INTEGER NOT NULL,
                effective_from DATE NOT NULL,
                card VARCHAR NOT NULL,
                created_at TIMESTAMP NOT NULL,
                PRIMARY KEY (tenant_id, effective_from)
            )
            """,
        ),
    ),
)

MIGRATIONS += (
    Migration(
        5,
        "per-user usage by date of the tenant's zone instead of by 15 minutes, filled by a "
        "rebuild from the raw events at the next open (a pending_rebuilds row asks for it)",
        (
            f"CREATE TABLE rollup_usage_days ({_USAGE_DAYS_COLUMNS})",
            "DROP TABLE rollup_usage_15m",
            # Durable, so that a process stopped before the rebuild finished asks again.
            "CREATE TABLE pending_rebuilds (reason VARCHAR NOT NULL)",
            "INSERT INTO pending_rebuilds VALUES ('rollup_usage_days is new')",
        ),
    ),
)

MIGRATIONS += (
    Migration(
        6,
        "rollups as sorted runs plus the rows appended since the last compaction, read as one "
        "view by the rollup's name",
        (
            *_in_runs("rollup_conversations_15m", _CONVERSATIONS_COLUMNS),
            *_in_runs("rollup_usage_days", _USAGE_DAYS_COLUMNS),
            *_in_runs("rollup_user_months", _USER_MONTHS_COLUMNS),
        ),
    ),
)

MIGRATIONS += (
    Migration(
        7,
        "an integer key per (tenant, organization, user) in the per-day usage rollup's runs: "
        "the engine groups by it about three times as fast as by the two strings",
        (
            """
            CREATE TABLE usage_keys (
                tenant_id INTEGER NOT NULL,
                usage_key INTEGER NOT NULL,
                organization_id VARCHAR NOT NULL,
                user_id VARCHAR NOT NULL
            )
            """,
            """
            INSERT INTO usage_keys
            SELECT tenant_id,
                (row_number() OVER (PARTITION BY tenant_id ORDER BY organization_id, user_id))
                    ::INTEGER,
                organization_id, user_id
            FROM (SELECT DISTINCT tenant_id, organization_id, user_id FROM rollup_usage_days_runs)
            """,
            "DROP VIEW rollup_usage_days",
            *_keyed(
                "rollup_usage_days_runs",
                "ORDER BY r.tenant_id, r.day, r.organization_id, r.user_id",
            ),
            """
            CREATE VIEW rollup_usage_days AS
            SELECT * EXCLUDE (usage_key) FROM rollup_usage_days_runs
            UNION ALL SELECT * FROM rollup_usage_days_new
            """,
        ),
    ),
)

MIGRATIONS += (
    Migration(
        8,
        "ticket events also in a table of their own: at 100M events there are 71 thousand, "
        "and finding a month's among all the events took a scan of the whole table",
        (
            f"CREATE TABLE ticket_events ({TICKET_EVENTS_COLUMNS})",
            f"""
            INSERT INTO ticket_events
            SELECT {", ".join(TICKET_EVENT_FIELDS)} FROM events WHERE type = 'ticket'
            ORDER BY tenant_id, time
            """,
        ),
    ),
)

MIGRATIONS += (
    Migration(
        9,
        "new rows of the per-day usage rollup keyed at ingest, as its runs are: at 100M events, "
        "its organizations query took 306-333 ms with 249,380 new rows grouped by two strings, "
        "199-255 with them keyed",
        (
            """
            INSERT INTO usage_keys
            SELECT n.tenant_id,
                (coalesce(top.usage_key, 0) + row_number() OVER (
                    PARTITION BY n.tenant_id ORDER BY n.organization_id, n.user_id
                ))::INTEGER,
                n.organization_id, n.user_id
            FROM (
                SELECT DISTINCT tenant_id, organization_id, user_id FROM rollup_usage_days_new
            ) n
                ANTI JOIN usage_keys k USING (tenant_id, organization_id, user_id)
                LEFT JOIN (
                    SELECT tenant_id, max(usage_key) AS usage_key FROM usage_keys GROUP BY ALL
                ) top USING (tenant_id)
            """,
            "DROP VIEW rollup_usage_days",
            *_keyed("rollup_usage_days_new"),
            """
            CREATE VIEW rollup_usage_days AS
            SELECT * EXCLUDE (usage_key) FROM rollup_usage_days_runs
            UNION ALL SELECT * EXCLUDE (usage_key) FROM rollup_usage_days_new
            """,
        ),
    ),
)

MIGRATIONS += (
    Migration(
        10,
        "each user's bot messages of a month over the runs of the per-user month rollup, one row "
        "per (tenant, month, user): at 100M events, the MAU trend of six months took about 30 ms "
        "summing the runs' rows, about 12 counting these and adding the new rows' users",
        (
            """
            CREATE TABLE user_month_totals (
                tenant_id INTEGER NOT NULL,
                month DATE NOT NULL,
                user_id VARCHAR NOT NULL,
                bot_messages BIGINT NOT NULL
            )
            """,
            """
            INSERT INTO user_month_totals
            SELECT tenant_id, month, user_id, sum(bot_messages)
            FROM rollup_user_months_runs
            GROUP BY tenant_id, month, user_id
            HAVING sum(bot_messages) > 0
            ORDER BY tenant_id, month, user_id
            """,
        ),
    ),
)

MIGRATIONS += (
    Migration(
        11,
        "conversations per (tenant, hour, organization), summed from the 15-minute rollup's "
        "runs: at 100M events, the bench's usage by day of one account read 963,466 rows of "
        "the 15-minute runs in 25 ms, 330,838 of these in 14",
        (
            """
            CREATE TABLE rollup_organization_hours (
                tenant_id INTEGER NOT NULL,
                bucket TIMESTAMP NOT NULL,
                organization_id VARCHAR NOT NULL,
                conversations BIGINT NOT NULL,
                seconds BIGINT NOT NULL
            )
            """,
            """
            INSERT INTO rollup_organization_hours
            SELECT tenant_id, time_bucket(INTERVAL 1 HOUR, bucket), organization_id,
                sum(conversations), sum(seconds)
            FROM rollup_conversations_15m_runs
            GROUP BY ALL
            ORDER BY ALL
            """,
        ),
    ),
)

# The events table of version 11 read back as it was, over event_rows: ids in full.
_EVENTS_VIEW = """
    CREATE VIEW events AS
    SELECT tenant_id, id_hash,
        event_id_text(id_text, id_form, id_high, id_hash, time) AS event_id,
        * EXCLUDE (tenant_id, id_hash, id_text, id_form, id_high)
    FROM event_rows
"""
# What the rewrite of version 12 reads of a stored id; the service computes the same in Python
# (storage.event_ids) for the events it receives.
_PARSE_MACROS = {
    "ulid_value": f"""(text) AS list_reduce(
        list_transform(split(text, ''),
                       lambda c: (instr('{CROCKFORD}', c) - 1)::UHUGEINT),
        lambda a, b: a * 32 + b)""",
    "id_form_of": f"""(text) AS CASE
        WHEN regexp_matches(text, '{ULID_PATTERN}') THEN {ULID}
        WHEN regexp_matches(text, '{UUID_PATTERN}') THEN {UUID} END""",
    # Each id parsed once, then split into halves: parsing it once per half, 5 million of the
    # bench's ids took 12.2-13.0 s instead of 6.5-6.7.
    "id_value_of": f"""(text, form) AS CASE form
        WHEN {ULID} THEN ulid_value(text)
        WHEN {UUID} THEN ('0x' || replace(text, '-', ''))::UHUGEINT END""",
    # event_id_high's inverse: the difference taken modulo 2**64, as a signed 64-bit number.
    "id_difference": f"""(high, time) AS (
        ((high::HUGEINT - ({SQL_MILLIS}::HUGEINT << {TIME_SHIFT}) + {1 << 63}::HUGEINT)
            & {(1 << 64) - 1}::HUGEINT) - {1 << 63}::HUGEINT)::BIGINT""",
}

MIGRATIONS += (
    Migration(
        12,
        "ids written as canonical ULIDs or UUIDs kept as two 64-bit integers (the hash and the "
        "high half less the event's time) instead of text and hash: at 100M events, 27.0 bytes "
        "per event became 10.2. The raw events move to event_rows; events is a view of them "
        "that shows every id's text",
        (
            *SQL_MACROS,
            *(
                f"CREATE TEMP MACRO {name}{definition}"
                for name, definition in _PARSE_MACROS.items()
            ),
            f"""
            CREATE TABLE event_rows (
                tenant_id INTEGER NOT NULL,
                id_hash UBIGINT NOT NULL,
                id_form UTINYINT,
                id_high BIGINT,
                id_text VARCHAR,
                {_EVENT_COLUMNS_AFTER_ID}
            )
            """,
            f"""
            INSERT INTO event_rows BY NAME
            SELECT * EXCLUDE (event_id, id_hash, value, high, low),
                CASE WHEN id_form IS NULL THEN event_id END AS id_text,
                id_difference(high, time) AS id_high,
                CASE WHEN id_form IS NULL THEN id_hash
                     ELSE xor(low, event_id_mix(high)) END AS id_hash
            FROM (
                SELECT *, (value >> 64::UHUGEINT)::UBIGINT AS high,
                    (value & {(1 << 64) - 1}::UHUGEINT)::UBIGINT AS low
                FROM (
                    SELECT *, id_value_of(event_id, id_form) AS value
                    FROM (SELECT *, id_form_of(event_id)::UTINYINT AS id_form FROM events)
                )
            )
            """,
            "DROP TABLE events",
            _EVENTS_VIEW,
            *(f"DROP MACRO temp.{name}" for name in _PARSE_MACROS),
        ),
    ),
)

MIGRATIONS += (
    Migration(
        13,
        "the per-day usage rollup's runs without user_id, which their usage_key stands for: at "
        "100M events, 3.3 bytes per event. The rollup's view names each run row's user from "
        "usage_keys",
        (
            "DROP VIEW rollup_usage_days",
            "ALTER TABLE rollup_usage_days_runs DROP COLUMN user_id",
            """
            CREATE VIEW rollup_usage_days AS
            SELECT r.* EXCLUDE (usage_key), k.user_id
            FROM rollup_usage_days_runs r JOIN usage_keys k USING (tenant_id, usage_key)
            UNION ALL BY NAME SELECT * EXCLUDE (usage_key) FROM rollup_usage_days_new
            """,
        ),
    ),
)

MIGRATIONS += (
    Migration(
        14,
        "the per-day usage rollup summed again over blocks of 8, 16 and 32 days, which a range "
        "reads instead of their days (built when the file is next opened for writing: see "
        "storage/duckdb/blocks.py)",
        (
            f"""
            CREATE TABLE rollup_usage_blocks (
                tenant_id INTEGER NOT NULL, span SMALLINT NOT NULL, day DATE NOT NULL,
                organization_id VARCHAR NOT NULL, usage_key INTEGER NOT NULL, {_USAGE_MEASURES}
            )
            """,
            """
            CREATE TABLE usage_blocks_built (
                tenant_id INTEGER NOT NULL, span SMALLINT NOT NULL, built_until DATE NOT NULL,
                PRIMARY KEY (tenant_id, span)
            )
            """,
        ),
    ),
)

MIGRATIONS += (
    Migration(
        15,
        "each usage key says whether the directory places its user elsewhere than in its "
        "organization (see storage/duckdb/usage_keys.py): at 100M events, finding those users "
        "by joining every key with the directory took about a fifth of the organizations' answer",
        (
            "ALTER TABLE usage_keys ADD COLUMN elsewhere BOOLEAN NOT NULL DEFAULT false",
            place_keys("true"),
        ),
    ),
)

MIGRATIONS += (
    Migration(
        16,
        "conversations per (tenant, hour, organization, agent), summed from the 15-minute "
        "rollup's runs, which usage questions grouped by agent read instead of those runs: at "
        "100M events, the bench's 30 days by agent took 83 ms instead of 103 by day, 127 "
        "instead of 152 by hour",
        (
            """
            CREATE TABLE rollup_agent_hours (
                tenant_id INTEGER NOT NULL,
                bucket TIMESTAMP NOT NULL,
                organization_id VARCHAR NOT NULL,
                agent_id VARCHAR NOT NULL,
                conversations BIGINT NOT NULL,
                seconds BIGINT NOT NULL
            )
            """,
            """
            INSERT INTO rollup_agent_hours
            SELECT tenant_id, time_bucket(INTERVAL 1 HOUR, bucket), organization_id, agent_id,
                sum(conversations), sum(seconds)
            FROM rollup_conversations_15m_runs
            GROUP BY ALL
            ORDER BY ALL
            """,
        ),
    ),
)

LATEST_VERSION = MIGRATIONS[-1].version


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at TIMESTAMP)"
    )
    row = con.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def migrate(con: duckdb.DuckDBPyConnection, target: int = LATEST_VERSION) -> list[int]:
    """Apply every migration above the file's version up to ``target``; return those applied."""
    applied: list[int] = []
    version = current_version(con)
    if version > LATEST_VERSION:
        raise RuntimeError(
            f"the database file has schema version {version}, newer than this release knows "
            f"({LATEST_VERSION}); upgrade usagelens"
        )
    for migration in MIGRATIONS:
        if version < migration.version <= target:
            con.execute("BEGIN TRANSACTION")
            try:
                for statement in migration.statements:
                    con.execute(statement)
                con.execute(
                    "INSERT INTO schema_version VALUES (?, now()::TIMESTAMP)", [migration.version]
                )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            applied.append(migration.version)
    return applied
