"""The built-in event types (BRIEF §3) as CloudEvents 1.0 models.

Every model forbids unknown fields, so a typo is an error instead of a silent drop.
"""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter

MAX_QUANTITY = 10**12

Identifier = Annotated[str, Field(min_length=1, max_length=256)]
Label = Annotated[str, Field(min_length=1, max_length=256)]
Email = Annotated[str, Field(max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")]
WholeNumber = Annotated[int, Field(strict=True, ge=0, le=MAX_QUANTITY)]
Quantity = Annotated[Decimal, Field(ge=0, le=MAX_QUANTITY, decimal_places=6, allow_inf_nan=False)]
Direction = Literal["outbound", "inbound"]


def _parse_rfc3339(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("must be an RFC 3339 timestamp such as 2024-01-31T09:30:00Z") from None
    if parsed.tzinfo is None or "T" not in value.upper().replace(" ", "T"):
        raise ValueError(
            "must be an RFC 3339 timestamp with a UTC offset, such as 2024-01-31T09:30:00Z"
        )
    return parsed.astimezone(UTC)


EventTime = Annotated[str, AfterValidator(_parse_rfc3339)]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    organization_id: Identifier
    organization_name: Label | None = None
    user_name: Label | None = None
    user_email: Email | None = None


class ConversationData(_Data):
    agent_id: Identifier
    agent_name: Label | None = None
    conversation_type: Label
    seconds: WholeNumber


class MessageData(_Data):
    direction: Direction
    segments: WholeNumber = 1


class VoiceCallData(_Data):
    direction: Direction
    seconds: WholeNumber


class ApiRequestData(_Data):
    count: WholeNumber = 1


class StorageData(_Data):
    gb_hours: Quantity


class PhoneData(_Data):
    phone_number: Identifier


class BrandRegistrationData(_Data):
    brand_id: Identifier


class KnowledgeBaseData(_Data):
    kb_id: Identifier


class KbUsageData(_Data):
    kb_id: Identifier
    minutes: Quantity


class BotMessageData(_Data):
    channel: Label = "teams"


class TicketData(_Data):
    ticket_id: Identifier
    url: Annotated[str, Field(max_length=2048, pattern=r"^https?://\S+$")] | None = None


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Identifier
    time: EventTime
    subject: Identifier | None = None
    source: Annotated[str, Field(max_length=1024)] | None = None
    specversion: Literal["1.0"] | None = None
    datacontenttype: Literal["application/json"] | None = None
    tenant: Identifier | None = None

    @property
    def utc_time(self) -> datetime:
        # EventTime's validator already turned the text into an aware UTC datetime.
        value: object = self.time
        assert isinstance(value, datetime)
        return value


class ConversationEvent(_Event):
    type: Literal["conversation"]
    data: ConversationData


class SmsEvent(_Event):
    type: Literal["sms"]
    data: MessageData


class MmsEvent(_Event):
    type: Literal["mms"]
    data: MessageData


class VoiceCallEvent(_Event):
    type: Literal["voice_call"]
    data: VoiceCallData


class ApiRequestEvent(_Event):
    type: Literal["api_request"]
    data: ApiRequestData


class StorageEvent(_Event):
    type: Literal["storage"]
    data: StorageData


class PhoneRentalEvent(_Event):
    type: Literal["phone_rental"]
    data: PhoneData


class PhonePurchaseEvent(_Event):
    type: Literal["phone_purchase"]
    data: PhoneData


class BrandRegistrationEvent(_Event):
    type: Literal["brand_registration"]
    data: BrandRegistrationData
    subject: None = Field(
        default=None, description="Brand registration is organization-level: no subject."
    )


class KnowledgeBaseEvent(_Event):
    type: Literal["knowledge_base"]
    data: KnowledgeBaseData


class KbUsageEvent(_Event):
    type: Literal["kb_usage"]
    data: KbUsageData


class BotMessageEvent(_Event):
    type: Literal["bot_message"]
    data: BotMessageData
    subject: Identifier


class TicketEvent(_Event):
    type: Literal["ticket"]
    data: TicketData
    subject: Identifier


AnyEvent = Annotated[
    ConversationEvent
    | SmsEvent
    | MmsEvent
    | VoiceCallEvent
    | ApiRequestEvent
    | StorageEvent
    | PhoneRentalEvent
    | PhonePurchaseEvent
    | BrandRegistrationEvent
    | KnowledgeBaseEvent
    | KbUsageEvent
    | BotMessageEvent
    | TicketEvent,
    Field(discriminator="type"),
]

EVENT = TypeAdapter(AnyEvent)
EVENT_LIST = TypeAdapter(list[AnyEvent])

EVENT_TYPES: tuple[str, ...] = (
    "conversation",
    "sms",
    "mms",
    "voice_call",
    "api_request",
    "storage",
    "phone_rental",
    "phone_purchase",
    "brand_registration",
    "knowledge_base",
    "kb_usage",
    "bot_message",
    "ticket",
)
