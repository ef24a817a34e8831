"""labour rules across days: each roster's work spans per worker, and the limits planning applied

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 20:00:00

* ``worker_work_spans``: per roster version and worker, the day's first start and last end (UTC)
  and the minutes worked; planning a neighbouring day reads them for the 11 h and 35 h rests and
  the week's and settlement period's hours (``dispatch.catalog.labour``).
* ``roster_labour_limits``: which labour rule cut a worker's day in a roster, and its numbers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('worker_work_spans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('roster_id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.String(length=64), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('work_minutes', sa.Integer(), nullable=False),
    sa.CheckConstraint('"end" >= start', name=op.f('ck_worker_work_spans_end_after_start')),
    sa.ForeignKeyConstraint(['roster_id'], ['rosters.id'], name=op.f('fk_worker_work_spans_roster_id_rosters'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], name=op.f('fk_worker_work_spans_worker_id_workers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_worker_work_spans'))
    )
    with op.batch_alter_table('worker_work_spans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_worker_work_spans_roster_id'), ['roster_id'], unique=False)
        batch_op.create_index('ix_worker_work_spans_worker_date', ['worker_id', 'date'], unique=False)
    op.create_table('roster_labour_limits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('roster_id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.String(length=64), nullable=False),
    sa.Column('rule', sa.String(length=32), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['roster_id'], ['rosters.id'], name=op.f('fk_roster_labour_limits_roster_id_rosters'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], name=op.f('fk_roster_labour_limits_worker_id_workers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_labour_limits'))
    )
    with op.batch_alter_table('roster_labour_limits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_roster_labour_limits_roster_id'), ['roster_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('roster_labour_limits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_roster_labour_limits_roster_id'))
    op.drop_table('roster_labour_limits')
    with op.batch_alter_table('worker_work_spans', schema=None) as batch_op:
        batch_op.drop_index('ix_worker_work_spans_worker_date')
        batch_op.drop_index(batch_op.f('ix_worker_work_spans_roster_id'))
    op.drop_table('worker_work_spans')
