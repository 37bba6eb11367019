"""Viewer pages: reading an asset in the browser, the PDF and media it shows, and the
viewer's attention beacons (session and CSRF token, like every page form)."""

from __future__ import annotations

import json

from flask import Blueprint, current_app, render_template, request, url_for
from flask_login import current_user

from portal.access import EVERYONE, allow
from portal.errors import InvalidInput
from portal.ids import whole_number
from portal.library import services
from portal.models import UsageKind
from portal.viewer import attention
from portal.viewer.previews import preview_key, send_media, send_preview, viewer_pages

bp = Blueprint("viewer", __name__)

MAX_QUERY_CHARS = 200


@bp.get("/assets/<int:asset_id>/view")
@allow(*EVERYONE)
def view(asset_id: int):
    """?page=N opens at that page; ?q=terms highlights them."""
    item = services.get_asset_for(current_user, asset_id)
    version = item.current_version
    pages = viewer_pages(version)
    start = request.args.get("page", type=whole_number) or 1
    terms = " ".join(request.args.get("q", "")[:MAX_QUERY_CHARS].split())
    services.record_usage(current_user, item, UsageKind.VIEW)
    viewer = None
    if preview_key(version):
        viewer = {"src": url_for("viewer.preview", asset_id=item.id),
                  "beacon_url": url_for("viewer.attention", asset_id=item.id),
                  "start_page": start if 1 <= start <= max(pages, 1) else 1, "terms": terms,
                  "download_url": url_for("library.download", asset_id=item.id), "title": item.title}
    return render_template("viewer/view.html", asset=item, version=version, viewer=viewer, pages=pages,
                           media_url=url_for("viewer.media", asset_id=item.id) if version else None)


@bp.get("/assets/<int:asset_id>/preview.pdf")
@allow(*EVERYONE)
def preview(asset_id: int):
    return send_preview(services.get_asset_for(current_user, asset_id).current_version)


@bp.get("/assets/<int:asset_id>/media")
@allow(*EVERYONE)
def media(asset_id: int):
    return send_media(services.get_asset_for(current_user, asset_id).current_version)


@bp.post("/assets/<int:asset_id>/attention", endpoint="attention")
@allow(*EVERYONE)
def attention_beacon(asset_id: int):
    """JSON with the X-CSRFToken header, or a form (navigator.sendBeacon) with csrf_token and
    `pages` holding the JSON."""
    item = services.get_asset_for(current_user, asset_id)
    current_app.extensions["collateral_attention_limit"].check(current_user.id)
    if request.is_json:
        body = request.get_json(silent=True)
    else:
        try:
            body = {"pages": json.loads(request.form.get("pages", ""))["pages"]}
        except (ValueError, TypeError, KeyError, RecursionError):
            body = None
    if not isinstance(body, dict):
        raise InvalidInput('Send {"pages": [{"number": N, "seconds": S}, ...]}.', status=400)
    attention.record(current_user, item, body)
    return "", 204

