"""Feedback pages. Views parse input, call a service, render or redirect."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qsl

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.access import EVERYONE, allow
from portal.errors import InvalidInput
from portal.extensions import db
from portal.feedback import flags, inputs, owners, ratings, review_queue, uses
from portal.feedback.inputs import FLAG_KIND_LABELS, FLAG_KINDS, USE_KIND_LABELS, USE_KINDS
from portal.library.services import get_asset_for
from portal.models import OUTCOMES, PUBLISHER_ROLES, REVIEWER_ROLES, Flag, Rating
from portal.pagination import page_number

bp = Blueprint("feedback", __name__)


def _back_to_asset(asset_id: int):
    return redirect(url_for("library.asset", asset_id=asset_id) + "#feedback")


def _flash_problems(error: InvalidInput) -> None:
    details = " ".join(error.fields.values())
    flash(f"{error.message} {details}".strip(), "error")


def asset_section(asset) -> dict:
    """What the asset page's feedback section shows (templates/sections/feedback.html)."""
    return {
        "summary": ratings.rating_summary(asset.id),
        "comments": ratings.recent_comments(asset.id),
        "mine": ratings.rating_of(current_user, asset.id),
        "use_kinds": USE_KINDS,
        "use_kind_labels": USE_KIND_LABELS,
        "outcomes": OUTCOMES,
        "flag_kinds": FLAG_KINDS,
        "flag_kind_labels": FLAG_KIND_LABELS,
        "today": date.today().isoformat(),
    }


# --- from the asset page -----------------------------------------------------------

@bp.post("/assets/<int:asset_id>/rating")
@allow(*EVERYONE)
def rate(asset_id: int):
    try:
        stars, comment = inputs.parse_rating(request.form)
    except InvalidInput as error:
        get_asset_for(current_user, asset_id)  # unknown or hidden asset: 404 first
        _flash_problems(error)
        return _back_to_asset(asset_id)
    rating, created = ratings.rate_asset(current_user, asset_id, stars, comment)
    flash(f"Thanks: you rated this {rating.stars} star{'s' if rating.stars != 1 else ''}."
          if created else f"Your rating is now {rating.stars} star{'s' if rating.stars != 1 else ''}.", "success")
    return _back_to_asset(asset_id)


@bp.post("/assets/<int:asset_id>/usage")
@allow(*EVERYONE)
def report_use(asset_id: int):
    try:
        values = inputs.parse_use(request.form)
    except InvalidInput as error:
        get_asset_for(current_user, asset_id)
        _flash_problems(error)
        return _back_to_asset(asset_id)
    uses.report_use(current_user, asset_id, values)
    flash("Thanks: your use is recorded. You can change it (and its outcome) under My activity.", "success")
    return _back_to_asset(asset_id)


@bp.post("/assets/<int:asset_id>/flag")
@allow(*EVERYONE)
def flag(asset_id: int):
    try:
        kind, reason = inputs.parse_flag(request.form)
    except InvalidInput as error:
        get_asset_for(current_user, asset_id)
        _flash_problems(error)
        return _back_to_asset(asset_id)
    flags.flag_asset(current_user, asset_id, kind, reason)
    flash("Thanks: the owner has been told and the flag is in the review queue.", "success")
    return _back_to_asset(asset_id)


# --- My activity ----------------------------------------------------------------------

@bp.get("/my/activity")
@allow(*EVERYONE)
def my_activity():
    return render_template(
        "feedback/my_activity.html", result=uses.uses_of(current_user, page_number(request.args), 25),
        ratings=ratings.ratings_by(current_user), use_kind_labels=USE_KIND_LABELS,
    )


@bp.route("/my/activity/uses/<int:use_id>/edit", methods=["GET", "POST"])
@allow(*EVERYONE)
def edit_use(use_id: int):
    use = uses.get_use(current_user, use_id, hide_others=True)
    context = {"use": use, "use_kinds": USE_KINDS, "use_kind_labels": USE_KIND_LABELS, "outcomes": OUTCOMES,
               "today": date.today().isoformat()}
    if request.method == "POST":
        try:
            values = inputs.parse_use(request.form, partial=True)
        except InvalidInput as error:
            return render_template("feedback/edit_use.html", values=request.form, errors=error.fields,
                                   message=error.message, **context), 422
        uses.update_use(current_user, use.id, values, hide_others=True)
        flash("Saved.", "success")
        return redirect(url_for("feedback.my_activity"))
    values = {"kind": use.kind, "account": use.account, "opportunity": use.opportunity,
              "outcome": use.outcome or "", "note": use.note, "occurred_on": use.occurred_on.isoformat()}
    return render_template("feedback/edit_use.html", values=values, errors={}, message=None, **context)


# --- review queue ---------------------------------------------------------------------

@bp.get("/reviews")
@allow(*REVIEWER_ROLES)
def reviews():
    filters = review_queue.parse_review_filters(request.args)
    return render_template(
        "feedback/reviews.html", filters=filters, result=review_queue.review_queue(filters, page_number(request.args), 25),
        choices=review_queue.review_choices(), flag_kind_labels=FLAG_KIND_LABELS, back=request.query_string.decode(),
    )


def _back_to_queue():
    # Back to the same filters; the path is fixed, so this cannot redirect elsewhere.
    args = dict(parse_qsl(request.form.get("back", "")))
    return redirect(url_for("feedback.reviews", **args))


def _resolve_from_queue(model: type[Rating] | type[Flag], item_id: int):
    try:
        review_queue.resolve(current_user, model, item_id, inputs.parse_note(request.form))
    except InvalidInput as error:
        db.session.rollback()
        _flash_problems(error)
        return _back_to_queue()
    flash("Resolved.", "success")
    return _back_to_queue()


@bp.post("/reviews/ratings/<int:rating_id>/resolve")
@allow(*REVIEWER_ROLES)
def resolve_rating(rating_id: int):
    return _resolve_from_queue(Rating, rating_id)


@bp.post("/reviews/flags/<int:flag_id>/resolve")
@allow(*REVIEWER_ROLES)
def resolve_flag(flag_id: int):
    return _resolve_from_queue(Flag, flag_id)


# --- My collateral --------------------------------------------------------------------

@bp.get("/my/collateral")
@allow(*PUBLISHER_ROLES)
def my_collateral():
    return render_template(
        "feedback/my_collateral.html", result=owners.owned_assets(current_user, page_number(request.args)),
        flag_kind_labels=FLAG_KIND_LABELS,
    )
