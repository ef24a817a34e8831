"""visit_checkins: workers mark the stops of a published roster started and finished

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 10:30:00

* ``visit_checkins``: one row per stop and worker (request, occurrence date, leg, worker):
  when it started and finished (UTC), the outcome (delivered, or not delivered: the senior was
  absent or refused) and the worker's note.  The roster view's late/missed flags, the re-plan's
  freeze and the hours report read it (``dispatch.planning.checkin``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('visit_checkins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.String(length=64), nullable=False),
    sa.Column('visit_request_id', sa.String(length=64), nullable=False),
    sa.Column('occurrence_date', sa.Date(), nullable=False),
    sa.Column('leg', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.CheckConstraint('finished_at IS NULL OR finished_at >= started_at',
                       name=op.f('ck_visit_checkins_finish_after_start')),
    sa.ForeignKeyConstraint(['visit_request_id'], ['visit_requests.id'],
                            name=op.f('fk_visit_checkins_visit_request_id_visit_requests')),
    sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], name=op.f('fk_visit_checkins_worker_id_workers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_checkins')),
    sa.UniqueConstraint('visit_request_id', 'occurrence_date', 'leg', 'worker_id', name='uq_visit_checkins_stop')
    )
    with op.batch_alter_table('visit_checkins', schema=None) as batch_op:
        batch_op.create_index('ix_visit_checkins_date', ['occurrence_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_checkins_worker_id'), ['worker_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('visit_checkins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_checkins_worker_id'))
        batch_op.drop_index('ix_visit_checkins_date')
    op.drop_table('visit_checkins')
