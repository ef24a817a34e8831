"""A centre starting from nothing: an empty database, ``carepath db upgrade``, then a year of its data
loaded with ``carepath import`` alone (places, services, cars, workers, seniors, a year of requests:
recurring care plus one-off taxi rides and handyman jobs across the year), and a day of that year
planned through the normal path and checked by the independent checker.  Both backends.

The data is a small generated Kielce population (``fixtures.generator``) written out as a centre's
spreadsheets would be: Polish-Excel CSV (BOM, ``;``, decimal commas, dd.mm.yyyy, tak/nie) and XLSX.
"""

from __future__ import annotations

import collections
import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func
from sqlmodel import Session, select
from typer.testing import CliRunner

from dispatch.storage import models as m
from dispatch.cli.app import app
from dispatch.storage.db import make_engine
from dispatch.planning.rosters import plan_day
from dispatch.settings import get_settings
from dispatch.providers.travel import provider_from_settings
from fixtures.generator import generate
from fixtures.occurrences import WORKING_DAY_SERVICES, is_working_day
from dispatch.domain import ServiceCode
from fixtures.scenario import Scenario
from optimizer.checker import check, is_feasible
from optimizer.params import load_params

runner = CliRunner()
YEAR_START = dt.date(2027, 1, 4)  # a Monday
YEAR_END = dt.date(2027, 12, 31)
#: Each one-off request of the generated week becomes this many across the year (about every 6 weeks).
ONE_OFFS_PER_YEAR = 8
WEEKDAYS = ("shift_mon", "shift_tue", "shift_wed", "shift_thu", "shift_fri", "shift_sat", "shift_sun")


def yes(value: bool | None) -> str:
    return "" if value is None else ("tak" if value else "nie")


def num(value: float) -> str:
    return f"{value}".replace(".", ",")


def hhmm(value: dt.time | None) -> str:
    return "" if value is None else value.strftime("%H:%M")


def polish(day: dt.date | None) -> str:
    return "" if day is None else day.strftime("%d.%m.%Y")


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    """Polish Excel's "CSV UTF-8": BOM, ';' between cells, cells with ';' quoted, CRLF."""
    def cell(text: str) -> str:
        return f'"{text}"' if ";" in text or '"' in text else text

    lines = [";".join(header)] + [";".join(cell(c) for c in row) for row in rows]
    path.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    book = openpyxl.Workbook()
    book.active.append(header)
    for row in rows:
        book.active.append([None if c == "" else c for c in row])
    book.save(path)
    return path


def working_day_from(day: dt.date) -> dt.date:
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def centre_files(s: Scenario, folder: Path) -> tuple[dict[str, Path], dt.date, int]:
    """The scenario as the six files, the busiest ride day of the year, and the number of request rows."""
    files: dict[str, Path] = {}
    files["places"] = write_xlsx(folder / "miejsca.xlsx", ["id", "kind", "name", "lat", "lon", "note"],
                                 [[p.id, p.kind.value, p.name, p.lat, p.lon, p.note] for p in s.places])
    files["services"] = write_csv(
        folder / "uslugi.csv",
        ["code", "name_pl", "name_en", "default_duration", "required_skills", "worker_kinds", "kind",
         "working_days_only"],
        [[x.code.value, x.name_pl, x.name_en, str(x.default_duration), ", ".join(x.required_skills),
          ", ".join(k.value for k in x.worker_kinds), "ride" if x.code is ServiceCode.TAXI else "visit",
          yes(x.code in WORKING_DAY_SERVICES)] for x in s.services])
    files["cars"] = write_csv(
        folder / "auta.csv", ["id", "plate", "seats", "wheelchair_places", "base_place", "available_from",
                              "available_to"],
        [[c.id, c.plate, str(c.seats), str(c.wheelchair_places), c.base_place, hhmm(c.available_from),
          hhmm(c.available_to)] for c in s.cars])
    files["workers"] = write_csv(
        folder / "pracownicy.csv",
        ["id", "first_name", "last_name", "gender", "kind", "skills", "contract", "weekly_hours", "home_area",
         "home_lat", "home_lon", "travel_mode", "starts_at_office", "max_daily_minutes", "car_id", *WEEKDAYS],
        [[w.id, w.first_name, w.last_name, w.gender, w.kind.value, ", ".join(w.skills), w.contract.value,
          num(w.weekly_hours), w.home_area, num(w.home_lat), num(w.home_lon), w.travel_mode.value,
          yes(w.starts_at_office), str(w.max_daily_minutes), w.car_id or "",
          *(", ".join(f"{hhmm(p.start)}-{hhmm(p.end)}" for p in w.shifts if p.weekday == d) for d in range(7))]
         for w in s.workers])
    files["seniors"] = write_xlsx(
        folder / "seniorzy.xlsx",
        ["id", "first_name", "last_name", "gender", "birth_year", "street", "number", "flat", "postcode", "city",
         "area", "lat", "lon", "phone", "disability", "lives_alone", "wheelchair", "mental_disorder", "needs",
         "preferred_gender", "regular_workers", "forbidden_workers", "notes_for_workers", "health_notes"],
        [[x.id, x.first_name, x.last_name, x.gender, x.birth_year, x.address.street, x.address.number,
          x.address.flat or "", x.address.postcode, x.address.city, x.area, x.lat, x.lon, x.phone,
          x.disability.value, yes(x.lives_alone), yes(x.wheelchair), yes(x.mental_disorder),
          ", ".join(n.value for n in x.needs), x.preferred_gender or "", ", ".join(x.regular_workers),
          ", ".join(x.forbidden_workers), x.notes_for_workers, x.health_notes] for x in s.seniors])
    header = ["id", "senior_id", "service", "first_date", "window_start", "window_end", "duration", "rrule", "until",
              "required_skills", "workers_needed", "priority", "mandatory", "soft_window", "max_lateness",
              "destination_place_id", "appointment", "appointment_minutes", "return_trip", "return_on_call",
              "escort", "assistant", "wheelchair", "purpose", "tasks"]
    rows: list[list[str]] = []
    ride_days: collections.Counter[dt.date] = collections.Counter()
    one_offs = [r for r in s.requests if not r.rrule]
    for r in s.requests:
        ride = r.ride
        if r.rrule:
            dates = [(YEAR_START, None if "COUNT=" in r.rrule else YEAR_END)]
        else:  # a week's one-off becomes a booking every six weeks or so, on working days
            i = one_offs.index(r)
            dates = [(working_day_from(YEAR_START + dt.timedelta(days=45 * k + 3 * i)), None)
                     for k in range(ONE_OFFS_PER_YEAR)]
        for n, (first, until) in enumerate(dates):
            rows.append([f"{r.id}-{n}" if len(dates) > 1 else r.id, r.senior_id, r.service.value, polish(first),
                         hhmm(r.window_start), hhmm(r.window_end), str(r.duration), r.rrule or "", polish(until),
                         ", ".join(r.required_skills), str(r.workers_needed), str(r.priority), yes(r.mandatory),
                         yes(r.soft_window), str(r.max_lateness), ride.destination if ride else "",
                         hhmm(ride.appointment) if ride else "", str(ride.appointment_minutes) if ride else "",
                         yes(ride.return_trip) if ride else "", yes(ride.return_on_call) if ride else "",
                         yes(ride.escort) if ride else "", yes(ride.assistant) if ride else "",
                         yes(ride.wheelchair) if ride else "", ride.purpose if ride else "", r.tasks])
            if ride is not None:
                ride_days[first] += 1
    files["requests"] = write_csv(folder / "zlecenia.csv", header, rows)
    busiest = max(ride_days, key=lambda d: (ride_days[d], d))
    return files, busiest, len(rows)


@pytest.fixture
def configured(empty_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The CLI's settings point at a fresh, empty database (no tables yet)."""
    for name in ("CAREPATH_GEOCODER", "CAREPATH_NOMINATIM_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CAREPATH_DATABASE_URL", empty_database_url)
    monkeypatch.setenv("CAREPATH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield empty_database_url
    get_settings.cache_clear()


def test_a_year_of_a_centres_data_loads_with_imports_alone_and_a_day_plans(configured: str, tmp_path: Path) -> None:
    """db upgrade on an empty database, six imports in order (each exit 0, every row stored), then one
    working day of the year with taxi rides planned and stored by plan_day (what a planning job
    runs): recurring care and the day's one-off rides become visits, the checker finds no violation."""
    scenario = generate(7, seniors=30, workers=10)
    files, day, request_rows = centre_files(scenario, tmp_path)
    upgraded = runner.invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    for kind in ("places", "services", "cars", "workers", "seniors", "requests"):
        result = runner.invoke(app, ["import", kind, str(files[kind])])
        assert result.exit_code == 0, (kind, result.output)
    engine = make_engine(configured)
    try:
        with Session(engine) as session:
            counts = [int(session.exec(select(func.count()).select_from(t)).one())
                      for t in (m.Place, m.Service, m.Car, m.Worker, m.Senior, m.VisitRequest)]
        assert counts == [len(scenario.places), len(scenario.services), len(scenario.cars), len(scenario.workers),
                          len(scenario.seniors), request_rows]
        settings = get_settings()
        planned = plan_day(engine, day, provider_from_settings(settings), load_params(None, time_limit_s=3))
        violations = check(planned.built.problem, planned.solution)
        assert is_feasible(violations), violations
        sources = planned.built.sources.values()
        assert any(src.leg == "pickup" for src in sources), "the day's taxi rides are planned as rides"
        recurring = {r.id for r in scenario.requests if r.rrule}
        assert sum(1 for src in sources if src.request_id in recurring) > 10, "recurring care happens that day"
        placed = sum(len(route.stops) for route in planned.solution.routes)
        print(f"{day}: {len(planned.built.problem.visits)} visits, {placed} placed, "
              f"{len(planned.solution.unassigned)} unplaced, {request_rows} request rows")
        assert placed > 0
        with Session(engine) as session:
            roster = session.get(m.Roster, planned.roster.id)
            assert roster is not None and roster.date == day and roster.status == m.RosterStatus.DRAFT
    finally:
        engine.dispose()
