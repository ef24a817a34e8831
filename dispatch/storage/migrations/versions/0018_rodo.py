"""RODO: erased seniors, and an audit log that only grows

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 20:00:00

* ``seniors.erased_at``: when the senior's personal data was erased by anonymisation
  (``dispatch.catalog.senior_privacy``); the row stays for delivered hours and the audit.
* PostgreSQL: a trigger refuses ``UPDATE`` and ``DELETE`` on ``audit_log`` unless the
  transaction has set ``carepath.audit_maintenance`` to ``on`` (``dispatch.access.audit.maintenance``:
  only the retention command and an erasure do).  It guards against the application and its
  bugs, not against a database superuser.  SQLite has no per-transaction setting: there, no
  route alters the log (``tests/api/test_rodo.py`` checks every route).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('carepath.audit_maintenance', true), '') = 'on' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$
"""
_TRIGGER = ("CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()")


def upgrade() -> None:
    with op.batch_alter_table('seniors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(_FUNCTION)
        op.execute(_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    with op.batch_alter_table('seniors', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
