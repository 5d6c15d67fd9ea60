"""Liveness and readiness probes."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: storage answers and the writer runs")
async def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    problems = []
    if not state.writer.alive:
        problems.append("the ingest writer is not running")
    try:
        # Off the event loop: a read may wait for one of the engine's query slots.
        await run_in_threadpool(state.backend.list_tenants)
    except Exception as error:  # any storage failure means "not ready", never a crash
        problems.append(f"storage does not answer: {error}")
    if problems:
        return JSONResponse({"status": "unavailable", "problems": problems}, status_code=503)
    # Reads are answered either way; a write waits until the id index has loaded.
    ingest = "ready" if state.backend.ingest_ready() else "loading the id index"
    return JSONResponse({"status": "ready", "ingest": ingest})
