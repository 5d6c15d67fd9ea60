"""Event ids as the events table keeps them.

Most platforms name their events with ULIDs or UUIDs: 128 bits written as 26 or 36 characters,
which DuckDB's string compression keeps in about 19 bytes each, next to an 8-byte hash for
dedupe. A canonical ULID or UUID is kept as two 64-bit integers instead:

- its hash, which is its low half mixed with its high half (``low ^ mix(high)``), so that the low
  half can be read back from it, and so that ids whose low halves are counters still hash apart;
- its high half, less the event's time in milliseconds shifted left by 16 bits: a ULID's and a
  UUIDv7's high half begins with the milliseconds of their creation, so for ids made when their
  event happened this difference takes about 2 bytes after DuckDB's bit-packing.

Any other id (a ULID in lower case, a UUID in upper case, anything else) keeps its text and its
XXH3 hash. The text of an id is read back exactly as it was sent: only ids that their form writes
back identically are packed.
"""

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from xxhash import xxh3_64_intdigest

ULID = 1
UUID = 2

_LOW_64 = (1 << 64) - 1
_MIX_FACTOR = 0x9E3779B97F4A7C15  # 2**64 divided by the golden ratio, odd: spreads every bit
_MIX_SHIFT = 29
TIME_SHIFT = 16

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_HEX = "0123456789abcdef"
_HYPHENS = (8, 13, 18, 23)
# The forms for SQL's regular expressions (when version 12 rewrites a file's ids).
ULID_PATTERN = "^[0-7][0-9A-HJKMNP-TV-Z]{25}$"
UUID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"

Halves = npt.NDArray[np.uint64]
Characters = npt.NDArray[np.uint8]
_NOT_A_DIGIT = 255


def _digit_values(alphabet: str) -> npt.NDArray[np.uint8]:
    """Each byte's value as a digit of the alphabet, _NOT_A_DIGIT for other bytes."""
    table = np.full(256, _NOT_A_DIGIT, dtype=np.uint8)
    table[[ord(digit) for digit in alphabet]] = np.arange(len(alphabet), dtype=np.uint8)
    return table


_CROCKFORD_VALUES = _digit_values(CROCKFORD)
_HEX_VALUES = _digit_values(_HEX)
_POWERS_OF_32 = np.uint64(32) ** np.arange(12, -1, -1, dtype=np.uint64)
_POWERS_OF_16 = np.uint64(16) ** np.arange(15, -1, -1, dtype=np.uint64)


def mix(high: Halves) -> Halves:
    """A 64-bit function of ids' high halves, folded into their hashes (numpy's uint64
    arithmetic wraps modulo 2**64, as the SQL macro's masks do)."""
    product = high * np.uint64(_MIX_FACTOR)
    return product ^ (product >> np.uint64(_MIX_SHIFT))


def _characters(ids: pa.Array, width: int) -> Characters:
    """Ids of ``width`` bytes each, as a matrix of their bytes."""
    fixed = pc.cast(pc.cast(ids, pa.binary()), pa.binary(width))
    raw = np.frombuffer(fixed.buffers()[1], dtype=np.uint8)
    return raw[fixed.offset * width : (fixed.offset + len(fixed)) * width].reshape(-1, width)


def _all_digits(digits: Characters) -> npt.NDArray[np.bool_]:
    """Rows without _NOT_A_DIGIT. (Counted by a product with ones: numpy's reductions along
    rows of 26 values cost twice as much.)"""
    flags = (digits == _NOT_A_DIGIT).view(np.uint8)
    found: npt.NDArray[np.uint8] = flags @ np.ones(digits.shape[1], dtype=np.uint8)
    return np.equal(found, 0)


Read = tuple[npt.NDArray[np.bool_], Halves, Halves]
"""Which ids of a width are in a form, and the halves of each (meaningless where not)."""


def _read_ulids(characters: Characters) -> Read:
    # 26 digits of 5 bits hold 130 bits, the first 2 of which are 0 (the first digit is at most
    # 7): the high half is the first 13 digits and the top bit of the 14th, the low half the rest.
    digits = np.take(_CROCKFORD_VALUES, characters)
    fits = (digits[:, 0] < 8) & _all_digits(digits)
    middle = digits[:, 13].astype(np.uint64)
    high = ((digits[:, :13] @ _POWERS_OF_32) << np.uint64(1)) | (middle >> np.uint64(4))
    low = ((middle & np.uint64(15)) << np.uint64(60)) | (digits[:, 14:] @ _POWERS_OF_32[1:])
    return fits, high, low


def _read_uuids(characters: Characters) -> Read:
    digits = np.take(_HEX_VALUES, np.delete(characters, _HYPHENS, axis=1))
    hyphens = (characters[:, _HYPHENS] == ord("-")).all(axis=1)
    fits = hyphens & _all_digits(digits)
    return fits, digits[:, :16] @ _POWERS_OF_16, digits[:, 16:] @ _POWERS_OF_16


_FORMS = ((ULID, 26, _read_ulids), (UUID, 36, _read_uuids))


def text_hash(event_id: str) -> int:
    """A stable 64-bit hash of an id kept as text (XXH3, whose output is frozen by its
    specification): stored hashes must keep matching new ones across releases."""
    return xxh3_64_intdigest(event_id.encode())


def id_columns(ids: pa.Array, times: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array]:
    """A batch's id_hash, id_form and id_high columns, from its ids and its events' (naive
    UTC) times. For an id kept as text, id_form and id_high are null."""
    count = len(ids)
    hashes = np.zeros(count, dtype=np.uint64)
    forms = np.zeros(count, dtype=np.uint8)
    highs = np.zeros(count, dtype=np.uint64)
    lengths = pc.binary_length(ids).to_numpy(zero_copy_only=False)
    for form, width, read in _FORMS:
        rows = np.flatnonzero(lengths == width)
        if rows.size:
            fits, high, low = read(_characters(ids.take(pa.array(rows)), width))
            rows, high, low = rows[fits], high[fits], low[fits]
            forms[rows], highs[rows], hashes[rows] = form, high, low ^ mix(high)
    as_text = np.flatnonzero(forms == 0)
    texts = ids.take(pa.array(as_text)).to_pylist()
    hashes[as_text] = np.fromiter(map(text_hash, texts), dtype=np.uint64, count=as_text.size)
    micros = pc.cast(times, pa.int64()).to_numpy(zero_copy_only=False)
    # Events are never before 1970: floor and truncation agree, as in SQL_MILLIS.
    offsets = (micros // 1000).astype(np.uint64) << np.uint64(TIME_SHIFT)
    text_mask = forms == 0
    return (
        pa.array(hashes),
        pa.array(forms, mask=text_mask),
        pa.array((highs - offsets).view(np.int64), mask=text_mask),
    )


# Reading ids back, in SQL: the file's macros, with which the events view shows every id's text.


_CROCKFORD_PAIRS = "".join(first + second for first in CROCKFORD for second in CROCKFORD)


def _ulid_digit_pair(shift: int) -> str:
    """The two digits that write bits shift .. shift + 9 of (high, low): one look-up in the
    1,024 pairs instead of two in the digits reads ids back 2.7 times as fast."""
    if shift >= 64:
        bits = f"(high >> {shift - 64}::UBIGINT)"
    elif shift + 10 <= 64:
        bits = f"(low >> {shift}::UBIGINT)"
    else:  # the pair spans both halves; DuckDB refuses shifts that overflow, so mask first
        high_bits = (1 << (shift + 10 - 64)) - 1
        bits = f"((low >> {shift}::UBIGINT) | ((high & {high_bits}::UBIGINT) << {64 - shift}))"
    return f"substr('{_CROCKFORD_PAIRS}', (2 * ({bits} & 1023::UBIGINT) + 1)::BIGINT, 2)"


def _sql_mix(high: str) -> str:
    product = f"((({high})::UHUGEINT * {_MIX_FACTOR}::UHUGEINT) & {_LOW_64}::UHUGEINT)::UBIGINT"
    return f"xor({product}, {product} >> {_MIX_SHIFT}::UBIGINT)"


# An event's milliseconds as the difference is taken from them: epoch_ms rounds to the nearest.
SQL_MILLIS = "(epoch_us(time) // 1000)"

SQL_MACROS = (
    f"CREATE MACRO event_id_mix(high) AS {_sql_mix('high')}",
    # The stored difference back to the high half, modulo 2**64 as it was taken.
    f"""CREATE MACRO event_id_high(id_high, time) AS
        ((id_high::HUGEINT + ({SQL_MILLIS}::HUGEINT << {TIME_SHIFT})) & {_LOW_64}::HUGEINT)
        ::UBIGINT""",
    f"""CREATE MACRO event_id_ulid(high, low) AS
        {" || ".join(_ulid_digit_pair(shift) for shift in range(120, -1, -10))}""",
    """CREATE MACRO event_id_uuid(high, low) AS
        printf('%08x-%04x-%04x-%04x-%012x', high >> 32::UBIGINT,
               (high >> 16::UBIGINT) & 65535::UBIGINT, high & 65535::UBIGINT,
               low >> 48::UBIGINT, low & 281474976710655::UBIGINT)""",
    f"""CREATE MACRO event_id_text(id_text, id_form, id_high, id_hash, time) AS
        CASE id_form
            WHEN {ULID} THEN event_id_ulid(event_id_high(id_high, time),
                                   xor(id_hash, event_id_mix(event_id_high(id_high, time))))
            WHEN {UUID} THEN event_id_uuid(event_id_high(id_high, time),
                                   xor(id_hash, event_id_mix(event_id_high(id_high, time))))
            ELSE id_text
        END""",
)
