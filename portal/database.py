"""Schema migrations (Alembic) and SQLite connection settings."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from portal.extensions import db

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the web process read while the embedded worker writes; foreign keys
    # make ON DELETE rules hold; busy_timeout waits for a writer instead of failing.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(revision: str = "head") -> None:
    """Apply migrations on the current app's database (inside an app context)."""
    migrate(db.engine, revision)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision` on `engine`'s database.

    On SQLite, Alembic's batch mode rebuilds a table by copying it and dropping the
    original; with foreign keys on, dropping `assets` would cascade-delete every rating,
    use and page that refers to it. So foreign keys are off while migrating (SQLite only
    changes that setting outside a transaction) and checked before the commit."""
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                config = alembic_config()
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"Migrating left rows pointing at nothing: {broken[:5]}")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def init_app(app: Flask) -> None:
    if app.config["AUTO_MIGRATE"]:
        with app.app_context():
            upgrade()
