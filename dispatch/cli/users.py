"""``carepath users``: add and list login accounts on the configured database; see and clear
login throttles.

The way to create the first admin of an installation (the API needs an admin to create
users), and to let an office back in when its address is throttled after many failed logins
(``users throttles``, ``users clear-throttle KEY``; ``dispatch.access.login_throttle``).  Wired into the main CLI with ``app.add_typer(users_app, name="users")``.  Mistakes
(existing user, bad role, missing or unknown worker, short password, database not set up)
end with a one-line message and exit code 2.  Writes are audited with the actor
``cli:<operating-system user>``.
"""

from __future__ import annotations

import datetime as dt
import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from dispatch.access import login_throttle as throttle
from dispatch.access import users as use
from dispatch.errors import UserError
from dispatch.timeutil import utc_to_local

users_app = typer.Typer(help="Login accounts (admins, coordinators, dispatchers, workers).", no_args_is_help=True)

out = Console()
err = Console(stderr=True)


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "cli"


@contextmanager
def _session() -> Iterator[Session]:
    """A unit of work on the settings' database; database trouble becomes a user error."""
    from dispatch.storage.db import make_engine, session_scope

    engine = make_engine()
    try:
        with session_scope(engine) as session:
            yield session
    except SQLAlchemyError as exc:
        first = str(exc.orig if getattr(exc, "orig", None) else exc).strip().splitlines()[0]
        raise UserError(
            f"database error ({first}); is the database set up? run 'carepath db upgrade'"
        ) from None
    finally:
        engine.dispose()


def _read_password(from_stdin: bool, username: str) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise UserError("--password-stdin: no password on standard input")
    else:
        password = typer.prompt(f"Password for {username}", hide_input=True, confirmation_prompt=True)
    use.check_password(password, username)
    return password


@users_app.command("add")
def add(
    username: Annotated[str, typer.Argument(help=use.USERNAME_RULE)],
    role: Annotated[str, typer.Option("--role", "-r", help="admin | coordinator | dispatcher | worker")],
    worker: Annotated[
        Optional[str], typer.Option("--worker", "-w", help="Worker id (required for --role worker).")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of standard input.")
    ] = False,
) -> None:
    """Create a user; asks for the password twice unless --password-stdin."""
    try:
        # Check what can be checked before asking for a password.
        use.check_username(username)
        parsed = use.parse_role(role)
        if parsed.value == "worker" and not worker:
            raise use.UserFieldError("--worker", "a user with the role worker needs --worker WORKER_ID")
        if parsed.value != "worker" and worker:
            raise use.UserFieldError("--worker", f"only users with the role worker take --worker, not {parsed.value}")
        password = _read_password(password_stdin, username)
        with _session() as session:
            user = use.create_user(session, _actor(), username, password, parsed, worker)
            summary = f"created user {user.username} ({user.role.value}" + (
                f", worker {user.worker_id})" if user.worker_id else ")"
            )
    except UserError as exc:
        raise _fail(str(exc)) from None
    out.print(summary, highlight=False)


@users_app.command("list")
def list_() -> None:
    """List users: username, role, worker, active (never passwords)."""
    try:
        with _session() as session:
            rows = [(u.username, u.role.value, u.worker_id or "", "yes" if u.active else "no")
                    for u in use.list_users(session)]
    except UserError as exc:
        raise _fail(str(exc)) from None
    if not rows:
        out.print("no users yet: create the first admin with 'carepath users add NAME --role admin'")
        return
    table = Table(header_style="bold")
    for name in ("username", "role", "worker", "active"):
        table.add_column(name)
    for row in rows:
        table.add_row(*row)
    out.print(table)


@users_app.command("set-password")
def set_password(
    username: Annotated[str, typer.Argument()],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of standard input.")
    ] = False,
) -> None:
    """Reset a user's password (e.g. a locked-out admin); asks twice unless --password-stdin."""
    try:
        with _session() as session:
            use.get_user(session, username)
        password = _read_password(password_stdin, username)
        with _session() as session:
            use.set_password(session, _actor(), username, password)
    except UserError as exc:
        raise _fail(str(exc)) from None
    out.print(f"password of {username} changed")


@users_app.command("throttles")
def throttles(
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Show at most this many keys.")] = 100,
) -> None:
    """List the keys under which failed logins are counted now, longest wait first."""
    now = dt.datetime.now(dt.UTC)
    try:
        with _session() as session:
            states = throttle.list_throttles(session, now, limit)
    except UserError as exc:
        raise _fail(str(exc)) from None
    if not states:
        out.print("no failed logins counted now")
        return
    table = Table(header_style="bold")
    table.add_column("key", no_wrap=True)  # copied into clear-throttle: never broken across lines
    for name in ("failures", "wait (s)", "last failure", "known address"):
        table.add_column(name)
    for s in states:
        last = utc_to_local(s.last_failure_at).strftime("%Y-%m-%d %H:%M:%S") if s.last_failure_at else ""
        known = "yes" if s.known_address else ""
        table.add_row(s.key, f"{s.failures:g}", str(s.retry_after_s), last, known)
    out.print(table)


@users_app.command("clear-throttle")
def clear_throttle(
    key: Annotated[str, typer.Argument(help="A key from 'carepath users throttles', e.g. address:203.0.113.7")],
) -> None:
    """Forget the failed logins counted under KEY and end its wait (audited)."""
    try:
        with _session() as session:
            before = throttle.clear(session, _actor(), key, dt.datetime.now(dt.UTC))
    except UserError as exc:
        raise _fail(str(exc)) from None
    out.print(f"cleared {key} ({before.failures:g} failures, {before.retry_after_s} s wait)", highlight=False)
