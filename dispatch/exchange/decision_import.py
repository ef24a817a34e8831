"""Spreadsheet import of decisions (entitlements), like the other imports: all rows or none.

The file is read by ``dispatch.exchange.imports`` (CSV as Polish Excel writes it: ``;``, UTF-8 with or
without BOM, dates as ``01.12.2026``, decimal commas; or XLSX, first sheet; the same limits);
each row is checked by ``entitlements.validate_decision``, the rule the API applies, and every
problem is reported with its line (header = 1) and column.  A dry run checks and writes nothing.
Kept out of ``imports.KINDS`` so that module stays the catalogue's; the API route is
``POST /api/v1/decisions/import``, the CLI ``carepath decisions import``.
"""

from __future__ import annotations

import hashlib

from sqlmodel import Session

from dispatch.access import audit
from dispatch.catalog import entitlements
from dispatch.storage.care_models import BudgetPeriod, BudgetUnit, Decision
from dispatch.catalog.records import FieldError, check_id
from dispatch.exchange.imports import (
    Column,
    ImportInvalid,
    ImportResult,
    choice,
    parse_date,
    parse_float,
    parse_rows,
    parse_text,
    read_table,
)

DECISION_COLUMNS: tuple[Column, ...] = (
    Column("id", parse_text, doc="decision id; generated (d-00123) when empty"),
    Column("senior_id", parse_text, True, "id of an existing senior"),
    Column("service", parse_text, True, "service code, e.g. home_care or taxi"),
    Column("reference", parse_text, True, "the decision's reference number, e.g. MOPR-OP.8221.123.2026"),
    Column("unit", choice(BudgetUnit), True, "hours or rides"),
    Column("amount", parse_float, True, "hours (30 or 1,5) or rides per period"),
    Column("period", choice(BudgetPeriod), True, "day, week, month or year"),
    Column("valid_from", parse_date, True, "first day the decision is valid"),
    Column("valid_to", parse_date, True, "last day the decision is valid"),
    Column("note", parse_text, doc="free text"),
)


def import_decisions(session: Session, actor: str, content: bytes, filename: str | None = None, *,
                     dry_run: bool = False) -> ImportResult:
    """Add every decision in the file, or none (``ImportInvalid`` lists all problems by line)."""
    rows, errors = parse_rows(read_table(content, filename), DECISION_COLUMNS)
    if not rows and errors:
        raise _invalid(errors)
    seen: dict[str, int] = {}
    for row in rows:
        given = row.values.get("id")
        if given is not None:
            id_errors: list[FieldError] = []
            check_id(given, id_errors)
            problem = (id_errors[0]["message"] if id_errors else
                       f"id {given!r} is already used on line {seen[given]}" if given in seen else
                       f"decision {given!r} already exists (imports only add)" if session.get(Decision, given) else None)
            if problem:
                errors.append({"row": row.line, "field": "id", "message": problem})
            seen.setdefault(given, row.line)
        values = {k: v for k, v in row.values.items() if k != "id"}
        values.setdefault("note", "")
        errors += [{"row": row.line, "field": e.get("field", ""), "message": e.get("message", "")}
                   for e in entitlements.validate_decision(session, values) if e.get("field") not in row.bad]
    if errors:
        raise _invalid(errors)
    ids = entitlements.DECISION_IDS.for_batch(session, Decision, [r.values.get("id") for r in rows], dry_run=dry_run)
    result = ImportResult("decisions", len(rows), {"decisions": len(rows)}, ids, dry_run)
    if dry_run:
        return result
    for decision_id, row in zip(ids, rows, strict=True):
        entitlements.create_decision(session, actor, {**row.values, "id": decision_id},
                                     source=f"import:{filename or 'file'}")
    audit.record(session, actor, "import.decisions", "import", None, {
        "file": filename or "", "sha256": hashlib.sha256(content).hexdigest(), "rows": result.rows,
        "created": result.created,
    })
    return result


def _invalid(errors: list[FieldError]) -> ImportInvalid:
    errors = sorted(errors, key=lambda e: e.get("row", 0))
    lines = sorted({e["row"] for e in errors if "row" in e})
    return ImportInvalid(errors, f"{len(errors)} problem(s) on {len(lines)} line(s): "
                                 f"{', '.join(map(str, lines[:15]))}; nothing was imported")
