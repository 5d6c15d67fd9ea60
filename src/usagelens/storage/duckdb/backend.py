"""The embedded backend: everything in one local DuckDB file."""

from usagelens.storage.duckdb.analytics import AnalyticsStore
from usagelens.storage.duckdb.events import EventStore
from usagelens.storage.duckdb.mau import MauStore
from usagelens.storage.duckdb.ratecards import RateCardStore
from usagelens.storage.duckdb.usage import UsageStore


class DuckDBBackend(AnalyticsStore, RateCardStore, MauStore, UsageStore, EventStore):
    """Tenants and keys, the directory, raw events and rollups: the whole `Backend`."""
