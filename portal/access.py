"""Who may use which route. Every view declares its roles with @allow; a test
walks the whole route table to check that none is left undeclared."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, abort, g, request
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


def issue_token(user: User) -> str:
    """Create an API token for `user`; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, token_hash=_token_hash(token)))
    db.session.commit()
    return token


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_for_token(token: str) -> User | None:
    row = db.session.execute(
        db.select(ApiToken).where(ApiToken.token_hash == _token_hash(token), ApiToken.revoked_at.is_(None))
    ).scalar_one_or_none()
    if row is None or not row.user.active:
        return None
    row.last_used_at = utcnow()
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
    def load_user(user_id: str) -> User | None:
        if not user_id.isdigit():
            return None
        return db.session.get(User, int(user_id))
