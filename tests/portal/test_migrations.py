"""The migrations build exactly the schema the models describe (SQLite and PostgreSQL)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from portal.extensions import db


def test_migrated_schema_matches_the_models(database_template):
    url = database_template if "://" in database_template else f"sqlite:///{database_template}"
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_rebuilding_a_table_on_sqlite_keeps_the_rows_that_refer_to_it(tmp_path):
    """SQLite's batch migrations copy a table and drop the original: with foreign keys on,
    dropping `assets` (0011 does) deleted every page, rating and use of every item."""
    from sqlalchemy import text

    from portal.database import migrate

    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        migrate(engine, "0010")
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO users (id, email, name, password_hash, role, active, created_at, session_token) "
                "VALUES (1, 'u@example.com', '', 'x', 'rep', 1, '2026-01-01', 'tok')"))
            connection.execute(text(
                "INSERT INTO assets (id, title, description, content_type, status, owner_id, created_at, updated_at) "
                "VALUES (1, 'Pricing', '', 'deck', 'published', 1, '2026-01-01', '2026-01-01')"))
            connection.execute(text(
                "INSERT INTO asset_versions (id, asset_id, number, filename, storage_key, size, sha256, mime, "
                "processing, progress_done, progress_total, created_at, processing_attempts) "
                "VALUES (1, 1, 1, 'p.pdf', 'k', 1, 'h', 'application/pdf', 'ready', 1, 1, '2026-01-01', 0)"))
            connection.execute(text("INSERT INTO pages (id, version_id, asset_id, number, title, text, notes) "
                                    "VALUES (1, 1, 1, 1, 'Pricing', 'tiers', '')"))
            connection.execute(text("INSERT INTO ratings (asset_id, user_id, stars, comment, review_status, "
                                    "created_at, updated_at) VALUES (1, 1, 4, '', 'open', '2026-01-01', '2026-01-01')"))
            connection.execute(text("INSERT INTO usage_events (asset_id, user_id, kind, occurred_at) "
                                    "VALUES (1, 1, 'download', '2026-01-02')"))
        migrate(engine, "head")
        with engine.connect() as connection:
            counts = {table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                      for table in ("assets", "asset_versions", "pages", "ratings", "usage_events")}
            foreign_keys_on = connection.execute(text("PRAGMA foreign_keys")).scalar_one()
    finally:
        engine.dispose()
    assert counts == {"assets": 1, "asset_versions": 1, "pages": 1, "ratings": 1, "usage_events": 1}
    assert foreign_keys_on == 1  # switched back on for the connections the app takes next
