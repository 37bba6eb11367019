"""A partial index for the slides of an asset that went into decks.

The per-asset analytics page counts deck inclusions per slide in a date range
(services.asset_analytics). Through the (asset_id, occurred_at) index that read
every event of the asset in the range: at 5,000,000 events, a year of the most
used asset is 409,000 events for 15,757 inclusions (222 ms). This index holds
only deck inclusions, with the columns the query needs, so an index-only scan
answers it (9 ms; 12 MB). See bench/README.md, Analytics.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

NAME = 'ix_usage_events_deck_inclusions'
WHERE = sa.text("kind = 'deck_inclusion'")


def upgrade() -> None:
    op.create_index(NAME, 'usage_events', ['asset_id', 'occurred_at', 'version_id', 'page_number'], unique=False,
                    postgresql_where=WHERE, sqlite_where=WHERE)


def downgrade() -> None:
    op.drop_index(NAME, table_name='usage_events')
