"""Coarser analytics rollups: usage per day and kind, per week, asset and kind,
and active users per week.

Every range query read daily_usage (day, asset, kind, team, region), about 6,000
rows a day at 5,000,000 events: 90- and 365-day dashboards took 300-900 ms on
PostgreSQL. The overview now reads daily_kind_usage (5 rows a day); asset sums
and the assets used read weekly_asset_usage for whole weeks and daily_usage only
for the partial weeks at the ends; distinct active users read weekly_activity
the same way. See bench/README.md, Analytics.

The new tables are filled here from the existing daily rollups (derived from
derived data, in SQL), so the dashboards stay right without a rebuild;
`flask --app portal rollup` rebuilds everything from the raw events.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def _week_start(column: str) -> str:
    """The Monday of the week of a date column, in this database's SQL."""
    if op.get_bind().dialect.name == 'postgresql':
        return f"CAST(date_trunc('week', {column}) AS DATE)"
    return f"date({column}, 'weekday 0', '-6 days')"  # SQLite: that Sunday (or the next), back to Monday


def upgrade() -> None:
    op.create_table(
        'daily_kind_usage',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('events', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'kind', name=op.f('pk_daily_kind_usage')),
    )
    op.create_table(
        'weekly_asset_usage',
        sa.Column('week', sa.Date(), nullable=False),
        sa.Column('asset_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('events', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], name=op.f('fk_weekly_asset_usage_asset_id_assets'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('week', 'asset_id', 'kind', name=op.f('pk_weekly_asset_usage')),
    )
    op.create_index('ix_weekly_asset_usage_asset_week', 'weekly_asset_usage', ['asset_id', 'week'], unique=False)
    op.create_table(
        'weekly_activity',
        sa.Column('week', sa.Date(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('events', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_weekly_activity_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('week', 'user_id', 'role', name=op.f('pk_weekly_activity')),
    )

    op.execute("INSERT INTO daily_kind_usage (day, kind, events) "
               "SELECT day, kind, SUM(events) FROM daily_usage GROUP BY day, kind")
    week = _week_start('day')
    op.execute(f"INSERT INTO weekly_asset_usage (week, asset_id, kind, events) "
               f"SELECT {week}, asset_id, kind, SUM(events) FROM daily_usage GROUP BY {week}, asset_id, kind")
    op.execute(f"INSERT INTO weekly_activity (week, user_id, role, events) "
               f"SELECT {week}, user_id, role, SUM(events) FROM daily_activity GROUP BY {week}, user_id, role")


def downgrade() -> None:
    op.drop_table('weekly_activity')
    op.drop_index('ix_weekly_asset_usage_asset_week', table_name='weekly_asset_usage')
    op.drop_table('weekly_asset_usage')
    op.drop_table('daily_kind_usage')
