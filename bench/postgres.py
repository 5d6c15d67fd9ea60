"""Baseline b) of issue 5: hand-rolled PostgreSQL, an events table with a btree on (tenant, time)
and ``GROUP BY date_trunc(..., time AT TIME ZONE tz)``, in a throwaway cluster on a loopback
port, run as a user of its own (PostgreSQL refuses root)."""

import io
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import duckdb

from bench.engines import COUNT_SQL, Built, Engine, Pool, Query, count_key, group_column, tree
from bench.mix import Counts, Mau, Usage


def _server_binaries() -> Path:
    """Where `initdb` and `postgres` are: Debian keeps them out of PATH, one folder per major
    version (the newest wins); a machine may also link them into /usr/local/bin."""
    linked = Path("/usr/local/bin")
    if (linked / "initdb").exists():
        return linked
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda folder: int(folder.parent.name) if folder.parent.name.isdigit() else 0,
    )
    return versions[-1] if versions else linked


PG_BIN = _server_binaries()
PG_USER = "usagelens_bench"
PG_COLUMNS = """
    tenant text NOT NULL, id text NOT NULL, type text NOT NULL, time timestamptz NOT NULL,
    subject text, organization_id text NOT NULL, agent_id text, conversation_type text,
    direction text, channel text, seconds bigint, segments bigint, requests bigint,
    minutes numeric(18, 6), gb_hours numeric(18, 6), kb_id text, phone_number text,
    brand_id text, ticket_id text, url text
"""


class PostgresUnavailable(RuntimeError):
    pass


class Postgres(Engine):
    """A throwaway cluster in a temp dir on a free loopback port, run as a non-root user."""

    def __init__(self, port: int, tenant: str) -> None:
        super().__init__(tenant)
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
        initdb = [str(PG_BIN / "initdb"), "-D", str(self.data), "--auth=trust", "-U", self.user]
        self._run(*initdb, "--encoding=UTF8", "--no-sync")
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            "-c shared_buffers=256MB -c max_connections=50 -c fsync=off -c work_mem=64MB"
        )
        log = str(self.root / "log")
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", log, "-w", "start"
        )
        return self

    def close(self) -> None:
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

    def load(self, parquet: Path) -> None:
        """Every stored event, in time order (as they were appended), by COPY in CSV batches."""
        import pyarrow.csv as csv

        options = csv.WriteOptions(include_header=False)
        with self.pool.held() as con:
            con.execute(f"CREATE TABLE events ({PG_COLUMNS})")
            with duckdb.connect() as source, con.cursor() as cur:
                reader = source.sql(f"SELECT * FROM read_parquet('{parquet}')").to_arrow_reader(
                    100_000
                )
                with cur.copy("COPY events FROM STDIN (FORMAT csv)") as copy:
                    for batch in reader:
                        buffer = io.BytesIO()
                        csv.write_csv(batch, buffer, options)
                        copy.write(buffer.getvalue())
            con.execute("CREATE INDEX events_tenant_time ON events (tenant, time)")
            con.execute("VACUUM ANALYZE events")

    def _rows(self, query: Query) -> list[tuple[Any, ...]]:
        with self.pool.held() as con:
            rows: list[tuple[Any, ...]] = con.execute(query.sql, query.params).fetchall()
        return rows

    def _usage(self, q: Usage) -> Built:
        group = group_column(q, "e.agent_id", "t.subaccount")
        sql = f"""
            SELECT date_trunc('{q.granularity}', e.time AT TIME ZONE %(tz)s) AS bucket,
                   {group}, count(*), coalesce(sum(e.seconds), 0)
            FROM events e JOIN unnest(%(orgs)s::text[], %(subs)s::text[]) AS t(org, subaccount)
                ON t.org = e.organization_id
            WHERE e.tenant = %(tenant)s AND e.time >= %(start)s AND e.time < %(end)s
              AND e.type = 'conversation'
            GROUP BY 1, 2
        """
        return sql, {"tz": q.tz, "start": q.start, "end": q.end, **tree(q)}, 2

    def _counts(self, q: Counts) -> Built:
        where = "AND organization_id = %(org)s AND subject IS NOT NULL" if q.organization else ""
        sql = f"""
            SELECT {count_key(q, "subject", "organization_id")}, {COUNT_SQL}
            FROM events
            WHERE tenant = %(tenant)s AND time >= %(start)s AND time < %(end)s {where}
            GROUP BY 1
        """
        return sql, {"start": q.start, "end": q.end, "org": q.organization}, 11

    def _mau(self, q: Mau) -> Built:
        sql = """
            SELECT to_char(month, 'YYYY-MM'), count(*) FROM (
                SELECT date_trunc('month', time AT TIME ZONE %(tz)s) AS month, subject
                FROM events
                WHERE tenant = %(tenant)s AND type = 'bot_message'
                  AND time >= %(start)s AND time < %(end)s
                GROUP BY 1, 2 HAVING count(*) >= %(min)s
            ) active GROUP BY 1
        """
        params = {
            "tz": q.tz,
            "start": q.month_starts[0],
            "end": q.month_starts[-1],
            "min": q.min_messages,
        }
        return sql, params, 1
