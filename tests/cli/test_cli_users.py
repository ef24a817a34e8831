"""``carepath users add/list/set-password`` on the configured database (both backends)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from dispatch.storage import models as m
from dispatch.cli.users import users_app
from dispatch.storage.db import make_engine
from dispatch.domain import Contract, PlaceKind, TravelMode, WorkerKind

runner = CliRunner()
PASSWORD = "a-long-password-1"

# The main CLI wires the group the same way: app.add_typer(users_app, name="users").
app = typer.Typer()
app.add_typer(users_app, name="users")


@app.callback()
def _root() -> None:
    """carepath (test harness)"""


@pytest.fixture
def db(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The configured database (CAREPATH_DATABASE_URL) is a migrated one with worker W1; yields an engine."""
    from dispatch.settings import get_settings

    monkeypatch.setenv("CAREPATH_DATABASE_URL", database_url)
    monkeypatch.setenv("CAREPATH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    engine = make_engine(database_url)
    with Session(engine) as session:
        session.add(m.Place(id="area-1", kind=PlaceKind.AREA, name="Centrum", lat=50.87, lon=20.63))
        session.flush()
        session.add(m.Worker(id="W1", first_name="Anna", last_name="Nowak", gender="F", kind=WorkerKind.CARER,
                             contract=Contract.FULL_TIME_BASIC, weekly_hours=40, home_area="area-1",
                             home_lat=50.87, home_lon=20.63, travel_mode=TravelMode.CAR))
        session.commit()
    yield engine
    engine.dispose()
    get_settings.cache_clear()


def _users(engine) -> dict[str, m.User]:
    with Session(engine) as session:
        return {u.username: u for u in session.exec(select(m.User)).all()}


def _out(result) -> str:
    return " ".join(result.output.split())  # rich wraps long lines at the runner's width


def test_add_admin_with_password_on_stdin(db) -> None:
    """`users add NAME --role admin --password-stdin` creates an active admin whose hash verifies, audited."""
    from dispatch.access.passwords import verify_password

    result = runner.invoke(app, ["users", "add", "first.admin", "--role", "admin", "--password-stdin"],
                           input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "created user first.admin (admin)" in _out(result)
    user = _users(db)["first.admin"]
    assert user.role is m.UserRole.ADMIN and user.active and user.worker_id is None
    assert verify_password(PASSWORD, user.password_hash)
    with Session(db) as session:
        row = session.exec(select(m.AuditLog).where(col(m.AuditLog.action) == "user.create")).one()
    assert row.actor.startswith("cli") and row.entity_id == "first.admin"
    assert "argon2" not in repr(row.changes)


def test_add_prompts_for_the_password_twice(db) -> None:
    """Without --password-stdin the password is asked twice (hidden) and a worker user gets --worker."""
    result = runner.invoke(app, ["users", "add", "anna.n", "--role", "worker", "--worker", "W1"],
                           input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert _users(db)["anna.n"].worker_id == "W1"


def test_add_refuses_mismatched_confirmation(db) -> None:
    """Two different passwords at the prompt create nothing."""
    result = runner.invoke(app, ["users", "add", "anna.n", "--role", "coordinator"],
                           input=f"{PASSWORD}\nsomething-else-1\n")
    assert result.exit_code != 0
    assert "anna.n" not in _users(db)


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["ops", "--role", "admin"], PASSWORD, "already exists"),
        (["marta", "--role", "boss"], PASSWORD, "'boss' is not a role"),
        (["marta", "--role", "worker"], PASSWORD, "needs --worker"),
        (["marta", "--role", "worker", "--worker", "W999"], PASSWORD, "no worker with id 'W999'"),
        (["marta", "--role", "dispatcher", "--worker", "W1"], PASSWORD, "only users with the role worker"),
        (["marta", "--role", "admin"], "short", "at least 10 characters"),
        (["marta", "--role", "admin"], "", "no password on standard input"),
        (["Marta", "--role", "admin"], PASSWORD, "not a valid username"),
    ],
    ids=["existing-user", "bad-role", "worker-without-worker", "unknown-worker", "worker-for-non-worker",
         "short-password", "empty-stdin", "bad-username"],
)
def test_add_errors_exit_2_with_a_clear_message(db, args, stdin, message) -> None:
    """Each mistake ends with exit code 2 and one message saying what is wrong; nothing is created."""
    first = runner.invoke(app, ["users", "add", "ops", "--role", "admin", "--password-stdin"], input=PASSWORD + "\n")
    assert first.exit_code == 0, first.output
    result = runner.invoke(app, ["users", "add", *args, "--password-stdin"], input=stdin + "\n")
    assert result.exit_code == 2, result.output
    assert "error:" in result.output and message in _out(result)
    assert "Traceback" not in result.output
    assert set(_users(db)) == {"ops"}


def test_list_shows_users_without_passwords(db) -> None:
    """`users list` prints username, role, worker and active flag for every user, never a hash."""
    empty = runner.invoke(app, ["users", "list"])
    assert empty.exit_code == 0 and "no users yet" in _out(empty)
    runner.invoke(app, ["users", "add", "ops", "--role", "admin", "--password-stdin"], input=PASSWORD + "\n")
    runner.invoke(app, ["users", "add", "anna.n", "--role", "worker", "--worker", "W1", "--password-stdin"],
                  input=PASSWORD + "\n")
    result = runner.invoke(app, ["users", "list"])
    assert result.exit_code == 0, result.output
    out = _out(result)
    assert "ops" in out and "anna.n" in out and "W1" in out and "worker" in out and "yes" in out
    assert "argon2" not in result.output and PASSWORD not in result.output


def test_set_password(db) -> None:
    """`users set-password NAME` replaces the password; an unknown user is exit 2."""
    from dispatch.access.passwords import verify_password

    runner.invoke(app, ["users", "add", "ops", "--role", "admin", "--password-stdin"], input=PASSWORD + "\n")
    result = runner.invoke(app, ["users", "set-password", "ops", "--password-stdin"], input="new-long-password\n")
    assert result.exit_code == 0, result.output
    assert verify_password("new-long-password", _users(db)["ops"].password_hash)
    unknown = runner.invoke(app, ["users", "set-password", "nobody", "--password-stdin"], input=PASSWORD + "\n")
    assert unknown.exit_code == 2 and "no user named 'nobody'" in _out(unknown)


def test_database_not_set_up_is_exit_2_with_a_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a database without tables the CLI says to run `carepath db upgrade` instead of a traceback."""
    from dispatch.settings import get_settings

    monkeypatch.setenv("CAREPATH_DATABASE_URL", f"sqlite:///{(tmp_path / 'empty.db').as_posix()}")
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["users", "list"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "carepath db upgrade" in _out(result) and "Traceback" not in result.output


def test_set_password_ends_the_users_existing_tokens(db) -> None:
    """`users set-password` raises the user's token version, so tokens issued before it stop working."""
    runner.invoke(app, ["users", "add", "ops", "--role", "admin", "--password-stdin"], input=PASSWORD + "\n")
    before = _users(db)["ops"].token_version
    result = runner.invoke(app, ["users", "set-password", "ops", "--password-stdin"], input="new-long-password\n")
    assert result.exit_code == 0, result.output
    assert _users(db)["ops"].token_version == before + 1


def test_throttles_lists_keys_and_clear_throttle_clears_one_audited(db) -> None:
    """`users throttles` lists the keys failed logins are counted under; `users clear-throttle KEY`
    clears one (audited as the CLI user) so it is no longer listed; an unknown key is exit 2."""
    import datetime as dt

    from dispatch.access import login_throttle as lt

    for _ in range(6):
        assert lt.attempt(db, "ops", "203.0.113.66", dt.datetime.now(dt.UTC)) == 0
    listed = runner.invoke(app, ["users", "throttles"])
    assert listed.exit_code == 0, listed.output
    assert "pair:ops@203.0.113.66" in _out(listed) and "address:203.0.113.66" in _out(listed)
    cleared = runner.invoke(app, ["users", "clear-throttle", "pair:ops@203.0.113.66"])
    assert cleared.exit_code == 0, cleared.output
    assert "cleared pair:ops@203.0.113.66" in _out(cleared)
    assert "pair:ops@203.0.113.66" not in _out(runner.invoke(app, ["users", "throttles"]))
    with Session(db) as session:
        rows = session.exec(select(m.AuditLog).where(col(m.AuditLog.action) == "login_throttle.clear")).all()
    assert [(r.actor.startswith("cli"), r.entity_id) for r in rows] == [(True, "pair:ops@203.0.113.66")]
    again = runner.invoke(app, ["users", "clear-throttle", "pair:ops@203.0.113.66"])
    assert again.exit_code == 2 and "no login throttle 'pair:ops@203.0.113.66'" in _out(again)


def test_throttles_with_nothing_counted_says_so(db) -> None:
    """`users throttles` on a quiet system says no failed logins are counted."""
    result = runner.invoke(app, ["users", "throttles"])
    assert result.exit_code == 0 and "no failed logins counted now" in _out(result)
