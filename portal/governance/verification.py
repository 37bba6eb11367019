"""Owners keep content verified: each published item has a review-by date (its
content type's period after publishing or the last verification); owners are
reminded before it passes (in the app, and by email when SMTP is set); verifying
is one click that records who and when. Overdue items show "needs review" to
staff and become retirement candidates (portal/analytics/retirement.py)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from portal.config import Settings
from portal.extensions import db
from portal.library import audit
from portal.library.policies import review_by_from
from portal.library.publishing import TransitionRefused, lock_asset
from portal.models import Asset, AssetStatus, User, utcnow
from portal.notifications.services import email, notify

REMIND_DAYS_BEFORE = 14  # the first reminder this many days before the review-by date
LISTED_PER_REMINDER = 10


def verify(asset: Asset, user: User, today: date | None = None) -> Asset:
    """The item's content is still right: record who and when; the next review-by date follows."""
    asset = lock_asset(asset)
    if asset.status != AssetStatus.PUBLISHED:
        db.session.rollback()
        raise TransitionRefused(asset, "verify", f"“{asset.title}” is not published; only published items are "
                                                 "verified.")
    old = asset.review_by
    asset.verified_at, asset.verified_by_id = utcnow(), user.id
    asset.review_by = review_by_from(asset.content_type, today)
    audit.record(asset.id, user, "verified", "review_by", old, asset.review_by)
    db.session.commit()
    return asset


def days_since_verified(asset: Asset, today: date | None = None) -> int | None:
    when = asset.last_verified_at
    return None if when is None else max(0, ((today or date.today()) - when.date()).days)


@dataclass
class ReminderReport:
    reminded: list[int] = field(default_factory=list)
    owners: int = 0
    emails_sent: int = 0


def _line(asset: Asset, today: date) -> str:
    days = (asset.review_by - today).days
    when = (f"{-days} day{'' if days == -1 else 's'} overdue" if days < 0 else "today" if days == 0
            else f"in {days} day{'' if days == 1 else 's'}")
    return f"“{asset.title}” (review by {asset.review_by.isoformat()}, {when})"


def send_reminders(settings: Settings, today: date | None = None) -> ReminderReport:
    """Remind each owner once per item and review-by date, in one message listing their items."""
    today = today or utcnow().date()
    due = list(db.session.scalars(
        select(Asset).options(joinedload(Asset.owner))
        .where(Asset.status == AssetStatus.PUBLISHED, Asset.review_by <= today + timedelta(days=REMIND_DAYS_BEFORE),
               or_(Asset.review_reminded_for.is_(None), Asset.review_reminded_for != Asset.review_by))
        .order_by(Asset.review_by, Asset.id)))
    by_owner: dict[int, list[Asset]] = defaultdict(list)
    for asset in due:
        asset.review_reminded_for = asset.review_by
        by_owner[asset.owner_id].append(asset)
    report = ReminderReport(reminded=[a.id for a in due], owners=len(by_owner))
    messages = []
    for assets in by_owner.values():
        owner = assets[0].owner
        lines = [_line(a, today) for a in assets[:LISTED_PER_REMINDER]]
        more = len(assets) - len(lines)
        body = (f"{len(assets)} of your items need{'s' if len(assets) == 1 else ''} verifying: "
                + "; ".join(lines) + (f"; and {more} more" if more > 0 else "")
                + ". Open each and click “Verify” if it is still right, or publish a new version.")
        link = f"/assets/{assets[0].id}" if len(assets) == 1 else "/library?status=needs_review"
        notify(owner.id, body, link=link)
        messages.append((owner.email, f"Review due: {assets[0].title}" if len(assets) == 1
                         else f"{len(assets)} items due for review", body))
    db.session.commit()
    if settings.smtp_host:
        for to, subject, body in messages:
            if email(settings, to, subject, body):
                report.emails_sent += 1
    return report
