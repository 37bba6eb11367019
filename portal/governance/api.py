"""Governance API (docs/api.md "Governance"): publish, approve, send back, the
approvals queue, verify, the audit trail, bulk edit."""

from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user

from portal.access import allow
from portal.api import json_body, listing, pagination
from portal.api.spec import (
    BOOLEAN,
    DATETIME,
    ID,
    INTEGER,
    PAGING,
    STRING,
    api_doc,
    array,
    listing_of,
    nullable,
    obj,
)
from portal.errors import InvalidInput
from portal.governance import approvals, bulk, verification
from portal.library import audit, publishing, services
from portal.library.api import ASSET
from portal.library.serializers import asset_json, iso
from portal.library.stats import stats_for
from portal.models import PUBLISHER_ROLES, STAFF_ROLES

bp = Blueprint("governance", __name__)  # mounted under /api/v1 by create_app

HISTORY = obj({"at": DATETIME, "user": nullable(obj({"id": INTEGER, "email": STRING})), "action": STRING,
               "field": nullable(STRING), "old": nullable(STRING), "new": nullable(STRING)})
NO_BODY = obj({}, required=[])  # nothing is read from it
BULK_CHANGES = obj({name: STRING for name in bulk.BULK_FIELDS}, required=[])


def _one(asset):
    return asset_json(asset, stats_for([asset.id])[asset.id])


def _optional_body() -> dict:
    """A JSON object, or nothing at all (these calls need no body)."""
    if not request.get_data(cache=True):
        return {}
    return json_body()


def _confirm(body: dict) -> bool:
    value = body.get("confirm", False)
    if not isinstance(value, bool):
        raise InvalidInput("confirm is true or false.", {"confirm": "Not true or false."}, 400)
    return value


@bp.post("/assets/<int:asset_id>/publish")
@allow(*PUBLISHER_ROLES)
@api_doc(json=obj({"publish": STRING, "confirm": BOOLEAN}, required=[]), responses={200: ASSET})
def publish(asset_id: int):
    """Publish a draft now or on a date (JSON `{"publish": "now"|"YYYY-MM-DD", "confirm": bool}`), or submit
    it for review where its type needs approval; on a published item, publish its held new version."""
    asset = services.get_asset_for(current_user, asset_id)
    body = _optional_body()
    choice = publishing.parse_publish(body.get("publish"), allow_draft=False)
    return _one(publishing.publish(asset, current_user, choice.on, confirm=_confirm(body)))


@bp.post("/assets/<int:asset_id>/approve")
@allow(*STAFF_ROLES)
@api_doc(json=NO_BODY, responses={200: ASSET})
def approve(asset_id: int):
    """Approve an item (or its new version) in review; never your own."""
    return _one(publishing.approve(services.get_asset_for(current_user, asset_id), current_user))


@bp.post("/assets/<int:asset_id>/send-back")
@allow(*STAFF_ROLES)
@api_doc(json=obj({"comment": STRING}), responses={200: ASSET})
def send_back(asset_id: int):
    """Send an item (or its new version) in review back to its author with a comment (JSON `{"comment"}`)."""
    asset = services.get_asset_for(current_user, asset_id)
    comment = json_body().get("comment")
    if comment is not None and not isinstance(comment, str):
        raise InvalidInput("comment is text.", {"comment": "Not text."}, 400)
    return _one(publishing.send_back(asset, current_user, comment or ""))


@bp.get("/approvals")
@allow(*STAFF_ROLES)
@api_doc(query=PAGING, responses={200: listing_of(ASSET)})
def list_approvals():
    """Items awaiting my review (not my own), the longest waiting first."""
    page, per_page = pagination()
    result = approvals.waiting(current_user, page, per_page)
    stats = stats_for([a.id for a in result.items])
    return listing([asset_json(a, stats[a.id]) for a in result.items], result.total, page, per_page)


@bp.post("/assets/<int:asset_id>/verify")
@allow(*STAFF_ROLES)
@api_doc(json=NO_BODY, responses={200: ASSET})
def verify(asset_id: int):
    """Its content is still right: records who and when, and sets the next review-by date."""
    return _one(verification.verify(services.get_asset_for(current_user, asset_id), current_user))


def history_json(entry) -> dict:
    return {"at": iso(entry.at), "user": {"id": entry.user.id, "email": entry.user.email} if entry.user else None,
            "action": entry.action, "field": entry.field, "old": entry.old, "new": entry.new}


@bp.get("/assets/<int:asset_id>/history")
@allow(*STAFF_ROLES)
@api_doc(query=PAGING, responses={200: listing_of(HISTORY)})
def history(asset_id: int):
    """The item's audit trail, newest first (append-only)."""
    asset = services.get_asset_for(current_user, asset_id)
    page, per_page = pagination()
    result = audit.history(asset.id, page, per_page)
    return listing([history_json(e) for e in result.items], result.total, page, per_page)


@bp.post("/assets/bulk-edit")
@allow(*PUBLISHER_ROLES)
@api_doc(json=obj({"asset_ids": array(ID, maxItems=bulk.MAX_ITEMS), "changes": BULK_CHANGES}),
         responses={200: listing_of(ASSET)})
def bulk_edit():
    """The same metadata changes for many items (JSON `{"asset_ids": [..], "changes": {..}}`), audited per item."""
    body = json_body()
    assets = bulk.bulk_edit(current_user, body.get("asset_ids"), body.get("changes") or {})
    stats = stats_for([a.id for a in assets])
    return listing([asset_json(a, stats[a.id]) for a in assets], len(assets), 1, max(1, len(assets)))
