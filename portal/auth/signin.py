"""Signing in with an email and a password, for the sign-in page and the tokens API.

- Throttled per account and per client address: failed sign-ins are rows of
  `login_attempts` (so every web worker counts the same ones), and once an
  account or an address has `per_account` / `per_address` failures within the
  window, sign-in is refused with 429 for a wait that doubles with each further
  failure (1 minute, 2, 4, ... never longer than the window), even with the
  right password. Unknown emails are counted like known ones, so the limit does
  not tell which emails have accounts. A wait is counted from the failures in
  the window before the latest one, so it lasts its whole length; rows older
  than two windows are deleted whenever a failure is written, so the table
  holds at most two windows of failures.
- Unknown and deactivated accounts run the same password-hash work as a wrong
  password, so the answer's timing does not tell either.
- Every failure and every refusal is logged (logger `portal.auth`, WARNING)
  with the email as typed and the client address: that is the audit trail; the
  table is only the throttle's short memory.
"""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from portal.config import Settings
from portal.errors import TooManyRequests
from portal.extensions import db
from portal.models import LoginAttempt, User, utcnow

log = logging.getLogger("portal.auth")

# The time sign-in sees; tests replace it to move time instead of sleeping.
clock: Callable[[], datetime] = utcnow

EMAIL_LIMIT = 254
ADDRESS_LIMIT = 64


@dataclass(frozen=True)
class Throttle:
    per_account: int
    per_address: int
    window: timedelta
    first_wait: timedelta = timedelta(minutes=1)

    @classmethod
    def from_settings(cls, settings: Settings) -> Throttle:
        return cls(settings.login_failures_per_account, settings.login_failures_per_address,
                   timedelta(minutes=settings.login_window_minutes))

    def wait(self, failures: int, limit: int) -> timedelta:
        """How long after the latest failure sign-in stays refused (nothing below the limit)."""
        if failures < limit:
            return timedelta(0)
        return min(self.window, self.first_wait * 2 ** min(failures - limit, 30))


class TooManyAttempts(TooManyRequests):
    pass


_dummy_hash: str | None = None


def _hash_for_unknown_account() -> str:
    """A hash of a random password, made like real ones (same method and cost)."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = generate_password_hash(secrets.token_urlsafe(16))
    return _dummy_hash


def normalize_email(email: str) -> str:
    return email.strip().lower()[:EMAIL_LIMIT]


def sign_in(email: str, password: str, address: str | None, throttle: Throttle,
            now: datetime | None = None) -> User | None:
    """The user if the email and password match an active account; None otherwise.
    Raises TooManyAttempts (429) while the account or the address is throttled."""
    now = now or clock()
    email = normalize_email(email)
    address = (address or "unknown")[:ADDRESS_LIMIT]
    _refuse_if_throttled(email, address, throttle, now)

    user = db.session.execute(select(User).where(func.lower(User.email) == email)).scalar_one_or_none()
    # The hash runs whether or not the account exists or is active (see the module's docstring).
    matches = check_password_hash(user.password_hash if user is not None else _hash_for_unknown_account(),
                                  password)
    if user is not None and user.active and matches:
        db.session.execute(delete(LoginAttempt).where(LoginAttempt.email == email))
        db.session.commit()
        return user

    reason = "unknown account" if user is None else "wrong password" if not matches else "deactivated account"
    log.warning("sign-in failed (%s) for %r from %s", reason, email, address)
    db.session.add(LoginAttempt(email=email, address=address, created_at=now))
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.created_at < now - 2 * throttle.window))
    db.session.commit()
    return None


def _refuse_if_throttled(email: str, address: str, throttle: Throttle, now: datetime) -> None:
    waits = []
    for column, value, limit in ((LoginAttempt.email, email, throttle.per_account),
                                 (LoginAttempt.address, address, throttle.per_address)):
        latest = db.session.scalar(select(func.max(LoginAttempt.created_at))
                                   .where(column == value, LoginAttempt.created_at >= now - throttle.window))
        if latest is None:
            continue
        # The failures as the latest one left them: a wait, once set, lasts its whole
        # length even while older failures leave the window.
        failures = db.session.scalar(select(func.count()).select_from(LoginAttempt)
                                     .where(column == value, LoginAttempt.created_at >= latest - throttle.window))
        waits.append(latest + throttle.wait(failures, limit) - now)
    wait = max(waits, default=timedelta(0))
    if wait > timedelta(0):
        seconds = math.ceil(wait.total_seconds())
        log.warning("sign-in refused for %r from %s: throttled for %d s", email, address, seconds)
        raise TooManyAttempts(f"Too many failed sign-ins for this account or from your network. "
                              f"Try again in {_duration(seconds)}.", retry_after=seconds)


def _duration(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'' if seconds == 1 else 's'}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'' if minutes == 1 else 's'}"
