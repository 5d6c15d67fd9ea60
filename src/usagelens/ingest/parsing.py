"""Turn a request body (one CloudEvent, a JSON array or NDJSON) into validated events.

The whole body is decoded in one call; only when that fails is it decoded again event by event,
so that the rejection can name every bad event with its index and field.
"""

import re
from collections.abc import Sequence

import msgspec

from usagelens.ingest.errors import EventError, InvalidEvents, RejectedBody
from usagelens.ingest.schemas import EVENT, EVENT_LIST, EVENT_TYPES, RAW_LIST, AnyEvent

JSON_TYPES = (
    "application/json",
    "application/cloudevents+json",
    "application/cloudevents-batch+json",
)
NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl")


def media_type(content_type: str | None) -> str:
    return (content_type or "application/json").split(";")[0].strip().lower()


def parse_events(body: bytes, content_type: str | None, max_events: int) -> list[AnyEvent]:
    kind = media_type(content_type)
    if kind in NDJSON_TYPES:
        lines = [line for line in body.splitlines() if line.strip()]
        _check_count(len(lines), max_events)
        return decode_lines(lines, first_index=0)
    if kind in JSON_TYPES:
        return _parse_json(body, max_events)
    accepted = ", ".join((*JSON_TYPES, *NDJSON_TYPES))
    raise RejectedBody(415, f"unsupported Content-Type {kind!r}; send one of: {accepted}")


def _parse_json(body: bytes, max_events: int) -> list[AnyEvent]:
    start = body.lstrip()[:1]
    if start == b"{":
        try:
            return [EVENT.decode(body)]
        except msgspec.ValidationError:
            raise InvalidEvents(_all_errors(body, 0), total=1) from None
        except msgspec.DecodeError as error:
            raise RejectedBody(400, f"the body is not valid JSON: {error}") from None
    if start != b"[":
        raise RejectedBody(400, "the body must be a CloudEvent JSON object or a JSON array of them")
    try:
        events = EVENT_LIST.decode(body)
    except msgspec.DecodeError:
        try:
            items = RAW_LIST.decode(body)
        except msgspec.DecodeError as error:
            raise RejectedBody(400, f"the body is not valid JSON: {error}") from None
        _check_count(len(items), max_events)
        return decode_lines(items, first_index=0)
    _check_count(len(events), max_events)
    if not events:
        raise RejectedBody(400, "the batch is empty: send at least one event")
    return events


def decode_lines(lines: Sequence[bytes | msgspec.Raw], first_index: int) -> list[AnyEvent]:
    """Decode events given one JSON text each (NDJSON lines, array items)."""
    if not lines:
        raise RejectedBody(400, "the batch is empty: send at least one event")
    try:
        events = EVENT.decode_lines(b"\n".join(bytes(line) for line in lines))
        if len(events) == len(lines):
            return events
    except msgspec.DecodeError:
        pass
    return _decode_one_by_one(lines, first_index)


def _decode_one_by_one(lines: Sequence[bytes | msgspec.Raw], first_index: int) -> list[AnyEvent]:
    events: list[AnyEvent] = []
    valid: list[tuple[int, AnyEvent]] = []
    errors: list[EventError] = []
    for offset, line in enumerate(lines):
        index = first_index + offset
        try:
            event = EVENT.decode(line)
        except msgspec.ValidationError:
            errors.extend(_all_errors(line, index))
        except msgspec.DecodeError:
            errors.append(EventError(index, "", "the line is not valid JSON"))
        else:
            events.append(event)
            valid.append((index, event))
    if errors:
        raise InvalidEvents(errors, total=len(lines), valid=valid)
    return events


_MAX_ERRORS_PER_EVENT = 20


def _all_errors(line: bytes | msgspec.Raw, index: int) -> list[EventError]:
    """The problems of one invalid event. The decoder stops at the first, so each field found
    wrong is taken out and the event decoded again, until it passes or nothing more can be
    learned (a required field is missing, or the same field is named again)."""
    value = msgspec.json.decode(line)
    errors: list[EventError] = []
    for _ in range(_MAX_ERRORS_PER_EVENT):
        try:
            EVENT.decode(msgspec.json.encode(value))
        except msgspec.ValidationError as error:
            found = event_error(error, index)
            if any(known.field == found.field for known in errors):
                break
            errors.append(found)
            if not _remove(value, found.field):
                break
        else:
            break
    return errors


def _remove(value: object, field: str) -> bool:
    """Delete the field at a dotted path; False when there is nothing there to delete."""
    *parents, name = field.split(".")
    for part in parents:
        if not isinstance(value, dict) or part not in value:
            return False
        value = value[part]
    if not name or not isinstance(value, dict) or name not in value or name == "type":
        return False
    del value[name]
    return True


def _check_count(count: int, max_events: int) -> None:
    if count > max_events:
        raise RejectedBody(
            413, f"the batch has {count} events; at most {max_events} are accepted per request"
        )


_MESSAGE = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_NAMED = re.compile(r"^Object (?:contains unknown|missing required) field `(?P<name>[^`]+)`$")
_TYPE_NAMES = {
    "int": "an integer",
    "str": "a string",
    "float": "a number",
    "object": "a JSON object",
    "array": "an array",
    "bool": "true or false",
    "null": "null",
    "datetime": "an RFC 3339 timestamp",
    "decimal": "a decimal number",
}
_CHOICES = {
    "direction": "'outbound' or 'inbound'",
    "specversion": "'1.0'",
    "datacontenttype": "'application/json'",
}
RFC3339_HINT = "must be an RFC 3339 timestamp with a UTC offset, such as 2024-01-31T09:30:00Z"


def event_error(error: msgspec.ValidationError, index: int) -> EventError:
    """msgspec's first error of an event, as field and a message saying what to send."""
    match = _MESSAGE.match(str(error))
    assert match is not None
    message = match.group("message")
    parts = [p for p in re.split(r"\.|\[\d+\]", match.group("path") or "") if p]
    named = _NAMED.match(message)
    if named:
        parts.append(named.group("name"))
    field = ".".join(parts)
    return EventError(index, field, _explain(message, field, named is not None))


def _explain(message: str, field: str, named: bool) -> str:
    last = field.rsplit(".", 1)[-1]
    if named:
        return "unknown field" if "unknown" in message else "required field is missing"
    if message.startswith("Invalid value") and field == "type":
        tag = message.removeprefix("Invalid value ").strip()
        return f"unknown event type {tag}; known types: {', '.join(EVENT_TYPES)}"
    if message.startswith("Invalid enum value") and last in _CHOICES:
        return f"must be {_CHOICES[last]}"
    if field == "subject" and message.startswith("Expected `null`"):
        return "brand_registration is organization-level and takes no subject"
    if "RFC3339" in message or (last == "time" and "datetime" in message):
        return RFC3339_HINT
    if "matching regex" in message:
        return "must be an email address" if last.endswith("email") else "must be an http(s) URL"
    bounds = re.match(r"^Expected `\w+` (>=|<=) (\d+)$", message)
    if bounds:
        op, limit = bounds.groups()
        return f"must be {'at least' if op == '>=' else 'at most'} {limit}"
    length = re.match(r"^Expected `str` of length (>=|<=) (\d+)$", message)
    if length:
        op, limit = length.groups()
        return "must not be empty" if limit == "1" else f"must be at most {limit} characters"
    expected = re.match(r"^Expected `(\w+)`(?:, got `(\w+)`)?$", message)
    if expected:
        want, got = expected.groups()
        text = f"must be {_TYPE_NAMES.get(want, want)}"
        return text + (f", not {_TYPE_NAMES.get(got, got)}" if got else "")
    return message
