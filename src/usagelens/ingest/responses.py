"""Response bodies of the ingest API."""

from pydantic import BaseModel


class IngestResult(BaseModel):
    accepted: int
    duplicates: int


class EventProblem(BaseModel):
    index: int
    field: str
    message: str


class IngestRejection(BaseModel):
    detail: str
    errors: list[EventProblem] = []
