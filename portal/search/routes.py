"""Search pages: results for assets and for single slides, and click-throughs."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from portal.access import EVERYONE, allow
from portal.ids import whole_number
from portal.pagination import page_args
from portal.search import services

bp = Blueprint("search", __name__)
SEARCH_MAX_PAGE = 500  # ranking reads page x per_page hits: deep pages cost the most


@bp.get("/search")
@allow(*EVERYONE)
def search():
    query = request.args.get("q", "")
    filters = services.clean_filters(request.args)
    tab = request.args.get("tab", "assets")
    include_hidden = request.args.get("include_hidden") == "1"
    if tab == "slides":
        page, per_page = page_args(request.args, 24, max_page=SEARCH_MAX_PAGE)
        outcome = services.search_pages(current_user, query, filters, page, per_page, include_hidden)
    else:
        page, per_page = page_args(request.args, 20, max_page=SEARCH_MAX_PAGE)
        outcome = services.search_assets(current_user, query, filters, request.args.get("sort", "relevance"),
                                         page, per_page, include_hidden)
    return render_template("search/results.html", outcome=outcome, result=outcome, filters=filters, tab=tab,
                           sort=request.args.get("sort", "relevance"), include_hidden=include_hidden)


@bp.get("/search/click/<int:asset_id>")
@allow(*EVERYONE)
def click(asset_id: int):
    page_number = request.args.get("page", type=whole_number)
    services.record_click(current_user, asset_id, request.args.get("log", type=whole_number), page_number)
    if page_number:  # a page hit opens the viewer at that page, its terms highlighted
        return redirect(url_for("viewer.view", asset_id=asset_id, page=page_number,
                                q=request.args.get("q", "")[:200] or None))
    anchor = f"page-{page_number}" if page_number else None
    return redirect(url_for("library.asset", asset_id=asset_id, _anchor=anchor))
