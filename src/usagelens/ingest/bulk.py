"""Loading a file of events (NDJSON or a JSON array) in chunks, resumably.

Each chunk is validated like an API request and committed together with a checkpoint of how
far the file has been read, so a load that was interrupted resumes after its last committed
chunk; anything re-read is recognised as duplicate by id, so nothing is ever counted twice.
"""

import gc
import hashlib
from collections import deque
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import chain, islice
from pathlib import Path
from typing import TypeVar

import msgspec
import pyarrow as pa

from usagelens.ingest.errors import InvalidEvents, RejectedBody
from usagelens.ingest.native import native_batch
from usagelens.ingest.parsing import decode_lines
from usagelens.ingest.rows import parse_and_build
from usagelens.ingest.schemas import RAW_LIST
from usagelens.ingest.tenancy import bulk_tenant_resolver
from usagelens.ingest.workers import decoding_pool
from usagelens.storage.base import Backend, Checkpoint
from usagelens.tenants.models import Tenant

# Each chunk is one commit: DuckDB's per-commit cost and the id checks per tenant are paid
# once per chunk, so 100,000 events load about 1.5 times as fast as 10,000.
CHUNK_EVENTS = 100_000
_Item = TypeVar("_Item")
_FINGERPRINT_BYTES = 1 << 20


@dataclass
class Chunk:
    lines: Sequence[bytes | msgspec.Raw]
    line_numbers: list[int]
    end_offset: int  # bytes read (NDJSON) or elements read (JSON array) after this chunk


@dataclass
class BulkReport:
    accepted: int = 0
    duplicates: int = 0
    resumed_from: int = 0
    events_read: int = 0


class BulkInvalid(Exception):
    """A chunk had invalid events; it and the rest of the file were not loaded."""

    def __init__(self, invalid: InvalidEvents, where: list[str], report: BulkReport) -> None:
        super().__init__(str(invalid))
        self.invalid = invalid
        self.where = where  # "line N" / "element N" for each error, in order
        self.report = report


def fingerprint(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(_FINGERPRINT_BYTES)
    return hashlib.sha256(str(path.resolve()).encode() + b"\0" + head).hexdigest()


def _is_json_array(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4096).lstrip()[:1] == b"["


def _lines_before(path: Path, offset: int) -> int:
    """Lines in the first ``offset`` bytes, so that a resumed load still reports line numbers."""
    count = 0
    with path.open("rb") as handle:
        while offset > 0:
            block = handle.read(min(offset, 1 << 20))
            if not block:
                break
            count += block.count(b"\n")
            offset -= len(block)
    return count


def _ndjson_chunks(path: Path, start: int, size: int) -> Iterator[Chunk]:
    with path.open("rb") as handle:
        handle.seek(start)
        offset = start
        line_number = _lines_before(path, start)
        lines: list[bytes] = []
        numbers: list[int] = []
        for raw in handle:
            offset += len(raw)
            line_number += 1
            if raw.strip():
                lines.append(raw)
                numbers.append(line_number)
            if len(lines) >= size:
                yield Chunk(lines, numbers, offset)
                lines, numbers = [], []
        if lines:
            yield Chunk(lines, numbers, offset)


def _array_chunks(path: Path, start: int, size: int) -> Iterator[Chunk]:
    try:
        items = RAW_LIST.decode(path.read_bytes())
    except msgspec.DecodeError as error:
        raise RejectedBody(400, f"{path} is not a valid JSON array: {error}") from None
    gc.freeze()  # millions of items stay alive: spare the cycle collector from walking them
    for begin in range(start, len(items), size):
        part = items[begin : begin + size]
        yield Chunk(
            part,
            list(range(begin, begin + len(part))),
            begin + len(part),
        )


@dataclass(frozen=True)
class ChunkDecoder:
    """Decodes, checks and lays out a chunk's events: natively when the chunk is plain, else
    exactly (see ``native``). It holds the tenants rather than the backend, so that worker
    processes can run it: while a file loads, the loading process holds the file, so no tenant
    can be created meanwhile."""

    default: Tenant | None
    tenants: Mapping[str, Tenant]
    max_future: timedelta

    def __call__(self, lines: Sequence[bytes | msgspec.Raw], first_index: int) -> pa.Table:
        resolve = bulk_tenant_resolver(self.default, self.tenants.get)
        now = datetime.now(UTC)
        native = native_batch(_ndjson(lines), len(lines), resolve, now, self.max_future)
        if native is not None:
            return native
        return parse_and_build(
            partial(decode_lines, lines, first_index), resolve, now, self.max_future, first_index
        )


def _ndjson(lines: Sequence[bytes | msgspec.Raw]) -> bytes:
    """The chunk's events, one to a line: NDJSON lines end with their newline (all but a
    file's last), JSON array items don't."""
    first = lines[0]
    return (b"" if isinstance(first, bytes) and first.endswith(b"\n") else b"\n").join(lines)


_Prepared = tuple[Chunk, int, pa.Table | InvalidEvents]


def _prepared_here(
    chunks: Iterator[Chunk], first_index: int, decode: ChunkDecoder
) -> Generator[_Prepared, None, None]:
    """Each chunk with the index of its first event, decoded and laid out, or why it can't be;
    nothing after the first invalid chunk."""
    for chunk in chunks:
        try:
            table = decode(chunk.lines, first_index)
        except InvalidEvents as invalid:
            yield chunk, first_index, invalid
            return
        yield chunk, first_index, table
        first_index += len(chunk.lines)


def _one_ahead(items: Iterator[_Item]) -> Generator[_Item, None, None]:
    """Produce the next item on another thread while the caller handles this one: decoding
    holds the GIL, while DuckDB releases it as it stores the previous chunk."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        upcoming = pool.submit(next, items, None)
        while (item := upcoming.result()) is not None:
            upcoming = pool.submit(next, items, None)
            yield item


def _prepared_in_workers(
    chunks: Iterator[Chunk], first_index: int, decode: ChunkDecoder, workers: int
) -> Generator[_Prepared, None, None]:
    """As ``_prepared_here``, with chunks decoded by worker processes, in order, while this
    process stores the ones before: decoding holds the GIL, so threads would take turns. Closing
    it drops the chunks still queued."""
    pool = decoding_pool(workers)
    try:
        for chunk, index, table in _submitted_ahead(pool, chunks, first_index, decode, workers):
            try:
                yield chunk, index, table.result()
            except InvalidEvents as invalid:
                yield chunk, index, invalid
    finally:
        pool.shutdown(cancel_futures=True)


def _submitted_ahead(
    pool: ProcessPoolExecutor,
    chunks: Iterator[Chunk],
    first_index: int,
    decode: ChunkDecoder,
    ahead: int,
) -> Iterator[tuple[Chunk, int, Future[pa.Table]]]:
    """The chunks in order, each with its decoding under way, ``ahead`` more submitted beyond
    the one given: enough to keep the workers busy, few enough to bound the memory."""
    pending: deque[tuple[Chunk, int, Future[pa.Table]]] = deque()
    for chunk in chunks:
        lines = chunk.lines if isinstance(chunk.lines[0], bytes) else _plain(chunk.lines)
        pending.append((chunk, first_index, pool.submit(decode, lines, first_index)))
        first_index += len(chunk.lines)
        if len(pending) > ahead:
            yield pending.popleft()
    yield from pending


def _plain(items: Sequence[bytes | msgspec.Raw]) -> list[bytes]:
    """JSON array items as bytes, which pickle (msgspec's raw items don't)."""
    return [bytes(item) for item in items]


def load_file(
    backend: Backend,
    path: Path,
    default_tenant: Tenant | None = None,
    on_chunk: Callable[[int, int], None] | None = None,
    chunk_events: int = CHUNK_EVENTS,
    max_future: timedelta = timedelta(minutes=5),
    workers: int = 0,
) -> BulkReport:
    """Load ``path``, every event for ``default_tenant`` or for the tenant it names;
    ``on_chunk(position, events)`` reports progress after each commit. With ``workers``, that
    many processes decode the chunks, unless the file holds only one."""
    is_array = _is_json_array(path)
    file_print = fingerprint(path)
    saved = backend.checkpoint(file_print)
    start = saved.offset_bytes if saved else 0
    report = BulkReport(resumed_from=start, events_read=saved.events_seen if saved else 0)
    chunks = (_array_chunks if is_array else _ndjson_chunks)(path, start, chunk_events)
    first_two = list(islice(chunks, 2))
    chunks = chain(first_two, chunks)
    tenants = {tenant.name: tenant for tenant in backend.list_tenants()}
    decode = ChunkDecoder(default_tenant, tenants, max_future)
    if workers and len(first_two) > 1:
        prepared = _prepared_in_workers(chunks, report.events_read, decode, workers)
    else:
        prepared = _one_ahead(_prepared_here(chunks, report.events_read, decode))
    with closing(prepared):  # an invalid chunk ends the load: its workers stop with it
        for chunk, first_index, table in prepared:
            if isinstance(table, InvalidEvents):
                where = [_position(chunk, e.index - first_index, is_array) for e in table.errors]
                raise BulkInvalid(table, where, report)
            report.events_read += len(chunk.lines)
            checkpoint = Checkpoint(file_print, str(path), chunk.end_offset, report.events_read)
            (result,) = backend.append_events([table], checkpoint)
            report.accepted += result.accepted
            report.duplicates += result.duplicates
            if on_chunk is not None:
                on_chunk(chunk.end_offset, len(chunk.lines))
    return report


def _position(chunk: Chunk, offset: int, is_array: bool) -> str:
    number = chunk.line_numbers[offset]
    return f"element {number}" if is_array else f"line {number}"
