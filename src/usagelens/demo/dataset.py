"""A realistic, deterministic demo dataset: a customer tree and a history of usage events.

Everything here is a pure function of its arguments (no I/O, no clock, no global random state):
the same ``(now, seed, days, scale)`` always yields the same events in the same order.

The shape of the data:

- three top-level accounts with subaccounts (one grandchild), users and agents (``demo_directory``);
- activity that follows business hours in ``America/New_York`` (quiet nights, weekends at about
  30% of weekdays, US holidays quiet), grows or shrinks per organization over the span, and has a
  few bursts (campaigns, incidents) per organization;
- Teams bot messages per end user and month, with some users at exactly one message in a month so
  that the monthly-active threshold of 2 matters, and helpdesk tickets raised by the bot;
- monthly billed items (phone number rentals, knowledge bases) on the 1st of each month at 12:00
  UTC (the 1st in every zone from UTC-11 to UTC+11), daily storage reports, and rare purchases and
  brand registrations;
- name fields (``organization_name``, ``user_name``/``user_email``, ``agent_name``) on a sample of
  events and always on the last event of each organization, user and agent, so the names known
  from events end up matching the directory (one organization carries an older name early on).

Volumes at ``scale=1.0`` are about 1,300 events per day (about 315,000 for 240 days); ``scale``
multiplies the activity streams linearly, while per-entity streams (daily storage, monthly
rentals and knowledge bases, purchases, brand registrations) do not depend on it.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

__all__ = [
    "DEMO_TIMEZONE",
    "DemoAgent",
    "DemoDirectory",
    "DemoOrganization",
    "DemoUser",
    "demo_directory",
    "demo_events",
    "estimate_event_count",
]

DEMO_TIMEZONE = "America/New_York"

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class DemoOrganization:
    organization_id: str
    name: str
    parent_id: str | None


@dataclass(frozen=True)
class DemoUser:
    user_id: str
    name: str
    email: str
    organization_id: str


@dataclass(frozen=True)
class DemoAgent:
    agent_id: str
    name: str
    organization_id: str


@dataclass(frozen=True)
class DemoDirectory:
    organizations: tuple[DemoOrganization, ...]
    users: tuple[DemoUser, ...]
    agents: tuple[DemoAgent, ...]


# --------------------------------------------------------------------------------------------
# Directory
# --------------------------------------------------------------------------------------------

# (organization_id, name, parent_id, email domain)
_ORGANIZATIONS: tuple[tuple[str, str, str | None, str], ...] = (
    ("org_acme", "Acme Corp", None, "acme.example"),
    ("org_acme_emea", "Acme EMEA", "org_acme", "acme.example"),
    ("org_acme_apac", "Acme APAC", "org_acme", "acme.example"),
    ("org_acme_latam", "Acme LATAM", "org_acme", "acme.example"),
    ("org_globex", "Globex", None, "globex.example"),
    ("org_globex_retail", "Globex Retail", "org_globex", "globex.example"),
    ("org_globex_health", "Globex Health", "org_globex", "globex.example"),
    ("org_globex_health_labs", "Globex Health Labs", "org_globex_health", "globex.example"),
    ("org_initech", "Initech", None, "initech.example"),
    ("org_initech_support", "Initech Support", "org_initech", "initech.example"),
    ("org_initech_sales", "Initech Sales", "org_initech", "initech.example"),
)

# An organization that was renamed: events in the first 30% of the span carry the old name.
_OLD_NAMES: dict[str, str] = {"org_initech_sales": "Initech Sales Team"}
_RENAME_AT = 0.3

_FIRST_NAMES: tuple[str, ...] = (
    "Jane", "John", "Maria", "David", "Aisha", "Wei", "Carlos", "Emma", "Liam", "Olivia",
    "Noah", "Sofia", "Mateo", "Priya", "Arjun", "Fatima", "Omar", "Chen", "Yuki", "Hiroshi",
    "Anna", "Lukas", "Chloe", "Lucas", "Amara", "Kwame", "Ingrid", "Sven", "Elena", "Marco",
    "Grace", "Daniel", "Hannah", "Samuel", "Leila", "Ravi", "Mei", "Diego", "Nora", "Ethan",
    "Zara", "Tomás", "Isabel", "Kofi", "Sarah", "Michael", "Laura", "James", "Ana", "Pedro",
)  # fmt: skip

_LAST_NAMES: tuple[str, ...] = (
    "Doe", "Smith", "Garcia", "Johnson", "Nguyen", "Chen", "Patel", "Kim", "Müller", "Rossi",
    "Okafor", "Hernandez", "Brown", "Silva", "Kowalski", "Tanaka", "Singh", "Ali", "Cohen",
    "Williams", "Martin", "Dubois", "Larsen", "Novak", "Haddad", "Mensah", "Lopez", "Fischer",
    "O'Brien", "Murphy", "Schmidt", "Ivanova", "Sato", "Khan", "Costa", "Moreau", "Jensen",
    "Walker", "Young", "Reyes", "Park", "Adeyemi", "Bianchi", "Andersson", "Taylor", "Wright",
)  # fmt: skip

_CONVERSATION_TYPES: tuple[str, ...] = ("inbound_call", "outbound_call", "web_chat", "sms_chat")
_VOICE_TYPES = np.array([True, True, False, False])

# Agent name -> share of each conversation type (in _CONVERSATION_TYPES order).
_AGENT_TEMPLATES: dict[str, tuple[float, float, float, float]] = {
    "Support Bot": (0.0, 0.0, 0.6, 0.4),
    "Sales Voice Agent": (0.25, 0.75, 0.0, 0.0),
    "Front Desk Voice Agent": (1.0, 0.0, 0.0, 0.0),
    "Appointment Scheduler": (0.2, 0.4, 0.0, 0.4),
    "Billing Assistant": (0.5, 0.0, 0.5, 0.0),
    "Lead Qualifier": (0.0, 0.3, 0.5, 0.2),
    "IT Helpdesk Bot": (0.0, 0.0, 1.0, 0.0),
    "Order Status Bot": (0.0, 0.0, 0.4, 0.6),
    "After-Hours Voice Agent": (0.9, 0.1, 0.0, 0.0),
    "Survey Caller": (0.0, 1.0, 0.0, 0.0),
    "Onboarding Assistant": (0.0, 0.0, 0.7, 0.3),
    "Collections Voice Agent": (0.2, 0.8, 0.0, 0.0),
    "Recruiting Screener": (0.0, 0.5, 0.5, 0.0),
    "Returns Bot": (0.0, 0.0, 0.5, 0.5),
}

_DIRECTORY_STREAM = 1
_EVENTS_STREAM = 2


def _rng(seed: int, stream: int) -> np.random.Generator:
    if seed < 0:
        raise ValueError("seed must be a non-negative integer")
    return np.random.default_rng([seed, stream])


def _email_part(text: str) -> str:
    table = str.maketrans({"ü": "u", "á": "a", "é": "e", "í": "i", "ó": "o", "ñ": "n"})
    return "".join(c for c in text.lower().translate(table) if c.isalnum())


def demo_directory(seed: int = 7) -> DemoDirectory:
    """The demo customer tree: 3 accounts, 8 subaccounts (one a grandchild), users and agents."""
    rng = _rng(seed, _DIRECTORY_STREAM)
    organizations = tuple(
        DemoOrganization(organization_id=oid, name=name, parent_id=parent)
        for oid, name, parent, _domain in _ORGANIZATIONS
    )
    users: list[DemoUser] = []
    agents: list[DemoAgent] = []
    used_people: set[tuple[str, str]] = set()
    used_emails: set[str] = set()
    templates = list(_AGENT_TEMPLATES)
    tree_agent_names: dict[str, set[str]] = {}
    for oid, _name, _parent, domain in _ORGANIZATIONS:
        for _ in range(int(rng.integers(8, 26))):
            while True:
                first = _FIRST_NAMES[int(rng.integers(len(_FIRST_NAMES)))]
                last = _LAST_NAMES[int(rng.integers(len(_LAST_NAMES)))]
                if (first, last) not in used_people:
                    used_people.add((first, last))
                    break
            local = f"{_email_part(first)}.{_email_part(last)}"
            email = f"{local}@{domain}"
            suffix = 2
            while email in used_emails:
                email = f"{local}{suffix}@{domain}"
                suffix += 1
            used_emails.add(email)
            users.append(
                DemoUser(
                    user_id=f"usr_{len(users) + 1:04d}",
                    name=f"{first} {last}",
                    email=email,
                    organization_id=oid,
                )
            )
        # Agent names are unique inside each top-level account's tree.
        taken = tree_agent_names.setdefault(domain, set())
        free = [t for t in templates if t not in taken]
        count = int(rng.integers(1, 4))
        for index in rng.choice(len(free), size=count, replace=False):
            name = free[int(index)]
            taken.add(name)
            agents.append(
                DemoAgent(agent_id=f"agt_{len(agents) + 1:04d}", name=name, organization_id=oid)
            )
    return DemoDirectory(organizations=organizations, users=tuple(users), agents=tuple(agents))


# --------------------------------------------------------------------------------------------
# Volumes (per day, all organizations together, at scale 1.0)
# --------------------------------------------------------------------------------------------

_DAILY: dict[str, float] = {
    "conversation": 400.0,
    "sms": 300.0,
    "mms": 25.0,
    "voice_call": 80.0,
    "api_request": 100.0,
    "kb_usage": 40.0,
}
_BOT_DAILY = 340.0
_TICKET_PER_BOT_MESSAGE = 0.045

# Share of each activity stream that ignores the daily/weekly cycle (machine traffic, night calls).
_FLAT_SHARE: dict[str, float] = {
    "conversation": 0.15,
    "sms": 0.1,
    "mms": 0.1,
    "voice_call": 0.08,
    "api_request": 0.35,
    "kb_usage": 0.1,
}
# Probability that an event of a stream names a user (subject).
_SUBJECT_SHARE: dict[str, float] = {
    "conversation": 0.6,
    "sms": 0.97,
    "mms": 0.97,
    "voice_call": 0.95,
    "api_request": 0.8,
    "kb_usage": 0.85,
}

# Expected entity counts, for estimate_event_count.
_MEAN_NUMBERS_PER_ORG = 2.5
_MEAN_KBS_PER_ORG = 1.5
_NEW_NUMBER_SHARE = 0.2
_NEW_KB_SHARE = 0.2  # of the second KB of an organization
_BRAND_SHARE = 0.35

# Local hour-of-day and day-of-week weights (America/New_York).
_HOURLY = np.array(
    [0.08, 0.05, 0.04, 0.04, 0.05, 0.1, 0.25, 0.5, 0.9, 1.3, 1.5, 1.5,
     1.35, 1.45, 1.5, 1.4, 1.2, 0.95, 0.7, 0.55, 0.45, 0.35, 0.22, 0.12]
)  # fmt: skip
_WEEKDAY = np.array([1.05, 1.0, 1.0, 1.0, 0.9, 0.3, 0.28])

_TYPE_CODES: dict[str, int] = {
    name: code
    for code, name in enumerate(
        (
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
    )
}
_TYPE_NAMES: tuple[str, ...] = tuple(_TYPE_CODES)

_SECOND = 1_000_000
_HOUR = 3600 * _SECOND
_DAY = 24 * _HOUR
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_FLAG_ORG_NAME = 1
_FLAG_USER_NAME = 2
_FLAG_AGENT_NAME = 4
_FLAG_OMIT_DEFAULT = 8
_FLAG_TICKET_URL = 16


def _months_between(days: int) -> float:
    return days / 30.4375


def estimate_event_count(days: int = 240, scale: float = 1.0) -> int:
    """About how many events ``demo_events(now, seed, days, scale)`` yields (for a progress bar)."""
    _check_args(days, scale)
    orgs = len(_ORGANIZATIONS)
    activity = (sum(_DAILY.values()) + _BOT_DAILY * (1 + _TICKET_PER_BOT_MESSAGE)) * days * scale
    storage = orgs * days
    months = _months_between(days)
    monthly = orgs * (_MEAN_NUMBERS_PER_ORG + _MEAN_KBS_PER_ORG) * max(months - 0.5, 0.0)
    rare = orgs * (_MEAN_NUMBERS_PER_ORG * _NEW_NUMBER_SHARE + _BRAND_SHARE)
    return round(activity + storage + monthly + rare)


def _check_args(days: int, scale: float) -> None:
    if days < 1:
        raise ValueError("days must be at least 1")
    if not (scale >= 0.0 and np.isfinite(scale)):
        raise ValueError("scale must be a finite non-negative number")


# --------------------------------------------------------------------------------------------
# Time grid
# --------------------------------------------------------------------------------------------


def _us(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _holiday_factor(day: date) -> float:
    fixed = {(1, 1): 0.3, (7, 4): 0.35, (12, 24): 0.6, (12, 25): 0.25, (12, 31): 0.7}
    if (day.month, day.day) in fixed:
        return fixed[(day.month, day.day)]
    if day in (
        _nth_weekday(day.year, 11, 3, 4),  # Thanksgiving
        _last_weekday(day.year, 5, 0),  # Memorial Day
        _nth_weekday(day.year, 9, 0, 1),  # Labor Day
    ):
        return 0.35
    return 1.0


@dataclass(frozen=True)
class _Grid:
    """Hour cells of the span, clipped to [start, now]."""

    start: IntArray  # first instant of each cell (µs since the epoch)
    length: IntArray  # µs
    shape: FloatArray  # activity weight of the cell (daily, weekly, holiday cycles, times length)
    month: IntArray  # index of the cell's local (America/New_York) month
    month_coverage: FloatArray  # share of each local month inside the span
    position: FloatArray  # 0..1 through the span


def _grid(start_us: int, now_us: int) -> _Grid:
    zone = ZoneInfo(DEMO_TIMEZONE)
    hour0 = start_us // _HOUR * _HOUR
    bounds = np.arange(hour0, now_us, _HOUR, dtype=np.int64)
    cell_start = np.maximum(bounds, start_us)
    cell_end = np.minimum(bounds + _HOUR, now_us)
    keep = cell_end > cell_start
    bounds, cell_start, cell_end = bounds[keep], cell_start[keep], cell_end[keep]
    length = cell_end - cell_start
    weight = np.empty(len(bounds))
    month_key = np.empty(len(bounds), dtype=np.int64)
    holiday: dict[date, float] = {}
    for i, b in enumerate(bounds.tolist()):
        local = (_EPOCH + timedelta(microseconds=b)).astimezone(zone)
        day = local.date()
        if day not in holiday:
            holiday[day] = _holiday_factor(day) * _WEEKDAY[day.weekday()]
        weight[i] = _HOURLY[local.hour] * holiday[day]
        month_key[i] = local.year * 12 + local.month - 1
    keys, month = np.unique(month_key, return_inverse=True)
    coverage = np.empty(len(keys))
    for m, key in enumerate(keys.tolist()):
        year, month0 = divmod(key, 12)
        first = datetime(year, month0 + 1, 1, tzinfo=zone)
        nxt = datetime(year + (month0 + 1) // 12, (month0 + 1) % 12 + 1, 1, tzinfo=zone)
        full = _us(nxt) - _us(first)
        coverage[m] = min(1.0, float(length[month == m].sum()) / full)
    position = ((cell_start + length / 2) - start_us) / max(now_us - start_us, 1)
    return _Grid(
        start=cell_start,
        length=length,
        shape=weight * (length / _HOUR),
        month=month.astype(np.int64),
        month_coverage=coverage,
        position=position,
    )


# --------------------------------------------------------------------------------------------
# Event columns
# --------------------------------------------------------------------------------------------


class _Columns:
    """Column batches of events before the global time sort."""

    _INT_COLUMNS = ("t", "kind", "org", "user", "agent", "i1", "i2", "flags")

    def __init__(self) -> None:
        self._ints: dict[str, list[IntArray]] = {name: [] for name in self._INT_COLUMNS}
        self._floats: list[FloatArray] = []

    def add(
        self,
        kind: str,
        t: IntArray,
        org: IntArray | int,
        user: IntArray | int = -1,
        agent: IntArray | int = -1,
        i1: IntArray | int = 0,
        i2: IntArray | int = 0,
        f1: FloatArray | float = 0.0,
        flags: IntArray | int = 0,
    ) -> None:
        n = len(t)
        if n == 0:
            return
        values: dict[str, IntArray | int] = {
            "t": t,
            "kind": _TYPE_CODES[kind],
            "org": org,
            "user": user,
            "agent": agent,
            "i1": i1,
            "i2": i2,
            "flags": flags,
        }
        for name, value in values.items():
            column: IntArray = np.broadcast_to(np.asarray(value, dtype=np.int64), (n,))
            self._ints[name].append(column)
        self._floats.append(np.broadcast_to(np.asarray(f1, dtype=np.float64), (n,)))

    def ints(self, name: str) -> IntArray:
        parts = self._ints[name]
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)

    def floats(self) -> FloatArray:
        parts = self._floats
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.float64)


def _lognormal(rng: np.random.Generator, median: float, sigma: float, size: int) -> FloatArray:
    return median * np.exp(sigma * rng.standard_normal(size))


def _times_in_cells(rng: np.random.Generator, grid: _Grid, cells: IntArray) -> IntArray:
    offsets = np.floor(rng.random(len(cells)) * grid.length[cells]).astype(np.int64)
    result: IntArray = grid.start[cells] + offsets
    return result


def _sample_cells(rng: np.random.Generator, weight: FloatArray, size: int) -> IntArray:
    if size == 0:
        return np.empty(0, dtype=np.int64)
    total = float(weight.sum())
    cumulative = np.cumsum(weight)
    picks = np.searchsorted(cumulative, rng.random(size) * total, side="right")
    result: IntArray = np.minimum(picks, len(weight) - 1).astype(np.int64)
    return result


@dataclass(frozen=True)
class _People:
    """Per organization: its users (global indices), their activity weights and join instants."""

    users: list[IntArray]
    weights: list[FloatArray]
    founders: list[IntArray]
    founder_weights: list[FloatArray]
    join_us: IntArray  # per user (global index)


def _pick_users(
    rng: np.random.Generator, people: _People, org: int, t: IntArray, subject_share: float
) -> IntArray:
    n = len(t)
    users = people.users[org][_sample_cells(rng, people.weights[org], n)]
    late = t < people.join_us[users]
    if late.any():
        founders = people.founders[org]
        users[late] = founders[_sample_cells(rng, people.founder_weights[org], int(late.sum()))]
    users[rng.random(n) >= subject_share] = -1
    return users


def _last_index_per_key(keys: IntArray) -> IntArray:
    """Index of the last element of each distinct non-negative key."""
    n = len(keys)
    reversed_keys = keys[::-1]
    values, first_in_reversed = np.unique(reversed_keys, return_index=True)
    last = (n - 1 - first_in_reversed)[values >= 0]
    return last.astype(np.int64)


def demo_events(
    now: datetime, seed: int = 7, days: int = 240, scale: float = 1.0
) -> Iterator[dict[str, object]]:
    """Yield the demo events of the ``days`` before ``now`` in non-decreasing time order.

    Each event is a CloudEvents dict (``id``, ``type``, ``time``, optional ``subject``, ``data``)
    that validates against ``usagelens.ingest.schemas.EVENT``; it has no ``tenant`` attribute.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    _check_args(days, scale)
    directory = demo_directory(seed)
    return _generate(directory, _us(now), seed, days, scale)


def _generate(
    directory: DemoDirectory, now_us: int, seed: int, days: int, scale: float
) -> Iterator[dict[str, object]]:
    rng = _rng(seed, _EVENTS_STREAM)
    start_us = now_us - days * _DAY
    grid = _grid(start_us, now_us)
    n_cells = len(grid.start)
    n_months = len(grid.month_coverage)

    orgs = directory.organizations
    n_orgs = len(orgs)
    org_index = {o.organization_id: i for i, o in enumerate(orgs)}
    user_org = np.array([org_index[u.organization_id] for u in directory.users], dtype=np.int64)
    n_users = len(directory.users)
    agent_org = np.array([org_index[a.organization_id] for a in directory.agents], dtype=np.int64)

    # Organization intensity over the span: size, trend and bursts on top of the cycles.
    top_level = np.array([o.parent_id is None for o in orgs])
    org_size = _lognormal(rng, 1.0, 0.6, n_orgs) * np.where(top_level, 1.6, 1.0)
    trend = rng.uniform(-0.25, 0.9, n_orgs)
    org_shape: list[FloatArray] = []
    org_flat: list[FloatArray] = []
    for o in range(n_orgs):
        growth = np.exp(trend[o] * grid.position)
        burst = np.ones(n_cells)
        for _ in range(int(rng.poisson(days / 60)) + 1):
            at = int(rng.integers(n_cells))
            width = int(rng.integers(2, 11))
            burst[at : at + width] += rng.uniform(1.0, 4.0)
        org_shape.append(grid.shape * growth * burst)
        org_flat.append(grid.length / _HOUR * growth)

    # People: activity weights, founders and joins (users join at the start of a local month).
    user_weight = _lognormal(rng, 1.0, 1.0, n_users)
    join_month = np.where(
        rng.random(n_users) < 0.72, 0, rng.integers(0, max(n_months, 1), n_users)
    ).astype(np.int64)
    users_by_org = [np.flatnonzero(user_org == o).astype(np.int64) for o in range(n_orgs)]
    for members in users_by_org:
        join_month[members[:3]] = 0  # every organization has founders
    month_first_cell = np.searchsorted(grid.month, np.arange(n_months))
    join_us = np.where(join_month == 0, start_us, grid.start[month_first_cell[join_month]])
    founders = [m[join_month[m] == 0] for m in users_by_org]
    people = _People(
        users=users_by_org,
        weights=[user_weight[m] for m in users_by_org],
        founders=founders,
        founder_weights=[user_weight[f] for f in founders],
        join_us=join_us.astype(np.int64),
    )
    admin = np.array([f[0] for f in founders], dtype=np.int64)

    # Knowledge bases: 1-2 per organization, the second one sometimes created during the span.
    kb_org_list: list[int] = []
    kb_created: list[int] = []
    for o in range(n_orgs):
        for k in range(1 if rng.random() < 0.5 else 2):
            kb_org_list.append(o)
            if k > 0 and rng.random() < _NEW_KB_SHARE * 2:
                kb_cell = _sample_cells(rng, org_shape[o], 1)
                kb_created.append(int(_times_in_cells(rng, grid, kb_cell)[0]))
            else:
                kb_created.append(start_us - _DAY)
    kb_org = np.array(kb_org_list, dtype=np.int64)
    kb_created_us = np.array(kb_created, dtype=np.int64)
    kb_owner = np.array(
        [founders[o][int(rng.integers(len(founders[o])))] for o in kb_org_list], dtype=np.int64
    )
    kb_weight = _lognormal(rng, 1.0, 0.5, len(kb_org_list))
    kb_ids = [f"kb_{i + 1:04d}" for i in range(len(kb_org_list))]

    cols = _Columns()

    # Activity streams, Poisson per hour cell.
    agent_mix = np.array([_AGENT_TEMPLATES[a.name] for a in directory.agents])
    agent_weight = _lognormal(rng, 1.0, 0.5, len(directory.agents))
    for kind, daily in _DAILY.items():
        share = org_size * _lognormal(rng, 1.0, 0.5, n_orgs)
        share /= share.sum()
        flat = _FLAT_SHARE[kind]
        for o in range(n_orgs):
            shape = org_shape[o] / org_shape[o].sum()
            lam = (1 - flat) * shape + flat * org_flat[o] / org_flat[o].sum()
            lam *= daily * days * scale * share[o]
            counts = rng.poisson(lam)
            cells = np.repeat(np.arange(n_cells, dtype=np.int64), counts)
            t = _times_in_cells(rng, grid, cells)
            n = len(t)
            if n == 0:
                continue
            users = _pick_users(rng, people, o, t, _SUBJECT_SHARE[kind])
            if kind == "conversation":
                mine = np.flatnonzero(agent_org == o)
                agents = mine[_sample_cells(rng, agent_weight[mine], n)]
                mix = np.cumsum(agent_mix[agents], axis=1)
                ctype = (rng.random((n, 1)) * mix[:, -1:] >= mix).sum(axis=1)
                ctype = np.minimum(ctype, len(_CONVERSATION_TYPES) - 1)
                voice = _VOICE_TYPES[ctype]
                seconds = np.where(
                    voice, _lognormal(rng, 170, 0.7, n), _lognormal(rng, 260, 0.8, n)
                )
                seconds = np.clip(np.rint(seconds), 20, 900).astype(np.int64)
                cols.add(kind, t, o, users, agents, i1=seconds, i2=ctype.astype(np.int64))
            elif kind in ("sms", "mms"):
                outbound = 0.68 if kind == "sms" else 0.6
                direction = (rng.random(n) >= outbound).astype(np.int64)
                if kind == "sms":
                    segments = rng.choice(4, size=n, p=[0.72, 0.18, 0.07, 0.03]) + 1
                    omit = (segments == 1) & (rng.random(n) < 0.15)
                else:
                    segments = np.ones(n, dtype=np.int64)
                    omit = np.ones(n, dtype=bool)
                flags = np.where(omit, _FLAG_OMIT_DEFAULT, 0)
                cols.add(kind, t, o, users, i1=segments, i2=direction, flags=flags)
            elif kind == "voice_call":
                direction = (rng.random(n) >= 0.55).astype(np.int64)
                seconds = np.clip(np.rint(_lognormal(rng, 110, 0.9, n)), 3, 3600)
                seconds[rng.random(n) < 0.04] = 0  # not answered
                cols.add(kind, t, o, users, i1=seconds.astype(np.int64), i2=direction)
            elif kind == "api_request":
                count = np.clip(np.rint(_lognormal(rng, 35, 1.1, n)), 1, 500).astype(np.int64)
                omit = (count == 1) & (rng.random(n) < 0.5)
                cols.add(kind, t, o, users, i1=count, flags=np.where(omit, _FLAG_OMIT_DEFAULT, 0))
            else:  # kb_usage
                mine = np.flatnonzero(kb_org == o)
                kbs = mine[_sample_cells(rng, kb_weight[mine], n)]
                kbs = np.where(t < kb_created_us[kbs], mine[0], kbs)
                minutes = np.round(np.clip(_lognormal(rng, 1.8, 0.8, n), 0.05, 45.0), 2).astype(
                    np.float64
                )
                cols.add(kind, t, o, users, i1=kbs, f1=minutes)

    # Teams bot messages: per user and local month, in sessions of a few messages.
    persona = rng.choice(4, size=n_users, p=[0.3, 0.35, 0.25, 0.1])  # power/regular/occ./none
    persona_base = np.where(persona == 0, _lognormal(rng, 5.0, 0.5, n_users), 0.0)
    persona_base = np.where(persona == 1, _lognormal(rng, 1.0, 0.5, n_users), persona_base)
    churn_month = np.where(
        rng.random(n_users) < 0.08, rng.integers(0, max(n_months, 1), n_users), n_months
    )
    month_mass = np.zeros((n_orgs, n_months))
    for o in range(n_orgs):
        month_mass[o] = np.bincount(grid.month, weights=org_shape[o], minlength=n_months)
        month_mass[o] /= month_mass[o].sum()
    months = np.arange(n_months)
    active = (months[None, :] >= join_month[:, None]) & (months[None, :] <= churn_month[:, None])
    occasional = (persona == 2)[:, None] & active
    # Thinned at small scales so that scale 0 means no activity at all.
    presence = grid.month_coverage[None, :] * min(1.0, scale * 10)
    occasional &= rng.random((n_users, n_months)) < presence
    occasional_counts = np.where(
        occasional, rng.choice(4, size=(n_users, n_months), p=[0.4, 0.38, 0.13, 0.09]), 0
    )
    expected_occasional = float(occasional.sum()) * 0.91
    weight = persona_base[:, None] * month_mass[user_org] * active
    target = max(_BOT_DAILY * days * scale - expected_occasional, 0.0)
    total_weight = float(weight.sum())
    lam = weight * (target / total_weight) if total_weight > 0 else weight
    bot_counts = (rng.poisson(lam) + occasional_counts).astype(np.int64)
    month_cells = [np.flatnonzero(grid.month == m) for m in range(n_months)]
    bot_t_parts: list[IntArray] = []
    bot_user_parts: list[IntArray] = []
    for o in range(n_orgs):
        members = users_by_org[o]
        for m in range(n_months):
            counts = bot_counts[members, m]
            if not counts.any():
                continue
            per_session = _lognormal(rng, 3.0, 0.4, len(members))
            sessions = np.clip(np.rint(counts / per_session), 1, counts).astype(np.int64)
            cells = month_cells[m][_sample_cells(rng, org_shape[o][month_cells[m]], sessions.sum())]
            session_t = _times_in_cells(rng, grid, cells)
            first_session = np.cumsum(sessions) - sessions
            message_user = np.repeat(np.arange(len(members)), counts)
            message_session = first_session[message_user] + np.floor(
                rng.random(len(message_user)) * sessions[message_user]
            ).astype(np.int64)
            message_session.sort()
            starts = np.flatnonzero(np.r_[True, message_session[1:] != message_session[:-1]])
            rank = np.arange(len(message_session)) - np.repeat(
                starts, np.diff(np.r_[starts, len(message_session)])
            )
            delay = rank * 40 * _SECOND + (rank > 0) * rng.integers(0, 30 * _SECOND, len(rank))
            session_user = np.repeat(np.arange(len(members)), sessions)
            bot_t_parts.append(session_t[message_session] + delay)
            bot_user_parts.append(members[session_user[message_session]])
    if bot_t_parts:
        bot_t = np.minimum(np.concatenate(bot_t_parts), now_us)
        bot_user = np.concatenate(bot_user_parts)
    else:
        bot_t = np.empty(0, dtype=np.int64)
        bot_user = np.empty(0, dtype=np.int64)
    cols.add("bot_message", bot_t, user_org[bot_user], bot_user)

    # Tickets raised by the bot, shortly after one of the user's messages.
    raised = rng.random(len(bot_t)) < _TICKET_PER_BOT_MESSAGE
    ticket_t = np.minimum(
        bot_t[raised] + rng.integers(5 * _SECOND, 120 * _SECOND, raised.sum()), now_us
    )
    ticket_user = bot_user[raised]
    order = np.argsort(ticket_t, kind="stable")
    ticket_t, ticket_user = ticket_t[order], ticket_user[order]
    ticket_no = 1001 + np.arange(len(ticket_t), dtype=np.int64)
    with_url = rng.random(len(ticket_t)) < 0.88
    cols.add(
        "ticket",
        ticket_t,
        user_org[ticket_user],
        ticket_user,
        i1=ticket_no,
        flags=np.where(with_url, _FLAG_TICKET_URL, 0),
    )

    # Daily storage reports at 06:00 UTC for the previous day.
    day0 = start_us // _DAY * _DAY
    report_days = np.arange(day0, now_us + _DAY, _DAY, dtype=np.int64) + 6 * _HOUR
    storage_subject = rng.random(n_orgs) < 0.7
    for o in range(n_orgs):
        t = report_days + o * 11 * _SECOND
        t = t[(t >= start_us) & (t <= now_us)]
        position = (t - start_us) / (days * _DAY)
        gb = _lognormal(rng, 20.0, 0.8, 1)[0] * (1 + rng.uniform(0.1, 0.9) * position)
        gb *= 1 + 0.02 * rng.standard_normal(len(t))
        gb_hours = np.round(gb * 24, 3)
        cols.add("storage", t, o, int(admin[o]) if storage_subject[o] else -1, f1=gb_hours)

    # Monthly billed items on the 1st of each month, 12:00 UTC.
    first = datetime.fromtimestamp(start_us / _SECOND, tz=UTC)
    firsts: list[int] = []
    year, month = first.year, first.month
    while True:
        moment = _us(datetime(year, month, 1, 12, tzinfo=UTC))
        if moment > now_us:
            break
        if moment >= start_us:
            firsts.append(moment)
        year, month = year + month // 12, month % 12 + 1
    month_firsts = np.array(firsts, dtype=np.int64)

    # Phone numbers: rented every month; some bought during the span (a purchase event).
    numbers: list[str] = []
    number_org: list[int] = []
    number_owner: list[int] = []
    number_bought: list[int] = []
    for o, org in enumerate(orgs):
        for _ in range(int(rng.integers(1, 5))):
            serial = len(numbers)
            if "emea" in org.organization_id:
                numbers.append(f"+4420794600{serial:02d}")
            else:
                area = (212, 415, 646, 312, 617, 305)[serial % 6]
                numbers.append(f"+1{area}55501{serial:02d}")
            number_org.append(o)
            number_owner.append(int(founders[o][int(rng.integers(len(founders[o])))]))
            number_bought.append(-1)
    new_numbers = np.flatnonzero(rng.random(len(numbers)) < _NEW_NUMBER_SHARE).tolist()
    if not new_numbers:
        new_numbers = [len(numbers) - 1]
    for index in new_numbers:
        o = number_org[index]
        picked = _sample_cells(rng, org_shape[o], 1)
        number_bought[index] = int(_times_in_cells(rng, grid, picked)[0])
    for index, number_org_index in enumerate(number_org):
        bought = number_bought[index]
        if bought >= 0:
            cols.add(
                "phone_purchase",
                np.array([bought]),
                number_org_index,
                number_owner[index],
                i1=index,
            )
        t = month_firsts[month_firsts > bought] + index * 3 * _SECOND
        t = t[t <= now_us]
        cols.add("phone_rental", t, number_org_index, number_owner[index], i1=index)

    for index, o in enumerate(kb_org_list):
        t = month_firsts[month_firsts > kb_created_us[index]] + (index * 3 + 1) * _SECOND
        t = t[t <= now_us]
        cols.add("knowledge_base", t, o, int(kb_owner[index]), i1=index)

    # Brand registrations (organization-level, no subject): rare.
    brand_orgs = np.flatnonzero(rng.random(n_orgs) < _BRAND_SHARE).tolist()
    if not brand_orgs:
        brand_orgs = [int(rng.integers(n_orgs))]
    alphabet = np.array(list("ABCDEFGHJKLMNPQRSTUVWXYZ23456789"))
    brand_ids: list[str] = []
    for o in brand_orgs:
        picked = _sample_cells(rng, org_shape[o], 1)
        t = _times_in_cells(rng, grid, picked)
        brand_ids.append("B" + "".join(rng.choice(alphabet, 6).tolist()))
        brand_flags = _FLAG_ORG_NAME if rng.random() < 0.5 else 0
        cols.add("brand_registration", t, o, i1=len(brand_ids) - 1, flags=brand_flags)

    # Global time order (stable, so ties keep the deterministic construction order).
    t_all = cols.ints("t")
    order = np.argsort(t_all, kind="stable")
    t_all = t_all[order]
    kind_all = cols.ints("kind")[order]
    org_all = cols.ints("org")[order]
    user_all = cols.ints("user")[order]
    agent_all = cols.ints("agent")[order]
    flags_all = cols.ints("flags")[order]
    n = len(t_all)

    # Names on a sample of events, and on the last event of each organization, user and agent.
    org_named = rng.random(n) < 0.05
    org_named[_last_index_per_key(org_all)] = True
    user_named = (rng.random(n) < 0.04) & (user_all >= 0)
    user_named[_last_index_per_key(user_all)] = True
    agent_named = (rng.random(n) < 0.1) & (agent_all >= 0)
    agent_named[_last_index_per_key(agent_all)] = True
    flags_all |= np.where(org_named, _FLAG_ORG_NAME, 0)
    flags_all |= np.where(user_named, _FLAG_USER_NAME, 0)
    flags_all |= np.where(agent_named, _FLAG_AGENT_NAME, 0)

    rename_us = start_us + int(_RENAME_AT * days * _DAY)
    times = np.datetime_as_string(t_all.astype("datetime64[us]"), unit="us", timezone="UTC")

    return _emit(
        seed=seed,
        directory=directory,
        times=times.tolist(),
        t=t_all.tolist(),
        kind=kind_all.tolist(),
        org=org_all.tolist(),
        user=user_all.tolist(),
        agent=agent_all.tolist(),
        i1=cols.ints("i1")[order].tolist(),
        i2=cols.ints("i2")[order].tolist(),
        f1=cols.floats()[order].tolist(),
        flags=flags_all.tolist(),
        rename_us=rename_us,
        numbers=numbers,
        kb_ids=kb_ids,
        brand_ids=brand_ids,
    )


def _emit(
    *,
    seed: int,
    directory: DemoDirectory,
    times: Sequence[str],
    t: Sequence[int],
    kind: Sequence[int],
    org: Sequence[int],
    user: Sequence[int],
    agent: Sequence[int],
    i1: Sequence[int],
    i2: Sequence[int],
    f1: Sequence[float],
    flags: Sequence[int],
    rename_us: int,
    numbers: Sequence[str],
    kb_ids: Sequence[str],
    brand_ids: Sequence[str],
) -> Iterator[dict[str, object]]:
    org_ids = [o.organization_id for o in directory.organizations]
    org_names = [o.name for o in directory.organizations]
    old_org_names = [_OLD_NAMES.get(o.organization_id) for o in directory.organizations]
    user_ids = [u.user_id for u in directory.users]
    user_names = [u.name for u in directory.users]
    user_emails = [u.email for u in directory.users]
    agent_ids = [a.agent_id for a in directory.agents]
    agent_names = [a.name for a in directory.agents]
    directions = ("outbound", "inbound")
    prefix = f"evt_{seed}_"
    conversation, sms, mms, voice_call, api_request = range(5)
    storage, phone_rental, phone_purchase, brand_registration = range(5, 9)
    knowledge_base, kb_usage, bot_message, ticket = range(9, 13)

    for n in range(len(times)):
        code = kind[n]
        o = org[n]
        u = user[n]
        flag = flags[n]
        data: dict[str, object] = {"organization_id": org_ids[o]}
        if code == conversation:
            data["agent_id"] = agent_ids[agent[n]]
            data["conversation_type"] = _CONVERSATION_TYPES[i2[n]]
            data["seconds"] = i1[n]
            if flag & _FLAG_AGENT_NAME:
                data["agent_name"] = agent_names[agent[n]]
        elif code == bot_message:
            data["channel"] = "teams"
        elif code in (sms, mms):
            data["direction"] = directions[i2[n]]
            if not flag & _FLAG_OMIT_DEFAULT:
                data["segments"] = i1[n]
        elif code == voice_call:
            data["direction"] = directions[i2[n]]
            data["seconds"] = i1[n]
        elif code == api_request:
            if not flag & _FLAG_OMIT_DEFAULT:
                data["count"] = i1[n]
        elif code == kb_usage:
            data["kb_id"] = kb_ids[i1[n]]
            data["minutes"] = f1[n]
        elif code == ticket:
            ticket_id = f"TCK-{i1[n]}"
            data["ticket_id"] = ticket_id
            if flag & _FLAG_TICKET_URL:
                data["url"] = f"https://helpdesk.example/tickets/{ticket_id}"
        elif code == storage:
            data["gb_hours"] = f1[n]
        elif code in (phone_rental, phone_purchase):
            data["phone_number"] = numbers[i1[n]]
        elif code == knowledge_base:
            data["kb_id"] = kb_ids[i1[n]]
        elif code == brand_registration:
            data["brand_id"] = brand_ids[i1[n]]
        if flag & _FLAG_ORG_NAME:
            old = old_org_names[o]
            data["organization_name"] = (
                old if old is not None and t[n] < rename_us else org_names[o]
            )
        event: dict[str, object] = {
            "id": f"{prefix}{n}",
            "type": _TYPE_NAMES[code],
            "time": times[n],
        }
        if u >= 0:
            event["subject"] = user_ids[u]
            if flag & _FLAG_USER_NAME:
                data["user_name"] = user_names[u]
                data["user_email"] = user_emails[u]
        event["data"] = data
        yield event
