"""Response bodies of seed 002's usage API, field for field as its page shows them."""

from pydantic import BaseModel, Field

from usagelens.usage.model import Dimension


class UsageMeta(BaseModel):
    account_id: str
    start: str = Field(description="Start of the range, in the requested zone.")
    end: str = Field(description="End of the range (exclusive), in the requested zone.")
    granularity: str
    group_by: list[Dimension]
    tz: str


class UsageValue(BaseModel):
    seconds: int
    conversations: int
    dimensions: dict[str, str]


class UsageBucket(BaseModel):
    ts: str = Field(description="The bucket's first instant, with the zone's offset then.")
    values: list[UsageValue]


class UsageResponse(BaseModel):
    meta: UsageMeta
    data: list[UsageBucket]
