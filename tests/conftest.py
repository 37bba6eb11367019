"""Shared fixtures: app, client, runner, auth helpers and tiny factories.

Tests run on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is set
(CI sets it). The schema always comes from the Alembic migrations.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import create_engine, text

from portal import create_app
from portal.config import load_settings

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
PASSWORD = "correct-horse-battery"

pytest_plugins = ["tests.s3_server", "tests.redis_server"]


def _migrated(url: str) -> None:
    from alembic import command

    from portal.database import alembic_config

    engine = create_engine(url)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory) -> str:
    """A migrated database: PostgreSQL (reset once per session) or an SQLite file copied per test."""
    if TEST_DATABASE_URL:
        url = TEST_DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1) \
            if TEST_DATABASE_URL.startswith("postgresql://") else TEST_DATABASE_URL
        _migrated(url)
        return url
    path = tmp_path_factory.mktemp("template") / "portal.db"
    _migrated(f"sqlite:///{path}")
    return str(path)


def _truncate_all(url: str) -> None:
    from portal.extensions import db

    engine = create_engine(url)
    tables = ", ".join(t.name for t in db.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def settings(tmp_path, database_template):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    if TEST_DATABASE_URL:
        _truncate_all(database_template)
        url = database_template
    else:
        shutil.copy(database_template, data_dir / "portal.db")
        url = f"sqlite:///{data_dir / 'portal.db'}"
    base = load_settings({"PORTAL_DATA_DIR": str(data_dir), "SECRET_KEY": "test-secret", "PORTAL_QUEUE": "immediate"})
    return replace(base, database_url=url)


@pytest.fixture
def app(settings) -> Iterator:
    app = create_app(settings, TESTING=True, WTF_CSRF_ENABLED=False, AUTO_MIGRATE=False, START_EMBEDDED_WORKER=False)
    with app.app_context():
        yield app
        from portal.extensions import db

        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def embedded_app(settings) -> Iterator:
    """The app on the real embedded (SQLite) queue with no consumer running, so
    what waits in the queue can be seen; `run_queued()` runs it."""
    app = create_app(replace(settings, queue_mode="embedded"), TESTING=True, WTF_CSRF_ENABLED=False,
                     AUTO_MIGRATE=False, START_EMBEDDED_WORKER=False)
    with app.app_context():
        yield app
        from portal.extensions import db

        db.session.remove()
        db.engine.dispose()


def run_queued() -> list[str]:
    """Run what waits in the current app's queue, as its consumer would; returns the task names."""
    from portal.queue import get_queue

    names: list[str] = []
    ran = True
    while ran:  # a task of one lane may queue work on the other
        ran = False
        for huey in get_queue().hueys.values():
            while (message := huey.dequeue()) is not None:
                names.append(message.name)
                huey.execute(message)
                ran = True
    return names


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Factories:
    """Tiny model factories: factories.user(role="rep"), factories.asset(owner, ...)."""

    def __init__(self, app):
        self.app = app
        self.count = 0

    def user(self, role: str = "rep", **fields):
        from portal.admin.services import save_user

        self.count += 1
        email = fields.pop("email", f"{role}{self.count}@example.com")
        user, _ = save_user(email, role=role, password=fields.pop("password", PASSWORD), **fields)
        return user

    def asset(self, owner=None, *, content: bytes | None = None, filename: str = "brief.txt",
              publish: str = "now", **metadata):
        """An item, published at once unless `publish` says otherwise ("draft", a date); identical
        files are allowed (tests of duplicates make them on purpose)."""
        from portal.library.publishing import parse_publish
        from portal.library.services import create_asset

        owner = owner or self.user("marketer")
        self.count += 1
        metadata.setdefault("title", f"Asset {self.count}")
        data = content if content is not None else f"collateral number {self.count}\n".encode()
        result = create_asset(owner, io.BytesIO(data), filename, metadata,
                              self.app.config["SETTINGS"].max_upload_bytes, publish=parse_publish(publish),
                              allow_duplicate=True)
        return result.asset


@pytest.fixture
def factories(app) -> Factories:
    return Factories(app)


class Auth:
    """Sign a browser client in, or get an API token."""

    def __init__(self, client):
        self.client = client

    def login(self, user, password: str = PASSWORD):
        return self.client.post("/login", data={"email": user.email, "password": password})

    def logout(self):
        return self.client.post("/logout")

    def token(self, user, password: str = PASSWORD) -> dict[str, str]:
        response = self.client.post("/api/v1/tokens", json={"email": user.email, "password": password})
        assert response.status_code == 201, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['token']}"}


@pytest.fixture
def auth(client) -> Auth:
    return Auth(client)
