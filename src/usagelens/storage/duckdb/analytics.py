"""Seed 001's analytics from the DuckDB file: daily usage rollups summed per organization, user
and rate card version, and priced in the engine with exact 128-bit integers."""

from collections.abc import Sequence
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
    PricedUsage,
    PriceVersion,
    PricingOverflow,
    UsageSums,
)
from usagelens.pricing.ratecard import GB_HOURS_PER_GB_MONTH, PRICE_KEYS
from usagelens.storage.duckdb.compaction import USAGE_DAYS
from usagelens.storage.duckdb.database import Database

_DECIMAL_QUANTITIES = ("storage_gb_hours", "kb_minutes")


def _sum(column: str) -> str:
    if column in _DECIMAL_QUANTITIES:
        # As text: the driver's own DECIMAL conversion costs microseconds a value.
        return f"sum(r.{column})::VARCHAR"
    return f"sum(r.{column})::BIGINT"


# Each component's exact cost as an integer numerator over the rollup sums ``s`` (integers;
# decimals times 10^QUANTITY_SCALE) and the prices ``p`` (times 10^PRICE_SCALE), with the
# scale of that numerator and the divisor of the rule, as usagelens.analytics.costs prices them.
_NUMERATORS: dict[str, tuple[str, int, int]] = {
    "messaging_cost": (
        "s.sms_out_segments * p.sms_outbound + s.sms_in_segments * p.sms_inbound"
        " + s.mms_out_segments * p.mms_outbound + s.mms_in_segments * p.mms_inbound",
        PRICE_SCALE,
        1,
    ),
    "voice_cost": (
        "CASE WHEN p.per_started_minute THEN s.voice_started_minutes * 60 ELSE s.voice_seconds"
        " END * p.voice_per_minute",
        PRICE_SCALE,
        60,
    ),
    "api_request_cost": ("s.api_requests * p.api_requests_per_1000", PRICE_SCALE, 1000),
    "api_storage_cost": (
        "s.storage_gb_hours * p.storage_per_gb_month",
        PRICE_SCALE + QUANTITY_SCALE,
        GB_HOURS_PER_GB_MONTH,
    ),
    "phone_rental_cost": ("s.phone_rentals * p.phone_rental", PRICE_SCALE, 1),
    "phone_purchase_cost": ("s.phone_purchases * p.phone_purchase", PRICE_SCALE, 1),
    "kb_monthly_cost": ("s.kb_count * p.kb_monthly", PRICE_SCALE, 1),
    "kb_usage_cost": ("s.kb_minutes * p.kb_per_minute", PRICE_SCALE + QUANTITY_SCALE, 1),
    "brand_registration_cost": ("s.brand_registrations * p.brand_registration", PRICE_SCALE, 1),
}
assert tuple(_NUMERATORS) == MONEY_FIELDS


def _where(
    tenant_id: int,
    first_day: date | None,
    end_day: date | None,
    organization_id: str | None,
    user_id: str | None,
) -> tuple[list[str], dict[str, Any]]:
    """The conditions on ``rollup_usage_days`` rows of a range (None: unbounded) and key."""
    where = ["tenant_id = $tenant"]
    params: dict[str, Any] = {"tenant": tenant_id}
    if first_day is not None:
        where.append("day >= $first_day")
        params["first_day"] = first_day
    if end_day is not None:
        where.append("day < $end_day")
        params["end_day"] = end_day
    if organization_id is not None:
        where.append("organization_id = $organization")
        params["organization"] = organization_id
    if user_id is not None:
        where.append("user_id = $user")
        params["user"] = user_id
    return where, params


def _hugeint(value: int) -> str:
    return f"'{value}'::HUGEINT"


def _rounded(name: str, minor_exponent: int) -> str:
    """Half-up to the minor unit, in integers: floor((n * 10^e + D / 2) / D) with D the
    numerator's scale times the rule's divisor (even, so D / 2 is exact)."""
    _, scale, divisor = _NUMERATORS[name]
    whole = divisor * 10**scale
    return (
        f"(n_{name} * {_hugeint(10**minor_exponent)} + {_hugeint(whole // 2)}) "
        f"// {_hugeint(whole)} AS {name}"
    )


def _summed(column: str) -> str:
    if column in _DECIMAL_QUANTITIES:
        return f"(sum(r.{column}) * {10**QUANTITY_SCALE})::HUGEINT AS {column}"
    return f"sum(r.{column})::HUGEINT AS {column}"


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
        if first_day is not None and end_day is not None and first_day >= end_day:
            return []
        where, params = _where(tenant_id, first_day, end_day, organization_id, None)
        params["indexes"] = list(range(len(versions)))
        params["per_started"] = [version.per_started_minute for version in versions]
        price_columns = []
        for key in PRICE_KEYS:
            params[key] = [str(version.prices[key]) for version in versions]
            price_columns.append(f"unnest(${key})::HUGEINT AS {key}")
        if len(versions) > 1:
            params["starts"] = [version.first_day for version in versions]

        def versioned(table: str) -> str:
            rows = f"SELECT * FROM {table} WHERE {' AND '.join(where)}"
            if len(versions) == 1:
                return f"SELECT 0 AS version, r.* FROM ({rows}) r"
            return f"""
                SELECT v.version, r.* FROM ({rows}) r ASOF JOIN (
                    SELECT unnest($starts) AS version_start, unnest($indexes) AS version
                ) v ON r.day >= v.version_start
            """

        summed = ", ".join(_summed(name) for name in QUANTITIES)
        counts = ", ".join(f"sum(s.{source}) AS {name}" for name, source in COUNTS)
        numerators = ", ".join(
            f"sum({sql}) AS n_{name}" for name, (sql, _, _) in _NUMERATORS.items()
        )
        rounded = ", ".join(_rounded(name, minor_exponent) for name in MONEY_FIELDS)
        count_names = ", ".join(name for name, _ in COUNTS)
        keys = f"""
            WITH prices AS (
                SELECT unnest($indexes) AS version, unnest($per_started) AS per_started_minute,
                    {", ".join(price_columns)}
            ),
            sums AS (
                -- The runs grouped by their integer key, then named; the few new rows by name.
                SELECT k.organization_id, k.user_id, s.* EXCLUDE (usage_key) FROM (
                    SELECT r.usage_key, r.version, {summed}
                    FROM ({versioned(USAGE_DAYS.runs)}) r
                    GROUP BY ALL
                ) s JOIN usage_keys k ON k.tenant_id = $tenant AND k.usage_key = s.usage_key
                UNION ALL
                SELECT r.organization_id, r.user_id, r.version, {summed}
                FROM ({versioned(USAGE_DAYS.new)}) r
                GROUP BY ALL
            ),
            exact AS (
                SELECT s.organization_id, s.user_id, {counts}, {numerators}
                FROM sums s JOIN prices p USING (version)
                GROUP BY ALL
            )
            SELECT organization_id, user_id, {count_names}, {rounded} FROM exact
        """
        if per_organization:
            # Only the users the directory does not count in the organization are listed: at
            # 100M events, listing all 99,583 cost about a sixth of the answer.
            sql = f"""
                SELECT k.organization_id, '' AS user_id,
                    coalesce(list(k.user_id) FILTER (
                        WHERE k.user_id <> ''
                            AND d.organization_id IS DISTINCT FROM k.organization_id
                    ), []),
                    {", ".join(f"sum({name})" for name in (*(n for n, _ in COUNTS), *MONEY_FIELDS))}
                FROM ({keys}) k LEFT JOIN (
                    SELECT user_id, organization_id FROM users WHERE tenant_id = $tenant
                ) d ON d.user_id = k.user_id
                GROUP BY k.organization_id ORDER BY k.organization_id
            """
        else:
            sql = f"""
                SELECT organization_id, user_id, [],
                    {", ".join((*(n for n, _ in COUNTS), *MONEY_FIELDS))}
                FROM ({keys}) ORDER BY organization_id, user_id
            """
        try:
            found = self._rows(sql, params)
        except duckdb.OutOfRangeException as error:
            raise PricingOverflow(str(error)) from None
        split = 3 + len(COUNTS)
        return [
            PricedUsage(row[0], row[1], row[2], tuple(row[3:split]), tuple(row[split:]))
            for row in found
        ]

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
        where, params = _where(tenant_id, first_day, end_day, organization_id, user_id)
        params["starts"] = list(version_days)
        params["indexes"] = list(range(len(version_days)))
        sums = ", ".join(_sum(column) for column in QUANTITIES)
        rows = f"SELECT * FROM rollup_usage_days WHERE {' AND '.join(where)}"
        if len(version_days) == 1:
            # One version prices everything (its start is before any event): no join needed.
            del params["starts"], params["indexes"]
            sql = f"""
                SELECT r.organization_id, r.user_id, 0, {sums}
                FROM ({rows}) r
                GROUP BY ALL
                ORDER BY 1, 2
            """
        else:
            sql = f"""
                WITH versions AS (
                    SELECT unnest($starts) AS version_start, unnest($indexes) AS version
                )
                SELECT r.organization_id, r.user_id, v.version, {sums}
                FROM ({rows}) r ASOF JOIN versions v ON r.day >= v.version_start
                GROUP BY ALL
                ORDER BY 1, 2, 3
            """
        decimals = [3 + QUANTITIES.index(name) for name in _DECIMAL_QUANTITIES]
        found = []
        for row in self._rows(sql, params):  # Python ints and decimal text, in QUANTITIES' order
            values = list(row)
            for index in decimals:
                values[index] = Decimal(values[index])
            found.append(UsageSums(*values))
        return found
