"""Notification pages: the list, open one, mark read."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.access import EVERYONE, allow
from portal.notifications import services
from portal.pagination import page_number

bp = Blueprint("notifications", __name__)


@bp.get("/notifications")
@allow(*EVERYONE)
def index():
    return render_template("notifications/index.html",
                           result=services.notifications_for(current_user, page_number(request.args)))


@bp.post("/notifications/<int:notification_id>/read")
@allow(*EVERYONE)
def read(notification_id: int):
    notification = services.mark_read(current_user, notification_id)
    if request.form.get("open") and notification.link and notification.link.startswith("/") \
            and not notification.link.startswith("//"):
        return redirect(notification.link)
    return redirect(url_for("notifications.index"))


@bp.post("/notifications/read-all")
@allow(*EVERYONE)
def read_all():
    count = services.mark_all_read(current_user)
    flash(f"Marked {count} notification{'s' if count != 1 else ''} as read." if count else "Nothing unread.",
          "success")
    return redirect(url_for("notifications.index"))
