"""What the seed 001 analytics need from storage: rollup sums per key and rate card version."""

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class UsageSums:
    """The quantities of one (organization, user) in a range, of the buckets one rate card
    version prices. ``user_id`` is ``""`` for the organization's events without a subject."""

    organization_id: str
    user_id: str
    version: int  # index into the version starts the query was given
    sms_out_messages: int = 0
    sms_out_segments: int = 0
    sms_in_messages: int = 0
    sms_in_segments: int = 0
    mms_out_messages: int = 0
    mms_out_segments: int = 0
    mms_in_messages: int = 0
    mms_in_segments: int = 0
    voice_calls: int = 0
    voice_seconds: int = 0
    voice_started_minutes: int = 0
    api_requests: int = 0
    storage_gb_hours: Decimal = Decimal(0)
    phone_rentals: int = 0
    phone_purchases: int = 0
    brand_registrations: int = 0
    kb_count: int = 0
    kb_minutes: Decimal = Decimal(0)


QUANTITIES: tuple[str, ...] = tuple(item.name for item in fields(UsageSums))[3:]
"""The measures of ``rollup_usage_days`` that analytics price or count, in `UsageSums` order
(storage answers rows in this order)."""


class AnalyticsQueries(Protocol):
    def usage_sums(
        self,
        tenant_id: int,
        version_days: Sequence[date],
        first_day: date | None,
        end_day: date | None,
        organization_id: str | None = None,
        user_id: str | None = None,
    ) -> list[UsageSums]:
        """The tenant's usage quantities on the dates ``first_day`` up to (not including)
        ``end_day`` of its zone (None: unbounded), summed per organization, user and rate card
        version: a date's version is the latest of ``version_days`` (sorted, the first one before
        any event) not after it. Optionally only one organization and/or user."""
        ...
