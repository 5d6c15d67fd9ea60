"""The DuckDB file: one writer connection behind a lock, a read cursor per thread."""

import os
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from usagelens.storage.base import DatabaseInUse, StorageBusy
from usagelens.storage.duckdb.migrations import migrate

# A size DuckDB's `memory_limit` accepts; nothing else may reach its SET statement.
MEMORY_SIZE = r"^[0-9]+(\.[0-9]+)?(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$"
# Reads the engine runs at once; more wait for one of them to end. DuckDB spreads each query
# over every core already, so more at once add only their working memory: serving the bench's
# 100M file at 16 concurrent requests, about 1 GB more.
QUERY_SLOTS = 2 * (os.cpu_count() or 1)
# What a cache release leaves to the cache and to queries in flight, above the memory in use
# otherwise (see `Database.release_cache`).
CACHE_HEADROOM_BYTES = 128 * 2**20
# How much write-ahead log a commit may leave before DuckDB checkpoints it into the file
# (DuckDB's default: 16 MiB). Each checkpoint has a large fixed cost, and the log takes about
# 400 bytes an event, so at 16 MiB the API's group commits (about 16,000 events each) paid one
# every third commit: 400,000 events into a copy of the bench's 10M file took 2.6 s of commits
# in 6.0 s (66,000 events/s), 0.6 s of commits and 0.5 s for the last checkpoint in 4.2 s with
# 256 MiB (94,000 events/s); 41,900 and 51,500 events/s on its 100M file. A crash leaves at most
# this much log to replay at the next start: 253 MB took 0.7 s.
WAL_CHECKPOINT_SIZE = "256MiB"


def _limit_statement(size: str | None) -> str:
    """The statement that sets DuckDB's memory limit to ``size`` (None: its default)."""
    return "RESET memory_limit" if size is None else f"SET memory_limit = '{size}'"


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@contextmanager
def busy_when_out_of_memory() -> Iterator[None]:
    """DuckDB's out-of-memory error as the storage's `StorageBusy`: the request was too much for
    the memory limit at that moment, not a bug, and it changed nothing."""
    try:
        yield
    except duckdb.OutOfMemoryException as error:
        raise StorageBusy(str(error).split("\n", 1)[0]) from error


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> Iterator[None]:
    """The Arrow table as a view ``name`` of the connection, while the block runs. If a
    statement failed, the transaction is aborted and refuses even to unregister: that error
    must not hide the first one (the rollback then drops the view)."""
    con.register(name, table)
    try:
        yield
    except BaseException:
        with suppress(duckdb.TransactionException):
            con.unregister(name)
        raise
    con.unregister(name)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """The block in one transaction of ``con``: committed if it ends normally, else rolled
    back; either way, lack of memory is `StorageBusy`."""
    with busy_when_out_of_memory():
        con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            con.execute("ROLLBACK")
            raise
        try:
            con.execute("COMMIT")
        except duckdb.TransactionException as error:
            # With one writer there is no conflict to lose: a commit fails for want of memory
            # or disk, and DuckDB has stored none of the transaction.
            with suppress(duckdb.TransactionException):  # DuckDB may have ended it already
                con.execute("ROLLBACK")
            raise StorageBusy(f"the commit failed: {error}".split("\n", 1)[0]) from error


class Database:
    def __init__(self, path: Path, read_only: bool = False) -> None:
        self.path = path
        try:
            self._con = duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as error:
            if "lock" in str(error).lower():
                raise DatabaseInUse(
                    f"{path} is in use by another process (is `usagelens serve` running?); "
                    "stop it, or use the admin HTTP API of the running server"
                ) from error
            raise
        # TIMESTAMP columns hold UTC; pin the session zone so no machine setting leaks in.
        self._con.execute("SET TimeZone = 'UTC'")
        # Reentrant, so that work that must follow a commit can run before others may write.
        self._write_lock = threading.RLock()
        self._local = threading.local()
        self._memory_lock = threading.Lock()
        self._query_slots = threading.BoundedSemaphore(QUERY_SLOTS)
        self._memory_limit: str | None = None  # None: DuckDB's default
        self._columns: dict[str, list[str]] = {}
        if not read_only:
            migrate(self._con)
            self._con.execute(f"SET checkpoint_threshold = '{WAL_CHECKPOINT_SIZE}'")

    def limit_memory(self, size: str) -> None:
        """Cap the memory of the whole database instance (every cursor of this file)."""
        if not re.fullmatch(MEMORY_SIZE, size):
            raise ValueError(f"not a memory size: {size!r}")
        with self._memory_lock:
            self._con.execute(_limit_statement(size))
            self._memory_limit = size

    def release_cache(self, con: duckdb.DuckDBPyConnection, headroom: int) -> None:
        """Let DuckDB drop the table blocks it has cached beyond ``headroom`` bytes. It keeps
        every block it reads until its memory limit is reached (80% of the machine's by
        default), so a scan of a whole column, read once, would stay resident: loading the id
        index of 100 million events left 1 GB of them. The only way to evict is to lower the
        limit, so it is lowered for a few milliseconds to the memory in use otherwise plus
        ``headroom`` (a query in flight may take that much more meanwhile), then put back.
        When DuckDB cannot free that much (blocks that queries hold), it keeps the limit and
        the release does what it could. The limit is left alone when there is nothing to drop."""
        with self._memory_lock:
            in_use, cached = con.execute(
                "SELECT coalesce(sum(memory_usage_bytes) FILTER (WHERE tag <> 'BASE_TABLE'), 0),"
                " coalesce(sum(memory_usage_bytes) FILTER (WHERE tag = 'BASE_TABLE'), 0)"
                " FROM duckdb_memory()"
            ).fetchall()[0]
            if cached <= headroom:
                return
            with suppress(duckdb.OutOfMemoryException):  # the limit stays as it was
                con.execute(f"SET memory_limit = '{int(in_use) + headroom}B'")
            con.execute(_limit_statement(self._memory_limit))

    def close(self) -> None:
        with self._write_lock:
            self._con.close()

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor per thread: one DuckDB connection must not be shared across threads."""
        cursor: duckdb.DuckDBPyConnection | None = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._con.cursor()
            cursor.execute("SET TimeZone = 'UTC'")
            self._local.cursor = cursor
        return cursor

    @contextmanager
    def _snapshot(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """This thread's read cursor inside a transaction: one snapshot for several reads."""
        cursor = self._cursor()
        with transaction(cursor):
            yield cursor

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The single writer's transaction: every write of the process goes through it."""
        with self._write_lock, transaction(self._con):
            yield self._con

    @contextmanager
    def _query_slot(self) -> Iterator[None]:
        """One of the `QUERY_SLOTS` for the block, which may read several times (a thread
        takes one slot however deeply its reads nest, so it can never wait for itself)."""
        depth: int = getattr(self._local, "slot_depth", 0)
        if depth == 0:
            self._query_slots.acquire()
        self._local.slot_depth = depth + 1
        try:
            yield
        finally:
            self._local.slot_depth = depth
            if depth == 0:
                self._query_slots.release()

    def _rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[tuple[Any, ...]]:
        with self._query_slot(), busy_when_out_of_memory():
            return self._cursor().execute(sql, params).fetchall()

    def _arrays(self, sql: str, params: dict[str, Any]) -> dict[str, Any]:
        """The result's columns as numpy arrays, by name."""
        with self._query_slot(), busy_when_out_of_memory():
            return dict(self._cursor().execute(sql, params).fetchnumpy())

    def _insert(self, con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table) -> None:
        """Append an Arrow table's rows (columns matched by name; those it lacks take their
        defaults). With every column, they are read as a relation in the table's order rather
        than registered as a view, created and dropped each time: an insert of 20 rows took
        1.1 ms instead of 1.8, of 1,000 rows 1.8 instead of 2.8, and a commit makes six or
        seven."""
        if not rows.num_rows:
            return
        columns = self._columns_of(con, table)
        if sorted(rows.column_names) == sorted(columns):
            con.from_arrow(rows.select(columns)).insert_into(table)
            return
        with registered(con, "rows_to_insert", rows):
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM rows_to_insert")

    def _columns_of(self, con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
        """The table's columns in order, read once: only migrations, at open, change them."""
        if table not in self._columns:
            found = con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND NOT internal"
                " AND database_name = current_database() ORDER BY column_index",
                [table],
            ).fetchall()
            self._columns[table] = [name for (name,) in found]
        return self._columns[table]
