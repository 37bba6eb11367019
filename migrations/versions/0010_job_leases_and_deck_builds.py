"""Background work that survives a dead process: the lease of the worker
processing a version (started_at, attempts), and deck builds (the assembled
.pptx of each revision of a deck, made by the queue and kept in storage).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing rows start with no lease and no attempt (the default stays for them).
    with op.batch_alter_table('asset_versions') as batch:
        batch.add_column(sa.Column('processing_started_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('processing_attempts', sa.Integer(), nullable=False, server_default='0'))
    op.create_table(
        'deck_builds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('deck_id', sa.Integer(), nullable=False),
        sa.Column('revision', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('error_code', sa.String(length=40), nullable=True),
        sa.Column('progress_done', sa.Integer(), nullable=False),
        sa.Column('progress_total', sa.Integer(), nullable=False),
        sa.Column('storage_key', sa.String(length=512), nullable=True),
        sa.Column('size', sa.BigInteger(), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['deck_id'], ['decks.id'], name=op.f('fk_deck_builds_deck_id_decks'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_deck_builds')),
        sa.UniqueConstraint('deck_id', 'revision', name=op.f('uq_deck_builds_deck_id')),
    )
    op.create_index(op.f('ix_deck_builds_deck_id'), 'deck_builds', ['deck_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_deck_builds_deck_id'), table_name='deck_builds')
    op.drop_table('deck_builds')
    with op.batch_alter_table('asset_versions') as batch:
        batch.drop_column('processing_attempts')
        batch.drop_column('processing_started_at')
