"""Reported uses: where a rep used an item (meeting, email, proposal), for which account, with which outcome."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from werkzeug.exceptions import Forbidden, NotFound

from portal.extensions import db
from portal.library.services import get_asset_for
from portal.models import (
    ReportedUse,
    User,
    utcnow,
)
from portal.pagination import Listing


def report_use(user: User, asset_id: int, values: Mapping[str, Any]) -> ReportedUse:
    asset = get_asset_for(user, asset_id)
    use = ReportedUse(asset_id=asset.id, user_id=user.id, **values)
    db.session.add(use)
    db.session.commit()
    return use


def get_use(user: User, use_id: int, *, hide_others: bool = False) -> ReportedUse:
    """The user's own report; 404 if unknown. Someone else's: 403, or 404 when
    `hide_others` (pages under "My activity" only ever show one's own)."""
    use = db.session.get(ReportedUse, use_id)
    if use is None:
        raise NotFound()
    if use.user_id != user.id:
        if hide_others:
            raise NotFound()
        raise Forbidden("Only the rep who reported this use can change it.")
    return use


def update_use(user: User, use_id: int, values: Mapping[str, Any], *, hide_others: bool = False) -> ReportedUse:
    use = get_use(user, use_id, hide_others=hide_others)
    changed = False
    for name, value in values.items():
        if getattr(use, name) != value:
            setattr(use, name, value)
            changed = True
    if changed:
        use.updated_at = utcnow()
    db.session.commit()
    return use


def uses_of(user: User, page: int = 1, per_page: int = 20) -> Listing:
    query = select(ReportedUse).where(ReportedUse.user_id == user.id)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = list(db.session.scalars(
        query.order_by(ReportedUse.occurred_on.desc(), ReportedUse.id.desc())
        .offset((page - 1) * per_page).limit(per_page)
    ))
    return Listing(items, total, page, per_page)
