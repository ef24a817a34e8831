"""senior taxi: assistant on ride requests, leg of each roster assignment

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 05:00:00

* ``visit_requests.assistant``: the centre's personal assistant accompanies the senior on a
  taxi ride (an escort visit is planned for an assistant); NULL for non-ride requests.
* ``roster_assignments.leg``: which leg of a request a stop is (visit, pickup, dropoff,
  return_pickup, return_dropoff, escort).  A ride request has up to five stops, so the leg
  can no longer be derived from the time; rows written before this revision stay NULL and
  are read the old way (before the appointment: outbound, else return).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('visit_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assistant', sa.Boolean(), nullable=True))
    with op.batch_alter_table('roster_assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('leg', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('roster_assignments', schema=None) as batch_op:
        batch_op.drop_column('leg')
    with op.batch_alter_table('visit_requests', schema=None) as batch_op:
        batch_op.drop_column('assistant')
