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
    try:
        page = int(request.args.get("page", 1))
        per_page = int(request.args.get("per_page", default_per_page))
    except ValueError:
        raise InvalidInput("page and per_page must be whole numbers.", status=400) from None
    if page < 1 or not 1 <= per_page <= 100:
        raise InvalidInput("page starts at 1; per_page is between 1 and 100.", status=400)
    return page, per_page


def listing(items: list, total: int, page: int, per_page: int, **extra) -> dict:
    return {"items": items, "total": total, "page": page, "per_page": per_page, **extra}
