"""Rooms: a share link may show a collection. `share_links.collection_id` names it,
and `share_link_items` keeps the room's items as they were when it was shared (a
snapshot: items added to the collection later are not exposed through the link).
A new column and a new table only: existing links are untouched.

Revision ID: 0017_rooms
Revises: 0016_deckview
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = '0017_rooms'
down_revision = '0016_deckview'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('share_links') as batch:
        batch.add_column(sa.Column('collection_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_share_links_collection_id_collections'), 'collections',
                                 ['collection_id'], ['id'], ondelete='CASCADE')
        batch.create_index(op.f('ix_share_links_collection_id'), ['collection_id'], unique=False)
    op.create_table('share_link_items',
    sa.Column('link_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('asset_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], name=op.f('fk_share_link_items_asset_id_assets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['link_id'], ['share_links.id'], name=op.f('fk_share_link_items_link_id_share_links'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('link_id', 'position', name=op.f('pk_share_link_items'))
    )
    op.create_index(op.f('ix_share_link_items_asset_id'), 'share_link_items', ['asset_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_share_link_items_asset_id'), table_name='share_link_items')
    op.drop_table('share_link_items')
    with op.batch_alter_table('share_links') as batch:
        batch.drop_index(op.f('ix_share_links_collection_id'))
        batch.drop_constraint(op.f('fk_share_links_collection_id_collections'), type_='foreignkey')
        batch.drop_column('collection_id')
