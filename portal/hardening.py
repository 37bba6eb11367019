"""What every request and response of the portal shares, against hostile input
and hostile pages: bounded ids in URLs, a JSON parser that refuses deep nesting,
the client address behind trusted proxies, and the browser security headers.

The Content-Security-Policy allows the portal's own scripts only ('self': no
inline script, no CDN, no eval). Styles allow 'unsafe-inline' for now, because
templates still carry style attributes and <style> blocks; drop it from
STYLE_SRC once they are gone. Images, media and fetches may also come from the
S3 endpoint, where thumbnails, covers and files redirect (presigned URLs)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response
from flask.json.provider import DefaultJSONProvider
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.ids import IdConverter

STYLE_SRC = "'self' 'unsafe-inline'"


class BoundedJSONProvider(DefaultJSONProvider):
    """JSON nested deeper than Python's recursion limit is bad input (a 400 through
    request.get_json's ValueError handling), not a RecursionError and a 500."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


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
