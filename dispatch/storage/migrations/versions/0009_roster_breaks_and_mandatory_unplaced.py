"""roster_breaks, roster_unassigned.mandatory: breaks are part of the roster; unplaced mandatory visits are named

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 09:00:00

* ``roster_breaks``: each worker's planned break(s) of a roster version (the optimizer's
  ``Route.breaks``), shown in the roster, the worker's schedule, the export and the calendar
  feed.  Versions planned before this revision have none stored (re-plan to get them).
* ``roster_unassigned.mandatory``: whether an unplaced visit was mandatory when planned; a
  roster with such visits is published only with an explicit acknowledgement.  Rows planned
  before this revision read False (their request's flag may have changed since).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op



revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('roster_breaks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('roster_id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.String(length=64), nullable=False),
    sa.Column('shift_index', sa.Integer(), nullable=False),
    sa.Column('start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('end', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('"end" > start', name=op.f('ck_roster_breaks_end_after_start')),
    sa.ForeignKeyConstraint(['roster_id'], ['rosters.id'], name=op.f('fk_roster_breaks_roster_id_rosters'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], name=op.f('fk_roster_breaks_worker_id_workers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_breaks'))
    )
    op.create_index('ix_roster_breaks_roster_worker', 'roster_breaks', ['roster_id', 'worker_id', 'start'], unique=False)
    op.create_index(op.f('ix_roster_breaks_worker_id'), 'roster_breaks', ['worker_id'], unique=False)
    with op.batch_alter_table('roster_unassigned', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mandatory', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('roster_unassigned', schema=None) as batch_op:
        batch_op.drop_column('mandatory')
    op.drop_index(op.f('ix_roster_breaks_worker_id'), table_name='roster_breaks')
    op.drop_index('ix_roster_breaks_roster_worker', table_name='roster_breaks')
    op.drop_table('roster_breaks')
