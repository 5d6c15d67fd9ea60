"""Pricing in the engine: DuckDB's 128-bit integer arithmetic gives, key for key and organization
for organization, the rows that exact Python decimals give from the same rollup sums; a figure
too large for those integers is reported, never wrapped or rounded.

The money rules themselves are checked against an independent Fraction reference through the API
in tests/analytics; this file holds the engine to the Python pricing on random events, prices,
rate card versions and currencies."""

import math
import random
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.rollup_reference import make_events
from tests.storage.test_duckdb_backend import append
from usagelens.analytics.costs import Row
from usagelens.analytics.queries import PRICE_SCALE, PricedUsage, PriceVersion, PricingOverflow
from usagelens.analytics.service import Pricing, Range, keys_in_python
from usagelens.pricing.ratecard import DEFAULT_RATE_CARD, PRICE_KEYS, RateCard, VoiceRounding
from usagelens.storage.duckdb import analytics
from usagelens.storage.duckdb.backend import DuckDBBackend
from usagelens.storage.duckdb.compaction import USAGE_DAYS
from usagelens.storage.duckdb.usage_keys import place_keys

EXPONENTS = {"JPY": 0, "USD": 2, "KWD": 3, "CLF": 4}
MARCH = datetime(2024, 3, 1, 5, tzinfo=UTC)  # midnight in New York


class CompactingAtEveryCommit(DuckDBBackend):
    compact_at_rows = 1


def _count(store: DuckDBBackend, table: str) -> int:
    return int(store._rows(f"SELECT count(*) FROM {table}")[0][0])


@pytest.fixture(scope="module")
def backend() -> Iterator[tuple[DuckDBBackend, int]]:
    """Two thirds of the events compacted into runs (grouped by their integer keys), the rest
    new rows (grouped by name): the engine sums both."""
    with tempfile.TemporaryDirectory() as folder:
        store = CompactingAtEveryCommit(Path(folder) / "priced.duckdb")
        tenant = store.create_tenant("acme", "America/New_York", 2, None)
        rng = random.Random(7)
        events = make_events(7, "e", 3000)
        for event in events:  # over all of March 2024, where the versions start
            moment = MARCH + timedelta(seconds=rng.randrange(31 * 86400))
            event["time"] = moment.isoformat()
        append(store, tenant.tenant_id, events[:1000])
        append(store, tenant.tenant_id, events[1000:2000])
        store.compact_at_rows = 10**9
        append(store, tenant.tenant_id, events[2000:])
        assert _count(store, USAGE_DAYS.runs) > 0
        assert _count(store, USAGE_DAYS.new) > 0
        yield store, tenant.tenant_id
        store.close()


def _figures(priced: PricedUsage) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """A priced row's counts and costs in minor units (Python's rows give theirs exactly)."""
    return priced.counts, priced.units


def _card(rng: random.Random, currency: str, per_started: bool) -> RateCard:
    """Prices of up to 12 decimals, or (one in three) of whole minor units, which the engine
    sums per organization without rounding per key."""
    exponent = EXPONENTS[currency]
    prices: dict[str, Any] = {
        key: Decimal(rng.randint(0, 10**8)).scaleb(
            -exponent if rng.random() < 1 / 3 else -rng.randint(0, PRICE_SCALE)
        )
        for key in PRICE_KEYS
    }
    voice: VoiceRounding = "per_started_minute" if per_started else "per_second"
    return replace(DEFAULT_RATE_CARD, currency=currency, voice_rounding=voice, **prices)


def _pricing(seed: int, currency: str, versions: int) -> Pricing:
    rng = random.Random(seed)
    days = sorted({date(1970, 1, 1), *(date(2024, 3, rng.randint(2, 28)) for _ in range(versions))})
    cards = [_card(rng, currency, rng.random() < 0.5) for _ in days]
    minor_unit = Decimal(1).scaleb(-EXPONENTS[currency])
    return Pricing(days, cards, currency, minor_unit)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 10**6),
    currency=st.sampled_from(sorted(EXPONENTS)),
    versions=st.integers(0, 3),
    bounded=st.booleans(),
    first=st.integers(0, 30),
    days=st.integers(1, 30),
)
def test_the_engine_prices_as_python_decimals_do(
    backend: tuple[DuckDBBackend, int],
    seed: int,
    currency: str,
    versions: int,
    bounded: bool,
    first: int,
    days: int,
) -> None:
    """Bounded ranges start and end on any day of March, before, across or after the days
    where rate card versions start; one organization alone is priced as its part of all."""
    store, tenant_id = backend
    prices = _pricing(seed, currency, versions)
    start = date(2024, 3, 1) + timedelta(days=first)
    range_ = Range(start, start + timedelta(days=days - 1)) if bounded else Range(None, None)
    expected = keys_in_python(store, tenant_id, prices, range_)
    assert expected  # the events fall in the range: the comparison is not empty

    engine = prices.for_engine
    keys = store.priced_usage(
        tenant_id, engine, prices.minor_exponent, range_.start_date, range_.end_day
    )
    assert {(k.organization_id, k.user_id): _figures(k) for k in keys} == {
        key: _figures(row.in_units(*key, [], prices.minor_exponent))
        for key, row in expected.items()
    }
    of_one = store.priced_usage(
        tenant_id, engine, prices.minor_exponent, range_.start_date, range_.end_day, "org-b"
    )
    assert {(k.organization_id, k.user_id): _figures(k) for k in of_one} == {
        key: _figures(row.in_units(*key, [], prices.minor_exponent))
        for key, row in expected.items()
        if key[0] == "org-b"
    }

    _assert_organizations_priced_as_python(store, tenant_id, prices, range_)


def _assert_organizations_priced_as_python(
    store: DuckDBBackend, tenant_id: int, prices: Pricing, range_: Range
) -> None:
    """Each organization is the sum of its keys priced in Python, with its users with usage
    whom the directory puts in another organization."""
    expected = keys_in_python(store, tenant_id, prices, range_)
    organizations = store.priced_usage(
        tenant_id,
        prices.for_engine,
        prices.minor_exponent,
        range_.start_date,
        range_.end_day,
        per_organization=True,
    )
    summed: dict[str, Row] = {}
    elsewhere: dict[str, set[str]] = {}  # users with usage the directory puts in another one
    directory = {user.user_id: user.organization_id for user in store.list_users(tenant_id)}
    for (organization_id, user_id), row in expected.items():
        summed.setdefault(organization_id, Row.zero(prices.minor_unit)).add(row)
        if user_id and directory.get(user_id) != organization_id:
            elsewhere.setdefault(organization_id, set()).add(user_id)
    assert elsewhere  # users have usage in several organizations: the lists are not all empty
    assert {o.organization_id: _figures(o) for o in organizations} == {
        organization_id: _figures(row.in_units(organization_id, "", [], prices.minor_exponent))
        for organization_id, row in summed.items()
    }
    assert {
        o.organization_id: set(o.users_elsewhere) for o in organizations if o.users_elsewhere
    } == elsewhere
    tenant = store.priced_tenant(
        tenant_id, prices.for_engine, prices.minor_exponent, range_.start_date, range_.end_day
    )
    whole = Row.zero(prices.minor_unit)
    for row in summed.values():
        whole.add(row)
    assert _figures(tenant.total) == _figures(whole.in_units("", "", [], prices.minor_exponent))
    assert tenant.organizations == sorted(summed)
    outside = {user_id for _, user_id in expected if user_id and not directory.get(user_id)}
    assert tenant.users_outside == sorted(outside)


def test_organizations_of_the_default_card(backend: tuple[DuckDBBackend, int]) -> None:
    """The default card's rentals, purchases, registrations and knowledge bases cost whole
    cents, its segments, minutes, requests, storage and KB minutes fractions of one. Each
    organization adds up its keys all the same: with that card alone, from a day after a
    second version starts that prices rentals in tenths of a cent and calls per started
    minute, and across that day."""
    store, tenant_id = backend
    second = replace(
        DEFAULT_RATE_CARD, phone_rental=Decimal("2.995"), voice_rounding="per_started_minute"
    )
    alone = Pricing([date(1970, 1, 1)], [DEFAULT_RATE_CARD], "USD", Decimal("0.01"))
    both = Pricing(
        [date(1970, 1, 1), date(2024, 3, 15)], [DEFAULT_RATE_CARD, second], "USD", Decimal("0.01")
    )
    for prices in (alone, both):
        for range_ in (Range(None, None), Range(date(2024, 3, 16), date(2024, 3, 31))):
            _assert_organizations_priced_as_python(store, tenant_id, prices, range_)


def test_one_organization_only(backend: tuple[DuckDBBackend, int]) -> None:
    store, tenant_id = backend
    prices = _pricing(1, "USD", 2)
    everything = keys_in_python(store, tenant_id, prices, Range(None, None))
    keys = store.priced_usage(tenant_id, prices.for_engine, 2, None, None, "org-b")
    assert {(k.organization_id, k.user_id) for k in keys} == {
        key for key in everything if key[0] == "org-b"
    }


def test_an_empty_range_prices_nothing(backend: tuple[DuckDBBackend, int]) -> None:
    store, tenant_id = backend
    prices = _pricing(2, "USD", 1)
    day = date(2024, 3, 10)
    assert store.priced_usage(tenant_id, prices.for_engine, 2, day, day) == []
    assert (
        store.priced_usage(tenant_id, prices.for_engine, 2, date(1990, 1, 1), date(1990, 2, 1))
        == []
    )


def _tenant_storing_the_most_gb_hours(store: DuckDBBackend, name: str) -> int:
    """A new tenant with one storage event of the most GB-hours an event may carry."""
    tenant = store.create_tenant(name, "UTC", 2, None)
    storage = {
        "id": name,
        "type": "storage",
        "time": "2024-03-02T00:00:00Z",
        "data": {"organization_id": "o", "gb_hours": "999999999999.999999"},
    }
    append(store, tenant.tenant_id, [storage])
    return tenant.tenant_id


def test_a_figure_beyond_128_bits_is_reported_not_wrapped(
    backend: tuple[DuckDBBackend, int],
) -> None:
    store, _ = backend
    tenant_id = _tenant_storing_the_most_gb_hours(store, "huge")
    # The most GB-hours an event may carry, in millionths, times the largest price a card
    # allows, times 10^12: about 10^42, beyond 2^127.
    largest = 10**24 - 1
    version = PriceVersion(date(1970, 1, 1), False, {key: largest for key in PRICE_KEYS})
    with pytest.raises(PricingOverflow):
        store.priced_usage(tenant_id, [version], 4, None, None)


def test_a_figure_beyond_64_bits_is_priced_in_128(backend: tuple[DuckDBBackend, int]) -> None:
    """The engine prices in 64-bit integers first; a product beyond them is priced again in
    128-bit ones, to the cent Python's decimals give."""
    store, _ = backend
    tenant_id = _tenant_storing_the_most_gb_hours(store, "wide")
    price = Decimal("1.000000000001")  # per GB-month
    card = replace(DEFAULT_RATE_CARD, storage_per_gb_month=price)
    prices = Pricing([date(1970, 1, 1)], [card], "USD", Decimal("0.01"))
    # The cost in cents is millionths of a GB-hour times the price in 10^-12 times 100, over
    # 730 * 10^18: in lowest terms, its numerator is still beyond 64 bits.
    common = math.gcd(1000000000001 * 100, 730 * 10**18)
    assert 999999999999999999 * (1000000000001 * 100 // common) > 2**63
    expected = keys_in_python(store, tenant_id, prices, Range(None, None))
    keys = store.priced_usage(tenant_id, prices.for_engine, 2, None, None)
    assert {(k.organization_id, k.user_id): _figures(k) for k in keys} == {
        key: _figures(row.in_units(*key, [], 2)) for key, row in expected.items()
    }
    assert expected[("o", "")].money.api_storage_cost == Decimal("1369863013.70")


# The largest sum of GB-hours or KB minutes whose millionths the 64-bit statement computes
# narrowed to 64 bits: DuckDB holds a DECIMAL(18, 6) times 10^6 under 10^18.
_NARROW = Decimal("999999.999999")
_AROUND_THE_NARROW_BOUND = [
    Decimal(0),
    Decimal("0.000001"),
    Decimal("-0.000001"),
    _NARROW,
    _NARROW + Decimal("0.000001"),
    -_NARROW,
    -_NARROW - Decimal("0.000001"),
    Decimal("9223372036854.775807"),  # the most millionths that 64 bits hold
]


@pytest.mark.parametrize("column", ["storage_gb_hours", "kb_minutes"])
def test_decimal_sums_in_millionths_on_either_side_of_the_narrow_bound(column: str) -> None:
    """Each sum, alone in its group, as the 64-bit statement turns it into millionths: exact on
    both sides of the bound under which it computes in 64 bits, with no overflow raised."""
    values = ", ".join(f"{value}::DECIMAL(38, 6)" for value in _AROUND_THE_NARROW_BOUND)
    with duckdb.connect() as con:
        found = con.execute(
            f"""
            SELECT n, {analytics._summed(column, "BIGINT")}
            FROM (SELECT unnest(range({len(_AROUND_THE_NARROW_BOUND)})) AS n,
                         unnest([{values}]) AS {column}) r
            GROUP BY n ORDER BY n
            """
        ).fetchall()
    assert [millionths for _, millionths in found] == [
        int(value * 10**6) for value in _AROUND_THE_NARROW_BOUND
    ]


def test_gb_hours_and_kb_minutes_beyond_the_narrow_bound(tmp_path: Path) -> None:
    """Users whose GB-hours and KB minutes add up to just under, at and over the bound of the
    64-bit shortcut, over several events and days, are priced as Python prices them."""
    store = DuckDBBackend(tmp_path / "large.duckdb")
    tenant_id = store.create_tenant("large", "UTC", 2, None).tenant_id
    events = []
    for n, total in enumerate([_NARROW, _NARROW + Decimal("0.000001"), _NARROW * 3]):
        for day, share in enumerate([total / 2, total - total / 2]):
            share = share.quantize(Decimal("0.000001"))
            for kind, data in (
                ("storage", {"gb_hours": str(share)}),
                ("kb_usage", {"kb_id": "kb", "minutes": str(share)}),
            ):
                events.append(
                    {
                        "id": f"{kind}-{n}-{day}",
                        "type": kind,
                        "time": f"2024-03-0{day + 2}T12:00:00Z",
                        "subject": f"user-{n}",
                        "data": {"organization_id": "org", **data},
                    }
                )
    # And one user with usage in another organization than the directory's.
    elsewhere = {**events[0], "id": "elsewhere", "time": "2024-03-04T12:00:00Z"}
    events.append({**elsewhere, "data": {"organization_id": "other", "gb_hours": "1"}})
    append(store, tenant_id, events)
    # The default card's prices keep every figure within 64 bits.
    prices = Pricing([date(1970, 1, 1)], [DEFAULT_RATE_CARD], "USD", Decimal("0.01"))
    expected = keys_in_python(store, tenant_id, prices, Range(None, None))
    assert len(expected) == 4
    keys = store.priced_usage(tenant_id, prices.for_engine, 2, None, None)
    assert {(k.organization_id, k.user_id): _figures(k) for k in keys} == {
        key: _figures(row.in_units(*key, [], 2)) for key, row in expected.items()
    }
    _assert_organizations_priced_as_python(store, tenant_id, prices, Range(None, None))
    store.close()


def test_ranges_beyond_the_runs_or_the_new_rows(tmp_path: Path) -> None:
    """The runs hold ten days at the end of March and the new rows its first ten (earlier
    days: no block of later days makes a compaction due): ranges over both, over either alone
    and over neither are priced as Python prices them, though a table without rows of the range
    is left out of the query."""
    store = CompactingAtEveryCommit(tmp_path / "apart.duckdb")
    tenant_id = store.create_tenant("apart", "America/New_York", 2, None).tenant_id
    rng = random.Random(3)
    events = make_events(3, "e", 1200)
    for n, event in enumerate(events):
        first_day = 1 if n < 600 else 20
        moment = MARCH + timedelta(days=first_day - 1, seconds=rng.randrange(10 * 86400))
        event["time"] = moment.isoformat()
    append(store, tenant_id, events[600:])
    store.compact_at_rows = 10**9
    append(store, tenant_id, events[:600])
    assert _count(store, USAGE_DAYS.new) > 0
    prices = _pricing(4, "USD", 1)
    for first, last in [(1, 31), (5, 25), (12, 18), (21, 31), (1, 9), (4, 29)]:
        range_ = Range(date(2024, 3, first), date(2024, 3, last))
        expected = keys_in_python(store, tenant_id, prices, range_)
        keys = store.priced_usage(
            tenant_id, prices.for_engine, 2, range_.start_date, range_.end_day
        )
        assert {(k.organization_id, k.user_id): _figures(k) for k in keys} == {
            key: _figures(row.in_units(*key, [], 2)) for key, row in expected.items()
        }, (first, last)
        assert bool(keys) == ((first, last) != (12, 18))
    store.close()


def test_users_the_directory_places_nowhere(tmp_path: Path) -> None:
    """Users with usage whom the directory does not hold, or holds in no organization, are
    listed apart for the tenant, and with every organization they have usage in. (Ingest
    places every user it learns, and the API removes none: the rows are edited here.)"""
    store = DuckDBBackend(tmp_path / "nowhere.duckdb")
    tenant_id = store.create_tenant("nowhere", "UTC", 2, None).tenant_id
    sms = [
        ("a", "kept"),
        ("a", "gone"),
        ("b", "gone"),
        ("b", "unplaced"),
        ("b", ""),  # the organization's own
    ]
    events = [
        {
            "id": f"e{n}",
            "type": "sms",
            "time": "2024-03-02T10:00:00Z",
            "subject": user or None,
            "data": {"organization_id": organization, "direction": "outbound", "segments": 1},
        }
        for n, (organization, user) in enumerate(sms)
    ]
    append(store, tenant_id, [{k: v for k, v in e.items() if v is not None} for e in events])
    with store._transaction() as con:
        con.execute("DELETE FROM users WHERE user_id = 'gone'")
        con.execute("UPDATE users SET organization_id = '' WHERE user_id = 'unplaced'")
        # As a write that moves users must: their usage keys say where the directory puts them.
        con.execute(place_keys("tenant_id = ?"), [tenant_id])
    store.directory_changed(tenant_id)
    prices = _pricing(5, "USD", 0)
    range_ = Range(None, None)
    tenant = store.priced_tenant(tenant_id, prices.for_engine, 2, None, None)
    assert tenant.users_outside == ["gone", "unplaced"]
    assert tenant.organizations == ["a", "b"]
    assert tenant.total.counts.sms_sent == len(sms)
    organizations = store.priced_usage(tenant_id, prices.for_engine, 2, None, None, None, True)
    assert {o.organization_id: sorted(o.users_elsewhere) for o in organizations} == {
        "a": ["gone"],
        "b": ["gone", "unplaced"],
    }
    _assert_organizations_priced_as_python(store, tenant_id, prices, range_)
    store.close()


def test_users_moved_are_listed_where_they_have_usage_now(tmp_path: Path) -> None:
    """A user with usage in two organizations, whom PUT then moves from one to the other and
    then to a third, is listed with each organization the directory does not place them in."""
    store = DuckDBBackend(tmp_path / "moved.duckdb")
    tenant_id = store.create_tenant("moved", "UTC", 2, None).tenant_id

    def sms(n: int, organization: str, user: str) -> dict[str, Any]:
        return {
            "id": f"e{n}",
            "type": "sms",
            "time": "2024-03-02T10:00:00Z",
            "subject": user,
            "data": {"organization_id": organization, "direction": "outbound", "segments": 1},
        }

    # Ingest places a user where their first usage is: "u" in "a", "v" in "b".
    append(store, tenant_id, [sms(1, "a", "u"), sms(2, "b", "v")])
    append(store, tenant_id, [sms(3, "b", "u")])
    store.put_organization(tenant_id, "c", None, None)
    prices = _pricing(7, "USD", 0)

    def users_elsewhere() -> dict[str, list[str]]:
        organizations = store.priced_usage(tenant_id, prices.for_engine, 2, None, None, None, True)
        return {o.organization_id: o.users_elsewhere for o in organizations if o.users_elsewhere}

    assert users_elsewhere() == {"b": ["u"]}
    _assert_organizations_priced_as_python(store, tenant_id, prices, Range(None, None))
    store.put_user(tenant_id, "u", None, None, "b")
    assert users_elsewhere() == {"a": ["u"]}
    _assert_organizations_priced_as_python(store, tenant_id, prices, Range(None, None))
    store.put_user(tenant_id, "u", "U", None, "c")
    store.put_user(tenant_id, "v", "V", None, "b")  # where they were: nothing changes
    assert users_elsewhere() == {"a": ["u"], "b": ["u"]}
    _assert_organizations_priced_as_python(store, tenant_id, prices, Range(None, None))
    # New usage of "u" in "c" and "a": the key made now is placed as the one made before.
    append(store, tenant_id, [sms(4, "c", "u"), sms(5, "a", "u")])
    assert users_elsewhere() == {"a": ["u"], "b": ["u"]}
    store.close()
