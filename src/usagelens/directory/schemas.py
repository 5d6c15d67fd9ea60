"""Request and response bodies of the directory API."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from usagelens.directory.models import Agent, Organization, User

# The same limits as the event fields that name these entities.
Identifier = Annotated[str, Field(min_length=1, max_length=256)]
Label = Annotated[str, Field(min_length=1, max_length=256)]
Email = Annotated[str, Field(max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrganizationIn(_Body):
    name: Label | None = None
    parent_id: Identifier | None = None


class UserIn(_Body):
    name: Label | None = None
    email: Email | None = None
    organization_id: Identifier


class AgentIn(_Body):
    name: Label | None = None
    organization_id: Identifier


class OrganizationOut(BaseModel):
    id: str
    name: str = Field(description="The organization's name; its id until a name is known.")
    parent_id: str | None

    @classmethod
    def of(cls, org: Organization) -> "OrganizationOut":
        return cls(
            id=org.organization_id, name=org.name or org.organization_id, parent_id=org.parent_id
        )


class UserOut(BaseModel):
    id: str
    name: str = Field(description="The user's name; their id until a name is known.")
    email: str | None
    organization_id: str | None

    @classmethod
    def of(cls, user: User) -> "UserOut":
        return cls(
            id=user.user_id,
            name=user.name or user.user_id,
            email=user.email,
            organization_id=user.organization_id,
        )


class AgentOut(BaseModel):
    id: str
    name: str = Field(description="The agent's name; its id until a name is known.")
    organization_id: str | None

    @classmethod
    def of(cls, agent: Agent) -> "AgentOut":
        return cls(
            id=agent.agent_id,
            name=agent.name or agent.agent_id,
            organization_id=agent.organization_id,
        )


class OrganizationList(BaseModel):
    data: list[OrganizationOut]


class UserList(BaseModel):
    data: list[UserOut]


class AgentList(BaseModel):
    data: list[AgentOut]
