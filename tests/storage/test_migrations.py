"""Versioned migrations: a file from an older schema opens and is brought up to date, rows kept;
reopening applies nothing; a file from a newer release is refused with a clear error."""

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.rollup_reference import USAGE_COLUMNS, usage_block_faults
from tests.storage.test_duckdb_backend import table_of
from usagelens.storage.base import Checkpoint
from usagelens.storage.duckdb.backend import DuckDBBackend
from usagelens.storage.duckdb.migrations import LATEST_VERSION, MIGRATIONS, migrate

CREATED = datetime(2024, 1, 2, 3, 4, 5)
EVENT_ID = "evt-from-version-1"
EVENT_HASH = 1234567890123456789


def versions(path: Path) -> list[int]:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
        return [int(row[0]) for row in rows]


def tables(path: Path) -> set[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {str(row[0]) for row in con.execute("SHOW TABLES").fetchall()}


def version_one_file(path: Path) -> None:
    """A file as release 1 left it: schema version 1 with a tenant, an event and its rollup."""
    with duckdb.connect(str(path)) as con:
        assert migrate(con, target=1) == [1]
        con.execute(
            "INSERT INTO tenants VALUES (1, 'old', 'UTC', 2, NULL, ?)",
            [CREATED],
        )
        con.execute(
            """
            INSERT INTO events (tenant_id, id_hash, event_id, type, time, organization_id,
                                requests)
            VALUES (1, ?, ?, 'api_request', ?, 'org-1', 3)
            """,
            [EVENT_HASH, EVENT_ID, CREATED],
        )
        con.execute(
            """
            INSERT INTO rollup_usage_15m BY NAME
            SELECT 1 AS tenant_id, TIMESTAMP '2024-01-02 03:00:00' AS bucket,
                   'org-1' AS organization_id, '' AS user_id,
                   0 AS sms_out_messages, 0 AS sms_out_segments, 0 AS sms_in_messages,
                   0 AS sms_in_segments, 0 AS mms_out_messages, 0 AS mms_out_segments,
                   0 AS mms_in_messages, 0 AS mms_in_segments, 0 AS voice_calls,
                   0 AS voice_seconds, 0 AS voice_started_minutes, 3 AS api_requests,
                   0 AS storage_gb_hours, 0 AS phone_rentals, 0 AS phone_purchases,
                   0 AS brand_registrations, 0 AS kb_count, 0 AS kb_minutes,
                   0 AS bot_messages, 0 AS tickets
            """
        )


def test_migrations_are_numbered_in_order() -> None:
    numbers = [migration.version for migration in MIGRATIONS]
    assert numbers == list(range(1, len(MIGRATIONS) + 1))
    assert numbers[-1] == LATEST_VERSION
    assert LATEST_VERSION >= 2, "this test needs a migration beyond version 1"


def test_a_version_1_file_opens_migrated_with_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    version_one_file(path)
    assert versions(path) == [1]
    assert "ingest_checkpoints" not in tables(path)

    backend = DuckDBBackend(path)
    try:
        tenant = backend.tenant_by_name("old")
        assert tenant is not None
        assert (tenant.tenant_id, tenant.tz, tenant.mau_min_messages) == (1, "UTC", 2)
        assert tenant.created_at == CREATED
        assert backend.count_events() == 1
        # What version 2 added works.
        assert backend.checkpoint("nothing") is None
    finally:
        backend.close()
    assert versions(path) == list(range(1, LATEST_VERSION + 1))
    assert "ingest_checkpoints" in tables(path)
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("SELECT event_id, requests FROM events").fetchall() == [(EVENT_ID, 3)]
        # Version 5 keeps usage by date: rebuilt from the raw events, nothing left pending.
        rebuilt = (
            "SELECT day, organization_id, sum(api_requests) FROM rollup_usage_days GROUP BY ALL"
        )
        assert con.execute(rebuilt).fetchall() == [(CREATED.date(), "org-1", 3)]
        assert con.execute("SELECT count(*) FROM pending_rebuilds").fetchall() == [(0,)]


def test_version_15_says_which_usage_keys_the_directory_places_elsewhere(
    tmp_path: Path,
) -> None:
    path = tmp_path / "x.duckdb"
    backend = DuckDBBackend(path)
    try:
        tenant = backend.create_tenant("t", "UTC", 2, None).tenant_id
        # One commit each: ingest places "u" where their first usage is, in "a".
        for n, (organization, user) in enumerate([("a", "u"), ("b", "v"), ("b", "u"), ("a", "")]):
            event = {
                "id": f"e{n}",
                "type": "api_request",
                "time": "2024-03-02T10:00:00Z",
                **({"subject": user} if user else {}),
                "data": {"organization_id": organization, "count": 1},
            }
            backend.append_events([table_of(tenant, [event])])
    finally:
        backend.close()
    with duckdb.connect(str(path)) as con:  # as version 14 left the file
        con.execute("ALTER TABLE usage_keys DROP COLUMN elsewhere")
        con.execute("DROP TABLE rollup_agent_hours")
        con.execute("DELETE FROM schema_version WHERE version >= 15")
    DuckDBBackend(path).close()
    with duckdb.connect(str(path), read_only=True) as con:
        keys = "SELECT organization_id, user_id, elsewhere FROM usage_keys ORDER BY ALL"
        assert con.execute(keys).fetchall() == [
            ("a", "", False),
            ("a", "u", False),
            ("b", "u", True),
            ("b", "v", False),
        ]


def test_a_rebuild_cut_short_is_done_at_the_next_open(tmp_path: Path) -> None:
    """Version 5's rebuild runs after its migration commits: a process stopped in between
    leaves the request behind, and the next open does the rebuild."""
    path = tmp_path / "old.duckdb"
    version_one_file(path)
    with duckdb.connect(str(path)) as con:
        migrate(con)  # the schema only, as if the process stopped right after
        assert con.execute("SELECT count(*) FROM rollup_usage_days").fetchall() == [(0,)]
    DuckDBBackend(path).close()
    with duckdb.connect(str(path), read_only=True) as con:
        rebuilt = "SELECT sum(api_requests) FROM rollup_usage_days"
        assert con.execute(rebuilt).fetchall() == [(3,)]
        assert con.execute("SELECT count(*) FROM pending_rebuilds").fetchall() == [(0,)]


def test_reopening_an_up_to_date_file_applies_nothing(tmp_path: Path) -> None:
    path = tmp_path / "x.duckdb"
    DuckDBBackend(path).close()
    assert versions(path) == list(range(1, LATEST_VERSION + 1))
    backend = DuckDBBackend(path)
    try:
        backend.create_tenant("t", "UTC", 2, None)
        backend.append_events([])
        checkpoint = Checkpoint("fp", "file.ndjson", 10, 1)
        backend.append_events([], checkpoint)
    finally:
        backend.close()
    DuckDBBackend(path).close()
    assert versions(path) == list(range(1, LATEST_VERSION + 1))
    with duckdb.connect(str(path)) as con:
        assert migrate(con) == []
    backend = DuckDBBackend(path)
    try:
        assert backend.tenant_by_name("t") is not None
        assert backend.checkpoint("fp") == Checkpoint("fp", "file.ndjson", 10, 1)
    finally:
        backend.close()


def test_migrating_step_by_step_applies_each_version_once(tmp_path: Path) -> None:
    path = tmp_path / "x.duckdb"
    with duckdb.connect(str(path)) as con:
        assert migrate(con, target=1) == [1]
        assert migrate(con, target=1) == []
        assert migrate(con) == list(range(2, LATEST_VERSION + 1))
        assert migrate(con) == []
    assert versions(path) == list(range(1, LATEST_VERSION + 1))


def test_a_file_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.duckdb"
    DuckDBBackend(path).close()
    newer = LATEST_VERSION + 1
    with duckdb.connect(str(path)) as con:
        con.execute("INSERT INTO schema_version VALUES (?, now()::TIMESTAMP)", [newer])
    with pytest.raises(RuntimeError, match=rf"schema version {newer}.*newer.*upgrade"):
        DuckDBBackend(path)
    # The refusal changed nothing in the file.
    assert versions(path) == [*range(1, LATEST_VERSION + 1), newer]
    with duckdb.connect(str(path)) as con, pytest.raises(RuntimeError, match="newer"):
        migrate(con)


# Every per-day usage measure but API requests, as zeros: the rows below differ by requests.
_ZEROS_BUT_REQUESTS = ", ".join(f"0 AS {c}" for c in USAGE_COLUMNS if c != "api_requests")


def insert_usage(
    con: duckdb.DuckDBPyConnection, table: str, row: tuple[int, str, str, int], **more: int
) -> None:
    """A per-day usage row of (tenant, organization, user, API requests) on CREATED's day, its
    other measures zero; ``more`` gives further columns (a usage_key)."""
    extra = "".join(f", {value} AS {name}" for name, value in more.items())
    con.execute(
        f"""
        INSERT INTO {table} BY NAME
        SELECT ? AS tenant_id, ? AS day, ? AS organization_id, ? AS user_id,
            ? AS api_requests, {_ZEROS_BUT_REQUESTS}{extra}
        """,
        [row[0], CREATED.date(), *row[1:]],
    )


def test_version_7_keys_the_runs_of_a_version_6_file(tmp_path: Path) -> None:
    """Runs written before usage keys existed get one key per (tenant, organization, user),
    and every sum read through the rollup's name is what it was."""
    path = tmp_path / "six.duckdb"
    rows = [  # (tenant, organization, user, api requests), two tenants sharing ids
        (1, "org-1", "u1", 3),
        (1, "org-1", "", 4),
        (1, "org-2", "u1", 5),
        (2, "org-1", "u1", 6),
    ]
    with duckdb.connect(str(path)) as con:
        assert migrate(con, target=6)[-1] == 6
        con.execute("DELETE FROM pending_rebuilds")  # the rollups below are the file's own
        for row in rows:
            insert_usage(con, "rollup_usage_days_runs", row)
        before = con.execute(
            "SELECT tenant_id, organization_id, user_id, sum(api_requests) "
            "FROM rollup_usage_days GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    with duckdb.connect(str(path)) as con:
        assert migrate(con, target=7) == [7]
    with duckdb.connect(str(path), read_only=True) as con:
        after = con.execute(
            "SELECT tenant_id, organization_id, user_id, sum(api_requests) "
            "FROM rollup_usage_days GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        keys = con.execute(
            "SELECT tenant_id, organization_id, user_id, usage_key FROM usage_keys ORDER BY ALL"
        ).fetchall()
        keyed = con.execute(
            "SELECT r.tenant_id, r.organization_id, r.user_id, r.usage_key "
            "FROM rollup_usage_days_runs r ORDER BY ALL"
        ).fetchall()
    assert after == before == [(t, o, u, r) for t, o, u, r in sorted(rows)]
    assert keys == [
        (1, "org-1", "", 1),
        (1, "org-1", "u1", 2),
        (1, "org-2", "u1", 3),
        (2, "org-1", "u1", 1),
    ]
    assert keyed == keys


def test_version_8_copies_the_ticket_events_of_a_version_7_file(tmp_path: Path) -> None:
    """The MAU page reads tickets from their own table: a file's tickets from before it are
    copied there, and only tickets."""
    path = tmp_path / "seven.duckdb"
    stored = [  # (tenant, event id, type, time, ticket id, url, subject, organization)
        (1, "t1", "ticket", CREATED, "T-1", "https://x/1", "u1", "org-1"),
        (2, "t2", "ticket", CREATED, "T-2", None, None, "org-2"),
        (1, "m1", "bot_message", CREATED, None, None, "u1", "org-1"),
    ]
    with duckdb.connect(str(path)) as con:
        assert migrate(con, target=7)[-1] == 7
        con.execute("DELETE FROM pending_rebuilds")
        for hash_, (tenant_id, event_id, type_, time, ticket, url, subject, org) in enumerate(
            stored
        ):
            con.execute(
                """
                INSERT INTO events (tenant_id, id_hash, event_id, type, time, ticket_id, url,
                                    subject, organization_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [tenant_id, hash_, event_id, type_, time, ticket, url, subject, org],
            )
    with duckdb.connect(str(path)) as con:
        assert migrate(con, target=8) == [8]
    with duckdb.connect(str(path), read_only=True) as con:
        copied = con.execute(
            "SELECT tenant_id, event_id, 'ticket', time, ticket_id, url, subject, "
            "organization_id FROM ticket_events ORDER BY event_id"
        ).fetchall()
    assert copied == [row for row in stored if row[2] == "ticket"]


def test_version_9_keys_the_new_rows_of_a_version_8_file(tmp_path: Path) -> None:
    """New rows of a pair already keyed in the runs take its key; those of other pairs take
    the next keys of their tenant; every sum read through the rollup's name is what it was."""
    path = tmp_path / "eight.duckdb"
    runs = [(1, "org-1", "u1", 3, 1), (1, "org-1", "u2", 4, 2), (2, "org-1", "u1", 5, 1)]
    new = [  # (tenant, organization, user, api requests)
        (1, "org-1", "u2", 6),  # keyed in the runs
        (1, "org-2", "u9", 7),
        (1, "org-0", "u8", 8),
        (2, "org-1", "u1", 9),  # keyed in the runs, for tenant 2
        (3, "org-1", "u1", 10),  # a tenant without keys so far
    ]
    with duckdb.connect(str(path)) as con:
        assert migrate(con, target=8)[-1] == 8
        con.execute("DELETE FROM pending_rebuilds")
        for tenant_id, organization_id, user_id, requests, key in runs:
            row = (tenant_id, organization_id, user_id, requests)
            insert_usage(con, "rollup_usage_days_runs", row, usage_key=key)
            con.execute(
                "INSERT INTO usage_keys VALUES (?, ?, ?, ?)",
                [tenant_id, key, organization_id, user_id],
            )
        for row in new:
            insert_usage(con, "rollup_usage_days_new", row)
        totals = "SELECT tenant_id, organization_id, user_id, sum(api_requests) "
        totals += "FROM rollup_usage_days GROUP BY ALL ORDER BY ALL"
        before = con.execute(totals).fetchall()
    with duckdb.connect(str(path)) as con:
        assert migrate(con, target=9) == [9]
    with duckdb.connect(str(path), read_only=True) as con:
        after = con.execute(totals).fetchall()
        keys = con.execute(
            "SELECT tenant_id, organization_id, user_id, usage_key FROM usage_keys ORDER BY ALL"
        ).fetchall()
        keyed = con.execute(
            "SELECT tenant_id, organization_id, user_id, usage_key, api_requests "
            "FROM rollup_usage_days_new ORDER BY ALL"
        ).fetchall()
    assert after == before
    assert after == [
        (1, "org-0", "u8", 8),
        (1, "org-1", "u1", 3),
        (1, "org-1", "u2", 4 + 6),
        (1, "org-2", "u9", 7),
        (2, "org-1", "u1", 5 + 9),
        (3, "org-1", "u1", 10),
    ]
    assert keys == [
        (1, "org-0", "u8", 3),  # after tenant 1's 2, in (organization, user) order
        (1, "org-1", "u1", 1),
        (1, "org-1", "u2", 2),
        (1, "org-2", "u9", 4),
        (2, "org-1", "u1", 1),
        (3, "org-1", "u1", 1),
    ]
    assert keyed == [
        (1, "org-0", "u8", 3, 8),
        (1, "org-1", "u2", 2, 6),
        (1, "org-2", "u9", 4, 7),
        (2, "org-1", "u1", 1, 9),
        (3, "org-1", "u1", 1, 10),
    ]


def test_version_10_totals_each_users_month_over_the_runs_of_a_version_9_file(
    tmp_path: Path,
) -> None:
    """One row per (tenant, month, user) with bot messages in the runs, summed over every run
    row and organization; the new rows are left to the readers, and users with only tickets
    have no row."""
    path = tmp_path / "nine.duckdb"
    oct1, nov1 = date(2025, 10, 1), date(2025, 11, 1)
    runs = [  # (tenant, month, user, organization, bot messages, tickets)
        (1, oct1, "u1", "org-a", 2, 0),
        (1, oct1, "u1", "org-a", 3, 1),  # a second run's row of the same key
        (1, oct1, "u1", "org-b", 4, 0),
        (1, nov1, "u1", "org-a", 1, 0),
        (1, oct1, "u2", "org-a", 0, 5),  # tickets only
        (2, oct1, "u1", "org-a", 7, 0),
    ]
    with duckdb.connect(str(path)) as con:
        assert migrate(con, target=9)[-1] == 9
        con.execute("DELETE FROM pending_rebuilds")
        for row in runs:
            con.execute("INSERT INTO rollup_user_months_runs VALUES (?, ?, ?, ?, ?, ?)", row)
        con.execute(
            "INSERT INTO rollup_user_months_new VALUES (?, ?, ?, ?, ?, ?)",
            (1, oct1, "u3", "org-a", 9, 0),
        )
    with duckdb.connect(str(path)) as con:
        assert migrate(con, target=10) == [10]
    with duckdb.connect(str(path), read_only=True) as con:
        totals = con.execute("SELECT * FROM user_month_totals ORDER BY ALL").fetchall()
    assert totals == [
        (1, oct1, "u1", 2 + 3 + 4),
        (1, nov1, "u1", 1),
        (2, oct1, "u1", 7),
    ]


TEN, ELEVEN = datetime(2025, 3, 1, 10), datetime(2025, 3, 1, 11)
CONVERSATION_RUNS = [  # (tenant, 15-minute bucket, organization, agent, type, conversations, s)
    (1, TEN, "org-a", "agent-1", "chat", 2, 30),
    (1, TEN.replace(minute=30), "org-a", "agent-1", "voice", 7, 70),
    (1, TEN.replace(minute=45), "org-a", "agent-2", "voice", 1, 100),
    (1, TEN.replace(minute=45), "org-a", "agent-2", "voice", 3, 5),  # a second run's row
    (1, TEN.replace(minute=15), "org-b", "agent-1", "chat", 4, 0),
    (1, ELEVEN, "org-a", "agent-1", "chat", 5, 50),
    (2, TEN, "org-a", "agent-1", "chat", 6, 60),
]


def migrated_over_conversation_runs(path: Path, version: int, table: str) -> list[Any]:
    """``table``, as migration ``version`` fills it over CONVERSATION_RUNS and a new row of
    the 15-minute rollup (which it must leave to the readers)."""
    with duckdb.connect(str(path)) as con:
        assert migrate(con, target=version - 1)[-1] == version - 1
        con.execute("DELETE FROM pending_rebuilds")
        for row in CONVERSATION_RUNS:
            con.execute(
                "INSERT INTO rollup_conversations_15m_runs VALUES (?, ?, ?, ?, ?, ?, ?)", row
            )
        con.execute(
            "INSERT INTO rollup_conversations_15m_new VALUES (?, ?, ?, ?, ?, ?, ?)",
            (1, TEN, "org-a", "agent-1", "chat", 9, 9),
        )
    with duckdb.connect(str(path)) as con:
        assert migrate(con, target=version) == [version]
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()


def test_version_11_sums_the_conversation_runs_per_hour_and_organization(tmp_path: Path) -> None:
    """Every run row of the 15-minute rollup counted once in its hour (agents and types summed
    together)."""
    path = tmp_path / "ten.duckdb"
    hours = migrated_over_conversation_runs(path, 11, "rollup_organization_hours")
    assert hours == [
        (1, TEN, "org-a", 2 + 7 + 1 + 3, 30 + 70 + 100 + 5),
        (1, TEN, "org-b", 4, 0),
        (1, ELEVEN, "org-a", 5, 50),
        (2, TEN, "org-a", 6, 60),
    ]


def test_version_16_sums_the_conversation_runs_per_hour_organization_and_agent(
    tmp_path: Path,
) -> None:
    """Every run row of the 15-minute rollup counted once in its hour and agent (types summed
    together)."""
    hours = migrated_over_conversation_runs(tmp_path / "fifteen.duckdb", 16, "rollup_agent_hours")
    assert hours == [
        (1, TEN, "org-a", "agent-1", 2 + 7, 30 + 70),
        (1, TEN, "org-a", "agent-2", 1 + 3, 100 + 5),
        (1, TEN, "org-b", "agent-1", 4, 0),
        (1, ELEVEN, "org-a", "agent-1", 5, 50),
        (2, TEN, "org-a", "agent-1", 6, 60),
    ]


def test_version_13_names_the_users_of_the_usage_runs_by_their_keys(tmp_path: Path) -> None:
    """The per-day usage runs lose user_id; through the rollup's name every row reads as
    before, named from usage_keys (two tenants share ids, one user is in two organizations)."""
    path = tmp_path / "twelve.duckdb"
    keys = [
        (1, 1, "org-1", "u1"),
        (1, 2, "org-1", ""),
        (1, 3, "org-2", "u1"),
        (2, 1, "org-1", "u1"),
    ]
    runs = [(1, "org-1", "u1", 3, 1), (1, "org-1", "", 4, 2), (1, "org-2", "u1", 5, 3)]
    runs += [(2, "org-1", "u1", 6, 1), (1, "org-1", "u1", 7, 1)]  # a second run's row of key 1
    new = [(1, "org-2", "u1", 8, 3), (2, "org-1", "u1", 9, 1)]
    with duckdb.connect(str(path)) as con:
        assert migrate(con, target=12)[-1] == 12
        con.execute("DELETE FROM pending_rebuilds")
        con.executemany("INSERT INTO usage_keys VALUES (?, ?, ?, ?)", keys)
        for table, rows in (("rollup_usage_days_runs", runs), ("rollup_usage_days_new", new)):
            for tenant_id, organization_id, user_id, requests, key in rows:
                row = (tenant_id, organization_id, user_id, requests)
                insert_usage(con, table, row, usage_key=key)
    with duckdb.connect(str(path)) as con:
        assert migrate(con, target=13) == [13]
    with duckdb.connect(str(path), read_only=True) as con:
        read = con.execute(
            "SELECT tenant_id, day, organization_id, user_id, api_requests "
            "FROM rollup_usage_days ORDER BY ALL"
        ).fetchall()
        columns = con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'rollup_usage_days_runs'"
        ).fetchall()
    day = CREATED.date()
    assert read == sorted((t, day, o, u, r) for t, o, u, r, _ in runs + new)
    assert ("user_id",) not in columns
    assert ("usage_key",) in columns


def test_version_14_builds_the_closed_blocks_of_the_usage_runs_at_the_open(
    tmp_path: Path,
) -> None:
    """A version-13 file's usage runs, opened for writing: every block that its tenant's latest
    day closes is built, with the sums of its days."""
    path = tmp_path / "thirteen.duckdb"
    first = date(2024, 1, 2)  # day 19,724 since 1970-01-01
    with duckdb.connect(str(path)) as con:
        assert migrate(con, target=13)[-1] == 13
        con.execute("DELETE FROM pending_rebuilds")
        con.executemany(
            "INSERT INTO usage_keys VALUES (?, ?, ?, ?)",
            [(1, 1, "org-1", "u1"), (2, 1, "org-1", "u1")],
        )
        for index in range(50):  # to 2024-02-20, day 19,773
            con.execute(
                f"""
                INSERT INTO rollup_usage_days_runs BY NAME
                SELECT 1 AS tenant_id, ? AS day, 'org-1' AS organization_id, 1 AS usage_key,
                    ? AS api_requests, {_ZEROS_BUT_REQUESTS}
                """,
                [first + timedelta(days=index), index + 1],
            )
    DuckDBBackend(path).close()
    with duckdb.connect(str(path), read_only=True) as con:
        assert usage_block_faults(con) == []
        built = con.execute(
            "SELECT tenant_id, span, built_until FROM usage_blocks_built ORDER BY ALL"
        ).fetchall()
        # 19,773 rounded down to a multiple of 8, 16 and 32: 19,768, 19,760 and 19,744.
        assert built == [
            (1, 8, date(2024, 2, 15)),
            (1, 16, date(2024, 2, 7)),
            (1, 32, date(2024, 1, 22)),
        ]
        # Days 19,712 to 19,743: the first 20 days of the runs, 1 + 2 + ... + 20 requests.
        assert con.execute(
            "SELECT sum(api_requests) FROM rollup_usage_blocks WHERE span = 32"
        ).fetchall() == [(210,)]
