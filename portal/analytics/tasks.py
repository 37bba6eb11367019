"""Scheduled analytics upkeep: rollups, and the expiry job."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from huey import crontab

from portal.queue import task

ROLLUP_EVERY_MINUTES = 15


@task("rollup_recent_usage", retries=2, retry_delay=60, schedule=crontab(minute=f"*/{ROLLUP_EVERY_MINUTES}"))
def rollup_recent_usage() -> None:
    """Today and yesterday (events keep arriving just after midnight): the
    dashboards are at most a quarter of an hour behind the raw events."""
    from portal.analytics.rollups import rollup_days
    from portal.models import utcnow

    today = utcnow().date()  # events are stamped in UTC
    rollup_days([today - timedelta(days=1), today])


@task("expire_assets", schedule=crontab(minute="5", hour="*"))
def expire_assets() -> None:
    """Hourly: retire what expired, warn owners of what soon will."""
    from portal.analytics.retirement import run_expiry

    run_expiry(current_app.config["SETTINGS"])
