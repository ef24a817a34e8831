"""re-planning a published day: a planning job may carry what changed

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 09:00:00

* ``plan_jobs.replan`` (JSON, nullable): the re-plan a job runs (``dispatch.planning.replan.ReplanSpec``:
  the local time to re-plan from, the workers and cars unavailable, the reason); NULL for a plan
  from scratch, which every existing row is.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('plan_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('replan', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('plan_jobs', schema=None) as batch_op:
        batch_op.drop_column('replan')
