"""The rollups' watermark, and an index on when reported uses were recorded.

Dashboards read the rollups plus the uses recorded since the last rollup, read
raw (see portal/analytics/rollups.py): `rollup_watermark` holds the instant the
rollups end at, and reported uses are picked out by `created_at` (when they were
recorded; `occurred_on`, the day they say, is often days earlier).

A database whose rollups were made by the former job (today and yesterday every
15 minutes, no watermark) gets a watermark of now: its rollups hold everything
up to that job's last run. What was recorded after that run and before this
migration (a quarter of an hour at most) is missing from the dashboards until
the next rollup, which rolls up again the day of every use stamped shortly
before the watermark. A database without rollups gets no row: nothing rolled up.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    watermark = op.create_table(
        'rollup_watermark',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('rolled_up_until', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_rollup_watermark')),
    )
    op.create_index(op.f('ix_reported_uses_created_at'), 'reported_uses', ['created_at'], unique=False)
    if op.get_bind().execute(sa.text("SELECT 1 FROM daily_usage LIMIT 1")).first() is not None:
        op.bulk_insert(watermark, [{"id": 1, "rolled_up_until": datetime.now(UTC).replace(tzinfo=None)}])


def downgrade() -> None:
    op.drop_index(op.f('ix_reported_uses_created_at'), table_name='reported_uses')
    op.drop_table('rollup_watermark')
