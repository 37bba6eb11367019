"""Tokens API: exchange an email and password for a bearer token."""

from __future__ import annotations

from flask import Blueprint, current_app, request

from portal.access import PUBLIC, allow, issue_token
from portal.api import json_body
from portal.api.spec import DATETIME, INTEGER, STRING, api_doc, obj
from portal.auth import signin
from portal.errors import InvalidInput
from portal.library.serializers import iso

bp = Blueprint("auth", __name__)  # mounted under /api/v1 by create_app


@bp.post("/tokens")
@allow(PUBLIC)
@api_doc(json=obj({"email": STRING, "password": STRING}),
         responses={201: obj({"token": STRING, "expires_at": DATETIME,
                              "user": obj({"id": INTEGER, "email": STRING, "role": STRING})})})
def create_token():
    """Exchange an email and password for an API token (valid for API_TOKEN_DAYS; sign-in is throttled)."""
    data = json_body()
    email, password = data.get("email"), data.get("password")
    if not isinstance(email, str) or not isinstance(password, str):
        raise InvalidInput("Send {\"email\": ..., \"password\": ...}.", status=400)
    throttle = signin.Throttle.from_settings(current_app.config["SETTINGS"])
    user = signin.sign_in(email, password, request.remote_addr, throttle)
    if user is None:
        raise InvalidInput("Wrong email or password, or the account is deactivated.", status=401)
    token, row = issue_token(user)
    return {"token": token, "expires_at": iso(row.expires_at),
            "user": {"id": user.id, "email": user.email, "role": user.role}}, 201
