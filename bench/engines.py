"""What the three baselines of issue 5 §1 share: each answers the mix's questions (``bench.mix``)
without usagelens, from the same stored events exported to a neutral table
(``loading.export_events``), as a ``mix.Answer``:

a) ``rawscan.RawScan``: DuckDB SQL over the events table, no rollups, with the service's bucket
   and month boundaries (an ASOF join on instants computed from the tz database);
b) ``postgres.Postgres``: a throwaway PostgreSQL cluster, btree on (tenant, time),
   ``GROUP BY date_trunc(..., time AT TIME ZONE tz)``, as a platform team would first write it;
c) ``openmeter.OpenMeterWay``: OpenMeter's ``om_events`` shape on chDB: the payload as a JSON
   string read with ``JSON_VALUE``, windows from ``tumbleStart`` with a zone.
"""

import queue
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.mix import Answer, Counts, Mau, Question, Usage, nonzero

Runner = Callable[[], Answer]

# The counts of ``mix.COUNT_FIELDS``, as SQL over the neutral columns (PostgreSQL and DuckDB).
COUNT_SQL = """
    count(*) FILTER (WHERE type = 'sms' AND direction = 'outbound'),
    count(*) FILTER (WHERE type = 'sms' AND direction = 'inbound'),
    count(*) FILTER (WHERE type = 'mms' AND direction = 'outbound'),
    count(*) FILTER (WHERE type = 'mms' AND direction = 'inbound'),
    count(*) FILTER (WHERE type = 'voice_call'),
    coalesce(sum(seconds) FILTER (WHERE type = 'voice_call'), 0),
    coalesce(sum(requests) FILTER (WHERE type = 'api_request'), 0),
    count(*) FILTER (WHERE type = 'phone_rental'),
    count(*) FILTER (WHERE type = 'phone_purchase'),
    count(*) FILTER (WHERE type = 'knowledge_base'),
    coalesce(sum(minutes) FILTER (WHERE type = 'kb_usage'), 0)
"""


class Pool:
    """Connections (cursors, sessions) handed to one caller at a time: with N threads calling,
    each holds its own, and none leaks when the threads of one throughput run end."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make
        self.idle: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.all: list[Any] = []
        self.lock = threading.Lock()

    @contextmanager
    def held(self) -> Iterator[Any]:
        try:
            item = self.idle.get_nowait()
        except queue.Empty:
            item = self.make()
            with self.lock:
                self.all.append(item)
        try:
            yield item
        finally:
            self.idle.put(item)


def naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def summed(rows: list[tuple[Any, ...]], width: int) -> Answer:
    """Rows of (key..., figure...) with ``width`` figures, as an Answer (keys can repeat when
    one engine splits a bucket another merges: their figures add up)."""
    answer: dict[tuple[Any, ...], list[Any]] = {}
    for row in rows:
        key, figures = tuple(row[:-width]), row[-width:]
        before = answer.setdefault(key, [0] * width)
        for i, figure in enumerate(figures):
            before[i] += figure
    return nonzero((key, tuple(figures)) for key, figures in answer.items())


def group_column(q: Usage, agent: str, subaccount: str) -> str:
    return {"": "''", "agent": agent, "subaccount": subaccount}[q.group]


def count_key(q: Counts, subject: str, organization: str) -> str:
    return {"user": subject, "organization": organization, "tenant": "'tenant'"}[q.level]


Built = tuple[str, dict[str, Any], int]  # SQL, its parameters, how many figures end a row


@dataclass(frozen=True)
class Query:
    sql: str
    params: dict[str, Any]
    width: int  # figures at the end of each row
    instant_first: bool  # rows start with a bucket's instant


class Engine(ABC):
    """What the baselines share: each question kind becomes a query, its rows an Answer."""

    def __init__(self, tenant: str) -> None:
        self.tenant = tenant

    def runner(self, q: Question) -> Runner:
        if isinstance(q, Usage):
            sql, params, width = self._usage(q)
        elif isinstance(q, Counts):
            sql, params, width = self._counts(q)
        else:
            sql, params, width = self._mau(q)
        query = Query(sql, {"tenant": self.tenant, **params}, width, isinstance(q, Usage))

        def run() -> Answer:
            return summed(self._rows(query), width)

        return run

    @abstractmethod
    def load(self, parquet: Path) -> None:
        """Every stored event, from the neutral export."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def _usage(self, q: Usage) -> Built: ...

    @abstractmethod
    def _counts(self, q: Counts) -> Built: ...

    @abstractmethod
    def _mau(self, q: Mau) -> Built: ...

    @abstractmethod
    def _rows(self, query: Query) -> list[tuple[Any, ...]]: ...


def window(q: Usage | Counts) -> dict[str, Any]:
    return {"start": naive(q.start), "end": naive(q.end)}


def tree(q: Usage) -> dict[str, Any]:
    return {"orgs": [org for org, _ in q.subaccount_of], "subs": [s for _, s in q.subaccount_of]}
