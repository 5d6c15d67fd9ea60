"""The usage key of each (organization, user) pair of a tenant, given to a commit's rows of the
per-day usage rollup before they are stored: the organizations and per-user answers then group
every row, new or compacted, by one integer.

The writer keeps each tenant's keys in memory once it has read them: at the bench's 100M events,
12.5 MB for the 98,517 pairs of its largest tenant, 26.3 MB for the 209,079 of all eight
(tracemalloc). Looking a commit's 500 pairs up in the table took 26 ms, in memory 0.1 ms.

Each key also says whether the directory places its user elsewhere than in its organization
(``elsewhere``): the organizations' answers list those users. Every write that adds keys or
moves a user keeps it, rather than every question joining the keys with the directory's users:
at 100M events, that join took 28 ms of the organizations' 134 in the engine (medians of 21,
alternated).
"""

from collections import defaultdict

import duckdb
import pyarrow as pa


def elsewhere(key: str, placed: str) -> str:
    """Whether the directory, which places the user of usage key row ``key`` in organization
    ``placed`` (NULL: in none, or holds no such user), places them elsewhere than in the key's
    organization. A key without a user is the organization's own."""
    return f"{key}.user_id <> '' AND {key}.organization_id IS DISTINCT FROM {placed}"


def place_keys(where: str) -> str:
    """Set ``elsewhere`` on the usage keys that meet ``where``, from the directory."""
    placed = """(
        SELECT d.organization_id FROM users d
        WHERE d.tenant_id = usage_keys.tenant_id AND d.user_id = usage_keys.user_id
    )"""
    return f"UPDATE usage_keys SET elsewhere = {elsewhere('usage_keys', placed)} WHERE {where}"


# A commit's new keys, registered as ``given_keys`` once the directory holds the users they
# name. At 100M events, storing 500 new keys took 8 ms with this join, 17 with ``place_keys``'s
# subquery, and 2 with no flag to find (medians of 15, alternated).
INSERT_GIVEN = f"""
    INSERT INTO usage_keys BY NAME
    SELECT g.*, {elsewhere("g", "d.organization_id")} AS elsewhere
    FROM given_keys g LEFT JOIN users d ON d.tenant_id = g.tenant_id AND d.user_id = g.user_id
"""

# After a user is put in $organization. At 100M events, 7.5 ms (a scan of the keys' users):
# finding out first whether they moved took as long (the engine scans the users for theirs).
PLACE_USER = f"""
    UPDATE usage_keys SET elsewhere = {elsewhere("usage_keys", "$organization")}
    WHERE tenant_id = $tenant AND user_id = $user
"""

_Pairs = dict[str, dict[str, int]]  # organization -> user -> usage key
_NONE: dict[str, int] = {}


class UsageKeys:
    """Keys given in a transaction are pending until it commits: only then may later
    transactions count on them being stored."""

    def __init__(self) -> None:
        self._stored: dict[int, _Pairs] = {}
        self._pending: dict[int, _Pairs] = defaultdict(dict)
        self._next: dict[int, int] = {}

    def keyed(self, con: duckdb.DuckDBPyConnection, rows: pa.Table) -> tuple[pa.Table, pa.Table]:
        """``rows`` (with tenant_id, organization_id and user_id) and their usage_key; and the
        keys given to pairs that had none, for the caller to store in ``con``'s transaction."""
        tenants = rows.column("tenant_id").to_pylist()
        organizations = rows.column("organization_id").to_pylist()
        users = rows.column("user_id").to_pylist()
        keys: list[int] = []
        given: list[tuple[int, int, str, str]] = []
        current = None
        for tenant, organization, user in zip(tenants, organizations, users, strict=True):
            if tenant != current:  # a tenant's maps looked up once per run of its rows
                current, stored, pending = tenant, self._of(con, tenant), self._pending[tenant]
            key = stored.get(organization, _NONE).get(user)
            if key is None:
                theirs = pending.setdefault(organization, {})
                key = theirs.get(user)
                if key is None:
                    key = theirs[user] = self._next[tenant]
                    self._next[tenant] += 1
                    given.append((tenant, key, organization, user))
            keys.append(key)
        return rows.append_column("usage_key", pa.array(keys, pa.int32())), _table(given)

    def _of(self, con: duckdb.DuckDBPyConnection, tenant: int) -> _Pairs:
        if tenant not in self._stored:
            self._load(con, tenant)
        return self._stored[tenant]

    def _load(self, con: duckdb.DuckDBPyConnection, tenant: int) -> None:
        pairs: _Pairs = {}
        rows = con.execute(
            "SELECT organization_id, user_id, usage_key FROM usage_keys WHERE tenant_id = ?",
            [tenant],
        ).fetchall()
        top = 0
        for organization, user, key in rows:
            pairs.setdefault(organization, {})[user] = key
            top = max(top, key)
        self._stored[tenant] = pairs
        self._next[tenant] = top + 1

    def committed(self) -> None:
        """The transaction that gave the pending keys committed: they are stored."""
        for tenant, pairs in self._pending.items():
            stored = self._stored[tenant]
            for organization, users in pairs.items():
                stored.setdefault(organization, {}).update(users)
        self._pending.clear()

    def forget(self) -> None:
        """Read every key again when next needed: after a failed transaction (its keys were
        never stored, and what it read may have been its own changes), or when a rebuild
        deletes them all."""
        self._stored.clear()
        self._pending.clear()
        self._next.clear()


def _table(given: list[tuple[int, int, str, str]]) -> pa.Table:
    columns = list(zip(*given, strict=True)) or [(), (), (), ()]
    return pa.table(
        {
            "tenant_id": pa.array(columns[0], pa.int32()),
            "usage_key": pa.array(columns[1], pa.int32()),
            "organization_id": pa.array(columns[2], pa.string()),
            "user_id": pa.array(columns[3], pa.string()),
        }
    )
