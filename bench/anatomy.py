"""Where each query of the mix spends its time, on the file of a benchmark run kept with --keep:

    python -m bench.run --size 100M --keep          # once: loads bench/out/work-100M
    python -m bench.anatomy --size 100M [--requests 15] [--json FILE]

Serves the file in-process (the application `usagelens serve` runs, called through its ASGI
interface, without the network) and asks each question of the mix ``--requests`` times at
concurrency 1, twice: once as served, for the request's median time, and once with DuckDB's
profiler on every read cursor, which splits the time of each statement the answer runs into

- planning: binding, optimizing and the physical plan, which DuckDB does anew at every
  execution, prepared or not;
- execution: the rest of the engine's own time for the statement;
- client: the call's time outside the engine's (parsing the SQL, passing the parameters);
- fetch: turning the result into Python objects or arrays;

and what is left of the (unprofiled) request is Python: checking the parameters, building and
encoding the answer, the application's request path. The profiler adds its own time to what it
measures: the parts are medians of the profiled requests and need not add up to the request's.
"""

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb
import httpx
from fastapi import FastAPI

from bench.dataset import folder_of, load
from bench.mix import questions
from bench.run import Bulked, focus_of
from usagelens.app import create_app
from usagelens.settings import Settings
from usagelens.storage.duckdb.database import Database


@dataclass
class Statement:
    """One statement's time, in ms."""

    planning: float
    execution: float
    client: float
    fetch: float = 0.0


@dataclass
class Parts:
    """The medians of one question's requests, in ms."""

    name: str
    path: str
    request_ms: float  # as served, without the profiler
    statements: float  # statements a request runs
    planning_ms: float
    execution_ms: float
    client_ms: float
    fetch_ms: float
    python_ms: float  # request_ms less every statement's time (profiled)


class _ProfiledCursor:
    """A read cursor that records the profile of every statement it runs into ``log``."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection, log: list[Statement]) -> None:
        cursor.execute("PRAGMA enable_profiling='no_output'")
        cursor.execute("SET profiling_mode = 'detailed'")  # with the planner's timings
        self._cursor = cursor
        self.log = log
        self._sql = ""

    def execute(self, sql: str, params: Any = ()) -> "_ProfiledCursor":
        began = time.perf_counter()
        self._cursor.execute(sql, params)
        # The engine ran the statement; its profile is complete once the result is fetched.
        self.log.append(Statement(0.0, 0.0, (time.perf_counter() - began) * 1000))
        self._sql = sql
        return self

    def _fetched(self, fetch: Callable[[], Any]) -> Any:
        began = time.perf_counter()
        result = fetch()
        statement = self.log[-1]
        statement.fetch += (time.perf_counter() - began) * 1000
        profile = json.loads(self._cursor.get_profiling_information())
        if profile.get("query", {}).get("sql", "").strip() == self._sql.strip():
            planning = (
                profile["planner"]["total_time"]
                + profile["optimizer"]["total_time"]
                + profile["physical_planner"]["total_time"]
            ) * 1000
            engine = profile["query"]["total_time"] * 1000
            statement.planning, statement.execution = planning, engine - planning
            statement.client = max(0.0, statement.client - engine)
        return result

    def fetchall(self) -> Any:
        return self._fetched(self._cursor.fetchall)

    def fetchone(self) -> Any:
        # The whole result: a statement's profile is complete once its result is exhausted.
        rows = self._fetched(self._cursor.fetchall)
        return rows[0] if rows else None

    def fetchnumpy(self) -> Any:
        return self._fetched(self._cursor.fetchnumpy)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


@contextmanager
def profiled_reads(log: list[Statement]) -> Iterator[None]:
    """Every read cursor that ``Database`` hands out meanwhile records into ``log``: a cursor
    of each thread of its own, kept for the next time, beside the thread's usual one."""
    original = Database._cursor

    def cursor(self: Database) -> Any:
        made: Any = getattr(self._local, "profiled", None)
        if made is None:
            made = _ProfiledCursor(self._con.cursor(), log)
            made.execute("SET TimeZone = 'UTC'")
            self._local.profiled = made
        made.log = log
        return made

    Database._cursor = cursor  # type: ignore[method-assign]
    try:
        yield
    finally:
        Database._cursor = original  # type: ignore[method-assign]


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0


async def _request_ms(client: httpx.AsyncClient, path: str) -> float:
    began = time.perf_counter()
    (await client.get(path)).raise_for_status()
    return (time.perf_counter() - began) * 1000


def anatomy(db: Path, key: str, paths: Sequence[tuple[str, str]], requests: int) -> list[Parts]:
    """Each (name, path) asked of the application on ``db`` ``requests`` times as served and as
    many times profiled, in turns, so that both see the machine alike."""
    app = create_app(Settings(db=db, decode_processes=0))
    return asyncio.run(_anatomy(app, key, paths, requests))


@asynccontextmanager
async def in_process(app: FastAPI, key: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``app`` through its ASGI interface, inside the app's lifespan."""
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://usagelens",
            headers={"X-API-Key": key},
        ) as client,
    ):
        yield client


async def _anatomy(
    app: FastAPI, key: str, paths: Sequence[tuple[str, str]], requests: int
) -> list[Parts]:
    found: list[Parts] = []
    async with in_process(app, key) as client:
        for name, path in paths:
            served: list[float] = []
            per_request: list[list[Statement]] = []
            log: list[Statement] = []
            for _ in range(requests + 2):  # two more turns, to warm caches and cursors
                served.append(await _request_ms(client, path))
                with profiled_reads(log):
                    log.clear()
                    (await client.get(path)).raise_for_status()
                per_request.append(list(log))
            found.append(_parts(name, path, _median(served[2:]), per_request[2:]))
    return found


def _parts(name: str, path: str, served: float, per_request: list[list[Statement]]) -> Parts:
    def median_of(part: Callable[[Statement], float]) -> float:
        return _median([sum(part(s) for s in statements) for statements in per_request])

    planning = median_of(lambda s: s.planning)
    execution = median_of(lambda s: s.execution)
    client = median_of(lambda s: s.client)
    fetch = median_of(lambda s: s.fetch)
    return Parts(
        name=name,
        path=path,
        request_ms=served,
        statements=_median([len(statements) for statements in per_request]),
        planning_ms=planning,
        execution_ms=execution,
        client_ms=client,
        fetch_ms=fetch,
        python_ms=max(0.0, served - planning - execution - client - fetch),
    )


def table(found: Sequence[Parts]) -> str:
    lines = [
        "| question | request | statements | planning | execution | client | fetch | Python |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for parts in found:
        figures = (
            parts.request_ms,
            parts.planning_ms,
            parts.execution_ms,
            parts.client_ms,
            parts.fetch_ms,
            parts.python_ms,
        )
        request, *split = (f"{value:.1f}" for value in figures)
        statements = f"{parts.statements:g}"
        lines.append(" | ".join(["", parts.name, request, statements, *split, ""]).strip())
    return "\n".join(lines)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", required=True, help="1M, 10M or 100M: the run kept")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--requests", type=int, default=15, help="per question and pass")
    parser.add_argument("--data", type=Path, default=Path("bench/data"))
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument("--json", type=Path, help="also write the figures there")
    parser.add_argument(
        "--only", action="append", default=[], help="questions whose name holds this"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse(argv)
    work = args.out / f"work-{args.size}"
    db = work / "usagelens.duckdb"
    bulked = Bulked.saved(work)
    if bulked is None or not db.exists():
        sys.exit(f"no kept run in {work}: run python -m bench.run --size {args.size} --keep")
    dataset = load(folder_of(args.data, args.size, args.seed))
    if dataset is None:
        sys.exit(f"no dataset of {args.size} events in {args.data}")
    focus, parents = focus_of(dataset)
    paths = [
        (q.name, q.path)
        for q in questions(focus, parents)
        if not args.only or any(part in q.name for part in args.only)
    ]
    found = anatomy(db, bulked.keys.tenants[focus.tenant], paths, args.requests)
    print(f"{args.size} events, medians of {args.requests} requests per question, in ms:\n")
    print(table(found))
    if args.json is not None:
        args.json.write_text(json.dumps([asdict(parts) for parts in found], indent=2) + "\n")


if __name__ == "__main__":
    main()
