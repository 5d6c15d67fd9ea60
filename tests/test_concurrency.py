"""Concurrency: many clients ingesting overlapping batches at once count every event once.

Real server subprocess, real HTTP, real DuckDB file. Clients run in threads, each with its own
connection, and send batches that share ids with each other's (same content per id). The
expected counts and rollups are computed here in plain Python from the events sent.
"""

import random
import threading
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.rollup_reference import (
    TENANT,
    TZ,
    Event,
    assert_stored_exactly,
    distinct,
    make_events,
)
from tests.service import Server, Service, new_key

# tests -----------------------------------------------------------------------------------------

THREADS = 8


@dataclass
class Answer:
    sent: list[Event]
    accepted: int
    duplicates: int


def ingest_concurrently(url: str, key: str, plans: list[list[list[Event]]]) -> list[Answer]:
    """Each plan is one client's batches, sent in order; all clients start at the same instant
    and every round of batches starts together."""
    answers: list[Answer] = []
    failures: list[str] = []
    lock = threading.Lock()
    rounds = len(plans[0])
    assert all(len(plan) == rounds for plan in plans)
    barrier = threading.Barrier(len(plans))

    def run(plan: list[list[Event]]) -> None:
        with httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=120) as http:
            for batch in plan:
                barrier.wait(timeout=120)
                response = http.post("/v1/events", json=batch)
                with lock:
                    if response.status_code != 200:
                        failures.append(f"{response.status_code}: {response.text}")
                        continue
                    body = response.json()
                    answers.append(Answer(batch, body["accepted"], body["duplicates"]))

    workers = [threading.Thread(target=run, args=(plan,)) for plan in plans]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
        assert not worker.is_alive()
    assert failures == []
    assert len(answers) == sum(len(plan) for plan in plans)
    return answers


def overlapping_plans(
    pool: list[Event], seed: int, rounds: int, size: int
) -> list[list[list[Event]]]:
    """Batches drawn from one shared pool, so threads send many of the same ids at once; some
    batches also repeat ids inside themselves."""
    rng = random.Random(seed)
    plans = []
    for _ in range(THREADS):
        plan = []
        for _ in range(rounds):
            batch = rng.sample(pool, size)
            batch += rng.sample(batch, size // 20)
            rng.shuffle(batch)
            plan.append(batch)
        plans.append(plan)
    return plans


def check_answers(answers: list[Answer]) -> None:
    """Per request, accepted + duplicates is its size; over all, each distinct id once."""
    for answer in answers:
        assert answer.accepted + answer.duplicates == len(answer.sent)
        assert answer.accepted <= len({event["id"] for event in answer.sent})
    sent = [event for answer in answers for event in answer.sent]
    assert sum(answer.accepted for answer in answers) == len(distinct(sent))
    assert sum(answer.accepted + answer.duplicates for answer in answers) == len(sent)


def make_tenant(server: Server, operator_key: str) -> str:
    """Tenant `acme` in the Kathmandu zone, made over the admin API; returns its key."""
    with httpx.Client(base_url=server.url, headers={"X-API-Key": operator_key}) as admin:
        created = admin.post("/v1/admin/tenants", json={"name": TENANT, "tz": TZ})
        assert created.status_code == 201, created.text
        issued = admin.post("/v1/admin/keys", json={"tenant": TENANT})
        assert issued.status_code == 201, issued.text
        key: str = issued.json()["key"]
        return key


def test_overlapping_concurrent_batches_count_each_event_once(tmp_path: Path) -> None:
    db = tmp_path / "usagelens.duckdb"
    operator_key = new_key(db, "--operator")
    pool = make_events(seed=11, prefix="shared", count=2500)
    plans = overlapping_plans(pool, seed=12, rounds=5, size=300)
    # Then every client sends the very same batch at the same instant, three times over.
    same = make_events(seed=13, prefix="same", count=200)
    for plan in plans:
        plan.extend([same, same, same])

    server = Server(db).start()
    try:
        key = make_tenant(server, operator_key)
        answers = ingest_concurrently(server.url, key, plans)
        check_answers(answers)
        same_answers = [answer for answer in answers if answer.sent is same]
        assert len(same_answers) == 3 * THREADS
        assert sum(answer.accepted for answer in same_answers) == len(same)

        everything = distinct(event for plan in plans for batch in plan for event in batch)
        with httpx.Client(base_url=server.url, headers={"X-API-Key": key}, timeout=120) as http:
            response = http.post("/v1/events", json=list(everything.values()))
        assert response.status_code == 200, response.text
        assert response.json() == {"accepted": 0, "duplicates": len(everything)}
    finally:
        server.stop()
    assert_stored_exactly(db, everything)


def test_two_tenants_ingesting_the_same_ids_at_once_stay_independent(service: Service) -> None:
    first, second = service.new_tenant(), service.new_tenant()
    pool = make_events(seed=21, prefix="both", count=600)
    plans = overlapping_plans(pool, seed=22, rounds=3, size=120)
    # Threads alternate between the tenants: even ones send as the first, odd as the second.
    answers: dict[str, list[Answer]] = {}
    threads: list[threading.Thread] = []
    for tenant, own_plans in ((first, plans[0::2]), (second, plans[1::2])):

        def run(key: str = tenant.key, own: list[list[list[Event]]] = own_plans) -> None:
            answers[key] = ingest_concurrently(service.server.url, key, own)

        threads.append(threading.Thread(target=run))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
        assert not thread.is_alive()

    for tenant, own_plans in ((first, plans[0::2]), (second, plans[1::2])):
        check_answers(answers[tenant.key])
        everything = distinct(event for plan in own_plans for batch in plan for event in batch)
        response = tenant.ingest(list(everything.values()))
        assert response.status_code == 200, response.text
        assert response.json() == {"accepted": 0, "duplicates": len(everything)}
    # An id one tenant never sent is new to it, even though the other tenant has it.
    only_first = set(distinct(e for p in plans[0::2] for b in p for e in b))
    only_first -= set(distinct(e for p in plans[1::2] for b in p for e in b))
    assert only_first, "the plans should leave ids that only the first tenant sent"
    news = [event for event in pool if event["id"] in only_first]
    response = second.ingest(news)
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": len(news), "duplicates": 0}
