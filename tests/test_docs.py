"""The README cannot drift: it names every setting, CLI command and HTTP route there is."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.main
from fastapi.routing import iter_route_contexts

from usagelens.app import create_app
from usagelens.cli.main import app as cli_app
from usagelens.settings import Settings

README = Path(__file__).resolve().parent.parent / "README.md"
FASTAPI_OWN_ROUTES = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


@pytest.fixture(scope="module")
def readme() -> str:
    return README.read_text(encoding="utf-8")


def setting_env_vars() -> list[str]:
    return [f"USAGELENS_{field.upper()}" for field in Settings.model_fields]


def command_paths(command: object, path: str) -> Iterator[str]:
    """``path`` and the path of every (non-hidden) sub-command below it."""
    yield path
    subcommands: dict[str, object] = getattr(command, "commands", {})
    for name, sub in subcommands.items():
        if not getattr(sub, "hidden", False):
            yield from command_paths(sub, f"{path} {name}")


def cli_commands() -> list[str]:
    root = typer.main.get_command(cli_app)
    return [path for path in command_paths(root, "usagelens") if path != "usagelens"]


def route_paths() -> list[str]:
    """Every route of the app, routers included (FastAPI keeps included routers nested)."""
    app = create_app(Settings())
    paths = {str(context.path) for context in iter_route_contexts(app.routes)}
    # Whatever the OpenAPI document shows is a route too: the walk must not miss any.
    assert set(app.openapi()["paths"]) <= paths
    return sorted(paths - FASTAPI_OWN_ROUTES)


def test_the_walks_find_what_they_should() -> None:
    # Guards the guards: a walk that finds nothing would let any README pass.
    assert "USAGELENS_DB" in setting_env_vars()
    assert "USAGELENS_KEY_PREFIX" in setting_env_vars()
    commands = cli_commands()
    for expected in ("usagelens serve", "usagelens tenants create", "usagelens keys revoke"):
        assert expected in commands
    assert "/v1/events" in route_paths()
    assert "/v1/admin/keys/{key_id}" in route_paths()


@pytest.mark.parametrize("variable", setting_env_vars())
def test_readme_mentions_every_setting(readme: str, variable: str) -> None:
    assert variable in readme


@pytest.mark.parametrize("command", cli_commands())
def test_readme_mentions_every_cli_command(readme: str, command: str) -> None:
    assert command in readme


@pytest.mark.parametrize("path", route_paths())
def test_readme_mentions_every_route(readme: str, path: str) -> None:
    assert path in readme


def test_readme_opens_with_the_two_fresh_machine_commands(readme: str) -> None:
    opening = "\n".join(readme.splitlines()[:15])
    assert "make run" in opening
    assert "make test" in opening
