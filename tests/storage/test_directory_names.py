"""Names that events carry are appended, and compacted now and then: compaction must never
change which name wins."""

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from usagelens.ingest.rows import build_batch
from usagelens.ingest.schemas import AnyEvent, decode_event
from usagelens.storage.duckdb.backend import DuckDBBackend

T0 = datetime(2024, 5, 1, tzinfo=UTC)


def named(
    event_id: str,
    moment: datetime,
    user: str,
    name: str,
    org_name: str,
    tenant: str | None = None,
) -> AnyEvent:
    return decode_event(
        {
            "id": event_id,
            "type": "bot_message",
            "time": moment.isoformat(),
            "subject": user,
            "data": {"organization_id": "org-1", "user_name": name, "organization_name": org_name},
            **({} if tenant is None else {"tenant": tenant}),
        }
    )


def test_compaction_keeps_every_winning_name(tmp_path: Path) -> None:
    rng = random.Random(7)
    backend = DuckDBBackend(tmp_path / "x.duckdb")
    try:
        tenant = backend.create_tenant("t", "UTC", 2, None).tenant_id
        expected: dict[str, tuple[datetime, int, str]] = {}
        arrival = 0
        for batch in range(6):
            events = []
            for n in range(40):
                user = f"u{rng.randrange(8)}"
                moment = T0 + timedelta(minutes=rng.randrange(30))  # many equal times
                name = f"name-{batch}-{n}"
                events.append(named(f"e{batch}-{n}", moment, user, name, f"org {batch}-{n}"))
                arrival += 1
                # Later event time wins; of equal times, the later arrival.
                if user not in expected or (moment, arrival) >= expected[user][:2]:
                    expected[user] = (moment, arrival, name)
            backend.append_events(
                [build_batch(events, lambda _: tenant, datetime.now(UTC), timedelta(minutes=5))]
            )
        before = backend.list_users(tenant)
        organizations_before = backend.list_organizations(tenant)
        assert {u.user_id: u.name for u in before} == {u: e[2] for u, e in expected.items()}
        with backend._write_lock, backend._transaction() as con:
            backend._compact_names(con)
        assert backend.list_users(tenant) == before
        assert backend.list_organizations(tenant) == organizations_before
        rows = backend._rows("SELECT count(*) FROM directory_names")[0][0]
        assert rows == len(expected) + 1  # one name per user, one for the organization
    finally:
        backend.close()


def test_a_rebuild_names_everyone_as_ingest_did(tmp_path: Path) -> None:
    """Each commit's events are stored by tenant and time, not as they arrived; a rebuild reads
    them back in that order and must still pick, of equal times, the later arrival."""
    rng = random.Random(11)
    backend = DuckDBBackend(tmp_path / "x.duckdb")
    try:
        ids = {name: backend.create_tenant(name, "UTC", 2, None).tenant_id for name in "tu"}
        tenants = list(ids.values())
        expected: dict[tuple[int, str], tuple[datetime, int, str]] = {}
        arrival = 0
        for batch in range(4):
            events = []
            for n in range(60):
                tenant = rng.choice("tu")  # interleaved: the stored order moves them
                user = f"u{rng.randrange(6)}"
                moment = T0 + timedelta(minutes=rng.randrange(10))  # many equal times
                name = f"name-{batch}-{n}"
                events.append(named(f"e{batch}-{n}", moment, user, name, f"o{n}", tenant))
                arrival += 1
                key = (ids[tenant], user)
                if key not in expected or (moment, arrival) >= expected[key][:2]:
                    expected[key] = (moment, arrival, name)
            batch_rows = build_batch(
                events, lambda tenant: ids[str(tenant)], datetime.now(UTC), timedelta(minutes=5)
            )
            backend.append_events([batch_rows])
        winners = {key: entry[2] for key, entry in expected.items()}

        def names() -> dict[tuple[int, str], str | None]:
            return {(t, u.user_id): u.name for t in tenants for u in backend.list_users(t)}

        assert names() == winners
        backend.rebuild_rollups()
        assert names() == winners
    finally:
        backend.close()
