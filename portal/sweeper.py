"""The one sweeper: work cut off by a dead process is picked up again, and what
it left behind is removed.

A worker (or the web process running the embedded queue) killed mid-job leaves
a job that Huey has already handed out, a work directory, and perhaps a
partial upload. The sweep, run every minute by the queue and once whenever a
consumer starts (`flask worker`, the embedded consumer), finds:
- versions whose processing is still pending after its deadline
  (portal/library/processing.py) and deck builds still in progress after theirs
  (portal/decks/building.py): enqueued again, or failed with the reason once
  they have been cut off JOB_MAX_ATTEMPTS times (a file that kills its worker
  every time must not loop);
- `collateral-*` work directories in the temp dir untouched for longer than
  their job's deadline (assets/workdirs.py);
- partial uploads in storage (`.upload-*` files, unfinished S3 multipart
  uploads) older than the deadline (assets/storage.py); the periodic sweep
  looks for those every quarter of an hour only, since it walks the store.
The children of a dead worker (processing, deck assembly, LibreOffice) are not
the sweeper's business: they die with their parent (assets/children.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from flask import current_app
from huey import crontab

from portal.queue import task

log = logging.getLogger(__name__)


@dataclass
class SweepReport:
    versions_resumed: list[int] = field(default_factory=list)
    versions_failed: list[int] = field(default_factory=list)
    builds_resumed: list[int] = field(default_factory=list)
    builds_failed: list[int] = field(default_factory=list)
    work_dirs: list[str] = field(default_factory=list)
    partial_uploads: int = 0
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (f"processing resumed {len(self.versions_resumed)}, failed {len(self.versions_failed)}; "
                f"deck builds resumed {len(self.builds_resumed)}, failed {len(self.builds_failed)}; "
                f"work directories removed {len(self.work_dirs)}; partial uploads removed {self.partial_uploads}"
                + (f"; problems: {'; '.join(self.problems)}" if self.problems else ""))

    @property
    def changed(self) -> bool:
        return any((self.versions_resumed, self.versions_failed, self.builds_resumed, self.builds_failed,
                    self.work_dirs, self.partial_uploads, self.problems))


def work_deadline_seconds(settings) -> int:
    """No live job is older than this: every kind of job is killed at its time limit
    (partial uploads are judged by it: they are written until the last byte)."""
    return max(settings.processing_deadline_seconds, settings.deck_deadline_seconds)


def sweep(*, partial_uploads: bool = True) -> SweepReport:
    """One sweep (inside an app context); each part runs even if another fails.
    `partial_uploads=False` skips walking the store (the periodic task does that
    part every quarter of an hour only)."""
    from assets.workdirs import DECK_DIR_PREFIX, WORK_DIR_PREFIX, sweep_work_dirs
    from portal.decks import building
    from portal.extensions import db
    from portal.library import processing
    from portal.storage import get_storage

    settings = current_app.config["SETTINGS"]
    report = SweepReport()
    deadline = work_deadline_seconds(settings)

    def versions() -> None:
        report.versions_resumed, report.versions_failed = processing.resume_interrupted(settings)

    def builds() -> None:
        report.builds_resumed, report.builds_failed = building.resume_interrupted(settings)

    def work_dirs() -> None:
        report.work_dirs = sweep_work_dirs({WORK_DIR_PREFIX: settings.processing_deadline_seconds,
                                            DECK_DIR_PREFIX: settings.deck_deadline_seconds})

    def uploads() -> None:
        report.partial_uploads = get_storage().remove_abandoned_uploads(deadline)

    steps = [("processing", versions), ("deck builds", builds), ("work directories", work_dirs)]
    if partial_uploads:
        steps.append(("partial uploads", uploads))
    for name, step in steps:
        try:
            step()
        except Exception as error:  # one broken part must not stop the others
            db.session.rollback()
            log.exception("sweeping %s failed", name)
            report.problems.append(f"{name}: {error}")
    if report.changed:
        log.warning("sweep: %s", report)
    return report


UPLOADS_EVERY_MINUTES = 15


@task("sweep", schedule=crontab(minute="*"))
def sweep_task(everything: bool = False) -> None:
    """Every minute: pick up cut-off work, remove leftovers; partial uploads (a walk over
    the whole store) every quarter of an hour. A consumer starting enqueues it with
    `everything`."""
    from portal.models import utcnow

    sweep(partial_uploads=everything or utcnow().minute % UPLOADS_EVERY_MINUTES == 0)
