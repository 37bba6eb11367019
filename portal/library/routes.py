"""Library pages. Views parse input, call a service, render or redirect."""

from __future__ import annotations

import secrets

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from portal.access import EVERYONE, allow
from portal.collections.recently_viewed import record_view
from portal.errors import InvalidInput
from portal.extensions import db
from portal.files import send_image, send_stored
from portal.ids import whole_number
from portal.library import publishing, services
from portal.library.serializers import version_json
from portal.library.stats import stats_for
from portal.models import (
    CONTENT_TYPE_LABELS,
    CONTENT_TYPES,
    PUBLISHER_ROLES,
    RetirementEvent,
    UsageKind,
)

bp = Blueprint("library", __name__)


def current_app_settings():
    return current_app.config["SETTINGS"]


def _int_arg(name: str, default: int, low: int = 1, high: int = 10_000) -> int:
    try:
        return min(high, max(low, int(request.args.get(name, default))))
    except ValueError:
        return default


@bp.get("/")
@allow(*EVERYONE)
def home():
    # The home page (portal/collections) is where people land after signing in.
    return redirect(url_for("collections.home_page"))


@bp.get("/library")
@allow(*EVERYONE)
def index():
    filters = {k: request.args.get(k, "") for k in (*services.LIST_FILTERS, "tag", "status")}
    sort = request.args.get("sort", "newest")
    result = services.list_assets(current_user, filters, sort, _int_arg("page", 1), _int_arg("per_page", 24, 1, 100))
    return render_template(
        "library/index.html", result=result, stats=stats_for([a.id for a in result.items]),
        filters=filters, sort=sort, facets=services.facet_values(current_user),
        content_types=CONTENT_TYPES, labels=CONTENT_TYPE_LABELS,
    )


def _upload_response(result: services.UploadResult, message: str):
    """Flashed in both cases: after the script's upload the browser opens the target next."""
    target = url_for("library.asset", asset_id=result.asset.id)
    duplicates = [{"id": a.id, "title": a.title, "url": url_for("library.asset", asset_id=a.id)}
                  for a in result.duplicate_of]
    flash(message, "success")
    for duplicate in duplicates:
        flash(f"Kept both: the same file is also the current file of “{duplicate['title']}”.", "warning")
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"id": result.asset.id, "url": target, "duplicates": duplicates}), 201
    return redirect(target)


def _upload_page(values: dict, errors: dict, status: int = 200, duplicate=None):
    values = {**values, "upload_token": values.get("upload_token") or secrets.token_urlsafe(24)}
    return render_template("library/upload.html", content_types=CONTENT_TYPES, labels=CONTENT_TYPE_LABELS,
                           values=values, errors=errors, duplicate=duplicate,
                           content_type_by_extension=services.CONTENT_TYPE_BY_EXTENSION), status


@bp.route("/assets/new", methods=["GET", "POST"])
@allow(*PUBLISHER_ROLES)
def upload():
    """Uploads start as drafts: the asset page shows the processed result and a Publish button.
    The form carries a one-time token, so sending it twice makes one item."""
    if request.method == "GET":
        return _upload_page({}, {})
    file = request.files.get("file")
    if file is None or not file.filename:
        raise InvalidInput("Choose a file to upload.", {"file": "A file is required."}, 400)
    max_bytes = current_app_settings().max_upload_bytes
    form = request.form.to_dict()
    target = form.get("as_version_of", "").strip()
    if target:
        if not target.isdigit():
            raise InvalidInput("Choose the item to add a version to.", {"as_version_of": "Not an id."}, 400)
        item = services.get_asset_for(current_user, whole_number(target))
        result = services.add_version(item, current_user, file.stream, file.filename, max_bytes,
                                      publish=publishing.AS_DRAFT)
        return _upload_response(result, _version_message(result.asset))
    try:
        result = services.create_asset(current_user, file.stream, file.filename, form, max_bytes,
                                       publish=publishing.AS_DRAFT, allow_duplicate=form.get("allow_duplicate") == "true",
                                       upload_token=form.get("upload_token") or None)
    except services.DuplicateFile as duplicate:
        if request.accept_mimetypes.best == "application/json":
            raise
        return _upload_page(form, {}, 409, duplicate=duplicate.existing)
    if result.repeated:
        return _upload_response(result, f"“{result.asset.title}” was uploaded once already (the form was sent twice).")
    return _upload_response(result, f"Uploaded “{result.asset.title}” as a draft. Check it, then publish it.")


def _version_message(item) -> str:
    pending = item.pending_version
    if pending is None:
        return f"Version {item.current_version.number} is now current."
    return (f"Version {pending.number} is uploaded as a draft: reps keep version {item.current_version.number} "
            "until you publish it.")


@bp.get("/assets/<int:asset_id>")
@allow(*EVERYONE)
def asset(asset_id: int):
    withdrawn = services.withdrawn_for(current_user, asset_id)
    if withdrawn is not None:  # a rep's old link: say what happened instead of a bare "Not found"
        return render_template("library/withdrawn.html", withdrawn=withdrawn), 404
    item = services.get_asset_for(current_user, asset_id)
    services.record_usage(current_user, item, UsageKind.VIEW)
    record_view(current_user, item)  # "Recently viewed" on the home page
    version = item.current_version
    pages = version.pages if version else []
    history = []
    if current_user.is_staff:
        history = list(db.session.scalars(
            select(RetirementEvent).where(RetirementEvent.asset_id == item.id).order_by(RetirementEvent.id.desc())
        ))
    return render_template(
        "library/asset.html", asset=item, version=version, pages=pages, stats=stats_for([item.id])[item.id],
        history=history, labels=CONTENT_TYPE_LABELS, content_types=CONTENT_TYPES,
        extras=asset_page_extras(item),
    )


def asset_page_extras(item) -> dict:
    """Hooks for other areas (feedback, search, decks) to add to the asset page."""
    from portal.viewhelpers import asset_page_sections

    return asset_page_sections(item)


@bp.get("/assets/<int:asset_id>/status")
@allow(*EVERYONE)
def status(asset_id: int):
    item = services.get_asset_for(current_user, asset_id)
    return jsonify(version_json(item.current_version))


@bp.route("/assets/<int:asset_id>/edit", methods=["GET", "POST"])
@allow(*PUBLISHER_ROLES)
def edit(asset_id: int):
    item = services.get_asset_for(current_user, asset_id)
    if request.method == "POST":
        try:
            services.update_metadata(item, request.form.to_dict(), current_user)
        except InvalidInput as error:
            db.session.rollback()
            return render_template("library/edit.html", asset=item, values=request.form, errors=error.fields,
                                   content_types=CONTENT_TYPES, labels=CONTENT_TYPE_LABELS), 422
        flash("Saved.", "success")
        return redirect(url_for("library.asset", asset_id=item.id))
    values = {
        "title": item.title, "description": item.description, "content_type": item.content_type,
        "product": item.product or "", "stage": item.stage or "", "region": item.region or "",
        "persona": item.persona or "", "tags": ", ".join(item.tags),
        "expires_on": item.expires_on.isoformat() if item.expires_on else "",
    }
    return render_template("library/edit.html", asset=item, values=values, errors={},
                           content_types=CONTENT_TYPES, labels=CONTENT_TYPE_LABELS)


@bp.post("/assets/<int:asset_id>/versions")
@allow(*PUBLISHER_ROLES)
def new_version(asset_id: int):
    item = services.get_asset_for(current_user, asset_id)
    file = request.files.get("file")
    if file is None or not file.filename:
        raise InvalidInput("Choose a file to upload.", {"file": "A file is required."}, 400)
    result = services.add_version(item, current_user, file.stream, file.filename,
                                  current_app_settings().max_upload_bytes, publish=publishing.AS_DRAFT)
    return _upload_response(result, _version_message(result.asset))


@bp.get("/assets/<int:asset_id>/download")
@allow(*EVERYONE)
def download(asset_id: int):
    item = services.get_asset_for(current_user, asset_id)
    number = request.args.get("version", type=whole_number)
    version = services.get_version_for(current_user, item, number)
    services.record_usage(current_user, item, UsageKind.DOWNLOAD, version)
    return send_stored(version.storage_key, filename=version.filename, mime=version.mime)


@bp.get("/assets/<int:asset_id>/cover")
@allow(*EVERYONE)
def cover(asset_id: int):
    return send_image(services.cover_key_for(current_user, asset_id), f"asset-{asset_id}.png")


@bp.get("/pages/<int:page_id>/thumbnail")
@allow(*EVERYONE)
def page_thumbnail(page_id: int):
    return send_image(services.page_thumbnail_key_for(current_user, page_id), f"page-{page_id}.png")


@bp.post("/assets/<int:asset_id>/retire")
@allow(*PUBLISHER_ROLES)
def retire(asset_id: int):
    item = services.get_asset_for(current_user, asset_id)
    try:
        count = services.retire_assets([item], current_user, request.form.get("reason", ""))
    except InvalidInput as error:
        flash(error.message, "error")
        return redirect(url_for("library.asset", asset_id=item.id))
    flash("Retired: reps no longer see it. You can restore it at any time." if count else "Already retired.",
          "success")
    return redirect(url_for("library.asset", asset_id=item.id))


@bp.post("/assets/<int:asset_id>/restore")
@allow(*PUBLISHER_ROLES)
def restore(asset_id: int):
    item = services.get_asset_for(current_user, asset_id)
    services.restore_asset(item, current_user, request.form.get("reason", ""))
    if item.is_expired():
        flash(f"Restored, but it expired on {item.expires_on.isoformat()}: reps cannot find it until you set a "
              "later expiry date (Edit).", "warning")
    else:
        flash("Restored: reps can find it again.", "success")
    return redirect(url_for("library.asset", asset_id=item.id))

