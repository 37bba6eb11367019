"""Bulk edit of metadata (tags, product, region, stage, owner, review-by) for many
selected items at once, audited per item."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from sqlalchemy import select

from portal.errors import InvalidInput
from portal.extensions import db
from portal.ids import whole_number
from portal.library import audit, services
from portal.models import Asset, User, utcnow

BULK_FIELDS = ("tags", "add_tags", "product", "region", "stage", "owner_email", "review_by")
MAX_ITEMS = 500


def parse_ids(asset_ids: object) -> list[int]:
    if not isinstance(asset_ids, list | tuple):
        raise InvalidInput("asset_ids must be a list of item ids.", {"asset_ids": "Not a list."}, status=400)
    try:
        ids = sorted({whole_number(i) for i in asset_ids})
    except (TypeError, ValueError):
        raise InvalidInput("asset_ids must be a list of item ids.", {"asset_ids": "Not ids."}, status=400) from None
    if not ids:
        raise InvalidInput("Select at least one item.", {"asset_ids": "Nothing selected."})
    if len(ids) > MAX_ITEMS:
        raise InvalidInput(f"At most {MAX_ITEMS} items at once.", {"asset_ids": "Too many."}, status=413)
    return ids


def parse_changes(changes: Mapping) -> dict:
    """The changes asked for; empty values are left out (a blank field changes nothing)."""
    if not isinstance(changes, Mapping):
        raise InvalidInput("changes must be an object.", {"changes": "Not an object."}, status=400)
    unknown = sorted(set(changes) - set(BULK_FIELDS))
    if unknown:
        raise InvalidInput(f"Unknown fields: {', '.join(unknown)}. Use {', '.join(BULK_FIELDS)}.",
                           {"changes": "Unknown fields."})
    given = {k: v for k, v in changes.items() if v not in (None, "", [])}
    if not given:
        raise InvalidInput("Say what to change: one or more of " + ", ".join(BULK_FIELDS) + ".",
                           {"changes": "Nothing to change."})
    values = services.parse_metadata({k: v for k, v in given.items() if k in ("tags", "product", "region", "stage")},
                                     partial=True)
    if "add_tags" in given:
        values["add_tags"] = services.parse_metadata({"tags": given["add_tags"]}, partial=True)["tags"]
    if "owner_email" in given:
        values["owner"] = services._owner_from({"owner_email": given["owner_email"]}, None)
    if "review_by" in given:
        try:
            values["review_by"] = date.fromisoformat(str(given["review_by"]).strip())
        except ValueError:
            raise InvalidInput("Some fields need attention.", {"review_by": "Use a date like 2027-06-30."}) from None
        if values["review_by"] < date.today():
            raise InvalidInput("Some fields need attention.", {"review_by": "The review-by date is in the past."})
    return values


def bulk_edit(user: User, asset_ids: Iterable, changes: Mapping) -> list[Asset]:
    """Apply the same metadata changes to every selected item, in one transaction; one audit entry
    per item and changed field."""
    ids = parse_ids(asset_ids)
    values = parse_changes(changes)
    assets = list(db.session.scalars(select(Asset).where(Asset.id.in_(ids)).order_by(Asset.id)))
    unknown = sorted(set(ids) - {a.id for a in assets})
    if unknown:
        raise InvalidInput(f"Unknown item ids: {', '.join(map(str, unknown))}. Nothing was changed.",
                           {"asset_ids": "Unknown ids."}, status=404)
    for asset in assets:
        before = services.metadata_snapshot(asset)
        if "tags" in values:
            asset.set_tags(values["tags"])
        if "add_tags" in values:
            asset.set_tags([*asset.tags, *values["add_tags"]])
        for name in ("product", "region", "stage", "review_by"):
            if name in values:
                setattr(asset, name, values[name])
        if "owner" in values:
            asset.owner = values["owner"]
        after = services.metadata_snapshot(asset)
        if audit.record_changes(asset.id, user, before, {k: v for k, v in after.items() if v != before.get(k)},
                                action="bulk_edited"):
            asset.updated_at = utcnow()
    db.session.commit()
    return assets
