"""Sharing's background task: the email copy of a notification to a rep (when SMTP is set)."""

from __future__ import annotations

from portal.queue import task


@task("email_share_notice", retries=2, retry_delay=60)
def email_share_notice(notification_id: int) -> None:
    from flask import current_app

    from portal.extensions import db
    from portal.models import Notification, User
    from portal.notifications.services import email

    settings = current_app.config["SETTINGS"]
    notification = db.session.get(Notification, notification_id)
    if not settings.smtp_host or notification is None:
        return
    user = db.session.get(User, notification.user_id)
    if user is None or not user.active:
        return
    email(settings, user.email, "Your shared link: " + notification.message[:120],
          notification.message + (f"\n\nSee the link's visits: {notification.link}" if notification.link else ""))
