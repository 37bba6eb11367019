"""Sessions that can be revoked, API tokens that expire, throttled sign-in.

- users.session_token: what the session and remember-me cookies carry instead
  of the user id; replaced on sign-out and on a password change, which makes
  every earlier cookie worthless. Existing users get one each (so cookies
  issued before this migration, which carry the id, stop working: everyone
  signs in once more).
- api_tokens.expires_at: existing tokens get API_TOKEN_DAYS' default (90 days)
  from the upgrade, so integrations are not cut off the moment it runs.
- login_attempts: failed sign-ins within the throttling window, shared by all
  web workers.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

import secrets
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

TOKEN_DAYS = 90


def upgrade() -> None:
    bind = op.get_bind()

    # Added in place (ALTER TABLE ADD COLUMN, NOT NULL with a default), never by
    # rebuilding `users` as SQLite's batch mode would: with foreign keys on, dropping
    # the old users table deletes the rows of every table that cascades from it
    # (API tokens, notifications) or fails on those that do not.
    op.add_column('users', sa.Column('session_token', sa.String(length=64), server_default='', nullable=False))
    users = sa.table('users', sa.column('id', sa.Integer()), sa.column('session_token', sa.String()))
    for (user_id,) in bind.execute(sa.select(users.c.id)).all():
        bind.execute(users.update().where(users.c.id == user_id).values(session_token=secrets.token_urlsafe(32)))
    op.create_index(op.f('ix_users_session_token'), 'users', ['session_token'], unique=True)

    # Nothing refers to api_tokens, so rebuilding it (SQLite) loses nothing.
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(), nullable=True))
    tokens = sa.table('api_tokens', sa.column('expires_at', sa.DateTime()))
    until = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=TOKEN_DAYS)
    bind.execute(tokens.update().values(expires_at=until))
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.alter_column('expires_at', existing_type=sa.DateTime(), nullable=False)

    op.create_table(
        'login_attempts',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempts')),
    )
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_login_attempts_email_created_at', ['email', 'created_at'], unique=False)
        batch_op.create_index('ix_login_attempts_address_created_at', ['address', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_attempts_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_table('login_attempts')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
    op.drop_index(op.f('ix_users_session_token'), table_name='users')
    op.execute('ALTER TABLE users DROP COLUMN session_token')  # in place on SQLite too (3.35+)
