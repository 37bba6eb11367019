"""Decks of any mix of slide sizes and slide lineage: each deck version's slide
size, a deck's chosen size, each slide's fingerprints (perceptual hash of its
thumbnail, MinHash of its text) and group, and the bucket index that finds
candidate copies. Existing rows start unmeasured: `flask --app portal
lineage-backfill` queues their measuring.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('asset_versions') as batch:
        batch.add_column(sa.Column('slide_width_emu', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('slide_height_emu', sa.Integer(), nullable=True))
    with op.batch_alter_table('decks') as batch:
        batch.add_column(sa.Column('size_width_emu', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('size_height_emu', sa.Integer(), nullable=True))
    with op.batch_alter_table('pages') as batch:
        batch.add_column(sa.Column('phash', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('minhash', sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column('group_id', sa.Integer(), nullable=True))
    op.create_index(op.f('ix_pages_group_id'), 'pages', ['group_id'], unique=False)
    op.create_table(
        'slide_buckets',
        sa.Column('key', sa.BigInteger(), nullable=False),
        sa.Column('page_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['page_id'], ['pages.id'], name=op.f('fk_slide_buckets_page_id_pages'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('key', 'page_id', name=op.f('pk_slide_buckets')),
    )
    op.create_index(op.f('ix_slide_buckets_page_id'), 'slide_buckets', ['page_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_slide_buckets_page_id'), table_name='slide_buckets')
    op.drop_table('slide_buckets')
    op.drop_index(op.f('ix_pages_group_id'), table_name='pages')
    with op.batch_alter_table('pages') as batch:
        batch.drop_column('group_id')
        batch.drop_column('minhash')
        batch.drop_column('phash')
    with op.batch_alter_table('decks') as batch:
        batch.drop_column('size_height_emu')
        batch.drop_column('size_width_emu')
    with op.batch_alter_table('asset_versions') as batch:
        batch.drop_column('slide_height_emu')
        batch.drop_column('slide_width_emu')
