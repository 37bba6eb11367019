"""What every request and response of the portal shares, against hostile input
and hostile pages: bounded ids in URLs, a JSON parser that refuses deep nesting,
no NUL characters in text (PostgreSQL cannot store them),
the client address behind trusted proxies, and the browser security headers.

The Content-Security-Policy allows the portal's own scripts only ('self': no
inline script, no CDN, no eval). Styles allow 'unsafe-inline' for now, because
templates still carry style attributes and <style> blocks; drop it from
STYLE_SRC once they are gone. Images, media and fetches may also come from the
S3 endpoint, where thumbnails, covers and files redirect (presigned URLs)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.errors import InvalidInput
from portal.ids import IdConverter

STYLE_SRC = "'self' 'unsafe-inline'"


class BoundedJSONProvider(DefaultJSONProvider):
    """JSON nested deeper than Python's recursion limit is bad input (a 400 through
    request.get_json's ValueError handling), not a RecursionError and a 500."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
        if _holds_nul(value):
            raise ValueError("JSON text may not contain NUL characters")
        return value


def _holds_nul(value: Any) -> bool:
    """A NUL character ("\\u0000") in any string of a parsed JSON value: PostgreSQL text
    cannot store it, so it would fail in the database (a 500) instead of being refused."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def refuse_nul_characters() -> None:
    """Query strings and plain forms with a NUL character are bad input (400); multipart
    fields are checked where they are read (library.services.parse_metadata)."""
    fields = [request.args]
    if request.mimetype == "application/x-www-form-urlencoded":
        fields.append(request.form)
    for values in fields:
        if any("\x00" in key or any("\x00" in v for v in values.getlist(key)) for key in values):
            raise InvalidInput("Text may not contain NUL characters.", status=400)


def content_security_policy(storage_origin: str | None) -> str:
    extra = f" {storage_origin}" if storage_origin else ""
    return "; ".join((
        "default-src 'self'",
        "script-src 'self'",
        f"style-src {STYLE_SRC}",
        f"img-src 'self' data: blob:{extra}",
        f"media-src 'self'{extra}",
        f"connect-src 'self'{extra}",
        "font-src 'self' data:",
        "worker-src 'self'",  # the PDF viewer's worker (static/vendor/pdfjs-*), nothing else
        "object-src 'none'",
        "base-uri 'self'",
        f"form-action 'self'{extra}",
        "frame-ancestors 'none'",
    ))


def _storage_origin(app: Flask) -> str | None:
    endpoint = getattr(app.extensions.get("collateral_storage"), "endpoint_url", None)
    if not endpoint:
        return None
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def init_app(app: Flask) -> None:
    """Call before any blueprint is registered (routes bind their converters when added)."""
    settings = app.config["SETTINGS"]
    app.url_map.converters["int"] = IdConverter
    app.json = BoundedJSONProvider(app)
    if settings.trusted_proxies:
        # X-Forwarded-For/-Proto from that many proxies: the client address that
        # sign-in throttling counts, and https behind a TLS-terminating proxy.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies,  # type: ignore[method-assign]
                                x_proto=settings.trusted_proxies)

    app.before_request(refuse_nul_characters)

    headers = {
        "Content-Security-Policy": content_security_policy(_storage_origin(app)),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
    }

    @app.after_request
    def security_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response
