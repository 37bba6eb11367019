"""Share links: tracked links reps send buyers (portal/sharing), their visits, the
time per page those visits spent (one row per visit and page), and the failures
at a link's email or passcode gate that throttling counts. New tables only:
existing data is untouched.

Revision ID: 0014
Revises: 0013 (0010 in the brief; chained after the viewer's 0013, merged into this branch)
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('share_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('asset_id', sa.Integer(), nullable=True),
    sa.Column('deck_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('require_email', sa.Boolean(), nullable=False),
    sa.Column('passcode_hash', sa.String(length=255), nullable=True),
    sa.Column('allow_download', sa.Boolean(), nullable=False),
    sa.Column('notify', sa.Boolean(), nullable=False),
    sa.Column('account', sa.String(length=200), nullable=False),
    sa.Column('opportunity', sa.String(length=200), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('visits_count', sa.Integer(), nullable=False),
    sa.Column('last_visit_at', sa.DateTime(), nullable=True),
    sa.Column('withdrawn_notice_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], name=op.f('fk_share_links_asset_id_assets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['deck_id'], ['decks.id'], name=op.f('fk_share_links_deck_id_decks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_share_links_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_share_links_token_hash'))
    )
    op.create_index(op.f('ix_share_links_asset_id'), 'share_links', ['asset_id'], unique=False)
    op.create_index(op.f('ix_share_links_deck_id'), 'share_links', ['deck_id'], unique=False)
    op.create_index('ix_share_links_owner_created', 'share_links', ['owner_id', 'created_at'], unique=False)
    op.create_table('share_gate_failures',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('link_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['link_id'], ['share_links.id'], name=op.f('fk_share_gate_failures_link_id_share_links'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_gate_failures'))
    )
    op.create_index('ix_share_gate_failures_address_created', 'share_gate_failures', ['address', 'created_at'], unique=False)
    op.create_index('ix_share_gate_failures_link_created', 'share_gate_failures', ['link_id', 'created_at'], unique=False)
    op.create_table('share_visits',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('link_id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('device', sa.String(length=20), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.Column('downloaded', sa.Boolean(), nullable=False),
    sa.Column('seconds', sa.Integer(), nullable=False),
    sa.Column('beacons', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['link_id'], ['share_links.id'], name=op.f('fk_share_visits_link_id_share_links'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_visits')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_share_visits_key_hash'))
    )
    op.create_index('ix_share_visits_link_started', 'share_visits', ['link_id', 'started_at'], unique=False)
    op.create_table('share_page_views',
    sa.Column('visit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('asset_id', sa.Integer(), nullable=True),
    sa.Column('page_number', sa.Integer(), nullable=True),
    sa.Column('seconds', sa.Integer(), nullable=False),
    sa.Column('views', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], name=op.f('fk_share_page_views_asset_id_assets'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['visit_id'], ['share_visits.id'], name=op.f('fk_share_page_views_visit_id_share_visits'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('visit_id', 'number', name=op.f('pk_share_page_views'))
    )
    op.create_index('ix_share_page_views_asset_page', 'share_page_views', ['asset_id', 'page_number'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_share_page_views_asset_page', table_name='share_page_views')
    op.drop_table('share_page_views')
    op.drop_index('ix_share_visits_link_started', table_name='share_visits')
    op.drop_table('share_visits')
    op.drop_index('ix_share_gate_failures_link_created', table_name='share_gate_failures')
    op.drop_index('ix_share_gate_failures_address_created', table_name='share_gate_failures')
    op.drop_table('share_gate_failures')
    op.drop_index('ix_share_links_owner_created', table_name='share_links')
    op.drop_index(op.f('ix_share_links_deck_id'), table_name='share_links')
    op.drop_index(op.f('ix_share_links_asset_id'), table_name='share_links')
    op.drop_table('share_links')
