"""Bodies of the authentication and user-management endpoints.

No schema here carries a password hash; passwords only ever come in (``repr=False``), never
go out.  The rules (username pattern, password length) are the ones ``dispatch.users``
enforces, repeated here so the OpenAPI document shows them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from dispatch.models import UserRole
from dispatch.users import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, USERNAME_PATTERN, USERNAME_RULE


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


class UserPublic(BaseModel):
    """A user as admins see it."""

    username: str
    role: UserRole
    worker_id: str | None
    active: bool


_PASSWORD = Field(
    min_length=MIN_PASSWORD_LENGTH,
    max_length=MAX_PASSWORD_LENGTH,
    repr=False,
    description=f"{MIN_PASSWORD_LENGTH}-{MAX_PASSWORD_LENGTH} characters, not the username",
)


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(pattern=USERNAME_PATTERN, description=USERNAME_RULE)
    password: str = _PASSWORD
    role: UserRole
    worker_id: str | None = Field(default=None, description="required for role worker, forbidden otherwise")


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
        """The fields the client sent, as keyword arguments for ``dispatch.users.update_user``."""
        return {name: getattr(self, name) for name in self.model_fields_set}
