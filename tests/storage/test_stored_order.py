"""The order event_rows holds a commit's events in: by tenant, then time, and of equal times as
they arrived."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from usagelens.ingest.rows import build_batch
from usagelens.ingest.schemas import AnyEvent, decode_event
from usagelens.storage.duckdb.backend import DuckDBBackend

T0 = datetime(2024, 5, 1, tzinfo=UTC)


def conversation(event_id: str, tenant: str, minute: int) -> AnyEvent:
    return decode_event(
        {
            "id": event_id,
            "type": "conversation",
            "time": (T0 + timedelta(minutes=minute)).isoformat(),
            "tenant": tenant,
            "data": {
                "organization_id": "org-1",
                "agent_id": "a",
                "conversation_type": "inbound",
                "seconds": 1,
            },
        }
    )


def test_a_commit_is_stored_by_tenant_then_time_ties_as_they_arrived(tmp_path: Path) -> None:
    backend = DuckDBBackend(tmp_path / "x.duckdb")
    try:
        ids = {name: backend.create_tenant(name, "UTC", 2, None).tenant_id for name in "ba"}
        # (id, tenant, minute) as they arrive
        arriving = [
            ("b-late", "b", 9),
            ("a-5", "a", 5),
            ("b-1", "b", 1),
            ("a-tie-1", "a", 3),
            ("b-tie-1", "b", 4),
            ("a-0", "a", 0),
            ("a-tie-2", "a", 3),
            ("b-tie-2", "b", 4),
            ("a-tie-3", "a", 3),
        ]
        events = [conversation(event_id, tenant, minute) for event_id, tenant, minute in arriving]
        batch = build_batch(
            events, lambda tenant: ids[str(tenant)], datetime.now(UTC), timedelta(minutes=5)
        )
        backend.append_events([batch])
        stored = backend._rows("SELECT event_id FROM events")  # the table's own order
        in_order = {  # each tenant's, by time; equal times as they arrived
            ids["a"]: ["a-0", "a-tie-1", "a-tie-2", "a-tie-3", "a-5"],
            ids["b"]: ["b-1", "b-tie-1", "b-tie-2", "b-late"],
        }
        assert [event_id for (event_id,) in stored] == [
            event_id for tenant in sorted(in_order) for event_id in in_order[tenant]
        ]
    finally:
        backend.close()
