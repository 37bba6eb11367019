from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_login import current_user

from portal.access import EVERYONE, allow
from portal.api import bp as api_bp
from portal.api import listing, pagination
from portal.library.serializers import asset_json, page_thumbnail_url
from portal.search_views import bp, services


def _page_args(default_per_page: int) -> tuple[int, int]:
    try:
        page = max(1, min(int(request.args.get("page", 1)), 500))
    except ValueError:
        page = 1
    return page, default_per_page


@bp.get("/search")
@allow(*EVERYONE)
def search():
    query = request.args.get("q", "")
    filters = services.clean_filters(request.args)
    tab = request.args.get("tab", "assets")
    include_hidden = request.args.get("include_hidden") == "1"
    if tab == "slides":
        page, per_page = _page_args(24)
        outcome = services.search_pages(current_user, query, filters, page, per_page, include_hidden)
    else:
        page, per_page = _page_args(20)
        outcome = services.search_assets(current_user, query, filters, request.args.get("sort", "relevance"),
                                         page, per_page, include_hidden)
    return render_template("search/results.html", outcome=outcome, result=outcome, filters=filters, tab=tab,
                           sort=request.args.get("sort", "relevance"), include_hidden=include_hidden)


@bp.get("/search/click/<int:asset_id>")
@allow(*EVERYONE)
def click(asset_id: int):
    page_number = request.args.get("page", type=int)
    services.record_click(current_user, asset_id, request.args.get("log", type=int), page_number)
    anchor = f"page-{page_number}" if page_number else None
    return redirect(url_for("library.asset", asset_id=asset_id, _anchor=anchor))


@api_bp.get("/search")
@allow(*EVERYONE)
def api_search():
    """Search assets: full text, filters, facets, highlights, suggestion."""
    page, per_page = pagination()
    outcome = services.search_assets(
        current_user, request.args.get("q", ""), services.clean_filters(request.args),
        request.args.get("sort", "relevance"), page, per_page, request.args.get("include_hidden") == "1",
    )
    items = [{**asset_json(r.asset, r.stats), "score": round(r.score, 4), "highlights": r.highlights}
             for r in outcome.items]
    return listing(items, outcome.total, page, per_page, facets=outcome.facets, suggestion=outcome.suggestion,
                   search_id=outcome.log_id)


@api_bp.get("/search/pages")
@allow(*EVERYONE)
def api_search_pages():
    """Search single slides and pages."""
    page, per_page = pagination(24)
    outcome = services.search_pages(current_user, request.args.get("q", ""), services.clean_filters(request.args),
                                    page, per_page, request.args.get("include_hidden") == "1")
    items = [{
        "page_id": r.page.id, "asset_id": r.page.asset_id, "asset_title": r.page.asset.title,
        "number": r.page.number, "title": r.page.title, "highlights": r.highlights, "score": round(r.score, 4),
        "thumbnail_url": page_thumbnail_url(r.page),
    } for r in outcome.items]
    return listing(items, outcome.total, page, per_page, facets=outcome.facets, suggestion=outcome.suggestion,
                   search_id=outcome.log_id)
