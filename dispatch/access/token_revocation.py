"""Ending one access token before it expires (logout).

Access tokens are signed and stateless, so a token lives until its ``exp`` unless the server
keeps a note that it was ended.  Each token carries a random id (``jti``); logging out stores
that id with the token's expiry in ``revoked_tokens``, and ``api.deps.current_user`` refuses
tokens whose id is there.  A row is only needed until the token would have expired anyway, so
each logout deletes rows past their expiry: the table holds at most the tokens logged out
within one token lifetime.

Why not raise ``User.token_version`` on logout instead: that ends *every* token of the user,
so logging out on one office computer would log the same account out on the others (shared
dispatcher accounts are common).  ``token_version`` is for what must end every token at once:
a password, role, worker-link or active change (``dispatch.access.users.update_user``).
"""

from __future__ import annotations

import datetime as dt

from dataclasses import dataclass

from sqlalchemy import bindparam, delete, select
from sqlmodel import Session, col

from dispatch.storage.models import RevokedToken, User, UserRole


def revoke(session: Session, jti: str, username: str, expires_at: dt.datetime, now: dt.datetime) -> None:
    """Note the token ``jti`` of ``username`` as ended (idempotent), and forget expired notes."""
    session.execute(delete(RevokedToken).where(col(RevokedToken.expires_at) <= now))
    if session.get(RevokedToken, jti) is None:
        session.add(RevokedToken(jti=jti, username=username, revoked_at=now, expires_at=expires_at))
    session.flush()


def is_revoked(session: Session, jti: str) -> bool:
    return session.get(RevokedToken, jti) is not None


@dataclass(frozen=True)
class TokenHolder:
    """The columns of a user that checking a token needs (not the password hash)."""

    id: int
    username: str
    role: UserRole
    worker_id: str | None
    active: bool
    token_version: int


#: Built once: every authenticated request runs it, and building a select costs more than running it.
_HOLDER = (
    select(User.id, User.username, User.role, User.worker_id, User.active, User.token_version,  # type: ignore[call-overload]
           RevokedToken.jti)
    .outerjoin(RevokedToken, col(RevokedToken.jti) == bindparam("jti"))
    .where(col(User.username) == bindparam("username"))
)


def token_holder(session: Session, username: str, jti: str) -> tuple[TokenHolder | None, bool]:
    """The user named in a token and whether the token was ended, in one statement.

    Every authenticated request asks both; one round trip instead of two matters when a
    hundred phones poll their schedule (``benchmarks/load``).
    """
    row = session.execute(_HOLDER, {"jti": jti, "username": username}).first()
    if row is None:
        return None, is_revoked(session, jti)
    return TokenHolder(*row[:6]), row[6] is not None
