"""The directory API: a tenant's organizations, users and agents. Writes take tenant keys;
reads also take a dashboard user's access token."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query
from starlette.concurrency import run_in_threadpool

from usagelens.auth.models import Principal
from usagelens.directory.models import DirectoryError
from usagelens.directory.schemas import (
    AgentIn,
    AgentList,
    AgentOut,
    OrganizationIn,
    OrganizationList,
    OrganizationOut,
    UserIn,
    UserList,
    UserOut,
)
from usagelens.web.dependencies import BackendDep, DirectoryReaderDep, TenantCallerDep

router = APIRouter(tags=["directory"])

IdPath = Annotated[str, Path(min_length=1, max_length=256)]


def _tenant(principal: Principal) -> int:
    assert principal.tenant_id is not None
    return principal.tenant_id


def _not_found(kind: str, entity_id: str) -> HTTPException:
    # The same answer whether the id is absent or belongs to another tenant.
    return HTTPException(404, f"{kind} {entity_id!r} not found")


def _unprocessable(error: DirectoryError) -> HTTPException:
    return HTTPException(
        422, [{"loc": ["body", error.field], "msg": error.message, "type": "value_error"}]
    )


@router.put("/v1/organizations/{organization_id}", response_model=OrganizationOut)
async def put_organization(
    organization_id: IdPath, body: OrganizationIn, principal: TenantCallerDep, backend: BackendDep
) -> OrganizationOut:
    try:
        org = await run_in_threadpool(
            backend.put_organization, _tenant(principal), organization_id, body.name, body.parent_id
        )
    except DirectoryError as error:
        raise _unprocessable(error) from None
    return OrganizationOut.of(org)


@router.get("/v1/organizations/{organization_id}", response_model=OrganizationOut)
async def get_organization(
    organization_id: IdPath, principal: DirectoryReaderDep, backend: BackendDep
) -> OrganizationOut:
    org = await run_in_threadpool(backend.get_organization, _tenant(principal), organization_id)
    if org is None:
        raise _not_found("organization", organization_id)
    return OrganizationOut.of(org)


@router.get("/v1/organizations", response_model=OrganizationList)
async def list_organizations(
    principal: DirectoryReaderDep, backend: BackendDep
) -> OrganizationList:
    orgs = await run_in_threadpool(backend.list_organizations, _tenant(principal))
    return OrganizationList(data=[OrganizationOut.of(org) for org in orgs])


@router.put("/v1/users/{user_id}", response_model=UserOut)
async def put_user(
    user_id: IdPath, body: UserIn, principal: TenantCallerDep, backend: BackendDep
) -> UserOut:
    try:
        user = await run_in_threadpool(
            backend.put_user,
            _tenant(principal),
            user_id,
            body.name,
            body.email,
            body.organization_id,
        )
    except DirectoryError as error:
        raise _unprocessable(error) from None
    return UserOut.of(user)


@router.get("/v1/users/{user_id}", response_model=UserOut)
async def get_user(user_id: IdPath, principal: DirectoryReaderDep, backend: BackendDep) -> UserOut:
    user = await run_in_threadpool(backend.get_user, _tenant(principal), user_id)
    if user is None:
        raise _not_found("user", user_id)
    return UserOut.of(user)


@router.get("/v1/users", response_model=UserList)
async def list_users(
    principal: DirectoryReaderDep,
    backend: BackendDep,
    organization_id: Annotated[
        str | None, Query(description="Only this organization's users.")
    ] = None,
) -> UserList:
    users = await run_in_threadpool(backend.list_users, _tenant(principal), organization_id)
    return UserList(data=[UserOut.of(user) for user in users])


@router.put("/v1/agents/{agent_id}", response_model=AgentOut)
async def put_agent(
    agent_id: IdPath, body: AgentIn, principal: TenantCallerDep, backend: BackendDep
) -> AgentOut:
    try:
        agent = await run_in_threadpool(
            backend.put_agent, _tenant(principal), agent_id, body.name, body.organization_id
        )
    except DirectoryError as error:
        raise _unprocessable(error) from None
    return AgentOut.of(agent)


@router.get("/v1/agents/{agent_id}", response_model=AgentOut)
async def get_agent(
    agent_id: IdPath, principal: DirectoryReaderDep, backend: BackendDep
) -> AgentOut:
    agent = await run_in_threadpool(backend.get_agent, _tenant(principal), agent_id)
    if agent is None:
        raise _not_found("agent", agent_id)
    return AgentOut.of(agent)


@router.get("/v1/agents", response_model=AgentList)
async def list_agents(
    principal: DirectoryReaderDep,
    backend: BackendDep,
    organization_id: Annotated[
        str | None, Query(description="Only this organization's agents.")
    ] = None,
) -> AgentList:
    agents = await run_in_threadpool(backend.list_agents, _tenant(principal), organization_id)
    return AgentList(data=[AgentOut.of(agent) for agent in agents])
