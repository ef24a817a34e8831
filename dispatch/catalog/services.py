"""The centre's catalogue of services: what each one is called, takes and needs.

A service code is data, not code: a centre adds its own services (``rehabilitation``,
``psychologist``) with the same id rules as every other id (``catalog.check_id``), and what the
planner used to decide from a hard-wired code is an attribute of the service:

* ``kind``: ``visit`` (at the senior's home) or ``ride`` (the senior taxi: a request carries a
  destination and an appointment and is planned as pickup and drop-off legs);
* ``working_days_only``: the service runs Monday to Friday except public holidays (taxi,
  handyman); ``dispatch.catalog.recurrence`` drops its requests' other days;
* ``mandatory``: the default of ``mandatory`` for a new request of the service;
* ``default_duration``, ``required_skills`` (always added to a request's skills) and
  ``worker_kinds`` (who may do it).

Services are never deleted: visit requests and rosters refer to them.  Changing ``kind`` while
requests refer to the service is refused (their ride fields would no longer fit); the other
attributes apply to the service's requests from the next plan on.  Writes are audited; the caller
owns the transaction (``catalog`` module docstring).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, func, select
from sqlmodel import Session, col

from dispatch import limits
from dispatch.access import audit
from dispatch.storage import models as m
from dispatch.catalog.records import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    check_id,
    created_changes,
    err,
    flush,
    length_errors,
    null_errors,
    snapshot,
)
from dispatch.domain import WorkerKind, as_text

#: Fields of a service besides its code, in the order a form or a spreadsheet shows them.
SERVICE_FIELDS = tuple(m.ServiceBase.model_fields)


def known_codes(session: Session) -> list[str]:
    """Every service code, sorted (for "one of ..." messages; a catalogue has a few dozen at most)."""
    return list(session.scalars(select(m.Service.code).order_by(col(m.Service.code))).all())


def validate_service(data: Mapping[str, Any]) -> list[FieldError]:
    """Every rule a service record must satisfy (``data`` is the whole record without the code, typed)."""
    errors: list[FieldError] = []
    for name in ("name_pl", "name_en"):
        if not isinstance(data.get(name), str) or not data[name].strip():
            errors.append(err(name, "must not be empty"))
    duration = data.get("default_duration")
    if not isinstance(duration, int) or isinstance(duration, bool) or not 1 <= duration <= limits.MAX_VISIT_MINUTES:
        errors.append(err("default_duration", f"must be 1 to {limits.MAX_VISIT_MINUTES} minutes"))
    kinds = data.get("worker_kinds")
    allowed = [k.value for k in WorkerKind]
    if not isinstance(kinds, list | tuple) or not kinds:
        errors.append(err("worker_kinds", f"name at least one worker kind: {', '.join(allowed)}"))
    else:
        unknown = [k for k in kinds if k not in allowed]
        if unknown:
            errors.append(err("worker_kinds", f"unknown worker kind(s) {', '.join(map(repr, unknown))}; "
                                              f"one of {', '.join(allowed)}"))
    skills = data.get("required_skills") or []
    if (problem := limits.list_problem(skills, limits.MAX_SKILLS, "skills")) is not None:
        errors.append(err("required_skills", problem))
    elif any(not isinstance(s, str) or not s.strip() or len(s) > limits.MAX_SKILL_LENGTH for s in skills):
        errors.append(err("required_skills", f"skills must be non-empty names of at most {limits.MAX_SKILL_LENGTH} "
                                             "characters"))
    try:
        m.ServiceKind(data.get("kind"))
    except ValueError:
        errors.append(err("kind", f"must be one of {', '.join(k.value for k in m.ServiceKind)}"))
    for name in BOOLEAN_FIELDS:
        if not isinstance(data.get(name), bool):
            errors.append(err(name, "must be true or false"))
    errors += length_errors(m.Service, {k: data[k] for k in ("name_pl", "name_en") if isinstance(data.get(k), str)})
    return errors


#: The service's yes/no attributes (``intimate_care``: see ``dispatch.catalog.care_rules``); default no.
BOOLEAN_FIELDS = ("working_days_only", "mandatory", "intimate_care")


def _values(data: Mapping[str, Any]) -> dict[str, Any]:
    """Stored form: enums by value, de-duplicated lists in the order given, defaults filled."""
    out = dict(data)
    for name in ("worker_kinds", "required_skills"):
        if isinstance(out.get(name), list | tuple):
            out[name] = list(dict.fromkeys(as_text(v) for v in out[name]))
    if out.get("kind") is None:
        out["kind"] = m.ServiceKind.VISIT
    for name in BOOLEAN_FIELDS:
        if out.get(name) is None:
            out[name] = False
    out.setdefault("required_skills", [])
    return out


def get_service(session: Session, code: str) -> m.Service:
    row = session.get(m.Service, code)
    if row is None:
        raise NotFound("service", code)
    return row


def new_service(code: str, values: Mapping[str, Any]) -> m.Service:
    """Build (not add) a service row from validated values."""
    return m.Service(code=code, **values)


def prepare_service(data: Mapping[str, Any]) -> tuple[str | None, dict[str, Any], list[FieldError]]:
    """The code, the stored values and every rule the new service breaks (imports and the API share it)."""
    values = _values(data)
    code = values.pop("code", None)
    errors: list[FieldError] = []
    if code is None:
        errors.append(err("code", "is required (the id requests use, e.g. home_care)"))
    check_id(code, errors, "code")
    errors += validate_service(values)
    return code, values, errors


def create_service(session: Session, actor: str, data: Mapping[str, Any], *, source: str | None = None) -> m.Service:
    """Add a service; 409 (``Conflict``) if the code exists."""
    code, values, errors = prepare_service(data)
    if errors:
        raise InvalidInput(errors)
    assert code is not None
    if session.get(m.Service, code) is not None:
        raise Conflict(f"service {code!r} already exists", "code")
    row = new_service(code, values)
    session.add(row)
    flush(session, f"service {code!r}")
    record_service_created(session, actor, row, source)
    return row


def record_service_created(session: Session, actor: str, row: m.Service, source: str | None = None) -> None:
    audit.record(session, actor, "service.create", "service", row.code,
                 created_changes(row, {"source": source} if source else None))


def update_service(session: Session, actor: str, code: str, changes: Mapping[str, Any]) -> m.Service:
    """Change the fields given; ``kind`` only while no request refers to the service."""
    row = get_service(session, code)
    values = _values(changes) if changes else {}
    values = {k: v for k, v in values.items() if k in changes}  # only what was sent
    errors = null_errors(m.Service, {k: changes[k] for k in changes})
    if errors:
        raise InvalidInput(errors)
    before = snapshot(row)
    merged = {k: getattr(row, k) for k in SERVICE_FIELDS} | values
    errors = validate_service(merged)
    if errors:
        raise InvalidInput(errors)
    new_kind = m.ServiceKind(merged["kind"])
    if new_kind != row.kind:
        n = session.scalar(select(func.count()).select_from(m.VisitRequest).where(col(m.VisitRequest.service) == code))
        if n:
            raise Conflict(f"service {code!r} has {n} visit request(s) whose ride fields fit its kind "
                           f"{row.kind.value!r}; add a new service of kind {new_kind.value!r} instead", "kind")
    for name, value in values.items():
        setattr(row, name, value)
    flush(session, f"service {code!r}")
    changed = audit.diff(before, snapshot(row))
    if changed:
        audit.record(session, actor, "service.update", "service", code, changed)
    return row


def service_query(kind: m.ServiceKind | None = None) -> Select[Any]:
    stmt = select(m.Service)
    if kind is not None:
        stmt = stmt.where(col(m.Service.kind) == kind)
    return stmt
