"""Collateral: the sales enablement content portal (Flask application factory)."""

from __future__ import annotations

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
        REMEMBER_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        AUTO_MIGRATE=settings.is_embedded_database,
        START_EMBEDDED_WORKER=settings.queue_mode == "embedded",
    )
    app.config.update(config_overrides)

    from portal import access, cli, database, errors, indexing, queue, storage
    from portal.extensions import csrf, db, login_manager

    db.init_app(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    database.init_app(app)
    storage.init_app(app)
    indexing.init_app(app)
    queue.init_app(app)
    access.init_app(app)
    errors.init_app(app)
    cli.init_app(app)

    from portal import admin, analytics, api, auth, decks, feedback, library, search_views, tasks

    # Areas first (they attach their API views), the API blueprint last.
    for module in (auth, admin, library, search_views, feedback, analytics, decks, api):
        module.init_app(app)
    tasks.register(app)

    @app.context_processor
    def inject_helpers() -> dict[str, Any]:
        from portal import viewhelpers

        return viewhelpers.template_globals()

    return app
