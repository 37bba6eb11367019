"""Sharing's background tasks: the email copy of a notification to a rep (when SMTP is
set), and the hourly notice of links whose content was retired or expired."""

from __future__ import annotations

from huey import crontab

from portal.queue import task


@task("notify_withdrawn_shares", schedule=crontab(minute="20", hour="*"))
def notify_withdrawn_shares() -> None:
    from portal.sharing.visits import notify_withdrawn

    notify_withdrawn()


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
