"""Collateral: the sales enablement content portal (Flask application factory)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask

from portal.config import Settings, load_settings


def create_app(settings: Settings | None = None, **config_overrides: Any) -> Flask:
    settings = settings or load_settings()
    app = Flask(__name__, template_folder="../templates", static_folder="static")
    app.config.update(
        SETTINGS=settings,
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        # Multipart overhead on top of the file itself; the exact file limit is
        # enforced while streaming to storage.
        MAX_CONTENT_LENGTH=settings.max_upload_bytes + 1024 * 1024,
        MAX_FORM_MEMORY_SIZE=2 * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,
        # Both cookies name the user by User.session_token, replaced on sign-out and
        # on a password change; `Secure` unless the embedded default serves plain http.
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.cookie_secure,
        REMEMBER_COOKIE_DURATION=timedelta(days=30),
        AUTO_MIGRATE=settings.is_embedded_database,
        START_EMBEDDED_WORKER=settings.queue_mode == "embedded",
    )
    app.config.update(config_overrides)

    from portal import access, cli, database, errors, hardening, queue, storage
    from portal.extensions import csrf, db, login_manager

    db.init_app(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    database.init_app(app)
    storage.init_app(app)
    hardening.init_app(app)  # before the blueprints: it sets the `int` URL converter
    queue.init_app(app)
    access.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    _register_areas(app)
    _register_favicon(app)

    @app.context_processor
    def inject_helpers() -> dict[str, Any]:
        from portal import viewhelpers

        return viewhelpers.template_globals()

    return app


def _register_areas(app: Flask) -> None:
    """Every feature area, in one place: its pages, its JSON API under /api/v1,
    its hooks into shared pages, and its background tasks."""
    import importlib

    from portal import (
        api,
        collections,
        decks,
        feedback,
        governance,
        notifications,
        queue,
        search,
        sharing,
        viewer,
    )
    from portal.admin import routes as admin_routes
    from portal.analytics import api as analytics_api
    from portal.analytics import routes as analytics_routes
    from portal.api import openapi
    from portal.auth import api as auth_api
    from portal.auth import routes as auth_routes
    from portal.collections import api as collections_api
    from portal.collections import routes as collections_routes
    from portal.decks import api as decks_api
    from portal.decks import routes as decks_routes
    from portal.feedback import api as feedback_api
    from portal.feedback import routes as feedback_routes
    from portal.governance import api as governance_api
    from portal.governance import routes as governance_routes
    from portal.library import api as library_api
    from portal.library import routes as library_routes
    from portal.notifications import routes as notifications_routes
    from portal.search import api as search_api
    from portal.search import routes as search_routes
    from portal.sharing import api as sharing_api
    from portal.sharing import routes as sharing_routes
    from portal.viewer import api as viewer_api
    from portal.viewer import routes as viewer_routes

    for pages in (auth_routes, admin_routes, library_routes, search_routes, feedback_routes,
                  analytics_routes, decks_routes, notifications_routes, governance_routes, collections_routes,
                  viewer_routes):
        app.register_blueprint(pages.bp)
    app.register_blueprint(sharing_routes.bp)
    app.register_blueprint(sharing_routes.buyer)  # buyers' pages: no sign-in, no portal cookie
    api.register(app, (auth_api.bp, library_api.bp, search_api.bp, feedback_api.bp, analytics_api.bp,
                       decks_api.bp, openapi.bp, governance_api.bp, collections_api.bp, viewer_api.bp, sharing_api.bp))
    for area in (governance, search, feedback, decks, notifications, collections, viewer, sharing):
        area.init_app(app)
    for module in TASK_MODULES:
        importlib.import_module(module)
    queue.bind_tasks(app)


def _register_favicon(app: Flask) -> None:
    """Pages link static/favicon.svg; browsers and bots still ask for /favicon.ico."""
    from flask import send_from_directory

    from portal.access import PUBLIC, allow

    @allow(PUBLIC)
    def favicon():
        return send_from_directory(app.static_folder, "favicon.svg", mimetype="image/svg+xml", max_age=86400)

    app.add_url_rule("/favicon.ico", "favicon", favicon)


# Modules whose @task functions register with the queue.
TASK_MODULES = ("portal.library.tasks", "portal.search.tasks", "portal.analytics.tasks", "portal.decks.tasks",
                "portal.sweeper", "portal.governance.tasks", "portal.collections.tasks", "portal.sharing.tasks")
