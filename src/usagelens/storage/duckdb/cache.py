"""Per-tenant answers kept in memory until a write of this process changes them (while it
serves, only this process writes the file)."""

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

Value = TypeVar("Value")


class TenantCache(Generic[Value]):
    """Each value is tagged with its tenant's generation from before its read began, and kept
    only while that is still the generation: a read racing a change is never served again.
    Writers call ``changed`` after their commit."""

    def __init__(self) -> None:
        self._values: dict[int, tuple[tuple[int, int], Value]] = {}
        self._generations: dict[int, int] = {}
        self._epoch = 0  # bumped when every tenant's values change at once
        self._lock = threading.Lock()

    def get(self, tenant_id: int, read: Callable[[], Value]) -> Value:
        generation = (self._epoch, self._generations.get(tenant_id, 0))
        cached = self._values.get(tenant_id)
        if cached is not None and cached[0] == generation:
            return cached[1]
        value = read()
        self._values[tenant_id] = (generation, value)
        return value

    def changed(self, tenant_id: int) -> None:
        with self._lock:  # two writers' bumps must both count
            self._generations[tenant_id] = self._generations.get(tenant_id, 0) + 1

    def all_changed(self) -> None:
        with self._lock:
            self._epoch += 1
