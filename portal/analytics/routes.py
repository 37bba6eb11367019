"""Analytics pages and their CSV exports. The server computes the numbers; the
pages draw them with Chart.js served from /static/vendor."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
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
    tables,
)
from portal.analytics.asset_table import LEADERBOARD_LABELS, QUADRANTS, SCORE_WEIGHTS
from portal.analytics.usage import KIND_LABELS, KINDS
from portal.decks import evidence
from portal.errors import InvalidInput
from portal.library.services import get_asset_for
from portal.models import ANALYTICS_ROLES, PUBLISHER_ROLES

bp = Blueprint("analytics", __name__, url_prefix="/analytics")


def _window(default_days: int = ranges.DEFAULT_RANGE_DAYS) -> ranges.DateRange:
    return ranges.parse_range(request.args, default_days=default_days)


def _context(window: ranges.DateRange, **extra) -> dict:
    return {"window": window, "kinds": KINDS, "kind_labels": KIND_LABELS,
            "range_args": {"since": window.since.isoformat(), "until": window.until.isoformat()}, **extra}


@bp.get("/", endpoint="overview")
@allow(*ANALYTICS_ROLES)
def overview_page():
    window = _window()
    return render_template("analytics/overview.html", **_context(window, data=overview.overview(window)))


@bp.get("/content")
@allow(*ANALYTICS_ROLES)
def content():
    window = _window()
    table = asset_table.asset_table(window)
    quadrant_points = [
        {"x": row.uses, "y": row.rating_average, "label": row.title, "quadrant": table.quadrant_of[row.asset_id]}
        for row in table.rows if row.asset_id in table.quadrant_of
    ]
    return render_template(
        "analytics/content.html",
        **_context(window, table=table, boards=table.leaderboards(), board_labels=LEADERBOARD_LABELS,
                   quadrants=QUADRANTS, quadrant_points=quadrant_points, weights=SCORE_WEIGHTS,
                   liked_at=asset_table.LIKED_AT, recency_half_life=asset_table.RECENCY_HALF_LIFE_DAYS,
                   usage_full_at=asset_table.USAGE_FULL_AT, freshness_half_life=asset_table.FRESHNESS_HALF_LIFE_DAYS),
    )


@bp.get("/assets/<int:asset_id>")
@allow(*ANALYTICS_ROLES)
def asset(asset_id: int):
    item = get_asset_for(current_user, asset_id)
    window = _window(90)
    rows = evidence.slide_evidence(item)
    return render_template("analytics/asset.html",
                           **_context(window, data=asset_report.asset_analytics(item, window), evidence=rows,
                                      evidence_chart=evidence.chart_data(rows),
                                      attention=asset_report.page_attention(item, window),
                                      buyer_pages=buyers.page_attention(item.id, window),
                                      buyer_shares=buyers.sharing_overview(window, item.id)))


@bp.get("/buyers")
@allow(*ANALYTICS_ROLES)
def buyers_page():
    """What buyers read through share links: per item and page, per team, opens and outcomes."""
    window = _window()
    return render_template("analytics/buyers.html",
                           **_context(window, sharing=buyers.sharing_overview(window),
                                      items=buyers.with_pages(buyers.item_attention(window, limit=50), window)))


@bp.get("/search-gaps", endpoint="search_gaps")
@allow(*ANALYTICS_ROLES)
def search_gaps_page():
    window = _window(90)
    return render_template("analytics/search_gaps.html",
                           **_context(window, gaps=search_gaps.search_gaps(window, limit=200),
                                      unclicked=search_gaps.unclicked_searches(window, limit=200)))


EXPORTS = {
    "overview": lambda window: tables.overview_table(window),
    "assets": lambda window: tables.assets_table(window),
    "search-gaps": lambda window: tables.search_gaps_table(window),
    "buyers": lambda window: buyers.attention_table(window),
    "unclicked-searches": lambda window: tables.search_gaps_table(window, unclicked=True),
    **{board.replace("_", "-"): (lambda window, board=board: tables.assets_table(window, board))
       for board in LEADERBOARD_LABELS},
}


@bp.get("/export/<name>.csv")
@allow(*ANALYTICS_ROLES)
def export(name: str):
    build = EXPORTS.get(name)
    if build is None:
        abort(404)
    window = _window(90 if "search" in name else ranges.DEFAULT_RANGE_DAYS)
    filename = f"{name}-{window.since.isoformat()}-{window.until.isoformat()}.csv"
    return tables.csv_response(filename, build(window))


@bp.get("/assets/<int:asset_id>/usage.csv")
@allow(*ANALYTICS_ROLES)
def asset_export(asset_id: int):
    item = get_asset_for(current_user, asset_id)
    window = _window(90)
    data = asset_report.asset_analytics(item, window)
    return tables.csv_response(f"asset-{item.id}-usage-{window.since.isoformat()}-{window.until.isoformat()}.csv",
                               tables.asset_usage_table(data))


@bp.get("/assets/<int:asset_id>/attention.csv")
@allow(*ANALYTICS_ROLES)
def asset_attention_export(asset_id: int):
    item = get_asset_for(current_user, asset_id)
    window = _window(90)
    return tables.csv_response(
        f"asset-{item.id}-attention-{window.since.isoformat()}-{window.until.isoformat()}.csv",
        asset_report.attention_table(item, window))


# --- retirement ---------------------------------------------------------------------------

@bp.get("/retirement", endpoint="retirement")
@allow(*ANALYTICS_ROLES)
def retirement_page():
    unused_days = retirement.parse_unused_days(request.args)
    reason = request.args.get("reason") or None
    candidates = retirement.retirement_candidates(unused_days, reason=reason)
    return render_template("analytics/retirement.html", candidates=candidates, unused_days=unused_days,
                           reason=reason, reason_labels=retirement.REASON_LABELS,
                           history=retirement.recent_retirements(), can_retire=current_user.can_publish)


@bp.post("/retirement")
@allow(*PUBLISHER_ROLES)
def retire_candidates():
    back = url_for("analytics.retirement", unused_days=request.form.get("unused_days") or None,
                   reason=request.form.get("reason_filter") or None)
    try:
        count = retirement.retire_selected(current_user, request.form.getlist("asset_id"),
                                           request.form.get("reason", ""))
    except InvalidInput as error:
        flash(f"{error.message} {' '.join(error.fields.values())}".strip(), "error")
        return redirect(back)
    flash(f"Retired {count} item{'' if count == 1 else 's'}. Reps no longer see them; "
          "each can be restored from the list below.", "success")
    return redirect(back)
