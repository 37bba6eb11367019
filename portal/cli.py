"""Operator commands: `flask --app portal <command>`."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from portal.errors import InvalidInput
from portal.models import ROLES

db_cli = AppGroup("db", help="Database schema (Alembic migrations).")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from portal.database import upgrade

    upgrade(revision)
    click.echo(f"Database at {revision}.")


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--password", required=True)
@click.option("--name", default=None)
@click.option("--team", default=None)
@click.option("--region", default=None)
def create_user(email, role, password, name, team, region) -> None:
    """Create a user, or update one with this email."""
    from portal.admin.services import save_user

    try:
        user, created = save_user(email, role=role, password=password, name=name, team=team, region=region,
                                  active=True)
    except InvalidInput as error:
        raise click.ClickException("; ".join(f"{k}: {v}" for k, v in error.fields.items()) or error.message) from None
    click.echo(f"{'Created' if created else 'Updated'} {user.email} ({user.role}).")


class _Progress:
    """Progress of a long command with its ETA: a bar on a terminal, else a line
    every `every` seconds (the logs of a service). `done` is the work done before
    this run (a resumed one): the ETA follows this run's pace only."""

    def __init__(self, total: int, done: int, label: str, unit: str, every: float = 10.0):
        import sys
        import time

        self.total, self.done, self.start, self.label, self.unit, self.every = total, done, done, label, unit, every
        self._clock = time.monotonic
        self._started = self._last = self._clock()
        self._bar = None
        if sys.stdout.isatty():
            self._bar = click.progressbar(length=max(total - done, 0), show_pos=True, show_eta=True,
                                          label=f"{label} ({done:,} done before)" if done else label)
            self._bar.__enter__()

    def update(self, count: int) -> None:
        self.done += count
        if self._bar is not None:
            self._bar.update(count)
            return
        now = self._clock()
        if now - self._last >= self.every or self.done >= self.total:
            self._last = now
            click.echo(f"{self.label}: {self.done:,} of {self.total:,} {self.unit} ({self.percent}), {self.eta(now)}")

    @property
    def percent(self) -> str:
        return f"{100 * self.done / self.total:.0f}%" if self.total else "100%"

    def eta(self, now: float) -> str:
        if self.done >= self.total:
            return "done"
        rate = (self.done - self.start) / max(now - self._started, 1e-9)
        if rate <= 0:
            return "ETA unknown"
        seconds = int((self.total - self.done) / rate)
        return f"{rate:,.1f} {self.unit}/s, ETA {seconds // 60} min {seconds % 60:02d} s"

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


@click.command("reindex")
@click.option("--batch-size", default=200, show_default=True, help="Assets read from the database at a time.")
@click.option("--commit-every", default=2_000, show_default=True, type=click.IntRange(1),
              help="Assets per commit (and index segment); a run killed resumes from its last commit.")
def reindex(batch_size: int, commit_every: int) -> None:
    """Rebuild the search index from the database (resumes a rebuild that was cut off).

    The live index keeps serving until the new one is swapped in; memory stays
    bounded (one batch of assets at a time)."""
    from portal.search.indexing import reindex_all
    from search.index import RebuildRunning

    progress: _Progress | None = None

    def start(done: int, total: int) -> None:
        nonlocal progress
        if done:
            click.echo(f"Resuming a rebuild that was cut off: {done:,} of {total:,} assets already indexed.")
        progress = _Progress(total, done, "Indexing assets", "assets")

    try:
        count = reindex_all(on_progress=lambda n: progress.update(n), batch_size=batch_size, on_start=start,
                            commit_every=commit_every)
    except RebuildRunning as error:
        raise click.ClickException(str(error)) from None
    finally:
        if progress is not None:
            progress.close()
    click.echo(f"Indexed {count} assets.")


@click.command("index-check")
def index_check() -> None:
    """Report assets missing from, or stale in, the search index."""
    from portal.search.indexing import index_check as run_check

    report = run_check()
    for name in ("missing", "stale", "extra"):
        click.echo(f"{name}: {len(report[name])}" + (f" {report[name][:20]}" if report[name] else ""))
    if any(report.values()):
        raise SystemExit(1)


@click.command("worker")
@click.option("--workers", default=2, show_default=True, help="Threads of the slow lane (processing, decks).")
@click.option("--lane", type=click.Choice(["all", "quick", "slow"]), default="all", show_default=True,
              help="Which lane to consume: both (default), or one for a worker of its own.")
def worker(workers: int, lane: str) -> None:
    """Consume the task queue (production, with REDIS_URL); starts with a sweep. The quick lane
    (index updates) has a thread of its own, so it never waits behind the slow lane."""
    from portal.queue import LANES, get_queue
    from portal.sweeper import sweep

    queue = get_queue()
    lanes = LANES if lane == "all" else (lane,)
    # Work a worker that died was doing is picked up again before anything else.
    click.echo(f"Sweep: {sweep()}.")
    threads = {"quick": 1, "slow": workers}
    click.echo(f"Consuming {type(queue.huey).__name__}: "
               + ", ".join(f"{name} lane with {threads[name]} thread(s)" for name in lanes) + ".")
    queue.run_consumers(lanes, slow_workers=workers)


@click.command("sweep")
def sweep_command() -> None:
    """Pick up work a dead process cut off, remove its work directories and partial uploads
    (the queue does this every minute)."""
    from portal.sweeper import sweep

    report = sweep()
    click.echo(f"Sweep: {report}.")
    if report.problems:
        raise SystemExit(1)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--workers", default=None, type=click.IntRange(1, 64),
              help="Worker processes (default: 1 on the embedded queue, else 2).")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256))
def serve(host: str, port: int, workers: int | None, threads: int) -> None:
    """Serve the portal on gunicorn (threaded workers); the embedded queue runs inside it."""
    from portal.server import serve as run_server

    embedded = current_app.config["START_EMBEDDED_WORKER"]
    run_server(host, port, workers or (1 if embedded else 2), threads)


@click.command("rollup")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="First day to roll up (default: the first day with events).")
@click.option("--until", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Last day to roll up (default: the last day with events).")
def rollup(since, until) -> None:
    """Rebuild the analytics rollups from the raw usage events (all days by default)."""
    from portal.analytics.rollups import event_day_range, rebuild_rollups

    since, until = since and since.date(), until and until.date()
    span = event_day_range()
    if span is None:
        click.echo("No usage recorded yet; nothing to roll up.")
        return
    first, last = since or span[0], until or span[1]
    if first > last:
        raise click.BadParameter("--since is after --until.")
    with click.progressbar(length=(last - first).days + 1, label="Rolling up days") as bar:
        report = rebuild_rollups(since, until, on_day=lambda _day: bar.update(1))
    click.echo(f"Rolled up {report.days} days: {report.usage_rows} usage rows, "
               f"{report.active_users} user-days, {report.assets_touched} assets.")


@click.command("expire")
def expire() -> None:
    """Run the expiry job now: retire expired items, warn owners of those about to expire."""
    from portal.analytics.retirement import run_expiry

    report = run_expiry(current_app.config["SETTINGS"])
    click.echo(f"Retired {len(report.retired)} expired item(s){': ' if report.retired else ''}"
               f"{', '.join(f'#{i}' for i in report.retired)}.")
    click.echo(f"Warned the owners of {len(report.warned)} item(s) expiring soon "
               f"({report.emails_sent} email(s) sent).")


@click.command("seed-demo")
def seed_demo() -> None:
    """Load the demo users and a small demo library of real files."""
    from portal.demo import seed

    for line in seed(current_app.config["SETTINGS"]):
        click.echo(line)


@click.command("lineage-backfill")
def lineage_backfill() -> None:
    """Queue fingerprinting and grouping of slides processed before slide lineage existed."""
    from portal.decks.lineage import backfill_batches
    from portal.queue import enqueue

    batches = backfill_batches()
    with click.progressbar(batches, label="Queueing deck versions") as bar:
        for batch in bar:
            enqueue("lineage_backfill", batch)
    click.echo(f"Queued {sum(len(b) for b in batches)} deck versions in {len(batches)} jobs.")


@click.command("make-previews")
def make_previews() -> None:
    """Queue a PDF rendition (for the viewer) of every processed deck, document and
    spreadsheet that has none, and a new one (with thumbnails) of every deck whose
    rendition skipped its hidden slides; the worker makes them."""
    from portal.library.previews import queue_missing_previews

    click.echo(f"Queued {queue_missing_previews()} rendition(s) for the worker.")


def init_app(app: Flask) -> None:
    app.cli.add_command(db_cli)
    for command in (create_user, reindex, index_check, worker, sweep_command, serve, rollup, expire, seed_demo,
                    lineage_backfill, make_previews):
        app.cli.add_command(command)
