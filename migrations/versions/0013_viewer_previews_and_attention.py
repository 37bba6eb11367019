"""The viewer: the PDF rendition of each version (preview_key: a deck, document or
spreadsheet as LibreOffice printed it, kept beside the thumbnails) and page-level
attention (seconds per user, page and day, summed from the viewer's beacons).

Existing versions start without a rendition; `flask make-previews` queues them.

Revision ID: 0013
Revises: 0012 (re-chained after main's 0011 and 0012 in wt-share)
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('asset_versions') as batch:
        batch.add_column(sa.Column('preview_key', sa.String(length=512), nullable=True))
        batch.add_column(sa.Column('preview_pages', sa.Integer(), nullable=True))
    op.create_table(
        'page_attention',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('asset_id', sa.Integer(), nullable=False),
        sa.Column('seconds', sa.Float(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], name=op.f('fk_page_attention_asset_id_assets'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_page_attention_user_id_users'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['version_id'], ['asset_versions.id'],
                                name=op.f('fk_page_attention_version_id_asset_versions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('day', 'version_id', 'number', 'user_id', name=op.f('pk_page_attention')),
    )
    op.create_index('ix_page_attention_asset_day', 'page_attention', ['asset_id', 'day'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_page_attention_asset_day', table_name='page_attention')
    op.drop_table('page_attention')
    with op.batch_alter_table('asset_versions') as batch:
        batch.drop_column('preview_pages')
        batch.drop_column('preview_key')
