"""JSON shapes of the library's records, as documented in shared/api.md."""

from __future__ import annotations

from datetime import date, datetime

from flask import url_for
from flask_login import current_user

from portal.library.stats import AssetStats
from portal.models import Asset, AssetVersion, Page


def iso(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat() + "Z"
    return value.isoformat()


def version_json(version: AssetVersion | None) -> dict | None:
    if version is None:
        return None
    return {
        "number": version.number,
        "filename": version.filename,
        "size": version.size,
        "sha256": version.sha256,
        "mime": version.mime,
        "kind": version.kind,
        "processing": version.processing,
        "error": version.error,
        "page_count": version.page_count,
        "progress": {"done": version.progress_done, "total": version.progress_total},
        "created_at": iso(version.created_at),
        "uploaded_by": version.uploaded_by.email if version.uploaded_by else None,
    }


def asset_json(asset: Asset, stats: AssetStats, versions_count: int | None = None) -> dict:
    return {
        "id": asset.id,
        "title": asset.title,
        "description": asset.description,
        "content_type": asset.content_type,
        "product": asset.product,
        "stage": asset.stage,
        "region": asset.region,
        "persona": asset.persona,
        "tags": asset.tags,
        "status": asset.status,
        "expired": asset.is_expired(),
        "expires_on": iso(asset.expires_on),
        "retired_reason": asset.retired_reason,
        "owner": {"id": asset.owner.id, "email": asset.owner.email},
        "created_at": iso(asset.created_at),
        "updated_at": iso(asset.updated_at),
        "current_version": version_json(asset.current_version),
        "versions_count": versions_count if versions_count is not None else len(asset.versions),
        "rating": {"average": stats.rating_average, "count": stats.rating_count},
        "usage": {
            "views": stats.views,
            "downloads": stats.downloads,
            "reported": stats.reported,
            "deck_inclusions": stats.deck_inclusions,
        },
        "thumbnail_url": cover_url(asset),
        "preview_url": preview_url(asset),
        **governance_json(asset),
    }


def governance_json(asset: Asset) -> dict:
    """Publishing and verification (portal/library/publishing.py); what waits for staff only to staff."""
    verified = asset.last_verified_at
    body = {
        "publish_on": iso(asset.publish_on),
        "published_at": iso(asset.published_at),
        "review_by": iso(asset.review_by),
        "verified_at": iso(verified),
        "verified_by": asset.verified_by.email if asset.verified_by else None,
        "needs_review": asset.needs_review(),
    }
    if current_user.is_authenticated and current_user.is_staff:
        body["review_comment"] = asset.review_comment
        body["pending_version"] = version_json(asset.pending_version)
        body["pending_publish"] = asset.pending_publish
    return body


def preview_url(asset: Asset) -> str | None:
    """The API URL of the PDF the viewer shows (portal/viewer), when there is one."""
    from portal.viewer.previews import preview_key

    return url_for("api.viewer.preview", asset_id=asset.id) if preview_key(asset.current_version) else None


def cover_url(asset: Asset) -> str | None:
    """The API URL of the asset's cover: fetchable with the same bearer token as the answer."""
    version = asset.current_version
    return url_for("api.library.asset_cover", asset_id=asset.id) if version and version.cover_key else None


def page_thumbnail_url(page: Page) -> str | None:
    """The API URL of a page's image: fetchable with the same bearer token as the answer."""
    return url_for("api.library.page_thumbnail", page_id=page.id) if page.thumbnail_key else None


def page_json(page: Page) -> dict:
    return {
        "id": page.id,
        "asset_id": page.asset_id,
        "version": page.version.number,
        "number": page.number,
        "title": page.title,
        "text": page.text,
        "notes": page.notes,
        "thumbnail_url": page_thumbnail_url(page),
    }
