"""The audit trail of an item (AssetAudit): who changed which field, published,
approved, retired, restored or verified it, when, with old and new values.

Append-only: entries are added in the transaction of the change they describe
(so a change and its entry commit together or not at all) and the ORM refuses
to update or delete them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import event, select

from portal.extensions import db
from portal.models import AssetAudit, User, utcnow
from portal.pagination import Listing, count_rows


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)[:10_000]


def record(asset_id: int, user: User | None, action: str, field: str | None = None, old=None, new=None) -> None:
    """Add one entry (committed with the caller's transaction)."""
    db.session.add(AssetAudit(asset_id=asset_id, user_id=user.id if user else None, action=action, field=field,
                              old=_text(old), new=_text(new), at=utcnow()))


def record_changes(asset_id: int, user: User | None, before: dict, after: dict, action: str = "edited") -> int:
    """One entry per field whose value changed; returns how many."""
    changed = 0
    for name, new in after.items():
        old = before.get(name)
        if _text(old) != _text(new):
            record(asset_id, user, action, name, old, new)
            changed += 1
    return changed


def history(asset_id: int, page: int = 1, per_page: int = 100) -> Listing:
    """The item's entries, newest first."""
    query = select(AssetAudit).where(AssetAudit.asset_id == asset_id)
    items = list(db.session.scalars(query.order_by(AssetAudit.id.desc()).offset((page - 1) * per_page)
                                    .limit(per_page)))
    return Listing(items, count_rows(query), page, per_page)


class AuditIsAppendOnly(Exception):
    pass


@event.listens_for(AssetAudit, "before_update")
def _refuse_update(_mapper, _connection, _target) -> None:
    raise AuditIsAppendOnly("audit entries are never changed")


@event.listens_for(AssetAudit, "before_delete")
def _refuse_delete(_mapper, _connection, _target) -> None:
    raise AuditIsAppendOnly("audit entries are never deleted")
