"""a centre's own catalogue: service codes as data, places with addresses, a geocoding cache

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 09:00:00

* ``services.code`` was a Python enum of the seven Kielce services, so a centre could not add one;
  it is now an id (64 characters like every other id), and what the code used to branch on is a
  column of the service: ``kind`` (``visit`` or ``ride``: the taxi is a ride) and
  ``working_days_only`` (taxi and handyman), plus ``mandatory`` (the default of a new request's
  ``mandatory``).  Existing rows get the values the code had hard-wired.
* ``visit_requests.service`` grows to 64 with the code it refers to.
* ``places`` gets the address it was located from (``street``, ``number``, ``postcode``, ``city``,
  as a senior's), empty for existing rows.
* ``geocode_cache``: every address the geocoder looked up, keyed by its normalised query.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.alter_column('code', existing_type=sa.String(length=32), type_=sa.String(length=64))
        batch_op.add_column(sa.Column('kind', sa.String(length=16), nullable=False, server_default='visit'))
        batch_op.add_column(sa.Column('working_days_only', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('mandatory', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE services SET kind = 'ride' WHERE code = 'taxi'")
    op.execute(sa.text("UPDATE services SET working_days_only = :yes WHERE code IN ('taxi', 'handyman')")
               .bindparams(yes=True))
    with op.batch_alter_table('visit_requests', schema=None) as batch_op:
        batch_op.alter_column('service', existing_type=sa.String(length=32), type_=sa.String(length=64))
    with op.batch_alter_table('places', schema=None) as batch_op:
        batch_op.add_column(sa.Column('street', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('number', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('postcode', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('city', sa.String(length=100), nullable=True))
    op.create_table(
        'geocode_cache',
        sa.Column('query', sa.String(length=500), nullable=False),
        sa.Column('lat', sa.Float(), nullable=True),
        sa.Column('lon', sa.Float(), nullable=True),
        sa.Column('label', sa.String(length=500), nullable=False),
        sa.Column('source', sa.String(length=200), nullable=False),
        sa.Column('looked_up_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('query', name=op.f('pk_geocode_cache')),
    )


def downgrade() -> None:
    op.drop_table('geocode_cache')
    with op.batch_alter_table('places', schema=None) as batch_op:
        for column in ('city', 'postcode', 'number', 'street'):
            batch_op.drop_column(column)
    with op.batch_alter_table('visit_requests', schema=None) as batch_op:
        batch_op.alter_column('service', existing_type=sa.String(length=64), type_=sa.String(length=32))
    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.drop_column('mandatory')
        batch_op.drop_column('working_days_only')
        batch_op.drop_column('kind')
        batch_op.alter_column('code', existing_type=sa.String(length=64), type_=sa.String(length=32))
