"""Stale-copy notices are sent once: a record of each (new version, changed slide,
holder, recipient) told, so processing the same version again repeats none.

Revision ID: 0018_evidence
Revises: 0017_rooms
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = '0018_evidence'
down_revision = '0017_rooms'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'slide_change_notices',
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('slide_number', sa.Integer(), nullable=False),
        sa.Column('holder', sa.String(length=40), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('notified_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_slide_change_notices_user_id_users'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['version_id'], ['asset_versions.id'],
                                name=op.f('fk_slide_change_notices_version_id_asset_versions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('version_id', 'slide_number', 'holder', 'user_id', name=op.f('pk_slide_change_notices')),
    )


def downgrade() -> None:
    op.drop_table('slide_change_notices')
