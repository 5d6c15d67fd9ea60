"""The users page's rows as CSV, with its "Table Columns Reference" columns in order."""

import csv
import io
from decimal import ROUND_HALF_UP, Decimal

from usagelens.analytics.schemas import UserAnalytics

USER_COLUMNS = (
    "User",
    "SMS Sent",
    "SMS Received",
    "MMS Sent",
    "MMS Received",
    "Voice Calls",
    "Voice Min",
    "API Requests",
    "Storage",
    "Phone Monthly",
    "Phones Purchased",
    "KB Count",
    "KB Min",
    "Cost",
)


def voice_minutes(seconds: int) -> Decimal:
    """``total_voice_seconds / 60``, rounded half-up to two decimals (21560 s: 359.33)."""
    return (Decimal(seconds) / 60).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(value: str) -> str:
    """A name as a spreadsheet shows it, never run: one starting like a formula gets a leading
    apostrophe (the usual CSV-injection guard)."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def user_csv_row(user: UserAnalytics) -> list[str]:
    costs = user.cost_breakdown
    values: list[object] = [
        text_cell(user.user_name),
        user.total_sms_sent,
        user.total_sms_received,
        user.total_mms_sent,
        user.total_mms_received,
        user.total_voice_calls,
        voice_minutes(user.total_voice_seconds),
        costs.api_requests_count,
        costs.api_storage_cost,
        costs.phone_rental_count,
        costs.phone_purchase_count,
        costs.kb_count,
        costs.kb_minutes,
        user.total_cost,
    ]
    return [str(value) for value in values]


def users_csv(users: list[UserAnalytics]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(USER_COLUMNS)
    for user in users:
        writer.writerow(user_csv_row(user))
    return out.getvalue()
