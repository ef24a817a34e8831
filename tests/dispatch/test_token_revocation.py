"""Logged-out tokens (``dispatch.access.token_revocation``): noted until they would have expired, then forgotten."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from dispatch.storage import models as m
from dispatch.storage.db import make_engine
from dispatch.access.token_revocation import is_revoked, revoke

T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)


def test_a_revoked_token_is_noted_until_its_expiry_then_pruned(database_url: str) -> None:
    """revoke() notes the token (twice is harmless); a later revoke deletes notes whose token has
    expired, so the table never holds more than one token lifetime of logouts."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            revoke(session, "jti-one", "dispatcher", T0 + dt.timedelta(hours=1), T0)
            revoke(session, "jti-one", "dispatcher", T0 + dt.timedelta(hours=1), T0)
            session.commit()
        with Session(engine) as session:
            assert is_revoked(session, "jti-one") and not is_revoked(session, "jti-two")
            revoke(session, "jti-two", "worker", T0 + dt.timedelta(hours=3), T0 + dt.timedelta(hours=2))
            session.commit()
        with Session(engine) as session:
            rows = session.exec(select(m.RevokedToken)).all()
        assert [(r.jti, r.username, r.expires_at) for r in rows] == [("jti-two", "worker", T0 + dt.timedelta(hours=3))]
    finally:
        engine.dispose()
