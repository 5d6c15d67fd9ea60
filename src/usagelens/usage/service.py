"""Usage over time for an account and its subaccounts, bucketed in any zone (seed 002)."""

from collections import defaultdict
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


_IDLE = msgspec.json.encode([{"seconds": 0, "conversations": 0, "dimensions": {}}])


def usage_report(
    store: UsageQueries, parents: Mapping[str, str | None], tenant_id: int, query: UsageQuery
) -> dict[str, object]:
    """The response body (the shape of ``schemas.UsageResponse``), as plain data: hundreds of
    buckets encode faster without building a model of each."""
    if query.account_id not in parents:
        raise AccountNotFound(query.account_id)
    subaccount_of = subaccounts(parents, query.account_id)
    spans = bucket_spans(query.start, query.end, query.tz, query.granularity, query.limit)
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
        {
            "ts": render(first, query.tz),
            "values": msgspec.Raw(values[index]) if index in values else idle,
        }
        for index, (first, _) in enumerate(spans)
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
