"""The foreign key from assets.current_version_id to asset_versions.

0001 declared it with use_alter (the two tables point at each other), which
create_table leaves out on PostgreSQL; SQLite got it inline.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

NAME = 'fk_assets_current_version_id_asset_versions'


def _exists() -> bool:
    return any(fk['name'] == NAME for fk in sa.inspect(op.get_bind()).get_foreign_keys('assets'))


def upgrade() -> None:
    if op.get_bind().dialect.name != 'sqlite' and not _exists():
        op.create_foreign_key(NAME, 'assets', 'asset_versions', ['current_version_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    pass  # 0001 meant to have it all along
