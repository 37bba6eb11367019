"""Search API (docs/api.md): assets and single slides, with facets, highlights and suggestions."""

from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user

from portal.access import EVERYONE, allow
from portal.api import listing, pagination
from portal.api.spec import (
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
from portal.library.api import ASSET, FILTERS
from portal.library.serializers import asset_json, page_thumbnail_url
from portal.search import services

bp = Blueprint("search", __name__)  # mounted under /api/v1 by create_app


QUERY = {"q": STRING, **FILTERS, **PAGING, "include_hidden": enum("0", "1")}
SEARCH_EXTRA = {"facets": mapping(mapping(INTEGER)), "suggestion": nullable(STRING), "search_id": nullable(INTEGER)}
HIGHLIGHTS = array(STRING)
HIT = {**ASSET, "properties": {**ASSET["properties"], "score": NUMBER, "highlights": HIGHLIGHTS},
       "required": [*ASSET["required"], "score", "highlights"]}
PAGE_HIT = obj({"page_id": INTEGER, "asset_id": INTEGER, "asset_title": STRING, "number": INTEGER,
                "title": nullable(STRING), "highlights": HIGHLIGHTS, "score": NUMBER, "thumbnail_url": nullable(STRING),
                "copies": array(obj({"page_id": INTEGER, "asset_id": INTEGER, "asset_title": STRING,
                                     "number": INTEGER}))})


@bp.get("/search")
@allow(*EVERYONE)
@api_doc(query={**QUERY, "sort": enum("relevance", "rating", "usage", "newest")},
         responses={200: listing_of(HIT, **SEARCH_EXTRA)})
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


@bp.get("/search/pages")
@allow(*EVERYONE)
@api_doc(query=QUERY, responses={200: listing_of(PAGE_HIT, **SEARCH_EXTRA)})
def api_search_pages():
    """Search single slides and pages."""
    page, per_page = pagination(24)
    outcome = services.search_pages(current_user, request.args.get("q", ""), services.clean_filters(request.args),
                                    page, per_page, request.args.get("include_hidden") == "1")
    items = [{
        "page_id": r.page.id, "asset_id": r.page.asset_id, "asset_title": r.page.asset.title,
        "number": r.page.number, "title": r.page.title, "highlights": r.highlights, "score": round(r.score, 4),
        "thumbnail_url": page_thumbnail_url(r.page),
        # The other copies of the slide (its lineage group) that matched, collapsed into this one.
        "copies": [{"page_id": o.id, "asset_id": o.asset_id, "asset_title": o.asset.title, "number": o.number}
                   for o in r.others],
    } for r in outcome.items]
    return listing(items, outcome.total, page, per_page, facets=outcome.facets, suggestion=outcome.suggestion,
                   search_id=outcome.log_id)
