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
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypedDict

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Select, String, cast, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col

from dispatch import limits
from dispatch.access import audit
from dispatch.catalog import care_rules, labour, labour_words
from dispatch.storage import models as m
from dispatch.errors import UserError
from dispatch.timeutil import offset_problem
from dispatch.fields import ID_PATTERN, POSTCODE_PATTERN
from dispatch.domain import Contract, Disability, TravelMode, WorkerKind, as_text

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

#: Ids a person types or reads: letters, digits, ``-``, ``_``, ``.``; 1 to ``ID_LEN`` characters.
_ID_RE = re.compile(ID_PATTERN)
REDACTED = "[redacted]"
#: Fields whose content never goes into the audit log.
SENSITIVE_FIELDS = frozenset({"health_notes", "disability", "mental_disorder"})
GENDERS = ("F", "M")
MAX_WORK_MINUTES_PER_DAY = limits.MAX_WORK_MINUTES_PER_DAY  # 11 h daily rest (art. 132 KP) leaves 13 h per doba


#: Serials longer than this are not counted as the scheme's (they would not fit the BIGINT counter,
#: and no counter gets there): an id such as ``s-99999999999999999999`` is just a custom id.
_MAX_SERIAL_DIGITS = 18
_EXISTS_CHUNK = 500


@dataclass(frozen=True)
class IdScheme:
    """How new ids of one entity look: ``prefix`` + zero-padded serial (as the fixture generator).

    Serials come from the scheme's row in ``id_counters`` (``models.IdCounter``), incremented
    in the caller's transaction, so simultaneous creates never get the same id (``max + 1``
    did).  The row is created on first use from the highest serial already stored.  An id a
    client or an import gives explicitly moves the counter past it (:meth:`note_used`), and an
    id that exists anyway (a scenario load, a raw insert) is never handed out: allocation checks
    and skips ahead.
    """

    prefix: str
    width: int

    def format(self, serial: int) -> str:
        return f"{self.prefix}{serial:0{self.width}d}"

    def serial(self, entity_id: str) -> int | None:
        """The serial of an id of this scheme (``"s-00042"`` -> 42), else None."""
        if not entity_id.startswith(self.prefix):
            return None
        tail = entity_id[len(self.prefix):]
        return int(tail) if tail.isdigit() and len(tail) <= _MAX_SERIAL_DIGITS else None

    def allocate(self, session: Session, model: type[SQLModel], count: int = 1) -> list[str]:
        """``count`` fresh ids of ``model``, none of them stored yet.

        On SQLite call this in a write transaction (``dispatch.storage.db.for_writing``); on PostgreSQL
        the counter row stays locked until the caller commits, which orders simultaneous creates.
        """
        out: list[str] = []
        while len(out) < count:
            need = count - len(out)
            top = self._add(session, model, need)
            batch = [self.format(n) for n in range(top - need + 1, top + 1)]
            taken = _existing_ids(session, model, batch)
            if taken:  # ids stored without going through the counter: jump past all of them
                self._raise_to(session, model, self._highest_stored(session, model))
            out += [i for i in batch if i not in taken]
        return out

    def for_batch(self, session: Session, model: type[SQLModel], given: list[str | None], *, dry_run: bool = False) -> list[str]:
        """Ids for a batch of new records (an import): each given id, or a fresh one where None.

        The counter first moves past the given ids, so no fresh id equals one of them.  A dry run
        writes nothing and shows the ids a real run would use if nothing else were created first.
        """
        explicit = [g for g in given if g is not None]
        n = len(given) - len(explicit)
        if dry_run:
            top = max([self._current(session, model), *(self.serial(g) or 0 for g in explicit)])
            fresh = iter([self.format(k) for k in range(top + 1, top + 1 + n)])
        else:
            self.note_used(session, model, explicit)
            fresh = iter(self.allocate(session, model, n))
        return [g if g is not None else next(fresh) for g in given]

    def claim(self, session: Session, model: type[SQLModel], given: str | None) -> str:
        """The id for one new record: ``given`` (the counter moved past it) or a fresh one."""
        if given is None:
            return self.allocate(session, model)[0]
        self.note_used(session, model, [given])
        return given

    def note_used(self, session: Session, model: type[SQLModel], ids: Iterable[str]) -> None:
        """Move the counter past explicitly given ids of this scheme, in the caller's transaction."""
        top = max((n for n in map(self.serial, ids) if n is not None), default=None)
        if top is not None:
            self._raise_to(session, model, top)

    # ----- the counter row

    def _add(self, session: Session, model: type[SQLModel], n: int) -> int:
        """Add ``n`` to the counter (created if missing) and return its new value."""
        stmt = (
            update(_COUNTERS).where(_COUNTERS.c.name == self.prefix)
            .values(value=_COUNTERS.c.value + n).returning(_COUNTERS.c.value)
        )
        value = session.execute(stmt).scalar()
        if value is None:
            self._create(session, model)
            value = session.execute(stmt).scalar_one()
        return int(value)

    def _current(self, session: Session, model: type[SQLModel]) -> int:
        value = session.execute(select(_COUNTERS.c.value).where(_COUNTERS.c.name == self.prefix)).scalar()
        return int(value) if value is not None else self._highest_stored(session, model)

    def _raise_to(self, session: Session, model: type[SQLModel], serial: int) -> None:
        self._create(session, model)
        session.execute(
            update(_COUNTERS).where(_COUNTERS.c.name == self.prefix, _COUNTERS.c.value < serial).values(value=serial)
        )

    def _create(self, session: Session, model: type[SQLModel]) -> None:
        """The counter row, from the highest stored serial, unless it exists (safe to race)."""
        if session.execute(select(_COUNTERS.c.value).where(_COUNTERS.c.name == self.prefix)).first() is not None:
            return
        dialect = session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        session.execute(
            insert(_COUNTERS).values(name=self.prefix, value=self._highest_stored(session, model))
            .on_conflict_do_nothing(index_elements=["name"])
        )

    def _highest_stored(self, session: Session, model: type[SQLModel]) -> int:
        id_col = col(model.id)  # type: ignore[attr-defined]
        taken = session.scalars(select(id_col).where(id_col.like(f"{self.prefix}%"))).all()
        return max((n for n in map(self.serial, taken) if n is not None), default=0)


_COUNTERS = m.IdCounter.__table__  # type: ignore[attr-defined]


def _existing_ids(session: Session, model: type[SQLModel], ids: list[str]) -> set[str]:
    id_col = col(model.id)  # type: ignore[attr-defined]
    found: set[str] = set()
    for i in range(0, len(ids), _EXISTS_CHUNK):
        found.update(session.scalars(select(id_col).where(id_col.in_(ids[i:i + _EXISTS_CHUNK]))).all())
    return found


SENIOR_IDS = IdScheme("s-", 5)
WORKER_IDS = IdScheme("w-", 5)
CAR_IDS = IdScheme("car-", 4)


def check_id(value: str | None, errors: list[FieldError], field_name: str = "id") -> None:
    if value is not None and not _ID_RE.match(value):
        errors.append(err(field_name, f"{value!r} is not a valid id: 1-{m.ID_LEN} letters, digits, '-', '_' or '.'"))


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


def rule_errors(base: type[SQLModel], data: Mapping[str, Any], skip: Iterable[str] = ()) -> list[FieldError]:
    """The rules a record's base model (``m.CarBase``, ``m.PlaceBase``) puts on its fields (lengths,
    ranges, patterns, local times), for the fields in ``data`` without an error yet (``skip``);
    a field left out or None is the caller's own required-field check.

    The API applies these while it parses a body; imports and the CLI come through here, so a
    value the API refuses is refused from a spreadsheet too: the rule is written once, on the base.
    """
    skipped = set(skip)
    out: list[FieldError] = []
    for name in base.model_fields:
        if data.get(name) is not None and name not in skipped:  # a missing value is the caller's own check
            try:
                _field_adapter(base, name).validate_python(data[name])
            except ValidationError as exc:
                out.append(err(name, exc.errors()[0]["msg"]))
    return out


@functools.cache
def _field_adapter(base: type[SQLModel], name: str) -> TypeAdapter[Any]:
    info = base.model_fields[name]
    return TypeAdapter(Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation)


def length_errors(model: type[SQLModel], data: Mapping[str, Any]) -> list[FieldError]:
    """Texts longer than their column holds (imports bypass the API's ``max_length``; PostgreSQL
    would refuse the insert with an error that is no answer for a person)."""
    table = model.__table__  # type: ignore[attr-defined]
    errors: list[FieldError] = []
    for name, value in data.items():
        length = getattr(table.c[name].type, "length", None) if name in table.c else None
        if isinstance(value, str) and length is not None and len(value) > length:
            errors.append(err(name, f"{len(value)} characters; at most {length}"))
    return errors


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
    area = session.get(m.Place, data["area"]) if isinstance(data.get("area"), str) else None
    if area is None:
        errors.append(err("area", f"unknown place {data.get('area')!r}"))
    _check_coordinates(data, "lat", "lon", errors, area)
    errors += postcode_errors(data)
    try:
        Disability(data.get("disability"))
    except ValueError:
        errors.append(err("disability", f"must be one of {', '.join(d.value for d in Disability)}"))
    needs = data.get("needs") or []
    if (problem := limits.list_problem(needs, limits.MAX_NEEDS, "services")) is not None:
        errors.append(err("needs", problem))
        needs = []
    unknown = [n for n in dict.fromkeys(needs) if not isinstance(n, str) or session.get(m.Service, n) is None]
    if unknown:
        errors.append(err("needs", f"unknown service(s) {', '.join(map(repr, unknown))}"))
    regular = list(data.get("regular_workers") or [])
    forbidden = list(data.get("forbidden_workers") or [])
    for name, ids in (("regular_workers", regular), ("forbidden_workers", forbidden)):
        errors += worker_ref_errors(session, name, ids)
    both = sorted(set(regular) & set(forbidden))
    if both:
        errors.append(err("forbidden_workers", f"worker(s) {', '.join(both)} cannot be both regular and forbidden"))
    if (problem := care_rules.gender_rule_problem(data.get("gender_rule", m.GenderRule.NONE),
                                                  data.get("preferred_gender"))) is not None:
        errors.append(err("gender_rule", problem))
    return errors


def worker_ref_errors(session: Session, field_name: str, ids: object) -> list[FieldError]:
    """A list of worker ids someone refers to (a senior's or a request's): its size and unknown ids."""
    if not isinstance(ids, list | tuple) or not all(isinstance(w, str) for w in ids):
        return [err(field_name, "must be a list of worker ids")]
    if (problem := limits.list_problem(ids, limits.MAX_WORKER_REFS, "workers")) is not None:
        return [err(field_name, problem)]
    unknown = [w for w in dict.fromkeys(ids) if not _known(session, m.Worker, w)]
    if unknown:
        return [err(field_name, f"unknown worker(s) {', '.join(map(repr, unknown))}")]
    return []


def missing_coordinates(lat: str, lon: str) -> str:
    """What to say about a record without coordinates (one wording for API, CLI and imports)."""
    return (f"missing: give {lat} and {lon}, or an address to look them up from (needs a geocoder: "
            "CAREPATH_GEOCODER=nominatim)")


#: A senior's or place's address, in the order it is written.
ADDRESS_FIELDS = ("street", "number", "postcode", "city")
#: Polish postcodes: 25-001.
_POSTCODE_RE = re.compile(POSTCODE_PATTERN)


def address_changed(changes: Mapping[str, Any], before: Mapping[str, Any], names: Iterable[str] = ADDRESS_FIELDS) -> bool:
    """True if ``changes`` gives an address field a new value."""
    return any(name in changes and changes[name] != before.get(name) for name in names)


def moved_without_coordinates(changes: Mapping[str, Any], before: Mapping[str, Any], lat: str = "lat",
                              lon: str = "lon") -> list[FieldError]:
    """A changed address must come with its coordinates (or be looked up first, ``geocoding``):
    the old ones would send workers to the old door."""
    if lat in changes or lon in changes or not address_changed(changes, before):
        return []
    return [err(lat, f"the address changed: send {lat} and {lon} of the new address too (unchanged if it is the "
                     "same door), or configure a geocoder (CAREPATH_GEOCODER=nominatim) to look it up")]


def postcode_errors(data: Mapping[str, Any], name: str = "postcode") -> list[FieldError]:
    value = data.get(name)
    if value is not None and (not isinstance(value, str) or not _POSTCODE_RE.match(value)):
        return [err(name, f"{value!r} is not a Polish postcode such as 25-001")]
    return []


def _check_coordinates(
    data: Mapping[str, Any], lat: str, lon: str, errors: list[FieldError], area: m.Place | None = None
) -> None:
    """Valid latitude and longitude, and (given the area's place) near that area (``limits.MAX_KM_FROM_AREA``)."""
    ok = True
    if data.get(lat) is None and data.get(lon) is None:
        errors.append(err(lat, missing_coordinates(lat, lon)))
        return
    if not isinstance(data.get(lat), int | float) or not -90 <= data[lat] <= 90:
        errors.append(err(lat, "must be a latitude between -90 and 90" if data.get(lat) is not None
                          else f"missing: give {lat} with {lon}"))
        ok = False
    if not isinstance(data.get(lon), int | float) or not -180 <= data[lon] <= 180:
        errors.append(err(lon, "must be a longitude between -180 and 180" if data.get(lon) is not None
                          else f"missing: give {lon} with {lat}"))
        ok = False
    if ok and area is not None:
        problem = limits.area_distance_problem(data[lat], data[lon], area.id, area.lat, area.lon)
        if problem is not None:
            errors.append(err(lat, problem))


def senior_values(data: Mapping[str, Any], current: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The values to store: enums and lists as plain values, and the gender rule when not given
    (``care_rules.gender_rule_after``: clients that only know ``preferred_gender`` keep working)."""
    out = dict(data)
    for name in ("needs", "regular_workers", "forbidden_workers"):
        if name in out and out[name] is not None:
            out[name] = [as_text(v) for v in out[name]]
    if out.get("gender_rule") is None:
        out.pop("gender_rule", None)
        rule = care_rules.gender_rule_after(out, current)
        if rule is not None:
            out["gender_rule"] = rule
    elif out["gender_rule"] in {r.value for r in m.GenderRule}:
        out["gender_rule"] = m.GenderRule(out["gender_rule"])
    return out


def get_senior(session: Session, senior_id: str) -> m.Senior:
    row = session.get(m.Senior, senior_id)
    if row is None:
        raise NotFound("senior", senior_id)
    return row


def create_senior(session: Session, actor: str, data: Mapping[str, Any]) -> m.Senior:
    values = senior_values(data)
    senior_id = values.pop("id", None)
    errors: list[FieldError] = []
    check_id(senior_id, errors)
    errors += validate_senior(session, values)
    if errors:
        raise InvalidInput(errors)
    if senior_id is not None and session.get(m.Senior, senior_id) is not None:
        raise Conflict(f"senior {senior_id!r} already exists", "id")
    senior_id = SENIOR_IDS.claim(session, m.Senior, senior_id)
    row = m.Senior(id=senior_id, **values)
    session.add(row)
    flush(session, f"senior {senior_id!r}")
    audit.record(session, actor, "senior.create", "senior", senior_id, created_changes(row))
    return row


def update_senior(session: Session, actor: str, senior_id: str, changes: Mapping[str, Any]) -> m.Senior:
    row = get_senior(session, senior_id)
    if row.erased_at is not None:
        raise Conflict(f"senior {senior_id!r} was erased (anonymised); an erased senior is not changed again")
    current = {k: getattr(row, k) for k in m.SeniorBase.model_fields | m.SeniorHealth.model_fields}
    errors = null_errors(m.Senior, changes)
    if errors:
        raise InvalidInput(errors)
    values = senior_values(changes, current)
    before = snapshot(row)
    merged = current | values
    errors = validate_senior(session, merged) + moved_without_coordinates(values, current)
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
    """Weekdays 0-6, local times, end after start, at most 13 h, no two shifts of one weekday overlapping."""
    errors: list[FieldError] = []
    shifts = list(shifts)
    if (problem := limits.list_problem(shifts, limits.MAX_SHIFTS_PER_WEEK, "shifts")) is not None:
        return [err(field_name, problem)]
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
        offsets = [(n, p) for n, t in (("start", start), ("end", end)) if (p := offset_problem(t)) is not None]
        if offsets:
            errors += [err(f"{where}.{n}", p) for n, p in offsets]
            continue
        if end <= start:
            errors.append(err(f"{where}.end", f"shift end {end:%H:%M} is not after its start {start:%H:%M}"))
            continue
        minutes = (dt.datetime.combine(dt.date.min, end) - dt.datetime.combine(dt.date.min, start)) // dt.timedelta(minutes=1)
        if minutes > limits.MAX_SHIFT_MINUTES:
            errors.append(err(f"{where}.end", f"a shift of {minutes} minutes is longer than {limits.MAX_SHIFT_MINUTES} "
                                              "(13 h: the 11 h daily rest, art. 132 KP)"))
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
    home_area = session.get(m.Place, data["home_area"]) if isinstance(data.get("home_area"), str) else None
    if home_area is None:
        errors.append(err("home_area", f"unknown place {data.get('home_area')!r}"))
    _check_coordinates(data, "home_lat", "home_lon", errors, home_area)
    car = data.get("car_id")
    if car is not None and not _known(session, m.Car, car):
        errors.append(err("car_id", f"unknown car {car!r}"))
    skills = data.get("skills") or []
    if (problem := limits.list_problem(skills, limits.MAX_SKILLS, "skills")) is not None:
        errors.append(err("skills", problem))
        skills = []
    for skill in skills:
        if not isinstance(skill, str) or not skill.strip() or len(skill) > limits.MAX_SKILL_LENGTH:
            errors.append(err("skills", f"skills must be non-empty names of at most {limits.MAX_SKILL_LENGTH} characters"))
            break
    errors += length_errors(m.Worker, {k: data[k] for k in ("first_name", "last_name") if k in data})
    shift_errors = validate_shifts(data.get("shifts") or [])
    errors += shift_errors
    if not shift_errors and isinstance(hours, int | float):
        errors += labour_errors(data.get("contract"), hours, data.get("shifts") or [])
    return errors


def labour_errors(contract: object, weekly_hours: float, shifts: list[Mapping[str, Any]]) -> list[FieldError]:
    """The hard labour rules a weekly pattern breaks (``dispatch.catalog.labour``): a refusal naming
    the rule and its minutes; a daily rest names the shift its doba starts with (``shifts.N``)."""
    out: list[FieldError] = []
    for f in labour.pattern_findings(contract, weekly_hours, shifts, labour.LabourRules.from_settings()):
        if f.error:
            where = f"shifts.{f.shift_index}" if f.shift_index is not None else "shifts"
            out.append({**err(where, labour_words.finding_words(f).en), **f.as_dict()})  # type: ignore[typeddict-item]
    return out


def labour_warnings(contract: object, weekly_hours: float, shifts: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """What a valid weekly pattern strains without breaking a hard rule (hours over the contract's
    ``weekly_hours``): shown with the worker and in an import's report, never refused."""
    out: list[dict[str, Any]] = []
    for f in labour.pattern_findings(contract, weekly_hours, shifts, labour.LabourRules.from_settings()):
        if not f.error:
            words = labour_words.finding_words(f)
            out.append({**f.as_dict(), "message": words.en, "message_pl": words.pl})
    return out


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
    worker_id = WORKER_IDS.claim(session, m.Worker, worker_id)
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
    """Delete a worker nobody refers to (rosters, seniors' and requests' worker lists, pins, a user account)."""
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
    requests = requests_naming_worker(session, worker_id)
    if requests:
        reasons.append(f"the required/preferred/forbidden workers of request(s) {', '.join(requests[:10])}")
    pins = session.scalars(select(m.VisitPin.visit_request_id).where(col(m.VisitPin.worker_id) == worker_id)).all()
    if pins:
        reasons.append(f"pins of request(s) {', '.join(sorted(set(pins))[:10])}")
    if reasons:
        raise Conflict(f"worker {worker_id!r} is referred to by {'; '.join(reasons)}: remove those first")
    session.delete(row)
    flush(session, f"worker {worker_id!r}")
    audit.record(session, actor, "worker.delete", "worker", worker_id)


REQUEST_WORKER_LISTS = ("required_workers", "preferred_workers", "forbidden_workers")


def requests_naming_worker(session: Session, worker_id: str) -> list[str]:
    """Ids of requests whose worker lists name ``worker_id`` (cancelled ones too: they are history).

    The JSON lists are narrowed in the database by their text (both backends store them as
    text, with the id quoted) and confirmed here, so the check reads only the candidates.
    """
    quoted = f'%"{worker_id}"%'
    columns = [col(getattr(m.VisitRequest, name)) for name in REQUEST_WORKER_LISTS]
    candidates = session.scalars(
        select(m.VisitRequest).where(or_(*(cast(c, String).like(quoted) for c in columns)))
    ).all()
    return sorted(r.id for r in candidates if any(worker_id in (getattr(r, n) or []) for n in REQUEST_WORKER_LISTS))


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
    errors = [err(name, p) for name, day in (("from_date", start), ("to_date", end))
              if (p := limits.date_problem(day)) is not None]
    if not errors and end < start:
        errors.append(err("to_date", f"to_date {end} is before from_date {start}"))
    if not errors and (problem := limits.absence_problem(start, end)) is not None:
        errors.append(err("to_date", problem))
    if errors:
        raise InvalidInput(errors)
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
    offsets = [err(name, p) for name, value in (("available_from", start), ("available_to", end))
               if isinstance(value, dt.time) and (p := offset_problem(value)) is not None]
    if offsets:
        return errors + offsets
    if isinstance(start, dt.time) and isinstance(end, dt.time) and end <= start:
        errors.append(err("available_to", f"available_to {end:%H:%M} is not after available_from {start:%H:%M}"))
    return errors + rule_errors(m.CarBase, data, skip=(e["field"] for e in errors))


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
    car_id = CAR_IDS.claim(session, m.Car, car_id)
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

