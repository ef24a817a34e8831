"""windows, workers and pins of a request; the senior's gender rule; intimate care of a service

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 05:00:00

The optimizer could plan several time windows per visit, a required worker, preferred and
forbidden workers per visit, a pinned worker or start, and a strict gender rule, but nothing
stored could say so (issue 14, item 4):

* ``visit_requests``: ``extra_windows`` (windows after the first, which stays in
  ``window_start``/``window_end`` so existing clients and import files keep working) and
  ``required_workers``, ``preferred_workers``, ``forbidden_workers``; all empty for existing rows.
* ``visit_pins``: a pinned worker and/or start for one occurrence (request, date).
* ``seniors.gender_rule``: ``none``, ``prefer`` or ``require``.  Existing seniors with a
  preferred gender get ``prefer``, which is how the planner has read it so far.
* ``services.intimate_care``: true for the services that include care of the body (home care,
  both specialist cares, personal assistance, respite), false for the taxi and the handyman.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Frozen here (a migration never imports application code that may change later).
INTIMATE_CARE_SERVICES = ('home_care', 'specialist_care', 'specialist_care_mental', 'personal_assistance', 'respite')


def upgrade() -> None:
    op.create_table('visit_pins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_request_id', sa.String(length=64), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('worker_id', sa.String(length=64), nullable=True),
    sa.Column('start', sa.Time(), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('worker_id IS NOT NULL OR start IS NOT NULL', name=op.f('ck_visit_pins_worker_or_start')),
    sa.ForeignKeyConstraint(['visit_request_id'], ['visit_requests.id'],
                            name=op.f('fk_visit_pins_visit_request_id_visit_requests')),
    sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], name=op.f('fk_visit_pins_worker_id_workers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_pins')),
    sa.UniqueConstraint('visit_request_id', 'date', name='uq_visit_pins_request_date')
    )
    with op.batch_alter_table('visit_pins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_pins_date'), ['date'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_pins_visit_request_id'), ['visit_request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_pins_worker_id'), ['worker_id'], unique=False)

    with op.batch_alter_table('seniors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gender_rule', sa.String(length=32), server_default='none', nullable=False))
    op.execute("UPDATE seniors SET gender_rule = 'prefer' WHERE preferred_gender IS NOT NULL")

    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.add_column(sa.Column('intimate_care', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    services = sa.table('services', sa.column('code', sa.String()), sa.column('intimate_care', sa.Boolean()))
    op.execute(services.update().where(services.c.code.in_(INTIMATE_CARE_SERVICES)).values(intimate_care=True))

    with op.batch_alter_table('visit_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('extra_windows', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('required_workers', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('preferred_workers', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('forbidden_workers', sa.JSON(), server_default='[]', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('visit_requests', schema=None) as batch_op:
        batch_op.drop_column('forbidden_workers')
        batch_op.drop_column('preferred_workers')
        batch_op.drop_column('required_workers')
        batch_op.drop_column('extra_windows')

    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.drop_column('intimate_care')

    with op.batch_alter_table('seniors', schema=None) as batch_op:
        batch_op.drop_column('gender_rule')

    with op.batch_alter_table('visit_pins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_pins_worker_id'))
        batch_op.drop_index(batch_op.f('ix_visit_pins_visit_request_id'))
        batch_op.drop_index(batch_op.f('ix_visit_pins_date'))

    op.drop_table('visit_pins')
