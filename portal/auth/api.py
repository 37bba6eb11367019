"""Tokens API: exchange an email and password for a bearer token."""

from __future__ import annotations

from flask import Blueprint

from portal.access import PUBLIC, allow, issue_token
from portal.api import json_body
from portal.auth.routes import authenticate
from portal.errors import InvalidInput

bp = Blueprint("auth", __name__)  # mounted under /api/v1 by create_app


@bp.post("/tokens")
@allow(PUBLIC)
def create_token():
    """Exchange an email and password for an API token."""
    data = json_body()
    email, password = data.get("email"), data.get("password")
    if not isinstance(email, str) or not isinstance(password, str):
        raise InvalidInput("Send {\"email\": ..., \"password\": ...}.", status=400)
    user = authenticate(email, password)
    if user is None:
        raise InvalidInput("Wrong email or password, or the account is deactivated.", status=401)
    return {"token": issue_token(user), "user": {"id": user.id, "email": user.email, "role": user.role}}, 201
