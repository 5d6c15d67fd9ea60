"""The native path (Arrow's JSON reader) gives exactly the batch of the exact decoder (msgspec
structures laid out in rows), or nothing.

The exact decoder is the reference: for every chunk here, where it accepts, the native batch is
None or equal to its batch; where it rejects, the native batch is None. Each case is a chunk of
valid events with one line changed. Plain chunks must take the native path, or these tests could
not fail."""

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import pyarrow as pa
import pytest

from tests.rollup_reference import make_events
from usagelens.ingest.errors import InvalidEvents, RejectedBody
from usagelens.ingest.native import native_batch
from usagelens.ingest.parsing import decode_lines
from usagelens.ingest.rows import TenantResolver, parse_and_build
from usagelens.ingest.tenancy import bulk_tenant_resolver
from usagelens.tenants.models import Tenant

NOW = datetime(2024, 3, 4, tzinfo=UTC)  # after every event of make_events
MAX_FUTURE = timedelta(minutes=5)
ACME = Tenant(7, "acme", "Asia/Kathmandu", 2, None, NOW)
GLOBEX = Tenant(9, "globex", "UTC", 2, None, NOW)
BY_NAME = {tenant.name: tenant for tenant in (ACME, GLOBEX)}.get
NAMED = bulk_tenant_resolver(None, BY_NAME)
FOR_ACME = bulk_tenant_resolver(ACME, BY_NAME)
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

Event = dict[str, Any]


def exact(lines: list[bytes], resolve: TenantResolver) -> pa.Table | None:
    """The exact decoder's batch, None when it rejects the chunk."""
    try:
        return parse_and_build(partial(decode_lines, lines, 0), resolve, NOW, MAX_FUTURE)
    except (InvalidEvents, RejectedBody):
        return None


def native(lines: list[bytes], resolve: TenantResolver) -> pa.Table | None:
    return native_batch(b"\n".join(lines), len(lines), resolve, NOW, MAX_FUTURE)


def assert_agree(lines: list[bytes], resolve: TenantResolver = NAMED) -> pa.Table | None:
    reference = exact(lines, resolve)
    batch = native(lines, resolve)
    if reference is None:
        assert batch is None
    elif batch is not None:
        assert batch.equals(reference)
    return batch


def ulid(rng: random.Random) -> str:
    return rng.choice("01234567") + "".join(rng.choice(CROCKFORD) for _ in range(25))


def full_events(seed: int, count: int) -> list[Event]:
    """Valid events with every optional field some of the time, ids in several forms."""
    rng = random.Random(seed)
    events = make_events(seed, "n", count)
    for number, event in enumerate(events):
        event["tenant"] = rng.choice(("acme", "globex"))
        event["id"] = rng.choice((ulid(rng), f"evt-{number}", f"{number:x>256}"))
        if rng.random() < 0.5:
            event |= {"source": "//app.example/agents", "specversion": "1.0"}
            event["datacontenttype"] = "application/json"
        data = event["data"]
        if "subject" in event and rng.random() < 0.6:
            data["user_name"] = rng.choice(("Ada Lovelace", "B"))
            data["user_email"] = rng.choice(("ada@example.com", "b@c"))
        if rng.random() < 0.5:
            data["organization_name"] = "Acme, Inc. {the first}"
        if event["type"] == "conversation" and rng.random() < 0.5:
            data["agent_name"] = "Receptionist 1"
        if event["type"] == "ticket" and rng.random() < 0.5:
            data["url"] = "https://desk.example/t/1?x=[1]"
    return events


def encoded(events: list[Event], compact: bool = True) -> list[bytes]:
    separators = (",", ":") if compact else (", ", ": ")
    return [json.dumps(event, separators=separators).encode() for event in events]


@pytest.mark.parametrize("compact", [True, False])
def test_plain_chunks_take_the_native_path_and_give_the_exact_batch(compact: bool) -> None:
    lines = encoded(full_events(1, 400), compact)
    batch = assert_agree(lines)
    assert batch is not None
    assert batch.num_rows == 400


def test_a_file_for_one_tenant_takes_the_native_path() -> None:
    events = full_events(2, 50)
    for event in events:
        event.pop("tenant")
    events[0]["tenant"] = "acme"  # naming the file's tenant is allowed
    batch = assert_agree(encoded(events), FOR_ACME)
    assert batch is not None
    assert set(batch.column("tenant_id").to_pylist()) == {ACME.tenant_id}
    events[1]["tenant"] = "globex"
    assert exact(encoded(events), FOR_ACME) is None
    assert native(encoded(events), FOR_ACME) is None


def test_lines_ending_in_crlf_take_the_native_path() -> None:
    lines = encoded(full_events(3, 20))
    blob = b"".join(line + b"\r\n" for line in lines)
    batch = native_batch(blob, len(lines), NAMED, NOW, MAX_FUTURE)
    assert batch is not None
    assert batch.equals(exact(lines, NAMED))


def test_decimals_with_trailing_zeros_beyond_six_places_are_exact() -> None:
    storage = {"id": "s", "type": "storage", "time": "2024-03-01T00:00:00Z", "tenant": "acme"}
    for spelling in ("1.2500000", '"1.2500000"', "0.0000000"):
        line = json.dumps(storage | {"data": {"organization_id": "o", "gb_hours": 0}})
        line = line.replace('"gb_hours": 0', f'"gb_hours": {spelling}')
        batch = assert_agree([line.encode()])
        assert batch is not None
        assert batch.column("gb_hours").to_pylist() == [Decimal(spelling.strip('"'))]


def test_objects_that_span_lines_are_left_to_the_exact_decoder() -> None:
    first, second, third = encoded(full_events(4, 3))
    # Three lines, three objects, but not one to a line.
    lines = [first + second, third[:20], third[20:]]
    assert exact(lines, NAMED) is None
    assert native(lines, NAMED) is None


def _data(field: str, value: object, kind: str = "") -> Callable[[], bytes]:
    """A valid event of ``kind`` (any) whose data's ``field`` is set to ``value``."""

    def changed() -> bytes:
        event = next(e for e in full_events(6, 200) if not kind or e["type"] == kind)
        event["data"][field] = value
        return json.dumps(event).encode()

    return changed


def _top(field: str, value: object, kind: str = "") -> Callable[[], bytes]:
    """A valid event of ``kind`` (any) whose ``field`` is set to ``value``."""

    def changed() -> bytes:
        event = next(e for e in full_events(8, 200) if not kind or e["type"] == kind)
        event[field] = value
        return json.dumps(event).encode()

    return changed


def _without(field: str, kind: str = "", **data: object) -> Callable[[], bytes]:
    """A valid event of ``kind`` (any) with a subject, without ``field``, with ``data`` added."""

    def changed() -> bytes:
        events = full_events(9, 200)
        event = next(e for e in events if "subject" in e and (not kind or e["type"] == kind))
        path = field.split(".")
        event["data"] |= data
        del (event["data"] if len(path) == 2 else event)[path[-1]]
        return json.dumps(event).encode()

    return changed


def _raw(text: str) -> Callable[[], bytes]:
    return lambda: text.encode()


def _time(text: str) -> Callable[[], bytes]:
    return _top("time", text)


def _decimal(spelling: str) -> Callable[[], bytes]:
    def changed() -> bytes:
        event = next(e for e in full_events(10, 200) if e["type"] == "storage")
        event["data"]["gb_hours"] = 0
        return json.dumps(event).replace('"gb_hours": 0', f'"gb_hours": {spelling}').encode()

    return changed


CASES: dict[str, Callable[[], bytes]] = {
    "unknown field": _top("extra", 1),
    "unknown data field": _data("extra", 1),
    "another type's field": _data("agent_id", "a-1", "sms"),
    "null for a defaulted field": _data("segments", None, "sms"),
    "null for another defaulted field": _data("channel", None, "bot_message"),
    "null for another type's field": _data("agent_id", None, "sms"),
    "null for an optional field": _data("user_name", None),
    "null for a required field": _data("organization_id", None),
    "null data": _top("data", None),
    "data a string": _top("data", "x"),
    "no organization": _without("data.organization_id"),
    "no id": _without("id"),
    "no time": _without("time"),
    "no type": _without("type"),
    "no data": _without("data"),
    "unknown type": _top("type", "fax"),
    "type a number": _top("type", 3),
    "empty id": _top("id", ""),
    "id of 257 characters": _top("id", "x" * 257),
    "id a number": _top("id", 12),
    "empty subject": _top("subject", ""),
    "source of 1025 characters": _top("source", "s" * 1025),
    "empty source": _top("source", ""),
    "specversion 0.3": _top("specversion", "0.3"),
    "specversion a number": _top("specversion", 1.0),
    "datacontenttype text": _top("datacontenttype", "text/plain"),
    "brand_registration with a subject": _top("subject", "u1", "brand_registration"),
    "ticket with a null subject": _top("subject", None, "ticket"),
    "user_email without subject": _without("subject", user_email="a@b.c"),
    "ticket without subject": _without("subject", kind="ticket"),
    "email without @": _data("user_email", "ab.c"),
    "email with a space": _data("user_email", "a b@c.d"),
    "email with two @": _data("user_email", "a@b@c"),
    "email with a no-break space": _data("user_email", "a\u00a0b@c.d"),
    "email of 321 characters": _data("user_email", "a" * 300 + "@" + "b" * 20),
    "url not http": _data("url", "ftp://x.example", "ticket"),
    "url with a space": _data("url", "http://a b", "ticket"),
    "url of 2049 characters": _data("url", "https://" + "u" * 2041, "ticket"),
    "direction sideways": _data("direction", "sideways", "sms"),
    "seconds a float": _data("seconds", 1.0, "voice_call"),
    "seconds a string": _data("seconds", "5", "voice_call"),
    "seconds true": _data("seconds", True, "voice_call"),
    "seconds negative": _data("seconds", -1, "voice_call"),
    "seconds 10^12": _data("seconds", 10**12, "voice_call"),
    "seconds above 10^12": _data("seconds", 10**12 + 1, "voice_call"),
    "seconds beyond 64 bits": _data("seconds", 2**70, "voice_call"),
    "count zero": _data("count", 0, "api_request"),
    "unknown tenant": _top("tenant", "initech"),
    "empty tenant": _top("tenant", ""),
    "no tenant": _top("tenant", None),
    "name not ASCII": _data("organization_name", "Zoë's"),
    "name with an escape": _data("organization_name", 'say "hi"'),
    "name with null in it": _data("organization_name", "nullable"),
    "name of 256 characters": _data("organization_name", "n" * 256),
    "name of 257 characters": _data("organization_name", "n" * 257),
    "duplicate key": _raw(
        '{"id":"a","id":"b","type":"api_request","time":"2024-03-01T00:00:00Z",'
        '"tenant":"acme","data":{"organization_id":"o"}}'
    ),
    "an array": _raw("[1]"),
    "a number": _raw("1"),
    "leading spaces": lambda: b"   " + _top("id", "spaced")(),
    "two objects": lambda: _top("id", "one")() + _top("id", "two")(),
    "trailing text": lambda: _top("id", "t")() + b" x",
    "invalid JSON": _raw('{"id": "a",}'),
    "time without offset": _time("2024-03-01T10:00:00"),
    "time lower-case": _time("2024-03-01t10:00:00z"),
    "time with a space": _time("2024-03-01 10:00:00Z"),
    "time with 7 digits": _time("2024-03-01T10:00:00.1234567Z"),
    "time at -00:00": _time("2024-03-01T10:00:00-00:00"),
    "time at +23:59": _time("2024-03-01T10:00:00+23:59"),
    "time at +24:00": _time("2024-03-01T10:00:00+24:00"),
    "time offset without colon": _time("2024-03-01T10:00:00+0530"),
    "time offset in hours": _time("2024-03-01T10:00:00+05"),
    "time on February 30": _time("2024-02-30T10:00:00Z"),
    "time on 2023-02-29": _time("2023-02-29T10:00:00Z"),
    "time at 24:00": _time("2024-03-01T24:00:00Z"),
    "time with a leap second": _time("2024-03-01T23:59:60Z"),
    "time of year 1": _time("0001-01-01T00:00:00Z"),
    "time before 1970": _time("1969-12-31T23:59:59Z"),
    "time at 1970": _time("1970-01-01T00:00:00Z"),
    "time at the limit": _time("2024-03-04T00:05:00Z"),
    "time beyond the limit": _time("2024-03-04T00:05:00.000001Z"),
    "time a number": _top("time", 1709287200),
    "gb_hours 1.25": _decimal("1.25"),
    "gb_hours 7 places": _decimal("1.2500001"),
    "gb_hours 1.5e-6": _decimal("1.5e-6"),
    "gb_hours 1e3": _decimal("1e3"),
    "gb_hours 1E+2": _decimal("1E+2"),
    "gb_hours negative": _decimal("-1.5"),
    "gb_hours -0": _decimal("-0"),
    "gb_hours at most": _decimal("999999999999.999999"),
    "gb_hours 10^12": _decimal("1000000000000"),
    "gb_hours as a string": _decimal('"2.5"'),
    "gb_hours string NaN": _decimal('"NaN"'),
    "gb_hours string Infinity": _decimal('"Infinity"'),
    "gb_hours string with spaces": _decimal('" 1.5"'),
    "gb_hours string with underscore": _decimal('"1_000"'),
    "gb_hours string +1.5": _decimal('"+1.5"'),
    "gb_hours string .5": _decimal('".5"'),
    "gb_hours string 5.": _decimal('"5."'),
    "gb_hours string 1.5e2": _decimal('"1.5e2"'),
    "gb_hours true": _decimal("true"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_changed_line_is_read_as_the_exact_decoder_reads_it(case: str) -> None:
    lines = encoded(full_events(11, 30))
    lines[17] = CASES[case]()
    assert_agree(lines)


@pytest.mark.parametrize(
    "case",
    [
        "time with a space",
        "time at -00:00",
        "time at +23:59",
        "time at 1970",
        "time at the limit",
        "gb_hours 1e3",
        "gb_hours -0",
        "gb_hours at most",
        "gb_hours as a string",
        "count zero",
        "name of 256 characters",
        "seconds 10^12",
    ],
)
def test_plain_edge_values_take_the_native_path(case: str) -> None:
    lines = encoded(full_events(11, 30))
    lines[17] = CASES[case]()
    assert assert_agree(lines) is not None
