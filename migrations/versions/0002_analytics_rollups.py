"""Analytics rollups: per-user daily activity, all-time usage per asset.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rollups are derived data (`flask rollup` rebuilds them): replacing the
    # per-day table loses nothing.
    op.drop_table('daily_activity')
    op.create_table(
        'daily_activity',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('events', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_daily_activity_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('day', 'user_id', name=op.f('pk_daily_activity')),
    )
    op.create_table(
        'asset_usage_totals',
        sa.Column('asset_id', sa.Integer(), nullable=False),
        sa.Column('events', sa.Integer(), nullable=False),
        sa.Column('views', sa.Integer(), nullable=False),
        sa.Column('downloads', sa.Integer(), nullable=False),
        sa.Column('search_clicks', sa.Integer(), nullable=False),
        sa.Column('deck_inclusions', sa.Integer(), nullable=False),
        sa.Column('reported_uses', sa.Integer(), nullable=False),
        sa.Column('first_used_on', sa.Date(), nullable=True),
        sa.Column('last_used_on', sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], name=op.f('fk_asset_usage_totals_asset_id_assets'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('asset_id', name=op.f('pk_asset_usage_totals')),
    )
    with op.batch_alter_table('daily_usage', schema=None) as batch_op:
        batch_op.create_index('ix_daily_usage_asset_day', ['asset_id', 'day'], unique=False)
    with op.batch_alter_table('usage_events', schema=None) as batch_op:
        batch_op.create_index('ix_usage_events_search_log', ['search_log_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('usage_events', schema=None) as batch_op:
        batch_op.drop_index('ix_usage_events_search_log')
    with op.batch_alter_table('daily_usage', schema=None) as batch_op:
        batch_op.drop_index('ix_daily_usage_asset_day')
    op.drop_table('asset_usage_totals')
    op.drop_table('daily_activity')
    op.create_table(
        'daily_activity',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('active_users', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', name=op.f('pk_daily_activity')),
    )
