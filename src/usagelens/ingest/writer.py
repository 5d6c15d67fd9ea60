"""Group commit: one writer thread stores the batches of all concurrent requests together.

Each request is answered only after the transaction holding its events has committed, so an
acknowledgement always means durable; committing many requests at once spreads the fixed cost
of a commit over all of them.
"""

import asyncio
import queue
import threading
from dataclasses import dataclass

import pyarrow as pa

from usagelens.storage.base import AppendResult, Backend

_STOP = object()


@dataclass
class _Pending:
    table: pa.Table
    future: "asyncio.Future[AppendResult]"
    loop: asyncio.AbstractEventLoop


def _settle(pending: _Pending, result: AppendResult | BaseException) -> None:
    def apply() -> None:
        if pending.future.done():  # the client went away; its events are stored all the same
            return
        if isinstance(result, BaseException):
            pending.future.set_exception(result)
        else:
            pending.future.set_result(result)

    pending.loop.call_soon_threadsafe(apply)


class GroupCommitWriter:
    def __init__(self, backend: Backend, max_group_events: int = 100_000) -> None:
        self._backend = backend
        self._max_group_events = max_group_events
        self._queue: queue.Queue[_Pending | object] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="usagelens-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(_STOP)
        self._thread.join()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    async def submit(self, table: pa.Table) -> AppendResult:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[AppendResult] = loop.create_future()
        self._queue.put(_Pending(table, future, loop))
        return await future

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            assert isinstance(first, _Pending)
            group = [first]
            events = first.table.num_rows
            stop_after = False
            while events < self._max_group_events:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop_after = True
                    break
                assert isinstance(item, _Pending)
                group.append(item)
                events += item.table.num_rows
            self._commit(group)
            if stop_after:
                return

    def _commit(self, group: list[_Pending]) -> None:
        try:
            results = self._backend.append_events([pending.table for pending in group])
        except Exception as error:
            for pending in group:
                _settle(pending, error)
            return
        for pending, result in zip(group, results, strict=True):
            _settle(pending, result)
