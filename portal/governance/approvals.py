"""The reviewers' queue: items (or new versions of published items) waiting for
approval, except the reviewer's own."""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.models import Asset, AssetStatus, AssetVersion, PendingPublish, User
from portal.pagination import Listing, count_rows


def _waiting_for(user: User):
    own_version = select(AssetVersion.id).where(AssetVersion.id == Asset.pending_version_id,
                                                AssetVersion.uploaded_by_id == user.id).exists()
    return (select(Asset)
            .where(or_(Asset.status == AssetStatus.IN_REVIEW,
                       and_(Asset.status == AssetStatus.PUBLISHED, Asset.pending_publish == PendingPublish.REVIEW)))
            .where(Asset.owner_id != user.id)
            .where(or_(Asset.submitted_by_id.is_(None), Asset.submitted_by_id != user.id))
            .where(~own_version))


def waiting(user: User, page: int = 1, per_page: int = 20) -> Listing:
    """Items awaiting this user's review, the longest waiting first."""
    query = _waiting_for(user)
    items = list(db.session.scalars(
        query.options(selectinload(Asset.owner), selectinload(Asset.submitted_by))
        .order_by(Asset.updated_at, Asset.id).offset((page - 1) * per_page).limit(per_page)))
    return Listing(items, count_rows(query), page, per_page)


def waiting_count(user: User) -> int:
    return count_rows(_waiting_for(user))
