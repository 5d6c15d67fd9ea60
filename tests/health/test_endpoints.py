import time

from tests.service import Service


def test_healthz_answers_ok(service: Service) -> None:
    response = service.client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_ready_when_storage_and_writer_run(service: Service) -> None:
    client = service.client()
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"
    # The fixture's file is small, so its id index loads within moments of the start.
    deadline = time.monotonic() + 30
    while response.json()["ingest"] != "ready" and time.monotonic() < deadline:
        assert response.json() == {"status": "ready", "ingest": "loading the id index"}
        time.sleep(0.05)
        response = client.get("/readyz")
    assert response.json() == {"status": "ready", "ingest": "ready"}
