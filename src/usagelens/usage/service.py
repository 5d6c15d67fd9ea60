"""Usage over time for an account and its subaccounts, bucketed in any zone (seed 002)."""

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from itertools import islice
from zoneinfo import ZoneInfo

import msgspec

from usagelens.timezones.buckets import Granularity, buckets
from usagelens.usage.model import Dimension
from usagelens.usage.queries import UsageQueries


@dataclass(frozen=True)
class UsageQuery:
    account_id: str
    start: datetime  # aware
    end: datetime  # aware
    granularity: Granularity
    group_by: tuple[Dimension, ...]
    tz: str
    limit: int


class AccountNotFound(LookupError):
    pass


def render(moment: datetime, tz: str) -> str:
    """An instant in the requested zone with its offset then (`Z` for UTC itself)."""
    local = moment.astimezone(ZoneInfo(tz))
    text = local.isoformat()
    return text.removesuffix("+00:00") + "Z" if tz == "UTC" else text


@lru_cache(maxsize=256)
def bucket_spans(
    start: datetime, end: datetime, tz: str, granularity: Granularity, limit: int
) -> tuple[tuple[datetime, datetime], ...]:
    """The first ``limit`` buckets overlapping the range; dashboards ask the same again and
    again, so the answers are kept."""
    return tuple(islice(buckets(start, end, tz, granularity), limit))


@lru_cache(maxsize=256)
def bucket_labels(
    start: datetime, end: datetime, tz: str, granularity: Granularity, limit: int
) -> tuple[str, ...]:
    """Each bucket's ``ts`` as the answer shows it, kept with the buckets: rendering 500 hours
    took about 1 ms of a 15 ms answer at 100M events."""
    return tuple(render(first, tz) for first, _ in bucket_spans(start, end, tz, granularity, limit))


def subaccounts(parents: Mapping[str, str | None], account_id: str) -> dict[str, str]:
    """Each organization of the account's subtree (``parents``: each organization's parent),
    mapped to the account's child on its path (the account itself maps to itself)."""
    children: dict[str | None, list[str]] = defaultdict(list)
    for organization_id, parent_id in parents.items():
        children[parent_id].append(organization_id)
    mapping = {account_id: account_id}
    for child in children[account_id]:
        stack = [child]
        while stack:
            descendant = stack.pop()
            if descendant not in mapping:  # the directory refuses cycles; never loop anyway
                mapping[descendant] = child
                stack.extend(children[descendant])
    return mapping


class Subtrees:
    """``subaccounts`` kept per (tenant, account) for as long as the tenant's tree is the same
    object: the directory hands out one mapping per tenant until a change replaces it, and the
    new tree replaces the kept map. Walking 3,789 organizations took about 0.5 ms of every usage
    answer at 100M events."""

    def __init__(self, most: int = 256) -> None:
        self._most = most
        # (tenant, account) -> (the tree the map was made from, the map)
        self._kept: OrderedDict[tuple[int, str], tuple[object, Mapping[str, str]]] = OrderedDict()
        self._lock = threading.Lock()

    def of(
        self, tenant_id: int, parents: Mapping[str, str | None], account_id: str
    ) -> Mapping[str, str]:
        key = (tenant_id, account_id)
        with self._lock:
            found = self._kept.get(key)
            if found is not None and found[0] is parents:
                self._kept.move_to_end(key)
                return found[1]
        mapping = subaccounts(parents, account_id)
        with self._lock:
            self._kept[key] = (parents, mapping)
            self._kept.move_to_end(key)
            if len(self._kept) > self._most:
                self._kept.popitem(last=False)
        return mapping


_SUBTREES = Subtrees()
_IDLE = msgspec.json.encode([{"seconds": 0, "conversations": 0, "dimensions": {}}])


def usage_report(
    store: UsageQueries, parents: Mapping[str, str | None], tenant_id: int, query: UsageQuery
) -> dict[str, object]:
    """The response body (the shape of ``schemas.UsageResponse``), as plain data: hundreds of
    buckets encode faster without building a model of each."""
    if query.account_id not in parents:
        raise AccountNotFound(query.account_id)
    subaccount_of = _SUBTREES.of(tenant_id, parents, query.account_id)
    spans = bucket_spans(query.start, query.end, query.tz, query.granularity, query.limit)
    labels = bucket_labels(query.start, query.end, query.tz, query.granularity, query.limit)
    window_end = min(query.end, spans[-1][1])
    values = store.conversation_usage(
        tenant_id,
        subaccount_of,
        [first.replace(tzinfo=None) for first, _ in spans],
        query.start.astimezone(UTC).replace(tzinfo=None),
        window_end.astimezone(UTC).replace(tzinfo=None),
        query.group_by,
    )
    # Without group_by, every bucket has exactly one value, zeros when idle.
    idle = msgspec.Raw(b"[]" if query.group_by else _IDLE)
    data = [
        {"ts": label, "values": msgspec.Raw(values[index]) if index in values else idle}
        for index, label in enumerate(labels)
    ]
    meta = {
        "account_id": query.account_id,
        "start": render(query.start, query.tz),
        "end": render(query.end, query.tz),
        "granularity": query.granularity,
        "group_by": list(query.group_by),
        "tz": query.tz,
    }
    return {"meta": meta, "data": data}
