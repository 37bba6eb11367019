"""In-app notifications (flags on your items, expiry warnings, ...)."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Notification


def notify(user_id: int, message: str, link: str | None = None) -> Notification:
    """Queue a notification for a user (committed with the caller's transaction)."""
    notification = Notification(user_id=user_id, message=message[:2000], link=link)
    db.session.add(notification)
    return notification


def unread_count(user_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    ) or 0
