"""Notifications: in the app for every user, and by email when SMTP is set
(flags on your items, expiry warnings, ...)."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from sqlalchemy import func, select, update
from werkzeug.exceptions import NotFound

from portal.config import Settings
from portal.extensions import db
from portal.models import Notification, User, utcnow
from portal.pagination import Listing, count_rows

log = logging.getLogger(__name__)


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


def notifications_for(user: User, page: int = 1, per_page: int = 30) -> Listing:
    query = select(Notification).where(Notification.user_id == user.id)
    items = list(db.session.scalars(
        query.order_by(Notification.created_at.desc(), Notification.id.desc())
        .offset((page - 1) * per_page).limit(per_page)
    ))
    return Listing(items, count_rows(query), page, per_page)


def mark_read(user: User, notification_id: int) -> Notification:
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user.id:
        raise NotFound()
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.commit()
    return notification


def mark_all_read(user: User) -> int:
    result = db.session.execute(
        update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    db.session.commit()
    return result.rowcount or 0


def header_value(text: str, limit: int = 400) -> str:
    """One line for a mail header: titles and names may hold line breaks and other
    control characters, which would end the header (email refuses them)."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())[:limit]


def email(settings: Settings, to: str, subject: str, body: str) -> bool:
    """Send a plain email through the configured SMTP relay; False when it could not be sent
    (the in-app notification is there already: mail is a courtesy)."""
    message = EmailMessage()
    message["From"], message["To"] = header_value(settings.smtp_from), header_value(to)
    message["Subject"] = header_value(subject)
    message.set_content(body)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException):
        log.warning("could not email %r to %s", subject, to, exc_info=True)
        return False
    return True
