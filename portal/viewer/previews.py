"""Which PDF the viewer shows of a version, and sending it."""

from __future__ import annotations

import os

from werkzeug.exceptions import NotFound

from portal.files import send_stored
from portal.models import AssetVersion

INLINE_KINDS = ("video", "image")


def preview_key(version: AssetVersion | None) -> str | None:
    """The storage key of the PDF the viewer shows: a PDF itself, or the rendition of a
    deck, document or spreadsheet; None while there is none."""
    if version is None:
        return None
    if version.kind == "pdf":
        return version.storage_key
    return version.preview_key


def viewer_pages(version: AssetVersion | None) -> int:
    """How many pages the viewer shows (a workbook's rendition has more pages than sheets)."""
    if version is None:
        return 0
    if version.kind == "pdf":
        return version.page_count or 0
    if version.preview_key:
        return version.preview_pages or 0
    return 0


def send_preview(version: AssetVersion | None):
    key = preview_key(version)
    if key is None:
        raise NotFound("There is no readable copy of this item yet.")
    name = os.path.splitext(version.filename)[0] or "document"
    return send_stored(key, filename=f"{name}.pdf", mime="application/pdf", as_attachment=False)


def send_media(version: AssetVersion | None):
    """A video or an image, shown in the page (byte ranges locally, presigned on S3)."""
    if version is None or version.kind not in INLINE_KINDS:
        raise NotFound()
    return send_stored(version.storage_key, filename=version.filename, mime=version.mime, as_attachment=False)
