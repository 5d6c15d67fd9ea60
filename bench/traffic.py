"""When events happen and what they carry: hourly rates over the year in each tenant's own zone
(daily and weekly cycles, holidays, growth, bursts), and the events of one chunk of hours drawn
from them as numpy columns.

Each chunk draws from its own random stream, ``[seed, 1, chunk]``, so the events of a chunk do not
depend on how many were drawn before it; the only state carried from chunk to chunk is the
tenants' ticket counters (ticket numbers run in order) and who has been named by an event yet.
"""

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from bench.world import (
    END_MS,
    HOURS,
    MS_PER_HOUR,
    START,
    START_MS,
    VOICE_CONVERSATION_TYPES,
    BoolArray,
    FloatArray,
    IntArray,
    World,
)
from usagelens.ingest.schemas import EVENT_TYPES

KINDS = EVENT_TYPES  # every type of the brief
KIND = {name: code for code, name in enumerate(KINDS)}

# Streams drawn per hour: share of the activity, share that ignores the daily and weekly cycle
# (machine traffic, night calls) and share that names a user (``subject``).
STREAMS = ("conversation", "sms", "mms", "voice_call", "api_request", "kb_usage", "bot_message")
STREAM_SHARE = np.array([0.22, 0.30, 0.02, 0.09, 0.18, 0.05, 0.14])
FLAT_SHARE = np.array([0.15, 0.10, 0.10, 0.08, 0.35, 0.10, 0.05])
SUBJECT_SHARE = np.array([0.6, 0.97, 0.97, 0.95, 0.8, 0.85, 1.0])
BOT = STREAMS.index("bot_message")
STORAGE_REPORT_MS = 6 * MS_PER_HOUR  # each day's storage report, at 06:00 UTC
# Bot messages come in sessions (a geometric number of messages, often just one, so that the
# monthly-active threshold matters); one or two sessions in a hundred raise a ticket.
SESSION_END_CHANCE = 0.35
TICKET_PER_SESSION = 0.015

# Local hour-of-day weights: quiet nights, a business-hours plateau with a lunch dip, evenings.
_HOUR_OF_DAY = 0.06 + np.exp(-(((np.arange(24) - 11.0) / 3.2) ** 2))
_HOUR_OF_DAY += 0.8 * np.exp(-(((np.arange(24) - 15.5) / 2.5) ** 2))
_HOUR_OF_DAY += 0.25 * np.exp(-(((np.arange(24) - 20.0) / 1.5) ** 2))
_DAY_OF_WEEK = np.array([1.05, 1.0, 1.0, 0.98, 0.9, 0.35, 0.28])
_HOLIDAYS = {(12, 24): 0.5, (12, 25): 0.3, (12, 26): 0.5, (12, 31): 0.6, (1, 1): 0.3}


@dataclass(frozen=True)
class Rates:
    """Expected events per (tenant, hour of the year, stream); bot_message counts messages."""

    per_hour: FloatArray  # shape (tenants, HOURS, len(STREAMS))
    growth: FloatArray  # (tenants, HOURS): the trend alone, for storage

    @property
    def bot_sessions(self) -> FloatArray:
        sessions: FloatArray = self.per_hour[:, :, BOT] * SESSION_END_CHANCE
        return sessions


def local_cycle(tz: str) -> FloatArray:
    """Weight of each hour of the year from its local hour, weekday and date in ``tz``."""
    zone = ZoneInfo(tz)
    weights = np.empty(HOURS)
    for hour in range(HOURS):
        local = (START + timedelta(hours=hour, minutes=30)).astimezone(zone)
        day = _HOLIDAYS.get((local.month, local.day), 1.0) * _DAY_OF_WEEK[local.weekday()]
        weights[hour] = _HOUR_OF_DAY[local.hour] * day
    return weights


def rates(world: World, seed: int, activity_events: float) -> Rates:
    """Hourly rates whose activity adds up to about ``activity_events`` (bursts, tickets and
    bot messages included)."""
    rng = np.random.default_rng([seed, 2])
    position = (np.arange(HOURS) + 0.5) / HOURS
    tenants = len(world.tenants)
    per_hour = np.empty((tenants, HOURS, len(STREAMS)))
    growth = np.empty((tenants, HOURS))
    for t, profile in enumerate(world.tenants):
        growth[t] = np.exp(rng.uniform(0.1, 0.6) * position)  # customers grow over the year
        cycle = local_cycle(profile.tz) * growth[t]
        flat = growth[t] / growth[t].sum()
        shaped = (1 - FLAT_SHARE) * (cycle / cycle.sum())[:, None] + FLAT_SHARE * flat[:, None]
        per_hour[t] = profile.share * STREAM_SHARE * shaped
    unscaled = Rates(per_hour, growth)
    return Rates(per_hour * activity_events / expected_activity(world, unscaled), growth)


def expected_activity(world: World, rates: Rates) -> float:
    """Events the rates give on average: streams, bursts and the tickets of bot sessions."""
    bursts = 0.0
    for burst in world.bursts:
        hours = slice(burst.first_hour, burst.first_hour + burst.hours)
        usual = rates.per_hour[burst.tenant, hours, STREAMS.index(burst.kind)]
        bursts += burst.factor * float(usual.sum())
    tickets = rates.bot_sessions.sum() * TICKET_PER_SESSION
    return float(rates.per_hour.sum() + bursts + tickets)


# --------------------------------------------------------------------------------------------
# One chunk of events as columns
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Columns:
    """Events as columns. What i1, i2 and f1 hold depends on the kind:

    conversation: i1 seconds, i2 conversation type; sms, mms: i1 segments (0: left out, the
    default 1), i2 direction (0 outbound, 1 inbound); voice_call: i1 seconds, i2 direction;
    api_request: i1 count (0: left out, the default 1); kb_usage: i1 knowledge base, f1 minutes;
    storage: f1 GB-hours; phone_rental, phone_purchase: i1 number; knowledge_base: i1 knowledge
    base; brand_registration: i1 brand; bot_message: i2 channel (0 left out, 1 teams, 2 webchat);
    ticket: i1 ticket number, i2 1 with a URL. ``names``: bit 1 organization_name, bit 2
    user_name and user_email, bit 4 agent_name.
    """

    tenant: IntArray
    kind: IntArray
    time_ms: IntArray
    org: IntArray
    user: IntArray  # -1: no subject
    agent: IntArray  # -1: none
    i1: IntArray
    i2: IntArray
    f1: FloatArray
    names: IntArray

    def __len__(self) -> int:
        return len(self.time_ms)


Values = IntArray | FloatArray | int | float


def _columns(kind: str, time_ms: IntArray, **values: Values) -> Columns:
    """Events of one kind: each other column an array, or one value for all (``tenant`` and
    ``org`` are required; ``user`` and ``agent`` default to none, the others to 0)."""
    n = len(time_ms)

    def column(name: str, dtype: type, default: int = 0) -> Any:
        return np.broadcast_to(np.asarray(values.get(name, default), dtype=dtype), (n,))

    return Columns(
        tenant=column("tenant", np.int64),
        kind=np.full(n, KIND[kind], dtype=np.int64),
        time_ms=time_ms.astype(np.int64),
        org=column("org", np.int64),
        user=column("user", np.int64, -1),
        agent=column("agent", np.int64, -1),
        i1=column("i1", np.int64),
        i2=column("i2", np.int64),
        f1=column("f1", np.float64),
        names=column("names", np.int64),
    )


def concat(parts: list[Columns]) -> Columns:
    if not parts:
        parts = [_columns("sms", np.empty(0, dtype=np.int64), tenant=0, org=0)]
    return Columns(*(np.concatenate([getattr(p, name) for p in parts]) for name in _COLUMN_NAMES))


_COLUMN_NAMES = ("tenant", "kind", "time_ms", "org", "user", "agent", "i1", "i2", "f1", "names")


def _lognormal(rng: np.random.Generator, median: float, sigma: float, n: int) -> FloatArray:
    return rng.lognormal(np.log(median), sigma, n)


def _whole(values: FloatArray, low: int, high: int) -> IntArray:
    whole: IntArray = np.clip(np.rint(values), low, high).astype(np.int64)
    return whole


class ChunkMaker:
    """The events of successive chunks of hours (call ``make`` in chunk order: ticket numbers
    continue from one chunk to the next)."""

    def __init__(self, world: World, rates: Rates, seed: int) -> None:
        self.world = world
        self.rates = rates
        self.seed = seed
        self.next_ticket = np.full(len(world.tenants), 1001, dtype=np.int64)
        self.kb_start = world.kb_by_org.first  # an organization's first KB exists all year
        # Who has been named by an event yet (organizations, users, agents).
        self.named = [
            np.zeros(len(table.ids), dtype=bool)
            for table in (world.orgs, world.users, world.agents)
        ]

    def make(self, chunk: int, first_hour: int, hours: int) -> Columns:
        rng = np.random.default_rng([self.seed, 1, chunk])
        begin = START_MS + first_hour * MS_PER_HOUR
        end = begin + hours * MS_PER_HOUR
        parts = self._streams(rng, first_hour, hours)
        parts += self._bursts(rng, first_hour, hours)
        parts += self._bot(rng, first_hour, hours)
        parts += self._billing(rng, begin, end)
        return self._with_names(rng, concat(parts))

    def _streams(self, rng: np.random.Generator, first_hour: int, hours: int) -> list[Columns]:
        counts = rng.poisson(self.rates.per_hour[:, first_hour : first_hour + hours, :])
        parts = []
        for s, kind in enumerate(STREAMS):
            if s == BOT:
                continue
            per_cell = counts[:, :, s].ravel()
            cell = np.repeat(np.arange(per_cell.size, dtype=np.int64), per_cell)
            tenant = cell // hours
            time_ms = _in_hours(rng, first_hour + cell % hours)
            user = self.world.user_by_tenant.pick(rng, tenant)
            parts.append(self._activity(rng, kind, tenant, time_ms, user))
        return parts

    def _bursts(self, rng: np.random.Generator, first_hour: int, hours: int) -> list[Columns]:
        parts = []
        for burst in self.world.bursts:
            low = max(first_hour, burst.first_hour)
            high = min(first_hour + hours, burst.first_hour + burst.hours)
            if low >= high:
                continue
            usual = self.rates.per_hour[burst.tenant, low:high, STREAMS.index(burst.kind)]
            hour = np.repeat(np.arange(low, high), rng.poisson(burst.factor * usual))
            owners = np.full(len(hour), burst.org, dtype=np.int64)
            user = self.world.user_by_org.pick(rng, owners)
            parts.append(self._activity(rng, burst.kind, burst.tenant, _in_hours(rng, hour), user))
        return parts

    def _activity(
        self,
        rng: np.random.Generator,
        kind: str,
        tenant: IntArray | int,
        time_ms: IntArray,
        user: IntArray,
    ) -> Columns:
        n = len(time_ms)
        org = self.world.users.org[user]
        subject = np.where(rng.random(n) < SUBJECT_SHARE[STREAMS.index(kind)], user, -1)
        fields = self._fields(rng, kind, org, time_ms)
        return _columns(kind, time_ms, tenant=tenant, org=org, user=subject, **fields)

    def _fields(
        self, rng: np.random.Generator, kind: str, org: IntArray, time_ms: IntArray
    ) -> dict[str, Values]:
        """What an activity event of ``kind`` carries besides who and when (see Columns)."""
        n = len(org)
        if kind == "conversation":
            agent = self.world.agent_by_org.pick(rng, org)
            mix = self.world.agents.type_cumulative[agent]
            ctype = np.minimum((rng.random((n, 1)) * mix[:, -1:] >= mix).sum(axis=1), 4)
            seconds = np.where(
                ctype < VOICE_CONVERSATION_TYPES,
                _lognormal(rng, 170, 0.7, n),
                _lognormal(rng, 260, 0.8, n),
            )
            return {"agent": agent, "i1": _whole(seconds, 5, 3600), "i2": ctype}
        if kind in ("sms", "mms"):
            inbound = (rng.random(n) >= (0.68 if kind == "sms" else 0.6)).astype(np.int64)
            segments = rng.choice(4, size=n, p=[0.72, 0.18, 0.07, 0.03]) + 1
            if kind == "mms":
                segments = np.ones(n, dtype=np.int64)
            left_out = (segments == 1) & (rng.random(n) < (0.15 if kind == "sms" else 0.9))
            return {"i1": np.where(left_out, 0, segments), "i2": inbound}
        if kind == "voice_call":
            inbound = (rng.random(n) >= 0.55).astype(np.int64)
            seconds = _whole(_lognormal(rng, 110, 0.9, n), 3, 3600)
            seconds[rng.random(n) < 0.04] = 0  # not answered
            return {"i1": seconds, "i2": inbound}
        if kind == "api_request":
            count = _whole(_lognormal(rng, 35, 1.1, n), 1, 500)
            count[(count == 1) & (rng.random(n) < 0.5)] = 0
            return {"i1": count}
        kb = self.world.kb_by_org.pick(rng, org)
        kb = np.where(self.world.kbs.since_ms[kb] > time_ms, self.kb_start[org], kb)
        minutes = np.round(np.clip(_lognormal(rng, 1.8, 0.8, n), 0.05, 45.0), 2).astype(float)
        return {"i1": kb, "f1": minutes}

    def _bot(self, rng: np.random.Generator, first_hour: int, hours: int) -> list[Columns]:
        """Sessions of messages 15-90 s apart; a few raise a ticket shortly after."""
        per_cell = rng.poisson(self.rates.bot_sessions[:, first_hour : first_hour + hours])
        cell = np.repeat(np.arange(per_cell.size, dtype=np.int64), per_cell.ravel())
        tenant = cell // hours
        started = _in_hours(rng, first_hour + cell % hours)
        user = self.world.bot_user_by_tenant.pick(rng, tenant)
        length = rng.geometric(SESSION_END_CHANCE, len(cell)).astype(np.int64)
        session = np.repeat(np.arange(len(cell)), length)
        first = np.cumsum(length) - length
        gaps = rng.integers(15_000, 90_000, len(session))
        gaps[first] = 0
        waited = np.cumsum(gaps)
        time_ms = started[session] + waited - waited[first][session]
        # A user keeps to one channel: most use Teams (named or left to the default).
        channel = np.where(user % 6 == 0, 2, user % 2)[session]
        org = self.world.users.org[user]
        keep = time_ms < END_MS
        messages = _columns(
            "bot_message",
            time_ms[keep],
            tenant=tenant[session][keep],
            org=org[session][keep],
            user=user[session][keep],
            i2=channel[keep],
        )
        raised = np.flatnonzero(rng.random(len(cell)) < TICKET_PER_SESSION)
        last = time_ms[first[raised] + length[raised] - 1]
        ticket_ms = last + rng.integers(5_000, 120_000, len(raised))
        keep = ticket_ms < END_MS
        raised, ticket_ms = raised[keep], ticket_ms[keep]
        number = self._ticket_numbers(tenant[raised])
        url = (rng.random(len(raised)) < 0.9).astype(np.int64)
        tickets = _columns(
            "ticket",
            ticket_ms,
            tenant=tenant[raised],
            org=org[raised],
            user=user[raised],
            i1=number,
            i2=url,
        )
        return [messages, tickets]

    def _ticket_numbers(self, tenant: IntArray) -> IntArray:
        number = np.empty(len(tenant), dtype=np.int64)
        for t in np.unique(tenant).tolist():
            mine = np.flatnonzero(tenant == t)
            number[mine] = self.next_ticket[t] + np.arange(len(mine))
            self.next_ticket[t] += len(mine)
        return number

    def _billing(self, rng: np.random.Generator, begin: int, end: int) -> list[Columns]:
        """Daily storage reports, monthly rentals and knowledge bases (on the 1st, 12:00 UTC,
        the 1st in every zone from UTC-11 to UTC+11), purchases, new KBs, brand registrations."""
        parts = [self._storage(rng, day_ms) for day_ms in daily(begin, end, STORAGE_REPORT_MS)]
        for first_ms in month_firsts(begin, end):
            for kind, owned in (
                ("phone_rental", self.world.numbers),
                ("knowledge_base", self.world.kbs),
            ):
                held = np.flatnonzero(owned.since_ms < first_ms)
                time_ms = first_ms + _spread(len(held))
                parts.append(self._owned(kind, owned.org[held], time_ms, owned.owner[held], held))
        for kind, owned in (
            ("phone_purchase", self.world.numbers),
            ("knowledge_base", self.world.kbs),
            ("brand_registration", self.world.brands),
        ):
            new = np.flatnonzero((owned.since_ms >= max(begin, START_MS)) & (owned.since_ms < end))
            # Brand registrations are the organization's own: never a subject.
            owner = owned.owner[new] if kind != "brand_registration" else np.full(len(new), -1)
            parts.append(self._owned(kind, owned.org[new], owned.since_ms[new], owner, new))
        return parts

    def _storage(self, rng: np.random.Generator, day_ms: int) -> Columns:
        world = self.world
        orgs = world.storage_orgs
        hour = (day_ms - START_MS) // MS_PER_HOUR
        growth = self.rates.growth[world.orgs.tenant[orgs], hour]
        noise = 1 + 0.03 * rng.standard_normal(len(orgs))
        gb_hours = np.round(world.storage_gb * growth * 24 * noise, 3).astype(float)
        owner = np.where(orgs % 5 < 3, world.orgs.admin[orgs], -1)
        return self._owned("storage", orgs, day_ms + _spread(len(orgs)), owner, f1=gb_hours)

    def _with_names(self, rng: np.random.Generator, columns: Columns) -> Columns:
        """Name fields on the first event of each organization, user and agent, so that events
        alone name everyone, and again on a sample: organization names on 3% of events, user
        name and email on 3% of those with a subject, agent names on 5% of conversations."""
        n = len(columns)
        names = np.zeros(n, dtype=np.int64)
        for bit, ids, share in (
            (1, columns.org, 0.03),
            (2, columns.user, 0.03),
            (4, columns.agent, 0.05),
        ):
            sampled = (rng.random(n) < share) & (ids >= 0)
            sampled[_first_mentions(ids, self.named[bit // 2])] = True
            names |= sampled * bit
        return replace(columns, names=names)

    def _owned(
        self,
        kind: str,
        org: IntArray,
        time_ms: IntArray,
        owner: IntArray | int,
        item: IntArray | int = 0,
        f1: FloatArray | float = 0.0,
    ) -> Columns:
        tenant = self.world.orgs.tenant[org]
        return _columns(kind, time_ms, tenant=tenant, org=org, user=owner, i1=item, f1=f1)


def _in_hours(rng: np.random.Generator, hour: IntArray) -> IntArray:
    """A uniformly random millisecond of each hour (hours since START)."""
    offset = rng.integers(0, MS_PER_HOUR, len(hour))
    time_ms: IntArray = START_MS + hour * MS_PER_HOUR + offset
    return time_ms


def _spread(count: int) -> IntArray:
    """Offsets scattering ``count`` scheduled events over an hour, as a billing job would."""
    spread: IntArray = (np.arange(count, dtype=np.int64) * 7_919_000) % MS_PER_HOUR
    return spread


def daily(begin: int, end: int, at: int) -> list[int]:
    """The instants ``at`` ms after a UTC midnight in [begin, end) and in the year."""
    day = 24 * MS_PER_HOUR
    first = (begin - at + day - 1) // day * day + at
    return [moment for moment in range(first, end, day) if START_MS <= moment < END_MS]


def month_firsts(begin: int, end: int) -> list[int]:
    """12:00 UTC on each 1st of a month in [begin, end) and in the year."""
    moments = []
    month = START.replace(day=1, hour=12, minute=0, second=0, microsecond=0)
    while (moment := int(month.timestamp() * 1000)) < end:
        if moment >= begin and START_MS <= moment < END_MS:
            moments.append(moment)
        month = month.replace(year=month.year + month.month // 12, month=month.month % 12 + 1)
    return moments


def _first_mentions(ids: IntArray, named: BoolArray) -> IntArray:
    """Rows where an id not yet ``named`` appears first (and mark them named)."""
    rows = np.flatnonzero(ids >= 0)
    distinct, first = np.unique(ids[rows], return_index=True)
    new = ~named[distinct]
    named[distinct[new]] = True
    mentions: IntArray = rows[first[new]]
    return mentions
