"""User accounts: create, change, authenticate, and the demo users.

The API (``api/routers/users.py``, ``api/routers/auth.py``) and the CLI (``carepath users``)
call these use cases; each write adds an audit row (``dispatch.access.audit.record``) to the caller's
transaction, so the change and its audit row are committed together.  Audit rows never hold a
password or a password hash: a password change shows as ``{"password": {"old": "***", "new": "***"}}``.

Rules, enforced here whatever the caller:

* usernames: 3-64 characters, lowercase letters, digits, ``.``, ``_``, ``-``, starting with a
  letter (so a login is never ambiguous by case; ``authenticate`` lowercases what is typed);
* passwords: at least ``MIN_PASSWORD_LENGTH`` characters, at most ``MAX_PASSWORD_LENGTH``, not
  the username;
* a ``worker`` user is linked to an existing worker (``worker_id``); other roles are not;
* at least one active admin always remains.

Violations raise ``UserFieldError`` (which field, why), ``UserExists``, ``UserNotFound`` or
``LastAdmin``; all are ``UserError`` so the CLI prints them and the API maps them to problems.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from dispatch.access.passwords import hash_password, verify_password  # one scheme for every stored hash
from dispatch.access import audit
from dispatch.errors import UserError
from dispatch.fields import USERNAME_PATTERN, USERNAME_RULE  # the rule lives with the field; re-exported here
from dispatch.storage.models import Roster, RosterAssignment, User, UserRole, Worker
from dispatch.planning.day_inputs import workers_on

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 128
PASSWORD_MASK = "***"

_USERNAME_RE = re.compile(USERNAME_PATTERN)


# --------------------------------------------------------------------------- errors


class UserFieldError(UserError):
    """One input field breaks a rule (the API answers 422 naming ``field``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class UserExists(UserError):
    """The username is taken (409)."""

    def __init__(self, username: str) -> None:
        super().__init__(f"a user named '{username}' already exists")
        self.field = "username"
        self.username = username


class UserNotFound(UserError):
    """No user by that name (404)."""

    def __init__(self, username: str) -> None:
        super().__init__(f"no user named '{username}'")
        self.username = username


class LastAdmin(UserError):
    """The change would leave no active admin (409)."""

    def __init__(self, username: str) -> None:
        super().__init__(f"'{username}' is the last active admin: create or activate another admin first")
        self.username = username


class InvalidCredentials(UserError):
    """Unknown user or wrong password: deliberately the same error for both."""

    def __init__(self) -> None:
        super().__init__("wrong username or password")


class InactiveUser(UserError):
    """The password was right but the account is deactivated."""

    def __init__(self, username: str) -> None:
        super().__init__("this account is deactivated; ask an administrator")
        self.username = username


# --------------------------------------------------------------------------- checks


def check_username(username: str) -> str:
    if not _USERNAME_RE.fullmatch(username):
        raise UserFieldError("username", f"'{username}' is not a valid username ({USERNAME_RULE})")
    return username


def check_password(password: str, username: str | None = None) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserFieldError("password", f"must be at least {MIN_PASSWORD_LENGTH} characters long")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserFieldError("password", f"must be at most {MAX_PASSWORD_LENGTH} characters long")
    if username is not None and password.lower() == username.lower():
        raise UserFieldError("password", "must not be the username")
    return password


def parse_role(role: UserRole | str) -> UserRole:
    try:
        return UserRole(role)
    except ValueError:
        names = ", ".join(r.value for r in UserRole)
        raise UserFieldError("role", f"'{role}' is not a role; use one of {names}") from None


def _check_worker_link(session: Session, role: UserRole, worker_id: str | None) -> None:
    if role is UserRole.WORKER:
        if not worker_id:
            raise UserFieldError("worker_id", "a user with the role worker must be linked to a worker")
        if session.get(Worker, worker_id) is None:
            raise UserFieldError("worker_id", f"no worker with id '{worker_id}'")
    elif worker_id is not None:
        raise UserFieldError("worker_id", f"only users with the role worker are linked to a worker, not {role.value}")


def _snapshot(user: User) -> dict[str, Any]:
    """The audited fields of a user (never the password hash)."""
    return {"username": user.username, "role": user.role.value, "worker_id": user.worker_id, "active": user.active}


def _other_active_admins(session: Session, username: str) -> int:
    statement = select(func.count()).select_from(User).where(
        col(User.role) == UserRole.ADMIN, col(User.active).is_(True), col(User.username) != username
    )
    return int(session.exec(statement).one())


# --------------------------------------------------------------------------- queries


def get_user(session: Session, username: str) -> User:
    user = session.exec(select(User).where(col(User.username) == username)).first()
    if user is None:
        raise UserNotFound(username)
    return user


def list_users(session: Session) -> list[User]:
    """All users by username (active and inactive)."""
    return list(session.exec(select(User).order_by(col(User.username))).all())


# --------------------------------------------------------------------------- writes


def create_user(
    session: Session,
    actor: str,
    username: str,
    password: str,
    role: UserRole | str,
    worker_id: str | None = None,
) -> User:
    """Add an active user; audited as ``user.create``."""
    check_username(username)
    role = parse_role(role)
    check_password(password, username)
    _check_worker_link(session, role, worker_id)
    if session.exec(select(User.id).where(col(User.username) == username)).first() is not None:
        raise UserExists(username)
    user = User(username=username, password_hash=hash_password(password), role=role, worker_id=worker_id)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:  # created concurrently between the check and the insert
        raise UserExists(username) from None
    audit.record(session, actor, "user.create", "user", username, audit.diff({}, _snapshot(user)))
    return user


_UNSET: Any = object()


def update_user(
    session: Session,
    actor: str,
    username: str,
    *,
    role: UserRole | str = _UNSET,
    active: bool = _UNSET,
    worker_id: str | None = _UNSET,
    password: str = _UNSET,
) -> User:
    """Change role, active flag, worker link and/or password; one ``user.update`` audit row.

    Arguments left out are not changed.  Moving a worker user to another role drops the worker
    link unless ``worker_id`` is given (and then it must be None).  Refuses to demote or
    deactivate the last active admin.  Any change ends the user's existing tokens (raises
    ``token_version``).  No audit row, and no token ended, when nothing changes.
    """
    user = get_user(session, username)
    before = _snapshot(user)
    new_role = user.role if role is _UNSET else parse_role(role)
    new_active = user.active if active is _UNSET else bool(active)
    if worker_id is not _UNSET:
        new_worker = worker_id
    elif new_role is UserRole.WORKER:
        new_worker = user.worker_id
    else:
        new_worker = None
    if password is not _UNSET:
        check_password(password, username)
    _check_worker_link(session, new_role, new_worker)
    was_admin = user.role is UserRole.ADMIN and user.active
    stays_admin = new_role is UserRole.ADMIN and new_active
    if was_admin and not stays_admin and _other_active_admins(session, username) == 0:
        raise LastAdmin(username)

    user.role, user.active, user.worker_id = new_role, new_active, new_worker
    changes = audit.diff(before, _snapshot(user))
    if password is not _UNSET:
        user.password_hash = hash_password(password)
        changes["password"] = {"old": PASSWORD_MASK, "new": PASSWORD_MASK}
    if changes:
        # Every token issued before stops working: after a password reset (the old password may
        # be why), a role or worker-link change, a deactivation and, above all, a reactivation,
        # which would otherwise bring back tokens the user had before being deactivated.
        user.token_version += 1
        session.add(user)
        session.flush()
        audit.record(session, actor, "user.update", "user", username, changes)
    return user


def set_password(session: Session, actor: str, username: str, password: str) -> User:
    """Reset a user's password (audited without the password)."""
    return update_user(session, actor, username, password=password)


def deactivate(session: Session, actor: str, username: str) -> User:
    """Stop a user from logging in; their tokens stop working at the next request, for good
    (reactivating the user does not bring them back)."""
    return update_user(session, actor, username, active=False)


# --------------------------------------------------------------------------- authentication


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the user is unknown, so both failures cost the same."""
    return hash_password("carepath-no-such-user-dummy-password")


def login_name(typed: str) -> str:
    """The username a login form's text stands for: usernames are lowercase by rule, and
    phones add spaces.  Login and the login throttle (``dispatch.access.login_throttle``) both key on it."""
    return typed.strip().lower()


def authenticate(session: Session, username: str, password: str) -> User:
    """The user with this username and password, else ``InvalidCredentials`` / ``InactiveUser``.

    An unknown username costs one password verification too (against a dummy hash), so the
    response time does not tell which usernames exist.  ``InactiveUser`` is only raised after
    the right password, so it reveals nothing to someone guessing.
    """
    name = login_name(username)
    user = session.exec(select(User).where(col(User.username) == name)).first()
    if user is None:
        verify_password(password, _dummy_hash())
        log.info("login failed: unknown user")
        raise InvalidCredentials()
    if not verify_password(password, user.password_hash):
        log.info("login failed: wrong password for %s", user.username)
        raise InvalidCredentials()
    if not user.active:
        log.info("login refused: %s is deactivated", user.username)
        raise InactiveUser(user.username)
    return user


# --------------------------------------------------------------------------- demo


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: str
    worker_id: str | None


def demo_password(role: UserRole) -> str:
    """The published password of the demo user of ``role``: for the demo database ONLY.

    Anyone can read it here (and ``carepath demo`` prints it), so it must never exist in a
    real installation; ``ensure_demo_users`` is called by ``carepath demo`` alone.
    """
    return f"demo-{role.value}-2026"


def _demo_worker(session: Session, day: dt.date | None) -> str | None:
    """The first worker (by id) on shift on ``day``, preferring one planned in that day's roster.

    ``day`` defaults to the date of the latest roster.  Returns None if no worker works that day.
    """
    if day is None:
        day = session.exec(select(func.max(Roster.date))).one()
    if day is None:
        return None
    on_shift = [w.worker.id for w in workers_on(session, day)]
    planned = set(
        session.exec(
            select(RosterAssignment.worker_id)
            .join(Roster, col(Roster.id) == col(RosterAssignment.roster_id))
            .where(col(Roster.date) == day)
        ).all()
    )
    for wid in on_shift:
        if wid in planned:
            return wid
    return on_shift[0] if on_shift else None


def ensure_demo_users(session: Session, day: dt.date | None = None, *, actor: str = "carepath demo") -> list[DemoUser]:
    """One demo user per role (username = role name) with the published ``demo_password``.

    FOR THE DEMO DATABASE ONLY.  Idempotent: existing demo users are re-activated, re-linked and
    get the demo password back (a replaced scenario unlinks workers), each change audited.  The
    ``worker`` user is linked to the first worker on shift on ``day`` (see ``_demo_worker``); if
    nobody works that day, no worker user is made.  Returns (username, password, role, worker_id)
    for printing.
    """
    out: list[DemoUser] = []
    worker_id = _demo_worker(session, day)
    for role in UserRole:
        wid = worker_id if role is UserRole.WORKER else None
        if role is UserRole.WORKER and wid is None:
            log.warning("no worker on shift on the demo day: no demo worker user")
            continue
        username, password = role.value, demo_password(role)
        existing = session.exec(select(User).where(col(User.username) == username)).first()
        if existing is None:
            create_user(session, actor, username, password, role, wid)
        else:
            update_user(session, actor, username, role=role, active=True, worker_id=wid)
            if not verify_password(password, existing.password_hash):
                set_password(session, actor, username, password)
        out.append(DemoUser(username, password, role.value, wid))
    return out
