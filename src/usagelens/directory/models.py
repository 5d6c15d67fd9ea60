"""The tenant's customer tree: organizations (with parents), their users and agents."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Organization:
    organization_id: str
    name: str | None
    parent_id: str | None


@dataclass(frozen=True)
class User:
    user_id: str
    name: str | None
    email: str | None
    organization_id: str | None


def display_name(user_id: str, name: str | None, email: str | None) -> str:
    """How the analytics name a user: by e-mail, else by name, else by id."""
    return email or name or user_id


@dataclass(frozen=True)
class Agent:
    agent_id: str
    name: str | None
    organization_id: str | None


class DirectoryError(ValueError):
    """A directory change that would break the tree (unknown parent, a cycle)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
