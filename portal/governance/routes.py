"""Governance pages: the approvals queue, the asset page's publish / review /
verify buttons and audit trail, the content-type settings, bulk edit.
Views parse input, call a service, render or redirect."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.access import allow
from portal.errors import InvalidInput
from portal.extensions import db
from portal.governance import approvals, bulk, verification
from portal.library import audit, policies, publishing, services
from portal.library.stats import stats_for
from portal.models import (
    ADMIN_ROLES,
    CONTENT_TYPE_LABELS,
    PUBLISHER_ROLES,
    STAFF_ROLES,
    AssetStatus,
    PendingPublish,
    Processing,
)
from portal.pagination import page_number

bp = Blueprint("governance", __name__)


def _back(asset_id: int):
    return redirect(url_for("library.asset", asset_id=asset_id))


def _problem(error: InvalidInput) -> None:
    flash(f"{error.message} {' '.join(error.fields.values())}".strip(), "error")


def asset_section(asset) -> dict:
    """What the asset page's governance section shows (templates/sections/governance.html)."""
    user = current_user
    pending = asset.pending_version
    in_review = asset.status == AssetStatus.IN_REVIEW or asset.pending_publish == PendingPublish.REVIEW
    authors = {asset.owner_id, asset.submitted_by_id, pending.uploaded_by_id if pending else None}
    version = asset.current_version
    return {
        "days_verified": verification.days_since_verified(asset),
        "needs_review": asset.needs_review(),
        "pending": pending,
        "in_review": in_review,
        "can_review": user.is_staff and in_review and user.id not in authors,
        "own_in_review": in_review and user.id in authors,
        "can_publish": user.can_publish and (asset.status in publishing.ALLOWED_FROM["publish"]
                                             or asset.pending_publish == PendingPublish.HOLD),
        "failed": version is not None and version.processing == Processing.FAILED,
        "needs_approval": policies.requires_approval(asset.content_type),
        "history": audit.history(asset.id, 1, 50).items if user.is_staff else [],
        "today": date.today().isoformat(),
    }


@bp.post("/assets/<int:asset_id>/publish")
@allow(*PUBLISHER_ROLES)
def publish(asset_id: int):
    asset = services.get_asset_for(current_user, asset_id)
    try:
        choice = publishing.parse_publish(request.form.get("publish_on") or "now", allow_draft=False)
        asset = publishing.publish(asset, current_user, choice.on, confirm=request.form.get("confirm") == "1")
    except InvalidInput as error:
        _problem(error)
        return _back(asset_id)
    messages = {AssetStatus.IN_REVIEW: "Sent for review: a reviewer approves it before reps see it.",
                AssetStatus.SCHEDULED: f"Scheduled: reps see it from {asset.publish_on}.",
                AssetStatus.PUBLISHED: "Published: reps can find it once its file is processed."}
    flash(messages.get(asset.status, "Published.") if not asset.pending_publish
          else "The new version goes to review." if asset.pending_publish == PendingPublish.REVIEW
          else "The new version becomes current once it is processed.", "success")
    return _back(asset_id)


@bp.post("/assets/<int:asset_id>/approve")
@allow(*STAFF_ROLES)
def approve(asset_id: int):
    try:
        publishing.approve(services.get_asset_for(current_user, asset_id), current_user)
    except InvalidInput as error:
        _problem(error)
    else:
        flash("Approved; its author is notified.", "success")
    return redirect(request.form.get("next") if request.form.get("next") == url_for("governance.approvals")
                    else url_for("library.asset", asset_id=asset_id))


@bp.post("/assets/<int:asset_id>/send-back")
@allow(*STAFF_ROLES)
def send_back(asset_id: int):
    try:
        publishing.send_back(services.get_asset_for(current_user, asset_id), current_user,
                             request.form.get("comment", ""))
    except InvalidInput as error:
        _problem(error)
    else:
        flash("Sent back with your comment; its author is notified.", "success")
    return _back(asset_id)


@bp.post("/assets/<int:asset_id>/verify")
@allow(*STAFF_ROLES)
def verify(asset_id: int):
    try:
        asset = verification.verify(services.get_asset_for(current_user, asset_id), current_user)
    except InvalidInput as error:
        _problem(error)
    else:
        flash(f"Verified. Next review by {asset.review_by}.", "success")
    return _back(asset_id)


@bp.get("/approvals", endpoint="approvals")
@allow(*STAFF_ROLES)
def approvals_page():
    result = approvals.waiting(current_user, page_number(request.args))
    return render_template("governance/approvals.html", result=result, stats=stats_for([a.id for a in result.items]))


@bp.route("/admin/content-types", methods=["GET", "POST"])
@allow(*ADMIN_ROLES)
def content_types():
    errors = {}
    if request.method == "POST":
        values = {t.content_type: (request.form.get(f"{t.content_type}_approval") == "1",
                                   request.form.get(f"{t.content_type}_review_days", ""))
                  for t in policies.all_policies()}
        try:
            policies.save_policies(values)
        except InvalidInput as error:
            errors = error.fields
        else:
            flash("Saved.", "success")
            return redirect(url_for("governance.content_types"))
    return render_template("governance/content_types.html", policies=policies.all_policies(),
                           labels=CONTENT_TYPE_LABELS, errors=errors, form=request.form), 422 if errors else 200


@bp.post("/library/bulk-edit")
@allow(*PUBLISHER_ROLES)
def bulk_edit():
    changes = {name: request.form.get(name, "") for name in bulk.BULK_FIELDS}
    try:
        assets = bulk.bulk_edit(current_user, request.form.getlist("asset_ids"), changes)
    except InvalidInput as error:
        db.session.rollback()
        _problem(error)
    else:
        flash(f"Changed {len(assets)} item{'' if len(assets) == 1 else 's'}.", "success")
    back = request.form.get("next", "")
    return redirect(back if back.startswith("/library") else url_for("library.index"))
