"""schedule_reads: the roster version of a day each worker's schedule last showed them

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 09:00:00

``GET /me/schedule`` marks what changed since the worker last fetched it (issue 16 item 2):
per worker, day and area (``""`` for the city-wide roster) the published version last served.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'schedule_reads',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('worker_id', sa.String(length=64), nullable=False),
        sa.Column('date', sa.Date(), nullable=False),
        sa.Column('area', sa.String(length=64), nullable=False),
        sa.Column('roster_version', sa.Integer(), nullable=False),
        sa.Column('read_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], name=op.f('fk_schedule_reads_worker_id_workers'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_schedule_reads')),
        sa.UniqueConstraint('worker_id', 'date', 'area', name='uq_schedule_reads_worker_date_area'),
    )


def downgrade() -> None:
    op.drop_table('schedule_reads')
