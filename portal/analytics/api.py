"""Analytics API (shared/api.md): the same numbers as the analytics pages."""

from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user

from portal.access import allow
from portal.analytics import (
    asset_report,
    asset_table,
    buyers,
    overview,
    ranges,
    retirement,
    search_gaps,
)
from portal.analytics.asset_table import LEADERBOARD_LABELS, AssetRow
from portal.analytics.ranges import DateRange
from portal.analytics.usage import KINDS
from portal.api import json_body, listing, pagination
from portal.api.spec import (
    DATE,
    DATETIME,
    ID,
    INTEGER,
    NUMBER,
    PAGING,
    STRING,
    api_doc,
    array,
    enum,
    listing_of,
    mapping,
    nullable,
    obj,
)
from portal.errors import InvalidInput
from portal.library.serializers import iso
from portal.library.services import get_asset_for
from portal.models import ANALYTICS_ROLES, PUBLISHER_ROLES

bp = Blueprint("analytics", __name__)  # mounted under /api/v1 by create_app

ASSET_SORTS = {
    "score": lambda row: (-row.score, row.asset_id),
    "uses": lambda row: (-row.uses, row.asset_id),
    "rating": lambda row: (-(row.rating_average or 0), -row.rating_count, row.asset_id),
    "last_used": lambda row: (-(row.last_used_on.toordinal() if row.last_used_on else 0), row.asset_id),
    "title": lambda row: (row.title.lower(), row.asset_id),
}


RANGE_QUERY = {"since": DATE, "until": DATE, "days": {"type": "integer", "minimum": 1, "maximum": ranges.MAX_RANGE_DAYS}}
RANGE = obj({"since": DATE, "until": DATE, "granularity": enum("day", "week")})
ASSET_ROW = obj({
    "asset_id": INTEGER, "title": STRING, "status": STRING, "views": INTEGER, "downloads": INTEGER,
    "search_clicks": INTEGER, "reported_uses": INTEGER, "deck_inclusions": INTEGER, "buyer_opens": INTEGER,
    "uses": INTEGER,
    "rating_average": nullable(NUMBER), "rating_count": INTEGER, "last_used_at": nullable(DATE), "score": NUMBER,
    "quadrant": nullable(STRING),
})
SERIES = mapping(array(INTEGER))  # "labels" holds strings; the others counts per bucket
GAP = obj({"query": STRING, "searches": INTEGER, "last_searched_at": nullable(DATETIME)})
GAPS = listing_of(GAP, range=RANGE)


def _range_json(window: DateRange) -> dict:
    return {"since": iso(window.since), "until": iso(window.until), "granularity": "week" if window.weekly else "day"}


def asset_row_json(row: AssetRow, quadrant: str | None) -> dict:
    return {
        "asset_id": row.asset_id,
        "title": row.title,
        "status": row.status,
        "views": row.counts["view"],
        "downloads": row.counts["download"],
        "search_clicks": row.counts["search_click"],
        "reported_uses": row.counts["reported"],
        "deck_inclusions": row.counts["deck_inclusion"],
        "buyer_opens": row.buyer_opens,
        "uses": row.uses,
        "rating_average": row.rating_average,
        "rating_count": row.rating_count,
        "last_used_at": iso(row.last_used_on),
        "score": row.score,
        "quadrant": quadrant,
    }


@bp.get("/analytics/overview")
@allow(*ANALYTICS_ROLES)
@api_doc(query=RANGE_QUERY, responses={200: obj({
    "range": RANGE, "totals": mapping(INTEGER), "active_reps": INTEGER, "active_users": INTEGER,
    "library_size": INTEGER, "assets_used": INTEGER, "used_share_percent": NUMBER,
    "series": {**mapping(array({})), "properties": {"labels": array(STRING)}, "required": ["labels"]},
})})
def analytics_overview():
    """Totals, active reps, share of the library used, and the series over time."""
    data = overview.overview(ranges.parse_range(request.args))
    return {
        "range": _range_json(data.window),
        "totals": data.totals,
        "active_reps": data.active_reps,
        "active_users": data.active_users,
        "library_size": data.library_size,
        "assets_used": data.assets_used,
        "used_share_percent": data.used_share,
        "series": {"labels": data.labels, **data.series},
    }


@bp.get("/analytics/assets")
@allow(*ANALYTICS_ROLES)
@api_doc(query={**RANGE_QUERY, **PAGING, "sort": enum(*ASSET_SORTS), "include_retired": enum("0", "1")},
         responses={200: listing_of(ASSET_ROW, range=RANGE, used_threshold=INTEGER)})
def analytics_assets():
    """Per-asset usage in the range, rating, last use and content score; sort=score|uses|rating|last_used|title."""
    window = ranges.parse_range(request.args)
    sort = request.args.get("sort", "score")
    if sort not in ASSET_SORTS:
        raise InvalidInput(f"sort is one of {', '.join(ASSET_SORTS)}.", {"sort": "Unknown sort."}, status=400)
    page, per_page = pagination(50)
    table = asset_table.asset_table(window, include_retired=request.args.get("include_retired") == "1")
    rows = sorted(table.rows, key=ASSET_SORTS[sort])
    window_rows = rows[(page - 1) * per_page: page * per_page]
    return listing([asset_row_json(row, table.quadrant_of.get(row.asset_id)) for row in window_rows], len(rows),
                   page, per_page, range=_range_json(window), used_threshold=table.used_threshold)


@bp.get("/analytics/leaderboards")
@allow(*ANALYTICS_ROLES)
@api_doc(query=RANGE_QUERY, responses={200: obj({"range": RANGE, "used_threshold": INTEGER,
                                                    **{name: array(ASSET_ROW) for name in LEADERBOARD_LABELS}})})
def analytics_leaderboards():
    """Most and least used, never used, highest and lowest rated, low rated yet used the most."""
    window = ranges.parse_range(request.args)
    table = asset_table.asset_table(window)
    boards = table.leaderboards()
    return {"range": _range_json(window), "used_threshold": table.used_threshold,
            **{name: [asset_row_json(row, table.quadrant_of.get(row.asset_id)) for row in boards[name]]
               for name in LEADERBOARD_LABELS}}


@bp.get("/analytics/assets/<int:asset_id>")
@allow(*ANALYTICS_ROLES)
@api_doc(query=RANGE_QUERY, responses={200: obj({
    "asset_id": INTEGER, "title": STRING, "range": RANGE, "summary": nullable(ASSET_ROW),
    "series": {**mapping(array({})), "properties": {"labels": array(STRING)}, "required": ["labels"]},
    "by_kind": mapping(INTEGER), "by_team": array(obj({"team": nullable(STRING), "events": INTEGER})),
    "by_region": array(obj({"region": nullable(STRING), "events": INTEGER})),
    "rating_trend": array(obj({"month": STRING, "average": nullable(NUMBER), "count": INTEGER})),
    "outcomes": mapping(INTEGER),
    "slides": array(obj({"version": INTEGER, "slide": INTEGER, "deck_inclusions": INTEGER})),
    "recent": array(obj({"at": nullable(STRING), "user": nullable(STRING), "team": nullable(STRING),
                         "what": STRING})),
})})
def analytics_asset(asset_id: int):
    """One asset: usage over time, by kind, team and region, rating trend, outcomes, reused slides, recent users."""
    item = get_asset_for(current_user, asset_id)
    window = ranges.parse_range(request.args, default_days=90)
    data = asset_report.asset_analytics(item, window)
    return {
        "asset_id": item.id,
        "title": item.title,
        "range": _range_json(window),
        "summary": asset_row_json(data.row, None) if data.row else None,
        "series": {"labels": data.labels, **{kind: data.series[kind] for kind in KINDS}},
        "by_kind": data.by_kind,
        "by_team": [{"team": team, "events": n} for team, n in data.by_team],
        "by_region": [{"region": region, "events": n} for region, n in data.by_region],
        "rating_trend": [{"month": m, "average": avg, "count": n} for m, avg, n in data.rating_trend],
        "outcomes": data.outcomes,
        "slides": [{"version": v, "slide": s, "deck_inclusions": n} for v, s, n in data.slides],
        "recent": [{"at": iso(at), "user": who, "team": team, "what": what} for at, who, team, what in data.recent],
    }


def _gaps_listing(unclicked: bool):
    window = ranges.parse_range(request.args, default_days=90)
    page, per_page = pagination(50)
    gaps = search_gaps.unclicked_searches(window) if unclicked else search_gaps.search_gaps(window)
    items = [{"query": gap.query, "searches": gap.searches, "last_searched_at": iso(gap.last_searched_at)}
             for gap in gaps[(page - 1) * per_page: page * per_page]]
    return listing(items, len(gaps), page, per_page, range=_range_json(window))


RATE = nullable(NUMBER)
BUYERS = obj({
    "range": RANGE, "shares": INTEGER, "opened": INTEGER, "open_rate": RATE, "visits": INTEGER,
    "outcomes": obj({"won": INTEGER, "lost": INTEGER}),
    "teams": array(obj({"team": STRING, "shares": INTEGER, "opened": INTEGER, "open_rate": RATE})),
    "items": array(obj({"asset_id": INTEGER, "title": STRING, "shares": INTEGER, "opened": INTEGER, "open_rate": RATE,
                        "visits": INTEGER, "seconds": INTEGER,
                        "pages": array(obj({"number": INTEGER, "visits": INTEGER, "seconds": INTEGER,
                                            "average_seconds": NUMBER, "reach": NUMBER}))})),
})


@bp.get("/analytics/buyers")
@allow(*ANALYTICS_ROLES)
@api_doc(query=RANGE_QUERY, responses={200: BUYERS})
def analytics_buyers():
    """Buyer attention through share links in the range: shares, opens, outcomes, per team, per item and page."""
    window = ranges.parse_range(request.args)
    sharing = buyers.sharing_overview(window)
    items = buyers.with_pages(buyers.item_attention(window, limit=200), window)
    return {
        "range": _range_json(window),
        "shares": sharing.shares, "opened": sharing.opened, "open_rate": sharing.open_rate,
        "visits": sharing.visits, "outcomes": sharing.outcomes,
        "teams": [{"team": t.team, "shares": t.shares, "opened": t.opened, "open_rate": t.open_rate}
                  for t in sharing.teams],
        "items": [{"asset_id": i.asset_id, "title": i.title, "shares": i.shares, "opened": i.opened,
                   "open_rate": i.open_rate, "visits": i.visits, "seconds": i.seconds,
                   "pages": [{"number": p.number, "visits": p.visits, "seconds": p.seconds,
                              "average_seconds": p.average_seconds, "reach": p.reach} for p in i.pages]}
                  for i in items],
    }


@bp.get("/analytics/search-gaps")
@allow(*ANALYTICS_ROLES)
@api_doc(query={**RANGE_QUERY, **PAGING}, responses={200: GAPS})
def analytics_search_gaps():
    """Queries that found nothing (default: the last 90 days), most frequent first."""
    return _gaps_listing(unclicked=False)


@bp.get("/analytics/unclicked-searches")
@allow(*ANALYTICS_ROLES)
@api_doc(query={**RANGE_QUERY, **PAGING}, responses={200: GAPS})
def analytics_unclicked_searches():
    """Queries with results none of which was ever opened."""
    return _gaps_listing(unclicked=True)


# --- retirement ---------------------------------------------------------------------------

@bp.get("/analytics/retirement-candidates")
@allow(*ANALYTICS_ROLES)
@api_doc(query={**PAGING, "unused_days": {"type": "integer", "minimum": 1, "maximum": 3650}, "reason": STRING},
         responses={200: listing_of(obj({
             "asset_id": INTEGER, "title": STRING, "last_used_at": nullable(DATE), "age_days": INTEGER,
             "uses": INTEGER, "rating_average": nullable(NUMBER), "rating_count": INTEGER,
             "expires_on": nullable(DATE), "owner": nullable(STRING),
             "reasons": array(obj({"code": STRING, "text": STRING, "other_asset_id": nullable(INTEGER)})),
             "reason_codes": array(STRING),
         }), unused_days=INTEGER)})
def analytics_retirement_candidates():
    """Published items worth retiring, each with its reasons (unused_days=90, reason=code to filter)."""
    unused_days = retirement.parse_unused_days(request.args)
    page, per_page = pagination(50)
    candidates = retirement.retirement_candidates(unused_days, reason=request.args.get("reason") or None)
    items = [{
        "asset_id": c.asset.id,
        "title": c.asset.title,
        "last_used_at": iso(c.last_used_on),
        "age_days": c.age_days,
        "uses": c.uses,
        "rating_average": c.rating_average,
        "rating_count": c.rating_count,
        "expires_on": iso(c.asset.expires_on),
        "owner": c.asset.owner.email if c.asset.owner else None,
        "reasons": [{"code": r.code, "text": r.text, "other_asset_id": r.other_asset_id} for r in c.reasons],
        "reason_codes": c.codes,
    } for c in candidates[(page - 1) * per_page: page * per_page]]
    return listing(items, len(candidates), page, per_page, unused_days=unused_days)


@bp.post("/analytics/retire")
@allow(*PUBLISHER_ROLES)
@api_doc(json=obj({"asset_ids": array(ID), "reason": STRING}), responses={200: obj({"retired": INTEGER})})
def analytics_retire():
    """Retire many items at once: JSON {"asset_ids": [...], "reason": "..."}; each is audited and reversible."""
    body = json_body()
    asset_ids = body.get("asset_ids")
    if not isinstance(asset_ids, list):
        raise InvalidInput("Send asset_ids as a list of item ids.", {"asset_ids": "Not a list."}, status=400)
    reason = body.get("reason")
    count = retirement.retire_selected(current_user, asset_ids, reason if isinstance(reason, str) else "")
    return {"retired": count}


@bp.get("/assets/<int:asset_id>/retirements")
@allow(*ANALYTICS_ROLES)
@api_doc(responses={200: obj({"items": array(obj({
    "action": enum("retired", "restored"), "reason": nullable(STRING), "at": DATETIME, "by": nullable(STRING),
}))})})
def asset_retirements(asset_id: int):
    """The audit trail of one item: who retired or restored it, when and why."""
    item = get_asset_for(current_user, asset_id)
    events = retirement.recent_retirements(limit=None, asset_id=item.id)
    return {"items": [{"action": e.action, "reason": e.reason, "at": iso(e.created_at),
                       "by": e.user.email if e.user else None} for e in events]}
