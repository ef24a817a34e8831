"""planning a week in one job: a planning job may cover seven days

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 20:00:00

* ``plan_jobs.days`` (integer, NOT NULL, default 1): how many days from ``date`` the job plans;
  1 for a day (every existing row), 7 for a week from a Monday (``dispatch.planning.week_plan``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('plan_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('days', sa.Integer(), nullable=False, server_default='1'))


def downgrade() -> None:
    with op.batch_alter_table('plan_jobs', schema=None) as batch_op:
        batch_op.drop_column('days')
