"""``carepath import <kind> FILE``: every kind on the configured database (both backends), all rows or
none, every problem printed with its line and column and exit code 2, dry runs, templates."""

from __future__ import annotations

import io
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

runner = CliRunner()


@pytest.fixture
def db(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """CAREPATH_DATABASE_URL points at a migrated, empty database; yields an engine on it."""
    from dispatch.settings import get_settings

    monkeypatch.delenv("CAREPATH_GEOCODER", raising=False)
    monkeypatch.setenv("CAREPATH_DATABASE_URL", database_url)
    monkeypatch.setenv("CAREPATH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    engine = make_engine(database_url)
    yield engine
    engine.dispose()
    get_settings.cache_clear()


def write(path: Path, *lines: str) -> Path:
    """A file as Polish Excel's "CSV UTF-8" writes it: BOM, ';' separators, CRLF line ends."""
    path.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
    return path


def count(engine: Any, model: Any) -> int:
    with Session(engine) as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


PLACES = ("kind;name;street;number;postcode;city;lat;lon",
          "office;MOPR Kielce;Studzienna;2;25-544;Kielce;50,8736;20,6326",
          "area;Centrum;;;;;50,8703;20,6280",
          "destination;Szpital Kielecki;Kościuszki;25;25-316;Kielce;50,8660;20,6180")
SERVICES = ("code;name_pl;name_en;default_duration;required_skills;worker_kinds;mandatory;kind;working_days_only",
            "home_care;Usługi opiekuńcze;Home care;60;;carer, specialist_carer;tak;visit;nie",
            'taxi;Taksówka dla seniora;Senior taxi;30;driving_licence_b;driver;nie;ride;tak')
CARS = ("id;plate;seats;wheelchair_places;base_place",
        "car-1;tk 12345;3;1;office-mopr-kielce")
WORKERS = ("id;first_name;last_name;gender;kind;skills;contract;weekly_hours;home_area;home_lat;home_lon;travel_mode;"
           "car_id;shift_mon;shift_tue;shift_wed;shift_thu;shift_fri",
           "w-1;Anna;Nowak;F;carer;community_carer;etat_podstawowy;40;area-centrum;50,871;20,629;walk;;"
           "07:00-15:00;07:00-15:00;07:00-15:00;07:00-15:00;07:00-15:00",
           "w-2;Jan;Kierowca;M;driver;driving_licence_b;etat_podstawowy;40;area-centrum;50,870;20,630;car;car-1;"
           "07:00-15:00;07:00-15:00;07:00-15:00;07:00-15:00;07:00-15:00")
SENIORS = ("id;first_name;last_name;gender;birth_year;street;number;postcode;city;area;lat;lon;disability;needs;"
           "regular_workers;health_notes",
           "s-1;Halina;Zając;F;1941;Sienkiewicza;10;25-001;Kielce;area-centrum;50,8712;20,6301;umiarkowany;"
           "home_care, taxi;w-1;cukrzyca",
           "s-2;Zofia;Mazur;F;1938;Paderewskiego;7;25-004;Kielce;area-centrum;50,8680;20,6250;znaczny;home_care;;")
REQUESTS = ("senior_id;service;first_date;window_start;window_end;rrule;destination_place_id;appointment;"
            "appointment_minutes",
            's-1;home_care;07.12.2026;8:00;9:00;"FREQ=WEEKLY;BYDAY=MO,WE,FR";;;',
            "s-2;taxi;08.12.2026;8:00;9:00;;destination-szpital-kielecki;10:00;60")


def test_a_centre_loads_every_kind_in_order(db, tmp_path: Path) -> None:
    """places, services, cars, workers, seniors, requests: each import prints what it wrote; the records
    refer to each other across files; the service's defaults reach the requests; health notes stay out
    of the audit log."""
    files = {"places": PLACES, "services": SERVICES, "cars": CARS, "workers": WORKERS, "seniors": SENIORS,
             "requests": REQUESTS}
    for kind, lines in files.items():
        result = runner.invoke(app, ["import", kind, str(write(tmp_path / f"{kind}.csv", *lines))])
        assert result.exit_code == 0, (kind, result.output)
        assert result.output.startswith("imported ")
    assert [count(db, t) for t in (m.Place, m.Service, m.Car, m.Worker, m.Senior, m.VisitRequest)] == [3, 2, 1, 2, 2, 2]
    with Session(db) as s:
        care = s.exec(select(m.VisitRequest).where(m.VisitRequest.service == "home_care")).one()
        assert (care.duration, care.mandatory) == (60, True)
        taxi = s.exec(select(m.VisitRequest).where(m.VisitRequest.service == "taxi")).one()
        assert taxi.required_skills == ["driving_licence_b"] and taxi.working_days_only
        assert s.get(m.Car, "car-1").plate == "TK 12345"
        audit = s.exec(select(m.AuditLog).where(m.AuditLog.entity == "senior")).all()
        assert audit and all("cukrzyca" not in str(a.changes) for a in audit)
        summaries = s.exec(select(m.AuditLog.action).where(m.AuditLog.entity == "import")).all()
    assert sorted(summaries) == sorted(f"import.{k}" for k in files)


def test_errors_are_printed_by_line_and_column_and_nothing_is_stored(db, tmp_path: Path) -> None:
    """A bad row in the middle: every problem printed as "line N, column: message", exit code 2, no row of
    the file stored; the same file fixed goes in."""
    runner.invoke(app, ["import", "places", str(write(tmp_path / "p.csv", *PLACES))])
    bad = write(tmp_path / "services.csv", SERVICES[0], SERVICES[1],
                "bad code;;Handyman;0;;plumber;może;boat;nie", SERVICES[2])
    result = runner.invoke(app, ["import", "services", str(bad)])
    assert result.exit_code == 2
    for expected in ("line 3, code:", "line 3, name_pl:", "line 3, default_duration:", "line 3, worker_kinds:",
                     "line 3, mandatory:", "line 3, kind:"):
        assert expected in result.output, result.output
    assert count(db, m.Service) == 0
    assert runner.invoke(app, ["import", "services", str(write(tmp_path / "s.csv", *SERVICES))]).exit_code == 0
    seniors = write(tmp_path / "seniors.csv", SENIORS[0], SENIORS[1].replace("area-centrum", "area-mars"), SENIORS[2])
    result = runner.invoke(app, ["import", "seniors", str(seniors)])
    assert result.exit_code == 2 and "line 2, area: unknown place 'area-mars'" in result.output
    assert count(db, m.Senior) == 0


def test_dry_run_checks_and_writes_nothing(db, tmp_path: Path) -> None:
    """--dry-run prints what would be imported and stores nothing (no audit either)."""
    result = runner.invoke(app, ["import", "places", str(write(tmp_path / "p.csv", *PLACES)), "--dry-run"])
    assert result.exit_code == 0 and result.output.startswith("would import 3 places")
    assert count(db, m.Place) == 0 and count(db, m.AuditLog) == 0


def test_templates_are_written_to_fill_in_and_read_back(db, tmp_path: Path) -> None:
    """--template writes the header row (CSV with BOM and ';', or XLSX with a sheet of column notes); never
    over an existing file; a filled-in XLSX template imports."""
    result = runner.invoke(app, ["import", "places", "--template"])
    assert result.exit_code == 0
    assert (tmp_path / "carepath-places.csv").read_bytes() == \
        "\ufeffid;kind;name;street;number;postcode;city;lat;lon;note\r\n".encode()
    assert runner.invoke(app, ["import", "places", "--template"]).exit_code == 2
    assert runner.invoke(app, ["import", "places", "filled.xlsx", "--template"]).exit_code == 0
    book = openpyxl.load_workbook(tmp_path / "filled.xlsx")
    assert book.sheetnames == ["places", "columns"]
    book["places"].append([None, "area", "Bocianek", None, None, None, None, 50.89, 20.61])
    book.save(tmp_path / "filled.xlsx")
    result = runner.invoke(app, ["import", "places", "filled.xlsx"])
    assert result.exit_code == 0, result.output
    with Session(db) as s:
        assert s.get(m.Place, "area-bocianek") is not None
    assert runner.invoke(app, ["import", "places"]).exit_code == 2  # no file
    assert runner.invoke(app, ["import", "places", "missing.csv"]).exit_code == 2


def test_an_xlsx_file_reads_like_the_csv(db, tmp_path: Path) -> None:
    """The same places as an Excel workbook (numbers as numbers) import the same."""
    book = openpyxl.Workbook()
    for line in PLACES:
        cells: list[Any] = line.split(";")
        book.active.append([float(c.replace(",", ".")) if c[:2] in ("50", "20") else (c or None) for c in cells])
    buffer = io.BytesIO()
    book.save(buffer)
    (tmp_path / "places.xlsx").write_bytes(buffer.getvalue())
    result = runner.invoke(app, ["import", "places", "places.xlsx"])
    assert result.exit_code == 0, result.output
    with Session(db) as s:
        assert s.get(m.Place, "office-mopr-kielce").lat == 50.8736
