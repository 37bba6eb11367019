"""Who may use which route. Every view declares its roles with @allow; a test
walks the whole route table to check that none is left undeclared."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from flask import Flask, abort, current_app, g, request
from flask_login import current_user

from portal.api import is_api_request
from portal.extensions import db
from portal.extensions import login_manager as manager
from portal.models import ROLES, ApiToken, User, utcnow

PUBLIC = "public"  # marker: no sign-in needed
EVERYONE = ROLES  # any signed-in user


def allow(*roles: str) -> Callable:
    """Declare who may call a view: PUBLIC, or one or more roles."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            if roles != (PUBLIC,):
                if not current_user.is_authenticated:
                    if is_api_request():
                        abort(401)
                    return manager.unauthorized()
                if current_user.role not in roles:
                    abort(403)
            return view(*args, **kwargs)

        wrapper.allowed_roles = roles  # read by the role-matrix test
        return wrapper

    return decorate


# last_used_at is kept to within this much, so that API reads do not each write a row.
LAST_USED_PRECISION = timedelta(minutes=5)


def issue_token(user: User, *, now: datetime | None = None) -> tuple[str, ApiToken]:
    """Create an API token for `user`, valid for API_TOKEN_DAYS; only its hash is stored.
    Returns the token (shown once) and its row."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    days = current_app.config["SETTINGS"].api_token_days
    row = ApiToken(user_id=user.id, token_hash=_token_hash(token), created_at=now,
                   expires_at=now + timedelta(days=days))
    db.session.add(row)
    db.session.commit()
    return token, row


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_for_token(token: str, *, now: datetime | None = None) -> User | None:
    """The active user of a valid (unrevoked, unexpired) token; notes its use at most
    once per LAST_USED_PRECISION."""
    now = now or utcnow()
    row = db.session.execute(
        db.select(ApiToken).where(ApiToken.token_hash == _token_hash(token), ApiToken.revoked_at.is_(None),
                                  ApiToken.expires_at > now)
    ).scalar_one_or_none()
    if row is None or not row.user.active:
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_PRECISION:
        row.last_used_at = now
        db.session.commit()
    return row.user


def authenticate_api_request() -> None:
    """Bearer-token sign-in for /api/v1; the session cookie is ignored there so
    that cross-site requests cannot ride on a browser session."""
    g._login_user = manager.anonymous_user()
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return
    user = user_for_token(token.strip())
    if user is not None:
        g._login_user = user


def init_app(app: Flask) -> None:
    @app.teardown_request
    def _forget_user(_error: BaseException | None) -> None:
        # The user is cached on `g`, which lives in the app context; when a caller
        # (a test, a CLI command) keeps one app context across requests, a cached
        # user must not leak into the next request.
        g.pop("_login_user", None)

    manager.login_view = "auth.login"
    manager.login_message = "Please sign in to continue."
    manager.login_message_category = "info"

    @manager.user_loader
    def load_user(session_token: str) -> User | None:
        # The session and the remember-me cookie carry User.session_token (see
        # User.get_id): a replaced token (sign-out, password change) matches no one.
        # Deactivated users are signed out at their next request.
        if not session_token:
            return None
        return db.session.execute(
            db.select(User).where(User.session_token == session_token, User.active.is_(True))
        ).scalar_one_or_none()
