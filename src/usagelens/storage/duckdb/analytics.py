"""Seed 001's analytics from the DuckDB file: daily usage rollups summed per organization, user
and rate card version, and priced in the engine with exact integers: 64-bit where every figure
fits, else 128-bit."""

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import duckdb

from usagelens.analytics.queries import (
    COUNTS,
    MONEY_FIELDS,
    PRICE_SCALE,
    QUANTITIES,
    QUANTITY_SCALE,
    Counts,
    PricedUsage,
    PriceVersion,
    PricingOverflow,
    TenantPriced,
    Units,
    UsageSums,
    nothing_priced,
)
from usagelens.pricing.ratecard import GB_HOURS_PER_GB_MONTH, PRICE_KEYS
from usagelens.storage.duckdb import blocks
from usagelens.storage.duckdb.compaction import USAGE_DAYS
from usagelens.storage.duckdb.database import Database, busy_when_out_of_memory

_DECIMAL_QUANTITIES = ("storage_gb_hours", "kb_minutes")
_INT64_MAX = 2**63 - 1
_INT128_MAX = 2**127 - 1
# What DuckDB raises when an integer does not fit its type: in arithmetic, and in a cast.
_OVERFLOWS = (duckdb.OutOfRangeException, duckdb.ConversionException)


def _sum(column: str) -> str:
    if column in _DECIMAL_QUANTITIES:
        # As text: the driver's own DECIMAL conversion costs microseconds a value.
        return f"sum(r.{column})::VARCHAR AS {column}"
    return f"sum(r.{column})::BIGINT AS {column}"


@dataclass(frozen=True)
class _Component:
    """A money field's exact cost: ``numerator`` (over the rollup sums ``s``, integers with the
    decimals times 10^QUANTITY_SCALE, and the prices ``p`` of ``prices``) over 10^``scale``
    times ``divisor``, as usagelens.analytics.costs prices it."""

    numerator: str
    prices: tuple[str, ...]
    scale: int
    divisor: int

    @property
    def quantities(self) -> set[str]:
        """The sums of ``s`` that its numerator reads."""
        return set(re.findall(r"\bs\.(\w+)", self.numerator))


# Each segment count with its price. A key's messaging cost is the only figure that sums several
# quantities: they are priced row by row and summed as one (see _priced_segments).
_SEGMENT_PRICES = (
    ("sms_out_segments", "sms_outbound"),
    ("sms_in_segments", "sms_inbound"),
    ("mms_out_segments", "mms_outbound"),
    ("mms_in_segments", "mms_inbound"),
)

_COMPONENTS: dict[str, _Component] = {
    "messaging_cost": _Component(
        "s.messaging_units",  # its segments priced row by row: _priced_segments
        tuple(price for _, price in _SEGMENT_PRICES),
        PRICE_SCALE,
        1,
    ),
    "voice_cost": _Component(
        "CASE WHEN p.per_started_minute THEN s.voice_started_minutes * 60 ELSE s.voice_seconds"
        " END * p.voice_per_minute",
        ("voice_per_minute",),
        PRICE_SCALE,
        60,
    ),
    "api_request_cost": _Component(
        "s.api_requests * p.api_requests_per_1000", ("api_requests_per_1000",), PRICE_SCALE, 1000
    ),
    "api_storage_cost": _Component(
        "s.storage_gb_hours * p.storage_per_gb_month",
        ("storage_per_gb_month",),
        PRICE_SCALE + QUANTITY_SCALE,
        GB_HOURS_PER_GB_MONTH,
    ),
    "phone_rental_cost": _Component(
        "s.phone_rentals * p.phone_rental", ("phone_rental",), PRICE_SCALE, 1
    ),
    "phone_purchase_cost": _Component(
        "s.phone_purchases * p.phone_purchase", ("phone_purchase",), PRICE_SCALE, 1
    ),
    "kb_monthly_cost": _Component("s.kb_count * p.kb_monthly", ("kb_monthly",), PRICE_SCALE, 1),
    "kb_usage_cost": _Component(
        "s.kb_minutes * p.kb_per_minute", ("kb_per_minute",), PRICE_SCALE + QUANTITY_SCALE, 1
    ),
    "brand_registration_cost": _Component(
        "s.brand_registrations * p.brand_registration", ("brand_registration",), PRICE_SCALE, 1
    ),
}
assert tuple(_COMPONENTS) == MONEY_FIELDS
assert sorted(key for c in _COMPONENTS.values() for key in c.prices) == sorted(PRICE_KEYS)


@dataclass(frozen=True)
class _Fractions:
    """Each component's cost in minor units as a fraction in lowest common terms: the prices
    (of every version) times 10^minor_exponent and the component's denominator, divided by their
    greatest common divisor. With the bench's card that turns 0.0079 USD a segment (7.9 * 10^9
    over 10^12, times 100) into 79 over 100, so the figures fit 64-bit integers, whose
    arithmetic DuckDB runs about ten times faster than 128-bit division."""

    prices: dict[str, list[int]]  # by price key, one per version
    denominators: dict[str, int]  # by money field

    @classmethod
    def of(cls, versions: Sequence[PriceVersion], minor_exponent: int) -> "_Fractions":
        prices: dict[str, list[int]] = {}
        denominators: dict[str, int] = {}
        for name, component in _COMPONENTS.items():
            whole = component.divisor * 10**component.scale
            scaled = {
                key: [version.prices[key] * 10**minor_exponent for version in versions]
                for key in component.prices
            }
            common = math.gcd(whole, *(price for values in scaled.values() for price in values))
            denominators[name] = whole // common
            for key, values in scaled.items():
                prices[key] = [price // common for price in values]
        return cls(prices, denominators)

    def largest(self) -> int:
        """The largest constant the query holds: a price, or twice a denominator."""
        return max(
            *(abs(price) for values in self.prices.values() for price in values),
            *(2 * denominator for denominator in self.denominators.values()),
        )

    def rounded(self, name: str, integer: str) -> str:
        """Half-up to the minor unit: (n + D/2) // D, or (2n + D) // 2D where D is odd."""
        numerator, denominator = f"n_{name}", self.denominators[name]
        if denominator % 2:
            numerator, denominator = f"2 * {numerator}", 2 * denominator
        half = denominator // 2
        return f"({numerator} + '{half}'::{integer}) // '{denominator}'::{integer} AS {name}"


def _where(
    tenant_id: int, organization_id: str | None, user_id: str | None
) -> tuple[list[str], dict[str, Any]]:
    """The conditions on the per-day usage rows and blocks of a key (None: any). The runs
    and blocks name users by their usage keys alone."""
    where = ["tenant_id = $tenant"]
    params: dict[str, Any] = {"tenant": tenant_id}
    if organization_id is not None:
        where.append("organization_id = $organization")
        params["organization"] = organization_id
    if user_id is not None:
        where.append(
            "usage_key IN (SELECT usage_key FROM usage_keys WHERE tenant_id = $tenant"
            " AND user_id = $user)"
        )
        params["user"] = user_id
    return where, params


@dataclass(frozen=True)
class _Source:
    """The per-day usage rows of one rollup table that meet ``condition``, read with the
    table's columns but ``span``, which only blocks have (the union of sources matches them by
    name)."""

    table: str
    condition: str

    @property
    def rows(self) -> str:
        columns = "* EXCLUDE (span)" if self.table == blocks.BLOCKS else "*"
        return f"SELECT {columns} FROM {self.table} WHERE {self.condition}"

    @property
    def exists(self) -> str:
        """Whether it holds any row, asked without the columns that DuckDB would otherwise
        bind for nothing: on the bench's 10M file, the organizations' three sources of 30 days
        took 3.3 and 5.8 ms as ``SELECT *`` (medians of 31, two runs), 2.5 as ``SELECT 1``."""
        return f"EXISTS (SELECT 1 FROM {self.table} WHERE {self.condition})"


def _sources(
    con: duckdb.DuckDBPyConnection,
    where: list[str],
    params: dict[str, Any],
    first_day: date | None,
    end_day: date | None,
    cuts: Sequence[date],
) -> list[_Source]:
    """The sources whose rows together are the per-day usage of ``[first_day, end_day)``
    (None: unbounded) that meets ``where``: the new rows of those days, and for a bounded range
    the built blocks inside it (none across a day of ``cuts``) and the runs' rows of its other
    days. Adds their bounds to ``params``."""
    keyed = " AND ".join(where)
    days = []
    if first_day is not None:
        days.append("day >= $first_day")
        params["first_day"] = first_day
    if end_day is not None:
        days.append("day < $end_day")
        params["end_day"] = end_day
    in_range = " AND ".join([keyed, *days])
    sources = [_Source(USAGE_DAYS.new, in_range)]
    if first_day is None or end_day is None:
        return [_Source(USAGE_DAYS.runs, in_range), *sources]
    tenant_id = params["tenant"]
    found = blocks.cover(first_day, end_day, blocks.built_until(con, tenant_id), cuts)
    intervals = []
    for n, (low, high) in enumerate(found.days):
        params[f"days{n}_from"], params[f"days{n}_until"] = low, high
        intervals.append(f"day >= $days{n}_from AND day < $days{n}_until")
    if intervals:
        sources.append(_Source(USAGE_DAYS.runs, f"{keyed} AND ({' OR '.join(intervals)})"))
    chosen = []
    for n, (span, day) in enumerate(found.blocks):
        params[f"block{n}"] = day
        chosen.append(f"span = {span} AND day = $block{n}")
    if chosen:
        sources.append(_Source(blocks.BLOCKS, f"{keyed} AND ({' OR '.join(chosen)})"))
    return sources


def _holding(
    con: duckdb.DuckDBPyConnection, sources: Sequence[_Source], params: dict[str, Any]
) -> list[_Source]:
    """Which of ``sources`` hold rows.

    DuckDB sums 64-bit integers in 64 bits only where the statistics of what a sum reads prove
    it cannot overflow, else in 128 bits. A table whose statistics place its rows outside the
    question (new rows of this week, for last month) has no statistics to give, and a union
    with it has none either: at 100M events, the organizations of the 30 days before the new
    rows took 252 ms in the engine, 159 without them. A source that has rows of the question
    cannot be proven empty of them: only those are read."""
    found = con.execute(
        "SELECT " + ", ".join(source.exists for source in sources), params
    ).fetchone()
    assert found is not None
    return [source for source, holds in zip(sources, found, strict=True) if holds]


def _naming_keys(params: dict[str, Any]) -> str:
    """The join that names each grouped key ``s`` by its organization and user: with the
    question's organization, if it has one, so the engine reads only its keys (at 100M events,
    the per-user question's 3,736 keys among its tenant's 98,517: 24.6 ms in the engine
    before, 22.3-22.7 with it)."""
    one = " AND k.organization_id = $organization" if "organization" in params else ""
    return f"JOIN usage_keys k ON k.tenant_id = $tenant AND k.usage_key = s.usage_key{one}"


def _used(params: dict[str, Any], sql: str) -> dict[str, Any]:
    """The parameters ``sql`` names: DuckDB refuses any other (those of sources left out)."""
    return {name: value for name, value in params.items() if re.search(rf"\${name}\b", sql)}


def _priced_segments(fractions: _Fractions, integer: str) -> str:
    """The messaging cost's numerator of rows ``r``: each segment count times its price in the
    row's version. Summed per key, this one figure replaces the four segment counts.

    The priced answers group up to 96,614 keys at 100M events, and what that costs grows with
    the number of sums a key carries, row by row: the tenant's 30 days of runs in the engine,
    18 sums 123-147 ms, 14 sums 94-102 ms. (Not for want of cache: splitting the keys into 2 to
    16 ranges, each grouped apart, took 99 to 260 ms instead of 84.)"""
    terms = []
    for column, key in _SEGMENT_PRICES:
        prices = [f"'{price}'::{integer}" for price in fractions.prices[key]]
        if len(set(prices)) == 1:
            price = prices[0]
        else:
            cases = " ".join(f"WHEN {index} THEN {one}" for index, one in enumerate(prices))
            price = f"CASE r.version {cases} END"
        terms.append(f"r.{column}::{integer} * {price}")
    return f"sum({' + '.join(terms)})::{integer} AS messaging_units"


def _versioned(sources: Sequence[_Source], versions: int) -> str:
    """The rows of ``sources``, each with the index of the rate card version that prices it
    (from the parameters $starts and $indexes) where there are several: a block's by its first
    day, as no block spans the start of a version. With one version, the rows alone, grouped
    by their key only: at 100M events, the organizations' statement of the bench's 30 days,
    grouped by key and a constant version, then by key alone, took 164.8 and 150.5 ms in the
    engine in one alternation (medians of 21), 143.5 and 140.9 in another (of 31)."""

    def of(rows: str) -> str:
        if versions == 1:
            return rows
        return f"""
            SELECT v.version, r.* FROM ({rows}) r ASOF JOIN (
                SELECT unnest($starts) AS version_start, unnest($indexes) AS version
            ) v ON r.day >= v.version_start
        """

    return " UNION ALL BY NAME ".join(of(source.rows) for source in sources)


def _version_keys(versions: int) -> list[str]:
    """What ``_versioned``'s rows are grouped by besides their key: their version, where they
    carry one."""
    return ["r.version"] if versions > 1 else []


_SEGMENTS = {column for column, _ in _SEGMENT_PRICES}


# Sums of a decimal quantity under this in magnitude have their millionths computed in 64
# bits: as DECIMAL(18, 6), the product by 10^6 holds the sum times 10^12, and DuckDB holds a
# DECIMAL(18) under 10^18.
_NARROW_BELOW = 10 ** (18 - 2 * QUANTITY_SCALE)


def _summed(column: str, integer: str) -> str:
    if column not in _DECIMAL_QUANTITIES:
        return f"sum(r.{column})::{integer} AS {column}"
    # A sum of DECIMAL(38, 6) is a 128-bit integer, and casting it divides in 128 bits. At
    # 100M events, grouping the bench's 30 days into 96,614 keys took 93.8 ms that way, 76.8
    # narrowed to 64 bits first and 74.7 without turning the two sums into integers at all
    # (medians of 25, alternated). A larger sum takes the 128-bit way, as exact.
    summed, scale = f"sum(r.{column})", 10**QUANTITY_SCALE
    wide = f"({summed} * {scale})::{integer}"
    if integer != "BIGINT":
        return f"{wide} AS {column}"
    narrow = f"({summed}::DECIMAL(18, {QUANTITY_SCALE}) * {scale})::BIGINT"
    return f"""
        CASE WHEN {summed} > -{_NARROW_BELOW} AND {summed} < {_NARROW_BELOW} THEN {narrow}
        ELSE {wide} END AS {column}
    """


class AnalyticsStore(Database):
    def priced_usage(
        self,
        tenant_id: int,
        versions: Sequence[PriceVersion],
        minor_exponent: int,
        first_day: date | None,
        end_day: date | None,
        organization_id: str | None = None,
        per_organization: bool = False,
    ) -> list[PricedUsage]:
        statement = _per_organization_sql if per_organization else _keys_sql
        found = self._priced_rows(
            tenant_id, versions, minor_exponent, first_day, end_day, organization_id, statement
        )
        split = 3 + len(COUNTS)
        return [
            PricedUsage(
                row[0], row[1], row[2], Counts._make(row[3:split]), Units._make(row[split:])
            )
            for row in found
        ]

    def priced_tenant(
        self,
        tenant_id: int,
        versions: Sequence[PriceVersion],
        minor_exponent: int,
        first_day: date | None,
        end_day: date | None,
    ) -> TenantPriced:
        found = self._priced_rows(
            tenant_id, versions, minor_exponent, first_day, end_day, None, _tenant_sql
        )
        if not found:
            return TenantPriced(nothing_priced(), [], [])
        organizations, outside, *figures = found[0]
        counts, units = figures[: len(COUNTS)], figures[len(COUNTS) :]
        total = PricedUsage("", "", [], Counts._make(counts), Units._make(units))
        return TenantPriced(total, organizations, outside)

    def _priced_rows(
        self,
        tenant_id: int,
        versions: Sequence[PriceVersion],
        minor_exponent: int,
        first_day: date | None,
        end_day: date | None,
        organization_id: str | None,
        statement: "_Statement",
    ) -> list[tuple[Any, ...]]:
        """The rows of ``statement`` over the sources of the range (none without any), in
        64-bit integers, or in 128-bit ones where a figure needs them."""
        if first_day is not None and end_day is not None and first_day >= end_day:
            return []
        fractions = _Fractions.of(versions, minor_exponent)
        largest = fractions.largest()
        if largest > _INT128_MAX:
            raise PricingOverflow(f"a price of {largest} minor units is beyond 128-bit integers")
        # 64-bit first: a sum or product beyond it fails the query (DuckDB checks every one),
        # and 128-bit integers answer instead.
        integers = ["HUGEINT"] if largest > _INT64_MAX else ["BIGINT", "HUGEINT"]
        for integer in integers:
            try:
                # The tables holding rows of the question, and the question, in one snapshot: a
                # compaction in between would move rows into a table left out for want of any.
                with self._query_slot(), self._snapshot() as con:
                    where, params = _where(tenant_id, organization_id, None)
                    cuts = [version.first_day for version in versions[1:]]
                    sources = _sources(con, where, params, first_day, end_day, cuts)
                    sources = _holding(con, sources, params)
                    if not sources:
                        return []
                    sql = statement(sources, params, versions, fractions, integer)
                    return con.execute(sql, _used(params, sql)).fetchall()
            except _OVERFLOWS as error:
                if integer == integers[-1]:
                    raise PricingOverflow(str(error)) from None
        raise AssertionError("unreachable: the last integer type answers or raises")

    def usage_sums(
        self,
        tenant_id: int,
        version_days: Sequence[date],
        first_day: date | None,
        end_day: date | None,
        organization_id: str | None = None,
        user_id: str | None = None,
    ) -> list[UsageSums]:
        if not version_days:
            return []
        if first_day is not None and end_day is not None and first_day >= end_day:
            return []
        where, params = _where(tenant_id, organization_id, user_id)
        if len(version_days) > 1:
            params["starts"] = list(version_days)
            params["indexes"] = list(range(len(version_days)))
        # Which blocks are built, and the question, in one snapshot.
        with self._query_slot(), self._snapshot() as con:
            sources = _sources(con, where, params, first_day, end_day, version_days[1:])
            # Grouped by key, then named: grouping by the names, which the runs do not hold,
            # would name every row first (an organization's whole history at 100M: 129 ms,
            # 416 that way).
            by_version = _version_keys(len(version_days))
            sql = f"""
                SELECT k.organization_id, k.user_id, {"" if by_version else "0 AS version,"}
                    s.* EXCLUDE (usage_key)
                FROM (
                    SELECT {", ".join(["r.usage_key", *by_version])},
                        {", ".join(_sum(column) for column in QUANTITIES)}
                    FROM ({_versioned(sources, len(version_days))}) r
                    GROUP BY ALL
                ) s {_naming_keys(params)}
                ORDER BY 1, 2, 3
            """
            with busy_when_out_of_memory():
                summed = con.execute(sql, params).fetchall()
        decimals = [3 + QUANTITIES.index(name) for name in _DECIMAL_QUANTITIES]
        found = []
        for row in summed:  # Python ints and decimal text, in QUANTITIES' order
            values = list(row)
            for index in decimals:
                values[index] = Decimal(values[index])
            found.append(UsageSums(*values))
        return found


def _prices(
    params: dict[str, Any], versions: Sequence[PriceVersion], fractions: _Fractions, integer: str
) -> list[str]:
    """The CTE ``prices`` where there are several versions: each version's index, voice
    rounding and prices in lowest terms, in ``integer``s; adds them (and the versions' first
    days) to ``params``. With one version, none: ``_priced`` writes its prices as literals."""
    if len(versions) == 1:
        return []
    params["indexes"] = list(range(len(versions)))
    params["per_started"] = [version.per_started_minute for version in versions]
    price_columns = []
    for key in PRICE_KEYS:
        params[key] = [str(price) for price in fractions.prices[key]]
        price_columns.append(f"unnest(${key})::{integer} AS {key}")
    params["starts"] = [version.first_day for version in versions]
    return [
        f"""
        prices AS (
            SELECT unnest($indexes) AS version, unnest($per_started) AS per_started_minute,
                {", ".join(price_columns)}
        )
        """
    ]


def _with(ctes: Sequence[str]) -> str:
    return f"WITH {', '.join(ctes)}" if ctes else ""


def _at_prices(value: str, version: PriceVersion, fractions: _Fractions, integer: str) -> str:
    """``value`` with the prices ``p`` it reads written as the literals of the one version:
    less to bind than a row of prices joined to every key, and nothing to join. At 100M events,
    the bench's per-user, organizations and overview statements took 0.7 to 2.1 ms less
    (medians of 25, alternated)."""

    def literal(found: re.Match[str]) -> str:
        if found[1] == "per_started_minute":
            return "true" if version.per_started_minute else "false"
        return f"'{fractions.prices[found[1]][0]}'::{integer}"

    return re.sub(r"\bp\.(\w+)\b", literal, value)


def _grouped(
    key: str,
    quantities: set[str],
    sources: Sequence[_Source],
    versions: Sequence[PriceVersion],
    fractions: _Fractions,
    integer: str,
) -> str:
    """The rows of ``sources`` summed per ``key`` (and version, where there are several): each
    of ``quantities`` (in ``integer``s; ``messaging_units``: the segments priced row by row),
    and the started minutes as zero where no version prices them."""
    per_started = any(version.per_started_minute for version in versions)
    sums = [
        _summed(name, integer)
        for name in QUANTITIES
        if name in quantities
        and name not in _SEGMENTS
        and (per_started or name != "voice_started_minutes")
    ]
    if "messaging_units" in quantities:
        sums.append(_priced_segments(fractions, integer))
    started = (
        f", 0::{integer} AS voice_started_minutes"
        if "voice_started_minutes" in quantities and not per_started
        else ""
    )
    return f"""
        SELECT g.*{started} FROM (
            SELECT {", ".join([f"r.{key}", *_version_keys(len(versions)), *sums])}
            FROM ({_versioned(sources, len(versions))}) r
            GROUP BY ALL
        ) g
    """


def _priced(
    keys: Sequence[str],
    figures: Sequence[tuple[str, str]],
    grouped: str,
    versions: Sequence[PriceVersion],
    fractions: _Fractions,
    integer: str,
) -> str:
    """Each ``keys`` of ``grouped`` (its sums ``s`` per keys, and version where there are
    several) with ``figures``, each (value over ``s`` and the prices ``p`` of its version,
    name), in ``integer``s: summed over the versions where there are several (at 100M events,
    summing the bench's one version again cost the organizations' answer 16 ms in the
    engine)."""
    columns = [*(f"s.{key}" for key in keys)]
    if len(versions) == 1:
        columns += (
            f"({_at_prices(value, versions[0], fractions, integer)})::{integer} AS {name}"
            for value, name in figures
        )
        return f"SELECT {', '.join(columns)} FROM ({grouped}) s"
    columns += (f"sum({value})::{integer} AS {name}" for value, name in figures)
    return f"""
        SELECT {", ".join(columns)} FROM ({grouped}) s JOIN prices p USING (version)
        GROUP BY {", ".join(f"s.{key}" for key in keys)}
    """


_Statement = Callable[
    [Sequence[_Source], dict[str, Any], Sequence[PriceVersion], _Fractions, str], str
]
"""A priced statement over the sources, the parameters it adds to, the rate card versions,
their prices in lowest terms and the integer type to compute in."""


def _keys_sql(
    sources: Sequence[_Source],
    params: dict[str, Any],
    versions: Sequence[PriceVersion],
    fractions: _Fractions,
    integer: str,
) -> str:
    """``priced_usage``'s rows of each key, in key order."""
    return f"""
        SELECT organization_id, user_id, [],
            {", ".join((*(n for n, _ in COUNTS), *MONEY_FIELDS))}
        FROM ({_priced_sql(sources, params, versions, fractions, integer)})
        ORDER BY organization_id, user_id
    """


def _priced_sql(
    sources: Sequence[_Source],
    params: dict[str, Any],
    versions: Sequence[PriceVersion],
    fractions: _Fractions,
    integer: str,
) -> str:
    """Each (organization, user) key's counts and rounded costs, in ``integer``s, from the
    per-day usage of ``sources``. Adds the prices to ``params`` (``_prices``)."""
    prices = _prices(params, versions, fractions, integer)
    # Counts and every component's quantities: a key's figures all need them.
    quantities = {source for _, source in COUNTS}.union(
        *(component.quantities for component in _COMPONENTS.values())
    )
    # New rows and runs alike carry the key's integer: grouped by it, then named.
    keyed = f"""
        SELECT k.organization_id, k.user_id, s.* EXCLUDE (usage_key)
        FROM ({_grouped("usage_key", quantities, sources, versions, fractions, integer)}) s
        {_naming_keys(params)}
    """
    # Each reported figure (a count, or a cost's numerator) as (expression, name).
    figures = [(f"s.{source}", name) for name, source in COUNTS] + [
        (component.numerator, f"n_{name}") for name, component in _COMPONENTS.items()
    ]
    exact = _priced(("organization_id", "user_id"), figures, keyed, versions, fractions, integer)
    rounded = ", ".join(fractions.rounded(name, integer) for name in MONEY_FIELDS)
    count_names = ", ".join(name for name, _ in COUNTS)
    return f"""
        {_with(prices)}
        SELECT organization_id, user_id, {count_names}, {rounded} FROM ({exact})
    """


def _split(fractions: _Fractions) -> tuple[list[str], list[str]]:
    """The costs to round per key (their lowest-terms denominator is not 1), and the others,
    whole numbers on every row (a phone rental of 2.99, say)."""
    rounded = [name for name in MONEY_FIELDS if fractions.denominators[name] > 1]
    return rounded, [name for name in MONEY_FIELDS if name not in rounded]


def _quantities(names: Sequence[str]) -> set[str]:
    return set[str]().union(*(_COMPONENTS[name].quantities for name in names))


def _key_costs(
    sources: Sequence[_Source],
    versions: Sequence[PriceVersion],
    fractions: _Fractions,
    integer: str,
) -> str:
    """Each usage key's rounded costs (of ``_split``'s first list), from only the quantities
    they price."""
    rounded, _ = _split(fractions)
    per_key = _grouped("usage_key", _quantities(rounded), sources, versions, fractions, integer)
    numerators = [(_COMPONENTS[name].numerator, f"n_{name}") for name in rounded]
    return f"""
        SELECT s.usage_key {"".join(f", {fractions.rounded(name, integer)}" for name in rounded)}
        FROM ({_priced(("usage_key",), numerators, per_key, versions, fractions, integer)}) s
    """


def _organization_sums(
    sources: Sequence[_Source],
    versions: Sequence[PriceVersion],
    fractions: _Fractions,
    integer: str,
) -> str:
    """Each organization's counts and whole costs (of ``_split``'s second list), summed
    straight from its rows: the sums of its keys' figures."""
    _, whole = _split(fractions)
    counted = {source for _, source in COUNTS} | _quantities(whole)
    per_organization = _grouped("organization_id", counted, sources, versions, fractions, integer)
    # A whole cost's numerator is the cost itself: its denominator is 1.
    sums = [(f"s.{source}", name) for name, source in COUNTS] + [
        (_COMPONENTS[name].numerator, name) for name in whole
    ]
    return _priced(("organization_id",), sums, per_organization, versions, fractions, integer)


def _per_organization_sql(
    sources: Sequence[_Source],
    params: dict[str, Any],
    versions: Sequence[PriceVersion],
    fractions: _Fractions,
    integer: str,
) -> str:
    """Each organization's figures: the sums of its keys' rounded figures, with its users with
    usage whom the directory does not count in it (at 100M events, listing all 99,583 users
    cost about a sixth of the answer, and those are almost always none). Their keys say so
    (``elsewhere``, see usage_keys.py): at 100M events, the bench's 30 days took 125 ms in the
    engine instead of 148 joining every key with the directory's users (medians of 25,
    alternated). Adds the prices to ``params`` (``_prices``).

    Only some costs need rounding per key (``_split``); the others and the counts are whole
    numbers on every row, so the sum of an organization's keys is the sum of its rows. So the
    keys are summed with only the quantities of the costs they round, and the organizations
    straight from the rows with the rest: at 100M events, the bench's 30 days took 130 ms in
    the engine instead of 152 (its card rounds 5 costs of 9; medians of 31, alternated)."""
    prices = _prices(params, versions, fractions, integer)
    rounded, _ = _split(fractions)
    organization_costs = f"""
        SELECT k.organization_id,
            coalesce(list(k.user_id) FILTER (WHERE k.elsewhere), []) AS users_elsewhere
            {"".join(f", sum(s.{name})::{integer} AS {name}" for name in rounded)}
        FROM ({_key_costs(sources, versions, fractions, integer)}) s {_naming_keys(params)}
        GROUP BY k.organization_id
    """
    figures = [name for name, _ in COUNTS] + list(MONEY_FIELDS)
    return f"""
        {_with(prices)}
        SELECT organization_id, '' AS user_id, coalesce(c.users_elsewhere, []),
            {", ".join(f"coalesce({name}, 0::{integer})" for name in figures)}
        FROM ({_organization_sums(sources, versions, fractions, integer)}) o
        FULL JOIN ({organization_costs}) c USING (organization_id)
        ORDER BY organization_id
    """


def _tenant_sql(
    sources: Sequence[_Source],
    params: dict[str, Any],
    versions: Sequence[PriceVersion],
    fractions: _Fractions,
    integer: str,
) -> str:
    """One row: the organizations with usage, the users with usage whom the directory puts in
    no organization, then the tenant's figures (the sums of its organizations'). Adds the prices
    to ``params``.

    The organizations' sums need no key named, nor any user looked up but those the
    directory does not place: at 100M events, the bench's 30 days took 134 ms in the engine,
    the organizations' statement 150 and the one before it 162 (medians of 21, alternated).
    Only keys that say their user is placed elsewhere are looked up: 117 ms instead of 160
    looking up every key's (medians of 25, alternated)."""
    prices = _prices(params, versions, fractions, integer)
    key_costs = f"key_costs AS MATERIALIZED ({_key_costs(sources, versions, fractions, integer)})"
    rounded, whole = _split(fractions)
    counts = [name for name, _ in COUNTS]
    return f"""
        {_with([*prices, key_costs])}
        SELECT o.organizations, coalesce(u.users, []),
            {", ".join(f"coalesce({name}, 0::{integer})" for name in (*counts, *MONEY_FIELDS))}
        FROM (
            SELECT coalesce(list(organization_id ORDER BY organization_id), []) AS organizations
                {"".join(f", sum({name})::{integer} AS {name}" for name in (*counts, *whole))}
            FROM ({_organization_sums(sources, versions, fractions, integer)})
        ) o, (
            -- The count keeps the list of columns whole where no cost is rounded per key.
            SELECT count(*) AS keys
                {"".join(f", sum({name})::{integer} AS {name}" for name in rounded)}
            FROM key_costs
        ) c, (
            SELECT list(DISTINCT k.user_id ORDER BY k.user_id) AS users
            FROM usage_keys k LEFT JOIN (
                SELECT user_id, organization_id FROM users WHERE tenant_id = $tenant
            ) d ON d.user_id = k.user_id
            WHERE k.tenant_id = $tenant AND k.elsewhere AND coalesce(d.organization_id, '') = ''
                AND k.usage_key IN (SELECT usage_key FROM key_costs)
        ) u
    """
