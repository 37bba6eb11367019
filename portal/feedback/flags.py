"""Flags: a rep marks an item outdated, wrong or off-brand; its owner is notified."""

from __future__ import annotations

from portal.extensions import db
from portal.feedback.inputs import FLAG_KIND_LABELS
from portal.library.services import get_asset_for
from portal.models import (
    Flag,
    ReviewStatus,
    User,
)
from portal.notifications.services import notify


def flag_asset(user: User, asset_id: int, reason_kind: str, reason: str) -> Flag:
    """Flag an asset; its owner is notified and the flag enters the review queue."""
    asset = get_asset_for(user, asset_id)
    flag = Flag(asset_id=asset.id, user_id=user.id, reason_kind=reason_kind, reason=reason, review_status=ReviewStatus.OPEN)
    db.session.add(flag)
    if asset.owner_id != user.id:
        label = FLAG_KIND_LABELS[reason_kind].lower()
        notify(asset.owner_id, f"{user.display_name} flagged “{asset.title}” as {label}: {reason}",
               link=f"/assets/{asset.id}")
    db.session.commit()
    return flag
