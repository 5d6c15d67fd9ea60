"""API keys: ``<prefix>_sk_<env>_<secret>``, shown once, stored only as a SHA-256 digest."""

import hashlib
import hmac
import re
import secrets
import string
from dataclasses import dataclass
from typing import Literal

KeyEnv = Literal["live", "test"]
KeyKind = Literal["tenant", "operator"]

_ALPHABET = string.ascii_letters + string.digits
_SECRET_LENGTH = 40  # about 238 bits of entropy
_KEY_SHAPE = re.compile(
    r"^(?P<prefix>[a-z][a-z0-9]*)_sk_(?P<env>live|test)_(?P<secret>[A-Za-z0-9]+)$"
)


@dataclass(frozen=True)
class NewKey:
    key_id: str
    plaintext: str
    key_hash: str
    hint: str
    env: KeyEnv


def digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def looks_like_key(token: str, prefix: str) -> bool:
    match = _KEY_SHAPE.match(token)
    return match is not None and match.group("prefix") == prefix


def generate(prefix: str, env: KeyEnv) -> NewKey:
    secret = "".join(secrets.choice(_ALPHABET) for _ in range(_SECRET_LENGTH))
    plaintext = f"{prefix}_sk_{env}_{secret}"
    return NewKey(
        key_id="key_" + secrets.token_hex(6),
        plaintext=plaintext,
        key_hash=digest(plaintext),
        hint=f"{prefix}_sk_{env}_…{secret[-4:]}",
        env=env,
    )


def matches(plaintext: str, stored_hash: str) -> bool:
    return hmac.compare_digest(digest(plaintext), stored_hash)
