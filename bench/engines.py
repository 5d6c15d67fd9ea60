"""The three baselines of issue 5 §1: the same usage questions answered without usagelens.

Each engine answers ``Question``s as ``Answer``s: {(bucket start in UTC, agent or ""):
(conversations, seconds)}, or for PostgreSQL keyed by the local wall-clock bucket start it
computes (it cannot tell the two fall-back hours apart).
"""

import os
import pwd
import queue
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

Answer = dict[tuple[Any, str], tuple[int, int]]
Runner = Callable[[], Answer]


@dataclass(frozen=True)
class Question:
    name: str
    granularity: str  # "hour" or "day"
    by_agent: bool
    start: datetime  # aware UTC: events counted in [start, end)
    end: datetime
    tz: str
    organizations: tuple[str, ...]
    bucket_starts: tuple[datetime, ...]  # aware UTC, the service's boundaries


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


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _add(answer: Answer, key: tuple[Any, str], conversations: int, seconds: int) -> None:
    if conversations or seconds:
        before = answer.get(key, (0, 0))
        answer[key] = (before[0] + conversations, before[1] + seconds)


# --------------------------------------------------------------------------------------------
# a) raw scan: DuckDB SQL over the events table, no rollups, the service's bucket boundaries
# --------------------------------------------------------------------------------------------


class RawScan:
    """A copy of the usagelens file; each thread its own cursor (one shared connection fails)."""

    def __init__(self, db: Path, tenant: str) -> None:
        self.con = duckdb.connect(str(db), read_only=True)
        self.con.execute("SET TimeZone = 'UTC'")
        found = self.con.execute("SELECT tenant_id FROM tenants WHERE name = ?", [tenant])
        self.tenant_id = int(found.fetchall()[0][0])
        self.pool = Pool(self.con.cursor)

    def runner(self, q: Question) -> Runner:
        agent = ", e.agent_id" if q.by_agent else ""
        sql = f"""
            WITH bounds AS (SELECT unnest($starts) AS bucket_start),
            e AS (
                SELECT time, agent_id, seconds FROM events
                WHERE tenant_id = $tenant AND type = 'conversation'
                  AND time >= $start AND time < $end
                  AND organization_id IN (SELECT unnest($orgs))
            )
            SELECT b.bucket_start{agent}, count(*), coalesce(sum(e.seconds), 0)::BIGINT
            FROM e ASOF JOIN bounds b ON e.time >= b.bucket_start
            GROUP BY ALL
        """
        params = {
            "starts": [_naive(s) for s in q.bucket_starts],
            "tenant": self.tenant_id,
            "start": _naive(q.start),
            "end": _naive(q.end),
            "orgs": list(q.organizations),
        }

        def run() -> Answer:
            with self.pool.held() as cursor:
                found = cursor.execute(sql, params).fetchall()
            answer: Answer = {}
            for row in found:
                start = row[0].replace(tzinfo=UTC)
                _add(answer, (start, row[1] if q.by_agent else ""), int(row[-2]), int(row[-1]))
            return answer

        return run

    def close(self) -> None:
        self.con.close()


# --------------------------------------------------------------------------------------------
# b) hand-rolled PostgreSQL: btree on (tenant, time), GROUP BY date_trunc(... AT TIME ZONE tz)
# --------------------------------------------------------------------------------------------

PG_BIN = Path("/usr/local/bin")
PG_USER = "usagelens_bench"


class PostgresUnavailable(RuntimeError):
    pass


class Postgres:
    """A throwaway cluster in a temp dir on a free loopback port, run as a non-root user."""

    def __init__(self, port: int) -> None:
        if not (PG_BIN / "initdb").exists():
            raise PostgresUnavailable(f"no initdb in {PG_BIN}")
        self.port = port
        self.root = Path(tempfile.mkdtemp(prefix="usagelens-pg-"))
        self.data = self.root / "data"
        self.prefix: list[str] = []
        if os.geteuid() == 0:  # postgres refuses to run as root
            try:
                pwd.getpwnam(PG_USER)
            except KeyError:
                made = subprocess.run(
                    ["useradd", "--system", "--no-create-home", PG_USER], capture_output=True
                )
                if made.returncode != 0:
                    raise PostgresUnavailable(f"useradd failed: {made.stderr!r}") from None
            account = pwd.getpwnam(PG_USER)
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self.prefix = ["runuser", "-u", PG_USER, "--"]
        self.user = PG_USER if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        self.pool = Pool(self.connect)

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self.prefix, *args], capture_output=True, text=True)
        if done.returncode != 0:
            raise PostgresUnavailable(f"{args[0]} failed: {done.stderr or done.stdout}")

    def start(self) -> "Postgres":
        self._run(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "--auth=trust",
            "-U",
            self.user,
            "--encoding=UTF8",
            "--no-sync",
        )
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            "-c shared_buffers=256MB -c max_connections=50 -c fsync=off"
        )
        self._run(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "log"),
            "-w",
            "start",
        )
        return self

    def stop(self) -> None:
        for con in self.pool.all:
            con.close()
        if (self.data / "postmaster.pid").exists():
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def connect(self) -> Any:
        import psycopg

        con = psycopg.connect(
            host="127.0.0.1", port=self.port, user=self.user, dbname="postgres", autocommit=True
        )
        con.execute("SET TimeZone = 'UTC'")
        return con

    def load(self, raw: Path, tenant: str) -> None:
        """Every stored event of the tenant (after the service's dedupe) via COPY."""
        csv = self.root / "events.csv"
        with duckdb.connect(str(raw), read_only=True) as con:
            con.execute("SET TimeZone = 'UTC'")
            con.execute(
                f"""COPY (
                    SELECT t.name, event_id, type, strftime(time, '%Y-%m-%d %H:%M:%S.%f') || '+00',
                           subject, organization_id, agent_id, conversation_type, seconds
                    FROM events JOIN tenants t USING (tenant_id) WHERE t.name = '{tenant}'
                ) TO '{csv}' (FORMAT csv, HEADER false)"""
            )
        with self.pool.held() as con:
            self._load(con, csv)
        csv.unlink()

    def _load(self, con: Any, csv: Path) -> None:
        con.execute(
            """CREATE TABLE events (
                tenant text NOT NULL, id text NOT NULL, type text NOT NULL,
                time timestamptz NOT NULL, subject text, organization_id text NOT NULL,
                agent_id text, conversation_type text, seconds bigint)"""
        )
        with (
            con.cursor() as cur,
            cur.copy("COPY events FROM STDIN (FORMAT csv)") as copy,
            csv.open("rb") as source,
        ):
            while chunk := source.read(1 << 20):
                copy.write(chunk)
        con.execute("CREATE INDEX events_tenant_time ON events (tenant, time)")
        con.execute("VACUUM ANALYZE events")

    def runner(self, q: Question, tenant: str) -> Runner:
        agent = ", agent_id" if q.by_agent else ""
        sql = f"""
            SELECT date_trunc('{q.granularity}', time AT TIME ZONE %(tz)s) AS bucket{agent},
                   count(*), coalesce(sum(seconds), 0)
            FROM events
            WHERE tenant = %(tenant)s AND time >= %(start)s AND time < %(end)s
              AND type = 'conversation' AND organization_id = ANY(%(orgs)s)
            GROUP BY 1{", 2" if q.by_agent else ""}
        """
        params = {
            "tz": q.tz,
            "tenant": tenant,
            "start": q.start,
            "end": q.end,
            "orgs": list(q.organizations),
        }

        def run() -> Answer:
            with self.pool.held() as con:
                found = con.execute(sql, params).fetchall()
            answer: Answer = {}
            for row in found:
                _add(answer, (row[0], row[1] if q.by_agent else ""), int(row[-2]), int(row[-1]))
            return answer

        return run


# --------------------------------------------------------------------------------------------
# c) the OpenMeter way on chDB: data as a JSON string, JSON_VALUE, tumbleStart with a zone
# --------------------------------------------------------------------------------------------


class OpenMeterWay:
    """OpenMeter's om_events table shape; a chDB Session per thread (a shared one serialises)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.pool = Pool(self._open)

    def _open(self) -> Any:
        from chdb import session

        return session.Session(str(self.path))

    def load(self, raw: Path, tenant: str) -> None:
        parquet = self.path.parent / "om_events.parquet"
        with duckdb.connect(str(raw), read_only=True) as con:
            con.execute("SET TimeZone = 'UTC'")
            con.execute(
                f"""COPY (
                    SELECT t.name AS namespace, event_id AS id, type,
                           coalesce(source, '') AS source,
                           coalesce(subject, '') AS subject,
                           epoch(time)::BIGINT AS time,
                           json_object('organization_id', organization_id, 'agent_id', agent_id,
                               'conversation_type', conversation_type, 'seconds', seconds,
                               'direction', direction, 'segments', segments,
                               'count', requests, 'kb_id', kb_id, 'channel', channel)::VARCHAR
                               AS data
                    FROM events JOIN tenants t USING (tenant_id) WHERE t.name = '{tenant}'
                ) TO '{parquet}' (FORMAT parquet)"""
            )
        with self.pool.held() as s:
            self._load(s, parquet)
        parquet.unlink()

    def _load(self, s: Any, parquet: Path) -> None:
        s.query(
            """CREATE TABLE om_events (
                namespace String, id String, type LowCardinality(String), source String,
                subject String, time DateTime('UTC'), data String,
                ingested_at DateTime('UTC') DEFAULT now()
            ) ENGINE = MergeTree ORDER BY (namespace, type, subject, toStartOfHour(time))"""
        )
        s.query(
            f"""INSERT INTO om_events (namespace, id, type, source, subject, time, data)
                SELECT namespace, id, type, source, subject, toDateTime(time, 'UTC'), data
                FROM file('{parquet}', Parquet)"""
        )
        s.query("OPTIMIZE TABLE om_events FINAL")

    def runner(self, q: Question, tenant: str) -> Runner:
        interval = "toIntervalHour(1)" if q.granularity == "hour" else "toIntervalDay(1)"
        agent = ", JSON_VALUE(data, '$.agent_id') AS agent" if q.by_agent else ""
        orgs = ", ".join(f"'{o}'" for o in q.organizations)
        sql = f"""
            SELECT toUnixTimestamp(tumbleStart(time, {interval}, '{q.tz}')) AS windowstart{agent},
                   count(*) AS conversations,
                   sum(ifNull(toFloat64OrNull(JSON_VALUE(data, '$.seconds')), 0)) AS seconds
            FROM om_events
            WHERE namespace = '{tenant}' AND type = 'conversation'
              AND time >= toDateTime({int(q.start.timestamp())}, 'UTC')
              AND time < toDateTime({int(q.end.timestamp())}, 'UTC')
              AND JSON_VALUE(data, '$.organization_id') IN ({orgs})
            GROUP BY windowstart{", agent" if q.by_agent else ""}
        """

        def run() -> Answer:
            answer: Answer = {}
            with self.pool.held() as s:
                text = str(s.query(sql, "TabSeparated"))
            for line in text.splitlines():
                cells = line.split("\t")
                start = datetime.fromtimestamp(int(cells[0]), UTC)
                _add(
                    answer,
                    (start, cells[1] if q.by_agent else ""),
                    int(cells[-2]),
                    round(float(cells[-1])),
                )
            return answer

        return run

    def close(self) -> None:
        for s in self.pool.all:
            s.close()


def local_key(start: datetime, tz: str) -> datetime:
    """The naive wall-clock start a `date_trunc(... AT TIME ZONE tz)` query reports."""
    from zoneinfo import ZoneInfo

    return start.astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def compare(ours: Answer, theirs: Answer) -> tuple[int, int]:
    """(keys that agree, keys that differ) over the union of both answers."""
    keys = set(ours) | set(theirs)
    same = sum(1 for k in keys if ours.get(k) == theirs.get(k))
    return same, len(keys) - same


def differences(ours: Answer, theirs: Answer, most: int = 3) -> str:
    """The first differing keys, as `key: ours vs theirs`."""
    keys = sorted((k for k in set(ours) | set(theirs) if ours.get(k) != theirs.get(k)), key=str)
    return "; ".join(
        f"{k[0].isoformat() if isinstance(k[0], datetime) else k[0]}"
        f"{' ' + k[1] if k[1] else ''}: {ours.get(k)} vs {theirs.get(k)}"
        for k in keys[:most]
    )


def compare_wallclock(ours: Answer, theirs: Answer, tz: str) -> tuple[int, int, int, bool]:
    """Compare an answer keyed by wall-clock bucket start with ours, only where a wall-clock
    start names one of our buckets: (agreeing keys, differing keys, our keys at a DST repeat,
    which it cannot tell apart, and whether its merged sums there equal the sum of ours)."""
    starts: dict[datetime, set[datetime]] = {}
    for start, _ in ours:
        starts.setdefault(local_key(start, tz), set()).add(start)
    repeated = {local for local, found in starts.items() if len(found) > 1}
    mine: Answer = {}
    merged: Answer = {}
    dst = 0
    for (start, agent), (conversations, seconds) in ours.items():
        local = local_key(start, tz)
        if local in repeated:
            dst += 1
            _add(merged, (local, agent), conversations, seconds)
        else:
            mine[(local, agent)] = (conversations, seconds)
    theirs_clean = {k: v for k, v in theirs.items() if k[0] not in repeated}
    theirs_dst = {k: v for k, v in theirs.items() if k[0] in repeated}
    same, differ = compare(mine, theirs_clean)
    return same, differ, dst, merged == theirs_dst


def all_keys(answers: Sequence[Answer]) -> int:
    return len(set().union(*answers))
