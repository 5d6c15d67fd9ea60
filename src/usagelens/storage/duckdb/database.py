"""The DuckDB file: one writer connection behind a lock, a read cursor per thread."""

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
        if not read_only:
            migrate(self._con)

    def limit_memory(self, size: str) -> None:
        """Cap the memory of the whole database instance (every cursor of this file)."""
        if not re.fullmatch(MEMORY_SIZE, size):
            raise ValueError(f"not a memory size: {size!r}")
        self._con.execute(f"SET memory_limit = '{size}'")

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
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The single writer's transaction: every write of the process goes through it."""
        with self._write_lock, transaction(self._con):
            yield self._con

    def _rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[tuple[Any, ...]]:
        with busy_when_out_of_memory():
            return self._cursor().execute(sql, params).fetchall()

    @staticmethod
    def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table) -> None:
        """Append an Arrow table's rows (columns matched by name)."""
        if rows.num_rows:
            with registered(con, "rows_to_insert", rows):
                con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM rows_to_insert")
