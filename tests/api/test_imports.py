"""Spreadsheet imports over HTTP: Polish-Excel CSV (BOM, ``;``, decimal commas, dd.mm.yyyy) and
XLSX, all rows or none, every bad cell reported by Excel line and column, dry runs, roles.
Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import openpyxl
from sqlalchemy import func
from sqlmodel import Session, select

from dispatch.storage.models import AuditLog, VisitRequest, Worker

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def count(api: Any, model: Any, *where: Any) -> int:
    with Session(api.engine) as s:
        return int(s.exec(select(func.count()).select_from(model).where(*where)).one())


def upload(api: Any, kind: str, content: bytes, user: str = "coordinator", name: str = "plik.csv",
           headers: dict[str, str] | None = None, **params: Any) -> Any:
    media = XLSX if name.endswith(".xlsx") else "text/csv"
    return api.client.post(f"/api/v1/imports/{kind}", files={"file": (name, content, media)}, params=params,
                           headers=api.auth(user) | (headers or {}))


def csv(*lines: str) -> bytes:
    """A file as Polish Excel's "CSV UTF-8" writes it: BOM, ';' separators, CRLF line ends."""
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


REQUEST_HEADER = ("senior_id;service;first_date;window_start;window_end;duration;rrule;until;priority;mandatory;"
                  "tasks;destination_place_id;appointment;appointment_minutes")
GOOD_CARE = 'S1;home_care;07.12.2026;8:00;9:30;45;"FREQ=WEEKLY;BYDAY=MO,WE";31.12.2026;4;tak;zakupy, apteka;;;'
GOOD_SHORT = "S2;home_care;2026-12-08;10:00;11:00;;;;;nie;sprzątanie;;;"
GOOD_TAXI = "S3;taxi;09.12.2026;08:00;09:00;;;;;;wizyta u lekarza;destination-wsz;10:30;60"


def test_polish_excel_csv_with_bom_imports_every_row_once_even_when_retried(api) -> None:
    """BOM, ';', dd.mm.yyyy, H:MM, quoted RRULE and tak/nie are read; 201 with counts; each request and
    the import itself are audited; a retry with the same Idempotency-Key replays instead of importing again."""
    content = csv(REQUEST_HEADER, GOOD_CARE, GOOD_SHORT, GOOD_TAXI)
    key = {"Idempotency-Key": "import-2026-12"}
    response = upload(api, "requests", content, headers=key)
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["created"] == {"visit_requests": 3} and report["rows"] == 3 and report["dry_run"] is False
    retry = upload(api, "requests", content, headers=key)
    assert retry.status_code == 201 and retry.json() == report and retry.headers["idempotent-replayed"] == "true"
    assert count(api, VisitRequest) == 4 + 3

    care = api.client.get(f"/api/v1/requests/{report['ids'][0]}", headers=api.auth("dispatcher")).json()
    assert (care["first_date"], care["window_start"], care["rrule"], care["until"]) == \
        ("2026-12-07", "08:00:00", "FREQ=WEEKLY;BYDAY=MO,WE", "2026-12-31")
    assert (care["duration"], care["priority"], care["mandatory"], care["tasks"]) == (45, 4, True, "zakupy, apteka")
    taxi = api.client.get(f"/api/v1/requests/{report['ids'][2]}", headers=api.auth("dispatcher")).json()
    assert (taxi["appointment"], taxi["return_trip"], taxi["required_skills"]) == ("10:30:00", True, ["driving_licence_b"])
    assert count(api, AuditLog, AuditLog.action == "visit_request.create") == 3
    assert count(api, AuditLog, AuditLog.action == "import.requests") == 1


def test_one_bad_row_among_good_ones_imports_nothing_and_every_bad_cell_is_reported(api) -> None:
    """Bad cells on lines 3, 6 and 7 (blank line 5 skipped but counted) give one 422 listing each by its
    Excel line and column; the good lines 2 and 4 are not stored either."""
    content = csv(
        REQUEST_HEADER,
        GOOD_CARE,                                                       # line 2
        "S2;home_care;2026-12-08;10:00;09:00;;;;;;okno odwrotnie;;;",    # line 3: window_end before start
        GOOD_SHORT,                                                      # line 4
        ";;;;;;;;;;;;;",                                                 # line 5: blank
        "S404;home_care;31.02.2026;10:00;11:00;;;;9;może;;;;",           # line 6: four bad cells
        "S3;taxi;09.12.2026;08:00;09:00;;;;;;bez celu;;;",               # line 7: ride without destination
    )
    response = upload(api, "requests", content)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"].endswith("/import-invalid") and "nothing was imported" in problem["detail"]
    found = {(e["row"], e["field"]) for e in problem["errors"]}
    assert found == {
        (3, "window_end"),
        (6, "senior_id"), (6, "first_date"), (6, "priority"), (6, "mandatory"),
        (7, "destination_place_id"), (7, "appointment"), (7, "appointment_minutes"),
    }
    assert all(e["message"] for e in problem["errors"])
    assert count(api, VisitRequest) == 4
    assert count(api, AuditLog, AuditLog.actor == "coordinator") == 0


def test_dry_run_checks_every_row_but_writes_nothing(api) -> None:
    """``?dry_run=true`` answers 200 with what would be created; nothing is stored or audited."""
    response = upload(api, "requests", csv(REQUEST_HEADER, GOOD_CARE, GOOD_TAXI), dry_run="true")
    assert response.status_code == 200, response.text
    assert response.json()["dry_run"] is True and response.json()["created"] == {"visit_requests": 2}
    assert count(api, VisitRequest) == 4 and count(api, AuditLog, AuditLog.actor == "coordinator") == 0
    bad = upload(api, "requests", csv(REQUEST_HEADER, GOOD_CARE.replace("S1", "S404")), dry_run="true")
    assert bad.status_code == 422 and {(e["row"], e["field"]) for e in bad.json()["errors"]} == {(2, "senior_id")}


def test_xlsx_round_trip_of_requests_with_typed_cells(api) -> None:
    """An XLSX built with openpyxl (real date, time, number and boolean cells, one blank row) imports,
    and reading the requests back gives the values that were written."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["ID", "Senior_ID", "service", "first_date", "window_start", "window_end", "duration", "priority",
                  "mandatory", "rrule", "until", "required_skills", "tasks"])
    written = [
        ["x-1", "S1", "home_care", dt.date(2026, 12, 7), dt.time(8, 0), dt.time(9, 0), 30, 5, True,
         "FREQ=DAILY", dt.date(2026, 12, 20), "community_carer", "śniadanie"],
        [None] * 13,
        ["x-2", "S2", "home_care", dt.date(2026, 12, 8), dt.time(12, 15), dt.time(13, 45), 90.0, 1, False,
         None, None, None, "obiad, leki"],
    ]
    for row in written:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    response = upload(api, "requests", buffer.getvalue(), name="zlecenia.xlsx")
    assert response.status_code == 201, response.text
    assert response.json()["ids"] == ["x-1", "x-2"] and response.json()["rows"] == 2

    for row in (written[0], written[2]):
        got = api.client.get(f"/api/v1/requests/{row[0]}", headers=api.auth("coordinator")).json()
        assert got["senior_id"] == row[1] and got["first_date"] == row[3].isoformat()
        assert (got["window_start"], got["window_end"]) == (row[4].isoformat(), row[5].isoformat())
        assert (got["duration"], got["priority"], got["mandatory"]) == (int(row[6]), row[7], row[8])
        assert got["rrule"] == row[9] and got["until"] == (row[10].isoformat() if row[10] else None)
        assert got["tasks"] == row[12]


def test_worker_import_from_xlsx_with_shifts_and_its_errors(api) -> None:
    """Workers come in with weekly shifts (split shifts too) and decimal commas; a bad shift cell is
    reported under its weekday column; header problems are reported on line 1."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["first_name", "last_name", "gender", "kind", "skills", "contract", "weekly_hours", "home_area",
                  "home_lat", "home_lon", "travel_mode", "shift_mon", "shift_wed", "shift_sat"])
    sheet.append(["Olga", "Pietrzak", "F", "carer", "community_carer, medical_carer", "etat_przerywany", "37,5",
                  "area-centrum", "50,8712", 20.631, "walk", "07:00-11:00, 16:00-19:00", "7:00-15:00", None])
    sheet.append(["Piotr", "Sowa", "M", "Handyman", "handyman", "zlecenie", 10, "area-centrum", 50.86, 20.62,
                  "car", None, None, "09:00-13:00"])
    buffer = io.BytesIO()
    book.save(buffer)
    response = upload(api, "workers", buffer.getvalue(), user="admin", name="pracownicy.xlsx")
    assert response.status_code == 201, response.text
    assert response.json()["created"] == {"workers": 2, "worker_shifts": 4}
    olga = api.client.get(f"/api/v1/workers/{response.json()['ids'][0]}", headers=api.auth("admin")).json()
    assert (olga["weekly_hours"], olga["home_lat"], olga["skills"]) == (37.5, 50.8712, ["community_carer", "medical_carer"])
    assert [(s["weekday"], s["start"], s["end"]) for s in olga["shifts"]] == [
        (0, "07:00:00", "11:00:00"), (0, "16:00:00", "19:00:00"), (2, "07:00:00", "15:00:00")]

    header = "first_name;last_name;gender;kind;contract;weekly_hours;home_area;home_lat;home_lon;travel_mode;shift_wed"
    bad = upload(api, "workers", csv(header, "Ewa;Lis;F;carer;zlecenie;20;area-centrum;50,87;20,63;walk;15:00-07:00",
                                     "Ola;Kos;K;nurse;zlecenie;20;area-x;50,87;20,63;walk;8-12"), user="admin")
    assert bad.status_code == 422
    assert {(e["row"], e["field"]) for e in bad.json()["errors"]} == {
        (2, "shift_wed"), (3, "gender"), (3, "kind"), (3, "home_area"), (3, "shift_wed")}
    headers_wrong = upload(api, "workers", csv("first_name;last_name;shoe_size", "Ewa;Lis;38"), user="admin")
    found = {(e["row"], e["field"]) for e in headers_wrong.json()["errors"]}
    assert (1, "shoe_size") in found and (1, "home_area") in found and {r for r, _ in found} == {1}
    assert count(api, Worker) == 3 + 2


def test_import_roles_and_unreadable_files(api) -> None:
    """Only coordinators/admins import requests and only admins import workers; a non-UTF-8 file, a
    comma-separated file, a row with too many cells, an empty file and a header without rows are
    clear 422 problems."""
    content = csv(REQUEST_HEADER, GOOD_SHORT)
    assert upload(api, "requests", content, user="dispatcher").status_code == 403
    assert upload(api, "requests", content, user="worker").status_code == 403
    assert upload(api, "workers", content, user="coordinator").status_code == 403

    cp1250 = upload(api, "requests", REQUEST_HEADER.encode() + "\nS2;home_care;2026-12-08;10:00;11:00;;;;;;sprzątanie"
                    .encode("cp1250"))
    assert cp1250.status_code == 422 and cp1250.json()["errors"][0]["field"] == "file"
    assert "UTF-8" in cp1250.json()["detail"]
    commas = upload(api, "requests", b"senior_id,service,first_date\nS1,home_care,2026-12-01\n")
    assert commas.status_code == 422 and "';'" in commas.json()["detail"]
    ragged = upload(api, "requests", csv("senior_id;service", "S1;home_care", "S2;home_care;extra"))
    assert ragged.status_code == 422 and ragged.json()["errors"][0]["row"] == 3
    assert upload(api, "requests", b"", name="empty.csv").status_code == 422
    header_only = upload(api, "requests", csv(REQUEST_HEADER))
    assert header_only.status_code == 422 and "no data rows" in header_only.json()["errors"][0]["message"]
    assert count(api, VisitRequest) == 4
