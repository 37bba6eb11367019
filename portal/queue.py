"""The background task queue (Huey).

Extraction, thumbnails, indexing and rollups never run in the request: views
enqueue them. Modes (see config.Settings.queue_mode):
- embedded: SQLite-backed queue consumed by a thread inside the web process,
  so the default install needs nothing else running;
- redis: Redis-backed queue consumed by `flask --app portal worker`;
- immediate: tasks run inline (tests).
Each app gets its own Huey instances; tasks are registered on them with the app
context they need.

Two lanes, each a queue of its own with its own consumer, so that quick work never
waits behind slow work: `slow` (processing an upload with LibreOffice, assembling a
deck, rebuilding the index, rollups: up to minutes each) and `quick` (draining the
index outbox, usage counts, the sweeper, expiry: what keeps search current). Both
run in `flask --app portal worker` and in the embedded consumer; on Redis the slow
lane is the queue named `<name>-slow`, on SQLite a second queue in the same file.

Huey hands a task to one consumer and forgets it, so work a dead process was
doing would be lost. Jobs that must survive that (processing a version,
assembling a deck) hold a lease on their row instead (`claim_job`): a job
unfinished after its deadline was cut off, and the sweeper (portal/sweeper.py,
every minute and whenever a consumer starts) enqueues it again, at most a few
times before it is failed with a reason.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from huey import MemoryHuey, RedisHuey, SqliteHuey
from huey.api import Huey
from huey.consumer import Consumer
from sqlalchemy import or_, update

from portal.extensions import db
from portal.models import utcnow

log = logging.getLogger(__name__)


QUICK, SLOW = "quick", "slow"
LANES = (QUICK, SLOW)


@dataclass
class TaskDefinition:
    function: Callable[..., Any]
    retries: int = 0
    retry_delay: int = 10
    schedule: Any = None  # a huey.crontab for periodic tasks
    lane: str = QUICK


@dataclass
class TaskQueue:
    hueys: dict[str, Huey]  # lane -> its queue
    tasks: dict[str, Any] = field(default_factory=dict)
    _consumer_started: bool = False
    _consumers: list[Consumer] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def huey(self) -> Huey:
        """The quick lane's queue (also where the index drain keeps its marks)."""
        return self.hueys[QUICK]

    def enqueue(self, name: str, *args: Any) -> None:
        self.tasks[name](*args)

    def pending_counts(self) -> dict[str, int]:
        return {lane: huey.pending_count() for lane, huey in self.hueys.items()}

    def make_consumers(self, *, lanes: tuple[str, ...] = LANES, slow_workers: int = 1,
                       embedded: bool = False) -> list[Consumer]:
        """A consumer per lane: one thread for the quick lane, `slow_workers` for the slow one;
        each runs its own lane's periodic tasks."""
        kind = EmbeddedConsumer if embedded else Consumer
        return [kind(self.hueys[lane], workers=slow_workers if lane == SLOW else 1, worker_type="thread",
                     periodic=True) for lane in lanes]

    def start_embedded_consumer(self) -> None:
        """Consume both lanes in daemon threads of this process (once), starting
        with a sweep: work a dead web process was doing is picked up again."""
        with self._lock:
            if self._consumer_started:
                return
            self._consumers = self.make_consumers(embedded=True)
            for consumer in self._consumers:
                consumer.start()
            self._consumer_started = True
            log.info("embedded task consumers started (quick and slow lanes)")
        if "sweep" in self.tasks:
            self.enqueue("sweep", True)

    def run_consumers(self, lanes: tuple[str, ...] = LANES, slow_workers: int = 1) -> None:
        """Consume the lanes in this process until a signal stops it (`flask --app portal worker`).
        The first lane's consumer runs in the main thread and handles the signals; the others
        run in threads beside it and stop with it (gracefully if it stopped gracefully)."""
        first, *rest = lanes
        others = self.make_consumers(lanes=tuple(rest), slow_workers=slow_workers, embedded=True)
        main = self.make_consumers(lanes=(first,), slow_workers=slow_workers)[0]
        for consumer in others:
            consumer.start()
        try:
            main.run()
        finally:
            for consumer in others:
                consumer.stop(graceful=bool(getattr(main, "_graceful", False)))

    def stop_embedded_consumer(self) -> None:
        """Stop the embedded consumers, letting running tasks finish (tests, shutdown)."""
        with self._lock:
            for consumer in self._consumers:
                consumer.stop(graceful=True)
            self._consumers, self._consumer_started = [], False


class EmbeddedConsumer(Consumer):
    """A consumer running in threads of the web process. start() launches the
    scheduler and worker threads and returns; signal handlers stay with the
    web server, since only the main thread may install them."""

    def _set_signal_handlers(self) -> None:
        pass


REGISTRY: dict[str, TaskDefinition] = {}


def task(name: str, *, retries: int = 0, retry_delay: int = 10, schedule: Any = None,
         lane: str = QUICK) -> Callable:
    """Register a background task; it runs inside an app context, on the `quick` lane
    unless it may take long (`lane=SLOW`)."""
    if lane not in LANES:
        raise ValueError(f"lane is one of {LANES}")

    def decorate(function: Callable) -> Callable:
        REGISTRY[name] = TaskDefinition(function, retries, retry_delay, schedule, lane)
        return function

    return decorate


def _make_huey(app: Flask, lane: str) -> Huey:
    settings = app.config["SETTINGS"]
    # Separate names keep several deployments (or test runs) on one Redis apart.
    name = app.config.get("QUEUE_NAME") or os.environ.get("PORTAL_QUEUE_NAME") or "collateral"
    if lane != QUICK:
        name = f"{name}-{lane}"
    if settings.queue_mode == "immediate":
        return MemoryHuey(name, immediate=True)
    if settings.queue_mode == "redis":
        return RedisHuey(name, url=settings.redis_url)
    return SqliteHuey(name, filename=str(settings.queue_path))


def _bind(app: Flask, queue: TaskQueue) -> None:
    for name, definition in REGISTRY.items():

        def run(*args: Any, _function=definition.function) -> Any:
            with app.app_context():
                return _function(*args)

        run.__name__ = name
        huey = queue.hueys[definition.lane]
        if definition.schedule is not None:
            queue.tasks[name] = huey.periodic_task(definition.schedule, name=name)(run)
        else:
            queue.tasks[name] = huey.task(
                name=name, retries=definition.retries, retry_delay=definition.retry_delay
            )(run)


def init_app(app: Flask) -> None:
    queue = TaskQueue({lane: _make_huey(app, lane) for lane in LANES})
    app.extensions["collateral_queue"] = queue

    if app.config["START_EMBEDDED_WORKER"]:

        @app.before_request
        def _start_consumer() -> None:
            queue.start_embedded_consumer()


def start_embedded_consumer(app: Flask) -> None:
    """Start the in-process consumer now, where the app runs the embedded queue
    (a server hook calls this so queued work runs before the first request)."""
    if app.config["START_EMBEDDED_WORKER"]:
        app.extensions["collateral_queue"].start_embedded_consumer()


def bind_tasks(app: Flask) -> None:
    """Called once every task module has been imported."""
    _bind(app, app.extensions["collateral_queue"])


def get_queue() -> TaskQueue:
    return current_app.extensions["collateral_queue"]


def enqueue(name: str, *args: Any) -> None:
    get_queue().enqueue(name, *args)


# --- leases: work that survives a dead process -------------------------------------------

def claim_job(model: Any, row_id: int, *, pending: Any, started: Any, attempts: Any,
              deadline_seconds: float, max_attempts: int, **claimed_values: Any) -> bool:
    """Take the lease on a job's row: True when this worker may do the job now.

    `pending` is the condition of a row still to do; `started` and `attempts` are
    its lease columns. The lease is granted when nobody holds one or the holder's
    deadline has passed (it died), and counts an attempt; one atomic UPDATE, so two
    workers never both get it. `claimed_values` are set with it (e.g. a status)."""
    now = utcnow()
    result = db.session.execute(
        update(model)
        .where(model.id == row_id, pending, attempts < max_attempts,
               or_(started.is_(None), started < now - timedelta(seconds=deadline_seconds)))
        .values({started: now, attempts: attempts + 1, **claimed_values})
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def release_job(model: Any, row_id: int, *, started: Any, **values: Any) -> None:
    """Give the lease back (the job raised and will be retried): the next claim need not wait."""
    db.session.rollback()
    db.session.execute(update(model).where(model.id == row_id).values({started: None, **values})
                       .execution_options(synchronize_session=False))
    db.session.commit()


class ProgressWriter:
    """Saves a job's progress (progress_done, progress_total of its row) at most
    twice a second; pages poll it."""

    def __init__(self, row: Any):
        self.row = row
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.5 and done < total:
            return
        self.last = now
        self.row.progress_done, self.row.progress_total = done, total
        db.session.commit()
