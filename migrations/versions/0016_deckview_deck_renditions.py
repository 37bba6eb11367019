"""Built decks in the viewer: the PDF rendition of a deck's assembled file, kept
beside the build (deck_builds.pdf_*). Existing builds start without one; it is made
when the deck is next viewed or shared.

Revision ID: 0016_deckview
Revises: 0015
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = '0016_deckview'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('deck_builds') as batch:
        batch.add_column(sa.Column('pdf_status', sa.String(length=20), nullable=True))
        batch.add_column(sa.Column('pdf_key', sa.String(length=512), nullable=True))
        batch.add_column(sa.Column('pdf_pages', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('pdf_error', sa.Text(), nullable=True))
        batch.add_column(sa.Column('pdf_requested_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('deck_builds') as batch:
        batch.drop_column('pdf_requested_at')
        batch.drop_column('pdf_error')
        batch.drop_column('pdf_pages')
        batch.drop_column('pdf_key')
        batch.drop_column('pdf_status')
