"""IdIndex against a plain Python set: exact on 64-bit hashes, per tenant, over many levels."""

import numpy as np
import numpy.typing as npt
from hypothesis import given, settings
from hypothesis import strategies as st

from usagelens.storage.id_index import IdIndex

MAX_HASH = 2**64 - 1
# Edge values of uint64 and a few near-neighbours, so that off-by-one searches show.
EDGES = (0, 1, 2, 2**63 - 1, 2**63, 2**63 + 1, MAX_HASH - 1, MAX_HASH)
HASHES = st.one_of(st.sampled_from(EDGES), st.integers(min_value=0, max_value=MAX_HASH))
TENANTS = st.integers(min_value=1, max_value=3)
# Many small adds build many levels; some adds repeat hashes already added.
ADDS = st.lists(st.tuples(TENANTS, st.lists(HASHES, max_size=6)), min_size=1, max_size=150)


def hashes(values: list[int]) -> npt.NDArray[np.uint64]:
    return np.array(values, dtype=np.uint64)


def check(index: IdIndex, added: dict[int, set[int]], probes: list[int]) -> None:
    for tenant in (1, 2, 3, 4):
        mine = added.get(tenant, set())
        queries = sorted(mine) + probes + sorted(mine)[::-1]
        found = index.might_contain(tenant, hashes(queries))
        assert found.dtype == np.bool_
        assert found.tolist() == [value in mine for value in queries], tenant


@settings(max_examples=60, derandomize=True, database=None, deadline=None)
@given(adds=ADDS, probes=st.lists(HASHES, max_size=40))
def test_might_contain_is_exact_per_tenant(
    adds: list[tuple[int, list[int]]], probes: list[int]
) -> None:
    index = IdIndex()
    added: dict[int, set[int]] = {}
    for number, (tenant, values) in enumerate(adds):
        index.add(tenant, hashes(values))
        added.setdefault(tenant, set()).update(values)
        if number % 10 == 0:  # also correct part-way, between merges of levels
            check(index, added, probes)
    check(index, added, probes)


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
    # Neighbours of stored values are not confused with them.
    stored = values[:2000]
    above = stored[stored < MAX_HASH] + np.uint64(1)
    fresh = above[~np.isin(above, stored)]
    assert not index.might_contain(5, fresh).any()


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
    one = set(values[:3000].tolist()) | set(values[3500:4500].tolist())
    two = set(values[3000:3500].tolist())
    probes = values.tolist()
    assert index.might_contain(1, values).tolist() == [v in one for v in probes]
    assert index.might_contain(2, values).tolist() == [v in two for v in probes]
    assert len(index) == 4500
