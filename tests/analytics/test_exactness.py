"""Seed 001's money figures to the last minor unit: the users, organizations and overview answers
compared, as text, with a reference priced here in fractions from the events each test made.

The reference follows BRIEF §4 on its own, sharing no code with the service: an event is priced
by the rate card version in force on its local date in the tenant's zone; each (organization,
user) key's component is summed exactly and rounded once, half-up, to the currency's minor unit;
``kb_cost`` and ``total_cost`` add the rounded components, an organization adds its keys' rounded
figures (its own events, without a subject, are the key of user ""), the overview its
organizations'.
"""

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.analytics.helpers import Event, body, event, get, ingest, set_card
from tests.service import Service, Tenant

MARCH = {"start_date": "2024-03-01", "end_date": "2024-03-31"}
FIRST_DAY, LAST_DAY = date(2024, 3, 1), date(2024, 3, 31)

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
# Written here rather than read from the service, so that a wrong table there shows up.
EXPONENTS = {"USD": 2, "JPY": 0, "KWD": 3, "CLF": 4}
COMPONENTS = (
    "messaging",
    "voice",
    "api_request",
    "api_storage",
    "phone_rental",
    "phone_purchase",
    "kb_monthly",
    "kb_usage",
    "brand_registration",
)
TOTALS = (
    "total_sms_sent",
    "total_sms_received",
    "total_mms_sent",
    "total_mms_received",
    "total_voice_calls",
    "total_voice_seconds",
)
USER_BREAKDOWN = (
    "messaging_cost",
    "voice_cost",
    "api_request_cost",
    "api_requests_count",
    "api_storage_cost",
    "phone_rental_cost",
    "phone_rental_count",
    "phone_purchase_cost",
    "phone_purchase_count",
    "kb_cost",
    "kb_count",
    "kb_minutes",
)
ORGANIZATION_BREAKDOWN = (
    *USER_BREAKDOWN,
    "kb_monthly_cost",
    "kb_usage_cost",
    "brand_registration_cost",
    "brand_registration_count",
)
TYPES = (
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
)
MAX_QUANTITY = 10**12  # what the ingest schema allows for any one event's quantity


# ---- decimals as text ------------------------------------------------------------------------


def decimal(value: Fraction) -> str:
    """A terminating fraction as plain decimal text with no trailing zeros ("0.0079", "12")."""
    for places in range(13):
        scaled = value * 10**places
        if scaled.denominator == 1:
            whole = scaled.numerator
            if places == 0:
                return str(whole)
            return f"{whole // 10**places}.{whole % 10**places:0{places}d}"
    raise AssertionError(f"{value} needs more than 12 decimal places")


def half_up(value: Fraction, exponent: int) -> Fraction:
    scaled = value * 10**exponent
    whole = (scaled.numerator * 2 + scaled.denominator) // (scaled.denominator * 2)
    return Fraction(whole, 10**exponent)


def money(value: Fraction, exponent: int) -> str:
    """A rounded figure with exactly the currency's decimals, as the service writes it."""
    scaled = value * 10**exponent
    assert scaled.denominator == 1, value
    whole = scaled.numerator
    if exponent == 0:
        return str(whole)
    return f"{whole // 10**exponent}.{whole % 10**exponent:0{exponent}d}"


def minutes_text(value: Fraction) -> str:
    """kb_minutes as the page shows them: no trailing zeros but at least one decimal ("55.0")."""
    text = decimal(value)
    return text if "." in text else f"{text}.0"


def random_decimal(rng: random.Random, whole_digits: int, places: int) -> str:
    return decimal(Fraction(rng.randrange(10 ** (whole_digits + places)), 10**places))


# ---- the reference ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    effective: date | None  # None: from the beginning
    voice_rounding: str
    prices: dict[str, str]

    def toml(self, currency: str) -> str:
        lines = [
            f'currency = "{currency}"',
            f'voice_rounding = "{self.voice_rounding}"',
            "[prices]",
            *(f'{key} = "{self.prices[key]}"' for key in PRICE_KEYS),
            "[mau]",
            'minimum = "0"',
            'tiers = [{ unit_price = "0" }]',
        ]
        return "\n".join(lines) + "\n"

    def price(self, key: str) -> Fraction:
        return Fraction(self.prices[key])


@dataclass
class Figures:
    """One row's counts and costs: exact sums for a key, rounded figures once rounded."""

    counts: Counter[str] = field(default_factory=Counter)
    kb_minutes: Fraction = Fraction(0)
    costs: dict[str, Fraction] = field(
        default_factory=lambda: dict.fromkeys(COMPONENTS, Fraction())
    )

    def add(self, other: "Figures") -> None:
        self.counts.update(other.counts)
        self.kb_minutes += other.kb_minutes
        for name in COMPONENTS:
            self.costs[name] += other.costs[name]

    def rounded(self, exponent: int) -> "Figures":
        return Figures(
            Counter(self.counts),
            self.kb_minutes,
            {name: half_up(cost, exponent) for name, cost in self.costs.items()},
        )

    def price(self, found: Event, version: Version) -> None:
        kind, data = found["type"], found["data"]
        counts, costs, price = self.counts, self.costs, version.price
        if kind in ("sms", "mms"):
            direction = data["direction"]
            counts[f"total_{kind}_{'sent' if direction == 'outbound' else 'received'}"] += 1
            costs["messaging"] += data.get("segments", 1) * price(f"{kind}_{direction}")
        elif kind == "voice_call":
            seconds = data["seconds"]
            counts["total_voice_calls"] += 1
            counts["total_voice_seconds"] += seconds
            if version.voice_rounding == "per_started_minute":
                costs["voice"] += -(-seconds // 60) * price("voice_per_minute")
            else:
                costs["voice"] += seconds * price("voice_per_minute") / 60
        elif kind == "api_request":
            count = data.get("count", 1)
            counts["api_requests_count"] += count
            costs["api_request"] += count * price("api_requests_per_1000") / 1000
        elif kind == "storage":
            costs["api_storage"] += Fraction(data["gb_hours"]) * price("storage_per_gb_month") / 730
        elif kind in ("phone_rental", "phone_purchase", "brand_registration"):
            counts[f"{kind}_count"] += 1
            costs[kind] += price(kind)
        elif kind == "knowledge_base":
            counts["kb_count"] += 1
            costs["kb_monthly"] += price("kb_monthly")
        elif kind == "kb_usage":
            minutes = Fraction(data["minutes"])
            self.kb_minutes += minutes
            costs["kb_usage"] += minutes * price("kb_per_minute")
        else:
            raise AssertionError(f"no price for {kind}")

    def flat(self, exponent: int, breakdown: tuple[str, ...]) -> dict[str, Any]:
        """The row as `flat` reads an answer's, from rounded figures."""
        decimals = {f"{name}_cost": money(cost, exponent) for name, cost in self.costs.items()}
        decimals["kb_cost"] = money(self.costs["kb_monthly"] + self.costs["kb_usage"], exponent)
        decimals["kb_minutes"] = minutes_text(self.kb_minutes)
        return {
            **{name: self.counts[name] for name in TOTALS},
            **{name: decimals.get(name, self.counts[name]) for name in breakdown},
            "total_cost": money(sum(self.costs.values(), Fraction()), exponent),
        }


class Reference:
    def __init__(
        self, zone: str, currency: str, versions: list[Version], version_zone: str | None = None
    ) -> None:
        self.zone = ZoneInfo(zone)
        # Only for a test to show that its figures tell the zone's midnights from others.
        self.version_zone = ZoneInfo(version_zone or zone)
        self.currency = currency
        self.exponent = EXPONENTS[currency]
        self.versions = sorted(versions, key=lambda v: v.effective or date.min)
        self.exact: dict[tuple[str, str], Figures] = defaultdict(Figures)
        self.users: dict[str, set[str]] = defaultdict(set)  # every organization, even if idle

    def add(self, events: list[Event]) -> None:
        for found in events:
            organization, user = found["data"]["organization_id"], found.get("subject") or ""
            self.users[organization].update({user} - {""})
            moment = datetime.fromisoformat(found["time"])
            if not FIRST_DAY <= moment.astimezone(self.zone).date() <= LAST_DAY:
                continue
            day = moment.astimezone(self.version_zone).date()
            version = [v for v in self.versions if (v.effective or date.min) <= day][-1]
            self.exact[(organization, user)].price(found, version)

    def key(self, organization: str, user: str) -> Figures:
        return self.exact.get((organization, user), Figures()).rounded(self.exponent)

    def organization(self, organization: str) -> Figures:
        total = Figures()
        for user in ("", *self.users[organization]):
            total.add(self.key(organization, user))
        return total

    def user_rows(self, organization: str) -> dict[str, dict[str, Any]]:
        return {
            user: self.key(organization, user).flat(self.exponent, USER_BREAKDOWN)
            for user in self.users[organization]
        }

    def organization_rows(self) -> dict[str, dict[str, Any]]:
        return {
            organization: {
                **self.organization(organization).flat(self.exponent, ORGANIZATION_BREAKDOWN),
                "users_count": len(users),
            }
            for organization, users in self.users.items()
        }

    def overview(self) -> dict[str, Any]:
        total = Figures()
        for organization in self.users:
            total.add(self.organization(organization))
        return {
            **total.flat(self.exponent, ORGANIZATION_BREAKDOWN),
            "organizations_count": len(self.users),
            "users_count": len(set().union(*self.users.values())),
            "currency": self.currency,
        }


# ---- the answers -----------------------------------------------------------------------------


def text(value: object) -> str:
    """A decimal of the answer as its JSON text (`body` keeps "1.50"; "0" comes back an int)."""
    assert isinstance(value, str | int), value
    assert not isinstance(value, bool), value
    return str(value)


def flat(row: dict[str, Any], *extra: str) -> dict[str, Any]:
    """An answer's row with its breakdown inlined and every decimal as text."""
    found = {name: row[name] for name in (*TOTALS, *extra)}
    for name, value in {**row["cost_breakdown"], "total_cost": row["total_cost"]}.items():
        decimal_field = name.endswith("_cost") or name == "kb_minutes"
        found[name] = text(value) if decimal_field else value
    return found


def by_cost(rows: dict[str, dict[str, Any]]) -> list[str]:
    """The order of the page: most expensive first, then by name (the id: no names are set)."""
    return sorted(rows, key=lambda name: (-Fraction(rows[name]["total_cost"]), name))


def set_versions(service: Service, tenant: Tenant, currency: str, versions: list[Version]) -> None:
    for version in versions:
        effective = None if version.effective is None else version.effective.isoformat()
        set_card(service, tenant, version.toml(currency), effective=effective)


def same(found: dict[str, dict[str, Any]], expected: dict[str, dict[str, Any]], where: str) -> None:
    """Row by row, so that a failure shows the very figures that differ."""
    assert sorted(found) == sorted(expected), where
    for name, row in expected.items():
        assert found[name] == row, f"{where}: {name}"


def check(tenant: Tenant, reference: Reference) -> None:
    """Every figure of the three answers for March, against the reference."""
    for organization in reference.users:
        users = body(get(tenant, "users", organization_id=organization, **MARCH))["users"]
        expected = reference.user_rows(organization)
        same({u["user_id"]: flat(u) for u in users}, expected, f"users of {organization}")
        assert [u["user_id"] for u in users] == by_cost(expected), organization

    answer = body(get(tenant, "organizations", **MARCH))
    assert answer["currency"] == reference.currency
    organizations = answer["organizations"]
    expected = reference.organization_rows()
    found = {o["organization_id"]: flat(o, "users_count") for o in organizations}
    same(found, expected, "organizations")
    assert [o["organization_id"] for o in organizations] == by_cost(expected)

    overview = body(get(tenant, "overview", **MARCH))
    found = {
        **flat(overview, "organizations_count", "users_count"),
        "currency": overview["currency"],
    }
    assert found == reference.overview()


# ---- 1. a random world over a DST change and three rate card versions ------------------------


NEW_YORK = "America/New_York"  # on daylight time from 2024-03-10 02:00


def random_prices(rng: random.Random) -> dict[str, str]:
    return {key: random_decimal(rng, rng.randint(0, 2), rng.randint(4, 6)) for key in PRICE_KEYS}


def random_event(
    rng: random.Random, kind: str, moment: datetime, organization: str, user: str | None
) -> Event:
    # Half the times as UTC, half with the zone's own offset: both name the same instant.
    at = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if rng.random() < 0.5:
        at = moment.astimezone(ZoneInfo(NEW_YORK)).isoformat()
    direction = rng.choice(("outbound", "inbound"))
    if kind in ("sms", "mms"):
        segments = {} if rng.random() < 0.2 else {"segments": rng.randint(0, 6)}
        return event(kind, at, organization, user, direction=direction, **segments)
    if kind == "voice_call":
        seconds = rng.choice((0, 1, 59, 60, 61, 119, 120, rng.randint(0, 7200)))
        return event(kind, at, organization, user, direction=direction, seconds=seconds)
    if kind == "api_request":
        count = {} if rng.random() < 0.2 else {"count": rng.randint(0, 50_000)}
        return event(kind, at, organization, user, **count)
    if kind == "storage":
        gb_hours = random_decimal(rng, rng.randint(0, 4), rng.randint(0, 6))
        return event(kind, at, organization, user, gb_hours=gb_hours)
    if kind in ("phone_rental", "phone_purchase"):
        return event(kind, at, organization, user, phone_number=f"+1555{rng.randrange(10**7)}")
    if kind == "brand_registration":
        return event(kind, at, organization, brand_id=f"b{rng.randrange(100)}")
    if kind == "knowledge_base":
        return event(kind, at, organization, user, kb_id=f"kb{rng.randrange(10)}")
    minutes = random_decimal(rng, rng.randint(0, 3), rng.randint(0, 6))
    return event(kind, at, organization, user, kb_id=f"kb{rng.randrange(10)}", minutes=minutes)


def random_world(rng: random.Random) -> list[Event]:
    zone = ZoneInfo(NEW_YORK)
    organizations = {f"org-{name}": 4 for name in ("a", "b", "c")}
    keys = [
        (organization, user)
        for organization, count in organizations.items()
        for user in (None, *(f"{organization}-u{i}" for i in range(count)))
    ]

    def one(moment: datetime) -> Event:
        organization, user = rng.choice(keys)
        return random_event(rng, rng.choice(TYPES), moment, organization, user)

    # A few hours either side of March, so that the range's own edges are crossed too.
    start = datetime(2024, 2, 29, 20, tzinfo=zone).timestamp()
    end = datetime(2024, 4, 1, 4, tzinfo=zone).timestamp()
    events = [one(datetime.fromtimestamp(rng.uniform(start, end), UTC)) for _ in range(1500)]
    # The last local hour before each version's (and the range's) midnight and the first after.
    for day in (date(2024, 3, 1), date(2024, 3, 10), date(2024, 3, 20), date(2024, 4, 1)):
        midnight = datetime.combine(day, time(0), zone).astimezone(UTC)
        for offset in (-1, -rng.randint(2, 3600), 0, rng.randint(1, 3599)):
            events += [one(midnight + timedelta(seconds=offset)) for _ in range(4)]
    # Every user has usage in March, so the directory's users are exactly those of the events.
    for organization, user in keys:
        events.append(
            random_event(rng, "sms", datetime(2024, 3, 15, tzinfo=UTC), organization, user)
        )
    rng.shuffle(events)
    return events


@pytest.mark.parametrize("voice_rounding", ["per_second", "per_started_minute"])
@pytest.mark.parametrize("currency", ["USD", "JPY", "KWD", "CLF"])
def test_a_random_world_priced_to_the_minor_unit(
    service: Service, currency: str, voice_rounding: str
) -> None:
    rng = random.Random(2024_03_10)
    versions = [
        Version(effective, voice_rounding, random_prices(rng))
        for effective in (None, date(2024, 3, 10), date(2024, 3, 20))
    ]
    events = random_world(rng)
    tenant = service.new_tenant(tz=NEW_YORK)
    set_versions(service, tenant, currency, versions)
    ingest(tenant, events)
    reference = Reference(NEW_YORK, currency, versions)
    reference.add(events)
    # The premise: versions begun at UTC midnights would price these events otherwise.
    at_utc_midnights = Reference(NEW_YORK, currency, versions, version_zone="UTC")
    at_utc_midnights.add(events)
    assert at_utc_midnights.overview() != reference.overview()
    check(tenant, reference)


# ---- 2. exactly half a minor unit, and just below --------------------------------------------


@pytest.mark.parametrize("currency", ["USD", "JPY", "KWD", "CLF"])
def test_exactly_half_a_minor_unit_rounds_up_and_just_below_rounds_down(
    service: Service, currency: str
) -> None:
    exponent = EXPONENTS[currency]
    unit = Fraction(1, 10**exponent)
    half = 12 + 34 * unit + unit / 2  # 12.345 in USD, 46.5 in JPY, 12.0345 in KWD
    up, down = money(12 + 35 * unit, exponent), money(12 + 34 * unit, exponent)
    tiny = Fraction(1, 10**12)  # the smallest step a price can take

    def prices(**values: Fraction) -> dict[str, str]:
        return {key: decimal(values.get(key, Fraction(0))) for key in PRICE_KEYS}

    # Each version on its own leaves less than half a unit over a whole one (6.0025 + 6.3425
    # in USD): only the key's exact sum over both versions reaches the half.
    first = 6 + unit / 4
    second = half - first
    common = {
        "storage_per_gb_month": 200 * half,  # 3.65 GB-hours are half a unit over 12.34
        "kb_per_minute": 2 * half,  # half a minute
    }
    versions = [
        Version(
            None,
            "per_second",
            prices(
                sms_outbound=first,
                sms_inbound=first,
                mms_outbound=half / 5 - tiny,
                voice_per_minute=2 * half / 5 - tiny,
                api_requests_per_1000=half - tiny,
                phone_rental=half - tiny,
                phone_purchase=half - tiny,
                brand_registration=half - tiny,
                kb_monthly=half / 2 - tiny,
                **common,
            ),
        ),
        Version(
            date(2024, 3, 10),
            "per_second",
            prices(
                sms_outbound=second,
                sms_inbound=second - tiny,
                mms_outbound=half / 5,
                voice_per_minute=2 * half / 5,
                api_requests_per_1000=half,
                phone_rental=half,
                phone_purchase=half,
                brand_registration=half,
                kb_monthly=half / 2,
                **common,
            ),
        ),
        # Four started minutes of two 61-second calls.
        Version(date(2024, 3, 20), "per_started_minute", prices(voice_per_minute=half / 4)),
    ]
    early, late, last = "2024-03-05T12:00:00Z", "2024-03-15T12:00:00Z", "2024-03-25T12:00:00Z"
    org = "halves"
    events = [
        event("sms", early, org, "sms-up", direction="outbound"),
        event("sms", late, org, "sms-up", direction="outbound"),
        event("sms", early, org, "sms-down", direction="inbound"),
        event("sms", late, org, "sms-down", direction="inbound"),
        event("mms", late, org, "mms-up", direction="outbound", segments=5),
        event("mms", early, org, "mms-down", direction="outbound", segments=5),
        event("voice_call", late, org, "voice-up", direction="outbound", seconds=150),
        event("voice_call", early, org, "voice-down", direction="inbound", seconds=150),
        event("voice_call", last, org, "minutes-up", direction="outbound", seconds=61),
        event("voice_call", last, org, "minutes-up", direction="inbound", seconds=61),
        event("api_request", late, org, "api-up", count=1000),
        event("api_request", early, org, "api-down", count=1000),
        event("storage", late, org, "storage-up", gb_hours="3.65"),
        event("storage", late, org, "storage-down", gb_hours="3.649999"),
        event("kb_usage", late, org, "kb-up", kb_id="k", minutes="0.5"),
        event("kb_usage", late, org, "kb-down", kb_id="k", minutes="0.499999"),
        event("knowledge_base", late, org, "kbm-up", kb_id="k"),
        event("knowledge_base", late, org, "kbm-up", kb_id="l"),
        event("knowledge_base", early, org, "kbm-down", kb_id="k"),
        event("knowledge_base", early, org, "kbm-down", kb_id="l"),
        event("phone_rental", late, org, "rental-up", phone_number="+1"),
        event("phone_rental", early, org, "rental-down", phone_number="+2"),
        event("phone_purchase", late, org, "purchase-up", phone_number="+3"),
        event("phone_purchase", early, org, "purchase-down", phone_number="+4"),
        event("brand_registration", late, "brand-up", brand_id="b"),
        event("brand_registration", early, "brand-down", brand_id="c"),
    ]
    tenant = service.new_tenant()
    set_versions(service, tenant, currency, versions)
    ingest(tenant, events)
    reference = Reference("UTC", currency, versions)
    reference.add(events)

    # The intent, spelled out, before the whole comparison.
    rows = reference.user_rows(org)
    figure = {
        "sms": "messaging_cost",
        "mms": "messaging_cost",
        "voice": "voice_cost",
        "minutes": "voice_cost",
        "api": "api_request_cost",
        "storage": "api_storage_cost",
        "kb": "kb_cost",
        "kbm": "kb_cost",
        "rental": "phone_rental_cost",
        "purchase": "phone_purchase_cost",
    }
    for user, row in rows.items():
        name, _, way = user.partition("-")
        assert row[figure[name]] == (up if way == "up" else down), user
    brands = reference.organization_rows()
    assert brands["brand-up"]["brand_registration_cost"] == up
    assert brands["brand-down"]["brand_registration_cost"] == down
    check(tenant, reference)


# ---- 3. figures far beyond 128-bit integers at 18 decimals, and ones within ------------------


def big_world(rng: random.Random, size: str) -> tuple[list[Version], list[Event]]:
    """Prices and quantities near the bounds the rate card and the ingest schema allow ("huge"):
    each event's cost is up to 10^24 with 18 decimals; or ("mid") at most 10^20 for the whole
    tenant, which fits in 128 bits at 18 decimals."""
    if size == "huge":

        def price() -> str:
            return decimal(10**12 - Fraction(rng.randint(1, 10**6), 10**12))

        def whole() -> int:
            return rng.choice(
                (MAX_QUANTITY, MAX_QUANTITY - 1, MAX_QUANTITY - rng.randint(2, 10**6))
            )

        def part() -> str:
            return rng.choice(
                ("999999999999.999999", decimal(whole() - Fraction(rng.randint(1, 10**6), 10**6)))
            )
    else:

        def price() -> str:
            return random_decimal(rng, 7, 12)

        def whole() -> int:
            return rng.randint(10**8, 10**9)

        def part() -> str:
            return random_decimal(rng, 9, 6)

    versions = [
        Version(None, "per_second", {key: "999999999999.999999999999" for key in PRICE_KEYS}),
        Version(date(2024, 3, 16), "per_started_minute", {key: price() for key in PRICE_KEYS}),
    ]
    if size == "mid":
        versions[0] = Version(None, "per_second", {key: price() for key in PRICE_KEYS})
    events = []
    for organization in ("big-a", "big-b"):
        for user in (None, "u1", "u2", "u3"):
            subject = None if user is None else f"{organization}-{user}"
            for day in (3, 4, 20, 21):
                at = f"2024-03-{day:02d}T10:00:00Z"
                for kind, data in (
                    ("sms", {"direction": "outbound", "segments": whole()}),
                    ("sms", {"direction": "inbound", "segments": whole()}),
                    ("mms", {"direction": "outbound", "segments": whole()}),
                    ("mms", {"direction": "inbound", "segments": whole()}),
                    ("voice_call", {"direction": "outbound", "seconds": whole()}),
                    ("api_request", {"count": whole()}),
                    ("storage", {"gb_hours": part()}),
                    ("phone_rental", {"phone_number": "+1"}),
                    ("phone_purchase", {"phone_number": "+1"}),
                    ("knowledge_base", {"kb_id": "k"}),
                    ("kb_usage", {"kb_id": "k", "minutes": part()}),
                ):
                    events.append(event(kind, at, organization, subject, **data))
                if subject is None:
                    events.append(event("brand_registration", at, organization, brand_id="b"))
    return versions, events


@pytest.mark.parametrize("currency", ["USD", "CLF"])
@pytest.mark.parametrize("size", ["huge", "mid"])
def test_figures_beyond_128_bit_integers_stay_exact(
    service: Service, size: str, currency: str
) -> None:
    versions, events = big_world(random.Random(12), size)
    tenant = service.new_tenant(tz="Asia/Kathmandu")
    set_versions(service, tenant, currency, versions)
    ingest(tenant, events)
    reference = Reference("Asia/Kathmandu", currency, versions)
    reference.add(events)
    total = Fraction(reference.overview()["total_cost"])
    # The test's own premise: beyond (or within) a signed 128-bit integer at 18 decimals.
    assert (total * 10**18 >= 2**127) == (size == "huge")
    check(tenant, reference)


def test_the_largest_decimal_quantities_allowed_are_priced(service: Service) -> None:
    # Decimal quantities are stored with 18 digits, 6 of them decimals: 10^12 is refused at
    # ingest (tests/ingest), the largest value below it is accepted and priced.
    versions = [
        Version(None, "per_second", {key: "999999999999.999999999999" for key in PRICE_KEYS})
    ]
    at = "2024-03-05T12:00:00Z"
    events = [
        event("storage", at, "o", "u", gb_hours="999999999999.999999"),
        event("kb_usage", at, "o", "u", kb_id="k", minutes="999999999999.999999"),
    ]
    tenant = service.new_tenant()
    set_versions(service, tenant, "USD", versions)
    ingest(tenant, events)
    reference = Reference("UTC", "USD", versions)
    reference.add(events)
    check(tenant, reference)
