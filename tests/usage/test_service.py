"""The usage answer's parts kept between answers: each account's subtree and the buckets' labels."""

from datetime import UTC, datetime
from types import MappingProxyType

from usagelens.usage.service import Subtrees, bucket_labels

# root ─ a ─ a1
#      └ b
# other
TREE = MappingProxyType({"root": None, "a": "root", "a1": "a", "b": "root", "other": None})


def test_a_subtree_maps_each_organization_to_the_accounts_child_on_its_path() -> None:
    subtrees = Subtrees()
    assert subtrees.of(1, TREE, "root") == {"root": "root", "a": "a", "a1": "a", "b": "b"}
    assert subtrees.of(1, TREE, "a") == {"a": "a", "a1": "a1"}
    assert subtrees.of(1, TREE, "other") == {"other": "other"}


def test_the_same_tree_answers_from_what_was_kept() -> None:
    subtrees = Subtrees()
    first = subtrees.of(1, TREE, "root")
    assert subtrees.of(1, TREE, "root") is first


def test_a_new_tree_of_the_tenant_is_walked_again() -> None:
    subtrees = Subtrees()
    assert subtrees.of(1, TREE, "root") == {"root": "root", "a": "a", "a1": "a", "b": "b"}
    moved = MappingProxyType({**TREE, "other": "b"})  # as the directory hands out after a PUT
    assert subtrees.of(1, moved, "root") == {
        "root": "root",
        "a": "a",
        "a1": "a",
        "b": "b",
        "other": "b",
    }


def test_tenants_keep_their_own_subtrees() -> None:
    subtrees = Subtrees()
    theirs = MappingProxyType({"root": None, "x": "root"})
    assert subtrees.of(1, TREE, "root") == {"root": "root", "a": "a", "a1": "a", "b": "b"}
    assert subtrees.of(2, theirs, "root") == {"root": "root", "x": "x"}
    assert subtrees.of(1, TREE, "root") == {"root": "root", "a": "a", "a1": "a", "b": "b"}


def test_only_the_most_recently_used_are_kept() -> None:
    subtrees = Subtrees(most=2)
    root = subtrees.of(1, TREE, "root")
    a = subtrees.of(1, TREE, "a")
    assert subtrees.of(1, TREE, "root") is root  # now the most recent
    subtrees.of(1, TREE, "b")  # pushes out "a", the least recent
    assert subtrees.of(1, TREE, "root") is root
    again = subtrees.of(1, TREE, "a")
    assert again == a
    assert again is not a  # walked again


def test_labels_are_the_bucket_starts_in_the_zone_across_a_fall_back() -> None:
    # Berlin leaves summer time at 03:00 CEST on 2026-10-25 (01:00 UTC): 02:00 comes twice.
    start = datetime(2026, 10, 24, 23, 0, tzinfo=UTC)  # 01:00 CEST
    end = datetime(2026, 10, 25, 3, 0, tzinfo=UTC)  # 04:00 CET
    assert bucket_labels(start, end, "Europe/Berlin", "hour", 500) == (
        "2026-10-25T01:00:00+02:00",
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:00:00+01:00",
        "2026-10-25T03:00:00+01:00",
    )
    assert bucket_labels(start, end, "UTC", "hour", 2) == (
        "2026-10-24T23:00:00Z",
        "2026-10-25T00:00:00Z",
    )
