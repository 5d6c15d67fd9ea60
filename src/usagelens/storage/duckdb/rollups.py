"""Rollup maintenance: the same SQL serves incremental ingest and a full rebuild.

Each statement aggregates a source relation with the raw events' columns (the new events of one
commit, or the whole events table) and appends additive partial sums; readers SUM by key.
"""

ROLLUP_TABLES = ("rollup_conversations_15m", "rollup_usage_15m", "rollup_user_months")

# Exact 15-minute UTC floor of a naive UTC timestamp.
_BUCKET_15M = "date_trunc('hour', time) + to_minutes(CAST(minute(time) // 15 * 15 AS BIGINT))"

_COUNTS: dict[str, str] = {
    "sms_out_messages": "type = 'sms' AND direction = 'outbound'",
    "sms_in_messages": "type = 'sms' AND direction = 'inbound'",
    "mms_out_messages": "type = 'mms' AND direction = 'outbound'",
    "mms_in_messages": "type = 'mms' AND direction = 'inbound'",
    "voice_calls": "type = 'voice_call'",
    "phone_rentals": "type = 'phone_rental'",
    "phone_purchases": "type = 'phone_purchase'",
    "brand_registrations": "type = 'brand_registration'",
    "kb_count": "type = 'knowledge_base'",
    "bot_messages": "type = 'bot_message'",
    "tickets": "type = 'ticket'",
}

# Rollup column -> (expression summed, filter).
_SUMS: dict[str, tuple[str, str]] = {
    "sms_out_segments": ("segments", _COUNTS["sms_out_messages"]),
    "sms_in_segments": ("segments", _COUNTS["sms_in_messages"]),
    "mms_out_segments": ("segments", _COUNTS["mms_out_messages"]),
    "mms_in_segments": ("segments", _COUNTS["mms_in_messages"]),
    "voice_seconds": ("seconds", "type = 'voice_call'"),
    "voice_started_minutes": ("(seconds + 59) // 60", "type = 'voice_call'"),
    "api_requests": ("requests", "type = 'api_request'"),
    "storage_gb_hours": ("gb_hours", "type = 'storage'"),
    "kb_minutes": ("minutes", "type = 'kb_usage'"),
}


def _usage_measures() -> str:
    counts = [f"count(*) FILTER (WHERE {cond}) AS {name}" for name, cond in _COUNTS.items()]
    sums = [
        f"coalesce(sum({expr}) FILTER (WHERE {cond}), 0) AS {name}"
        for name, (expr, cond) in _SUMS.items()
    ]
    return ",\n       ".join(counts + sums)


def rollup_statements(source: str) -> list[str]:
    """INSERT statements appending the rollups of every event in ``source``."""
    return [
        f"""
        INSERT INTO rollup_conversations_15m BY NAME
        SELECT tenant_id, {_BUCKET_15M} AS bucket, organization_id, agent_id, conversation_type,
               count(*) AS conversations, sum(seconds) AS seconds
        FROM {source}
        WHERE type = 'conversation'
        GROUP BY ALL
        """,
        f"""
        INSERT INTO rollup_usage_15m BY NAME
        SELECT tenant_id, {_BUCKET_15M} AS bucket, organization_id,
               coalesce(subject, '') AS user_id,
               {_usage_measures()}
        FROM {source}
        WHERE type <> 'conversation'
        GROUP BY tenant_id, bucket, organization_id, user_id
        """,
        f"""
        INSERT INTO rollup_user_months BY NAME
        SELECT e.tenant_id, m.month, e.subject AS user_id, e.organization_id,
               count(*) FILTER (WHERE e.type = 'bot_message') AS bot_messages,
               count(*) FILTER (WHERE e.type = 'ticket') AS tickets
        FROM {source} e
        ASOF JOIN tenant_month_starts m ON e.tenant_id = m.tenant_id AND e.time >= m.start_utc
        WHERE e.type IN ('bot_message', 'ticket')
        GROUP BY ALL
        """,
    ]


def _newer(field: str) -> str:
    """An event-derived value replaces the stored one unless that was set explicitly or is newer."""
    return (
        f"(NOT {field}_explicit AND excluded.{field}_time IS NOT NULL "
        f"AND ({field}_time IS NULL OR excluded.{field}_time >= {field}_time))"
    )


def _take_newer(*fields: str) -> str:
    """SET clauses for each field; ``organization`` names the ``organization_id`` value column."""
    clauses = []
    for field in fields:
        value = "organization_id" if field == "organization" else field
        clauses.append(
            f"{value} = CASE WHEN {_newer(field)} THEN excluded.{value} ELSE {value} END, "
            f"{field}_time = CASE WHEN {_newer(field)} THEN excluded.{field}_time "
            f"ELSE {field}_time END"
        )
    return ",\n            ".join(clauses)


def _latest(value: str) -> str:
    return (
        f"arg_max({value}, time) FILTER (WHERE {value} IS NOT NULL), "
        f"max(time) FILTER (WHERE {value} IS NOT NULL)"
    )


def directory_statements(source: str) -> list[str]:
    """Upserts that make every organization, user and agent named by events exist, with the
    names, emails and organizations of their latest events (explicit upserts win)."""
    return [
        f"""
        INSERT INTO organizations
            (tenant_id, organization_id, name, name_time, name_explicit, parent_id, created_at)
        SELECT tenant_id, organization_id, {_latest("organization_name")},
               false, NULL, now()::TIMESTAMP
        FROM {source}
        GROUP BY tenant_id, organization_id
        ON CONFLICT (tenant_id, organization_id) DO UPDATE SET
            {_take_newer("name")}
        """,
        f"""
        INSERT INTO users
            (tenant_id, user_id, name, name_time, name_explicit, email, email_time,
             email_explicit, organization_id, organization_time, organization_explicit, created_at)
        SELECT tenant_id, subject, {_latest("user_name")}, false, {_latest("user_email")}, false,
               {_latest("organization_id")}, false, now()::TIMESTAMP
        FROM {source}
        WHERE subject IS NOT NULL
        GROUP BY tenant_id, subject
        ON CONFLICT (tenant_id, user_id) DO UPDATE SET
            {_take_newer("name", "email", "organization")}
        """,
        f"""
        INSERT INTO agents
            (tenant_id, agent_id, name, name_time, name_explicit, organization_id,
             organization_time, organization_explicit, created_at)
        SELECT tenant_id, agent_id, {_latest("agent_name")}, false,
               {_latest("organization_id")}, false, now()::TIMESTAMP
        FROM {source}
        WHERE agent_id IS NOT NULL
        GROUP BY tenant_id, agent_id
        ON CONFLICT (tenant_id, agent_id) DO UPDATE SET
            {_take_newer("name", "organization")}
        """,
    ]
