"""areas of a split day solved by queue workers: plan_job_areas

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 22:30:00

* ``plan_job_areas``: one row per area of a split day's planning job while it solves (PostgreSQL
  queue, ``dispatch.jobs.areas``): the area's problem and parameters (JSON), its share of the
  search time and the search's deadline, who claimed it and their heartbeat, the result (JSON) or
  the error.  Deleted with the job (``ON DELETE CASCADE``) and by the job once merged.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('plan_job_areas',
    sa.Column('job_id', sa.String(length=36), nullable=False),
    sa.Column('idx', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('problem', sa.JSON(), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('budget_s', sa.Float(), nullable=False),
    sa.Column('deadline_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_by', sa.String(length=100), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('error', sa.String(length=2000), nullable=True),
    sa.ForeignKeyConstraint(['job_id'], ['plan_jobs.id'], name=op.f('fk_plan_job_areas_job_id_plan_jobs'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('job_id', 'idx', name=op.f('pk_plan_job_areas'))
    )


def downgrade() -> None:
    op.drop_table('plan_job_areas')
