"""Response bodies of seed 000's detail endpoint: field names, order and types as its page shows."""

from pydantic import BaseModel, Field


class EndUserTeamsTicket(BaseModel):
    ticket_id: str = Field(description="The ticket's id, as the `ticket` event carried it.")
    url: str = Field(description="Link to the ticket; an empty string when the event carried none.")


class EndUserTeamsMonth(BaseModel):
    active_users: int = Field(description="End users active in the month.")
    month: str = Field(description="The month, `YYYY-MM`, in the tenant's time zone.")


class EndUserTeamsCompany(BaseModel):
    active_users: int = Field(description="Active end users attributed to the company.")
    company_name: str = Field(description="The company's name; its id while none is known.")
    end_company_id: str = Field(description="The company's (organization's) id.")
    tickets: list[EndUserTeamsTicket] = Field(
        description="Ticket events of the month naming the company, oldest first."
    )
    tickets_raised: int = Field(description="How many `tickets` there are.")


class EndUserTeamsUser(BaseModel):
    company_name: str = Field(description="Name of the company the user is attributed to.")
    end_company_id: str = Field(
        description="The company the user is attributed to this month: where they sent the most "
        "bot messages (a tie goes to the smallest company id)."
    )
    end_user: str = Field(description="The user's name; their id while no name is known.")
    end_user_email: str = Field(description="The user's email; an empty string when unknown.")
    tickets: list[EndUserTeamsTicket] = Field(
        description="Ticket events of the month with the user as subject, oldest first."
    )
    tickets_raised: int = Field(description="How many `tickets` there are.")
    turns: int = Field(description="The user's bot messages in the month, in all companies.")


class EndUserTeamsDetail(BaseModel):
    """Detailed end-user Teams bot MAU breakdown for the selected month: per-company (named) +
    per-user + bot-raised ticket count, plus a monthly active-user trend ending at that month.
    Dollar billing (projected charge / trial state) stays on /billing/end-user-teams-usage."""

    monthly_active_users: list[EndUserTeamsMonth] = Field(
        description="Exactly `months` entries, oldest first, ending at `month`."
    )
    per_company: list[EndUserTeamsCompany] = Field(
        description="Every company with at least one active user attributed to it in `month`, "
        "most active users first (then by name and id). The same on every page."
    )
    per_user: list[EndUserTeamsUser] = Field(
        description="This page of the month's active users, most turns first, then by name, "
        "then by id."
    )
    tickets_raised: int = Field(description="All ticket events of the tenant in `month`.")


class EndUserTeamsPagination(BaseModel):
    has_more: bool = Field(description="Whether another page of `per_user` follows.")
    next_cursor: str | None = Field(
        description="Pass as `cursor`, with the same other parameters, for the next page; "
        "null on the last page."
    )


class EndUserTeamsMeta(BaseModel):
    request_id: str = Field(description="This request's id (a UUID), also the X-Request-ID header.")
    timings_ms: dict[str, float] = Field(
        description="Milliseconds spent in named stages of the request, and in `total`."
    )
    pagination: EndUserTeamsPagination
    warnings: list[str] = Field(
        description="Things to know about the figures, e.g. that the month is still running."
    )


class EndUserTeamsDetailResponse(BaseModel):
    data: EndUserTeamsDetail
    meta: EndUserTeamsMeta


class BillingErrorBody(BaseModel):
    code: str = Field(description="What went wrong, for a program to branch on.")
    message: str = Field(description="What went wrong, for a person.")
    details: dict[str, object] | None = Field(
        default=None, description="More about it, e.g. the parameter concerned."
    )


class BillingErrorMeta(BaseModel):
    request_id: str


class BillingErrorResponse(BaseModel):
    error: BillingErrorBody
    meta: BillingErrorMeta
