"""Plain chunks of events parsed by Arrow's JSON reader, in C++, rather than by msgspec into
structures that are then laid out in rows. On 100,000 of the bench's lines, Arrow reads them in
2.5 µs an event, and this path, checks and ids included, takes 4.0 where the exact one takes 5.5.

Arrow's reader does not know the event types, so a chunk is read with every field that any type
has, and what msgspec checks per event is checked here per column. The checks are derived from
the same structures (``msgspec.inspect`` of ``schemas``), so a field added there is checked here
too; ``rows.event_problems`` adds the rest (tenants, times, decimals, user fields).

The two readers agree only on plain text, so this path takes a chunk only if it is ASCII
without escapes or nulls, one object to a line. An escape can spell characters that count or
match differently, and Arrow reads a null as an absent field, where msgspec rejects a null in a
field that has a default. Any other chunk, and any chunk with a problem, gives None: the exact
decoder then reads it, and its rejection names each problem, as before.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from usagelens.ingest.rows import (
    DATA_COLUMNS,
    EPOCH,
    EVENT_SCHEMA,
    UTC_MICROS,
    TenantResolver,
    event_batch,
)
from usagelens.ingest.schemas import EVENT_TYPES, MAX_DECIMAL_QUANTITY, AnyEvent

# RFC 3339 as both readers parse it alike: an offset, at most microseconds. Anything else
# (a lower-case T, more digits, an offset without its colon) goes to the exact decoder.
_TIMESTAMP = r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)$"


class Presence(IntEnum):
    """What one event type says of one field."""

    ABSENT = 0  # the type has no such field (or only ever null)
    REQUIRED = 1
    OPTIONAL = 2  # may be missing or null
    DEFAULTED = 3  # may be missing, then takes its default; never null


@dataclass(frozen=True)
class ColumnRule:
    """One field's checks, for every event type: the field's value type where a type has the
    field (the same for every type that has it), and its presence for each type, by position
    in ``EVENT_TYPES``."""

    path: tuple[str, ...]
    value: Any  # a msgspec.inspect type
    arrow_type: pa.DataType
    presence: npt.NDArray[np.int8]
    default: object


def _unwrapped(kind: Any) -> tuple[Any, bool]:
    """A field's value type, and whether it may be null."""
    if isinstance(kind, msgspec.inspect.UnionType):
        values = [t for t in kind.types if not isinstance(t, msgspec.inspect.NoneType)]
        if len(values) != 1:
            raise TypeError(f"no native rule for the union {kind}")
        return values[0], len(values) < len(kind.types)
    return kind, False


def _arrow_type(value: Any, path: tuple[str, ...]) -> pa.DataType:
    if isinstance(value, msgspec.inspect.StrType | msgspec.inspect.DateTimeType):
        return pa.string()
    if isinstance(value, msgspec.inspect.LiteralType) and all(
        isinstance(v, str) for v in value.values
    ):
        return pa.string()
    if isinstance(value, msgspec.inspect.IntType) and value.multiple_of is None:
        return pa.int64()
    if isinstance(value, msgspec.inspect.DecimalType):
        column = next(c for c, attribute in DATA_COLUMNS.items() if (attribute,) == path[1:])
        return EVENT_SCHEMA.field(column).type
    raise TypeError(f"no native rule for {'.'.join(path)}: {value}")


def _field_presence(field: msgspec.inspect.Field) -> tuple[Presence, Any]:
    value, nullable = _unwrapped(field.type)
    if isinstance(value, msgspec.inspect.NoneType):
        return Presence.ABSENT, None
    if field.required:
        return Presence.REQUIRED, value
    if nullable:
        return Presence.OPTIONAL, value
    return Presence.DEFAULTED, value


def _fields() -> Iterator[tuple[tuple[str, ...], int, msgspec.inspect.Field]]:
    """Each event type's fields, as (path, the type's position in EVENT_TYPES, field)."""
    events = msgspec.inspect.type_info(AnyEvent)
    assert isinstance(events, msgspec.inspect.UnionType)
    for struct in events.types:
        assert isinstance(struct, msgspec.inspect.StructType)
        position = EVENT_TYPES.index(str(struct.tag))
        for field in struct.fields:
            if isinstance(field.type, msgspec.inspect.StructType):
                for inner in field.type.fields:
                    yield (field.name, inner.name), position, inner
            else:
                yield (field.name,), position, field


def _column_rules() -> dict[tuple[str, ...], ColumnRule]:
    found: dict[tuple[str, ...], list[tuple[int, Presence, Any, object]]] = {}
    for path, position, field in _fields():
        presence, value = _field_presence(field)
        found.setdefault(path, []).append((position, presence, value, field.default))
    rules = {}
    for path, by_type in found.items():
        values = [value for _, _, value, _ in by_type if value is not None]
        defaults = {default for _, kind, _, default in by_type if kind is Presence.DEFAULTED}
        if any(other != values[0] for other in values) or len(defaults) > 1:
            raise TypeError(f"no native rule for {'.'.join(path)}: {values}, defaults {defaults}")
        by_position = np.full(len(EVENT_TYPES), Presence.ABSENT, np.int8)
        for position, kind, _, _ in by_type:
            by_position[position] = kind
        value, default = values[0], next(iter(defaults), None)
        rules[path] = ColumnRule(path, value, _arrow_type(value, path), by_position, default)
    return rules


_RULES = _column_rules()
_DATA_TYPE = pa.struct(
    [pa.field(path[1], rule.arrow_type) for path, rule in _RULES.items() if path[0] == "data"]
)
_READ_SCHEMA = pa.schema(
    [pa.field("type", pa.string())]
    + [pa.field(path[0], rule.arrow_type) for path, rule in _RULES.items() if len(path) == 1]
    + [pa.field("data", _DATA_TYPE)]
)
_PARSE_OPTIONS = pj.ParseOptions(explicit_schema=_READ_SCHEMA, unexpected_field_behavior="error")
_TYPE_NAMES = pa.array(EVENT_TYPES)


class _Unsure(Exception):
    """The chunk is not one this path can vouch for."""


def _require(condition: bool) -> None:
    if not condition:
        raise _Unsure


def _plain(blob: bytes, events: int) -> bool:
    """ASCII without escapes or nulls, ``events`` lines, each one object: every line ends
    ``}`` and the next begins ``{`` (a newline inside an object would make Arrow read objects
    across lines; a value cannot be followed by ``{``, so a line ending ``}`` ends its object)."""
    if not blob.isascii() or b"\\" in blob or b"null" in blob:
        return False
    if blob[:1] != b"{" or blob[-8:].rstrip()[-1:] != b"}":
        return False
    return blob.count(b"}\n{") + blob.count(b"}\r\n{") == events - 1


def _all(mask: pa.Array | pa.ChunkedArray) -> bool:
    return pc.all(mask).as_py() is not False  # all of nothing is null


def _check_values(column: pa.Array, value: Any) -> pa.Array:
    """The column's non-null values follow ``value``'s constraints (time: parsed)."""
    if isinstance(value, msgspec.inspect.StrType):
        lengths = pc.min_max(pc.binary_length(column)).as_py()
        if lengths["min"] is not None:
            _require(value.min_length is None or lengths["min"] >= value.min_length)
            _require(value.max_length is None or lengths["max"] <= value.max_length)
        if value.pattern is not None:
            _require(_all(pc.match_substring_regex(column, value.pattern)))
    elif isinstance(value, msgspec.inspect.LiteralType):
        _require(_all(pc.is_in(column.drop_null(), pa.array(value.values))))
    elif isinstance(value, msgspec.inspect.IntType):
        bounds = pc.min_max(column).as_py()
        if bounds["min"] is not None:
            _require(value.ge is None or bounds["min"] >= value.ge)
            _require(value.gt is None or bounds["min"] > value.gt)
            _require(value.le is None or bounds["max"] <= value.le)
            _require(value.lt is None or bounds["max"] < value.lt)
    elif isinstance(value, msgspec.inspect.DecimalType):
        bounds = pc.min_max(column).as_py()
        if bounds["min"] is not None:  # rows.event_problems' bounds
            _require(bounds["min"] >= 0 and bounds["max"] <= MAX_DECIMAL_QUANTITY)
    elif isinstance(value, msgspec.inspect.DateTimeType):
        _require(_all(pc.match_substring_regex(column, _TIMESTAMP)))
        return column.cast(UTC_MICROS)
    return column


def _checked(column: pa.Array, rule: ColumnRule, types: npt.NDArray[np.intp]) -> pa.Array:
    """The column as the event types read it: present where required, absent where a type
    lacks it, defaults filled in, values within their constraints."""
    presence = rule.presence[types]
    given = column.is_valid().to_numpy(zero_copy_only=False)
    _require(not np.any(given & (presence == Presence.ABSENT)))
    _require(bool(np.all(given | (presence != Presence.REQUIRED))))
    column = _check_values(column, rule.value)
    defaulted = ~given & (presence == Presence.DEFAULTED)
    if np.any(defaulted):
        column = pc.if_else(defaulted, pa.scalar(rule.default, column.type), column)
    return column


def _tenant_ids(names: pa.Array, tenant_of: TenantResolver) -> pa.Array:
    known = pc.unique(names)
    ids = [tenant_of(name) for name in known.to_pylist()]
    _require(all(type(tenant) is int for tenant in ids))
    return pc.take(pa.array(ids, pa.int32()), pc.index_in(names, value_set=known))


def native_batch(
    blob: bytes,
    events: int,
    tenant_of: TenantResolver,
    now: datetime,
    max_future: timedelta,
) -> pa.Table | None:
    """The batch ``build_batch`` would give for ``events`` NDJSON lines, or None when this
    path cannot vouch for them: the caller then decodes them exactly."""
    if not _plain(blob, events):
        return None
    try:
        read = pj.read_json(
            pa.BufferReader(blob),
            read_options=pj.ReadOptions(use_threads=False, block_size=max(len(blob), 1 << 16)),
            parse_options=_PARSE_OPTIONS,
        ).combine_chunks()
        if read.num_rows != events:
            return None
        return _laid_out(read, tenant_of, now, max_future)
    except (_Unsure, pa.ArrowInvalid):
        return None


def _laid_out(
    read: pa.Table, tenant_of: TenantResolver, now: datetime, max_future: timedelta
) -> pa.Table:
    type_positions = pc.index_in(read.column("type").chunk(0), value_set=_TYPE_NAMES)
    _require(type_positions.null_count == 0)
    types = type_positions.to_numpy(zero_copy_only=False)
    data = read.column("data").chunk(0)
    _require(data.null_count == 0)
    fields: dict[tuple[str, ...], pa.Array] = {}
    for path, rule in _RULES.items():
        column = data.field(path[1]) if path[0] == "data" else read.column(path[0]).chunk(0)
        fields[path] = _checked(column, rule, types)
    times = fields[("time",)]
    bounds = pc.min_max(times).as_py()
    _require(bounds["min"] >= EPOCH and bounds["max"] <= now + max_future)
    subject = fields[("subject",)]
    for user_field in ("user_name", "user_email"):
        _require(_all(pc.or_(pc.is_null(fields[("data", user_field)]), pc.is_valid(subject))))
    by_name = {
        "tenant_id": _tenant_ids(fields[("tenant",)], tenant_of),
        "event_id": fields[("id",)],
        "type": read.column("type").chunk(0),
        "time": times,
        "subject": subject,
        "source": fields[("source",)],
    }
    by_name |= {column: fields[("data", attribute)] for column, attribute in DATA_COLUMNS.items()}
    return event_batch(by_name)
