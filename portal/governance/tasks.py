"""Governance's periodic jobs: scheduled publishing, and review-by reminders."""

from __future__ import annotations

from flask import current_app
from huey import crontab

from portal.queue import task


@task("publish_scheduled", schedule=crontab(minute="1,16,31,46"))
def publish_scheduled() -> None:
    """Every quarter of an hour: publish the scheduled items whose day has come."""
    from portal.library.publishing import publish_due

    publish_due()


@task("remind_reviews", schedule=crontab(minute="20", hour="7"))
def remind_reviews() -> None:
    """Daily: remind owners of items whose review-by date is near or past."""
    from portal.governance.verification import send_reminders

    send_reminders(current_app.config["SETTINGS"])
