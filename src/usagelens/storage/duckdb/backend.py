"""The embedded backend: everything in one local DuckDB file."""

from usagelens.storage.duckdb.events import EventStore


class DuckDBBackend(EventStore):
    """Tenants and keys, the directory, raw events and rollups: the whole `Backend`."""
