"""The hours report (issue 17 item 4): what was granted, planned, delivered and is left in a period.

What a coordinator settling a month with the city needs, for dates ``from``..``to`` (inclusive, local):

* ``by=senior``: one row per senior, service and unit (hours or rides):
  - **granted** -- from the senior's decisions, pro rata by days (``entitlements.granted_in_period``);
  - **planned** -- the **published** rosters of the period (the current published version of each day
    and area): hours are the senior's on-site minutes of each stop (a two-person visit counts once),
    rides are days with a published ride stop (outbound + return on one day is one ride, domain.md 1.1);
  - **delivered** -- check-ins finished as ``delivered`` (``dispatch.planning.checkin``): hours are the
    **actual** minutes between start and finish (UTC instants: a DST day counts the hour it has or
    lacks), rides are days with a delivered ride stop;
  - **not_delivered** -- stops finished as absent or refused (counted, never paid as delivered);
  - **left** -- granted minus delivered (negative: delivered beyond the decisions).
  A senior and service appear when a decision is valid in the period, or something was planned or
  delivered.  The unit is the decisions' (both when a senior holds both); without a decision it is
  rides for services planned as rides, hours otherwise.
* ``by=service``: the same summed per service and unit, with the number of seniors.
* ``by=worker``: one row per worker: the contract, the **norm** for the period (``weekly_hours`` x
  days / 7, pro rata: a period of 31 days is 31/7 weeks), the **planned** hours on site and planned
  travel (published rosters), the **delivered** hours on site (actual, from check-ins) and the
  stops not delivered; ``delivered - norm`` as ``difference``.

Files: CSV for Polish Excel (``;``, UTF-8 with BOM, CRLF, decimal comma) or XLSX (numbers as
numbers), Polish headers, as the roster export (``dispatch.exchange.roster_export``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session, col

from dispatch.catalog.entitlements import granted_in_period
from dispatch.catalog.records import InvalidInput, err
from dispatch.domain import as_text
from dispatch.exchange.roster_export import safe_cell
from dispatch.planning import checkin
from dispatch.planning.publish import visit_leg
from dispatch.planning.ride_legs import is_ride_leg
from dispatch.storage import models as m
from dispatch.storage.care_models import Decision

BY = ("senior", "worker", "service")
MAX_DAYS = 366
HOURS, RIDES = "hours", "rides"


@dataclass(frozen=True)
class BudgetRow:
    """Granted, planned, delivered and left for one senior (or, by service, all seniors) and unit."""

    service: str
    unit: str
    granted: float
    planned: float
    delivered: float
    not_delivered: int
    left: float
    senior_id: str = ""
    senior_name: str = ""
    seniors: int = 1


@dataclass(frozen=True)
class WorkerRow:
    worker_id: str
    worker_name: str
    contract: str
    weekly_hours: float
    norm_hours: float
    planned_hours: float
    planned_travel_hours: float
    delivered_hours: float
    not_delivered: int
    difference: float
    """delivered - norm: negative, short of the norm."""


@dataclass(frozen=True)
class HoursReport:
    start: dt.date
    end: dt.date
    by: str
    rows: list[BudgetRow] | list[WorkerRow]

    def to_json(self) -> dict[str, Any]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "by": self.by,
                "days": (self.end - self.start).days + 1, "rows": [asdict(r) for r in self.rows]}


def check_period(start: dt.date, end: dt.date, by: str) -> None:
    """``to`` not before ``from``, at most :data:`MAX_DAYS` days, ``by`` one of :data:`BY` (422 naming which)."""
    if by not in BY:
        raise InvalidInput([err("by", f"'{by}' is not one of {', '.join(BY)}")])
    if end < start:
        raise InvalidInput([err("to", f"{end.isoformat()} is before from {start.isoformat()}")])
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidInput([err("to", f"at most {MAX_DAYS} days at a time")])


def _r(value: float) -> float:
    return round(value + 0.0, 2)


# --------------------------------------------------------------------------- what was planned and delivered


@dataclass(frozen=True)
class _PlannedStop:
    key: tuple[str, dt.date, str]
    worker_id: str
    senior_id: str
    service: str
    minutes: float
    travel_minutes: int
    ride: bool


def _planned(session: Session, start: dt.date, end: dt.date, zone: ZoneInfo) -> list[_PlannedStop]:
    """Every stop of the current published versions of the days ``start``..``end``, one per worker."""
    rows = session.execute(
        select(m.RosterAssignment, m.VisitRequest)
        .join(m.Roster, col(m.Roster.id) == col(m.RosterAssignment.roster_id))
        .join(m.VisitRequest, col(m.VisitRequest.id) == col(m.RosterAssignment.visit_request_id))
        .where(col(m.Roster.date) >= start, col(m.Roster.date) <= end,
               col(m.Roster.status) == m.RosterStatus.PUBLISHED)
    ).all()
    out = []
    for a, req in rows:
        leg = visit_leg(req, a.start, a.occurrence_date, zone, a.leg)
        out.append(_PlannedStop((req.id, a.occurrence_date, leg), a.worker_id, req.senior_id, as_text(req.service),
                                (a.end - a.start).total_seconds() / 60, a.travel_minutes, is_ride_leg(leg)))
    return out


def _checkins(session: Session, start: dt.date, end: dt.date) -> list[tuple[m.VisitCheckin, m.VisitRequest]]:
    rows = session.execute(
        select(m.VisitCheckin, m.VisitRequest)
        .join(m.VisitRequest, col(m.VisitRequest.id) == col(m.VisitCheckin.visit_request_id))
        .where(col(m.VisitCheckin.occurrence_date) >= start, col(m.VisitCheckin.occurrence_date) <= end,
               col(m.VisitCheckin.finished_at).is_not(None))
    ).all()
    return [(c, r) for c, r in rows]


def _actual_minutes(c: m.VisitCheckin) -> float:
    assert c.finished_at is not None
    return (c.finished_at - c.started_at).total_seconds() / 60


# --------------------------------------------------------------------------- by senior / service


def by_senior(session: Session, start: dt.date, end: dt.date, tz: str) -> list[BudgetRow]:
    zone = ZoneInfo(tz)
    SeniorService = tuple[str, str]
    planned_min: dict[SeniorService, dict[tuple[str, dt.date, str], float]] = defaultdict(dict)
    planned_days: dict[SeniorService, set[dt.date]] = defaultdict(set)
    rides_planned: set[SeniorService] = set()
    for s in _planned(session, start, end, zone):
        pair = (s.senior_id, s.service)
        if s.ride:
            planned_days[pair].add(s.key[1])
            rides_planned.add(pair)
        else:  # a two-person visit: the senior's minutes once (the longest, should the workers' differ)
            planned_min[pair][s.key] = max(planned_min[pair].get(s.key, 0.0), s.minutes)
    delivered_min: dict[SeniorService, dict[tuple[str, dt.date, str], float]] = defaultdict(dict)
    delivered_days: dict[SeniorService, set[dt.date]] = defaultdict(set)
    not_delivered: dict[SeniorService, set[tuple[str, dt.date, str]]] = defaultdict(set)
    for c, req in _checkins(session, start, end):
        pair, key = (req.senior_id, as_text(req.service)), (req.id, c.occurrence_date, c.leg)
        if c.outcome != checkin.DELIVERED:
            not_delivered[pair].add(key)
        elif is_ride_leg(c.leg):
            delivered_days[pair].add(c.occurrence_date)
            rides_planned.add(pair)
        else:
            delivered_min[pair][key] = max(delivered_min[pair].get(key, 0.0), _actual_minutes(c))
    decisions = session.scalars(select(Decision).where(col(Decision.valid_from) <= end,
                                                       col(Decision.valid_to) >= start)).all()
    units: dict[SeniorService, set[str]] = defaultdict(set)
    for d in decisions:
        units[(d.senior_id, as_text(d.service))].add(as_text(d.unit))
    pairs = set(units) | set(planned_min) | set(planned_days) | set(delivered_min) | set(delivered_days) | set(not_delivered)
    seniors = {s.id: f"{s.first_name} {s.last_name}" for s in session.scalars(
        select(m.Senior).where(col(m.Senior.id).in_({p[0] for p in pairs} or {""}))).all()}
    rows = []
    for pair in sorted(pairs):
        senior_id, service = pair
        granted = granted_in_period(session, senior_id, service, start, end)
        for unit in sorted(units.get(pair) or {RIDES if pair in rides_planned else HOURS}):
            if unit == HOURS:
                g = granted.hours
                p = sum(planned_min[pair].values()) / 60
                dl = sum(delivered_min[pair].values()) / 60
            else:
                g, p, dl = granted.rides, float(len(planned_days[pair])), float(len(delivered_days[pair]))
            rows.append(BudgetRow(service, unit, _r(g), _r(p), _r(dl), len(not_delivered[pair]), _r(g - dl),
                                  senior_id, seniors.get(senior_id, senior_id)))
    return rows


def by_service(rows: list[BudgetRow]) -> list[BudgetRow]:
    """The senior rows summed per service and unit (``seniors``: how many)."""
    groups: dict[tuple[str, str], list[BudgetRow]] = defaultdict(list)
    for r in rows:
        groups[(r.service, r.unit)].append(r)
    return [BudgetRow(service, unit, _r(sum(r.granted for r in g)), _r(sum(r.planned for r in g)),
                      _r(sum(r.delivered for r in g)), sum(r.not_delivered for r in g), _r(sum(r.left for r in g)),
                      seniors=len(g))
            for (service, unit), g in sorted(groups.items())]


# --------------------------------------------------------------------------- by worker


def by_worker(session: Session, start: dt.date, end: dt.date, tz: str) -> list[WorkerRow]:
    zone = ZoneInfo(tz)
    weeks = ((end - start).days + 1) / 7
    planned: dict[str, float] = defaultdict(float)
    travel: dict[str, float] = defaultdict(float)
    for s in _planned(session, start, end, zone):
        planned[s.worker_id] += s.minutes
        travel[s.worker_id] += s.travel_minutes
    delivered: dict[str, float] = defaultdict(float)
    missed: dict[str, int] = defaultdict(int)
    for c, _ in _checkins(session, start, end):
        if c.outcome == checkin.DELIVERED:
            delivered[c.worker_id] += _actual_minutes(c)
        else:
            missed[c.worker_id] += 1
    rows = []
    for w in session.scalars(select(m.Worker).order_by(col(m.Worker.id))).all():
        norm = w.weekly_hours * weeks
        rows.append(WorkerRow(w.id, f"{w.first_name} {w.last_name}", as_text(w.contract), w.weekly_hours, _r(norm),
                              _r(planned[w.id] / 60), _r(travel[w.id] / 60), _r(delivered[w.id] / 60),
                              missed[w.id], _r(delivered[w.id] / 60 - norm)))
    return rows


def hours_report(session: Session, start: dt.date, end: dt.date, by: str, tz: str) -> HoursReport:
    """The report of ``start``..``end`` (inclusive) ``by`` senior, service or worker (see the module docstring)."""
    check_period(start, end, by)
    if by == "worker":
        return HoursReport(start, end, by, by_worker(session, start, end, tz))
    rows = by_senior(session, start, end, tz)
    return HoursReport(start, end, by, rows if by == "senior" else by_service(rows))


# --------------------------------------------------------------------------- files

HEADERS: dict[str, list[tuple[str, str]]] = {
    "senior": [("senior_id", "ID seniora"), ("senior_name", "Senior"), ("service", "Usługa"), ("unit", "Jednostka"),
               ("granted", "Przyznane"), ("planned", "Zaplanowane"), ("delivered", "Zrealizowane"),
               ("not_delivered", "Niezrealizowane wizyty"), ("left", "Pozostało")],
    "service": [("service", "Usługa"), ("unit", "Jednostka"), ("seniors", "Seniorów"), ("granted", "Przyznane"),
                ("planned", "Zaplanowane"), ("delivered", "Zrealizowane"),
                ("not_delivered", "Niezrealizowane wizyty"), ("left", "Pozostało")],
    "worker": [("worker_id", "ID pracownika"), ("worker_name", "Pracownik"), ("contract", "Umowa"),
               ("weekly_hours", "Godziny tygodniowo"), ("norm_hours", "Norma (h)"),
               ("planned_hours", "Zaplanowane u seniorów (h)"), ("planned_travel_hours", "Zaplanowane dojazdy (h)"),
               ("delivered_hours", "Zrealizowane (h)"), ("not_delivered", "Niezrealizowane wizyty"),
               ("difference", "Zrealizowane - norma (h)")],
}
UNITS_PL = {HOURS: "godziny", RIDES: "przejazdy"}


def table(report: HoursReport) -> tuple[list[str], list[list[Any]]]:
    """Polish headers and the rows' cells (numbers as numbers, text made safe for spreadsheets)."""
    columns = HEADERS[report.by]
    rows = []
    for r in report.rows:
        data = asdict(r)
        cells = [UNITS_PL.get(data[k], data[k]) if k == "unit" else data[k] for k, _ in columns]
        rows.append([safe_cell(c) for c in cells])
    return [h for _, h in columns], rows


def _csv_cell(value: Any) -> Any:
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")  # Polish Excel reads 1,5 as a number, 1.5 as a date or text
    return value


def to_csv(report: HoursReport) -> bytes:
    headers, rows = table(report)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(headers)
    writer.writerows([[_csv_cell(c) for c in row] for row in rows])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(report: HoursReport) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    headers, rows = table(report)
    wb = Workbook()
    ws = wb.active
    ws.title = "Godziny"
    ws.append(headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(row)
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def filename(report: HoursReport, extension: str) -> str:
    return f"godziny-{report.by}-{report.start.isoformat()}-{report.end.isoformat()}.{extension}"
