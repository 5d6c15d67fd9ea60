"""Events from columns to CloudEvents structures that msgspec encodes as JSON lines.

Per kind, the columns become lists by numpy fancy indexing into object arrays (no Python loop),
then ``map`` builds one msgspec Struct per event, positionally: about half a microsecond an event
with the cycle collector paused (``paused_gc``: Structs are tracked containers, and collecting
millions of them again and again costs more than building them). Optional fields left out are
omitted, as a producer would send them.
"""

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import repeat
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from bench.traffic import KIND, KINDS, Columns
from bench.world import CONVERSATION_TYPES, IntArray, World

ObjectArray = npt.NDArray[np.object_]

_CROCKFORD = np.frombuffer(b"0123456789ABCDEFGHJKMNPQRSTVWXYZ", dtype=np.uint8)
_SERVICE = {
    "conversation": "agents",
    "sms": "messaging",
    "mms": "messaging",
    "voice_call": "voice",
    "api_request": "api-gateway",
    "kb_usage": "knowledge",
    "bot_message": "teams-bot",
    "ticket": "teams-bot",
}
_OPTIONAL_TEXT = (str | None, None)
# Each kind's own data fields, between organization_id and the optional name fields.
_FIELDS: dict[str, list[tuple[str, Any] | tuple[str, Any, Any]]] = {
    "conversation": [
        ("agent_id", str),
        ("conversation_type", str),
        ("seconds", int),
        ("agent_name", *_OPTIONAL_TEXT),
    ],
    "sms": [("direction", str), ("segments", int | None, None)],
    "voice_call": [("direction", str), ("seconds", int)],
    "api_request": [("count", int | None, None)],
    "storage": [("gb_hours", float)],  # rounded to 3 places: its repr has at most 3 decimals
    "phone_rental": [("phone_number", str)],
    "brand_registration": [("brand_id", str)],
    "knowledge_base": [("kb_id", str)],
    "kb_usage": [("kb_id", str), ("minutes", float)],  # rounded to 2 places
    "bot_message": [("channel", *_OPTIONAL_TEXT)],
    "ticket": [("ticket_id", str), ("url", *_OPTIONAL_TEXT)],
}
_FIELDS["mms"] = _FIELDS["sms"]
_FIELDS["phone_purchase"] = _FIELDS["phone_rental"]
_NAMES = [(name, *_OPTIONAL_TEXT) for name in ("organization_name", "user_name", "user_email")]
DATA: dict[str, type] = {
    kind: msgspec.defstruct(
        f"{kind}_data", [("organization_id", str), *_FIELDS[kind], *_NAMES], omit_defaults=True
    )
    for kind in KINDS
}


class Event(msgspec.Struct, omit_defaults=True):
    specversion: str
    id: str
    source: str
    type: str
    time: str
    tenant: str
    subject: str | None = None
    data: Any = None


@contextmanager
def paused_gc() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def ulids(time_ms: IntArray, rng: np.random.Generator) -> ObjectArray:
    """ULIDs (48 bits of milliseconds, 80 random bits, Crockford base32), as producers mint
    event ids: unique, roughly time-ordered, and as incompressible as real ids."""
    n = len(time_ms)
    digits = np.empty((n, 26), dtype=np.int64)
    for i in range(10):
        digits[:, i] = (time_ms >> (45 - 5 * i)) & 31
    for half in range(2):
        random = rng.integers(0, 1 << 40, n, dtype=np.int64)
        for i in range(8):
            digits[:, 10 + 8 * half + i] = (random >> (35 - 5 * i)) & 31
    # One ASCII text, split: the cheapest way from bytes to str objects.
    lines = np.full((n, 27), ord("\n"), dtype=np.uint8)
    lines[:, :26] = _CROCKFORD[digits]
    text = lines.tobytes().decode("ascii").split("\n")[:n]
    ids: ObjectArray = np.empty(n, dtype=object)
    ids[:] = text
    return ids


Specific = Callable[[Columns, IntArray], list[list[Any]]]


class Encoder:
    """Events of one world as msgspec Structs."""

    def __init__(self, world: World) -> None:
        names = [t.name for t in world.tenants]
        self.tenants = _objects(names)
        # CloudEvents sources: the tenant's service that reported the event.
        self.sources = {
            kind: _objects([f"//{name}.example/{_SERVICE.get(kind, 'billing')}" for name in names])
            for kind in KINDS
        }
        self.org_ids = _objects(world.orgs.ids)
        self.org_names = _objects(world.orgs.names)
        self.user_ids = _objects(world.users.ids)
        self.user_names = _objects(world.users.names)
        self.user_emails = _objects(world.users.emails)
        self.agent_ids = _objects(world.agents.ids)
        self.agent_names = _objects(world.agents.names)
        numbers, kbs = _objects(world.numbers.ids), _objects(world.kbs.ids)
        brands = _objects(world.brands.ids)
        self.conversation_types = _objects(list(CONVERSATION_TYPES))
        directions = _objects(["outbound", "inbound"])
        channels = _objects([None, "teams", "webchat"])

        def direction(c: Columns, i: IntArray) -> list[str]:
            listed: list[str] = directions[c.i2[i]].tolist()
            return listed

        self.specific: dict[str, Specific] = {
            "conversation": self._conversation,
            "sms": lambda c, i: [direction(c, i), _or_default(c.i1[i])],
            "mms": lambda c, i: [direction(c, i), _or_default(c.i1[i])],
            "voice_call": lambda c, i: [direction(c, i), c.i1[i].tolist()],
            "api_request": lambda c, i: [_or_default(c.i1[i])],
            "storage": lambda c, i: [c.f1[i].tolist()],
            "phone_rental": lambda c, i: [numbers[c.i1[i]].tolist()],
            "phone_purchase": lambda c, i: [numbers[c.i1[i]].tolist()],
            "brand_registration": lambda c, i: [brands[c.i1[i]].tolist()],
            "knowledge_base": lambda c, i: [kbs[c.i1[i]].tolist()],
            "kb_usage": lambda c, i: [kbs[c.i1[i]].tolist(), c.f1[i].tolist()],
            "bot_message": lambda c, i: [channels[c.i2[i]].tolist()],
            "ticket": self._ticket,
        }

    def events(self, columns: Columns, rng: np.random.Generator) -> tuple[list[Event], IntArray]:
        """One Event per row, grouped by kind, and the row of each (call inside ``paused_gc``;
        the caller puts them in arrival order, so they are not put back in row order here)."""
        ids = ulids(columns.time_ms, rng)
        times = np.datetime_as_string(
            columns.time_ms.astype("datetime64[ms]"), unit="ms", timezone="UTC"
        ).astype(object)
        made: list[Event] = []
        rows: list[IntArray] = [np.empty(0, dtype=np.int64)]
        for kind in KINDS:
            where = np.flatnonzero(columns.kind == KIND[kind])
            if len(where):
                made += self._kind(kind, columns, where, ids[where], times[where])
                rows.append(where)
        return made, np.concatenate(rows)

    def _kind(
        self, kind: str, c: Columns, where: IntArray, ids: ObjectArray, times: ObjectArray
    ) -> list[Event]:
        names = c.names[where]
        org, user = c.org[where], c.user[where]
        some_user = np.maximum(user, 0)
        named = (names & 2) * (user >= 0)
        data = list(
            map(
                DATA[kind],
                self.org_ids[org].tolist(),
                *self.specific[kind](c, where),
                _where(names & 1, self.org_names[org]).tolist(),
                _where(named, self.user_names[some_user]).tolist(),
                _where(named, self.user_emails[some_user]).tolist(),
            )
        )
        tenant = c.tenant[where]
        return list(
            map(
                Event,
                repeat("1.0"),
                ids.tolist(),
                self.sources[kind][tenant].tolist(),
                repeat(kind),
                times.tolist(),
                self.tenants[tenant].tolist(),
                _where(user >= 0, self.user_ids[some_user]).tolist(),
                data,
            )
        )

    def _conversation(self, c: Columns, where: IntArray) -> list[list[Any]]:
        agent = c.agent[where]
        return [
            self.agent_ids[agent].tolist(),
            self.conversation_types[c.i2[where]].tolist(),
            c.i1[where].tolist(),
            _where(c.names[where] & 4, self.agent_names[agent]).tolist(),
        ]

    def _ticket(self, c: Columns, where: IntArray) -> list[list[Any]]:
        tenants = self.tenants[c.tenant[where]].tolist()
        ticket_ids = [f"TCK-{number}" for number in c.i1[where].tolist()]
        with_url = c.i2[where].tolist()
        urls = [
            f"https://helpdesk.{tenant}.example/tickets/{ticket}" if url else None
            for tenant, ticket, url in zip(tenants, ticket_ids, with_url, strict=True)
        ]
        return [ticket_ids, urls]


def _objects(values: list[Any]) -> ObjectArray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _where(condition: npt.NDArray[Any], values: ObjectArray) -> ObjectArray:
    """``values`` where ``condition`` holds, else None."""
    chosen = values.copy()
    chosen[condition == 0] = None
    return chosen


def _or_default(values: IntArray) -> list[int | None]:
    """0 stands for a field left out (its default, 1, applies)."""
    chosen = values.astype(object)
    chosen[values == 0] = None
    listed: list[int | None] = chosen.tolist()
    return listed
