"""Passwords (argon2 via pwdlib) and signed access tokens (HS256 JWT via PyJWT).

Tokens carry the username, the role as the only scope, and the worker id for workers, so
a request is authorised without a database read; a deactivated user is still refused
because ``deps.current_user`` re-reads the user row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import jwt
from pwdlib import PasswordHash

ALGORITHM = "HS256"
_hasher = PasswordHash.recommended()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return _hasher.verify(password, password_hash)
    except Exception:  # noqa: BLE001 - a malformed stored hash is simply "no"
        return False


@dataclass(frozen=True)
class TokenClaims:
    username: str
    role: str
    worker_id: str | None
    expires: dt.datetime
    version: int = 0
    """The user's token version at login (``User.token_version``)."""


def create_access_token(
    secret: str, username: str, role: str, worker_id: str | None, now: dt.datetime, minutes: int,
    version: int = 0,
) -> str:
    claims = {
        "sub": username,
        "scope": role,
        "wid": worker_id,
        "ver": version,
        "iat": int(now.timestamp()),
        "exp": int((now + dt.timedelta(minutes=minutes)).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


class InvalidToken(Exception):
    """Expired, forged or malformed token."""


def decode_access_token(secret: str, token: str) -> TokenClaims:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp", "scope"]})
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("the token has expired") from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken("the token is not valid") from exc
    return TokenClaims(
        claims["sub"], claims["scope"], claims.get("wid"), dt.datetime.fromtimestamp(claims["exp"], dt.UTC),
        int(claims.get("ver", 0)),
    )
