"""IdIndex against a plain Python set of the hashes' top 48 bits: per tenant, over many levels,
plain and packed."""

import numpy as np
import numpy.typing as npt
from hypothesis import given, settings
from hypothesis import strategies as st

from usagelens.storage.id_index import IdIndex

MAX_HASH = 2**64 - 1
# Edge values of uint64 and a few near-neighbours, so that off-by-one searches show.
EDGES = (0, 1, 2, 2**63 - 1, 2**63, 2**63 + 1, MAX_HASH - 1, MAX_HASH)
HASHES = st.one_of(st.sampled_from(EDGES), st.integers(min_value=0, max_value=MAX_HASH))
# Probes near hashes: the same top 48 bits (the index cannot tell them apart: a candidate), or
# the neighbouring ones.
NUDGES = st.sampled_from((1, 2**15, 2**16 - 1, 2**16, 2**16 + 1, 2**40, 2**63))
TENANTS = st.integers(min_value=1, max_value=3)
# Many small adds build many levels; some adds repeat hashes already added.
ADDS = st.lists(st.tuples(TENANTS, st.lists(HASHES, max_size=6)), min_size=1, max_size=150)


def hashes(values: list[int]) -> npt.NDArray[np.uint64]:
    return np.array(values, dtype=np.uint64)


def top_48(values: set[int]) -> set[int]:
    return {value >> 16 for value in values}


def check(index: IdIndex, added: dict[int, set[int]], probes: list[int], nudge: int) -> None:
    for tenant in (1, 2, 3, 4):
        mine = added.get(tenant, set())
        near = [(value + sign * nudge) % 2**64 for value in sorted(mine) for sign in (1, -1)]
        queries = sorted(mine) + probes + near + sorted(mine)[::-1]
        found = index.might_contain(tenant, hashes(queries))
        assert found.dtype == np.bool_
        fingerprints = top_48(mine)
        assert found.tolist() == [value >> 16 in fingerprints for value in queries], tenant


@settings(max_examples=60, derandomize=True, database=None, deadline=None)
@given(
    adds=ADDS, probes=st.lists(HASHES, max_size=40), nudge=NUDGES, pack_from=st.sampled_from((1, 7))
)
def test_might_contain_answers_by_fingerprint_per_tenant(
    adds: list[tuple[int, list[int]]], probes: list[int], nudge: int, pack_from: int
) -> None:
    """Every level packed (from one fingerprint), or those of 7 and more, as a million and more
    are in service."""
    index = IdIndex()
    index.pack_from = pack_from
    added: dict[int, set[int]] = {}
    for number, (tenant, values) in enumerate(adds):
        index.add(tenant, hashes(values))
        added.setdefault(tenant, set()).update(values)
        if number % 10 == 0:  # also correct part-way, between merges of levels
            check(index, added, probes, nudge)
    check(index, added, probes, nudge)


def test_a_large_level_is_packed_in_about_half_the_bytes() -> None:
    """Two million random hashes: the packed level's 2**17 buckets hold 15.3 on average, whose
    keys take 4 bytes each, and the buckets' starts 4 each: 8,524,292 bytes instead of
    16,000,000, and the same answers (a set of fingerprints, with neighbours a bit away)."""
    rng = np.random.default_rng(3)
    values = rng.integers(0, MAX_HASH, size=2_000_000, dtype=np.uint64, endpoint=True)
    index = IdIndex()
    index.add_all(1, values.copy())
    assert len(index) == 2_000_000
    assert index.nbytes == 2_000_000 * 4 + (2**17 + 1) * 4
    probes = np.concatenate((values[:50_000], values[:50_000] ^ np.uint64(1 << 16)))
    probes = np.concatenate((probes, values[:50_000] ^ np.uint64(1 << 15)))
    stored = top_48(set(values.tolist()))
    expected = [value >> 16 in stored for value in probes.tolist()]
    assert index.might_contain(1, probes).tolist() == expected
    # Both answers are asked: the same top bits, and one bit above them flipped.
    assert all(expected[:50_000])
    assert all(expected[100_000:])
    assert sum(expected[50_000:100_000]) < 10


def test_many_single_adds_over_many_levels() -> None:
    """Thousands of one-hash adds (the worst case for levels), checked against a set."""
    rng = np.random.default_rng(7)
    values = rng.integers(0, MAX_HASH, size=3000, dtype=np.uint64, endpoint=True)
    index = IdIndex()
    for position in range(2000):
        index.add(5, values[position : position + 1])
    assert index.might_contain(5, values[:2000]).all()
    assert not index.might_contain(5, values[2000:]).any()
    assert not index.might_contain(6, values[:2000]).any()
    # Neighbours of stored values past their top 48 bits are not confused with them; those
    # within are candidates.
    stored = values[:2000]
    above = stored[stored < MAX_HASH - 2**16] + np.uint64(2**16)
    fresh = above[~np.isin(above >> np.uint64(16), stored >> np.uint64(16))]
    assert fresh.size > 1900
    assert not index.might_contain(5, fresh).any()
    assert index.might_contain(5, stored ^ np.uint64(2**16 - 1)).all()


def test_empty_adds_and_queries() -> None:
    index = IdIndex()
    assert index.might_contain(1, hashes([])).tolist() == []
    assert index.might_contain(1, hashes([0, MAX_HASH])).tolist() == [False, False]
    index.add(1, hashes([]))
    assert index.might_contain(1, hashes([0])).tolist() == [False]
    index.add(1, hashes([MAX_HASH]))
    assert index.might_contain(1, hashes([0, MAX_HASH])).tolist() == [False, True]


def test_add_all_makes_one_level_that_later_adds_join() -> None:
    rng = np.random.default_rng(11)
    values = rng.integers(0, MAX_HASH, size=5000, dtype=np.uint64, endpoint=True)
    index = IdIndex()
    index.add_all(1, values[:3000].copy())
    index.add_all(2, values[3000:3500].copy())
    index.add_all(1, values[3500:4000].copy())  # a tenant that has levels: merged like add
    for position in range(4000, 4500):
        index.add(1, values[position : position + 1])
    one = top_48(set(values[:3000].tolist()) | set(values[3500:4500].tolist()))
    two = top_48(set(values[3000:3500].tolist()))
    probes = values.tolist()
    assert index.might_contain(1, values).tolist() == [v >> 16 in one for v in probes]
    assert index.might_contain(2, values).tolist() == [v >> 16 in two for v in probes]
    assert len(index) == 4500
