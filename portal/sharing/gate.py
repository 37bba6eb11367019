"""A link's gate: the buyer's email (when the rep asks for it) and the passcode (when
the link has one), checked before anything is shown.

Failures (a wrong passcode, a malformed email) are kept in the database for the
throttling window, so every web worker counts them: after N failures from one
client address at one link (SHARE_FAILURES_PER_ADDRESS), or N from anywhere at
one link (SHARE_FAILURES_PER_LINK), the gate answers 429 until the window since
the latest failure has passed, even for the right passcode. Each failure and each
refusal is logged (logger `portal.sharing.gate`)."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash

from portal.errors import InvalidInput, TooManyRequests
from portal.extensions import db
from portal.models import ShareGateFailure, ShareLink, utcnow

log = logging.getLogger(__name__)

EMAIL = re.compile(r"^[^@\s<>\"']{1,64}@[^@\s<>\"']+\.[^@\s<>\"']{2,}$")
EMAIL_LIMIT = 254
ADDRESS_LIMIT = 64


@dataclass(frozen=True)
class GateLimits:
    per_address: int
    per_link: int
    window: timedelta

    @classmethod
    def from_settings(cls, settings) -> GateLimits:
        return cls(settings.share_failures_per_address, settings.share_failures_per_link,
                   timedelta(minutes=settings.share_window_minutes))


class Locked(TooManyRequests):
    pass


def needs_gate(link: ShareLink) -> bool:
    return link.require_email or link.passcode_hash is not None


def _locked_for(link: ShareLink, address: str, limits: GateLimits, now: datetime) -> int:
    """Seconds this address must wait at this link (0: it may try)."""
    since = now - limits.window
    waits = []
    for condition, limit in (((ShareGateFailure.address == address), limits.per_address), (None, limits.per_link)):
        query = select(func.count(), func.max(ShareGateFailure.created_at)).where(
            ShareGateFailure.link_id == link.id, ShareGateFailure.created_at >= since)
        if condition is not None:
            query = query.where(condition)
        count, latest = db.session.execute(query).one()
        if count >= limit and latest is not None:
            waits.append((latest + limits.window - now).total_seconds())
    return max(0, math.ceil(max(waits, default=0)))


def _fail(link: ShareLink, address: str, reason: str, limits: GateLimits, now: datetime) -> None:
    log.warning("share link %s: gate failed (%s) from %s", link.id, reason, address)
    db.session.add(ShareGateFailure(link_id=link.id, address=address, created_at=now))
    db.session.execute(delete(ShareGateFailure).where(ShareGateFailure.created_at < now - 2 * limits.window))
    db.session.commit()


def check(link: ShareLink, form: Mapping[str, str], address: str | None, limits: GateLimits,
          now: datetime | None = None) -> str | None:
    """The visitor's email (None when not asked for) if the gate lets them in.
    Raises Locked (429) while throttled, InvalidInput (422) with what to fix."""
    now = now or utcnow()
    address = (address or "unknown")[:ADDRESS_LIMIT]
    wait = _locked_for(link, address, limits, now)
    if wait:
        log.warning("share link %s: gate locked for %s (%d s)", link.id, address, wait)
        raise Locked(f"Too many failed attempts at this link. Try again in {max(1, round(wait / 60))} min.",
                     retry_after=wait)
    errors: dict[str, str] = {}
    email = None
    if link.require_email:
        raw = form.get("email")
        email = " ".join(raw.split()).lower() if isinstance(raw, str) else ""
        if not email or len(email) > EMAIL_LIMIT or not EMAIL.match(email):
            errors["email"] = "Enter your work email address (name@company.com)."
    if link.passcode_hash is not None:
        raw = form.get("passcode")
        passcode = raw if isinstance(raw, str) else ""
        if not passcode or len(passcode) > 200 or not check_password_hash(link.passcode_hash, passcode):
            errors["passcode"] = "That passcode is not right."
    if errors:
        _fail(link, address, ", ".join(sorted(errors)), limits, now)
        raise InvalidInput("Please check what you entered.", errors)
    return email
