"""Scheduled upkeep of the home page's recommendations (never in a request)."""

from __future__ import annotations

from huey import crontab

from portal.queue import SLOW, task


@task("refresh_recommendations", retries=1, retry_delay=300, lane=SLOW, schedule=crontab(minute="40"))
def refresh_recommendations() -> None:
    """Hourly: who used what in each team and region, and what is used together, over the last 30 days."""
    from portal.collections.recommendations import refresh_recommendations as refresh

    refresh()
