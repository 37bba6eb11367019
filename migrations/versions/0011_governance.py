"""Governance: draft, review, scheduled publishing, pending versions, verification
(review-by dates), the upload form's one-time token, the per-item audit trail and
the per-content-type policies.

Existing items keep their status (published or retired); they count as published
when they were created, and their review-by date is set from their age: the day
they were last updated plus the default review period of their content type
(90 days for price sheets, 180 for the rest), so long-untouched items show as
needing review at once.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

DEFAULT_REVIEW_DAYS = 180
PRICE_SHEET_REVIEW_DAYS = 90


def upgrade() -> None:
    with op.batch_alter_table('assets') as batch:
        batch.add_column(sa.Column('publish_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('published_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('submitted_by_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('review_comment', sa.Text(), nullable=True))
        batch.add_column(sa.Column('pending_version_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('pending_publish', sa.String(length=20), nullable=True))
        batch.add_column(sa.Column('review_by', sa.Date(), nullable=True))
        batch.add_column(sa.Column('verified_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('verified_by_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('review_reminded_for', sa.Date(), nullable=True))
        batch.add_column(sa.Column('upload_token', sa.String(length=64), nullable=True))
        batch.create_foreign_key(op.f('fk_assets_submitted_by_id_users'), 'users', ['submitted_by_id'], ['id'])
        batch.create_foreign_key(op.f('fk_assets_verified_by_id_users'), 'users', ['verified_by_id'], ['id'])
        batch.create_unique_constraint(op.f('uq_assets_upload_token'), ['upload_token'])
        batch.create_index(op.f('ix_assets_publish_on'), ['publish_on'], unique=False)
        batch.create_index(op.f('ix_assets_review_by'), ['review_by'], unique=False)

    op.create_table(
        'asset_audit',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('asset_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('action', sa.String(length=30), nullable=False),
        sa.Column('field', sa.String(length=40), nullable=True),
        sa.Column('old', sa.Text(), nullable=True),
        sa.Column('new', sa.Text(), nullable=True),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], name=op.f('fk_asset_audit_asset_id_assets'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_asset_audit_user_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_asset_audit')),
    )
    op.create_index('ix_asset_audit_asset_id_id', 'asset_audit', ['asset_id', 'id'], unique=False)
    op.create_table(
        'content_type_policies',
        sa.Column('content_type', sa.String(length=40), nullable=False),
        sa.Column('requires_approval', sa.Boolean(), nullable=False),
        sa.Column('review_days', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('content_type', name=op.f('pk_content_type_policies')),
    )

    # Existing items: published when created; review by (last update + the type's period).
    op.execute("UPDATE assets SET published_at = created_at")
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for condition, days in (("content_type = 'price_sheet'", PRICE_SHEET_REVIEW_DAYS),
                            ("review_by IS NULL", DEFAULT_REVIEW_DAYS)):
        review_by = (f"date(updated_at, '+{days} days')" if sqlite
                     else f"CAST(updated_at + INTERVAL '{days} days' AS DATE)")
        op.execute(f"UPDATE assets SET review_by = {review_by} WHERE {condition}")


def downgrade() -> None:
    op.drop_table('content_type_policies')
    op.drop_index('ix_asset_audit_asset_id_id', table_name='asset_audit')
    op.drop_table('asset_audit')
    with op.batch_alter_table('assets') as batch:
        batch.drop_index(op.f('ix_assets_review_by'))
        batch.drop_index(op.f('ix_assets_publish_on'))
        batch.drop_constraint(op.f('uq_assets_upload_token'), type_='unique')
        batch.drop_constraint(op.f('fk_assets_verified_by_id_users'), type_='foreignkey')
        batch.drop_constraint(op.f('fk_assets_submitted_by_id_users'), type_='foreignkey')
        for column in ('upload_token', 'review_reminded_for', 'verified_by_id', 'verified_at', 'review_by',
                       'pending_publish', 'pending_version_id', 'review_comment', 'submitted_by_id',
                       'published_at', 'publish_on'):
            batch.drop_column(column)
