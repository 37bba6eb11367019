"""Reading API (docs/api.md, "Reading and keeping"): the PDF the viewer shows, and attention beacons."""

from __future__ import annotations

from flask import Blueprint, current_app
from flask_login import current_user

from portal.access import EVERYONE, allow
from portal.api import json_body
from portal.api.spec import api_doc, array, binary, obj, redirect
from portal.library import services
from portal.viewer import attention
from portal.viewer.previews import send_preview

bp = Blueprint("viewer", __name__)  # mounted under /api/v1 by create_app


@bp.get("/assets/<int:asset_id>/preview")
@allow(*EVERYONE)
@api_doc(responses={200: binary("application/pdf"), 206: binary("application/pdf"), 302: redirect()})
def preview(asset_id: int):
    """The item as PDF (the original PDF or the rendition); 302 to a presigned URL on S3; 404 while none."""
    return send_preview(services.get_asset_for(current_user, asset_id).current_version)


@bp.post("/assets/<int:asset_id>/attention")
@allow(*EVERYONE)
@api_doc(json=obj({"pages": array(obj({"number": {"type": "integer", "minimum": 1},
                                        "seconds": {"type": "number", "minimum": 0, "exclusiveMinimum": True,
                                                    "maximum": attention.MAX_SECONDS_PER_PAGE}}),
                                  minItems=1, maxItems=attention.MAX_PAGES_PER_BEACON)}),
         responses={204: None})
def record_attention(asset_id: int):
    """Seconds spent on pages: JSON {"pages": [{"number", "seconds"}]} -> 204."""
    item = services.get_asset_for(current_user, asset_id)
    current_app.extensions["collateral_attention_limit"].check(current_user.id)
    attention.record(current_user, item, json_body())
    return "", 204
