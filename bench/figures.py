"""What every measured query yields, whoever answers it, and the run's step timings."""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from bench.timing import Call, Latency


@dataclass
class Figure:
    engine: str
    how: str
    p50_ms: float
    p95_ms: float
    p99_ms: float
    samples: int
    requests_per_s: float
    agreement: str
    agrees: bool


def figure(
    engine: str, how: str, timed: Latency, rate: float, agreement: str, agrees: bool
) -> Figure:
    p50, p95, p99 = timed.p50_ms, timed.p95_ms, timed.p99_ms
    return Figure(engine, how, p50, p95, p99, timed.samples, rate, agreement, agrees)


@dataclass
class Row:
    question: str
    path: str
    keys: int  # non-zero keys of the API's answer
    figures: list[Figure] = field(default_factory=list)


@dataclass
class Steps:
    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        print(f"{name} ...", flush=True)
        began = time.perf_counter()
        yield
        self.seconds[name] = round(time.perf_counter() - began, 1)
        print(f"{name}: {self.seconds[name]:.1f} s", flush=True)


def same_call(call: Call) -> Callable[[int], Call]:
    """For ``timing.throughput``: every thread makes the same call."""
    return lambda _: call
