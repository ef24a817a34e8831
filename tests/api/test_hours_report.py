"""The hours report (issue 17 item 4) on a hand-made week crossing New Year and two DST days, on SQLite and
PostgreSQL: numbers worked out by hand below, JSON, CSV for Polish Excel and XLSX, roles, bad input.

The week 2026-12-28 .. 2027-01-03 (7 days):

* decisions: S1 home care 31 h a month (from 2026-12-01) -> 4/31 x 31 + 3/31 x 31 = 7 h granted;
  S1 taxi 4 rides a month -> 4 x 4/31 + 4 x 3/31 = 0.903 rides;  S2 has none;
* published: R1 (S1, W1) 08:00-09:00 on 12-29, 12-31 and 01-02; R2 (S2, W2) 09:00-09:45 on 12-31; R4 (S1
  taxi, W3) pickup and drop-off (5 min each) on 12-31.  Not counted: a superseded version of 12-30 and a
  draft of 01-01 (never told to workers), and 01-04 (after the period);
* checked: R1 12-29 08:05-09:15 delivered (70 min), R1 12-31 absent, R1 01-02 08:00-08:50 delivered
  (50 min); R2 12-31 09:00-09:40 delivered (40 min); R4 pickup delivered (one ride).
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from sqlmodel import Session

from dispatch.storage.care_models import BudgetPeriod, BudgetUnit, Decision
from dispatch.storage import models as m
from tests.api.test_checkins import finish, roster, start, uid, utc
from tests.api.test_rosters import PROBLEM
from tests.api.test_schedule import add_user

URL = "/api/v1/reports/hours"
D = dt.date


def decision(api, did: str, service: str, unit: BudgetUnit, amount: float) -> None:
    with Session(api.engine) as s:
        s.add(Decision(id=did, senior_id="S1", service=service, reference=f"MOPR-{did}", unit=unit, amount=amount,
                       period=BudgetPeriod.MONTH, valid_from=D(2026, 12, 1), valid_to=D(2027, 12, 31), note=""))
        s.commit()


def new_year_week(api) -> None:
    decision(api, "d-00001", "home_care", BudgetUnit.HOURS, 31)
    decision(api, "d-00002", "taxi", BudgetUnit.RIDES, 4)
    for day in (D(2026, 12, 29), D(2027, 1, 2), D(2027, 1, 4)):
        roster(api, day, [("W1", "R1", dt.datetime.combine(day, dt.time(7), dt.UTC), 60, "visit")])
    roster(api, D(2026, 12, 31), [("W1", "R1", utc(2026, 12, 31, 7), 60, "visit"),
                                  ("W2", "R2", utc(2026, 12, 31, 8), 45, "visit"),
                                  ("W3", "R4", utc(2026, 12, 31, 8, 30), 5, "pickup"),
                                  ("W3", "R4", utc(2026, 12, 31, 8, 50), 5, "dropoff")])
    roster(api, D(2026, 12, 30), [("W1", "R1", utc(2026, 12, 30, 7), 60, "visit")], status=m.RosterStatus.SUPERSEDED)
    roster(api, D(2027, 1, 1), [("W1", "R1", utc(2027, 1, 1, 7), 60, "visit")], status=m.RosterStatus.DRAFT)
    api.set_now(utc(2027, 1, 5, 12))
    add_user(api, "driver", "W3")
    done = [
        start(api, "worker", uid("R1", D(2026, 12, 29), "W1"), at="2026-12-29T08:05"),
        finish(api, "worker", uid("R1", D(2026, 12, 29), "W1"), at="2026-12-29T09:15"),
        finish(api, "worker", uid("R1", D(2026, 12, 31), "W1"), at="2026-12-31T08:00", outcome="absent"),
        start(api, "worker", uid("R1", D(2027, 1, 2), "W1"), at="2027-01-02T08:00"),
        finish(api, "worker", uid("R1", D(2027, 1, 2), "W1"), at="2027-01-02T08:50"),
        start(api, "worker2", uid("R2", D(2026, 12, 31), "W2"), at="2026-12-31T09:00"),
        finish(api, "worker2", uid("R2", D(2026, 12, 31), "W2"), at="2026-12-31T09:40"),
        start(api, "driver", uid("R4", D(2026, 12, 31), "W3", "pickup"), at="2026-12-31T09:30"),
        finish(api, "driver", uid("R4", D(2026, 12, 31), "W3", "pickup"), at="2026-12-31T09:36"),
    ]
    assert all(r.status_code == 200 for r in done), [r.text for r in done if r.status_code != 200]


def report(api, by: str, frm: str = "2026-12-28", to: str = "2027-01-03", user: str = "coordinator", **extra):
    return api.client.get(URL, params={"from": frm, "to": to, "by": by, **extra}, headers=api.auth(user))


def test_by_senior_over_new_year_granted_planned_delivered_left(api) -> None:
    new_year_week(api)
    r = report(api, "senior")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["from"], body["to"], body["days"]) == ("2026-12-28", "2027-01-03", 7)
    rows = {(x["senior_id"], x["service"], x["unit"]): x for x in body["rows"]}
    assert set(rows) == {("S1", "home_care", "hours"), ("S1", "taxi", "rides"), ("S2", "home_care", "hours")}
    s1 = rows[("S1", "home_care", "hours")]
    assert (s1["granted"], s1["planned"], s1["delivered"], s1["not_delivered"], s1["left"]) == (7.0, 3.0, 2.0, 1, 5.0)
    taxi = rows[("S1", "taxi", "rides")]
    assert (taxi["granted"], taxi["planned"], taxi["delivered"], taxi["left"]) == (0.9, 1.0, 1.0, -0.1)
    s2 = rows[("S2", "home_care", "hours")]
    assert (s2["granted"], s2["planned"], s2["delivered"], s2["left"]) == (0.0, 0.75, 0.67, -0.67)
    assert s1["senior_name"] == "Halina Zając"


def test_by_service_and_by_worker_against_the_norm(api) -> None:
    new_year_week(api)
    rows = {(x["service"], x["unit"]): x for x in report(api, "service", user="dispatcher").json()["rows"]}
    care = rows[("home_care", "hours")]
    assert (care["seniors"], care["granted"], care["planned"], care["delivered"], care["left"]) == (2, 7.0, 3.75, 2.67, 4.33)
    assert rows[("taxi", "rides")]["seniors"] == 1
    workers = {x["worker_id"]: x for x in report(api, "worker").json()["rows"]}
    w1 = workers["W1"]
    assert (w1["norm_hours"], w1["planned_hours"], w1["delivered_hours"], w1["not_delivered"], w1["difference"]) == (
        40.0, 3.0, 2.0, 1, -38.0)
    assert w1["contract"] == "etat_podstawowy" and w1["weekly_hours"] == 40
    assert (workers["W2"]["planned_hours"], workers["W2"]["delivered_hours"]) == (0.75, 0.67)
    assert (workers["W3"]["planned_hours"], workers["W3"]["delivered_hours"]) == (0.17, 0.1)
    one_day = {x["worker_id"]: x for x in report(api, "worker", "2026-12-31", "2026-12-31").json()["rows"]}
    assert one_day["W1"]["norm_hours"] == 5.71  # 40 h a week, pro rata: 40 / 7


def test_dst_days_count_the_hours_they_really_have(api) -> None:
    """2026-10-25 (25 h): W2 01:30-03:30 local is 3 h; 2027-03-28 (23 h): W1 01:30-03:30 local is 1 h."""
    roster(api, D(2026, 10, 25), [("W2", "R2", utc(2026, 10, 24, 23, 30), 180, "visit")])
    roster(api, D(2027, 3, 28), [("W1", "R1", utc(2027, 3, 28, 0, 30), 60, "visit")])
    api.set_now(utc(2027, 4, 1, 12))
    for user, worker, request, day in (("worker2", "W2", "R2", D(2026, 10, 25)), ("worker", "W1", "R1", D(2027, 3, 28))):
        assert start(api, user, uid(request, day, worker), at=f"{day}T01:30").status_code == 200
        r = finish(api, user, uid(request, day, worker), at=f"{day}T03:30")
        assert r.status_code == 200, r.text
    autumn = {x["worker_id"]: x for x in report(api, "worker", "2026-10-25", "2026-10-25").json()["rows"]}
    assert (autumn["W2"]["planned_hours"], autumn["W2"]["delivered_hours"]) == (3.0, 3.0)
    spring = {x["senior_id"]: x for x in report(api, "senior", "2027-03-28", "2027-03-28").json()["rows"]}
    assert (spring["S1"]["planned"], spring["S1"]["delivered"]) == (1.0, 1.0)


def test_csv_for_polish_excel_and_xlsx(api) -> None:
    new_year_week(api)
    r = report(api, "senior", format="csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="godziny-senior-2026-12-28-2027-01-03.csv"' in r.headers["content-disposition"]
    assert r.content.startswith(b"\xef\xbb\xbf") and b"\r\n" in r.content
    lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert lines[0] == ["ID seniora", "Senior", "Usługa", "Jednostka", "Przyznane", "Zaplanowane", "Zrealizowane",
                        "Niezrealizowane wizyty", "Pozostało"]
    by_key = {(row[0], row[2]): row for row in lines[1:]}
    assert by_key[("S1", "home_care")][3:] == ["godziny", "7", "3", "2", "1", "5"]
    assert by_key[("S2", "home_care")][4:] == ["0", "0,75", "0,67", "0", "-0,67"]  # decimal comma

    from openpyxl import load_workbook

    x = report(api, "worker", format="xlsx")
    assert x.status_code == 200 and x.headers["content-type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(x.content)).active
    assert ws.title == "Godziny" and ws["A1"].value == "ID pracownika" and ws["E1"].value == "Norma (h)"
    rows = {row[0]: row for row in ws.iter_rows(min_row=2, values_only=True)}
    assert rows["W1"][4] == 40 and rows["W1"][7] == 2 and rows["W2"][7] == 0.67  # numbers, not text


def test_workers_may_not_read_it_and_bad_periods_are_422(api) -> None:
    assert report(api, "senior", user="worker").status_code == 403
    for frm, to, by, field in (("2027-01-03", "2026-12-28", "senior", "to"), ("2026-01-01", "2027-01-02", "senior", "to"),
                               ("2026-12-28", "2027-01-03", "car", "by")):
        r = report(api, by, frm, to)
        assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM), (frm, to, by)
        assert any(e["field"].endswith(field) for e in r.json()["errors"]), r.json()
