"""A senior's rights under RODO: health data read only for a stated purpose, export, erasure.

* **Health fields** (``SeniorHealth``: disability grade, mental disorder, health notes; RODO art. 9)
  are read one senior at a time with a purpose from ``PURPOSES``; each read is an audit row
  ``senior.read_health`` naming the purpose (art. 5(2) accountability: who read what, and why).
* **Export** (art. 15 and 20): everything stored about one senior as plain JSON data: the senior's
  row, every row that refers to the senior (requests, absences, decisions, care plans) and every
  row that refers to those (pins, planned visits, check-ins, cancellations...), found through the
  tables' foreign keys so a new table is exported without changing this module, and the audit rows
  about any of them.  The export itself is audited (``senior.export``).
* **Erasure** (art. 17) by anonymisation: the senior's row stays (delivered hours, decisions and
  the audit refer to it), with name, address, phone, health fields and notes overwritten, the
  birth year cut to its decade and the home moved to the area's point; free texts about the
  senior elsewhere (tasks, notes, absence reasons, check-in notes) are emptied; active requests are
  cancelled (so nothing is planned any more); planned and delivered visits (times, workers,
  outcomes) stay, as do the audit rows, whose quoted values about the senior are replaced by
  ``"[erased]"`` (who did what and when stays).  The erasure is audited (``senior.erase``) and
  idempotent: erasing an erased senior changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, select, update
from sqlmodel import Session, SQLModel, col

from dispatch.access import audit
from dispatch.catalog import records
from dispatch.catalog import requests as requests_service
from dispatch.domain import Disability, GenderRule
from dispatch.storage import models as m

#: Why a health field is read; the audit row names one.
PURPOSES: tuple[str, ...] = (
    "care_assessment",       # assessing the needs (environmental interview, decision on the services)
    "care_planning",         # planning the care and the right worker
    "incident",              # a fall, a hospital stay, a complaint about the care
    "data_subject_request",  # the senior (or their representative) asked for their data
    "legal_obligation",      # a court, an inspection, a reporting duty
)
ERASED = "[erased]"
ERASED_NAME = "[usunięte]"

#: Free-text columns of the senior's records that people write about the senior, by table; erasure
#: empties them.  (Not codes: ``roster_unassigned.reason`` is a reason code and stays.)
FREE_TEXT_COLUMNS: dict[str, frozenset[str]] = {
    "visit_requests": frozenset({"tasks"}),
    "senior_absences": frozenset({"reason"}),
    "decisions": frozenset({"note"}),
    "care_plans": frozenset({"note"}),
    "care_plan_lines": frozenset({"tasks"}),
    "visit_checkins": frozenset({"note"}),
}
#: Keys of audit ``changes`` quoting such free text (rows about the senior's records, not the senior).
FREE_TEXT_KEYS = frozenset().union(*FREE_TEXT_COLUMNS.values())
#: Audit entity names of the tables exported with a senior (their rows' audit trail is exported too).
AUDIT_ENTITIES = {
    "seniors": "senior", "visit_requests": "visit_request", "senior_absences": "senior_absence",
    "decisions": "decision", "care_plans": "care_plan", "visit_checkins": "visit_checkin",
}


def read_health(session: Session, actor: str, senior_id: str, purpose: str) -> m.Senior:
    """The senior with health fields, for ``purpose`` (one of ``PURPOSES``); the read is audited."""
    if purpose not in PURPOSES:
        raise records.InvalidInput([records.err("purpose", f"must be one of {', '.join(PURPOSES)}")])
    row = records.get_senior(session, senior_id)
    audit.record(session, actor, "senior.read_health", "senior", senior_id, {"purpose": purpose})
    return row


# --------------------------------------------------------------------------- what refers to a senior


@dataclass(frozen=True)
class Related:
    """Rows of one table that belong to the senior's data."""

    table: Table
    rows: list[dict[str, Any]]


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if hasattr(value, "value") and not isinstance(value, (int, float, str, bool)):
        return value.value
    return value


def _row_dict(row: Any) -> dict[str, Any]:
    return {k: _plain(v) for k, v in row._mapping.items()}


def related_rows(session: Session, senior_id: str) -> list[Related]:
    """Every row referring to the senior, or to a row that does (two foreign-key steps), by table."""
    tables = SQLModel.metadata.sorted_tables
    seniors = SQLModel.metadata.tables["seniors"]
    found: dict[str, Related] = {}
    keys: dict[str, set[Any]] = {"seniors": {senior_id}}
    for depth in range(2):
        parents = {"seniors"} if depth == 0 else set(found)
        for table in tables:
            if table.name == "seniors":
                continue
            for fk in table.foreign_keys:
                parent = fk.column.table.name
                if parent not in parents or fk.column.table is table or (depth == 1 and fk.column.table is seniors):
                    continue  # a self-reference (a request following another) may lead to another senior
                ids = keys.get(parent, set())
                if not ids:
                    continue
                rows = [_row_dict(r) for r in session.execute(select(table).where(fk.parent.in_(sorted(ids))))]
                if not rows:
                    continue
                have = found.setdefault(table.name, Related(table, []))
                pk = [c.name for c in table.primary_key.columns]
                seen = {tuple(r[c] for c in pk) for r in have.rows}
                have.rows.extend(r for r in rows if tuple(r[c] for c in pk) not in seen)
                if len(pk) == 1:
                    keys.setdefault(table.name, set()).update(r[pk[0]] for r in rows)
    return list(found.values())


def _audit_rows(session: Session, senior_id: str, related: list[Related]) -> list[m.AuditLog]:
    """Audit rows about the senior or about a row of the senior's data."""
    wanted: dict[str, set[str]] = {"senior": {senior_id}}
    for rel in related:
        entity = AUDIT_ENTITIES.get(rel.table.name)
        pk = [c.name for c in rel.table.primary_key.columns]
        if entity and len(pk) == 1:
            wanted.setdefault(entity, set()).update(str(r[pk[0]]) for r in rel.rows)
    out: list[m.AuditLog] = []
    for entity, ids in wanted.items():
        out += session.scalars(select(m.AuditLog).where(col(m.AuditLog.entity) == entity,
                                                        col(m.AuditLog.entity_id).in_(sorted(ids)))).all()
    return sorted(out, key=lambda r: r.id or 0)


def export(session: Session, actor: str, senior_id: str, now: dt.datetime) -> dict[str, Any]:
    """Everything stored about the senior as JSON data (audited as ``senior.export``)."""
    row = records.get_senior(session, senior_id)
    related = related_rows(session, senior_id)
    trail = _audit_rows(session, senior_id, related)
    out = {
        "senior_id": senior_id,
        "exported_at": now.astimezone(dt.UTC).isoformat(),
        "exported_by": actor,
        "senior": row.model_dump(mode="json"),
        "records": {rel.table.name: rel.rows for rel in sorted(related, key=lambda r: r.table.name)},
        "audit": [{"id": a.id, "at": _plain(a.at), "actor": a.actor, "action": a.action, "entity": a.entity,
                   "entity_id": a.entity_id, "changes": a.changes} for a in trail],
    }
    audit.record(session, actor, "senior.export", "senior", senior_id,
                 {"tables": {name: len(rows) for name, rows in out["records"].items()}, "audit_rows": len(trail)})
    return out


# --------------------------------------------------------------------------- erasure


def _anonymous_values(session: Session, row: m.Senior) -> dict[str, Any]:
    area = session.get(m.Place, row.area)
    return {
        "first_name": ERASED_NAME, "last_name": ERASED_NAME, "street": ERASED_NAME, "number": "-", "flat": None,
        "postcode": "00-000", "phone": "", "birth_year": row.birth_year - row.birth_year % 10,
        "lat": area.lat if area is not None else 0.0, "lon": area.lon if area is not None else 0.0,
        "disability": Disability.NONE, "mental_disorder": False, "health_notes": "", "notes_for_workers": "",
        "lives_alone": False, "wheelchair": False, "preferred_gender": None, "gender_rule": GenderRule.NONE,
        "regular_workers": [], "forbidden_workers": [],
    }


def erase(session: Session, actor: str, senior_id: str, now: dt.datetime) -> tuple[m.Senior, bool]:
    """Anonymise the senior (see the module docstring); returns (row, whether anything was done)."""
    row = records.get_senior(session, senior_id)
    if row.erased_at is not None:
        return row, False
    for name, value in _anonymous_values(session, row).items():
        setattr(row, name, value)
    row.erased_at = now.astimezone(dt.UTC)
    session.add(row)
    requests = session.scalars(select(m.VisitRequest).where(col(m.VisitRequest.senior_id) == senior_id)).all()
    cancelled = []
    for request in requests:
        if request.status == m.RequestStatus.ACTIVE:
            requests_service.cancel_request(session, actor, request.id, now=now)
            cancelled.append(request.id)
    related = related_rows(session, senior_id)
    emptied: dict[str, int] = {}
    for rel in related:
        columns = [c for c in rel.table.columns if c.name in FREE_TEXT_COLUMNS.get(rel.table.name, ())]
        pk = list(rel.table.primary_key.columns)
        if not columns or len(pk) != 1:
            continue
        ids = [r[pk[0].name] for r in rel.rows]
        result = session.execute(update(rel.table).where(pk[0].in_(ids)).values({c.name: "" for c in columns}))
        emptied[rel.table.name] = int(result.rowcount or 0)
    session.flush()
    _erase_audit_values(session, senior_id, related)
    audit.record(session, actor, "senior.erase", "senior", senior_id,
                 {"cancelled_requests": cancelled, "emptied_texts": emptied})
    return row, True


def _erase_audit_values(session: Session, senior_id: str, related: list[Related]) -> None:
    """Replace the values the audit quotes about the senior; who, what and when stay."""
    audit.allow_maintenance(session)
    for entry in _audit_rows(session, senior_id, related):
        if entry.action in ("senior.read_health", "senior.export"):
            continue  # a purpose or counts: nothing about the senior
        changes = dict(entry.changes or {})
        if entry.entity == "senior":
            scrubbed = {k: ERASED for k in changes}
        else:
            scrubbed = {k: (ERASED if k in FREE_TEXT_KEYS else v) for k, v in changes.items()}
        if scrubbed != changes:
            session.execute(update(m.AuditLog).where(col(m.AuditLog.id) == entry.id).values(changes=scrubbed))
