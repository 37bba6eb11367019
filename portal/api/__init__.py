"""The JSON API under /api/v1 (see shared/api.md). Bearer tokens only."""

from __future__ import annotations

import importlib

from flask import Blueprint, Flask, request

from portal.errors import InvalidInput

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Each area keeps its API views next to its services; they attach to `bp`.
API_MODULES = (
    "portal.api.tokens",
    "portal.api.assets",
    "portal.api.openapi",
)


@bp.before_request
def _authenticate() -> None:
    from portal.access import authenticate_api_request

    authenticate_api_request()


def init_app(app: Flask) -> None:
    from portal.extensions import csrf

    for name in API_MODULES:
        importlib.import_module(name)
    csrf.exempt(bp)
    app.register_blueprint(bp)


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
