"""Raw events and rollups in the DuckDB file, with exact forever dedupe."""

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from usagelens.directory.from_events import names_of
from usagelens.rollups.build import Rollups, rollups_of
from usagelens.storage.base import AppendResult, Checkpoint
from usagelens.storage.duckdb.database import utcnow
from usagelens.storage.duckdb.directory import DirectoryStore
from usagelens.storage.duckdb.tenants import TenantStore
from usagelens.storage.id_index import IdIndex

ROLLUP_TABLES = ("rollup_conversations_15m", "rollup_usage_days", "rollup_user_months")

Mask = np.ndarray[Any, np.dtype[np.bool_]]


class EventStore(DirectoryStore, TenantStore):
    def __init__(self, path: Path, read_only: bool = False) -> None:
        super().__init__(path, read_only)
        self._zones: dict[int, str] = {}  # a tenant's zone never changes
        if not read_only and self._rows("SELECT count(*) FROM pending_rebuilds")[0][0]:
            self.rebuild_rollups()
        # Only storing events needs the id index: it loads (about 1.4 s per 10 million events)
        # while reads are already answered, and the first write waits for it.
        self._index = IdIndex()
        self._index_loaded = threading.Event()
        self._index_failure: BaseException | None = None
        self._index_loader = threading.Thread(
            target=self._load_index, name="usagelens-id-index", daemon=True
        )
        self._index_loader.start()

    def _load_index(self) -> None:
        # A cursor of its own, closed here: a thread-local one would be destroyed whenever
        # the thread's state is, possibly while the connection is being closed.
        cursor = self._con.cursor()
        try:
            reader = cursor.sql(
                "SELECT tenant_id, id_hash FROM events ORDER BY tenant_id"
            ).to_arrow_reader(1_000_000)
            for batch in reader:
                self._index_hashes(pa.Table.from_batches([batch]))
        except BaseException as failure:  # reported to every writer, never swallowed
            self._index_failure = failure
        finally:
            cursor.close()
            self._index_loaded.set()

    def _wait_for_index(self) -> None:
        self._index_loaded.wait()
        if self._index_failure is not None:
            raise RuntimeError("the id index could not be loaded") from self._index_failure

    def close(self) -> None:
        self._index_loader.join()  # its cursor belongs to the connection being closed
        super().close()

    def _index_hashes(self, events: pa.Table) -> None:
        tenants = events.column("tenant_id").to_numpy()
        hashes = events.column("id_hash").to_numpy()
        for tenant in np.unique(tenants):
            self._index.add(int(tenant), hashes[tenants == tenant])

    def _stored_ids(
        self, con: duckdb.DuckDBPyConnection, tenant_id: int, candidates: pa.Table
    ) -> set[str]:
        """Which candidate ids are really stored. A retry carries its original time, so the
        cheap look-up within the candidates' time span settles nearly all; the rest are
        checked against every stored event of the tenant."""
        con.register("candidates", candidates)
        try:
            found = self._matching_ids(con, tenant_id, within_span=True)
            if len(found) < candidates.num_rows:
                found |= self._matching_ids(con, tenant_id, within_span=False)
        finally:
            con.unregister("candidates")
        return found

    @staticmethod
    def _matching_ids(
        con: duckdb.DuckDBPyConnection, tenant_id: int, within_span: bool
    ) -> set[str]:
        span = (
            "AND e.time BETWEEN (SELECT min(time) FROM candidates) "
            "AND (SELECT max(time) FROM candidates)"
            if within_span
            else ""
        )
        rows = con.execute(
            f"""
            SELECT e.event_id FROM events e SEMI JOIN candidates c
                ON e.id_hash = c.id_hash AND e.event_id = c.event_id
            WHERE e.tenant_id = $tenant {span}
            """,
            {"tenant": tenant_id},
        ).fetchall()
        return {row[0] for row in rows}

    def _new_rows(
        self, con: duckdb.DuckDBPyConnection, table: pa.Table, seen: dict[int, set[str]]
    ) -> Mask:
        """Mask of the rows whose id is neither stored nor earlier in this commit."""
        tenants = table.column("tenant_id").to_numpy()
        hashes = table.column("id_hash").to_numpy()
        ids: list[str] = table.column("event_id").to_pylist()
        keep = np.ones(table.num_rows, dtype=np.bool_)
        for tenant in np.unique(tenants):
            tenant_id = int(tenant)
            rows = np.flatnonzero(tenants == tenant)
            maybe = rows[self._index.might_contain(tenant_id, hashes[rows])]
            if maybe.size:
                candidates = table.take(pa.array(maybe)).select(["id_hash", "event_id", "time"])
                stored = self._stored_ids(con, tenant_id, candidates)
                keep[maybe] = [ids[row] not in stored for row in maybe]
            earlier = seen.setdefault(tenant_id, set())
            for row in rows[keep[rows]]:
                if ids[row] in earlier:
                    keep[row] = False
                else:
                    earlier.add(ids[row])
        return keep

    def append_events(
        self, batches: Sequence[pa.Table], checkpoint: Checkpoint | None = None
    ) -> list[AppendResult]:
        """Store the batches in one transaction, each id once per tenant, forever. Rollups and
        the directory follow in the same transaction, so they never count an event that the
        raw table lacks, nor one twice."""
        results: list[AppendResult] = []
        fresh: list[pa.Table] = []
        self._wait_for_index()
        with self._write_lock:
            with self._transaction() as con:
                seen: dict[int, set[str]] = {}
                for table in batches:
                    keep = self._new_rows(con, table, seen)
                    accepted = int(keep.sum())
                    results.append(AppendResult(accepted, table.num_rows - accepted))
                    if accepted:
                        fresh.append(table if accepted == table.num_rows else table.filter(keep))
                if fresh:
                    new_events = pa.concat_tables(fresh)
                    self._insert(con, "events", new_events)
                    self._insert_rollups(con, rollups_of(new_events, self._tenant_zone))
                    self._record_directory(con, new_events)
                if checkpoint is not None:
                    self._save_checkpoint(con, checkpoint)
            # Still under the lock: no other writer may check ids before the index has them.
            for table in fresh:
                self._index_hashes(table)
                for tenant in pc.unique(table["tenant_id"]).to_pylist():
                    self.directory_changed(tenant)
            self._learn_pending()
        return results

    def _insert_rollups(self, con: duckdb.DuckDBPyConnection, rollups: Rollups) -> None:
        self._insert(con, "rollup_conversations_15m", rollups.conversations_15m)
        self._insert(con, "rollup_usage_days", rollups.usage_days)
        self._insert(con, "rollup_user_months", rollups.user_months)

    def _tenant_zone(self, tenant_id: int) -> str:
        if tenant_id not in self._zones:
            tenant = self.tenant_by_id(tenant_id)
            assert tenant is not None
            self._zones[tenant_id] = tenant.tz
        return self._zones[tenant_id]

    @staticmethod
    def _save_checkpoint(con: duckdb.DuckDBPyConnection, checkpoint: Checkpoint) -> None:
        con.execute(
            """
            INSERT INTO ingest_checkpoints VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (fingerprint) DO UPDATE SET offset_bytes = excluded.offset_bytes,
                events_seen = excluded.events_seen, updated_at = excluded.updated_at
            """,
            [
                checkpoint.fingerprint,
                checkpoint.path,
                checkpoint.offset_bytes,
                checkpoint.events_seen,
                utcnow(),
            ],
        )

    def checkpoint(self, fingerprint: str) -> Checkpoint | None:
        rows = self._rows(
            "SELECT fingerprint, path, offset_bytes, events_seen FROM ingest_checkpoints "
            "WHERE fingerprint = ?",
            [fingerprint],
        )
        return Checkpoint(*rows[0]) if rows else None

    def rebuild_rollups(self) -> None:
        """Recompute every rollup, and the names events carried, from the raw events, chunk by
        chunk (rollup sums are additive; the latest name wins when read)."""
        with self._transaction() as con:
            for table in (*ROLLUP_TABLES, "directory_names", "pending_rebuilds"):
                con.execute(f"DELETE FROM {table}")
            reader = con.cursor().sql("SELECT * FROM events").to_arrow_reader(1_000_000)
            for batch in reader:
                chunk = pa.Table.from_batches([batch])
                self._insert_rollups(con, rollups_of(chunk, self._tenant_zone))
                self._names_seq += 1
                self._insert(con, "directory_names", names_of(chunk, self._names_seq))
        self.directory_changed()

    def count_events(self, tenant_id: int | None = None) -> int:
        rows = self._rows(
            "SELECT count(*) FROM events WHERE $tenant IS NULL OR tenant_id = $tenant",
            {"tenant": tenant_id},
        )
        return int(rows[0][0])
