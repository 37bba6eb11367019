"""Feedback API: ratings, reported uses, flags and the review queue (shared/api.md)."""

from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user

from portal.access import EVERYONE, allow
from portal.api import json_body, listing, pagination
from portal.api.spec import (
    DATE,
    DATETIME,
    INTEGER,
    NUMBER,
    PAGING,
    STRING,
    api_doc,
    enum,
    listing_of,
    mapping,
    nullable,
    obj,
)
from portal.feedback import flags, inputs, ratings, review_queue, uses
from portal.library.serializers import iso
from portal.models import REVIEWER_ROLES, Flag, Rating, ReportedUse

bp = Blueprint("feedback", __name__)  # mounted under /api/v1 by create_app


ASSET_REF = obj({"id": INTEGER, "title": STRING})
PERSON = obj({"id": INTEGER, "email": STRING, "team": nullable(STRING)})
REVIEW_STATUS = enum("open", "resolved")
RATING = obj({
    "id": INTEGER, "asset": ASSET_REF, "author": PERSON, "stars": {"type": "integer", "minimum": 1, "maximum": 5},
    "comment": nullable(STRING), "status": REVIEW_STATUS, "created_at": DATETIME, "updated_at": nullable(DATETIME),
    "resolution_note": nullable(STRING), "resolved_at": nullable(DATETIME), "resolved_by": nullable(STRING),
})
USE = obj({
    "id": INTEGER, "asset": ASSET_REF, "user": obj({"id": INTEGER, "email": STRING}), "kind": STRING,
    "account": nullable(STRING), "opportunity": nullable(STRING), "outcome": nullable(STRING),
    "note": nullable(STRING), "occurred_on": DATE, "created_at": DATETIME, "updated_at": nullable(DATETIME),
})
FLAG = obj({
    "id": INTEGER, "asset": ASSET_REF, "author": PERSON, "reason_kind": enum(*inputs.FLAG_KINDS), "reason": STRING,
    "status": REVIEW_STATUS, "created_at": DATETIME, "resolution_note": nullable(STRING),
    "resolved_at": nullable(DATETIME),
})
USE_BODY = {"kind": enum(*inputs.USE_KINDS), "account": STRING, "opportunity": STRING,
            "outcome": nullable(STRING), "note": STRING, "occurred_on": STRING}
NOTE_BODY = obj({"note": STRING}, required=[])
QUEUE_QUERY = {**PAGING, "status": REVIEW_STATUS, "product": STRING, "team": STRING, "region": STRING}


def _asset_ref(item) -> dict:
    return {"id": item.asset.id, "title": item.asset.title}


def _person(user) -> dict:
    return {"id": user.id, "email": user.email, "team": user.team}


def rating_json(rating: Rating) -> dict:
    return {
        "id": rating.id,
        "asset": _asset_ref(rating),
        "author": _person(rating.user),
        "stars": rating.stars,
        "comment": rating.comment,
        "status": rating.review_status,
        "created_at": iso(rating.created_at),
        "updated_at": iso(rating.updated_at),
        "resolution_note": rating.resolution_note,
        "resolved_at": iso(rating.resolved_at),
        "resolved_by": rating.resolved_by.email if rating.resolved_by else None,
    }


def use_json(use: ReportedUse) -> dict:
    return {
        "id": use.id,
        "asset": _asset_ref(use),
        "user": {"id": use.user.id, "email": use.user.email},
        "kind": use.kind,
        "account": use.account,
        "opportunity": use.opportunity,
        "outcome": use.outcome,
        "note": use.note,
        "occurred_on": iso(use.occurred_on),
        "created_at": iso(use.created_at),
        "updated_at": iso(use.updated_at),
    }


def flag_json(flag: Flag) -> dict:
    return {
        "id": flag.id,
        "asset": _asset_ref(flag),
        "author": _person(flag.user),
        "reason_kind": flag.reason_kind,
        "reason": flag.reason,
        "status": flag.review_status,
        "created_at": iso(flag.created_at),
        "resolution_note": flag.resolution_note,
        "resolved_at": iso(flag.resolved_at),
    }


@bp.put("/assets/<int:asset_id>/rating")
@allow(*EVERYONE)
@api_doc(json=obj({"stars": {"type": "integer", "minimum": 1, "maximum": 5}, "comment": STRING},
                  required=["stars"]), responses={200: RATING})
def put_rating(asset_id: int):
    """Rate an asset 1 to 5 stars with an optional comment; a second PUT replaces the caller's rating."""
    stars, comment = inputs.parse_rating(json_body())
    rating, _ = ratings.rate_asset(current_user, asset_id, stars, comment)
    return rating_json(rating)


@bp.get("/assets/<int:asset_id>/ratings")
@allow(*EVERYONE)
@api_doc(query=PAGING, responses={200: listing_of(RATING, average=nullable(NUMBER), count=INTEGER,
                                                        distribution=mapping(INTEGER), mine=nullable(RATING))})
def list_ratings(asset_id: int):
    """Ratings of an asset, newest first, with the average, count and distribution."""
    from portal.library.services import get_asset_for

    asset = get_asset_for(current_user, asset_id)
    page, per_page = pagination()
    result = ratings.ratings_for(asset.id, page, per_page)
    summary = ratings.rating_summary(asset.id)
    mine = ratings.rating_of(current_user, asset.id)
    return listing(
        [rating_json(r) for r in result.items], result.total, page, per_page,
        average=summary.average, count=summary.count,
        distribution={str(k): v for k, v in summary.distribution.items()},
        mine=rating_json(mine) if mine else None,
    )


@bp.post("/assets/<int:asset_id>/usage")
@allow(*EVERYONE)
@api_doc(json=obj(USE_BODY, required=["kind"]), responses={201: USE})
def post_usage(asset_id: int):
    """Report a use of an asset: kind, account, opportunity, outcome, note, occurred_on."""
    values = inputs.parse_use(json_body())
    return use_json(uses.report_use(current_user, asset_id, values)), 201


@bp.get("/my/usage")
@allow(*EVERYONE)
@api_doc(query=PAGING, responses={200: listing_of(USE)})
def my_usage():
    """The caller's own reported uses, latest first."""
    page, per_page = pagination()
    result = uses.uses_of(current_user, page, per_page)
    return listing([use_json(u) for u in result.items], result.total, page, per_page)


@bp.patch("/usage/<int:use_id>")
@allow(*EVERYONE)
@api_doc(json=obj(USE_BODY, required=[]), responses={200: USE})
def patch_usage(use_id: int):
    """Change one of the caller's own reported uses (for example its outcome, open to won)."""
    values = inputs.parse_use(json_body(), partial=True)
    return use_json(uses.update_use(current_user, use_id, values))


@bp.post("/assets/<int:asset_id>/flags")
@allow(*EVERYONE)
@api_doc(json=obj({"reason_kind": enum(*inputs.FLAG_KINDS), "reason": STRING}), responses={201: FLAG})
def post_flag(asset_id: int):
    """Flag an asset as outdated, wrong or off_brand with a reason; its owner is notified."""
    kind, reason = inputs.parse_flag(json_body())
    return flag_json(flags.flag_asset(current_user, asset_id, kind, reason)), 201


def _queue_listing(fetch, to_json) -> dict:
    """One page of the review queue (ratings or flags) under the request's filters."""
    filters = review_queue.parse_review_filters(request.args)
    page, per_page = pagination()
    result = fetch(filters, page, per_page)
    return listing([to_json(item) for item in result.items], result.total, page, per_page)


def _resolved(model: type[Rating] | type[Flag], item_id: int, to_json) -> dict:
    """Resolve a rating or flag of the queue with the note in the body."""
    return to_json(review_queue.resolve(current_user, model, item_id, inputs.parse_note(json_body())))


@bp.get("/reviews")
@allow(*REVIEWER_ROLES)
@api_doc(query={**QUEUE_QUERY, "max_stars": {"type": "integer", "minimum": 1, "maximum": 5},
                "comments": enum("include", "exclude")}, responses={200: listing_of(RATING)})
def reviews():
    """The rating review queue: ratings at or under max_stars (default 2) and, unless
    comments=exclude, higher ratings with a comment; status open (default) or resolved;
    filters product, team (of the author), region (of the asset). Newest first."""
    return _queue_listing(review_queue.review_ratings, rating_json)


@bp.post("/reviews/<int:rating_id>/resolve")
@allow(*REVIEWER_ROLES)
@api_doc(json=NOTE_BODY, responses={200: RATING})
def resolve_review(rating_id: int):
    """Resolve a rating in the review queue with a note."""
    return _resolved(Rating, rating_id, rating_json)


@bp.get("/flags")
@allow(*REVIEWER_ROLES)
@api_doc(query=QUEUE_QUERY, responses={200: listing_of(FLAG)})
def list_flags():
    """Flags, newest first: status open (default) or resolved; filters product, team, region."""
    return _queue_listing(review_queue.review_flags, flag_json)


@bp.post("/flags/<int:flag_id>/resolve")
@allow(*REVIEWER_ROLES)
@api_doc(json=NOTE_BODY, responses={200: FLAG})
def resolve_flag(flag_id: int):
    """Resolve a flag with a note."""
    return _resolved(Flag, flag_id, flag_json)
