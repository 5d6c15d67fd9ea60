"""A write whose transaction fails stores nothing and leaves nothing behind in memory: the
directory entries and usage keys it would have created are created by the retry, even when
another write committed in between."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from tests.rollup_reference import Event, make_events, usage_block_faults, usage_key_faults
from usagelens.ingest.rows import build_batch
from usagelens.ingest.schemas import decode_event
from usagelens.storage.base import Checkpoint
from usagelens.storage.duckdb.backend import DuckDBBackend


def batch(tenant_id: int, events: list[Event]) -> pa.Table:
    validated = [decode_event(event) for event in events]
    return build_batch(validated, lambda _event: tenant_id, datetime.now(UTC), timedelta(0))


def test_a_failed_write_leaves_the_directory_to_its_retry(tmp_path: Path) -> None:
    store = DuckDBBackend(tmp_path / "u.duckdb")
    try:
        tenant = store.create_tenant("t", "UTC", 2, None).tenant_id
        first, other = make_events(5, "e", 2)
        newcomer: Event = {**first, "data": {**first["data"], "organization_id": "org-new"}}
        # The checkpoint is written last in the transaction, after the directory's rows; an
        # offset beyond BIGINT makes that last statement, and so the whole write, fail.
        unstorable = Checkpoint("fingerprint", "file.ndjson", 2**64, 1)
        with pytest.raises(duckdb.Error):
            store.append_events([batch(tenant, [newcomer])], unstorable)
        assert store.count_events(tenant) == 0
        assert store.get_organization(tenant, "org-new") is None
        [between] = store.append_events([batch(tenant, [other])])
        assert between.accepted == 1
        [retried] = store.append_events([batch(tenant, [newcomer])])
        assert retried.accepted == 1
        found = store.get_organization(tenant, "org-new")
        assert found is not None
        assert found.organization_id == "org-new"
    finally:
        store.close()


def test_a_failed_write_leaves_the_usage_keys_to_its_retry(tmp_path: Path) -> None:
    path = tmp_path / "u.duckdb"
    store = DuckDBBackend(path)
    try:
        tenant = store.create_tenant("t", "UTC", 2, None).tenant_id
        [other] = make_events(5, "e", 1)
        newcomer: Event = {
            "id": "e-new",
            "type": "api_request",
            "time": other["time"],
            "subject": "usr-new",
            "data": {"organization_id": "org-new", "count": 3},
        }
        unstorable = Checkpoint("fingerprint", "file.ndjson", 2**64, 1)  # as above
        with pytest.raises(duckdb.Error):
            store.append_events([batch(tenant, [newcomer])], unstorable)
        store.append_events([batch(tenant, [other])])
        store.append_events([batch(tenant, [newcomer])])
    finally:
        store.close()
    with duckdb.connect(str(path), read_only=True) as con:
        assert usage_key_faults(con) == []
        assert usage_block_faults(con) == []
        assert con.execute(
            "SELECT api_requests FROM rollup_usage_days WHERE user_id = 'usr-new'"
        ).fetchall() == [(3,)]
