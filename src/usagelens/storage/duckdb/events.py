"""Raw events and rollups in the DuckDB file, with exact forever dedupe."""

import logging
import math
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from usagelens.directory.from_events import names_of
from usagelens.rollups.build import Rollups, rollups_of
from usagelens.storage.base import AppendResult, Checkpoint, StorageBusy
from usagelens.storage.duckdb import blocks
from usagelens.storage.duckdb.compaction import (
    COMPACT_AT_ROWS,
    CONVERSATION_HOURS,
    CONVERSATIONS_15M,
    ROLLUPS,
    USAGE_DAYS,
    USER_MONTHS,
    Rollup,
    compact,
    new_rows,
)
from usagelens.storage.duckdb.database import CACHE_HEADROOM_BYTES, registered, utcnow
from usagelens.storage.duckdb.directory import DirectoryStore
from usagelens.storage.duckdb.migrations import TICKET_EVENT_FIELDS
from usagelens.storage.duckdb.tenants import TenantStore
from usagelens.storage.duckdb.usage_keys import INSERT_GIVEN, UsageKeys
from usagelens.storage.id_index import IdIndex

log = logging.getLogger(__name__)

Mask = np.ndarray[Any, np.dtype[np.bool_]]
# Batches of a million ids between cache releases while the index loads: each release takes a
# few milliseconds, and the cache grows by about 100 MB in between.
_BATCHES_PER_RELEASE = 10


def _by_tenant(
    tenants: pa.Array | pa.ChunkedArray, hashes: pa.Array | pa.ChunkedArray
) -> Iterator[tuple[int, npt.NDArray[np.uint64]]]:
    """The id hashes of a batch of events, split by tenant."""
    tenant_ids = tenants.to_numpy()
    all_hashes = hashes.to_numpy()
    for tenant in np.unique(tenant_ids).tolist():
        yield int(tenant), all_hashes[tenant_ids == tenant]


# A commit's events are stored by tenant, then time. Each compressed segment then holds few
# tenants and a narrow span of times: the bench's 10M events, stored again in commits of 100,000,
# took 42.3 bytes an event in event_rows instead of 45.1 in arrival order. The sort is stable, so
# a tenant's events of the same time keep their arrival order, which breaks ties between the
# names they carry (directory.from_events.names_of), at ingest and when a rebuild reads them.
STORED_ORDER = [("tenant_id", "ascending"), ("time", "ascending")]


def stored_shape(events: pa.Table) -> pa.Table:
    """A batch as event_rows holds it: in ``STORED_ORDER``, and a packed id's text left out (its
    form, hash and high half give it back)."""
    events = events.sort_by(STORED_ORDER)
    position = events.schema.get_field_index("event_id")
    kept = pc.if_else(
        pc.is_null(events["id_form"]), events["event_id"], pa.scalar(None, pa.string())
    )
    return events.remove_column(position).append_column("id_text", kept)


def repeated(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.bool_]:
    """Which values occur more than once."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    same = ordered[1:] == ordered[:-1]
    found = np.zeros(values.size, dtype=np.bool_)
    found[order[1:][same]] = True
    found[order[:-1][same]] = True
    return found


class EventStore(DirectoryStore, TenantStore):
    compact_at_rows = COMPACT_AT_ROWS
    # Usage of a later block compacts the per-day rollup only this long after its last
    # compaction: a bulk load compacts every few seconds anyway, and with many tenants every
    # one's crossing would compact again. (10 million of the bench's events, 8 tenants: 124-126 s
    # compacting at every crossing, 116-131 s without; the file 1% larger.)
    compact_after_crossing_s = 60.0

    def __init__(self, path: Path, read_only: bool = False) -> None:
        super().__init__(path, read_only)
        self._zones: dict[int, str] = {}  # a tenant's zone never changes
        self._new_rollup_rows = {rollup.name: 0 for rollup in ROLLUPS}
        # Per tenant, the first 8-day block not built (as of the last compaction of the per-day
        # rollup): read once a compaction, at the tenant's first commit.
        self._unbuilt_from: dict[int, date] = {}
        self._usage_days_compacted = -math.inf  # time.monotonic() at the last compaction
        self._usage_keys = UsageKeys()
        if not read_only:
            if self._rows("SELECT count(*) FROM pending_rebuilds")[0][0]:
                self.rebuild_rollups()
            if not self._rows(f"SELECT count(*) FROM {blocks.BUILT}")[0][0]:
                # A file from before the blocks (or whose runs close none yet).
                with self._transaction() as con:
                    blocks.build_all_closed(con)
            # A file from before the rollups had runs holds them all as new rows.
            self._new_rollup_rows = {r.name: new_rows(self._con, r) for r in ROLLUPS}
            self._compact_due()
        # Only storing events needs the id index: it loads (8 s and 4.3 bytes per event at 99M)
        # while reads are already answered, and the first write waits for it. A read-only
        # file stores nothing, so it never loads (its CPU would slow the first reads).
        self._index = IdIndex()
        self._index_loaded = threading.Event()
        self._index_failure: BaseException | None = None
        self._index_loader: threading.Thread | None = None
        if read_only:
            self._index_loaded.set()
        else:
            self._index_loader = threading.Thread(
                target=self._load_index, name="usagelens-id-index", daemon=True
            )
            self._index_loader.start()

    def _load_index(self) -> None:
        # A cursor of its own, closed here: a thread-local one would be destroyed whenever
        # the thread's state is, possibly while the connection is being closed.
        cursor, control = self._con.cursor(), self._con.cursor()
        try:
            # Counted first, then filled in one scan without ORDER BY: sorting 100 million
            # rows in DuckDB and merging levels held the hashes several times over. One
            # transaction, so that the scan sees exactly the rows counted.
            cursor.begin()
            counts = cursor.execute(
                "SELECT tenant_id, count(*) FROM event_rows GROUP BY tenant_id"
            ).fetchall()
            hashes = {int(t): np.empty(int(n), dtype=np.uint64) for t, n in counts}
            filled = dict.fromkeys(hashes, 0)
            reader = cursor.sql("SELECT tenant_id, id_hash FROM event_rows").to_arrow_reader(
                1_000_000
            )
            for number, batch in enumerate(reader, 1):
                for tenant, theirs in _by_tenant(batch.column(0), batch.column(1)):
                    hashes[tenant][filled[tenant] : filled[tenant] + theirs.size] = theirs
                    filled[tenant] += theirs.size
                if number % _BATCHES_PER_RELEASE == 0:
                    # The column's blocks, read once, would otherwise stay cached: at 100M
                    # events, 1 GB on top of the index's own 800 MB.
                    self.release_cache(control, CACHE_HEADROOM_BYTES)
            cursor.commit()
            self.release_cache(control, CACHE_HEADROOM_BYTES)
            while hashes:  # each array dropped once packed: the index takes half as much
                self._index.add_all(*hashes.popitem())
        except BaseException as failure:  # reported to every writer, never swallowed
            self._index_failure = failure
        finally:
            control.close()
            cursor.close()
            self._index_loaded.set()

    def ingest_ready(self) -> bool:
        return self._index_loaded.is_set()

    def _wait_for_index(self) -> None:
        self._index_loaded.wait()
        if self._index_failure is not None:
            raise RuntimeError("the id index could not be loaded") from self._index_failure

    def close(self) -> None:
        if self._index_loader is not None:
            self._index_loader.join()  # its cursor belongs to the connection being closed
        super().close()

    def _index_hashes(self, events: pa.Table) -> None:
        for tenant, hashes in _by_tenant(events.column("tenant_id"), events.column("id_hash")):
            self._index.add(tenant, hashes)

    def _stored_ids(
        self, con: duckdb.DuckDBPyConnection, candidates: pa.Table
    ) -> set[tuple[int, str]]:
        """Which candidate (tenant, id) pairs are really stored. A retry carries its original
        time, so a look-up of the stored events at the candidates' own times settles nearly
        all; the rest are checked against every stored event. Every tenant's candidates in one
        query: at 100M events, one query per tenant read the same row groups once per tenant."""
        with registered(con, "candidates", candidates):
            found = self._matching_ids(con, at_their_times=True)
            pairs = candidates.select(["tenant_id", "event_id"]).group_by(["tenant_id", "event_id"])
            if len(found) < pairs.aggregate([]).num_rows:
                found |= self._matching_ids(con, at_their_times=False)
        return found

    @staticmethod
    def _matching_ids(con: duckdb.DuckDBPyConnection, at_their_times: bool) -> set[tuple[int, str]]:
        # The candidates' times as a subquery: DuckDB skips the row groups that hold none of
        # them. Within spans of time around them instead (an OR of ranges, which it tests row
        # by row), 160 retries spread over a year took 565-589 ms at 100M events, 222-236 ms
        # this way (74-81 and 37-40 ms at 10M; 15 and 14 ms for 20 recent ones).
        within = "WHERE e.time IN (SELECT time FROM candidates)" if at_their_times else ""
        # A packed id (see storage.event_ids) matches by its hash and high half, which give
        # its low half; an id kept as text by its text. So a stored row that matches holds the
        # candidate's very id, and the candidate's own text is the answer (which _stored_ids
        # counts to decide whether to look further). Rebuilding a packed id's text in SQL
        # (event_id_text) had DuckDB plan the query for 20 to 30 ms, even with no candidates;
        # 3 to 6 ms this way at 10M events. The stored rows are materialized, so that they are
        # still found first, by the scan that skips row groups.
        matches = """
            e.tenant_id = c.tenant_id AND e.id_hash = c.id_hash
            AND e.id_form IS NOT DISTINCT FROM c.id_form
            AND (e.id_text = c.event_id
                 OR event_id_high(e.id_high, e.time) = event_id_high(c.id_high, c.time))
        """
        rows = con.execute(
            f"""
            WITH stored AS MATERIALIZED (
                SELECT e.tenant_id, e.id_hash, e.id_form, e.id_text, e.id_high, e.time
                FROM event_rows e SEMI JOIN candidates c ON {matches}
                {within}
            )
            SELECT c.tenant_id, c.event_id FROM candidates c SEMI JOIN stored e ON {matches}
            """
        ).fetchall()
        return {(int(row[0]), row[1]) for row in rows}

    def _new_rows(self, con: duckdb.DuckDBPyConnection, batches: pa.Table) -> Mask:
        """Mask of the rows (of one commit's batches, concatenated) whose id is neither stored
        nor earlier in the commit. Ids are only turned into Python strings where hashes say
        they may repeat: the index's hits, and hashes seen twice in the commit."""
        tenants = batches.column("tenant_id").to_numpy()
        hashes = batches.column("id_hash").to_numpy()
        ids = batches.column("event_id")
        keep = np.ones(batches.num_rows, dtype=np.bool_)
        by_tenant = [(int(t), np.flatnonzero(tenants == t)) for t in np.unique(tenants)]
        maybe = np.concatenate(
            [rows[self._index.might_contain(tenant, hashes[rows])] for tenant, rows in by_tenant]
            or [np.empty(0, dtype=np.intp)]
        )
        if maybe.size:
            taken = pa.array(maybe)
            candidates = batches.take(taken).select(
                ["tenant_id", "id_hash", "id_form", "id_high", "event_id", "time"]
            )
            stored = self._stored_ids(con, candidates)
            keep[maybe] = [
                (int(tenant), event_id) not in stored
                for tenant, event_id in zip(
                    tenants[maybe], ids.take(taken).to_pylist(), strict=True
                )
            ]
        for _, rows in by_tenant:
            unstored = rows[keep[rows]]
            sharing = unstored[repeated(hashes[unstored])]
            earlier: set[str] = set()
            for row, event_id in zip(sharing, ids.take(pa.array(sharing)).to_pylist(), strict=True):
                if event_id in earlier:
                    keep[row] = False
                else:
                    earlier.add(event_id)
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
            with (
                self._forgetting_pending_on_failure(),
                self._keys_forgotten_on_failure(),
                self._transaction() as con,
            ):
                keep = (
                    self._new_rows(con, pa.concat_tables(batches))
                    if batches
                    else np.ones(0, dtype=np.bool_)
                )
                start = 0
                for table in batches:
                    mask = keep[start : start + table.num_rows]
                    start += table.num_rows
                    accepted = int(mask.sum())
                    results.append(AppendResult(accepted, table.num_rows - accepted))
                    if accepted:
                        fresh.append(table if accepted == table.num_rows else table.filter(mask))
                rollups = None
                new_events = pa.concat_tables(fresh) if fresh else None
                if new_events is not None:
                    self._insert(con, "event_rows", stored_shape(new_events))
                    tickets = new_events.filter(pc.equal(new_events["type"], "ticket"))
                    self._insert(con, "ticket_events", tickets.select(TICKET_EVENT_FIELDS))
                    # The directory first: the new usage keys say where it places their users.
                    self._record_directory(con, new_events)
                    rollups = rollups_of(new_events, self._tenant_zone)
                    self._insert_rollups(con, rollups)
                if checkpoint is not None:
                    self._save_checkpoint(con, checkpoint)
            # Still under the lock: no other writer may check ids before the index has them.
            # Once for the commit, not once per request, whose small additions the index merges
            # level by level: 16 requests of 1,000 events took 14 ms of a 300 ms commit.
            if new_events is not None:
                self._index_hashes(new_events)
                for tenant in pc.unique(new_events["tenant_id"]).to_pylist():
                    self.directory_changed(tenant)
            self._learn_pending()
            if rollups is not None:
                self._count_new_rows(rollups)
                self._compact_due()
        return results

    @staticmethod
    def _rollup_tables(rollups: Rollups) -> list[tuple[Rollup, pa.Table]]:
        return [
            (CONVERSATIONS_15M, rollups.conversations_15m),
            (USAGE_DAYS, rollups.usage_days),
            (USER_MONTHS, rollups.user_months),
        ]

    def _insert_rollups(self, con: duckdb.DuckDBPyConnection, rollups: Rollups) -> None:
        for rollup, rows in self._rollup_tables(rollups):
            if rollup.keyed:
                rows, given = self._usage_keys.keyed(con, rows)
                if given.num_rows:
                    with registered(con, "given_keys", given):
                        con.execute(INSERT_GIVEN)
            self._insert(con, rollup.new, rows)

    @contextmanager
    def _keys_forgotten_on_failure(self) -> Iterator[None]:
        try:
            yield
        except BaseException:
            self._usage_keys.forget()
            raise
        self._usage_keys.committed()

    def _count_new_rows(self, rollups: Rollups) -> None:
        """After the commit of the rollups' rows: only committed rows count towards the next
        compaction."""
        for rollup, rows in self._rollup_tables(rollups):
            self._new_rollup_rows[rollup.name] += rows.num_rows
        self._note_block_crossings(rollups.usage_days)

    def _note_block_crossings(self, usage_days: pa.Table) -> None:
        """Make the per-day rollup due for a compaction when a tenant's usage reaches a block of
        days later than any it had: the compaction builds the blocks that closes, so that
        questions read them from then on, not in up to 250,000 rows later."""
        since = time.monotonic() - self._usage_days_compacted
        if not usage_days.num_rows or since < self.compact_after_crossing_s:
            return
        newest = usage_days.group_by("tenant_id").aggregate([("day", "max")])
        span = blocks.SPANS[0]
        for tenant_id, day in zip(
            newest["tenant_id"].to_pylist(), newest["day_max"].to_pylist(), strict=True
        ):
            block = blocks.block_start(day, span)
            if tenant_id not in self._unbuilt_from:
                with self._snapshot() as con:
                    built = blocks.built_until(con, tenant_id).get(span)
                # Nothing built yet: the next block its usage reaches builds the first ones.
                self._unbuilt_from[tenant_id] = block if built is None else built
            if block > self._unbuilt_from[tenant_id]:
                self._new_rollup_rows[USAGE_DAYS.name] = max(
                    self._new_rollup_rows[USAGE_DAYS.name], self.compact_at_rows
                )

    def _compact_due(self) -> None:
        """Compact each rollup whose new rows have reached ``compact_at_rows``. Events are
        already committed when this runs, so a compaction that finds no memory is left for the
        next commit to retry: it must not fail the write it follows."""
        with self._write_lock:
            for rollup in ROLLUPS:
                if self._new_rollup_rows[rollup.name] >= self.compact_at_rows:
                    try:
                        with self._transaction() as con:
                            compact(con, rollup)
                    except StorageBusy as busy:
                        log.warning("compaction of %s postponed: %s", rollup.name, busy)
                        continue
                    self._new_rollup_rows[rollup.name] = 0
                    if rollup is USAGE_DAYS:
                        self._unbuilt_from.clear()
                        self._usage_days_compacted = time.monotonic()

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
        with self._write_lock, self._keys_forgotten_on_failure(), self._transaction() as con:
            tables = [table for r in ROLLUPS for table in (r.runs, r.new)]
            derived = (
                *(hours.table for hours in CONVERSATION_HOURS),
                "usage_keys",
                "user_month_totals",
                blocks.BLOCKS,
                blocks.BUILT,
            )
            for table in (*tables, *derived, "directory_names", "pending_rebuilds"):
                con.execute(f"DELETE FROM {table}")
            self._usage_keys.forget()
            # Without the ids: no rollup needs them, and reading their text back costs.
            reader = (
                con.cursor()
                .sql("SELECT * EXCLUDE (id_hash, id_form, id_high, id_text) FROM event_rows")
                .to_arrow_reader(1_000_000)
            )
            for batch in reader:
                chunk = pa.Table.from_batches([batch])
                self._insert_rollups(con, rollups_of(chunk, self._tenant_zone))
                self._names_seq += 1
                self._insert(con, "directory_names", names_of(chunk, self._names_seq))
            for rollup in ROLLUPS:
                compact(con, rollup)
        self._new_rollup_rows = dict.fromkeys(self._new_rollup_rows, 0)
        self._unbuilt_from.clear()
        self.directory_changed()

    def count_events(self, tenant_id: int | None = None) -> int:
        rows = self._rows(
            "SELECT count(*) FROM event_rows WHERE $tenant IS NULL OR tenant_id = $tenant",
            {"tenant": tenant_id},
        )
        return int(rows[0][0])
