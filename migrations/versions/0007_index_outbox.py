"""The index outbox: assets whose search documents must be rebuilt, written in
the transaction that changed them and drained by the task queue (one mechanism
instead of index calls in every service; nothing is lost when a process dies
between a commit and its enqueue).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'index_outbox',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('asset_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_index_outbox')),
    )


def downgrade() -> None:
    op.drop_table('index_outbox')
