"""Notifications: in-app messages for every user (and email when SMTP is set).

routes.py (pages, blueprint `notifications`), services.py (notify, email, read state)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """The unread count in the navigation bar."""
    from portal.notifications import services
    from portal.viewhelpers import add_nav_badges

    add_nav_badges(app, lambda user: {"notifications": services.unread_count(user.id)})
