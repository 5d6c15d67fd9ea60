"""Bodies of the rate-card admin API: a card has the structure of its TOML, decimals as strings."""

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

from usagelens.pricing.ratecard import RateCard, rate_card_to_dict

Money = str  # a decimal, exactly as set: never a binary floating-point number


class PricesOut(BaseModel):
    sms_outbound: Money = Field(description="Per outbound SMS segment.")
    sms_inbound: Money = Field(description="Per inbound SMS segment.")
    mms_outbound: Money = Field(description="Per outbound MMS segment.")
    mms_inbound: Money = Field(description="Per inbound MMS segment.")
    voice_per_minute: Money
    api_requests_per_1000: Money
    storage_per_gb_month: Money = Field(description="1 GB-month = 730 GB-hours.")
    phone_rental: Money = Field(description="Per phone_rental event.")
    phone_purchase: Money = Field(description="Per phone_purchase event.")
    brand_registration: Money = Field(description="Per brand_registration event.")
    kb_monthly: Money = Field(description="Per knowledge_base event.")
    kb_per_minute: Money


class TierOut(BaseModel):
    up_to: int | None = Field(description="Last active user of the tier; null on the last tier.")
    unit_price: Money


class MauOut(BaseModel):
    minimum: Money = Field(description="The least the monthly MAU charge can be.")
    tiers: list[TierOut] = Field(description="Graduated: each user priced by their own tier.")
    trial_end_date: date | None


class CardOut(BaseModel):
    currency: str = Field(description="ISO 4217 code.", examples=["USD"])
    voice_rounding: Literal["per_second", "per_started_minute"]
    prices: PricesOut
    mau: MauOut

    @classmethod
    def of(cls, card: RateCard) -> "CardOut":
        return cls.model_validate(rate_card_to_dict(card))


class VersionOut(BaseModel):
    effective_from: date = Field(description="First date (tenant's zone) the card is in force.")
    card: CardOut


class TenantVersionOut(BaseModel):
    tenant: str
    effective_from: date = Field(description="First date (tenant's zone) the card is in force.")
    card: CardOut


class RateCardList(BaseModel):
    tenant: str
    data: list[VersionOut] = Field(description="Every version, earliest first.")
    default: CardOut | None = Field(
        description="The built-in card in force when no version is set; null otherwise."
    )


def toml_body_openapi() -> dict[str, Any]:
    """The request body PUT reads itself, as OpenAPI shows it."""
    schema = {"type": "string", "description": "The rate card as TOML (see the README)."}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/toml": {"schema": schema},
                "text/plain": {"schema": schema},
            },
        }
    }
