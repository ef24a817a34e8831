"""users.token_version: a password reset ends the tokens issued before it

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 06:10:00

Every access token carries the user's token version at login; a password reset raises the
version, so a token issued before the reset (perhaps the reason for it) stops working at
the next request instead of living on until it expires.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_version', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('token_version')
