"""Bodies of the authentication and user-management endpoints.

No schema here carries a password hash; passwords only ever come in (``repr=False``), never
go out.  ``UserCreate`` and ``UserPublic`` are cut from the table's base model
(``dispatch.storage.models.UserBase``), which holds the username rule once; the password length
is ``dispatch.access.users``'s, which enforces both.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.schemas.common import INPUT_CONFIG, PUBLIC_CONFIG
from dispatch.access.login_throttle import KNOWN_FOR
from dispatch.storage.models import ThrottleKind, UserBase, UserRole
from dispatch.access.users import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH


class Token(BaseModel):
    """An OAuth2 bearer token (RFC 6749 section 5.1) plus the role, for the client's menus."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds until the token expires")
    role: UserRole
    scope: str = Field(description="the role, as the token's only OAuth2 scope")


class Me(BaseModel):
    """Who the bearer of the token is."""

    username: str
    role: UserRole
    worker_id: str | None = Field(description="the worker this user is (role worker only)")


class ThrottlePublic(BaseModel):
    """Failed logins counted under one key (``dispatch.access.login_throttle``), as admins see them."""

    key: str = Field(description="what DELETE /auth/throttles/{key} takes, e.g. 'address:203.0.113.7'")
    kind: ThrottleKind = Field(description="pair (one account from one address), account, or address")
    account: str | None
    address: str | None = Field(description="IPv6 addresses are counted per /64")
    failures: float = Field(description="failures not yet leaked away")
    retry_after_s: int = Field(description="seconds until a login may be tried under this key (0: now)")
    last_failure_at: dt.datetime | None = Field(description="local time (Europe/Warsaw) with its offset")
    known_address: bool = Field(
        description=f"pair: the account logged in from this address in the last {KNOWN_FOR.days} days"
    )


class UserPublic(UserBase):
    """A user as admins see it: the base fields and whether the account is active."""

    model_config = PUBLIC_CONFIG
    active: bool


_PASSWORD = Field(
    min_length=MIN_PASSWORD_LENGTH,
    max_length=MAX_PASSWORD_LENGTH,
    repr=False,
    description=f"{MIN_PASSWORD_LENGTH}-{MAX_PASSWORD_LENGTH} characters, not the username",
)


class UserCreate(UserBase):
    """A new user: the fields and rules of ``dispatch.storage.models.UserBase`` and a password."""

    model_config = INPUT_CONFIG
    password: str = _PASSWORD


class UserUpdate(BaseModel):
    """Fields to change; fields left out stay as they are.

    ``active: false`` deactivates (existing tokens stop working at once); ``password`` resets the
    password; moving a worker user to another role drops the worker link.
    """

    model_config = ConfigDict(extra="forbid")

    role: UserRole | None = None
    active: bool | None = None
    worker_id: str | None = Field(default=None, description="required for role worker, forbidden otherwise")
    password: str | None = Field(
        default=None,
        min_length=MIN_PASSWORD_LENGTH,
        max_length=MAX_PASSWORD_LENGTH,
        repr=False,
        description=f"a new password, {MIN_PASSWORD_LENGTH}-{MAX_PASSWORD_LENGTH} characters",
    )

    @field_validator("role", "active", "password", mode="before")
    @classmethod
    def _no_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may be left out but not null")
        return value

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, as keyword arguments for ``dispatch.access.users.update_user``."""
        return {name: getattr(self, name) for name in self.model_fields_set}
