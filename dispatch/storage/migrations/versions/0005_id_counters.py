"""id_counters: new readable ids from an atomic counter per id scheme, not max + 1

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 09:00:00

Two simultaneous creates used to compute the same ``max + 1`` id and one failed (409).  Each
scheme (``s-``, ``w-``, ``car-``, ``r-``) now has a row here, incremented in the writing
transaction.  The rows are created on first use from the highest id already stored, so the
table starts empty.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'id_counters',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_id_counters')),
    )


def downgrade() -> None:
    op.drop_table('id_counters')
