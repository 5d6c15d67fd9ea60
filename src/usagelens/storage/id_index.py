"""An in-memory index of every stored event id's 64-bit hash, per tenant.

It answers "certainly new" for almost every id without touching storage, so that dedupe stays
exact forever without an ever-growing unique index in the database. A hit is only a candidate:
the backend confirms it against the stored ids, so a hash collision never drops an event.
Sorted arrays are kept in levels of doubling size (as in an LSM tree): adding is amortised
O(log n) per id and a lookup is a binary search per level.
"""

import numpy as np
import numpy.typing as npt

Hashes = npt.NDArray[np.uint64]


class IdIndex:
    def __init__(self) -> None:
        self._levels: dict[int, list[Hashes]] = {}

    def __len__(self) -> int:
        return sum(level.size for levels in self._levels.values() for level in levels)

    def add(self, tenant_id: int, hashes: Hashes) -> None:
        if hashes.size == 0:
            return
        levels = self._levels.setdefault(tenant_id, [])
        levels.append(np.sort(hashes))
        while len(levels) > 1 and levels[-2].size <= 2 * levels[-1].size:
            newest = levels.pop()
            levels[-1] = np.sort(np.concatenate((levels[-1], newest)), kind="stable")

    def add_all(self, tenant_id: int, hashes: Hashes) -> None:
        """Every stored hash of a tenant at once: sorted in place, the array becomes the
        tenant's one level (loading a large file merges no levels and copies nothing)."""
        if tenant_id in self._levels:
            self.add(tenant_id, hashes)
            return
        hashes.sort()
        self._levels[tenant_id] = [hashes]

    def might_contain(self, tenant_id: int, hashes: Hashes) -> npt.NDArray[np.bool_]:
        levels = self._levels.get(tenant_id, ())
        if not levels or hashes.size == 0:
            return np.zeros(hashes.size, dtype=np.bool_)
        # Searched in ascending order: numpy starts each binary search from where the previous
        # one ended, so a batch walks a level once instead of missing the cache at every step.
        # 100,000 probes into 50 million hashes: 196 ms in arrival order, 40 sorted.
        order = np.argsort(hashes)
        probes = hashes[order]
        hits = np.zeros(hashes.size, dtype=np.bool_)
        for level in levels:
            positions = np.searchsorted(level, probes)
            inside = positions < level.size
            hits[inside] |= level[positions[inside]] == probes[inside]
        found = np.empty(hashes.size, dtype=np.bool_)
        found[order] = hits
        return found
