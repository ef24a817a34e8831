"""Password hashing: argon2id through pwdlib, configured once.

Every stored hash comes from here: accounts made by the CLI, the API and the demo, and the
checks at login (``dispatch.access.users``).  The API's token code (``api.security``) has no
say in how passwords are stored, so ``dispatch`` needs nothing from ``api``.
"""

from __future__ import annotations

from pwdlib import PasswordHash

_hasher = PasswordHash.recommended()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return _hasher.verify(password, password_hash)
    except Exception:  # noqa: BLE001 - a malformed stored hash is simply "no"
        return False
