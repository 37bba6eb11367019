"""Assets API (docs/api.md): upload, metadata, versions, downloads, pages and images, retire and restore."""

from __future__ import annotations

from flask import Blueprint, current_app, request
from flask_login import current_user
from sqlalchemy import select

from portal.access import EVERYONE, allow
from portal.api import json_body, listing, pagination
from portal.api.spec import (
    BOOLEAN,
    DATE,
    DATETIME,
    FILE,
    INTEGER,
    NUMBER,
    PAGING,
    STRING,
    api_doc,
    array,
    binary,
    enum,
    listing_of,
    nullable,
    obj,
    redirect,
)
from portal.errors import InvalidInput
from portal.extensions import db
from portal.files import send_image, send_stored
from portal.ids import whole_number
from portal.library import publishing, services
from portal.library.serializers import asset_json, page_json, version_json
from portal.library.stats import stats_for
from portal.models import ASSET_STATUSES, PUBLISHER_ROLES, AssetStatus, AssetVersion, UsageKind

bp = Blueprint("library", __name__)  # mounted under /api/v1 by create_app


CONTENT_TYPES = ("deck", "case_study", "datasheet", "battlecard", "one_pager", "price_sheet", "video", "other")
VERSION = obj({
    "number": INTEGER, "filename": STRING, "size": INTEGER, "sha256": STRING, "mime": STRING, "kind": nullable(STRING),
    "processing": enum("pending", "ready", "failed"), "error": nullable(STRING), "page_count": nullable(INTEGER),
    "progress": obj({"done": nullable(INTEGER), "total": nullable(INTEGER)}), "created_at": DATETIME,
    "uploaded_by": nullable(STRING),
})
ASSET = obj({
    "id": INTEGER, "title": STRING, "description": nullable(STRING), "content_type": STRING,
    "product": nullable(STRING), "stage": nullable(STRING), "region": nullable(STRING), "persona": nullable(STRING),
    "tags": array(STRING), "status": enum(*ASSET_STATUSES), "expired": BOOLEAN, "expires_on": nullable(DATE),
    "retired_reason": nullable(STRING), "owner": obj({"id": INTEGER, "email": STRING}),
    "created_at": DATETIME, "updated_at": DATETIME, "current_version": nullable(VERSION),
    "versions_count": INTEGER, "rating": obj({"average": nullable(NUMBER), "count": INTEGER}),
    "usage": obj({"views": INTEGER, "downloads": INTEGER, "reported": INTEGER, "deck_inclusions": INTEGER}),
    "thumbnail_url": nullable(STRING),
    "preview_url": nullable(STRING),

    # governance (issue 15): everyone
    "publish_on": nullable(DATE), "published_at": nullable(DATETIME), "review_by": nullable(DATE),
    "verified_at": nullable(DATETIME), "verified_by": nullable(STRING), "needs_review": BOOLEAN,
})
# staff only (portal/library/serializers.py governance_json)
ASSET["properties"].update(review_comment=nullable(STRING), pending_version=nullable(VERSION),
                           pending_publish=nullable(enum("hold", "review", "auto")))
PAGE = obj({"id": INTEGER, "asset_id": INTEGER, "version": INTEGER, "number": INTEGER, "title": nullable(STRING),
            "text": nullable(STRING), "notes": nullable(STRING), "thumbnail_url": nullable(STRING)})
UPLOADED = {**ASSET, "properties": {**ASSET["properties"],
                                    "duplicate_of": array(obj({"id": INTEGER, "title": STRING}))}}
METADATA = {"title": STRING, "description": STRING, "content_type": enum(*CONTENT_TYPES), "product": STRING,
            "stage": STRING, "region": STRING, "persona": STRING, "tags": STRING, "expires_on": STRING}
FILTERS = {"content_type": STRING, "product": STRING, "stage": STRING, "region": STRING, "persona": STRING,
           "tag": STRING}
TITLE = {"type": "string", "minLength": 1, "maxLength": 300, "pattern": r"\S"}  # required on upload
REASON = obj({"reason": STRING}, required=[])
UPLOAD_CHOICES = {"publish": STRING, "allow_duplicate": enum("true", "false")}  # publish: now, draft, YYYY-MM-DD
IMAGE = {200: binary("image/png"), 302: redirect(), 304: None}


def _one(asset, status: int = 200, **extra):
    return {**asset_json(asset, stats_for([asset.id])[asset.id]), **extra}, status


def _uploaded_file():
    file = request.files.get("file")
    if file is None or not file.filename:
        raise InvalidInput("Send the file as multipart field 'file'.", {"file": "A file is required."}, 400)
    return file


def _duplicates(result: services.UploadResult) -> list[dict]:
    return [{"id": a.id, "title": a.title} for a in result.duplicate_of]


def _flag(name: str) -> bool:
    value = (request.form.get(name) or "").strip().lower()
    if value not in ("", "true", "false", "1", "0", "yes", "no"):
        raise InvalidInput(f"{name} is true or false.", {name: "Not true or false."}, 400)
    return value in ("true", "1", "yes")


@bp.post("/assets")
@allow(*PUBLISHER_ROLES)
@api_doc(form=obj({"file": FILE, **METADATA, "title": TITLE, **UPLOAD_CHOICES, "as_version_of": INTEGER},
                  required=["file", "title"]), responses={201: UPLOADED})
def create_asset():
    """Upload a new asset (multipart: file and metadata fields; `publish` now|draft|YYYY-MM-DD;
    `allow_duplicate`; `as_version_of` ID makes it a new version of that item)."""
    file = _uploaded_file()
    choice = publishing.parse_publish(request.form.get("publish"))
    max_bytes = current_app.config["SETTINGS"].max_upload_bytes
    target = request.form.get("as_version_of", "").strip()
    if target:
        number = whole_number(target) if target.isdigit() else None
        if number is None:
            raise InvalidInput("as_version_of is the id of an item.", {"as_version_of": "Not an id."}, 400)
        result = services.add_version(services.get_asset_for(current_user, number), current_user, file.stream,
                                      file.filename, max_bytes, publish=choice)
    else:
        result = services.create_asset(current_user, file.stream, file.filename, request.form.to_dict(), max_bytes,
                                       publish=choice, allow_duplicate=_flag("allow_duplicate"))
    return _one(result.asset, 201, duplicate_of=_duplicates(result))


@bp.get("/assets")
@allow(*EVERYONE)
@api_doc(query={**PAGING, **FILTERS, "owner_id": INTEGER, "status": enum(*services.STATUS_FILTERS),
                "sort": STRING}, responses={200: listing_of(ASSET)})
def list_assets():
    """List assets the caller may see; filters as query parameters."""
    page, per_page = pagination()
    result = services.list_assets(current_user, request.args, request.args.get("sort", "newest"), page, per_page)
    stats = stats_for([a.id for a in result.items])
    return listing([asset_json(a, stats[a.id]) for a in result.items], result.total, page, per_page)


@bp.get("/assets/<int:asset_id>")
@allow(*EVERYONE)
@api_doc(responses={200: ASSET})
def get_asset(asset_id: int):
    """One asset."""
    return _one(services.get_asset_for(current_user, asset_id))


@bp.patch("/assets/<int:asset_id>")
@allow(*PUBLISHER_ROLES)
@api_doc(json=obj({**METADATA, "tags": array(STRING), "owner_email": STRING}, required=[]),
         responses={200: ASSET})
def update_asset(asset_id: int):
    """Change metadata."""
    asset = services.get_asset_for(current_user, asset_id)
    return _one(services.update_metadata(asset, json_body(), current_user))


@bp.post("/assets/<int:asset_id>/versions")
@allow(*PUBLISHER_ROLES)
@api_doc(form=obj({"file": FILE, "publish": enum("now", "draft")}, required=["file"]), responses={201: UPLOADED})
def create_version(asset_id: int):
    """Publish a new version (multipart: file; `publish` now|draft: a published item keeps its current
    version until the new one is processed, and approved where its content type needs approval)."""
    asset = services.get_asset_for(current_user, asset_id)
    file = _uploaded_file()
    choice = publishing.parse_publish(request.form.get("publish"))
    if choice.kind == "date":
        raise InvalidInput("A new version is published now or held as a draft.", {"publish": "now or draft."})
    result = services.add_version(asset, current_user, file.stream, file.filename,
                                  current_app.config["SETTINGS"].max_upload_bytes, publish=choice)
    return _one(result.asset, 201, duplicate_of=_duplicates(result))


@bp.get("/assets/<int:asset_id>/versions")
@allow(*EVERYONE)
@api_doc(responses={200: listing_of(VERSION)})
def list_versions(asset_id: int):
    """Versions of an asset (reps see only the current one)."""
    asset = services.get_asset_for(current_user, asset_id)
    query = select(AssetVersion).where(AssetVersion.asset_id == asset.id).order_by(AssetVersion.number.desc())
    if not current_user.is_staff:
        query = query.where(AssetVersion.id == asset.current_version_id)
    versions = list(db.session.scalars(query))
    return listing([version_json(v) for v in versions], len(versions), 1, max(1, len(versions)))


@bp.get("/assets/<int:asset_id>/download")
@allow(*EVERYONE)
@api_doc(query={"version": {"type": "integer", "minimum": 1}}, responses={200: binary("*/*"), 302: redirect()})
def download(asset_id: int):
    """The file (or a 302 to a presigned URL); counts a download."""
    asset = services.get_asset_for(current_user, asset_id)
    version = services.get_version_for(current_user, asset, request.args.get("version", type=whole_number))
    services.record_usage(current_user, asset, UsageKind.DOWNLOAD, version)
    return send_stored(version.storage_key, filename=version.filename, mime=version.mime)


@bp.post("/assets/<int:asset_id>/retire")
@allow(*PUBLISHER_ROLES)
@api_doc(json=REASON, responses={200: ASSET})
def retire(asset_id: int):
    """Retire with a reason (reversible)."""
    asset = services.get_asset_for(current_user, asset_id)
    reason = json_body().get("reason")
    if asset.status == AssetStatus.RETIRED:
        raise InvalidInput("This item is already retired.", status=409)
    services.retire_assets([asset], current_user, reason if isinstance(reason, str) else "")
    return _one(asset)


@bp.post("/assets/<int:asset_id>/restore")
@allow(*PUBLISHER_ROLES)
@api_doc(json=REASON, responses={200: ASSET})
def restore(asset_id: int):
    """Restore a retired asset."""
    asset = services.get_asset_for(current_user, asset_id)
    data = request.get_json(silent=True) or {}
    reason = data.get("reason", "") if isinstance(data, dict) else ""
    return _one(services.restore_asset(asset, current_user, reason if isinstance(reason, str) else ""))


@bp.get("/assets/<int:asset_id>/cover")
@allow(*EVERYONE)
@api_doc(responses=IMAGE)
def asset_cover(asset_id: int):
    """The cover image (PNG) of the current version: what `thumbnail_url` of an asset points at."""
    return send_image(services.cover_key_for(current_user, asset_id), f"asset-{asset_id}.png")


@bp.get("/pages/<int:page_id>/thumbnail")
@allow(*EVERYONE)
@api_doc(responses=IMAGE)
def page_thumbnail(page_id: int):
    """A page's or slide's image (PNG): what `thumbnail_url` of a page points at."""
    return send_image(services.page_thumbnail_key_for(current_user, page_id), f"page-{page_id}.png")


@bp.get("/assets/<int:asset_id>/pages")
@allow(*EVERYONE)
@api_doc(responses={200: listing_of(PAGE, processing=nullable(enum("pending", "ready", "failed")))})
def list_pages(asset_id: int):
    """Pages (slides) of the current version, with text, notes and thumbnails."""
    asset = services.get_asset_for(current_user, asset_id)
    pages = asset.current_version.pages if asset.current_version else []
    return listing([page_json(p) for p in pages], len(pages), 1, max(1, len(pages)),
                   processing=asset.current_version.processing if asset.current_version else None)


