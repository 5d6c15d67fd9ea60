"""Validated events to the columnar batch that storage appends (the raw events table's shape)."""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from operator import attrgetter

import pyarrow as pa

from usagelens.ingest.errors import EventError, InvalidEvents
from usagelens.ingest.parsing import RFC3339_HINT
from usagelens.ingest.schemas import (
    EVENT_CLASSES,
    EVENT_TYPE,
    MAX_DECIMAL_PLACES,
    MAX_DECIMAL_QUANTITY,
    AnyEvent,
)
from usagelens.storage.event_ids import id_columns

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

EVENT_SCHEMA = pa.schema(
    [
        ("tenant_id", pa.int32()),
        ("id_hash", pa.uint64()),
        # Null for ids kept as text (see storage.event_ids).
        ("id_form", pa.uint8()),
        ("id_high", pa.int64()),
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

# Event column -> attribute of the event's `data` that fills it, where the type has one.
DATA_COLUMNS: dict[str, str] = {
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
_DECIMAL_FIELDS = ("gb_hours", "minutes")


def _has_decimals(event_class: type) -> bool:
    fields = event_class.__annotations__["data"].__struct_fields__
    return any(name in fields for name in _DECIMAL_FIELDS)


_DECIMAL_TYPES = frozenset(cls for cls in EVENT_CLASSES if _has_decimals(cls))
# Every data structure answers every attribute (None where its type lacks the field), so that
# one C-level getter reads an event's data columns at once.
for _cls in EVENT_CLASSES:
    _data_type = _cls.__annotations__["data"]
    for _attribute in DATA_COLUMNS.values():
        if _attribute not in _data_type.__struct_fields__:
            setattr(_data_type, _attribute, None)
_data_values = attrgetter(*DATA_COLUMNS.values())
_HEAD_COLUMNS = ("tenant_id", "event_id", "type", "time", "subject", "source")
_ROW_COLUMNS = _HEAD_COLUMNS + tuple(DATA_COLUMNS)
UTC_MICROS = pa.timestamp("us", tz="UTC")
# Times arrive aware; they are stored as naive UTC after the conversion.
_ROW_TYPE = pa.struct(
    [
        pa.field(name, UTC_MICROS if name == "time" else EVENT_SCHEMA.field(name).type)
        for name in _ROW_COLUMNS
    ]
)


TenantResolver = Callable[[str | None], "int | str"]
"""Gives the tenant id of an event naming the given tenant (None: naming none), or the message
saying why it has none."""


def _decimal_problem(value: Decimal) -> str | None:
    if not value.is_finite():
        return "must be a finite decimal number"
    if value < 0:
        return "must be at least 0"
    if value > MAX_DECIMAL_QUANTITY:
        return f"must be at most {MAX_DECIMAL_QUANTITY}"
    if decimal_places(value) > MAX_DECIMAL_PLACES:
        return f"must have at most {MAX_DECIMAL_PLACES} decimal places"
    return None


def decimal_places(value: Decimal) -> int:
    """The places after the point that a finite value needs: 1.2500000 needs 2, as stored
    exactly with 6. (``normalize`` would say so too, but it rounds to the context's 28 digits.)"""
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    significant = len(bytes(digits).rstrip(b"\0"))  # the digits (0 to 9) less trailing zeros
    if not significant:
        return 0  # zero
    return max(0, -(exponent + len(digits) - significant))


def event_problems(
    index: int, event: AnyEvent, tenant: int | str, now: datetime, max_future: timedelta
) -> list[EventError]:
    """What a well-formed event's types cannot say: its tenant, its time, its user fields,
    its decimals."""
    problems = []
    if isinstance(tenant, str):
        problems.append(EventError(index, "tenant", tenant))
    moment = event.time
    if moment.tzinfo is None:
        problems.append(EventError(index, "time", RFC3339_HINT))
    elif moment < EPOCH:
        problems.append(EventError(index, "time", "must not be before 1970-01-01T00:00:00Z"))
    elif moment > now + max_future:
        seconds = int(max_future.total_seconds())
        problems.append(
            EventError(
                index, "time", f"is {moment.isoformat()}, more than {seconds} seconds in the future"
            )
        )
    data = event.data
    if event.subject is None:
        for name in ("user_name", "user_email"):
            if getattr(data, name) is not None:
                problems.append(
                    EventError(index, f"data.{name}", "needs `subject` (the user id) on the event")
                )
    for name in _DECIMAL_FIELDS:
        value = getattr(data, name, None)
        if value is not None and (problem := _decimal_problem(value)):
            problems.append(EventError(index, f"data.{name}", problem))
    return problems


def build_batch(
    events: Sequence[AnyEvent],
    tenant_of: TenantResolver,
    now: datetime,
    max_future: timedelta,
    first_index: int = 0,
) -> pa.Table:
    """Check what the types cannot (see ``event_problems``); lay the events out in columns."""
    latest = now + max_future
    errors: list[EventError] = []
    rows: list[tuple[object, ...]] = []
    for offset, event in enumerate(events):
        tenant = tenant_of(event.tenant)
        moment = event.time
        data = event.data
        plainly_fine = (
            type(tenant) is int
            and moment.tzinfo is not None
            and EPOCH <= moment <= latest
            and (event.subject is not None or (data.user_name is None and data.user_email is None))
            and type(event) not in _DECIMAL_TYPES
        )
        if not plainly_fine:
            errors += event_problems(first_index + offset, event, tenant, now, max_future)
        if errors:
            continue
        head = (tenant, event.id, EVENT_TYPE[type(event)], moment)
        rows.append((*head, event.subject, event.source, *_data_values(data)))
    if errors:
        raise InvalidEvents(errors, total=len(events))
    # Arrow turns the row tuples into columns in one native pass: a Python transposition and a
    # conversion per column cost twice as much.
    columns = pa.array(rows, type=_ROW_TYPE).flatten()
    return event_batch(dict(zip(_ROW_COLUMNS, columns, strict=True)))


def event_batch(columns: dict[str, pa.Array]) -> pa.Table:
    """The batch storage appends, from checked events' columns by name (times aware, in
    ``UTC_MICROS``), with their ids' columns added."""
    by_name = columns | {"time": columns["time"].cast(EVENT_SCHEMA.field("time").type)}
    # The ids' columns in one vectorized pass: per event in Python, ULIDs cost 1.4 us each.
    id_hashes, forms, highs = id_columns(by_name["event_id"], by_name["time"])
    by_name |= {"id_hash": id_hashes, "id_form": forms, "id_high": highs}
    return pa.Table.from_arrays([by_name[name] for name in EVENT_SCHEMA.names], schema=EVENT_SCHEMA)


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
            for problem in event_problems(index, event, tenant_of(event.tenant), now, max_future)
        ]
        raise InvalidEvents(invalid.errors + more, invalid.total) from None
    return build_batch(events, tenant_of, now, max_future, first_index)
