"""What can be wrong with an ingest request, each carrying the status it answers with."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from usagelens.ingest.schemas import AnyEvent


@dataclass(frozen=True)
class EventError:
    index: int
    field: str
    message: str


class RejectedBody(Exception):
    """The request as a whole cannot be read (bad JSON, too large, wrong content type)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def __reduce__(self) -> tuple[type["RejectedBody"], tuple[int, str]]:
        # Raised in a bulk load's worker process, it is pickled back to the parent.
        return RejectedBody, (self.status, self.message)


class InvalidEvents(Exception):
    """One or more events are invalid; the whole request is rejected and nothing is stored."""

    def __init__(
        self,
        errors: list[EventError],
        total: int,
        valid: Sequence[tuple[int, "AnyEvent"]] = (),
    ) -> None:
        self.errors = sorted(errors, key=lambda e: (e.index, e.field))
        self.total = total
        self.valid = valid  # the well-formed events of the request, with their indexes
        bad = len({e.index for e in self.errors})
        super().__init__(f"{bad} of {total} events are invalid; nothing was stored")

    def __reduce__(self) -> tuple[type["InvalidEvents"], tuple[list[EventError], int]]:
        # Raised in a bulk load's worker process, it is pickled back to the parent, which reports
        # the errors: the well-formed events stay behind.
        return InvalidEvents, (self.errors, self.total)
