"""The ``carepath`` command line, run in-process with typer's runner in temporary directories."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dispatch.cli.app import app
from optimizer.checker import check, is_feasible
from optimizer.jsonio import read_problem, read_solution

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "optimizer" / "examples" / "small_problem.json"

runner = CliRunner()


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Each test gets its own data directory, so no test sees another's database."""
    from dispatch.settings import get_settings

    monkeypatch.setenv("CAREPATH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CAREPATH_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


DEMO_WEEK = ["--week", "2026-11-30"]
SMALL_CENTRE = ["--scale", "0.2"]
"""A fifth of the real centre (164 seniors, 36 family carers, 28 workers): quick to plan."""


def test_demo_runs_end_to_end_in_a_temporary_directory(tmp_path: Path) -> None:
    """`carepath demo` creates the database, loads Kielce, plans the day and prints the summary."""
    result = runner.invoke(app, ["demo", "--dir", str(tmp_path / "demo"), "--time-limit", "2", *DEMO_WEEK,
                                 *SMALL_CENTRE])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "demo" / "carepath-demo.db").exists()
    out = " ".join(result.output.split())  # rich wraps long lines at the runner's width
    assert "Loaded the Kielce demo week 2026-11-30 .. 2026-12-06" in out
    assert "164 seniors in care and 36 people looked after by family carers (respite), 28 workers" in out
    assert "Roster 2026-12-01" in out
    assert "Placed" in out and "visits" in out
    assert "Senior taxi" in out
    taxi = re.search(r"Senior taxi: (\d+) of (\d+) rides planned .*?(\d+) unplaced; (\d+) shared rides; (\d+) cars used",
                     out)
    assert taxi, out
    planned, total, unplaced, shared, cars = map(int, taxi.groups())
    assert total >= 10 and planned + unplaced == total and 1 <= cars <= 2 and shared <= planned
    assert "pickup" in out and "dropoff" in out
    assert "passed the independent checker" in out
    assert "carepath serve" in out


def test_demo_stores_a_checked_draft_roster(tmp_path: Path) -> None:
    """The stored roster has one assignment row per planned stop and one row per unplaced visit."""
    from sqlmodel import Session, select

    from dispatch.storage import models as m
    from dispatch.storage.db import make_engine

    result = runner.invoke(app, ["demo", "--dir", str(tmp_path / "d"), "--time-limit", "1", *DEMO_WEEK, *SMALL_CENTRE])
    assert result.exit_code == 0, result.output
    engine = make_engine(f"sqlite:///{tmp_path / 'd' / 'carepath-demo.db'}")
    with Session(engine) as session:
        rosters = session.exec(select(m.Roster)).all()
        assert len(rosters) == 1 and rosters[0].status == m.RosterStatus.DRAFT
        assigned = session.exec(select(m.RosterAssignment)).all()
        unplaced = session.exec(select(m.RosterUnassigned)).all()
        kpis = rosters[0].kpis
    engine.dispose()
    assert len(assigned) > 60
    assert all(a.start <= a.end and a.arrival <= a.start for a in assigned)
    assert all(u.reason and u.message_pl and u.message_en for u in unplaced)
    assert kpis["visits_placed"] + len(unplaced) == kpis["visits_total"]  # one row per unplaced stop
    legs = {a.leg for a in assigned}
    assert {"visit", "pickup", "dropoff"} <= legs and None not in legs


def test_demo_rejects_a_malformed_date(tmp_path: Path) -> None:
    """A bad --date is a user error: a one-line message, exit code 2, no traceback."""
    result = runner.invoke(app, ["demo", "--dir", str(tmp_path), "--date", "2026-13-01"])
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output
    assert "Traceback" not in result.output


def test_demo_rejects_a_date_outside_the_demo_week(tmp_path: Path) -> None:
    """A --date outside the chosen --week is refused with the week it must fall in."""
    result = runner.invoke(app, ["demo", "--dir", str(tmp_path), "--date", "2027-01-05", *DEMO_WEEK])
    assert result.exit_code == 2
    assert "outside the demo week" in result.output


def test_solve_writes_a_feasible_solution(tmp_path: Path) -> None:
    """`carepath solve` writes a solution the independent checker accepts."""
    out = tmp_path / "solution.json"
    result = runner.invoke(app, ["solve", str(EXAMPLE), "--time-limit", "1", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    problem, solution = read_problem(EXAMPLE), read_solution(out)
    assert is_feasible(check(problem, solution))
    assert "placed" in result.output


def test_solve_reports_a_missing_file() -> None:
    """A missing problem file is named in the error."""
    result = runner.invoke(app, ["solve", "no-such-problem.json"])
    assert result.exit_code == 2
    assert "no-such-problem.json" in result.output
    assert "Traceback" not in result.output


def test_solve_reports_where_a_problem_file_is_wrong(tmp_path: Path) -> None:
    """A malformed problem names the JSON path at fault."""
    doc = json.loads(EXAMPLE.read_text())
    doc["visits"][0]["location"] = 999
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    result = runner.invoke(app, ["solve", str(bad), "--time-limit", "1"])
    assert result.exit_code == 2
    assert "visits[0].location" in result.output


def test_solve_rejects_a_non_positive_time_limit() -> None:
    """Typer validates option ranges: a zero time limit is refused."""
    result = runner.invoke(app, ["solve", str(EXAMPLE), "--time-limit", "0"])
    assert result.exit_code == 2


def test_check_flags_an_edited_infeasible_solution(tmp_path: Path) -> None:
    """`carepath check` exits 1 and lists the broken rule when a roster is edited badly."""
    out = tmp_path / "solution.json"
    assert runner.invoke(app, ["solve", str(EXAMPLE), "--time-limit", "1", "--out", str(out), "-q"]).exit_code == 0
    doc = json.loads(out.read_text())
    route = next(r for r in doc["routes"] if r["stops"])
    route["stops"][0]["start"] += 300  # far past its window, and into the next stop
    route["stops"][0]["end"] += 300
    out.write_text(json.dumps(doc))
    result = runner.invoke(app, ["check", str(EXAMPLE), str(out)])
    assert result.exit_code == 1
    assert "infeasible" in result.output


def test_fixtures_generate_writes_the_scenario(tmp_path: Path) -> None:
    """`carepath fixtures generate` writes the scenario tables and a manifest."""
    target = tmp_path / "scenario"
    result = runner.invoke(app, ["fixtures", "generate", "--out", str(target), "--scale", "0.2"])
    assert result.exit_code == 0, result.output
    assert (target / "scenario.json").exists()
    assert any(target.glob("requests*"))


def test_fixtures_generate_writes_the_real_centre_or_the_benchmark_population(tmp_path: Path) -> None:
    """The default profile is the real centre (seniors plus the people family carers look after);
    --profile kielce-2026-11 writes the benchmarks' population; an unknown profile is a user error."""
    real = runner.invoke(app, ["fixtures", "generate", "--out", str(tmp_path / "a"), "--scale", "0.1"])
    assert real.exit_code == 0, real.output
    assert json.loads((tmp_path / "a" / "scenario.json").read_text())["counts"]["seniors"] == 82 + 18
    bench = runner.invoke(app, ["fixtures", "generate", "--out", str(tmp_path / "b"), "--scale", "0.1",
                                "--profile", "kielce-2026-11"])
    assert bench.exit_code == 0, bench.output
    assert json.loads((tmp_path / "b" / "scenario.json").read_text())["counts"]["seniors"] == 42
    bad = runner.invoke(app, ["fixtures", "generate", "--out", str(tmp_path / "c"), "--profile", "warszawa"])
    assert bad.exit_code == 2 and "--profile" in bad.output


def test_fixtures_generate_rejects_an_unknown_region(tmp_path: Path) -> None:
    """An unknown --region value is a clear user error."""
    result = runner.invoke(app, ["fixtures", "generate", "--out", str(tmp_path), "--region", "mars"])
    assert result.exit_code == 2
    assert "--region" in result.output


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    """`carepath db upgrade --url` brings an empty SQLite database to the head revision."""
    from dispatch.storage.migrate import current_revision, head_revision

    url = f"sqlite:///{tmp_path / 'x.db'}"
    result = runner.invoke(app, ["db", "upgrade", "--url", url])
    assert result.exit_code == 0, result.output
    assert current_revision(url) == head_revision()


def test_db_upgrade_reports_an_unusable_url() -> None:
    """A database URL that cannot be used is reported, not thrown."""
    result = runner.invoke(app, ["db", "upgrade", "--url", "nosuchdriver://x"])
    assert result.exit_code == 2
    assert "database upgrade failed" in result.output


def test_demo_reports_a_bad_weights_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Objective weights come from settings; an unknown weight name is a clear user error."""
    from dispatch.settings import get_settings

    weights = tmp_path / "weights.toml"
    weights.write_text("[weights]\ntravel_minutes = 3\n")
    monkeypatch.setenv("CAREPATH_WEIGHTS_FILE", str(weights))
    get_settings.cache_clear()
    result = runner.invoke(app, ["demo", "--dir", str(tmp_path / "d"), "--time-limit", "1", "--scale", "0.05"])
    assert result.exit_code == 2
    assert "travel_minutes" in " ".join(result.output.split())


def test_solve_uses_weights_from_a_params_file(tmp_path: Path) -> None:
    """`--params` weights reach the solver: the recorded objective terms use them."""
    params = tmp_path / "p.toml"
    params.write_text("[weights]\ntravel_minute = 1\n")
    out = tmp_path / "s.json"
    result = runner.invoke(app, ["solve", str(EXAMPLE), "-t", "1", "-o", str(out), "-q", "--params", str(params)])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    terms = doc["stats"]["parameters"]["objective_terms"]
    travel = sum(r["travel_minutes"] for r in doc["routes"])
    assert terms["travel"] == travel  # weight 1 per minute, not the default 10


def test_demo_prints_accounts_that_log_in_to_the_api(tmp_path: Path) -> None:
    """The demo creates one account per role whose printed credentials work on the API."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from dispatch.settings import Settings

    result = runner.invoke(app, ["demo", "--dir", str(tmp_path / "d"), "--time-limit", "1", *DEMO_WEEK, "--scale", "0.1"])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    for role in ("admin", "coordinator", "dispatcher", "worker"):
        assert f"username {role} password demo-{role}-2026" in out
    url = f"sqlite:///{tmp_path / 'd' / 'carepath-demo.db'}"
    with TestClient(create_app(Settings(database_url=url, data_dir=tmp_path))) as client:
        response = client.post("/api/v1/auth/token", data={"username": "dispatcher", "password": "demo-dispatcher-2026"})
        assert response.status_code == 200, response.text
        assert response.json()["role"] == "dispatcher"


def test_demo_refuses_a_date_outside_the_sane_range(tmp_path: Path) -> None:
    """`carepath demo --date 9999-12-31` (one day later overflows) is a one-line error and exit code 2, with
    the accepted range named (the same limit as the API's, ``dispatch.limits``); nothing is created."""
    result = runner.invoke(app, ["demo", "--dir", str(tmp_path / "demo"), "--date", "9999-12-31"])
    assert result.exit_code == 2, result.output
    assert "--date" in result.output and "2000-01-01 to 2099-12-31" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "demo").exists()
