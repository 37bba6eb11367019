"""Scheduled analytics upkeep: rollups, and the expiry job."""

from __future__ import annotations

from flask import current_app
from huey import crontab

from portal.queue import SLOW, task

ROLLUP_EVERY_MINUTES = 15


@task("rollup_recent_usage", retries=2, retry_delay=60, lane=SLOW,
      schedule=crontab(minute=f"*/{ROLLUP_EVERY_MINUTES}"))
def rollup_recent_usage() -> None:
    """Fold the uses recorded since the last run into the rollups. Dashboards
    do not wait for it (they read those uses raw meanwhile); it keeps that raw
    part to about a quarter of an hour of uses."""
    from portal.analytics.rollups import rollup_recent

    rollup_recent()


@task("expire_assets", schedule=crontab(minute="5", hour="*"))
def expire_assets() -> None:
    """Hourly: retire what expired, warn owners of what soon will."""
    from portal.analytics.retirement import run_expiry

    run_expiry(current_app.config["SETTINGS"])
