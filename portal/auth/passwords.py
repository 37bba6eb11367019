"""Which passwords may be set: long enough, not a common one, not the email.

The common passwords are those of 8 characters or more in Django's list of the
20,000 most common (common-passwords.txt beside this file, with its licence),
compared in lower case, plus what no list needs to hold: too few distinct
characters (`aaaaaaaa`, `abababab`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

MIN_LENGTH = 8
MIN_DISTINCT = 4
COMMON_PASSWORDS = Path(__file__).with_name("common-passwords.txt")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def password_problem(password: str, email: str = "") -> str | None:
    """Why `password` may not be set for the account `email`, or None if it may."""
    if len(password) < MIN_LENGTH:
        return f"Passwords need at least {MIN_LENGTH} characters."
    folded = password.strip().lower()
    email = email.strip().lower()
    if email and folded in (email, email.partition("@")[0]):
        return "The password may not be the email address."
    if len(set(folded)) < MIN_DISTINCT or folded in common_passwords():
        return "That password is too common or too easy to guess; choose a less predictable one."
    return None
