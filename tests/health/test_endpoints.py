from tests.service import Service


def test_healthz_answers_ok(service: Service) -> None:
    response = service.client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_ready_when_storage_and_writer_run(service: Service) -> None:
    response = service.client().get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}
