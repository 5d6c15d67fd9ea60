"""Validated events to the columnar batch that storage appends (the raw events table's shape)."""

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import pyarrow as pa

from usagelens.ingest.errors import EventError, InvalidEvents
from usagelens.ingest.schemas import AnyEvent

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)

EVENT_SCHEMA = pa.schema(
    [
        ("tenant_id", pa.int32()),
        ("id_hash", pa.uint64()),
        ("event_id", pa.string()),
        ("type", pa.string()),
        ("time", pa.timestamp("us")),
        ("subject", pa.string()),
        ("organization_id", pa.string()),
        ("agent_id", pa.string()),
        ("conversation_type", pa.string()),
        ("direction", pa.string()),
        ("channel", pa.string()),
        ("phone_number", pa.string()),
        ("brand_id", pa.string()),
        ("kb_id", pa.string()),
        ("ticket_id", pa.string()),
        ("url", pa.string()),
        ("seconds", pa.int64()),
        ("segments", pa.int64()),
        ("requests", pa.int64()),
        ("gb_hours", pa.decimal128(18, 6)),
        ("minutes", pa.decimal128(18, 6)),
        ("source", pa.string()),
        ("user_name", pa.string()),
        ("user_email", pa.string()),
        ("organization_name", pa.string()),
        ("agent_name", pa.string()),
    ]
)

# Column name -> attribute of the event's `data` that fills it (None when the type lacks it).
_DATA_COLUMNS: dict[str, str] = {
    "organization_id": "organization_id",
    "agent_id": "agent_id",
    "conversation_type": "conversation_type",
    "direction": "direction",
    "channel": "channel",
    "phone_number": "phone_number",
    "brand_id": "brand_id",
    "kb_id": "kb_id",
    "ticket_id": "ticket_id",
    "url": "url",
    "seconds": "seconds",
    "segments": "segments",
    "requests": "count",
    "gb_hours": "gb_hours",
    "minutes": "minutes",
    "user_name": "user_name",
    "user_email": "user_email",
    "organization_name": "organization_name",
    "agent_name": "agent_name",
}


def id_hash(event_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(event_id.encode(), digest_size=8).digest(), "little")


def to_micros(moment: datetime) -> int:
    return (moment - EPOCH) // MICROSECOND


TenantResolver = Callable[[AnyEvent], "int | str"]
"""Gives an event's tenant id, or the message saying why it has none."""


def event_problems(
    index: int, event: AnyEvent, tenant: int | str, now: datetime, max_future: timedelta
) -> list[EventError]:
    """What is wrong with a well-formed event in context: its tenant, its time, its user fields."""
    problems = []
    if isinstance(tenant, str):
        problems.append(EventError(index, "tenant", tenant))
    moment = event.utc_time
    if moment < EPOCH:
        problems.append(EventError(index, "time", "must not be before 1970-01-01T00:00:00Z"))
    if moment > now + max_future:
        seconds = int(max_future.total_seconds())
        problems.append(
            EventError(
                index,
                "time",
                f"is {moment.isoformat()}, more than {seconds} seconds in the future",
            )
        )
    if event.subject is None:
        for name in ("user_name", "user_email"):
            if event.data.__dict__.get(name) is not None:
                problems.append(
                    EventError(index, f"data.{name}", "needs `subject` (the user id) on the event")
                )
    return problems


def build_batch(
    events: Sequence[AnyEvent],
    tenant_of: TenantResolver,
    now: datetime,
    max_future: timedelta,
    first_index: int = 0,
) -> pa.Table:
    """Check what models cannot see alone (tenant, future time); lay events out in columns."""
    errors: list[EventError] = []
    columns: dict[str, list[object]] = {name: [] for name in EVENT_SCHEMA.names}
    for offset, event in enumerate(events):
        tenant = tenant_of(event)
        problems = event_problems(first_index + offset, event, tenant, now, max_future)
        if problems:
            errors.extend(problems)
        if errors:
            continue
        columns["tenant_id"].append(tenant)
        columns["id_hash"].append(id_hash(event.id))
        columns["event_id"].append(event.id)
        columns["type"].append(event.type)
        columns["time"].append(to_micros(event.utc_time))
        columns["subject"].append(event.subject)
        columns["source"].append(event.source)
        # __dict__ holds the fields; getattr on an absent one takes pydantic's slow path.
        fields = event.data.__dict__
        for column, attribute in _DATA_COLUMNS.items():
            columns[column].append(fields.get(attribute))
    if errors:
        raise InvalidEvents(errors, total=len(events))
    return pa.table(
        {
            name: pa.array(values, type=EVENT_SCHEMA.field(name).type)
            for name, values in columns.items()
        },
        schema=EVENT_SCHEMA,
    )


def parse_and_build(
    parse: Callable[[], list[AnyEvent]],
    tenant_of: TenantResolver,
    now: datetime,
    max_future: timedelta,
    first_index: int = 0,
) -> pa.Table:
    """Parse, check and lay out a request's events; when some are malformed, the well-formed
    ones are still checked, so that the rejection lists every bad event at once."""
    try:
        events = parse()
    except InvalidEvents as invalid:
        more = [
            problem
            for index, event in invalid.valid
            for problem in event_problems(index, event, tenant_of(event), now, max_future)
        ]
        raise InvalidEvents(invalid.errors + more, invalid.total) from None
    return build_batch(events, tenant_of, now, max_future, first_index)
