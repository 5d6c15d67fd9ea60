"""POST /v1/events: CloudEvents in, durable acknowledgement out."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from usagelens.ingest.errors import InvalidEvents, RejectedBody
from usagelens.ingest.responses import EventProblem, IngestRejection, IngestResult
from usagelens.web.dependencies import CallerDep, DecoderDep, SettingsDep, WriterDep

router = APIRouter(tags=["ingest"])


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RejectedBody(413, f"the body has {declared} bytes; at most {limit} are accepted")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RejectedBody(413, f"the body is over {limit} bytes, the most accepted")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/v1/events",
    response_model=IngestResult,
    summary="Ingest usage events",
    description=(
        "One CloudEvent (JSON object), a JSON array of them "
        "(`application/json` or `application/cloudevents-batch+json`) or NDJSON "
        "(`application/x-ndjson`). All or nothing: one invalid event rejects the request and "
        "nothing of it is stored. The answer is sent once the events are committed to disk. "
        "A re-sent id (per tenant, forever) is counted in `duplicates` and stored once."
    ),
    responses={
        400: {"model": IngestRejection},
        401: {"model": IngestRejection},
        413: {"model": IngestRejection},
        415: {"model": IngestRejection},
        422: {"model": IngestRejection},
    },
)
async def ingest_events(
    request: Request,
    principal: CallerDep,
    settings: SettingsDep,
    decoder: DecoderDep,
    writer: WriterDep,
) -> IngestResult | JSONResponse:
    try:
        body = await _read_body(request, settings.max_batch_bytes)
        table = await decoder.decode(body, request.headers.get("content-type"), principal)
    except RejectedBody as rejected:
        return JSONResponse({"detail": rejected.message}, status_code=rejected.status)
    except InvalidEvents as invalid:
        rejection = IngestRejection(
            detail=str(invalid),
            errors=[
                EventProblem(index=e.index, field=e.field, message=e.message)
                for e in invalid.errors
            ],
        )
        return JSONResponse(rejection.model_dump(), status_code=422)
    result = await writer.submit(table)
    return IngestResult(accepted=result.accepted, duplicates=result.duplicates)
