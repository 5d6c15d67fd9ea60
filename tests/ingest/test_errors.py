"""Ingest errors cross process boundaries: a bulk load's worker raises them, the loading process
reports them."""

import pickle

from usagelens.ingest.errors import EventError, InvalidEvents, RejectedBody


def test_invalid_events_keep_their_errors_and_total_when_pickled() -> None:
    errors = [EventError(7, "data.count", "must be at least 0"), EventError(2, "time", "missing")]
    raised = InvalidEvents(errors, total=10)
    copy = pickle.loads(pickle.dumps(raised))
    assert isinstance(copy, InvalidEvents)
    assert copy.errors == [errors[1], errors[0]]
    assert copy.total == 10
    assert str(copy) == "2 of 10 events are invalid; nothing was stored"


def test_a_rejected_body_keeps_its_status_and_message_when_pickled() -> None:
    copy = pickle.loads(pickle.dumps(RejectedBody(413, "too large")))
    assert isinstance(copy, RejectedBody)
    assert (copy.status, copy.message, str(copy)) == (413, "too large", "too large")
