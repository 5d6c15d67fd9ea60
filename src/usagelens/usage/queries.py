"""What the usage-over-time API needs from storage."""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from usagelens.usage.model import Dimension


class UsageQueries(Protocol):
    def conversation_usage(
        self,
        tenant_id: int,
        subaccount_of: Mapping[str, str],
        bucket_starts: Sequence[datetime],
        start: datetime,
        end: datetime,
        dimensions: Sequence[Dimension],
    ) -> dict[int, str]:
        """Conversations and seconds of the events in ``[start, end)`` of the organizations
        that are keys of ``subaccount_of``, per bucket (the bucket whose start is the latest of
        ``bucket_starts`` not after the event) and per values of ``dimensions`` (``subaccount``:
        ``subaccount_of`` the event's organization). Times are naive UTC.

        Answers, for each bucket index with usage, the page's ``values`` array as JSON text:
        ``{"seconds", "conversations", "dimensions": {dimension: value, ...}}`` objects ordered
        by their dimension values (thousands of them encode far faster in the engine)."""
        ...
