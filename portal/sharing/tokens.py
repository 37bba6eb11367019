"""Link and visit tokens: 32 bytes (256 bits) from `secrets`, URL-safe. Only their
SHA-256 is stored and links are looked up by it, so the database never holds a
working URL and ids say nothing about tokens."""

from __future__ import annotations

import hashlib
import re
import secrets

TOKEN_BYTES = 32
# What a token of ours looks like; anything else is unknown without a database read.
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def well_formed(token: str) -> bool:
    return bool(TOKEN_SHAPE.match(token or ""))
