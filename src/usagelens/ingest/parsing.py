"""Turn a request body (one CloudEvent, a JSON array or NDJSON) into validated event models."""

from collections.abc import Sequence
from typing import Any

import orjson
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from usagelens.ingest.errors import EventError, InvalidEvents, RejectedBody
from usagelens.ingest.schemas import EVENT, EVENT_LIST, EVENT_TYPES, AnyEvent

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
        return _parse_ndjson(body, max_events)
    if kind in JSON_TYPES:
        return _parse_json(body, max_events)
    accepted = ", ".join((*JSON_TYPES, *NDJSON_TYPES))
    raise RejectedBody(415, f"unsupported Content-Type {kind!r}; send one of: {accepted}")


def _parse_json(body: bytes, max_events: int) -> list[AnyEvent]:
    start = body.lstrip()[:1]
    if start == b"{":
        try:
            return [EVENT.validate_json(body)]
        except ValidationError as error:
            _reject_unreadable_json(error)
            raise InvalidEvents(_event_errors(error, index=0), total=1) from None
    if start != b"[":
        raise RejectedBody(400, "the body must be a CloudEvent JSON object or a JSON array of them")
    try:
        events = EVENT_LIST.validate_json(body)
    except ValidationError as error:
        _reject_unreadable_json(error)
        items = orjson.loads(body)
        _check_count(len(items), max_events)
        # Rare path: validate item by item to learn which events are well-formed.
        return validate_lines([orjson.dumps(item) for item in items], first_index=0)
    _check_count(len(events), max_events)
    if not events:
        raise RejectedBody(400, "the batch is empty: send at least one event")
    return events


def _parse_ndjson(body: bytes, max_events: int) -> list[AnyEvent]:
    lines = [line for line in body.splitlines() if line.strip()]
    _check_count(len(lines), max_events)
    if not lines:
        raise RejectedBody(400, "the batch is empty: send at least one event")
    return validate_lines(lines, first_index=0)


def validate_lines(lines: Sequence[bytes], first_index: int) -> list[AnyEvent]:
    """Validate NDJSON lines one by one, so that every bad line is reported with its index."""
    events: list[AnyEvent] = []
    valid: list[tuple[int, AnyEvent]] = []
    errors: list[EventError] = []
    for offset, line in enumerate(lines):
        index = first_index + offset
        try:
            event = EVENT.validate_json(line)
            events.append(event)
            valid.append((index, event))
        except ValidationError as error:
            if any(detail["type"] == "json_invalid" for detail in error.errors()):
                errors.append(EventError(index, "", "the line is not valid JSON"))
            else:
                errors.extend(_event_errors(error, index=index))
    if errors:
        raise InvalidEvents(errors, total=len(lines), valid=valid)
    return events


def _check_count(count: int, max_events: int) -> None:
    if count > max_events:
        raise RejectedBody(
            413, f"the batch has {count} events; at most {max_events} are accepted per request"
        )


def _reject_unreadable_json(error: ValidationError) -> None:
    for detail in error.errors():
        if detail["type"] == "json_invalid":
            reason = detail.get("ctx", {}).get("error", "invalid JSON")
            raise RejectedBody(400, f"the body is not valid JSON: {reason}") from None


def _event_errors(error: ValidationError, index: int) -> list[EventError]:
    return [_event_error(detail, index) for detail in error.errors()]


def _event_error(detail: ErrorDetails, index: int) -> EventError:
    loc: list[Any] = list(detail["loc"])
    if loc and loc[0] in EVENT_TYPES:
        loc.pop(0)  # the discriminator tag pydantic puts into the path
    field = ".".join(str(part) for part in loc)
    return EventError(index, field or _field_of_whole_event(detail), _message(detail))


def _field_of_whole_event(detail: ErrorDetails) -> str:
    return "type" if detail["type"].startswith("union_tag") else ""


def _message(detail: ErrorDetails) -> str:
    kind = detail["type"]
    if kind == "union_tag_invalid":
        tag = detail.get("ctx", {}).get("tag")
        return f"unknown event type {tag!r}; known types: {', '.join(EVENT_TYPES)}"
    if kind == "union_tag_not_found":
        return "required: the event type"
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "model_type" or kind == "model_attributes_type":
        return "must be a JSON object"
    if kind == "none_required":
        return "brand_registration is organization-level and takes no subject"
    message = detail["msg"]
    return message.removeprefix("Value error, ")
