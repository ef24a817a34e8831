"""calendar_tokens.user_token_version: an account change ends the worker's calendar feed too

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 04:30:00

A password reset or a deactivation raises ``users.token_version`` and so ends the account's
access tokens; a calendar-feed URL issued before it kept working, so whoever had taken over
the account could keep reading the worker's schedule.  Each feed token now remembers the
version it was issued under.  Existing feeds take their account's current version, so they
keep working until the next account change.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('calendar_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_token_version', sa.Integer(), nullable=False, server_default='0'))
    op.execute(
        "UPDATE calendar_tokens SET user_token_version = COALESCE((SELECT max(users.token_version) FROM users "
        "WHERE users.worker_id = calendar_tokens.worker_id AND users.role = 'worker' AND users.active), 0)"
    )


def downgrade() -> None:
    with op.batch_alter_table('calendar_tokens', schema=None) as batch_op:
        batch_op.drop_column('user_token_version')
