"""Signed access tokens (HS256 JWT via PyJWT); passwords are hashed in ``dispatch.access.passwords``.

Tokens carry the username, the role as the only scope, and the worker id for workers, so
a request is authorised without a database read; a deactivated user is still refused
because ``deps.current_user`` re-reads the user row.  Each token also carries a random id
(``jti``), so that one token can be ended by logging out (``dispatch.access.token_revocation``), and
the user's token version, so that a password, role or status change ends all of them.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

import jwt

ALGORITHM = "HS256"


@dataclass(frozen=True)
class TokenClaims:
    username: str
    role: str
    worker_id: str | None
    expires: dt.datetime
    version: int = 0
    """The user's token version at login (``User.token_version``)."""
    jti: str = ""
    """The token's own random id (what logging out revokes)."""


def create_access_token(
    secret: str, username: str, role: str, worker_id: str | None, now: dt.datetime, minutes: int,
    version: int = 0,
) -> str:
    claims = {
        "sub": username,
        "scope": role,
        "wid": worker_id,
        "ver": version,
        "jti": secrets.token_urlsafe(16),
        "iat": int(now.timestamp()),
        "exp": int((now + dt.timedelta(minutes=minutes)).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


class InvalidToken(Exception):
    """Expired, forged or malformed token."""


def decode_access_token(secret: str, token: str) -> TokenClaims:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp", "scope", "jti"]})
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("the token has expired") from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken("the token is not valid") from exc
    return TokenClaims(
        claims["sub"], claims["scope"], claims.get("wid"), dt.datetime.fromtimestamp(claims["exp"], dt.UTC),
        int(claims.get("ver", 0)), str(claims["jti"]),
    )
