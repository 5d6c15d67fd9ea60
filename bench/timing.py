"""Latency at concurrency 1 and throughput at concurrency 16 of any call: an HTTP request to the
server or a baseline's query, timed the same way."""

import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench.latency import percentile

CONCURRENCY = 16
Call = Callable[[], object]


@dataclass(frozen=True)
class Budget:
    requests: int  # samples at concurrency 1 (fewer if ``seconds`` run out first, at least 5)
    most: int  # requests at concurrency 16 (fewer if ``seconds`` run out first)
    seconds: float  # time cap of each of the two measurements


@dataclass(frozen=True)
class Latency:
    p50_ms: float
    p95_ms: float
    p99_ms: float
    samples: int


def latency(call: Call, budget: Budget) -> Latency:
    for _ in range(2):  # warm caches, connections and plans
        call()
    samples: list[float] = []
    deadline = time.perf_counter() + budget.seconds
    while len(samples) < budget.requests and (len(samples) < 5 or time.perf_counter() < deadline):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    return Latency(
        statistics.median(samples),
        percentile(samples, 0.95),
        percentile(samples, 0.99),
        len(samples),
    )


def throughput(make: Callable[[int], Call], budget: Budget, warm: bool = True) -> float:
    """Requests/s of CONCURRENCY threads, thread ``n`` calling ``make(n)`` (its own client,
    cursor or session), until ``budget.most`` requests are done or its seconds have passed;
    calls still running then are waited for and counted. ``warm``: each thread makes one call
    before the clock starts (its connection, cursor or session)."""
    lock = threading.Lock()
    done = [0]
    errors: list[BaseException] = []
    ready = threading.Barrier(CONCURRENCY + 1)
    deadline = [float("inf")]

    def worker(n: int) -> None:
        try:
            call = make(n)
            if warm:
                call()
        except BaseException as error:
            errors.append(error)
            ready.abort()
            return
        try:
            ready.wait()
            while time.perf_counter() < deadline[0]:
                with lock:
                    if done[0] >= budget.most:
                        return
                    done[0] += 1
                call()
        except BaseException as error:  # raised below, in the caller's thread
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(CONCURRENCY)]
    for thread in threads:
        thread.start()
    try:
        ready.wait()
    except threading.BrokenBarrierError:
        for thread in threads:
            thread.join()
        raise errors[0] from None
    began = time.perf_counter()
    deadline[0] = began + budget.seconds
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise errors[0]
    return done[0] / elapsed


def round_robin(calls: Sequence[Call], start: int) -> Call:
    """One call after the other of ``calls``, from ``start`` on: a thread's share of a mix."""
    position = [start]

    def call() -> object:
        position[0] = (position[0] + 1) % len(calls)
        return calls[position[0]]()

    return call
