"""The life of an item, in one place: draft -> (in_review) -> (scheduled) -> published
-> retired, and back by restoring. Reps see only published items whose current
version is processed (Asset.is_hidden_from_reps, services.hidden_from_reps_clause).

  action             from                                  to
  publish            draft, scheduled                      in_review (approval required for its type),
                                                           scheduled (a future date) or published
  approve            in_review                             scheduled or published
  send_back          in_review                             draft (with the reviewer's comment)
  publish_scheduled  scheduled (publish_on reached)        published
  retire             draft, in_review, scheduled, published retired
  restore            retired                               published (draft if never published)

Each step takes the item's row first (an UPDATE: the row lock on PostgreSQL, the
write lock on SQLite), reads its state again under that lock, refuses with 409
when the step is not allowed from it, and commits the change with its audit
entry: two steps racing on one item (approve and retire, say) run one after the
other and the second sees what the first did.

A newer version of a published item waits in Asset.pending_version_id (reps keep
the current version) until it is processed, and published by its uploader when
held as a draft, and approved when its content type requires approval.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update

from portal.errors import InvalidInput
from portal.extensions import db
from portal.library import audit
from portal.library.policies import requires_approval, review_by_from
from portal.models import (
    Asset,
    AssetStatus,
    AssetVersion,
    PendingPublish,
    Processing,
    RetirementEvent,
    User,
    utcnow,
)
from portal.notifications.services import notify

DRAFT, IN_REVIEW, SCHEDULED = AssetStatus.DRAFT.value, AssetStatus.IN_REVIEW.value, AssetStatus.SCHEDULED.value
PUBLISHED, RETIRED = AssetStatus.PUBLISHED.value, AssetStatus.RETIRED.value
STATUS_LABELS = {DRAFT: "a draft", IN_REVIEW: "in review", SCHEDULED: "scheduled", PUBLISHED: "published",
                 RETIRED: "retired"}
ALLOWED_FROM = {
    "publish": (DRAFT, SCHEDULED),
    "approve": (IN_REVIEW,),
    "send_back": (IN_REVIEW,),
    "publish_scheduled": (SCHEDULED,),
    "retire": (DRAFT, IN_REVIEW, SCHEDULED, PUBLISHED),
    "restore": (RETIRED,),
}
VERBS = {"publish": "published", "approve": "approved", "send_back": "sent back", "publish_scheduled": "published",
         "retire": "retired", "restore": "restored"}


class TransitionRefused(InvalidInput):
    """The step is not allowed from the item's state (409)."""

    def __init__(self, asset: Asset, action: str, detail: str = ""):
        allowed = " or ".join(STATUS_LABELS[s] for s in ALLOWED_FROM.get(action, ()))
        message = f"“{asset.title}” is {STATUS_LABELS.get(asset.status, asset.status)}"
        message += f"; only an item that is {allowed} can be {VERBS.get(action, action)}." if allowed else "."
        super().__init__(detail or message, status=409, code="invalid_transition", extra={"status": asset.status})


# --- what `publish` asks for ----------------------------------------------------------------

@dataclass(frozen=True)
class PublishChoice:
    kind: str  # "now" | "draft" | "date"
    on: date | None = None


NOW, AS_DRAFT = PublishChoice("now"), PublishChoice("draft")


def parse_publish(value: object, today: date | None = None, *, allow_draft: bool = True) -> PublishChoice:
    """`now` (also when missing), `draft`, or a date YYYY-MM-DD (today means now; the past is refused)."""
    if value is not None and not isinstance(value, str):
        raise InvalidInput("publish is now, draft or a date like 2026-12-31.", {"publish": "Not text."})
    text = (value or "now").strip().lower()
    if text == "now":
        return NOW
    if text == "draft" and allow_draft:
        return AS_DRAFT
    try:
        on = date.fromisoformat(text)
    except ValueError:
        choices = "now, draft or a date" if allow_draft else "now or a date"
        raise InvalidInput(f"publish is {choices} like 2026-12-31.", {"publish": "Not a choice or a date."}) from None
    today = today or date.today()
    if on < today:
        raise InvalidInput(f"{on.isoformat()} is in the past: schedule publishing for today or a later day.",
                           {"publish": "In the past."})
    return NOW if on == today else PublishChoice("date", on)


# --- the row lock and the steps -------------------------------------------------------------

def lock_asset(asset: Asset) -> Asset:
    """Hold the item's row until the commit and read it again under the lock: the
    row is written first (a row lock on PostgreSQL, the write lock on SQLite, whose
    reads take none), so a second writer waits here and then sees the first one's change."""
    db.session.execute(update(Asset).where(Asset.id == asset.id).values(updated_at=utcnow())
                       .execution_options(synchronize_session=False))
    return db.session.execute(select(Asset).where(Asset.id == asset.id)
                              .execution_options(populate_existing=True)).scalar_one()


def _move(asset: Asset, user: User | None, action: str, to: str, audit_action: str | None = None,
          **values) -> Asset:
    """Lock, check the state allows `action`, set the new state (the caller commits)."""
    asset = lock_asset(asset)
    if asset.status not in ALLOWED_FROM[action]:
        db.session.rollback()
        raise TransitionRefused(asset, action)
    return _set_status(asset, user, to, audit_action or action, **values)


def _set_status(asset: Asset, user: User | None, to: str, audit_action: str, **values) -> Asset:
    old = asset.status
    asset.status = to
    for name, value in values.items():
        setattr(asset, name, value)
    if to == PUBLISHED:
        asset.published_at = asset.published_at or utcnow()
        asset.publish_on = None
        if asset.review_by is None:
            asset.review_by = review_by_from(asset.content_type)
    asset.updated_at = utcnow()
    audit.record(asset.id, user, audit_action, "status", old, to)
    return asset


def _live_status(on: date | None, today: date | None = None) -> str:
    return SCHEDULED if on is not None and on > (today or date.today()) else PUBLISHED


def _refuse_failed(asset: Asset, confirm: bool) -> None:
    version = asset.current_version
    if version is not None and version.processing == Processing.FAILED and not confirm:
        raise InvalidInput(
            f"Processing of this file failed: {version.error or 'no reason given'}. Reps see an item only once "
            "its file is processed, so it would stay hidden from them until you publish a version that "
            "processes. Publish anyway? (send confirm=true)",
            status=409, code="processing_failed", extra={"processing_error": version.error})


def start(asset: Asset, user: User, choice: PublishChoice) -> None:
    """The state of a new item (before its first commit): what `publish` asked for."""
    asset.status = DRAFT
    if choice.kind == "draft":
        return
    on = choice.on
    if requires_approval(asset.content_type):
        asset.status, asset.submitted_by_id, asset.publish_on = IN_REVIEW, user.id, on
    elif _live_status(on) == SCHEDULED:
        asset.status, asset.publish_on = SCHEDULED, on
    else:
        asset.status, asset.published_at = PUBLISHED, utcnow()
        asset.review_by = asset.review_by or review_by_from(asset.content_type)


def publish(asset: Asset, user: User, on: date | None = None, *, confirm: bool = False) -> Asset:
    """Publish a draft (now or on a date), or submit it for review where its type needs
    approval; on a published item, publish its held new version."""
    if asset.pending_publish == PendingPublish.HOLD and asset.status == PUBLISHED:
        return publish_version(asset, user)
    asset = lock_asset(asset)
    if asset.status not in ALLOWED_FROM["publish"]:
        db.session.rollback()
        raise TransitionRefused(asset, "publish")
    _refuse_failed(asset, confirm)
    if asset.status == DRAFT and requires_approval(asset.content_type):
        _set_status(asset, user, IN_REVIEW, "submitted", submitted_by_id=user.id, publish_on=on, review_comment=None)
    else:
        to = _live_status(on)
        _set_status(asset, user, to, "scheduled" if to == SCHEDULED else "published",
                    publish_on=on if to == SCHEDULED else None, review_comment=None)
    db.session.commit()
    return asset


def _refuse_own(asset: Asset, reviewer: User, authors: set[int | None]) -> None:
    if reviewer.id in authors:
        db.session.rollback()
        raise InvalidInput("You cannot approve your own item: another marketer or an enablement lead reviews it.",
                           status=403, code="own_item")


def approve(asset: Asset, reviewer: User) -> Asset:
    """Approve an item in review (published, or scheduled for its date) or its new version."""
    asset = lock_asset(asset)
    if asset.status == IN_REVIEW:
        _refuse_own(asset, reviewer, {asset.submitted_by_id, asset.owner_id})
        to = _live_status(asset.publish_on)
        _set_status(asset, reviewer, to, "approved", review_comment=None)
        author = asset.submitted_by_id or asset.owner_id
        when = f"will be published on {asset.publish_on.isoformat()}" if to == SCHEDULED else "is published"
        notify(author, f"“{asset.title}” was approved by {reviewer.display_name} and {when}.",
               link=f"/assets/{asset.id}")
    elif asset.status == PUBLISHED and asset.pending_publish == PendingPublish.REVIEW:
        version = db.session.get(AssetVersion, asset.pending_version_id)
        _refuse_own(asset, reviewer, {version.uploaded_by_id, asset.owner_id})
        asset.pending_publish = PendingPublish.AUTO.value
        asset.review_comment = None
        audit.record(asset.id, reviewer, "approved", "version", None, version.number)
        notify(version.uploaded_by_id or asset.owner_id,
               f"Version {version.number} of “{asset.title}” was approved by {reviewer.display_name}.",
               link=f"/assets/{asset.id}")
        _promote_if_ready(asset, reviewer)
    else:
        db.session.rollback()
        raise TransitionRefused(asset, "approve")
    db.session.commit()
    return asset


def send_back(asset: Asset, reviewer: User, comment: str) -> Asset:
    """Return an item (or its new version) in review to its author with a comment."""
    comment = (comment or "").strip()
    if not comment:
        raise InvalidInput("Say what needs to change.", {"comment": "A comment is required."})
    asset = lock_asset(asset)
    if asset.status == IN_REVIEW:
        _set_status(asset, reviewer, DRAFT, "sent_back", review_comment=comment[:2000])
        author, what = asset.submitted_by_id or asset.owner_id, f"“{asset.title}”"
    elif asset.status == PUBLISHED and asset.pending_publish == PendingPublish.REVIEW:
        version = db.session.get(AssetVersion, asset.pending_version_id)
        asset.pending_publish, asset.review_comment = PendingPublish.HOLD.value, comment[:2000]
        audit.record(asset.id, reviewer, "sent_back", "version", version.number, None)
        author, what = version.uploaded_by_id or asset.owner_id, f"Version {version.number} of “{asset.title}”"
    else:
        db.session.rollback()
        raise TransitionRefused(asset, "send_back")
    audit.record(asset.id, reviewer, "comment", "review_comment", None, comment[:2000])
    notify(author, f"{what} was sent back by {reviewer.display_name}: {comment}", link=f"/assets/{asset.id}")
    db.session.commit()
    return asset


def publish_due(today: date | None = None) -> list[int]:
    """Publish the scheduled items whose date has come (the periodic task); returns their ids."""
    today = today or date.today()
    ids = list(db.session.scalars(select(Asset.id).where(Asset.status == SCHEDULED, Asset.publish_on <= today)
                                  .order_by(Asset.id)))
    done = []
    for asset_id in ids:
        asset = lock_asset(db.session.get(Asset, asset_id))
        if asset.status != SCHEDULED or asset.publish_on is None or asset.publish_on > today:
            db.session.rollback()  # changed meanwhile
            continue
        _set_status(asset, None, PUBLISHED, "published")
        db.session.commit()
        done.append(asset_id)
    return done


def retire(asset: Asset, user: User | None, reason: str) -> Asset:
    asset = _move(asset, user, "retire", RETIRED, "retired", retired_at=utcnow(), retired_reason=reason[:2000])
    db.session.add(RetirementEvent(asset_id=asset.id, action="retired", reason=reason[:2000],
                                   user_id=user.id if user else None))
    return asset


def restore(asset: Asset, user: User, reason: str = "") -> Asset:
    asset = lock_asset(asset)
    if asset.status not in ALLOWED_FROM["restore"]:
        db.session.rollback()
        raise TransitionRefused(asset, "restore")
    _set_status(asset, user, PUBLISHED if asset.published_at else DRAFT, "restored",
                retired_at=None, retired_reason=None)
    db.session.add(RetirementEvent(asset_id=asset.id, action="restored", reason=reason.strip(), user_id=user.id))
    return asset


# --- new versions -------------------------------------------------------------------------------

def place_version(asset: Asset, version: AssetVersion, user: User, choice: PublishChoice = NOW) -> None:
    """Where a newly uploaded version goes (under the caller's lock, before its commit): an item reps
    may see keeps its current version until the new one is processed (and published, and approved);
    any other item simply takes it."""
    audit.record(asset.id, user, "version_uploaded", "version", None, version.number)
    if asset.status != PUBLISHED:
        asset.current_version = version
        asset.pending_version_id = asset.pending_publish = None
        return
    asset.pending_version_id = version.id
    asset.review_comment = None
    if choice.kind == "draft":
        asset.pending_publish = PendingPublish.HOLD.value
    elif requires_approval(asset.content_type):
        asset.pending_publish = PendingPublish.REVIEW.value
        asset.submitted_by_id = user.id
    else:
        asset.pending_publish = PendingPublish.AUTO.value


def publish_version(asset: Asset, user: User) -> Asset:
    """Publish a held new version: for review where the type needs approval, else current once processed."""
    asset = lock_asset(asset)
    if asset.pending_publish != PendingPublish.HOLD or asset.status != PUBLISHED:
        db.session.rollback()
        raise InvalidInput("This item has no new version waiting to be published.", status=409,
                           code="invalid_transition", extra={"status": asset.status})
    version = db.session.get(AssetVersion, asset.pending_version_id)
    if version.processing == Processing.FAILED:
        db.session.rollback()
        raise InvalidInput(f"Processing of version {version.number} failed: {version.error}. Reps keep the current "
                           "version; upload a file that processes.", status=409, code="processing_failed",
                           extra={"processing_error": version.error})
    if requires_approval(asset.content_type):
        asset.pending_publish, asset.submitted_by_id = PendingPublish.REVIEW.value, user.id
        audit.record(asset.id, user, "submitted", "version", None, version.number)
    else:
        asset.pending_publish = PendingPublish.AUTO.value
        _promote_if_ready(asset, user)
    db.session.commit()
    return asset


def _promote_if_ready(asset: Asset, user: User | None) -> bool:
    version = db.session.get(AssetVersion, asset.pending_version_id) if asset.pending_version_id else None
    if version is None or asset.pending_publish != PendingPublish.AUTO or version.processing != Processing.READY:
        return False
    old = asset.current_version.number if asset.current_version else None
    asset.current_version = version
    asset.pending_version_id = asset.pending_publish = None
    asset.updated_at = utcnow()
    audit.record(asset.id, user, "version_published", "version", old, version.number)
    return True


def version_processed(version_id: int) -> None:
    """After processing: a new version waiting only for that becomes current."""
    asset = db.session.scalar(select(Asset).where(Asset.pending_version_id == version_id))
    if asset is None:
        return
    asset = lock_asset(asset)
    if asset.pending_version_id == version_id and _promote_if_ready(asset, None):
        db.session.commit()
    else:
        db.session.rollback()
