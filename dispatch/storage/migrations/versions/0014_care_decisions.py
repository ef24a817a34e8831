"""care decisions: seniors' absences, entitlements, care plans, intake rules, cancellations

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 09:00:00

* ``senior_absences``: hospital or holiday, no care-plan visits then.
* ``decisions``: a senior's budget of hours or rides of one service per period, with its
  validity and reference number (ids ``d-00001`` from ``id_counters``, as migration 0005 set up).
* ``care_plans`` (ids ``cp-00001``) with ``care_plan_lines``; ``care_plan_visits`` links each
  (line, date) to the visit request it became, so expanding twice adds nothing.
* ``intake_rules``: per service, the rules a submission is checked against (``dispatch.catalog.intake_rules``);
  rows are data, seeded by the scenario loader for the Kielce taxi, not here.
* ``request_cancellations``: when a request was cancelled and which occurrences still count.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('intake_rules',
    sa.Column('month_quota', sa.Integer(), nullable=True),
    sa.Column('year_quota', sa.Integer(), nullable=True),
    sa.Column('lead_working_days', sa.Integer(), nullable=True),
    sa.Column('service_days', sa.JSON(), nullable=True),
    sa.Column('service_from', sa.Time(), nullable=True),
    sa.Column('service_to', sa.Time(), nullable=True),
    sa.Column('cancel_working_days', sa.Integer(), nullable=True),
    sa.Column('no_past', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('service', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['service'], ['services.code'], name=op.f('fk_intake_rules_service_services'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('service', name=op.f('pk_intake_rules'))
    )
    op.create_table('care_plans',
    sa.Column('senior_id', sa.String(length=64), nullable=False),
    sa.Column('service', sa.String(length=64), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=False),
    sa.Column('skip_public_holidays', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.CheckConstraint('valid_to >= valid_from', name=op.f('ck_care_plans_validity_order')),
    sa.ForeignKeyConstraint(['senior_id'], ['seniors.id'], name=op.f('fk_care_plans_senior_id_seniors')),
    sa.ForeignKeyConstraint(['service'], ['services.code'], name=op.f('fk_care_plans_service_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_plans'))
    )
    with op.batch_alter_table('care_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_care_plans_senior_id'), ['senior_id'], unique=False)

    op.create_table('decisions',
    sa.Column('senior_id', sa.String(length=64), nullable=False),
    sa.Column('service', sa.String(length=64), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('unit', sa.String(length=32), nullable=False),
    sa.Column('amount', sa.Float(), nullable=False),
    sa.Column('period', sa.String(length=32), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_decisions_amount_positive')),
    sa.CheckConstraint('valid_to >= valid_from', name=op.f('ck_decisions_validity_order')),
    sa.ForeignKeyConstraint(['senior_id'], ['seniors.id'], name=op.f('fk_decisions_senior_id_seniors')),
    sa.ForeignKeyConstraint(['service'], ['services.code'], name=op.f('fk_decisions_service_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decisions'))
    )
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decisions_senior_id'), ['senior_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_decisions_service'), ['service'], unique=False)

    op.create_table('senior_absences',
    sa.Column('from_date', sa.Date(), nullable=False),
    sa.Column('to_date', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('senior_id', sa.String(length=64), nullable=False),
    sa.CheckConstraint('to_date >= from_date', name=op.f('ck_senior_absences_date_order')),
    sa.ForeignKeyConstraint(['senior_id'], ['seniors.id'], name=op.f('fk_senior_absences_senior_id_seniors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_senior_absences'))
    )
    with op.batch_alter_table('senior_absences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_senior_absences_senior_id'), ['senior_id'], unique=False)

    op.create_table('care_plan_lines',
    sa.Column('weekdays', sa.JSON(), nullable=False),
    sa.Column('start', sa.Time(), nullable=False),
    sa.Column('end', sa.Time(), nullable=False),
    sa.Column('duration', sa.Integer(), nullable=False),
    sa.Column('tasks', sa.String(length=500), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('care_plan_id', sa.String(length=64), nullable=False),
    sa.CheckConstraint('"end" > start', name=op.f('ck_care_plan_lines_end_after_start')),
    sa.ForeignKeyConstraint(['care_plan_id'], ['care_plans.id'], name=op.f('fk_care_plan_lines_care_plan_id_care_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_plan_lines'))
    )
    with op.batch_alter_table('care_plan_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_care_plan_lines_care_plan_id'), ['care_plan_id'], unique=False)

    op.create_table('request_cancellations',
    sa.Column('visit_request_id', sa.String(length=64), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('counts_until', sa.Date(), nullable=True),
    sa.Column('late', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.ForeignKeyConstraint(['visit_request_id'], ['visit_requests.id'], name=op.f('fk_request_cancellations_visit_request_id_visit_requests')),
    sa.PrimaryKeyConstraint('visit_request_id', name=op.f('pk_request_cancellations'))
    )
    with op.batch_alter_table('request_cancellations', schema=None) as batch_op:
        batch_op.create_index('ix_request_cancellations_counts_until', ['counts_until'], unique=False)

    op.create_table('care_plan_visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('line_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('visit_request_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['line_id'], ['care_plan_lines.id'], name=op.f('fk_care_plan_visits_line_id_care_plan_lines'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['visit_request_id'], ['visit_requests.id'], name=op.f('fk_care_plan_visits_visit_request_id_visit_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_plan_visits')),
    sa.UniqueConstraint('line_id', 'date', name='uq_care_plan_visits_line_date')
    )
    with op.batch_alter_table('care_plan_visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_care_plan_visits_visit_request_id'), ['visit_request_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('care_plan_visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_care_plan_visits_visit_request_id'))

    op.drop_table('care_plan_visits')
    with op.batch_alter_table('request_cancellations', schema=None) as batch_op:
        batch_op.drop_index('ix_request_cancellations_counts_until')

    op.drop_table('request_cancellations')
    with op.batch_alter_table('care_plan_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_care_plan_lines_care_plan_id'))

    op.drop_table('care_plan_lines')
    with op.batch_alter_table('senior_absences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_senior_absences_senior_id'))

    op.drop_table('senior_absences')
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decisions_service'))
        batch_op.drop_index(batch_op.f('ix_decisions_senior_id'))

    op.drop_table('decisions')
    with op.batch_alter_table('care_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_care_plans_senior_id'))

    op.drop_table('care_plans')
    op.drop_table('intake_rules')
