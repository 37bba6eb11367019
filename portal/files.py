"""Serving stored files: a presigned redirect on S3, a streamed file locally."""

from __future__ import annotations

from flask import Response, redirect, send_file
from werkzeug.exceptions import NotFound

from assets.storage import ObjectNotFound
from portal.storage import get_storage

PRESIGNED_SECONDS = 300
IMAGE_MAX_AGE = 300


def send_stored(key: str, *, filename: str, mime: str, as_attachment: bool = True, max_age: int = 0) -> Response:
    storage = get_storage()
    url = storage.presigned_url(key, filename=filename, content_type=mime, expires_seconds=PRESIGNED_SECONDS)
    if url is not None:
        return redirect(url, code=302)
    path = storage.local_path(key)
    if path is None:
        raise NotFound()
    try:
        response = send_file(path, mimetype=mime, as_attachment=as_attachment, download_name=filename,
                             max_age=max_age, conditional=True, etag=True)
    except (FileNotFoundError, ObjectNotFound):
        raise NotFound() from None
    # Everything stored is behind a sign-in: browsers may keep it, shared caches may not.
    response.cache_control.public = False
    response.cache_control.private = True
    return response


def send_image(key: str, name: str) -> Response:
    """A PNG thumbnail or cover, shown inline, cacheable for a few minutes and revalidated by ETag."""
    return send_stored(key, filename=name, mime="image/png", as_attachment=False, max_age=IMAGE_MAX_AGE)
