"""What each user opened last: one row per user and asset, the latest KEEP per user.

`record_view` is what the asset page (and the viewer) call when a person opens an
item; the home page reads the newest few through the (user_id, viewed_at) index."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from portal.extensions import db
from portal.models import Asset, RecentView, User, utcnow

KEEP = 20  # per user


def record_view(user: User, asset: Asset) -> None:
    """Note that this user opened this asset now (and forget their views beyond the latest KEEP)."""
    if not user.is_authenticated:
        return
    now = utcnow()
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(RecentView).values(user_id=user.id, asset_id=asset.id, viewed_at=now)
    db.session.execute(statement.on_conflict_do_update(index_elements=["user_id", "asset_id"],
                                                       set_={"viewed_at": now}))
    older = select(RecentView.viewed_at).where(RecentView.user_id == user.id) \
        .order_by(RecentView.viewed_at.desc()).offset(KEEP).limit(1)
    cutoff = db.session.scalar(older)
    if cutoff is not None:
        db.session.execute(delete(RecentView).where(RecentView.user_id == user.id, RecentView.viewed_at <= cutoff))
    db.session.commit()


def recently_viewed_ids(user: User, limit: int = KEEP) -> list[int]:
    """Ids of the assets this user opened last, newest first."""
    return list(db.session.scalars(
        select(RecentView.asset_id).where(RecentView.user_id == user.id)
        .order_by(RecentView.viewed_at.desc(), RecentView.asset_id.desc()).limit(limit)))
