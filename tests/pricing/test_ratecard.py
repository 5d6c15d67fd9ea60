"""Rate cards: the TOML of issue 4 read exactly, every invalid card refused naming its field,
exact TOML/JSON round trips, and when each version starts in the tenant's zone."""

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from usagelens.pricing.ratecard import (
    DEFAULT_RATE_CARD,
    MauTier,
    RateCard,
    RateCardError,
    local_midnight,
    parse_effective_date,
    parse_rate_card,
    rate_card_from_json,
    rate_card_to_json,
    rate_card_to_toml,
    rate_card_versions,
)

# Issue 4 §1, verbatim.
ISSUE_TOML = """\
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
trial_end_date = "2024-01-15"        # optional
"""  # noqa: E501

ISSUE_CARD = RateCard(
    currency="USD",
    voice_rounding="per_second",
    sms_outbound=Decimal("0.0079"),
    sms_inbound=Decimal("0.0079"),
    mms_outbound=Decimal("0.0200"),
    mms_inbound=Decimal("0.0200"),
    voice_per_minute=Decimal("0.12"),
    api_requests_per_1000=Decimal("0.04"),
    storage_per_gb_month=Decimal("0.10"),
    phone_rental=Decimal("2.99"),
    phone_purchase=Decimal("1.00"),
    brand_registration=Decimal("4.00"),
    kb_monthly=Decimal("5.00"),
    kb_per_minute=Decimal("0.01"),
    mau_minimum=Decimal("100.00"),
    mau_tiers=(
        MauTier(50, Decimal("4.00")),
        MauTier(250, Decimal("3.00")),
        MauTier(None, Decimal("2.00")),
    ),
    trial_end_date=date(2024, 1, 15),
)

TIERS_LINE = (
    'tiers = [{ up_to = 50, unit_price = "4.00" }, { up_to = 250, unit_price = "3.00" }, '
    '{ unit_price = "2.00" }]'
)


def decimals(card: RateCard) -> dict[str, str]:
    """Every decimal of a card as text: equal Decimals can still differ in their written form."""
    found = {name: str(value) for name, value in vars(card).items() if isinstance(value, Decimal)}
    for index, tier in enumerate(card.mau_tiers):
        found[f"tier{index}"] = str(tier.unit_price)
    return found


def test_the_issue_example_is_read_exactly() -> None:
    card = parse_rate_card(ISSUE_TOML)
    assert card == ISSUE_CARD
    assert decimals(card) == decimals(ISSUE_CARD)
    assert decimals(card)["mms_outbound"] == "0.0200"
    assert card.minor_unit() == Decimal("0.01")


def test_the_default_is_the_issue_example_without_its_trial() -> None:
    assert ISSUE_CARD.trial_end_date is not None
    assert dataclasses.replace(ISSUE_CARD, trial_end_date=None) == DEFAULT_RATE_CARD
    assert decimals(DEFAULT_RATE_CARD) == decimals(ISSUE_CARD)


@pytest.mark.parametrize(
    ("currency", "unit"),
    [
        ("USD", "0.01"),
        ("EUR", "0.01"),
        ("GBP", "0.01"),
        ("JPY", "1"),
        ("KRW", "1"),
        ("KWD", "0.001"),
        ("CLF", "0.0001"),
    ],
)
def test_minor_unit_follows_iso_4217(currency: str, unit: str) -> None:
    card = parse_rate_card(ISSUE_TOML.replace('"USD"', f'"{currency}"'))
    assert card.currency == currency
    assert str(card.minor_unit()) == unit


def test_optional_and_alternative_forms() -> None:
    without_trial = parse_rate_card(ISSUE_TOML.replace('trial_end_date = "2024-01-15"', ""))
    assert without_trial.trial_end_date is None
    toml_date = parse_rate_card(ISSUE_TOML.replace('"2024-01-15"', "2024-01-15"))
    assert toml_date.trial_end_date == date(2024, 1, 15)
    tables = ISSUE_TOML.replace(TIERS_LINE, "").replace(
        'trial_end_date = "2024-01-15"        # optional',
        'trial_end_date = "2024-01-15"\n'
        '[[mau.tiers]]\nup_to = 50\nunit_price = "4.00"\n'
        '[[mau.tiers]]\nup_to = 250\nunit_price = "3.00"\n'
        '[[mau.tiers]]\nunit_price = "2.00"\n',
    )
    assert parse_rate_card(tables) == ISSUE_CARD
    flat = parse_rate_card(ISSUE_TOML.replace(TIERS_LINE, 'tiers = [{ unit_price = "0" }]'))
    assert flat.mau_tiers == (MauTier(None, Decimal("0")),)
    rounding = parse_rate_card(ISSUE_TOML.replace('"per_second"', '"per_started_minute"'))
    assert rounding.voice_rounding == "per_started_minute"


def replace(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text
        return text.replace(old, new, 1)

    return edit


def price(name: str, value: str) -> Callable[[str], str]:
    """Set a price of the [prices] table to the TOML value ``value`` (written as is)."""

    def edit(text: str) -> str:
        lines = text.splitlines()
        index = next(i for i, line in enumerate(lines) if line.startswith(f"{name} ="))
        lines[index] = f"{name} = {value}"
        return "\n".join(lines) + "\n"

    return edit


def drop(prefix: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        lines = text.splitlines()
        assert any(line.startswith(prefix) for line in lines)
        return "\n".join(line for line in lines if not line.startswith(prefix)) + "\n"

    return edit


def tiers(value: str) -> Callable[[str], str]:
    return replace(TIERS_LINE, f"tiers = {value}")


INVALID: list[tuple[str, Callable[[str], str], str, str]] = [
    # (case, edit of the issue's TOML, field, part of the message)
    ("invalid TOML", replace('currency = "USD"', 'currency = "USD'), "toml", "not valid TOML"),
    ("duplicate key", replace("[mau]", 'phone_rental = "1"\n[mau]'), "toml", "not valid TOML"),
    (
        "unknown key",
        replace('currency = "USD"', 'currency = "USD"\ncolour = "red"'),
        "colour",
        "unknown key",
    ),
    ("unknown table", replace("[prices]", "[extra]\nx = 1\n[prices]"), "extra", "unknown key"),
    (
        "unknown price",
        replace("[mau]", 'sms_outboud = "1"\n[mau]'),
        "prices.sms_outboud",
        "did you mean 'sms_outbound'?",
    ),
    (
        "unknown mau key",
        replace('minimum = "100.00"', 'minimum = "100.00"\nmaximum = "1"'),
        "mau.maximum",
        "unknown key",
    ),
    (
        "unknown tier key",
        replace(
            '{ up_to = 50, unit_price = "4.00" }', '{ up_to = 50, unit_price = "4.00", note = "x" }'
        ),
        "mau.tiers[0].note",
        "unknown key",
    ),
    ("missing currency", drop("currency ="), "currency", "required"),
    ("missing voice_rounding", drop("voice_rounding ="), "voice_rounding", "required"),
    ("missing price", drop("kb_per_minute ="), "prices.kb_per_minute", "required"),
    (
        "missing prices",
        lambda t: t.split("[prices]")[0] + "[mau]" + t.split("[mau]")[1],
        "prices",
        "required",
    ),
    ("missing mau", lambda t: t.split("[mau]")[0], "mau", "required"),
    ("missing minimum", drop("minimum ="), "mau.minimum", "required"),
    ("missing tiers", drop("tiers ="), "mau.tiers", "required"),
    (
        "missing unit_price",
        replace('{ up_to = 250, unit_price = "3.00" }', "{ up_to = 250 }"),
        "mau.tiers[1].unit_price",
        "required",
    ),
    (
        "prices not a table",
        lambda t: t.split("[prices]")[0] + "prices = 1\n[mau]" + t.split("[mau]")[1],
        "prices",
        "must be a table",
    ),
    (
        "float price",
        price("voice_per_minute", "0.12"),
        "prices.voice_per_minute",
        'a string such as "0.12"',
    ),
    ("integer price", price("phone_rental", "3"), "prices.phone_rental", "string"),
    ("boolean price", price("phone_rental", "true"), "prices.phone_rental", "not a boolean"),
    ("negative", price("sms_inbound", '"-0.0079"'), "prices.sms_inbound", "negative"),
    ("negative zero", price("sms_inbound", '"-0"'), "prices.sms_inbound", "negative"),
    ("NaN", price("mms_inbound", '"NaN"'), "prices.mms_inbound", "finite"),
    ("nan", price("mms_inbound", '"nan"'), "prices.mms_inbound", "finite"),
    ("sNaN", price("mms_inbound", '"sNaN"'), "prices.mms_inbound", "finite"),
    ("Infinity", price("kb_monthly", '"Infinity"'), "prices.kb_monthly", "finite"),
    ("-inf", price("kb_monthly", '"-inf"'), "prices.kb_monthly", "finite"),
    ("comma", price("sms_outbound", '"0,0079"'), "prices.sms_outbound", "malformed"),
    ("exponent", price("sms_outbound", '"7.9E-3"'), "prices.sms_outbound", "malformed"),
    ("empty", price("sms_outbound", '""'), "prices.sms_outbound", "malformed"),
    ("spaces", price("sms_outbound", '" 0.0079"'), "prices.sms_outbound", "malformed"),
    ("trailing point", price("sms_outbound", '"1."'), "prices.sms_outbound", "malformed"),
    ("leading point", price("sms_outbound", '".5"'), "prices.sms_outbound", "malformed"),
    ("plus sign", price("sms_outbound", '"+1"'), "prices.sms_outbound", "malformed"),
    ("underscores", price("sms_outbound", '"1_000"'), "prices.sms_outbound", "malformed"),
    ("two points", price("sms_outbound", '"1.2.3"'), "prices.sms_outbound", "malformed"),
    ("currency sign", price("sms_outbound", '"$1"'), "prices.sms_outbound", "malformed"),
    ("other digits", price("sms_outbound", '"\u0661\u0662"'), "prices.sms_outbound", "malformed"),
    (
        "13 decimals",
        price("sms_outbound", '"0.0000000000001"'),
        "prices.sms_outbound",
        "too many digits",
    ),
    (
        "13 integer digits",
        price("sms_outbound", '"1000000000000"'),
        "prices.sms_outbound",
        "too many digits",
    ),
    ("minimum negative", replace('"100.00"', '"-100.00"'), "mau.minimum", "negative"),
    (
        "bad voice_rounding",
        replace('"per_second"', '"per_minute"'),
        "voice_rounding",
        "per_started_minute",
    ),
    ("voice_rounding type", replace('"per_second"', "1"), "voice_rounding", "not an integer"),
    ("unknown currency", replace('"USD"', '"XYZ"'), "currency", "ISO 4217"),
    ("lower-case currency", replace('"USD"', '"usd"'), "currency", "ISO 4217"),
    ("numeric currency", replace('"USD"', "840"), "currency", "must be a string"),
    ("no tiers", tiers("[]"), "mau.tiers", "at least one tier"),
    ("tiers not an array", tiers('"4.00"'), "mau.tiers", "array"),
    ("tier not a table", tiers("[1]"), "mau.tiers[0]", "must be a table"),
    (
        "middle tier unbounded",
        tiers('[{ unit_price = "4.00" }, { unit_price = "2.00" }]'),
        "mau.tiers[0].up_to",
        "required on every tier but the last",
    ),
    (
        "last tier bounded",
        tiers('[{ up_to = 50, unit_price = "4.00" }]'),
        "mau.tiers[0].up_to",
        "last tier has no upper bound",
    ),
    (
        "equal bounds",
        tiers(
            '[{ up_to = 50, unit_price = "4" }, { up_to = 50, unit_price = "3" }, '
            '{ unit_price = "2" }]'
        ),
        "mau.tiers[1].up_to",
        "greater than",
    ),
    (
        "unsorted bounds",
        tiers(
            '[{ up_to = 250, unit_price = "4" }, { up_to = 50, unit_price = "3" '
            '}, { unit_price = "2" }]'
        ),
        "mau.tiers[1].up_to",
        "(250)",
    ),
    (
        "zero bound",
        tiers('[{ up_to = 0, unit_price = "4" }, { unit_price = "2" }]'),
        "mau.tiers[0].up_to",
        "positive integer",
    ),
    (
        "negative bound",
        tiers('[{ up_to = -5, unit_price = "4" }, { unit_price = "2" }]'),
        "mau.tiers[0].up_to",
        "positive integer",
    ),
    (
        "string bound",
        tiers('[{ up_to = "50", unit_price = "4" }, { unit_price = "2" }]'),
        "mau.tiers[0].up_to",
        "not a string",
    ),
    (
        "float bound",
        tiers('[{ up_to = 50.0, unit_price = "4" }, { unit_price = "2" }]'),
        "mau.tiers[0].up_to",
        "not a number",
    ),
    (
        "boolean bound",
        tiers('[{ up_to = true, unit_price = "4" }, { unit_price = "2" }]'),
        "mau.tiers[0].up_to",
        "not a boolean",
    ),
    (
        "tier price negative",
        tiers('[{ up_to = 5, unit_price = "4" }, { unit_price = "-2" }]'),
        "mau.tiers[1].unit_price",
        "negative",
    ),
    (
        "tier price float",
        tiers('[{ up_to = 5, unit_price = 4.0 }, { unit_price = "2" }]'),
        "mau.tiers[0].unit_price",
        "string",
    ),
    (
        "impossible trial date",
        replace('"2024-01-15"', '"2024-02-30"'),
        "mau.trial_end_date",
        "not a valid date",
    ),
    (
        "trial date format",
        replace('"2024-01-15"', '"15/01/2024"'),
        "mau.trial_end_date",
        "YYYY-MM-DD",
    ),
    (
        "compact trial date",
        replace('"2024-01-15"', '"20240115"'),
        "mau.trial_end_date",
        "YYYY-MM-DD",
    ),
    (
        "trial date-time",
        replace('"2024-01-15"', "2024-01-15T00:00:00"),
        "mau.trial_end_date",
        "not a date-time",
    ),
    ("trial integer", replace('"2024-01-15"', "20240115"), "mau.trial_end_date", "not an integer"),
]


@pytest.mark.parametrize(
    ("edit", "field", "message"),
    [case[1:] for case in INVALID],
    ids=[case[0] for case in INVALID],
)
def test_an_invalid_card_is_refused_naming_the_field(
    edit: Callable[[str], str], field: str, message: str
) -> None:
    with pytest.raises(RateCardError) as caught:
        parse_rate_card(edit(ISSUE_TOML))
    assert caught.value.field == field
    assert message in caught.value.message
    assert str(caught.value).startswith(f"{field}: ")


JPY_CARD = RateCard(
    currency="JPY",
    voice_rounding="per_started_minute",
    sms_outbound=Decimal("1.25"),
    sms_inbound=Decimal("0"),
    mms_outbound=Decimal("3.000000000001"),
    mms_inbound=Decimal("0.000000000001"),
    voice_per_minute=Decimal("18"),
    api_requests_per_1000=Decimal("999999999999.999999999999"),
    storage_per_gb_month=Decimal("15.00"),
    phone_rental=Decimal("450"),
    phone_purchase=Decimal("0.0"),
    brand_registration=Decimal("600"),
    kb_monthly=Decimal("750"),
    kb_per_minute=Decimal("1.5"),
    mau_minimum=Decimal("0"),
    mau_tiers=(MauTier(None, Decimal("500")),),
    trial_end_date=None,
)


@pytest.mark.parametrize("card", [ISSUE_CARD, JPY_CARD], ids=["issue", "jpy"])
def test_toml_and_json_round_trip_exactly(card: RateCard) -> None:
    toml = rate_card_to_toml(card)
    from_toml = parse_rate_card(toml)
    assert from_toml == card
    assert decimals(from_toml) == decimals(card)
    assert rate_card_to_toml(from_toml) == toml

    text = rate_card_to_json(card)
    from_json = rate_card_from_json(text)
    assert from_json == card
    assert decimals(from_json) == decimals(card)
    assert rate_card_to_json(from_json) == text


def test_json_has_the_structure_of_the_toml_with_decimals_as_strings() -> None:
    assert json.loads(rate_card_to_json(ISSUE_CARD)) == {
        "currency": "USD",
        "voice_rounding": "per_second",
        "prices": {
            "sms_outbound": "0.0079",
            "sms_inbound": "0.0079",
            "mms_outbound": "0.0200",
            "mms_inbound": "0.0200",
            "voice_per_minute": "0.12",
            "api_requests_per_1000": "0.04",
            "storage_per_gb_month": "0.10",
            "phone_rental": "2.99",
            "phone_purchase": "1.00",
            "brand_registration": "4.00",
            "kb_monthly": "5.00",
            "kb_per_minute": "0.01",
        },
        "mau": {
            "minimum": "100.00",
            "tiers": [
                {"up_to": 50, "unit_price": "4.00"},
                {"up_to": 250, "unit_price": "3.00"},
                {"up_to": None, "unit_price": "2.00"},
            ],
            "trial_end_date": "2024-01-15",
        },
    }


def test_decimals_made_in_code_are_written_as_plain_digits() -> None:
    card = RateCard(
        **{
            **vars(JPY_CARD),
            "phone_rental": Decimal("4.5E+2"),
            "kb_per_minute": Decimal("1E-7"),
        }
    )
    prices = json.loads(rate_card_to_json(card))["prices"]
    assert (prices["phone_rental"], prices["kb_per_minute"]) == ("450", "0.0000001")
    assert rate_card_from_json(rate_card_to_json(card)) == card
    assert parse_rate_card(rate_card_to_toml(card)) == card


def test_json_is_validated_like_toml() -> None:
    document = json.loads(rate_card_to_json(ISSUE_CARD))
    document["prices"]["voice_per_minute"] = 0.12
    with pytest.raises(RateCardError) as caught:
        rate_card_from_json(json.dumps(document))
    assert caught.value.field == "prices.voice_per_minute"
    with pytest.raises(RateCardError) as caught:
        rate_card_from_json("{")
    assert caught.value.field == "json"


def test_unknown_currency_has_no_minor_unit() -> None:
    card = RateCard(**{**vars(ISSUE_CARD), "currency": "XYZ"})
    with pytest.raises(RateCardError) as caught:
        card.minor_unit()
    assert caught.value.field == "currency"


@pytest.mark.parametrize(
    ("text", "expected"),
    [(None, date(1970, 1, 1)), ("2024-03-10", date(2024, 3, 10)), ("1970-01-01", date(1970, 1, 1))],
)
def test_effective_date(text: str | None, expected: date) -> None:
    assert parse_effective_date(text) == expected


@pytest.mark.parametrize(
    "text", ["", "2024-3-10", "2024-02-30", "10/03/2024", "2024-03-10T00:00", "1969-12-31"]
)
def test_invalid_effective_date_names_the_field(text: str) -> None:
    with pytest.raises(RateCardError) as caught:
        parse_effective_date(text)
    assert caught.value.field == "effective"


def card_with(sms_outbound: str) -> RateCard:
    return RateCard(**{**vars(ISSUE_CARD), "sms_outbound": Decimal(sms_outbound)})


def test_no_version_means_the_default_for_all_time() -> None:
    assert rate_card_versions([], "Asia/Kathmandu") == [(datetime(1970, 1, 1), DEFAULT_RATE_CARD)]


def test_versions_start_at_local_midnight_around_dst_in_new_york() -> None:
    cards = {
        date(2024, 11, 4): card_with("5"),
        date(2024, 3, 10): card_with("2"),  # spring forward at 02:00: midnight is still EST
        date(1970, 1, 1): card_with("1"),
        date(2024, 3, 11): card_with("3"),
        date(2024, 11, 3): card_with("4"),  # fall back at 02:00: midnight is still EDT
    }
    versions = rate_card_versions(list(cards.items()), "America/New_York")
    assert [(start, card.sms_outbound) for start, card in versions] == [
        # 1970-01-01 00:00 EST is 05:00 UTC: the earliest version also covers all before it
        (datetime(1970, 1, 1, 0, 0), Decimal("1")),
        (datetime(2024, 3, 10, 5, 0), Decimal("2")),
        (datetime(2024, 3, 11, 4, 0), Decimal("3")),
        (datetime(2024, 11, 3, 4, 0), Decimal("4")),
        (datetime(2024, 11, 4, 5, 0), Decimal("5")),
    ]


def test_versions_in_kathmandu() -> None:
    cards = [(date(1970, 1, 1), card_with("1")), (date(2024, 6, 1), card_with("2"))]
    versions = rate_card_versions(cards, "Asia/Kathmandu")
    assert [(start, card.sms_outbound) for start, card in versions] == [
        (datetime(1969, 12, 31, 18, 30), Decimal("1")),  # +05:30 until 1986
        (datetime(2024, 5, 31, 18, 15), Decimal("2")),  # +05:45 since
    ]


def test_the_earliest_version_covers_everything_before_its_date() -> None:
    card = card_with("7")
    assert rate_card_versions([(date(2024, 3, 10), card)], "America/New_York") == [
        (datetime(1970, 1, 1), card)
    ]


def first_instants(zone: ZoneInfo, year: int) -> dict[date, datetime]:
    """Brute force: the first instant of each local date, scanning UTC in 15-minute steps."""
    found: dict[date, datetime] = {}
    moment = datetime(year - 1, 12, 30, tzinfo=UTC)
    while moment < datetime(year + 1, 1, 2, tzinfo=UTC):
        found.setdefault(moment.astimezone(zone).date(), moment.replace(tzinfo=None))
        moment += timedelta(minutes=15)
    return found


@pytest.mark.parametrize(
    ("tz", "year"),
    [
        ("America/New_York", 2024),
        ("America/Santiago", 2024),  # midnight skipped in September
        ("America/Havana", 2024),  # midnight skipped in March, repeated in November
        ("Asia/Beirut", 2024),  # falls back from midnight to 23:00 the day before
        ("America/Sao_Paulo", 2018),  # midnight skipped in November
        ("Australia/Lord_Howe", 2024),  # 30-minute DST
        ("Asia/Kathmandu", 2024),
    ],
)
def test_local_midnight_is_the_first_instant_of_the_date(tz: str, year: int) -> None:
    brute = first_instants(ZoneInfo(tz), year)
    day = date(year, 1, 1)
    while day.year == year:
        assert local_midnight(day, tz) == brute[day], day
        day += timedelta(days=1)
