"""ids up to 64 characters: a centre's own slugs (hospitals, offices) no longer fit 32

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 04:00:00

The demo's destinations ("destination-swietokrzyskie-centrum-psychiatrii", 46 characters)
failed to load into PostgreSQL with "value too long for type character varying(32)", and the
API refused them.  Every id column and every column referring to one grows to 64.  On
PostgreSQL widening a VARCHAR rewrites nothing; on SQLite (which ignores the length) batch mode
rebuilds the tables, with foreign keys off for the migration (see ``env.py``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: table -> id columns (and columns referring to ids), parents before children.
COLUMNS: dict[str, tuple[str, ...]] = {
    'places': ('id',),
    'cars': ('id', 'base_place'),
    'workers': ('id', 'home_area', 'car_id'),
    'seniors': ('id', 'area'),
    'visit_requests': ('id', 'senior_id', 'destination_place_id', 'follows_request_id'),
    'rosters': ('area',),
    'plan_jobs': ('area',),
    'roster_assignments': ('worker_id', 'visit_request_id'),
    'roster_unassigned': ('visit_request_id',),
    'users': ('worker_id',),
    'worker_absences': ('worker_id',),
    'worker_shifts': ('worker_id',),
    'calendar_tokens': ('worker_id',),
}


def _resize(old: int, new: int) -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(column, existing_type=sa.String(length=old), type_=sa.String(length=new))


def upgrade() -> None:
    _resize(32, 64)


def downgrade() -> None:
    _resize(64, 32)
