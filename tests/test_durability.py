"""Durability: an acknowledged event survives a SIGKILL of the real server one instant later.

The server runs as a subprocess on a real DuckDB file; events go over real HTTP. After each
crash the server restarts on the same file and the raw events and rollups are checked against
sums computed here, in plain Python, from the events the test generated.
"""

import random
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.rollup_reference import (
    TENANT,
    TZ,
    Event,
    assert_stored_exactly,
    distinct,
    make_events,
)
from tests.service import Server, cli, new_key

# fixtures --------------------------------------------------------------------------------------


@dataclass
class Setup:
    db: Path
    key: str


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    """A file with tenant `acme` and its key, made once with the real CLI."""
    db = tmp_path_factory.mktemp("durability-template") / "template.duckdb"
    cli("tenants", "create", TENANT, "--tz", TZ, db=db)
    key = new_key(db, "--tenant", TENANT)
    return Setup(db, key)


@pytest.fixture
def setup(template: Setup, tmp_path: Path) -> Setup:
    db = tmp_path / "usagelens.duckdb"
    shutil.copyfile(template.db, db)
    return Setup(db, template.key)


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """Every server a test starts, stopped at the end even when the test fails."""
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


def start(servers: list[Server], db: Path) -> Server:
    server = Server(db).start()
    servers.append(server)
    return server


def client(server: Server, key: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"X-API-Key": key}, timeout=60)


def post(http: httpx.Client, events: list[Event]) -> dict[str, int]:
    response = http.post("/v1/events", json=events)
    assert response.status_code == 200, response.text
    answer: dict[str, int] = response.json()
    return answer


# tests -----------------------------------------------------------------------------------------


def test_acknowledged_events_survive_sigkill_right_after_the_ack(
    setup: Setup, servers: list[Server]
) -> None:
    pool = iter(make_events(seed=1, prefix="seq", count=2001))
    rng = random.Random(2)
    seen: set[str] = set()
    sent: list[Event] = []
    # Two crash rounds. Later batches re-send ids of earlier ones (also from before the crash,
    # when only the file can know them) and repeat ids inside a batch; the last request of
    # the second round is a single CloudEvent object, the smallest possible commit.
    for round_number in range(2):
        server = start(servers, setup.db)
        with client(server, setup.key) as http:
            for batch_number in range(3):
                last = batch_number == 2
                body: Event | list[Event]
                if last and round_number == 1:
                    batch = [next(pool)]
                    body = batch[0]
                else:
                    fresh = [next(pool) for _ in range(400)]
                    batch = fresh + rng.sample(sent, min(len(sent), 150)) + fresh[:20]
                    rng.shuffle(batch)
                    body = batch
                new_ids = {event["id"] for event in batch} - seen
                response = http.post("/v1/events", json=body)
                if last:
                    server.kill()  # SIGKILL the instant the last 2xx is in
                assert response.status_code == 200, response.text
                expected = {"accepted": len(new_ids), "duplicates": len(batch) - len(new_ids)}
                assert response.json() == expected
                seen |= new_ids
                sent.extend(batch)
        assert server.process is None, f"round {round_number} did not end in a crash"

    server = start(servers, setup.db)
    everything = distinct(sent)
    assert set(everything) == seen
    with client(server, setup.key) as http:
        assert post(http, list(everything.values())) == {
            "accepted": 0,
            "duplicates": len(everything),
        }
    server.stop()
    assert_stored_exactly(setup.db, everything)


@dataclass
class Outcome:
    """What each client thread saw of its batches."""

    acknowledged: list[int] = field(default_factory=list)
    unanswered: list[int] = field(default_factory=list)
    answers: dict[int, dict[str, int]] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)


def test_sigkill_in_the_middle_of_concurrent_ingest(setup: Setup, servers: list[Server]) -> None:
    threads, batches_per_thread, batch_size = 4, 40, 100
    events = make_events(seed=3, prefix="conc", count=threads * batches_per_thread * batch_size)
    batches = [events[start : start + batch_size] for start in range(0, len(events), batch_size)]
    server = start(servers, setup.db)
    outcomes = [Outcome() for _ in range(threads)]
    acknowledged = threading.Semaphore(0)

    def run(worker: int) -> None:
        outcome = outcomes[worker]
        with client(server, setup.key) as http:
            for number in range(worker, len(batches), threads):
                try:
                    response = http.post("/v1/events", json=batches[number])
                except httpx.HTTPError:
                    outcome.unanswered.append(number)
                    return
                if response.status_code != 200:
                    outcome.unexpected.append(f"{response.status_code} {response.text}")
                    return
                outcome.acknowledged.append(number)
                outcome.answers[number] = response.json()
                acknowledged.release()

    workers = [threading.Thread(target=run, args=(worker,)) for worker in range(threads)]
    for worker in workers:
        worker.start()
    for _ in range(20):  # crash once 20 batches are acknowledged, with requests in flight
        assert acknowledged.acquire(timeout=60), "the server stopped acknowledging"
    server.kill()
    for worker in workers:
        worker.join(timeout=60)
        assert not worker.is_alive()

    done = [number for outcome in outcomes for number in outcome.acknowledged]
    lost = [number for outcome in outcomes for number in outcome.unanswered]
    assert [text for outcome in outcomes for text in outcome.unexpected] == []
    assert len(done) >= 20
    assert len(done) < len(batches), "the crash came after everything was sent"
    for outcome in outcomes:
        for number, answer in outcome.answers.items():
            assert answer == {"accepted": batch_size, "duplicates": 0}, number

    server = start(servers, setup.db)
    with client(server, setup.key) as http:
        for number in done:
            assert post(http, batches[number]) == {"accepted": 0, "duplicates": batch_size}
        # A request that got no answer is all or nothing: stored whole, or not at all.
        for number in lost:
            answer = post(http, batches[number])
            assert answer in (
                {"accepted": 0, "duplicates": batch_size},
                {"accepted": batch_size, "duplicates": 0},
            ), (number, answer)
    server.stop()
    sent = [number for number in range(len(batches)) if number in set(done) | set(lost)]
    assert_stored_exactly(setup.db, distinct(e for number in sent for e in batches[number]))
