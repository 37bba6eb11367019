"""The JSON API under /api/v1 (docs/api.md): what every area's api.py shares.

Each area defines its own API blueprint in its `api.py` (`bp = Blueprint(...)`);
create_app lists them and `register` nests them under one `api` blueprint
with the /api/v1 prefix, bearer-token sign-in (the session cookie is ignored,
so cross-site requests cannot ride on a browser session) and no CSRF form
tokens. This module also holds the request helpers the API views share.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Blueprint, Flask, request

from portal.errors import InvalidInput
from portal.pagination import page_args

PREFIX = "/api/v1"


def _authenticate() -> None:
    from portal.access import authenticate_api_request

    authenticate_api_request()


def register(app: Flask, area_blueprints: Iterable[Blueprint]) -> None:
    """Mount the areas' API blueprints under /api/v1 (a parent blueprint per app)."""
    from portal.extensions import csrf

    parent = Blueprint("api", __name__, url_prefix=PREFIX)
    parent.before_request(_authenticate)
    for blueprint in area_blueprints:
        parent.register_blueprint(blueprint)
        csrf.exempt(blueprint)
    app.register_blueprint(parent)


def is_api_request() -> bool:
    return "api" in request.blueprints


def json_body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidInput("Send a JSON object in the request body.", status=400)
    return data


def pagination(default_per_page: int = 20) -> tuple[int, int]:
    """(page, per_page) of an API request; bad values answer 400."""
    return page_args(request.args, default_per_page, strict=True)


def listing(items: list, total: int, page: int, per_page: int, **extra) -> dict:
    return {"items": items, "total": total, "page": page, "per_page": per_page, **extra}
