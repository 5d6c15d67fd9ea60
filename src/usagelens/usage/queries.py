"""What the usage-over-time API needs from storage."""

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from usagelens.usage.model import Dimension

UsageRow = tuple[int, tuple[str, ...], int, int]
"""(bucket index, dimension values in the asked order, conversations, seconds)."""


class UsageQueries(Protocol):
    def conversation_usage(
        self,
        tenant_id: int,
        organizations: Sequence[str],
        bucket_starts: Sequence[datetime],
        start: datetime,
        end: datetime,
        dimensions: Sequence[Dimension],
    ) -> list[UsageRow]:
        """Conversations and seconds of the organizations' events in ``[start, end)``, summed
        per bucket (the bucket whose start is the latest of ``bucket_starts`` not after the
        event) and per dimension values. Times are naive UTC; ``subaccount`` stands for the
        event's organization id, which the caller maps."""
        ...
