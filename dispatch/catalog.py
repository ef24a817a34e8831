"""Use cases for the people and things the planner works with: seniors, workers (with their
weekly shifts and absences) and cars.

Every write here validates the whole record, flushes (so a constraint or a duplicate fails
inside the call, not at commit), and leaves an audit row in the same transaction.  The caller
owns the transaction (the API's per-request session, or the CLI's ``session_scope``).

Errors are ``UserError`` subclasses a caller can turn into a message or an HTTP answer:

* ``NotFound`` -- the id does not exist;
* ``Conflict`` -- a duplicate, or a delete that would break history;
* ``InvalidInput`` -- one or more ``{"field", "message"}`` errors, all of them at once.

Health data (``Senior.health_notes``, RODO art. 9) never enters the audit log: a change to it
is recorded as ``"[redacted]"`` old/new, so the log proves *that* it changed, not *what* it says.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col

from dispatch import audit
from dispatch import models as m
from dispatch.errors import UserError
from fixtures.scenario import Contract, Disability, ServiceCode, TravelMode, WorkerKind

# --------------------------------------------------------------------------- errors


class FieldError(TypedDict, total=False):
    """One problem with one field (imports add the spreadsheet ``row``)."""

    row: int
    field: str
    message: str


class NotFound(UserError):
    """No record with this id."""

    def __init__(self, entity: str, entity_id: object) -> None:
        super().__init__(f"{entity} {entity_id!r} does not exist")
        self.entity = entity
        self.entity_id = entity_id


class Conflict(UserError):
    """The write clashes with existing data (duplicate id or plate, references that must stay)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidInput(UserError):
    """The input breaks one or more rules; ``errors`` lists every one found, not just the first."""

    slug = "validation-error"
    title = "Invalid input"

    def __init__(self, errors: list[FieldError], message: str | None = None) -> None:
        first = errors[0] if errors else {"field": "", "message": "invalid input"}
        super().__init__(message or f"{first.get('field', '')}: {first.get('message', '')}")
        self.errors = errors


def err(field_name: str, message: str) -> FieldError:
    return {"field": field_name, "message": message}


# --------------------------------------------------------------------------- shared helpers

#: Ids a person types or reads: letters, digits, ``-``, ``_``, ``.``; 1-32 characters.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$"
_ID_RE = re.compile(ID_PATTERN)
REDACTED = "[redacted]"
#: Fields whose content never goes into the audit log.
SENSITIVE_FIELDS = frozenset({"health_notes"})
GENDERS = ("F", "M")
MAX_WORK_MINUTES_PER_DAY = 13 * 60  # 11 h daily rest (art. 132 KP) leaves at most 13 h per doba


@dataclass(frozen=True)
class IdScheme:
    """How new ids of one entity look: ``prefix`` + zero-padded serial (as the fixture generator)."""

    prefix: str
    width: int

    def allocate(self, session: Session, model: type[SQLModel], count: int = 1) -> list[str]:
        """``count`` fresh ids after the highest serial already stored with this prefix.

        Two writers racing for the same id make the second flush fail; ``flush`` turns that
        into a ``Conflict`` the client can simply retry.
        """
        id_col = col(model.id)  # type: ignore[attr-defined]
        taken = session.scalars(select(id_col).where(id_col.like(f"{self.prefix}%"))).all()
        tails = (t[len(self.prefix):] for t in taken)
        top = max((int(t) for t in tails if t.isdigit()), default=0)
        return [f"{self.prefix}{n:0{self.width}d}" for n in range(top + 1, top + 1 + count)]


SENIOR_IDS = IdScheme("s-", 5)
WORKER_IDS = IdScheme("w-", 5)
CAR_IDS = IdScheme("car-", 4)


def check_id(value: str | None, errors: list[FieldError], field_name: str = "id") -> None:
    if value is not None and not _ID_RE.match(value):
        errors.append(err(field_name, f"{value!r} is not a valid id: 1-32 letters, digits, '-', '_' or '.'"))


def snapshot(row: SQLModel) -> dict[str, Any]:
    """The row's column values as plain JSON data (enums by value, times as ISO text)."""
    return row.model_dump(mode="json")


def redact(changes: dict[str, Any]) -> dict[str, Any]:
    """``changes`` with the content of sensitive fields replaced by ``"[redacted]"``."""
    out = dict(changes)
    for name in SENSITIVE_FIELDS & out.keys():
        value = out[name]
        if isinstance(value, dict) and set(value) == {"old", "new"}:
            out[name] = {"old": REDACTED if value["old"] else "", "new": REDACTED if value["new"] else ""}
        elif value:
            out[name] = REDACTED
    return out


def created_changes(row: SQLModel, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Audit ``changes`` for a new record: every field as ``{"old": None, "new": value}``."""
    values = snapshot(row) | dict(extra or {})
    return redact(audit.diff({}, values))


def flush(session: Session, what: str) -> None:
    """Flush, turning a unique or foreign-key violation that slipped past the checks into ``Conflict``."""
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(f"{what} clashes with data written at the same time; reload and try again") from exc


def null_errors(model: type[SQLModel], changes: Mapping[str, Any]) -> list[FieldError]:
    """Errors for ``None`` given to columns that cannot be empty (a PATCH with ``null``)."""
    table = model.__table__  # type: ignore[attr-defined]
    return [
        err(name, "may not be null")
        for name, value in changes.items()
        if value is None and name in table.c and not table.c[name].nullable
    ]


def _known(session: Session, model: type[SQLModel], key: object) -> bool:
    return key is not None and session.get(model, key) is not None


def name_prefix_filter(columns: Iterable[Any], prefix: str) -> Any:
    """Rows where any of ``columns`` starts with ``prefix``, ignoring case, Polish letters included.

    SQLite's ``LIKE``/``lower()`` fold ASCII only and PostgreSQL's ``LIKE`` folds nothing, so the
    prefix is tried as typed, lower-case, upper-case and capitalised ("żak" finds "Żak").
    """
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    variants = {escaped, escaped.lower(), escaped.upper(), escaped.capitalize(), escaped.title()}
    return or_(*(c.like(f"{v}%", escape="\\") for c in columns for v in sorted(variants)))


# --------------------------------------------------------------------------- seniors


def validate_senior(session: Session, data: Mapping[str, Any]) -> list[FieldError]:
    """Every rule a senior record must satisfy (``data`` is the whole record, typed)."""
    errors: list[FieldError] = []
    if data.get("gender") not in GENDERS:
        errors.append(err("gender", "must be 'F' or 'M'"))
    if data.get("preferred_gender") not in (None, *GENDERS):
        errors.append(err("preferred_gender", "must be 'F', 'M' or empty"))
    year = data.get("birth_year")
    this_year = dt.date.today().year
    if not isinstance(year, int) or not 1900 <= year <= this_year:
        errors.append(err("birth_year", f"must be a year between 1900 and {this_year}"))
    _check_coordinates(data, "lat", "lon", errors)
    if not _known(session, m.Place, data.get("area")):
        errors.append(err("area", f"unknown place {data.get('area')!r}"))
    try:
        Disability(data.get("disability"))
    except ValueError:
        errors.append(err("disability", f"must be one of {', '.join(d.value for d in Disability)}"))
    for need in data.get("needs") or []:
        if need not in {s.value for s in ServiceCode}:
            errors.append(err("needs", f"unknown service {need!r}"))
    regular = list(data.get("regular_workers") or [])
    forbidden = list(data.get("forbidden_workers") or [])
    for name, ids in (("regular_workers", regular), ("forbidden_workers", forbidden)):
        unknown = [w for w in ids if not _known(session, m.Worker, w)]
        if unknown:
            errors.append(err(name, f"unknown worker(s) {', '.join(map(repr, unknown))}"))
    both = sorted(set(regular) & set(forbidden))
    if both:
        errors.append(err("forbidden_workers", f"worker(s) {', '.join(both)} cannot be both regular and forbidden"))
    return errors


def _check_coordinates(data: Mapping[str, Any], lat: str, lon: str, errors: list[FieldError]) -> None:
    if not isinstance(data.get(lat), int | float) or not -90 <= data[lat] <= 90:
        errors.append(err(lat, "must be a latitude between -90 and 90"))
    if not isinstance(data.get(lon), int | float) or not -180 <= data[lon] <= 180:
        errors.append(err(lon, "must be a longitude between -180 and 180"))


def _senior_values(data: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(data)
    for name in ("needs", "regular_workers", "forbidden_workers"):
        if name in out and out[name] is not None:
            out[name] = [str(getattr(v, "value", v)) for v in out[name]]
    return out


def get_senior(session: Session, senior_id: str) -> m.Senior:
    row = session.get(m.Senior, senior_id)
    if row is None:
        raise NotFound("senior", senior_id)
    return row


def read_senior_health(session: Session, actor: str, senior_id: str) -> m.Senior:
    """The senior including health notes; the read itself is audited (``senior.read_health``)."""
    row = get_senior(session, senior_id)
    audit.record(session, actor, "senior.read_health", "senior", senior_id)
    return row


def create_senior(session: Session, actor: str, data: Mapping[str, Any]) -> m.Senior:
    values = _senior_values(data)
    senior_id = values.pop("id", None)
    errors: list[FieldError] = []
    check_id(senior_id, errors)
    errors += validate_senior(session, values)
    if errors:
        raise InvalidInput(errors)
    if senior_id is not None and session.get(m.Senior, senior_id) is not None:
        raise Conflict(f"senior {senior_id!r} already exists", "id")
    senior_id = senior_id or SENIOR_IDS.allocate(session, m.Senior)[0]
    row = m.Senior(id=senior_id, **values)
    session.add(row)
    flush(session, f"senior {senior_id!r}")
    audit.record(session, actor, "senior.create", "senior", senior_id, created_changes(row))
    return row


def update_senior(session: Session, actor: str, senior_id: str, changes: Mapping[str, Any]) -> m.Senior:
    row = get_senior(session, senior_id)
    values = _senior_values(changes)
    errors = null_errors(m.Senior, values)
    if errors:
        raise InvalidInput(errors)
    before = snapshot(row)
    merged = {k: getattr(row, k) for k in m.SeniorBase.model_fields} | values
    errors = validate_senior(session, merged)
    if errors:
        raise InvalidInput(errors)
    for name, value in values.items():
        setattr(row, name, value)
    flush(session, f"senior {senior_id!r}")
    changed = audit.diff(before, snapshot(row))
    if changed:
        audit.record(session, actor, "senior.update", "senior", senior_id, redact(changed))
    return row


def delete_senior(session: Session, actor: str, senior_id: str) -> None:
    """Delete a senior who has no visit requests (requests, even cancelled ones, are history)."""
    row = get_senior(session, senior_id)
    n = session.scalar(select(func.count()).select_from(m.VisitRequest).where(col(m.VisitRequest.senior_id) == senior_id))
    if n:
        raise Conflict(
            f"senior {senior_id!r} has {n} visit request(s), which are kept as history; "
            "cancel the requests instead of deleting the senior"
        )
    session.delete(row)
    flush(session, f"senior {senior_id!r}")
    audit.record(session, actor, "senior.delete", "senior", senior_id)


def senior_query(area: str | None = None, name: str | None = None) -> Select[Any]:
    """Seniors, optionally in one area and/or whose first or last name starts with ``name``."""
    stmt = select(m.Senior)
    if area:
        stmt = stmt.where(col(m.Senior.area) == area)
    if name:
        stmt = stmt.where(name_prefix_filter((col(m.Senior.last_name), col(m.Senior.first_name)), name))
    return stmt


# --------------------------------------------------------------------------- workers


def validate_shifts(shifts: Iterable[Mapping[str, Any]], field_name: str = "shifts") -> list[FieldError]:
    """Weekdays 0-6, end after start, no two shifts of one weekday overlapping."""
    errors: list[FieldError] = []
    by_day: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for i, s in enumerate(shifts):
        where = f"{field_name}.{i}"
        weekday, start, end = s.get("weekday"), s.get("start"), s.get("end")
        if not isinstance(weekday, int) or not 0 <= weekday <= 6:
            errors.append(err(f"{where}.weekday", "must be 0 (Monday) to 6 (Sunday)"))
            continue
        if not isinstance(start, dt.time) or not isinstance(end, dt.time):
            errors.append(err(where, "start and end must be times"))
            continue
        if end <= start:
            errors.append(err(f"{where}.end", f"shift end {end:%H:%M} is not after its start {start:%H:%M}"))
            continue
        for other_start, other_end in by_day.get(weekday, []):
            if start < other_end and other_start < end:
                errors.append(err(where, f"overlaps the shift {other_start:%H:%M}-{other_end:%H:%M} on the same weekday"))
        by_day.setdefault(weekday, []).append((start, end))
    return errors


def validate_worker(session: Session, data: Mapping[str, Any]) -> list[FieldError]:
    """Every rule a worker record must satisfy (``data`` is the whole record, typed, with shifts)."""
    errors: list[FieldError] = []
    for name in ("first_name", "last_name"):
        if not str(data.get(name) or "").strip():
            errors.append(err(name, "must not be empty"))
    if data.get("gender") not in GENDERS:
        errors.append(err("gender", "must be 'F' or 'M'"))
    for name, enum in (("kind", WorkerKind), ("contract", Contract), ("travel_mode", TravelMode)):
        try:
            enum(data.get(name))
        except ValueError:
            errors.append(err(name, f"must be one of {', '.join(e.value for e in enum)}"))
    hours = data.get("weekly_hours")
    if not isinstance(hours, int | float) or not 0 <= hours <= 60:
        errors.append(err("weekly_hours", "must be between 0 and 60 hours"))
    minutes = data.get("max_daily_minutes", 480)
    if not isinstance(minutes, int) or not 1 <= minutes <= MAX_WORK_MINUTES_PER_DAY:
        errors.append(err("max_daily_minutes", f"must be 1 to {MAX_WORK_MINUTES_PER_DAY} (13 h, art. 132 KP)"))
    _check_coordinates(data, "home_lat", "home_lon", errors)
    if not _known(session, m.Place, data.get("home_area")):
        errors.append(err("home_area", f"unknown place {data.get('home_area')!r}"))
    car = data.get("car_id")
    if car is not None and not _known(session, m.Car, car):
        errors.append(err("car_id", f"unknown car {car!r}"))
    for skill in data.get("skills") or []:
        if not isinstance(skill, str) or not skill.strip():
            errors.append(err("skills", "skills must be non-empty names"))
            break
    errors += validate_shifts(data.get("shifts") or [])
    return errors


def _shift_rows(worker_id: str, shifts: Iterable[Mapping[str, Any]]) -> list[m.WorkerShift]:
    """Shift rows in the order the relationship loads them (weekday, start)."""
    ordered = sorted(shifts, key=lambda s: (s["weekday"], s["start"]))
    return [m.WorkerShift(worker_id=worker_id, weekday=s["weekday"], start=s["start"], end=s["end"]) for s in ordered]


def _shifts_json(row: m.Worker) -> list[dict[str, Any]]:
    return [{"weekday": s.weekday, "start": s.start.isoformat(), "end": s.end.isoformat()} for s in row.shifts]


def get_worker(session: Session, worker_id: str) -> m.Worker:
    row = session.get(m.Worker, worker_id)
    if row is None:
        raise NotFound("worker", worker_id)
    return row


def new_worker(session: Session, worker_id: str, data: Mapping[str, Any]) -> m.Worker:
    """Build (not add) a worker row with its shifts from validated ``data``."""
    values = dict(data)
    shifts = values.pop("shifts", None) or []
    values["skills"] = list(values.get("skills") or [])
    return m.Worker(id=worker_id, shifts=_shift_rows(worker_id, shifts), **values)


def create_worker(session: Session, actor: str, data: Mapping[str, Any], *, source: str | None = None) -> m.Worker:
    values = dict(data)
    worker_id = values.pop("id", None)
    errors: list[FieldError] = []
    check_id(worker_id, errors)
    errors += validate_worker(session, values)
    if errors:
        raise InvalidInput(errors)
    if worker_id is not None and session.get(m.Worker, worker_id) is not None:
        raise Conflict(f"worker {worker_id!r} already exists", "id")
    worker_id = worker_id or WORKER_IDS.allocate(session, m.Worker)[0]
    row = new_worker(session, worker_id, values)
    session.add(row)
    flush(session, f"worker {worker_id!r}")
    record_worker_created(session, actor, row, source)
    return row


def record_worker_created(session: Session, actor: str, row: m.Worker, source: str | None = None) -> None:
    extra: dict[str, Any] = {"shifts": _shifts_json(row)}
    if source:
        extra["source"] = source
    audit.record(session, actor, "worker.create", "worker", row.id, created_changes(row, extra))


def update_worker(session: Session, actor: str, worker_id: str, changes: Mapping[str, Any]) -> m.Worker:
    """Change a worker; ``shifts``, when given, replaces the whole weekly pattern."""
    row = get_worker(session, worker_id)
    values = dict(changes)
    errors = null_errors(m.Worker, {k: v for k, v in values.items() if k != "shifts"})
    if "shifts" in values and values["shifts"] is None:
        errors.append(err("shifts", "may not be null (send [] for no shifts)"))
    if errors:
        raise InvalidInput(errors)
    before = snapshot(row) | {"shifts": _shifts_json(row)}
    current = {k: getattr(row, k) for k in m.WorkerBase.model_fields}
    current["shifts"] = [{"weekday": s.weekday, "start": s.start, "end": s.end} for s in row.shifts]
    errors = validate_worker(session, current | values)
    if errors:
        raise InvalidInput(errors)
    shifts = values.pop("shifts", None)
    for name, value in values.items():
        setattr(row, name, list(value) if name == "skills" else value)
    if shifts is not None:
        row.shifts = _shift_rows(worker_id, shifts)
    flush(session, f"worker {worker_id!r}")
    changed = audit.diff(before, snapshot(row) | {"shifts": _shifts_json(row)})
    if changed:
        audit.record(session, actor, "worker.update", "worker", worker_id, changed)
    return row


def delete_worker(session: Session, actor: str, worker_id: str) -> None:
    """Delete a worker nobody refers to (rosters, seniors' preferences, a user account)."""
    row = get_worker(session, worker_id)
    reasons: list[str] = []
    planned = session.scalar(
        select(func.count()).select_from(m.RosterAssignment).where(col(m.RosterAssignment.worker_id) == worker_id)
    )
    if planned:
        reasons.append(f"{planned} planned visit(s) in rosters")
    users = session.scalars(select(m.User.username).where(col(m.User.worker_id) == worker_id)).all()
    if users:
        reasons.append(f"the user account(s) {', '.join(users)}")
    seniors = [
        s.id for s in session.scalars(select(m.Senior)).all()
        if worker_id in (s.regular_workers or []) or worker_id in (s.forbidden_workers or [])
    ]
    if seniors:
        reasons.append(f"the regular/forbidden workers of senior(s) {', '.join(seniors[:10])}")
    if reasons:
        raise Conflict(f"worker {worker_id!r} is referred to by {'; '.join(reasons)}: remove those first")
    session.delete(row)
    flush(session, f"worker {worker_id!r}")
    audit.record(session, actor, "worker.delete", "worker", worker_id)


def worker_query(kind: WorkerKind | None = None, home_area: str | None = None, name: str | None = None) -> Select[Any]:
    stmt = select(m.Worker)
    if kind is not None:
        stmt = stmt.where(col(m.Worker.kind) == kind)
    if home_area:
        stmt = stmt.where(col(m.Worker.home_area) == home_area)
    if name:
        stmt = stmt.where(name_prefix_filter((col(m.Worker.last_name), col(m.Worker.first_name)), name))
    return stmt


# --------------------------------------------------------------------------- absences


def list_absences(session: Session, worker_id: str) -> list[m.WorkerAbsence]:
    get_worker(session, worker_id)
    stmt = (
        select(m.WorkerAbsence)
        .where(col(m.WorkerAbsence.worker_id) == worker_id)
        .order_by(col(m.WorkerAbsence.from_date), col(m.WorkerAbsence.id))
    )
    return list(session.scalars(stmt).all())


def create_absence(session: Session, actor: str, worker_id: str, data: Mapping[str, Any]) -> m.WorkerAbsence:
    """Add leave/sickness/training for ``[from_date, to_date]``; overlapping absences are refused."""
    get_worker(session, worker_id)
    start, end = data["from_date"], data["to_date"]
    if end < start:
        raise InvalidInput([err("to_date", f"to_date {end} is before from_date {start}")])
    overlap = session.scalars(
        select(m.WorkerAbsence).where(
            col(m.WorkerAbsence.worker_id) == worker_id,
            col(m.WorkerAbsence.from_date) <= end,
            col(m.WorkerAbsence.to_date) >= start,
        )
    ).first()
    if overlap is not None:
        raise Conflict(
            f"overlaps absence {overlap.id} ({overlap.from_date} to {overlap.to_date}); change that one instead",
            "from_date",
        )
    row = m.WorkerAbsence(worker_id=worker_id, from_date=start, to_date=end, reason=data.get("reason") or "")
    session.add(row)
    flush(session, "absence")
    audit.record(session, actor, "worker_absence.create", "worker_absence", str(row.id), created_changes(row))
    return row


def delete_absence(session: Session, actor: str, worker_id: str, absence_id: int) -> None:
    row = session.get(m.WorkerAbsence, absence_id)
    if row is None or row.worker_id != worker_id:
        raise NotFound("absence", absence_id)
    before = snapshot(row)
    session.delete(row)
    flush(session, "absence")
    removed = {k: {"old": v, "new": None} for k, v in before.items()}
    audit.record(session, actor, "worker_absence.delete", "worker_absence", str(absence_id), removed)


# --------------------------------------------------------------------------- cars


def normalise_plate(plate: str) -> str:
    """Registration plates compare without case or extra spaces ("tk  12345" == "TK 12345")."""
    return " ".join(plate.upper().split())


def validate_car(session: Session, data: Mapping[str, Any], car_id: str | None = None) -> list[FieldError]:
    errors: list[FieldError] = []
    if not data.get("plate"):
        errors.append(err("plate", "must not be empty"))
    if not _known(session, m.Place, data.get("base_place")):
        errors.append(err("base_place", f"unknown place {data.get('base_place')!r}"))
    for name in ("seats", "wheelchair_places"):
        if not isinstance(data.get(name), int) or data[name] < 0:
            errors.append(err(name, "must be a whole number, 0 or more"))
    start, end = data.get("available_from"), data.get("available_to")
    if isinstance(start, dt.time) and isinstance(end, dt.time) and end <= start:
        errors.append(err("available_to", f"available_to {end:%H:%M} is not after available_from {start:%H:%M}"))
    return errors


def _plate_taken(session: Session, plate: str, car_id: str | None) -> bool:
    stmt = select(m.Car.id).where(col(m.Car.plate) == plate)
    if car_id is not None:
        stmt = stmt.where(col(m.Car.id) != car_id)
    return session.scalars(stmt).first() is not None


def get_car(session: Session, car_id: str) -> m.Car:
    row = session.get(m.Car, car_id)
    if row is None:
        raise NotFound("car", car_id)
    return row


def create_car(session: Session, actor: str, data: Mapping[str, Any]) -> m.Car:
    values = dict(data)
    car_id = values.pop("id", None)
    if values.get("plate"):
        values["plate"] = normalise_plate(values["plate"])
    errors: list[FieldError] = []
    check_id(car_id, errors)
    errors += validate_car(session, values)
    if errors:
        raise InvalidInput(errors)
    if car_id is not None and session.get(m.Car, car_id) is not None:
        raise Conflict(f"car {car_id!r} already exists", "id")
    if _plate_taken(session, values["plate"], None):
        raise Conflict(f"a car with plate {values['plate']!r} already exists", "plate")
    car_id = car_id or CAR_IDS.allocate(session, m.Car)[0]
    row = m.Car(id=car_id, **values)
    session.add(row)
    flush(session, f"car {car_id!r}")
    audit.record(session, actor, "car.create", "car", car_id, created_changes(row))
    return row


def update_car(session: Session, actor: str, car_id: str, changes: Mapping[str, Any]) -> m.Car:
    row = get_car(session, car_id)
    values = dict(changes)
    errors = null_errors(m.Car, values)
    if errors:
        raise InvalidInput(errors)
    if values.get("plate"):
        values["plate"] = normalise_plate(values["plate"])
    before = snapshot(row)
    merged = {k: getattr(row, k) for k in m.CarBase.model_fields} | values
    errors = validate_car(session, merged, car_id)
    if errors:
        raise InvalidInput(errors)
    if "plate" in values and _plate_taken(session, values["plate"], car_id):
        raise Conflict(f"a car with plate {values['plate']!r} already exists", "plate")
    for name, value in values.items():
        setattr(row, name, value)
    flush(session, f"car {car_id!r}")
    changed = audit.diff(before, snapshot(row))
    if changed:
        audit.record(session, actor, "car.update", "car", car_id, changed)
    return row


def delete_car(session: Session, actor: str, car_id: str) -> None:
    row = get_car(session, car_id)
    drivers = session.scalars(select(m.Worker.id).where(col(m.Worker.car_id) == car_id)).all()
    if drivers:
        raise Conflict(f"car {car_id!r} is assigned to worker(s) {', '.join(drivers)}: reassign them first")
    session.delete(row)
    flush(session, f"car {car_id!r}")
    audit.record(session, actor, "car.delete", "car", car_id)


def car_query(base_place: str | None = None) -> Select[Any]:
    stmt = select(m.Car)
    if base_place:
        stmt = stmt.where(col(m.Car.base_place) == base_place)
    return stmt

