"""Clear errors for people (HTML pages) and integrations (JSON), never a traceback."""

from __future__ import annotations

from flask import Flask, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_file",
    422: "invalid",
    429: "too_many_requests",
    500: "server_error",
    503: "unavailable",
}

FRIENDLY_MESSAGES = {
    401: "Sign in (or send a valid API token) to do that.",
    403: "Your role does not allow this.",
    404: "There is nothing here, or it is not available to you.",
    405: "That method is not allowed here.",
}


class InvalidInput(Exception):
    """Input that a service refuses, with one message per field."""

    status = 422

    def __init__(self, message: str, fields: dict[str, str] | None = None, status: int = 422,
                 code: str | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.status = status
        self.code = code  # the JSON error code, when not the status's usual one
        self.extra = extra or {}  # more members of the JSON error (e.g. the existing item of a duplicate)


class Unavailable(Exception):
    """A part of the portal is down for a while (503, with when to try again)."""

    def __init__(self, message: str, code: str = "unavailable", retry_after: int = 60):
        super().__init__(message)
        self.message, self.code, self.retry_after = message, code, retry_after


class Conflict(InvalidInput):
    def __init__(self, message: str):
        super().__init__(message, status=409)


class TooManyRequests(InvalidInput):
    """A per-user or per-client limit was reached: 429 with Retry-After (seconds)."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message, status=429)
        self.retry_after = max(1, int(retry_after))


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def error_response(status: int, message: str, code: str | None = None, fields: dict | None = None,
                   extra: dict | None = None):
    if wants_json():
        body: dict = {"error": {"code": code or ERROR_CODES.get(status, "error"), "message": message}}
        if fields:
            body["error"]["fields"] = fields
        body["error"].update(extra or {})
        return jsonify(body), status
    return render_template("error.html", status=status, message=message, fields=fields or {}), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return error_response(
            400,
            "This form has expired or was sent from another page. Reload the page and try again; "
            "nothing was saved.",
            code="csrf_failed",
        )

    @app.errorhandler(413)
    def too_large(error: HTTPException):
        limit = app.config["SETTINGS"].max_upload_mb
        return error_response(413, f"The file is larger than the {limit} MB upload limit.")

    @app.errorhandler(InvalidInput)
    def invalid_input(error: InvalidInput):
        response = make_response(error_response(error.status, error.message, code=error.code, fields=error.fields,
                                                extra=error.extra))
        if isinstance(error, TooManyRequests):
            response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.errorhandler(Unavailable)
    def unavailable(error: Unavailable):
        response, status = error_response(503, error.message, code=error.code)
        response = app.make_response((response, status))
        response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        status = error.code or 500
        message = FRIENDLY_MESSAGES.get(status) if error.description == type(error).description else None
        return error_response(status, message or error.description or "Error")

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        # A failed statement leaves the transaction unusable (PostgreSQL), and the
        # error page itself reads the database (navigation badges).
        from portal.extensions import db

        db.session.rollback()
        return error_response(500, "Something went wrong on our side; it has been logged.")

