"""`carepath demo` beyond the happy path: which week, which database, whose data, DST, --serve.

Every demo here is a small centre (``--scale``) so that a run takes a second or two of
planning; the realistic centre's size is checked without solving in tests/fixturegen.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from dispatch.storage import models as m
from dispatch.cli.app import app
from dispatch.cli.common import local_today
from dispatch.storage.db import make_engine
from fixtures.demo import DEMO_ACTOR, demo_week, run_demo

ROOT = Path(__file__).resolve().parents[2]
WARSAW = ZoneInfo("Europe/Warsaw")
SMALL = ["--scale", "0.1", "--time-limit", "0.5"]
runner = CliRunner()


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Own data directory, no configured database, development settings, fresh settings cache."""
    from dispatch.settings import get_settings

    monkeypatch.setenv("CAREPATH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CAREPATH_DATABASE_URL", raising=False)
    monkeypatch.delenv("CAREPATH_ENVIRONMENT", raising=False)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _use_database(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    from dispatch.settings import get_settings

    monkeypatch.setenv("CAREPATH_DATABASE_URL", url)
    get_settings.cache_clear()


def _flat(output: str) -> str:
    return " ".join(output.split())  # rich wraps long lines at the runner's width


# --------------------------------------------------------------------------- which week and day


@pytest.mark.parametrize(("today", "week", "day", "expected"), [
    (dt.date(2026, 12, 1), None, None, (dt.date(2026, 11, 30), dt.date(2026, 12, 1))),  # a Tuesday: today
    (dt.date(2026, 12, 5), None, None, (dt.date(2026, 12, 7), dt.date(2026, 12, 7))),  # Saturday: next Monday
    (dt.date(2026, 11, 11), None, None, (dt.date(2026, 11, 9), dt.date(2026, 11, 12))),  # Independence Day
    (dt.date(2026, 12, 24), None, None, (dt.date(2026, 12, 28), dt.date(2026, 12, 28))),  # Christmas Eve to Monday
    (dt.date(2026, 12, 1), dt.date(2026, 12, 10), None, (dt.date(2026, 12, 7), dt.date(2026, 12, 8))),  # --week
    (dt.date(2026, 12, 1), None, dt.date(2026, 3, 29), (dt.date(2026, 3, 23), dt.date(2026, 3, 29))),  # --date
    (dt.date(2026, 12, 1), dt.date(2026, 10, 19), dt.date(2026, 10, 25), (dt.date(2026, 10, 19), dt.date(2026, 10, 25))),
])
def test_the_demo_week_is_todays_unless_chosen(
    today: dt.date, week: dt.date | None, day: dt.date | None, expected: tuple[dt.date, dt.date]
) -> None:
    """Default: today, or the next working day (weekends and public holidays skipped) and its week;
    --week plans that week's Tuesday (or first working day); --date plans that day in its own week."""
    assert demo_week(today, week=week, day=day) == expected


def test_a_date_outside_the_chosen_week_is_refused(tmp_path: Path) -> None:
    """--date must fall in the --week: a one-line message naming the week, exit code 2."""
    result = runner.invoke(app, ["demo", "--dir", str(tmp_path), "--week", "2026-11-30", "--date", "2027-01-05"])
    assert result.exit_code == 2
    assert "outside the demo week 2026-11-30 .. 2026-12-06" in _flat(result.output)


def test_a_malformed_week_is_refused(tmp_path: Path) -> None:
    """A bad --week is a user error naming the option, not a traceback."""
    result = runner.invoke(app, ["demo", "--dir", str(tmp_path), "--week", "next"])
    assert result.exit_code == 2 and "--week" in result.output and "Traceback" not in result.output


def test_without_dates_the_demo_is_this_weeks(tmp_path: Path) -> None:
    """With no --week or --date the demo loads the current week and plans today (or the next working
    day), so that a newcomer can plan, publish and re-plan today."""
    before = local_today()
    result = runner.invoke(app, ["demo", "--dir", str(tmp_path / "d"), *SMALL])
    after = local_today()
    assert result.exit_code == 0, result.output
    out = _flat(result.output)
    loaded = re.search(r"demo week (\d{4}-\d\d-\d\d) \.\. (\d{4}-\d\d-\d\d)", out)
    roster = re.search(r"Roster (\d{4}-\d\d-\d\d)", out)
    assert loaded and roster, out
    got = (dt.date.fromisoformat(loaded.group(1)), dt.date.fromisoformat(roster.group(1)))
    assert got in {demo_week(before), demo_week(after)}  # the clock may pass midnight meanwhile


# --------------------------------------------------------------------------- DST weeks


@pytest.mark.parametrize(("day", "offset"), [(dt.date(2026, 3, 29), 2), (dt.date(2026, 10, 25), 1)],
                         ids=["spring-forward", "fall-back"])
def test_a_week_with_a_clock_change_plans_its_sunday(tmp_path: Path, day: dt.date, offset: int) -> None:
    """The DST Sunday (23 h on 2026-03-29, 25 h on 2026-10-25) is planned in its week: every visit is
    stored in UTC and is, in Warsaw, on that day, at the summer/winter offset, within its window."""
    from rich.console import Console

    result = run_demo(tmp_path, today=dt.date(2026, 12, 1), day=day, scale=0.2, time_limit=1,
                      console=Console(file=io.StringIO()))
    assert result.planned.roster.date == day and result.planned.solution.kpis.visits_placed > 0
    engine = make_engine(result.database_url)
    with Session(engine) as session:
        rows = session.exec(
            select(m.RosterAssignment, m.VisitRequest)
            .join(m.VisitRequest, m.VisitRequest.id == m.RosterAssignment.visit_request_id)
            .where(m.RosterAssignment.roster_id == result.planned.roster.id)
        ).all()
        week = session.exec(select(func.min(m.VisitRequest.first_date))).one()
    engine.dispose()
    assert week == day - dt.timedelta(days=6)  # the week of the Sunday, from its Monday
    assert rows
    for a, r in rows:
        local = a.start.astimezone(WARSAW)
        assert local.date() == day and local.utcoffset() == dt.timedelta(hours=offset), (a.start, local)
        if a.leg == "visit" and not r.soft_window:
            assert r.window_start <= local.time().replace(second=0) <= r.window_end, (r.id, local)


# --------------------------------------------------------------------------- which database


def _counts(url: str) -> tuple[int, int, int]:
    """(seniors, rosters, longest place id) in the database at ``url``."""
    engine = make_engine(url)
    with Session(engine) as session:
        seniors = session.exec(select(func.count()).select_from(m.Senior)).one()
        rosters = session.exec(select(func.count()).select_from(m.Roster)).one()
        longest = session.exec(select(func.max(func.length(m.Place.id)))).one()
    engine.dispose()
    return seniors, rosters, longest or 0


def test_the_demo_loads_into_the_configured_database(
    empty_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CAREPATH_DATABASE_URL set: the demo migrates that (empty) database, loads the centre with its
    long destination ids, plans and stores the roster there (no SQLite demo file), and may run again
    on its own data."""
    _use_database(monkeypatch, empty_database_url)
    first = runner.invoke(app, ["demo", "--week", "2026-11-30", *SMALL])
    assert first.exit_code == 0, first.output
    assert not (tmp_path / "data" / "carepath-demo.db").exists()
    out = _flat(first.output)
    assert "Roster 2026-12-01" in out and "passed the independent checker" in out
    assert "Start the API on this database: carepath serve" in out  # the configured URL needs no repeating
    seniors, rosters, longest = _counts(empty_database_url)
    assert seniors == 82 + 18 and rosters == 1 and longest >= 40  # destination-swietokrzyskie-centrum-... ids
    again = runner.invoke(app, ["demo", "--week", "2026-11-30", *SMALL])
    assert again.exit_code == 0, again.output
    assert _counts(empty_database_url)[:2] == (100, 1)  # replaced, rosters included


def test_the_demo_refuses_data_it_did_not_load(
    empty_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A configured database whose data a demo did not load, or that someone changed after the demo,
    is left alone (message naming who, exit code 2) unless --replace is given."""
    from dispatch.catalog import records as catalog
    from dispatch.storage.db import session_scope
    from dispatch.storage.migrate import upgrade
    from fixtures.seed import load_scenario
    from fixtures.generator import generate

    _use_database(monkeypatch, empty_database_url)
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    with session_scope(engine) as session:
        load_scenario(session, generate(5, seniors=12, family_carers=0, workers=4), actor="import")
    refused = runner.invoke(app, ["demo", "--week", "2026-11-30", *SMALL])
    assert refused.exit_code == 2
    out = _flat(refused.output)
    assert "refusing to load the demo" in out and "'import'" in out and "--replace" in out
    assert _counts(empty_database_url)[:2] == (12, 0)  # untouched: no roster, no demo accounts
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(m.User)).one() == 0

    replaced = runner.invoke(app, ["demo", "--week", "2026-11-30", "--replace", *SMALL])
    assert replaced.exit_code == 0, replaced.output
    assert _counts(empty_database_url)[:2] == (100, 1)

    with session_scope(engine) as session:  # a coordinator corrects a senior of the demo
        catalog.update_senior(session, "anna", "s-00001", {"phone": "+48 600 100 200"})
    engine.dispose()
    refused = runner.invoke(app, ["demo", "--week", "2026-11-30", *SMALL])
    assert refused.exit_code == 2
    assert "changed after the demo loaded it (senior.update by 'anna'" in _flat(refused.output)


def test_the_demo_replaces_its_own_file_without_asking(tmp_path: Path) -> None:
    """Without a configured database the demo writes its own SQLite file, which it always replaces."""
    target = ["demo", "--dir", str(tmp_path / "d"), "--week", "2026-11-30", *SMALL]
    assert runner.invoke(app, target).exit_code == 0
    url = f"sqlite:///{tmp_path / 'd' / 'carepath-demo.db'}"
    engine = make_engine(url)
    with Session(engine) as session:
        loads = session.exec(select(m.AuditLog).where(m.AuditLog.entity == "scenario")).all()
    engine.dispose()
    assert [(a.actor, a.action) for a in loads] == [(DEMO_ACTOR, "scenario.load")]
    second = runner.invoke(app, target)
    assert second.exit_code == 0, second.output
    assert _counts(url)[:2] == (100, 1)


def test_the_demo_does_not_run_in_production(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """CAREPATH_ENVIRONMENT=production: no demo (it publishes passwords and replaces data); exit code 2."""
    from dispatch.settings import get_settings

    monkeypatch.setenv("CAREPATH_ENVIRONMENT", "production")
    monkeypatch.setenv("CAREPATH_SECRET_KEY", "x" * 48)
    get_settings.cache_clear()
    result = runner.invoke(app, ["demo", "--dir", str(tmp_path / "d"), *SMALL])
    assert result.exit_code == 2 and "runs only in development" in _flat(result.output)
    assert not (tmp_path / "d" / "carepath-demo.db").exists()


# --------------------------------------------------------------------------- --serve


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def test_demo_serve_listens_on_the_host_and_port_given(tmp_path: Path) -> None:
    """`carepath demo --serve --host H --port P` starts the API on the demo database at H:P (a real
    uvicorn in a child process, stopped with SIGTERM once it answered): a printed demo account logs in."""
    host = "127.0.0.2"  # not the default 127.0.0.1: only --host can make it listen here
    port = _free_port(host)
    env = {**os.environ, "CAREPATH_DATA_DIR": str(tmp_path / "data")}
    env.pop("CAREPATH_DATABASE_URL", None)
    cmd = [sys.executable, "-c", "from dispatch.cli.app import main; main()", "demo", "--dir", str(tmp_path / "d"),
           "--week", "2026-11-30", *SMALL, "--serve", "--host", host, "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://{host}:{port}/api/v1/openapi.json", timeout=2) as response:
                    status = response.status
                    break
            except OSError:
                time.sleep(0.5)
        assert status == 200, f"no answer on {host}:{port} (exit {proc.poll()})"
        login = urllib.request.Request(
            f"http://{host}:{port}/api/v1/auth/token", method="POST",
            data=urllib.parse.urlencode({"username": "dispatcher", "password": "demo-dispatcher-2026"}).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        with urllib.request.urlopen(login, timeout=10) as response:
            assert response.status == 200 and json.loads(response.read())["role"] == "dispatcher"
        with urllib.request.urlopen(f"http://{host}:{port}/", timeout=10) as response:  # / leads to the console
            assert response.status == 200 and response.url.endswith("/console/login")
            assert "Zaloguj się" in response.read().decode()
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    assert f"http://{host}:{port}/api/v1/docs" in _flat(output)
    assert f"Web console (log in with an account above): http://{host}:{port}/console" in _flat(output)


def test_serve_options_are_refused_out_of_range(tmp_path: Path) -> None:
    """--port outside 1-65535 is a user error before anything is loaded."""
    result = runner.invoke(app, ["demo", "--dir", str(tmp_path / "d"), "--serve", "--port", "70000"])
    assert result.exit_code == 2 and not (tmp_path / "d").exists()
