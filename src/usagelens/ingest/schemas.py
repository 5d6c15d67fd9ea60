"""The built-in event types (BRIEF §3) as CloudEvents 1.0 structures.

msgspec decodes and validates a whole batch in C (about a microsecond an event), which is what
lets the ingest path keep up with a firehose. Every structure forbids unknown fields, so a typo is
an error instead of a silent drop. What the types cannot express (decimal places, a user's fields
without a user, the tenant, future times) is checked in ``rows.event_problems``.
"""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

import msgspec

MAX_QUANTITY = 10**12
MAX_DECIMAL_PLACES = 6
# Decimal quantities are stored with 18 digits, 6 of them decimals.
MAX_DECIMAL_QUANTITY = Decimal(MAX_QUANTITY) - Decimal(1).scaleb(-MAX_DECIMAL_PLACES)

Identifier = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
Email = Annotated[str, msgspec.Meta(max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")]
Url = Annotated[str, msgspec.Meta(max_length=2048, pattern=r"^https?://\S+$")]
WholeNumber = Annotated[int, msgspec.Meta(ge=0, le=MAX_QUANTITY)]
Direction = Literal["outbound", "inbound"]


class _Data(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    organization_id: Identifier
    organization_name: Label | None = None
    user_name: Label | None = None
    user_email: Email | None = None


class ConversationData(_Data, kw_only=True):
    agent_id: Identifier
    agent_name: Label | None = None
    conversation_type: Label
    seconds: WholeNumber


class MessageData(_Data, kw_only=True):
    direction: Direction
    segments: WholeNumber = 1


class VoiceCallData(_Data, kw_only=True):
    direction: Direction
    seconds: WholeNumber


class ApiRequestData(_Data, kw_only=True):
    count: WholeNumber = 1


class StorageData(_Data, kw_only=True):
    gb_hours: Decimal


class PhoneData(_Data, kw_only=True):
    phone_number: Identifier


class BrandRegistrationData(_Data, kw_only=True):
    brand_id: Identifier


class KnowledgeBaseData(_Data, kw_only=True):
    kb_id: Identifier


class KbUsageData(_Data, kw_only=True):
    kb_id: Identifier
    minutes: Decimal


class BotMessageData(_Data, kw_only=True):
    channel: Label = "teams"


class TicketData(_Data, kw_only=True):
    ticket_id: Identifier
    url: Url | None = None


class _Event(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, tag_field="type"):
    id: Identifier
    time: datetime
    subject: Identifier | None = None
    source: Annotated[str, msgspec.Meta(max_length=1024)] | None = None
    specversion: Literal["1.0"] | None = None
    datacontenttype: Literal["application/json"] | None = None
    tenant: Identifier | None = None


class ConversationEvent(_Event, kw_only=True, tag="conversation"):
    data: ConversationData


class SmsEvent(_Event, kw_only=True, tag="sms"):
    data: MessageData


class MmsEvent(_Event, kw_only=True, tag="mms"):
    data: MessageData


class VoiceCallEvent(_Event, kw_only=True, tag="voice_call"):
    data: VoiceCallData


class ApiRequestEvent(_Event, kw_only=True, tag="api_request"):
    data: ApiRequestData


class StorageEvent(_Event, kw_only=True, tag="storage"):
    data: StorageData


class PhoneRentalEvent(_Event, kw_only=True, tag="phone_rental"):
    data: PhoneData


class PhonePurchaseEvent(_Event, kw_only=True, tag="phone_purchase"):
    data: PhoneData


class BrandRegistrationEvent(_Event, kw_only=True, tag="brand_registration"):
    data: BrandRegistrationData
    subject: None = None  # organization-level: never per user


class KnowledgeBaseEvent(_Event, kw_only=True, tag="knowledge_base"):
    data: KnowledgeBaseData


class KbUsageEvent(_Event, kw_only=True, tag="kb_usage"):
    data: KbUsageData


class BotMessageEvent(_Event, kw_only=True, tag="bot_message"):
    data: BotMessageData
    subject: Identifier


class TicketEvent(_Event, kw_only=True, tag="ticket"):
    data: TicketData
    subject: Identifier


AnyEvent = (
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
    | TicketEvent
)

EVENT_CLASSES: tuple[type[_Event], ...] = (
    ConversationEvent,
    SmsEvent,
    MmsEvent,
    VoiceCallEvent,
    ApiRequestEvent,
    StorageEvent,
    PhoneRentalEvent,
    PhonePurchaseEvent,
    BrandRegistrationEvent,
    KnowledgeBaseEvent,
    KbUsageEvent,
    BotMessageEvent,
    TicketEvent,
)
EVENT_TYPE: dict[type[_Event], str] = {cls: str(cls.__struct_config__.tag) for cls in EVENT_CLASSES}
EVENT_TYPES: tuple[str, ...] = tuple(EVENT_TYPE.values())

EVENT = msgspec.json.Decoder(AnyEvent)
EVENT_LIST = msgspec.json.Decoder(list[AnyEvent])
RAW_LIST = msgspec.json.Decoder(list[msgspec.Raw])


def event_type(event: AnyEvent) -> str:
    return EVENT_TYPE[type(event)]


def decode_event(value: object) -> AnyEvent:
    """Validate one event given as Python data (a dict as JSON would give); raises
    ``msgspec.ValidationError``. For callers that hold dicts rather than JSON text."""
    event: AnyEvent = EVENT.decode(msgspec.json.encode(value))
    return event
