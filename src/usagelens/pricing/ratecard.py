"""Rate cards: a tenant's prices, as effective-dated versions (BRIEF §4, issue 4 §1).

A rate card is written in TOML (`parse_rate_card`), stored as JSON (`rate_card_to_json`,
`rate_card_from_json`) and answered by the admin API as the same JSON. Both texts have the same
structure, and every decimal is a string, so nothing ever passes through binary floating point:

    currency = "USD"
    voice_rounding = "per_second"
    [prices]  sms_outbound, sms_inbound, mms_outbound, mms_inbound, voice_per_minute,
              api_requests_per_1000, storage_per_gb_month, phone_rental, phone_purchase,
              brand_registration, kb_monthly, kb_per_minute
    [mau]     minimum, tiers = [{ up_to, unit_price }, ..., { unit_price }], trial_end_date?

Every key is required except ``mau.trial_end_date``; an unknown key, a wrong type, a negative or
malformed decimal is a `RateCardError` naming the field (``prices.sms_outbound``,
``mau.tiers[1].up_to``...).
"""

import difflib
import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any, Literal
from zoneinfo import ZoneInfo

from usagelens.timezones.buckets import bucket_start

VoiceRounding = Literal["per_second", "per_started_minute"]
VOICE_ROUNDINGS: tuple[VoiceRounding, ...] = ("per_second", "per_started_minute")

# The [prices] table, in the order the TOML and JSON list them.
PRICE_KEYS = (
    "sms_outbound",
    "sms_inbound",
    "mms_outbound",
    "mms_inbound",
    "voice_per_minute",
    "api_requests_per_1000",
    "storage_per_gb_month",
    "phone_rental",
    "phone_purchase",
    "brand_registration",
    "kb_monthly",
    "kb_per_minute",
)
GB_HOURS_PER_GB_MONTH = 730
EPOCH_DATE = date(1970, 1, 1)
EPOCH = datetime(1970, 1, 1)

# Bounds on every price. Money is computed in contexts wider than any figure they allow (Decimal's
# default 28 digits are not: one price at the bounds times 10^12 events has 37).
MAX_INTEGER_DIGITS = 12
MAX_FRACTION_DIGITS = 12

_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

# ISO 4217 minor-unit exponents of the currencies a rate card may use; every code not listed
# with another exponent has 2.
_EXPONENT_0 = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_EXPONENT_3 = "BHD IQD JOD KWD LYD OMR TND"
_EXPONENT_4 = "CLF UYW"
_EXPONENT_2 = (
    "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN BZD "
    "CAD CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP "
    "GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD "
    "LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB "
    "PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC "
    "SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VES WST XCD XCG YER ZAR ZMW ZWG"
)
CURRENCY_EXPONENTS: dict[str, int] = {
    code: exponent
    for exponent, codes in ((0, _EXPONENT_0), (2, _EXPONENT_2), (3, _EXPONENT_3), (4, _EXPONENT_4))
    for code in codes.split()
}
_MINOR_UNITS = {0: Decimal("1"), 2: Decimal("0.01"), 3: Decimal("0.001"), 4: Decimal("0.0001")}


class RateCardError(ValueError):
    """A rate card (or its effective date) that cannot be used, with the field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class MauTier:
    """A graduated tier: active users above the previous tier's ``up_to`` up to this one's
    (inclusive) cost ``unit_price`` each. ``up_to`` None: no upper bound (the last tier)."""

    up_to: int | None
    unit_price: Decimal


@dataclass(frozen=True)
class RateCard:
    currency: str
    voice_rounding: VoiceRounding
    # per segment
    sms_outbound: Decimal
    sms_inbound: Decimal
    mms_outbound: Decimal
    mms_inbound: Decimal
    voice_per_minute: Decimal
    api_requests_per_1000: Decimal
    storage_per_gb_month: Decimal  # 1 GB-month = 730 GB-hours
    phone_rental: Decimal  # per rental event
    phone_purchase: Decimal
    brand_registration: Decimal
    kb_monthly: Decimal  # per knowledge_base event
    kb_per_minute: Decimal
    mau_minimum: Decimal
    mau_tiers: tuple[MauTier, ...]
    trial_end_date: date | None

    def minor_unit(self) -> Decimal:
        """The currency's smallest unit: every reported figure is rounded to it, half-up."""
        exponent = CURRENCY_EXPONENTS.get(self.currency)
        if exponent is None:
            raise RateCardError("currency", _unknown_currency(self.currency))
        return _MINOR_UNITS[exponent]

    def price(self, key: str) -> Decimal:
        """A price of the [prices] table by its key (one of `PRICE_KEYS`)."""
        if key not in PRICE_KEYS:
            raise KeyError(key)
        value: Decimal = getattr(self, key)
        return value


# ---- reading ---------------------------------------------------------------------------------


def _what(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float | Decimal):
        return "a number"
    if isinstance(value, datetime):
        return "a date-time"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, time):
        return "a time"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if value is None:
        return "null"
    return type(value).__name__


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _table(value: object, path: str, known: Sequence[str]) -> Mapping[str, Any]:
    """``value`` as a table with no key outside ``known``."""
    if not isinstance(value, Mapping):
        raise RateCardError(path, f"must be a table, not {_what(value)}")
    for key in value:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"expected {', '.join(known)}"
            raise RateCardError(_join(path, str(key)), f"unknown key ({hint})")
    return value


def _required(table: Mapping[str, Any], key: str, path: str) -> Any:
    value = table.get(key)
    if value is None:  # TOML has no null; JSON's null means "not given"
        raise RateCardError(_join(path, key), "required")
    return value


def _decimal(value: object, field: str) -> Decimal:
    if not isinstance(value, str):
        number = isinstance(value, int | float) and not isinstance(value, bool)
        example = f' such as "{value}"' if number else ""
        raise RateCardError(
            field,
            f"must be a decimal written as a string{example}, not {_what(value)} "
            "(decimals are strings, so that no price goes through binary floating point)",
        )
    try:
        parsed = Decimal(value)
    except InvalidOperation:
        parsed = None
    if parsed is not None and not parsed.is_finite():
        raise RateCardError(field, f"must be a finite decimal, not {value!r}")
    if value.startswith("-") and _DECIMAL.fullmatch(value[1:]):
        raise RateCardError(field, f"must not be negative ({value!r})")
    if not _DECIMAL.fullmatch(value):
        raise RateCardError(
            field, f'malformed decimal {value!r}: write digits with an optional ".", e.g. "0.0079"'
        )
    whole, _, fraction = value.partition(".")
    if len(whole.lstrip("0")) > MAX_INTEGER_DIGITS or len(fraction) > MAX_FRACTION_DIGITS:
        raise RateCardError(
            field,
            f"{value!r} has too many digits: at most {MAX_INTEGER_DIGITS} before the decimal "
            f"point and {MAX_FRACTION_DIGITS} after it",
        )
    return Decimal(value)


def _unknown_currency(code: str) -> str:
    return f'{code!r} is not an ISO 4217 currency code this service knows (e.g. "USD", "EUR")'


def _currency(value: object) -> str:
    if not isinstance(value, str):
        raise RateCardError("currency", f"must be a string, not {_what(value)}")
    if value not in CURRENCY_EXPONENTS:
        raise RateCardError("currency", _unknown_currency(value))
    return value


def _voice_rounding(value: object) -> VoiceRounding:
    for known in VOICE_ROUNDINGS:
        if value == known:
            return known
    shown = repr(value) if isinstance(value, str) else _what(value)
    expected = 'must be "per_second" or "per_started_minute"'
    raise RateCardError("voice_rounding", f"{expected}, not {shown}")


def _positive_int(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RateCardError(field, f"must be a positive integer, not {_what(value)}")
    if value < 1:
        raise RateCardError(field, f"must be a positive integer, not {value}")
    return value


def _tiers(value: object) -> tuple[MauTier, ...]:
    path = "mau.tiers"
    if not isinstance(value, list):
        raise RateCardError(path, f"must be an array of tables, not {_what(value)}")
    if not value:
        raise RateCardError(path, "needs at least one tier (the last, without up_to)")
    tiers = []
    previous = 0
    for index, item in enumerate(value):
        where = f"{path}[{index}]"
        tier = _table(item, where, ("up_to", "unit_price"))
        last = index == len(value) - 1
        up_to = tier.get("up_to")
        if last and up_to is not None:
            raise RateCardError(
                f"{where}.up_to", "the last tier has no upper bound: leave up_to out"
            )
        if not last:
            if up_to is None:
                raise RateCardError(f"{where}.up_to", "required on every tier but the last")
            up_to = _positive_int(up_to, f"{where}.up_to")
            if up_to <= previous:
                raise RateCardError(
                    f"{where}.up_to",
                    f"must be greater than the previous tier's up_to ({previous}): "
                    "tiers are listed in increasing order",
                )
            previous = up_to
        price = _decimal(_required(tier, "unit_price", where), f"{where}.unit_price")
        tiers.append(MauTier(up_to, price))
    return tuple(tiers)


def parse_date(value: object, field: str) -> date:
    """A calendar date: a TOML date, or a ``YYYY-MM-DD`` string."""
    if isinstance(value, datetime) or not isinstance(value, str | date):
        raise RateCardError(field, f"must be a date (YYYY-MM-DD), not {_what(value)}")
    if isinstance(value, date):
        return value
    if not _ISO_DATE.fullmatch(value):
        raise RateCardError(field, f"must be a date as YYYY-MM-DD, not {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RateCardError(field, f"{value!r} is not a valid date") from None


def parse_effective_date(text: str | None) -> date:
    """The date a version takes effect (``--effective``, ``?effective=``): default 1970-01-01,
    i.e. from the beginning."""
    if text is None:
        return EPOCH_DATE
    day = parse_date(text, "effective")
    if day < EPOCH_DATE:
        raise RateCardError("effective", "must be 1970-01-01 or later")
    return day


def _trial_end(value: object) -> date | None:
    return None if value is None else parse_date(value, "mau.trial_end_date")


def rate_card_from_document(document: object) -> RateCard:
    """Validate the decoded TOML or JSON of a rate card."""
    root = _table(document, "", ("currency", "voice_rounding", "prices", "mau"))
    currency = _currency(_required(root, "currency", ""))
    voice_rounding = _voice_rounding(_required(root, "voice_rounding", ""))
    prices_table = _table(_required(root, "prices", ""), "prices", PRICE_KEYS)
    prices = {
        key: _decimal(_required(prices_table, key, "prices"), f"prices.{key}") for key in PRICE_KEYS
    }
    mau = _table(_required(root, "mau", ""), "mau", ("minimum", "tiers", "trial_end_date"))
    minimum = _decimal(_required(mau, "minimum", "mau"), "mau.minimum")
    tiers = _tiers(_required(mau, "tiers", "mau"))
    trial_end_date = _trial_end(mau.get("trial_end_date"))
    return RateCard(
        currency=currency,
        voice_rounding=voice_rounding,
        **prices,
        mau_minimum=minimum,
        mau_tiers=tiers,
        trial_end_date=trial_end_date,
    )


def parse_rate_card(text: str) -> RateCard:
    """A rate card from its TOML; `RateCardError` naming the field if it is not a valid one."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RateCardError("toml", f"not valid TOML: {error}") from None
    return rate_card_from_document(document)


def rate_card_from_json(text: str) -> RateCard:
    """The inverse of `rate_card_to_json`, validated like TOML."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise RateCardError("json", f"not valid JSON: {error}") from None
    return rate_card_from_document(document)


# ---- writing ---------------------------------------------------------------------------------


def _text(value: Decimal) -> str:
    """A decimal as plain digits, exponent kept ("0.0200" stays "0.0200")."""
    return format(value, "f")


def rate_card_to_dict(card: RateCard) -> dict[str, Any]:
    """The JSON structure of a card: that of the TOML, decimals as strings, the last tier's
    ``up_to`` and an unset ``trial_end_date`` as null."""
    return {
        "currency": card.currency,
        "voice_rounding": card.voice_rounding,
        "prices": {key: _text(card.price(key)) for key in PRICE_KEYS},
        "mau": {
            "minimum": _text(card.mau_minimum),
            "tiers": [
                {"up_to": tier.up_to, "unit_price": _text(tier.unit_price)}
                for tier in card.mau_tiers
            ],
            "trial_end_date": card.trial_end_date.isoformat() if card.trial_end_date else None,
        },
    }


def rate_card_to_json(card: RateCard) -> str:
    return json.dumps(rate_card_to_dict(card), separators=(",", ":"))


def _string(value: str) -> str:
    return json.dumps(value)  # a TOML basic string: same quoting and escapes as JSON


def rate_card_to_toml(card: RateCard) -> str:
    """The card as TOML in the documented layout; `parse_rate_card` reads it back exactly."""
    lines = [
        f"currency = {_string(card.currency)}",
        f"voice_rounding = {_string(card.voice_rounding)}",
        "",
        "[prices]",
        *(f"{key} = {_string(_text(card.price(key)))}" for key in PRICE_KEYS),
        "",
        "[mau]",
        f"minimum = {_string(_text(card.mau_minimum))}",
    ]
    tiers = []
    for tier in card.mau_tiers:
        up_to = "" if tier.up_to is None else f"up_to = {tier.up_to}, "
        tiers.append(f"{{ {up_to}unit_price = {_string(_text(tier.unit_price))} }}")
    lines.append(f"tiers = [{', '.join(tiers)}]")
    if card.trial_end_date is not None:
        lines.append(f"trial_end_date = {_string(card.trial_end_date.isoformat())}")
    return "\n".join(lines) + "\n"


# ---- versions in time ------------------------------------------------------------------------


def local_midnight(day: date, tz: str) -> datetime:
    """The first instant (naive UTC) of ``day`` in zone ``tz``: the start of its day bucket, as
    the analytics cut days (a date whose midnight is skipped begins when its clock does)."""
    zone = ZoneInfo(tz)
    noon = datetime.combine(day, time(12), tzinfo=zone).astimezone(UTC)
    return bucket_start(noon, zone, "day").replace(tzinfo=None)


def rate_card_days(rate_cards: list[tuple[date, RateCard]]) -> list[tuple[date, RateCard]]:
    """From which date of the tenant's zone each version of its rate card is in force, until the
    next one's. The earliest version also covers everything before its date: its date is moved
    back to 1970-01-01 (before any event) when it is later than that. Without any version, the
    built-in default covers all time: ``[(date(1970, 1, 1), DEFAULT_RATE_CARD)]``."""
    if not rate_cards:
        return [(EPOCH_DATE, DEFAULT_RATE_CARD)]
    ordered = sorted(rate_cards, key=lambda version: version[0])
    first_day, first_card = ordered[0]
    ordered[0] = (min(first_day, EPOCH_DATE), first_card)
    return ordered


def rate_card_versions(
    rate_cards: list[tuple[date, RateCard]], tz: str
) -> list[tuple[datetime, RateCard]]:
    """``rate_card_days`` as instants: each version starts (naive UTC) at the first instant of
    its date in the tenant's zone; the earliest at 1970-01-01T00:00 UTC (before any event) when
    its own start is later."""
    if not rate_cards:
        return [(EPOCH, DEFAULT_RATE_CARD)]
    ordered = sorted(rate_cards, key=lambda version: version[0])
    versions = [(local_midnight(day, tz), card) for day, card in ordered]
    versions[0] = (min(versions[0][0], EPOCH), versions[0][1])
    return versions


DEFAULT_RATE_CARD_TOML = """\
currency = "USD"
voice_rounding = "per_second"        # or "per_started_minute" (each call rounded up to whole minutes)

[prices]
sms_outbound = "0.0079"              # per segment
sms_inbound = "0.0079"
mms_outbound = "0.0200"
mms_inbound = "0.0200"
voice_per_minute = "0.12"
api_requests_per_1000 = "0.04"
storage_per_gb_month = "0.10"        # 1 GB-month = 730 GB-hours
phone_rental = "2.99"                # per rental event
phone_purchase = "1.00"
brand_registration = "4.00"
kb_monthly = "5.00"                  # per knowledge_base event
kb_per_minute = "0.01"

[mau]                                # graduated (marginal) tiers for the seed 000 family's charge
minimum = "100.00"
tiers = [{ up_to = 50, unit_price = "4.00" }, { up_to = 250, unit_price = "3.00" }, { unit_price = "2.00" }]
"""  # noqa: E501

DEFAULT_RATE_CARD: RateCard = parse_rate_card(DEFAULT_RATE_CARD_TOML)
"""The card of a tenant that has none: the prices of issue 4's example, without its trial (a
built-in trial date would make old months free for every tenant that set no card)."""
