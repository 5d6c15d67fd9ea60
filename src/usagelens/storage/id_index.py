"""An in-memory index of every stored event id's hash, per tenant.

It answers "certainly new" for almost every id without touching storage, so that dedupe stays
exact forever without an ever-growing unique index in the database. A hit is only a candidate:
the backend confirms it against the stored ids, so a hash collision never drops an event.

So the index need not hold whole hashes: it keeps their top 48 bits, their fingerprints. A new
id is a candidate by mistake with a chance of (the tenant's stored ids) / 2**48: one in 2.8
million at 100 million ids, where a confirmation costs one small query.

Sorted arrays are kept in levels of doubling size (as in an LSM tree): adding is amortised
O(log n) per id and a lookup is a binary search per level. A level of a million fingerprints or
more is packed in about 4.3 bytes each instead of 8 (see _Packed).
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Hashes = npt.NDArray[np.uint64]
Found = npt.NDArray[np.bool_]

FINGERPRINT_BITS = 48
_DROPPED_BITS = np.uint64(64 - FINGERPRINT_BITS)
_KEY_BITS_AT_MOST = 32  # a packed level's keys are uint32
_CHUNK = 1 << 20  # fingerprints cut to keys at a time while packing, so no 8-byte copy is made


def fingerprints(hashes: Hashes) -> Hashes:
    return hashes >> _DROPPED_BITS


@dataclass(frozen=True)
class _Packed:
    """Sorted fingerprints split in buckets by their top bits: a bucket's fingerprints share
    those bits, so only the rest (the key, at most 32 bits) is stored, and where each bucket
    starts. With about 8 to 16 fingerprints a bucket, a level takes 4 bytes a fingerprint and
    0.25 to 0.5 more for the starts."""

    starts: npt.NDArray[np.uint32] | npt.NDArray[np.int64]  # each bucket's first key; the end
    keys: npt.NDArray[np.uint32]
    key_bits: int

    @classmethod
    def of(cls, values: Hashes) -> "_Packed":
        """Of sorted fingerprints."""
        bucket_bits = max(FINGERPRINT_BITS - _KEY_BITS_AT_MOST, values.size.bit_length() - 4)
        key_bits = FINGERPRINT_BITS - bucket_bits
        bounds = np.arange((1 << bucket_bits) + 1, dtype=np.uint64) << np.uint64(key_bits)
        positions = np.searchsorted(values, bounds)
        starts: npt.NDArray[np.uint32] | npt.NDArray[np.int64] = (
            positions.astype(np.uint32) if values.size < 1 << 32 else positions.astype(np.int64)
        )
        keys = np.empty(values.size, dtype=np.uint32)
        for first in range(0, values.size, _CHUNK):
            # An unsigned cast keeps the low 32 bits (4.5 times as fast as masking first).
            chunk = slice(first, first + _CHUNK)
            np.copyto(keys[chunk], values[chunk], casting="unsafe")
        keys &= np.uint32((1 << key_bits) - 1)
        return cls(starts, keys, key_bits)

    # A packed level answers size and nbytes as a plain one does: the index need not tell them
    # apart to count.
    @property
    def size(self) -> int:
        return self.keys.size

    @property
    def nbytes(self) -> int:
        return self.starts.nbytes + self.keys.nbytes

    def unpacked(self) -> Hashes:
        buckets = np.arange(self.starts.size - 1, dtype=np.uint64)
        values = np.repeat(buckets, np.diff(self.starts))
        values <<= np.uint64(self.key_bits)
        values |= self.keys
        return values

    def contains(self, probes: Hashes) -> Found:
        """Of sorted fingerprints: a binary search in each one's bucket, all at once."""
        buckets = (probes >> np.uint64(self.key_bits)).astype(np.intp)
        keys = (probes & np.uint64((1 << self.key_bits) - 1)).astype(np.uint32)
        low = self.starts[buckets].astype(np.intp)
        end = self.starts[buckets + 1].astype(np.intp)
        high = end.copy()
        last = max(self.size - 1, 0)
        searching = low < high
        while searching.any():
            middle = (low + high) >> 1
            below = self.keys[np.minimum(middle, last)] < keys
            low = np.where(searching & below, middle + 1, low)
            high = np.where(searching & ~below, middle, high)
            searching = low < high
        found = np.zeros(probes.size, dtype=np.bool_)
        inside = np.flatnonzero(low < end)
        found[inside] = self.keys[low[inside]] == keys[inside]
        return found


Level = Hashes | _Packed


def _values(level: Level) -> Hashes:
    return level.unpacked() if isinstance(level, _Packed) else level


def _contains(level: Level, probes: Hashes) -> Found:
    if isinstance(level, _Packed):
        return level.contains(probes)
    positions = np.searchsorted(level, probes)
    inside = positions < level.size
    found = np.zeros(probes.size, dtype=np.bool_)
    found[inside] = level[positions[inside]] == probes[inside]
    return found


class IdIndex:
    # Smaller levels stay plain: a packed level has at least 2**16 buckets.
    pack_from = 1 << 20

    def __init__(self) -> None:
        self._levels: dict[int, list[Level]] = {}

    def __len__(self) -> int:
        return sum(level.size for levels in self._levels.values() for level in levels)

    @property
    def nbytes(self) -> int:
        return sum(level.nbytes for levels in self._levels.values() for level in levels)

    def _level(self, sorted_fingerprints: Hashes) -> Level:
        if sorted_fingerprints.size < self.pack_from:
            return sorted_fingerprints
        return _Packed.of(sorted_fingerprints)

    def add(self, tenant_id: int, hashes: Hashes) -> None:
        if hashes.size == 0:
            return
        levels = self._levels.setdefault(tenant_id, [])
        levels.append(np.sort(fingerprints(hashes)))
        while len(levels) > 1 and levels[-2].size <= 2 * levels[-1].size:
            newest = _values(levels.pop())
            merged = np.concatenate((_values(levels[-1]), newest))
            del newest
            levels[-1] = self._level(np.sort(merged, kind="stable"))

    def add_all(self, tenant_id: int, hashes: Hashes) -> None:
        """Every stored hash of a tenant at once: shifted and sorted in place, the array becomes
        the tenant's one level (loading a large file merges no levels), packed if large."""
        if tenant_id in self._levels:
            self.add(tenant_id, hashes)
            return
        hashes >>= _DROPPED_BITS
        hashes.sort()
        self._levels[tenant_id] = [self._level(hashes)]

    def might_contain(self, tenant_id: int, hashes: Hashes) -> Found:
        levels = self._levels.get(tenant_id, ())
        if not levels or hashes.size == 0:
            return np.zeros(hashes.size, dtype=np.bool_)
        # Searched in ascending order: numpy starts each binary search from where the previous
        # one ended, so a batch walks a level once instead of missing the cache at every step.
        # 100,000 probes into 50 million hashes: 196 ms in arrival order, 40 sorted.
        order = np.argsort(hashes)
        probes = fingerprints(hashes[order])
        hits = np.zeros(hashes.size, dtype=np.bool_)
        for level in levels:
            hits |= _contains(level, probes)
        found = np.empty(hashes.size, dtype=np.bool_)
        found[order] = hits
        return found
