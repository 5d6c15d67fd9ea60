"""The customers of one simulated usagelens operator: tenants, their organization trees, users,
agents, phone numbers, knowledge bases and brands, deterministic from a seed and sized from the
number of events.

Every table holds every tenant's rows, grouped by tenant and then by organization, so that a
``Sampler`` can pick, for a whole chunk of events at once, a row within each event's own tenant
or organization in proportion to the rows' weights (one ``searchsorted`` per chunk, no loop).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# A year of history ending at a fixed instant: every event is in the past and every run asks the
# same questions. The year crosses both DST changes of New York, Berlin, Los Angeles and Sydney;
# Sao Paulo keeps one offset since 2019, Kolkata (+05:30) and Kathmandu (+05:45) always have.
END = datetime(2026, 11, 20, tzinfo=UTC)
START = END - timedelta(days=365)
HOURS = 365 * 24
MS_PER_HOUR = 3_600_000
START_MS = int(START.timestamp() * 1000)
END_MS = int(END.timestamp() * 1000)


@dataclass(frozen=True)
class TenantProfile:
    name: str
    tz: str
    share: float  # of all events: one tenant holds most of them, then a Zipf-like tail
    mau_min_messages: int
    phone_prefix: str


TENANTS: tuple[TenantProfile, ...] = (
    TenantProfile("voxly", "Europe/Berlin", 0.60, 2, "+4930"),
    TenantProfile("callstack", "America/New_York", 0.16, 2, "+1212"),
    TenantProfile("bharatdesk", "Asia/Kolkata", 0.09, 2, "+9180"),
    TenantProfile("pacificvoice", "America/Los_Angeles", 0.06, 3, "+1415"),
    TenantProfile("harbourbots", "Australia/Sydney", 0.04, 2, "+6129"),
    TenantProfile("meshline", "UTC", 0.025, 1, "+4420"),
    TenantProfile("sambachat", "America/Sao_Paulo", 0.015, 2, "+5511"),
    TenantProfile("everestai", "Asia/Kathmandu", 0.01, 2, "+9771"),
)

CONVERSATION_TYPES = ("inbound_call", "outbound_call", "web_chat", "sms_chat", "whatsapp")
VOICE_CONVERSATION_TYPES = 2  # the first two are calls
# Agent kinds: a name and its mix of conversation types (in CONVERSATION_TYPES order).
AGENT_KINDS = ("Receptionist", "Sales Caller", "Support Bot", "Booking Assistant", "Help Desk")
AGENT_MIX = np.array(
    [[0.9, 0.1, 0, 0, 0], [0.2, 0.8, 0, 0, 0], [0, 0, 0.5, 0.3, 0.2], [0.3, 0.2, 0.3, 0.1, 0.1],
     [0, 0, 0.6, 0, 0.4]]
)  # fmt: skip

_ALPHABET = np.frombuffer(b"0123456789abcdefghjkmnpqrstvwxyz", dtype=np.uint8)
_WORDS = "Blue Harbor Summit Cedar Northern Bright Quantum Silver Pioneer Atlas Crescent Maple"
_NOUNS = "Logistics Health Dental Realty Insurance Travel Retail Energy Legal Fitness Foods Motors"
_FORMS = "Group Inc Partners Labs Co Holdings Services Clinic Network Systems"
_UNITS = "EMEA APAC Americas North South Support Sales Billing Clinics Stores Field Online"
_FIRST = "Ada Ben Chloe Dev Elif Finn Gita Hugo Ines Jonas Kira Leo Mila Nils Omar Pia Quinn Rosa"
_FIRST += " Sami Tara Umar Vera Wen Xavi Yara Zeno Anika Bruno Carla Dario Emil Freya Hana Ivo"
_LAST = "Adler Berg Costa Dahl Eze Fox Gupta Horn Ito Jansen Kaur Lund Moreau Nair Ortiz Park Quist"
_LAST += " Rao Stein Tran Ueda Vogel Weber Xu Yilmaz Zhou Abe Brandt Cruz Dietz Engel Falk Gomez"
FIRST_NAMES, LAST_NAMES = _FIRST.split(), _LAST.split()


def random_ids(rng: np.random.Generator, prefix: str, count: int, length: int) -> list[str]:
    """``count`` distinct ids ``prefix`` + ``length`` base32 characters."""
    codes = _ALPHABET[rng.integers(0, 32, size=(count, length))]
    texts = codes.view(f"S{length}").ravel().astype(str)
    ids = [prefix + text for text in texts.tolist()]
    if len(set(ids)) != count:  # about 1 in 10^9 at these sizes; a rerun with this seed fails
        raise RuntimeError(f"id collision among {prefix} ids: use another seed")
    return ids


@dataclass(frozen=True)
class Sampler:
    """Picks rows of a table whose rows are grouped contiguously by owner (tenant or
    organization), each within the given owner, in proportion to the rows' weights."""

    cumulative: FloatArray  # running total of the weights, with a leading 0
    first: IntArray  # per owner, its first row
    end: IntArray  # per owner, one past its last row

    @classmethod
    def of(cls, owner: IntArray, weight: FloatArray, owners: int) -> "Sampler":
        first = np.searchsorted(owner, np.arange(owners), side="left").astype(np.int64)
        end = np.searchsorted(owner, np.arange(owners), side="right").astype(np.int64)
        cumulative = np.concatenate(([0.0], np.cumsum(weight)))
        return cls(cumulative, first, end)

    def pick(self, rng: np.random.Generator, owners: IntArray) -> IntArray:
        low = self.cumulative[self.first[owners]]
        high = self.cumulative[self.end[owners]]
        target = low + rng.random(len(owners)) * (high - low)
        rows = np.searchsorted(self.cumulative, target, side="right") - 1
        picked: IntArray = np.clip(rows, self.first[owners], self.end[owners] - 1)
        return picked


@dataclass(frozen=True)
class Organizations:
    ids: list[str]
    names: list[str]
    tenant: IntArray
    parent: IntArray  # global index, -1 for a top-level account
    weight: FloatArray  # share of its tenant's activity
    admin: IntArray  # its first user: owner of numbers, KBs and storage


@dataclass(frozen=True)
class Users:
    ids: list[str]
    names: list[str]
    emails: list[str]
    org: IntArray


@dataclass(frozen=True)
class Agents:
    ids: list[str]
    names: list[str]
    org: IntArray
    type_cumulative: FloatArray  # per agent, running total of its conversation type mix


@dataclass(frozen=True)
class Owned:
    """Phone numbers, knowledge bases or brands: which organization and user own each, and
    when it was bought, created or registered (ms since the epoch; before START if it already
    existed)."""

    ids: list[str]
    org: IntArray
    owner: IntArray  # user, or -1 when the organization itself owns it
    since_ms: IntArray


@dataclass(frozen=True)
class Burst:
    """A campaign or an incident: extra events of one kind for one organization."""

    tenant: int
    org: int
    kind: str
    first_hour: int  # hours since START
    hours: int
    factor: float  # extra events, as a multiple of the tenant's usual rate of that kind


@dataclass(frozen=True)
class World:
    tenants: tuple[TenantProfile, ...]
    orgs: Organizations
    users: Users
    agents: Agents
    numbers: Owned
    kbs: Owned
    brands: Owned
    storage_orgs: IntArray  # organizations that report storage daily
    storage_gb: FloatArray  # their base storage
    bursts: tuple[Burst, ...]
    user_by_tenant: Sampler  # who causes activity
    bot_user_by_tenant: Sampler  # who talks to the bot
    user_by_org: Sampler
    agent_by_org: Sampler
    kb_by_org: Sampler


def entity_counts(events: float) -> tuple[int, int]:
    """(users, organizations) of a tenant with ``events`` a year: customers grow slower than
    traffic (bigger tenants have heavier users), about 25 users per organization."""
    users = max(8, round(0.14 * events**0.75))
    return users, max(3, round(users / 25))


def build_world(seed: int, events: int) -> World:
    rng = np.random.default_rng([seed, 0])
    tables = _Tables()
    for t, profile in enumerate(TENANTS):
        users, orgs = entity_counts(profile.share * events)
        tables.add_tenant(rng, t, profile, orgs, users)
    return tables.world(rng)


class _Tables:
    """The world's tables, filled tenant by tenant (a Python loop per organization and user:
    at 100M events about 8,000 organizations and 200,000 users, in two seconds)."""

    def __init__(self) -> None:
        # A tuple per row, turned into columns at the end. Organizations: id, name, tenant,
        # parent, weight, admin (its first user).
        self.orgs: list[tuple[str, str, int, int, float, int]] = []
        self.users: list[tuple[str, str, str, int, float]] = []  # id, name, email, org, weight
        self.agents: list[tuple[str, str, int, int]] = []  # id, name, org, kind
        self.numbers: list[tuple[str, int, int, int]] = []  # see Owned
        self.kbs: list[tuple[str, int, int, int]] = []
        self.brands: list[tuple[str, int, int, int]] = []
        self.emails: set[str] = set()
        self.bursts: list[Burst] = []

    def add_tenant(
        self, rng: np.random.Generator, t: int, profile: TenantProfile, orgs: int, users: int
    ) -> None:
        first_org = len(self.orgs)
        rank = np.arange(orgs)
        weight = rng.lognormal(0.0, 0.3, orgs) / (rank + 1.0) ** 1.1
        weight /= weight.sum()
        parents = _parents(rng, weight)
        names = _org_names(rng, parents)
        ids = random_ids(rng, "org_", orgs, 8)
        # Big customers have more users, though fewer than their traffic alone would give.
        per_org = 1 + rng.multinomial(users - orgs, weight**0.7 / (weight**0.7).sum())
        admins = len(self.users) + np.cumsum(per_org) - per_org  # each one's first user
        for o in range(orgs):
            parent = parents[o] + first_org if parents[o] >= 0 else -1
            self.orgs.append((ids[o], names[o], t, parent, float(weight[o]), int(admins[o])))
        for o in range(orgs):
            self._add_users(rng, first_org + o, int(per_org[o]), _domain(names, parents, o))
        # Agents and phone numbers grow with an organization's users, more slowly.
        scale = per_org**0.6
        for o in range(orgs):
            self._add_agents(rng, first_org + o, 1 + min(30, int(rng.poisson(0.4 * scale[o]))))
            numbers = 1 + min(40, int(rng.poisson(0.3 * scale[o])))
            self._add_owned(rng, self.numbers, first_org + o, numbers, 0.2, profile.phone_prefix)
            # Every organization has a knowledge base from the start; some add one later.
            self._add_owned(rng, self.kbs, first_org + o, 1, 0.0, "kb_")
            self._add_owned(rng, self.kbs, first_org + o, int(rng.random() < 0.4), 0.5, "kb_")
            if rng.random() < 0.3:
                self._add_owned(rng, self.brands, first_org + o, 1, 1.0, "B")
        self._add_bursts(rng, t, first_org, weight)

    def _add_users(self, rng: np.random.Generator, org: int, count: int, domain: str) -> None:
        first = rng.integers(0, len(FIRST_NAMES), count)
        last = rng.integers(0, len(LAST_NAMES), count)
        people: list[tuple[str, str]] = []
        for f, la in zip(first.tolist(), last.tolist(), strict=True):
            name = f"{FIRST_NAMES[f]} {LAST_NAMES[la]}"
            local = name.lower().replace(" ", ".")
            email, n = f"{local}@{domain}", 1
            while email in self.emails:  # a tree's organizations share a domain
                n += 1
                email = f"{local}{n}@{domain}"
            self.emails.add(email)
            people.append((name, email))
        ids = random_ids(rng, "usr_", count, 10)
        weights = rng.lognormal(0.0, 1.0, count).tolist()
        for user_id, (name, email), weight in zip(ids, people, weights, strict=True):
            self.users.append((user_id, name, email, org, weight))

    def _add_agents(self, rng: np.random.Generator, org: int, count: int) -> None:
        kinds = rng.integers(0, len(AGENT_KINDS), count).tolist()
        ids = random_ids(rng, "agt_", count, 8)
        for n, (agent_id, kind) in enumerate(zip(ids, kinds, strict=True)):
            self.agents.append((agent_id, f"{AGENT_KINDS[kind]} {n + 1}", org, kind))

    def _add_owned(
        self,
        rng: np.random.Generator,
        table: list[tuple[str, int, int, int]],
        org: int,
        count: int,
        new_share: float,
        prefix: str,
    ) -> None:
        """Items of which ``new_share`` appear during the year, the rest before it."""
        for _ in range(count):
            serial = len(table)
            if prefix.startswith("+"):  # distinct digits, scattered like real numbers
                item = f"{prefix}{(serial * 7919 + 1_234_567) % 10**7:07d}"
            else:
                item = f"{prefix}{serial:06d}"
            new = rng.random() < new_share
            since = START_MS + int(rng.integers(0, END_MS - START_MS)) if new else START_MS - 1
            owner = self.orgs[org][5] if rng.random() < 0.6 else -1
            table.append((item, org, owner, since))

    def _add_bursts(
        self, rng: np.random.Generator, t: int, first_org: int, weight: FloatArray
    ) -> None:
        """About two a month: an SMS campaign, a call-centre overflow or an outage's calls,
        mostly of mid-sized customers (weights flattened by a square root)."""
        chance = np.sqrt(weight) / np.sqrt(weight).sum()
        kinds = ("sms", "conversation", "voice_call")
        for _ in range(24):
            self.bursts.append(
                Burst(
                    tenant=t,
                    org=first_org + int(rng.choice(len(weight), p=chance)),
                    kind=kinds[int(rng.choice(3, p=[0.6, 0.25, 0.15]))],
                    first_hour=int(rng.integers(0, HOURS - 8)),
                    hours=int(rng.integers(1, 9)),
                    factor=float(rng.uniform(0.5, 3.0)),
                )
            )

    def world(self, rng: np.random.Generator) -> World:
        org_ids, org_names, tenant, parent, org_weight, admin = _columns(self.orgs)
        orgs = Organizations(
            org_ids, org_names, _ints(tenant), _ints(parent), np.array(org_weight), _ints(admin)
        )
        user_ids, user_names, emails, user_org, weights = _columns(self.users)
        users = Users(user_ids, user_names, emails, _ints(user_org))
        agent_ids, agent_names, agent_org, agent_kind = _columns(self.agents)
        type_mix = np.cumsum(AGENT_MIX[_ints(agent_kind)], axis=1)
        agents = Agents(agent_ids, agent_names, _ints(agent_org), type_mix)
        user_weight = np.array(weights)
        user_tenant = orgs.tenant[users.org]
        # An organization's users share its weight, each by their own activity.
        in_org = user_weight / np.bincount(users.org, user_weight, len(orgs.ids))[users.org]
        activity = orgs.weight[users.org] * in_org
        # Half the users talk to the bot, some of them a lot.
        bot = (rng.random(len(users.ids)) < 0.5) * activity * rng.lognormal(0.0, 0.8, len(in_org))
        storage = np.flatnonzero(rng.random(len(orgs.ids)) < 0.4).astype(np.int64)
        n_tenants, n_orgs = len(TENANTS), len(orgs.ids)
        kbs = _owned(self.kbs)
        return World(
            tenants=TENANTS,
            orgs=orgs,
            users=users,
            agents=agents,
            numbers=_owned(self.numbers),
            kbs=kbs,
            brands=_owned(self.brands),
            storage_orgs=storage,
            storage_gb=rng.lognormal(3.0, 1.0, len(storage)),
            bursts=tuple(self.bursts),
            user_by_tenant=Sampler.of(user_tenant, activity, n_tenants),
            bot_user_by_tenant=Sampler.of(user_tenant, bot, n_tenants),
            user_by_org=Sampler.of(users.org, user_weight, len(orgs.ids)),
            agent_by_org=Sampler.of(agents.org, rng.lognormal(0, 0.7, len(agents.ids)), n_orgs),
            kb_by_org=Sampler.of(kbs.org, np.ones(len(kbs.ids)), n_orgs),
        )


def _columns(rows: Sequence[tuple[Any, ...]]) -> list[list[Any]]:
    return [list(column) for column in zip(*rows, strict=True)]


def _ints(values: list[int]) -> IntArray:
    return np.array(values, dtype=np.int64)


def _owned(rows: list[tuple[str, int, int, int]]) -> Owned:
    ids, org, owner, since_ms = _columns(rows) if rows else ([], [], [], [])
    return Owned(ids, _ints(org), _ints(owner), _ints(since_ms))


def _parents(rng: np.random.Generator, weight: FloatArray) -> list[int]:
    """Account trees: the biggest organizations are accounts, most others are subaccounts of a
    bigger one (picked by size), at most three levels deep."""
    parents = [-1]
    depth = [0]
    for o in range(1, len(weight)):
        if rng.random() < 0.45:
            parents.append(-1)
            depth.append(0)
            continue
        chance = weight[:o] / weight[:o].sum()
        parent = int(rng.choice(o, p=chance))
        if depth[parent] == 2:
            parent = parents[parent]
        parents.append(parent)
        depth.append(depth[parent] + 1)
    return parents


def _org_names(rng: np.random.Generator, parents: list[int]) -> list[str]:
    """Accounts get made-up company names; subaccounts their account's name and a unit."""
    words, nouns, forms, units = _WORDS.split(), _NOUNS.split(), _FORMS.split(), _UNITS.split()
    names: list[str] = []
    for parent in parents:
        if parent < 0:
            picked = (words[rng.integers(len(words))], nouns[rng.integers(len(nouns))])
            name = f"{picked[0]} {picked[1]} {forms[rng.integers(len(forms))]}"
        else:
            name = f"{names[parent]} {units[rng.integers(len(units))]}"
        names.append(name)
    return _distinct(names)


def _distinct(names: list[str]) -> list[str]:
    """The names with a number appended to each repeat, so that no two are alike."""
    seen: dict[str, int] = {}
    distinct = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        distinct.append(name if seen[name] == 1 else f"{name} {seen[name]}")
    return distinct


def _domain(names: list[str], parents: list[int], org: int) -> str:
    """Users' email domain: their account's (the top of their tree) name."""
    while parents[org] >= 0:
        org = parents[org]
    return "-".join(names[org].lower().split()) + ".example"
