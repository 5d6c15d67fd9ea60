"""A real usagelens server in a subprocess, on a real DuckDB file, for tests to talk to."""

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cli(*args: str, db: Path, check: bool = True, env: dict[str, str] | None = None) -> str:
    """Run `usagelens ARGS --db DB` as a user would; return its stdout."""
    done = subprocess.run(
        [sys.executable, "-m", "usagelens", *args, "--db", str(db)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )
    if check and done.returncode != 0:
        raise AssertionError(
            f"usagelens {' '.join(args)} failed ({done.returncode}):\n{done.stderr}"
        )
    return done.stdout


def new_key(db: Path, *args: str) -> str:
    """`usagelens keys create ...` prints the key alone on its last line."""
    return cli("keys", "create", *args, db=db).strip().splitlines()[-1]


@dataclass
class Server:
    db: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Server":
        self.log = self.db.with_suffix(f".{self.port}.log")
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "usagelens",
                    "serve",
                    "--db",
                    str(self.db),
                    "--port",
                    str(self.port),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited early:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"server did not get ready:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()
        self.process = None


@dataclass
class Tenant:
    name: str
    key: str
    client: httpx.Client

    def ingest(self, events: Any, **kwargs: Any) -> httpx.Response:
        return self.client.post("/v1/events", json=events, **kwargs)


class Service:
    """One running server for a whole test session; each test makes its own tenants."""

    def __init__(self, server: Server, operator_key: str) -> None:
        self.server = server
        self.operator_key = operator_key
        self._clients: list[httpx.Client] = []
        self._count = 0
        self.admin = self.client(operator_key)

    def client(self, key: str | None = None) -> httpx.Client:
        """A client of the server (closed with the service), sending ``key`` as X-API-Key."""
        headers = {"X-API-Key": key} if key else {}
        client = httpx.Client(base_url=self.server.url, headers=headers, timeout=60)
        self._clients.append(client)
        return client

    def close(self) -> None:
        for client in self._clients:
            client.close()

    def new_tenant(self, tz: str = "UTC", mau_min_messages: int = 2) -> Tenant:
        self._count += 1
        name = f"t{self._count}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
        created = self.admin.post(
            "/v1/admin/tenants", json={"name": name, "tz": tz, "mau_min_messages": mau_min_messages}
        )
        assert created.status_code == 201, created.text
        issued = self.admin.post("/v1/admin/keys", json={"tenant": name})
        assert issued.status_code == 201, issued.text
        key = issued.json()["key"]
        return Tenant(name, key, self.client(key))
