"""Spreadsheet imports of visit requests and workers: all rows or none.

A file is CSV as Polish Excel writes it (``;`` between columns, UTF-8 with or without BOM,
decimal commas, dates as ``01.12.2026``) or an XLSX workbook (first sheet).  Either way pandas
reads every cell as text, the header is line 1, and the first data row is line 2, exactly the
row numbers Excel shows.  Blank rows are skipped (their numbers still count).

Every row is converted and checked with the same rules as the API (``requests_service.prepare``,
``catalog.validate_worker``); *every* problem is collected as ``{"row", "field", "message"}``,
and if there is any, nothing is written (``ImportInvalid``).  Otherwise all rows go in with the
caller's transaction, each with its own audit row plus one ``import.<kind>`` summary.  A dry run
does all the checks and writes nothing.

Imports only add: an id that already exists is an error, never an update.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from dispatch import audit
from dispatch import models as m
from dispatch import requests_service
from dispatch.catalog import (
    WORKER_IDS,
    FieldError,
    InvalidInput,
    check_id,
    new_worker,
    record_worker_created,
    validate_worker,
)
from dispatch.catalog import flush as flush_session
from fixtures.scenario import Contract, TravelMode, WorkerKind

MAX_FILE_BYTES = 5 * 1024 * 1024


class ImportInvalid(InvalidInput):
    """The file or some rows are wrong; ``errors`` has every problem with its row and column."""

    slug = "import-invalid"
    title = "The file has errors; nothing was imported"


# --------------------------------------------------------------------------- cell parsers
# Each takes the stripped, non-empty cell text and returns a value or raises ValueError(message).

_TRUE = {"1", "tak", "t", "true", "prawda", "yes", "y", "x"}
_FALSE = {"0", "nie", "n", "false", "fałsz", "falsz", "no"}
_EXCEL_EPOCHS = {"1899-12-30", "1899-12-31", "1900-01-01"}


def parse_text(text: str) -> str:
    return text


def parse_int(text: str) -> int:
    cleaned = text.replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        number = float(cleaned)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None
    if not number.is_integer():
        raise ValueError(f"{text!r} is not a whole number")
    return int(number)


def parse_float(text: str) -> float:
    cleaned = text.replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        return float(cleaned)
    except ValueError:
        raise ValueError(f"{text!r} is not a number (write 50,87 or 50.87)") from None


def parse_bool(text: str) -> bool:
    low = text.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError(f"{text!r} is not yes/no; write tak or nie (also 1/0, prawda/fałsz)")


def parse_date(text: str) -> dt.date:
    value = text.split(" ")[0] if re.fullmatch(r"\d{4}-\d{2}-\d{2} 00:00:00", text) else text
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date; write 2026-12-01 or 01.12.2026")


def parse_time(text: str) -> dt.time:
    value = text
    head, _, tail = text.partition(" ")
    if tail and head in _EXCEL_EPOCHS:  # Excel keeps a time-only cell as a time on its epoch day
        value = tail
    match = re.fullmatch(r"(\d{1,2})[:.](\d{2})(?::(\d{2}))?", value)
    if match:
        hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
        if hour < 24 and minute < 60 and second < 60:
            return dt.time(hour, minute, second)
    raise ValueError(f"{text!r} is not a time; write 08:00")


def parse_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_shifts(text: str) -> list[tuple[dt.time, dt.time]]:
    out = []
    for part in text.split(","):
        if not part.strip():
            continue
        pieces = part.strip().split("-")
        if len(pieces) != 2:
            raise ValueError(f"{part.strip()!r} is not a shift; write 07:00-15:00 (two shifts: 07:00-11:00, 16:00-19:00)")
        out.append((parse_time(pieces[0].strip()), parse_time(pieces[1].strip())))
    return out


def choice(enum: type) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            return enum(text.lower())
        except ValueError:
            raise ValueError(f"{text!r} is not one of {', '.join(e.value for e in enum)}") from None

    parse.__name__ = "one of the listed values"
    return parse


_KIND_NAMES = {
    parse_text: "text",
    parse_int: "whole number",
    parse_float: "number (decimal comma or point)",
    parse_bool: "tak/nie",
    parse_date: "date (2026-12-01 or 01.12.2026)",
    parse_time: "time (08:00)",
    parse_list: "list separated by commas",
    parse_shifts: "shifts (07:00-15:00, several separated by commas)",
}


@dataclass(frozen=True)
class Column:
    name: str
    parse: Callable[[str], Any]
    required: bool = False
    doc: str = ""

    def kind(self) -> str:
        if self.parse in _KIND_NAMES:
            return _KIND_NAMES[self.parse]
        return self.parse.__name__


def describe(columns: Sequence[Column]) -> str:
    """A Markdown table of the column layout, for endpoint documentation."""
    lines = ["| column | required | format | meaning |", "|---|---|---|---|"]
    lines += [f"| `{c.name}` | {'yes' if c.required else ''} | {c.kind()} | {c.doc} |" for c in columns]
    return "\n".join(lines)


REQUEST_COLUMNS: tuple[Column, ...] = (
    Column("id", parse_text, doc="request id; generated (r-000123) when empty"),
    Column("senior_id", parse_text, True, "id of an existing senior"),
    Column("service", parse_text, True, "home_care, specialist_care, specialist_care_mental, personal_assistance, "
                                        "respite, taxi or handyman"),
    Column("first_date", parse_date, True, "first (or only) day"),
    Column("window_start", parse_time, True, "earliest start"),
    Column("window_end", parse_time, True, "latest start"),
    Column("duration", parse_int, doc="minutes on site; the service's default when empty"),
    Column("rrule", parse_text, doc="RFC 5545 rule, e.g. FREQ=WEEKLY;BYDAY=MO,WE,FR (quote the cell in CSV); "
                                    "empty: one-off"),
    Column("until", parse_date, doc="last day of a recurring request"),
    Column("required_skills", parse_list, doc="extra skills; the service's own are always added"),
    Column("workers_needed", parse_int, doc="1 (default) or 2"),
    Column("priority", parse_int, doc="1 (lowest) to 5 (highest), default 3"),
    Column("mandatory", parse_bool, doc="must be planned; default nie"),
    Column("soft_window", parse_bool, doc="may start late (up to max_lateness); default nie"),
    Column("max_lateness", parse_int, doc="minutes; default 0"),
    Column("destination_place_id", parse_text, doc="taxi only: destination place id"),
    Column("appointment", parse_time, doc="taxi only: arrive no later than"),
    Column("appointment_minutes", parse_int, doc="taxi only: length of the appointment"),
    Column("return_trip", parse_bool, doc="taxi only: default tak"),
    Column("return_on_call", parse_bool, doc="taxi only: default nie"),
    Column("escort", parse_bool, doc="taxi only: an escort rides along; default nie"),
    Column("assistant", parse_bool, doc="taxi only: the centre's assistant accompanies the senior; default nie"),
    Column("wheelchair", parse_bool, doc="taxi only: default as the senior"),
    Column("purpose", parse_text, doc="taxi only: medical, office, bank, cemetery, shopping or activity"),
    Column("follows_request_id", parse_text, doc="a request (stored, or on an earlier line) this one follows"),
    Column("follow_min_delay", parse_int, doc="minutes after the followed visit; default 0"),
    Column("follow_max_delay", parse_int, doc="minutes after the followed visit at most"),
    Column("tasks", parse_text, doc="what to do, for the worker"),
)

WEEKDAY_COLUMNS = ("shift_mon", "shift_tue", "shift_wed", "shift_thu", "shift_fri", "shift_sat", "shift_sun")

WORKER_COLUMNS: tuple[Column, ...] = (
    Column("id", parse_text, doc="worker id; generated (w-00123) when empty"),
    Column("first_name", parse_text, True),
    Column("last_name", parse_text, True),
    Column("gender", parse_text, True, "F or M"),
    Column("kind", choice(WorkerKind), True, ", ".join(k.value for k in WorkerKind)),
    Column("skills", parse_list, doc="e.g. community_carer, driving_licence_b"),
    Column("contract", choice(Contract), True, ", ".join(c.value for c in Contract)),
    Column("weekly_hours", parse_float, True, "contracted hours per week"),
    Column("home_area", parse_text, True, "place id of the home area"),
    Column("home_lat", parse_float, True, "latitude of home"),
    Column("home_lon", parse_float, True, "longitude of home"),
    Column("travel_mode", choice(TravelMode), True, ", ".join(t.value for t in TravelMode)),
    Column("starts_at_office", parse_bool, doc="else starts and ends at home; default nie"),
    Column("max_daily_minutes", parse_int, doc="default 480"),
    Column("car_id", parse_text, doc="id of an existing car"),
    *(Column(name, parse_shifts, doc=f"shifts on {day}") for name, day in zip(
        WEEKDAY_COLUMNS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"), strict=True)),
)


# --------------------------------------------------------------------------- reading files


@dataclass
class Table:
    """The header (lower-cased names) and the non-blank rows with their Excel line numbers."""

    header: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)


def _file_error(message: str, row: int | None = None, field_name: str = "file") -> ImportInvalid:
    error: FieldError = {"field": field_name, "message": message}
    if row is not None:
        error = {"row": row, **error}
    return ImportInvalid([error], message)


def read_table(content: bytes, filename: str | None = None) -> Table:
    """Read a CSV (``;``, UTF-8 +- BOM) or XLSX file into text cells; raises ``ImportInvalid``."""
    if len(content) > MAX_FILE_BYTES:
        raise _file_error(f"the file has {len(content)} bytes; at most {MAX_FILE_BYTES} are accepted")
    if not content.strip():
        raise _file_error("the file is empty")
    name = (filename or "").lower()
    if content[:4] == b"PK\x03\x04":
        frame = _read_xlsx(content)
    elif name.endswith(".xls") or content[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise _file_error("old .xls workbooks are not read: save the file as .xlsx or as CSV UTF-8")
    else:
        frame = _read_csv(content)
    values = frame.to_numpy(dtype=object).tolist()
    if not values:
        raise _file_error("the file is empty")
    header = [str(h).replace("\ufeff", "").strip().lower() for h in values[0]]
    table = Table(header)
    for index, raw in enumerate(values[1:], start=2):
        cells = ["" if c is None else str(c).strip() for c in raw]
        if any(cells):
            table.rows.append((index, cells))
    return table


def _read_xlsx(content: bytes) -> Any:
    import pandas as pd  # imported on first use: it costs the API and the CLI a second at start-up

    try:
        return pd.read_excel(io.BytesIO(content), sheet_name=0, header=None, dtype=str,
                             keep_default_na=False, na_filter=False, engine="openpyxl")
    except (zipfile.BadZipFile, ValueError, KeyError, OSError) as exc:
        raise _file_error(f"not a readable XLSX workbook ({exc})") from None


def _read_csv(content: bytes) -> Any:
    import pandas as pd

    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _file_error(
            "the file is not UTF-8 text: in Excel use 'Save as' -> 'CSV UTF-8 (rozdzielany przecinkami)' "
            "(it separates columns with ';' in Polish Excel), or upload the .xlsx file"
        ) from None
    first_line = text.split("\n", 1)[0]
    if ";" not in first_line and ("," in first_line or "\t" in first_line):
        raise _file_error("columns must be separated by ';' (as Polish Excel saves CSV), not ',' or tabs", 1)
    try:
        return pd.read_csv(io.StringIO(text), sep=";", header=None, dtype=str, keep_default_na=False,
                           na_filter=False, skip_blank_lines=False)
    except pd.errors.EmptyDataError:
        raise _file_error("the file is empty") from None
    except pd.errors.ParserError as exc:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if found:
            expected, line, saw = (int(x) for x in found.groups())
            raise _file_error(f"{saw} cells but the header has {expected} columns (a ';' inside a cell needs quotes)",
                              line, "") from None
        raise _file_error(f"not a readable CSV file ({exc})") from None


# --------------------------------------------------------------------------- rows to values


@dataclass
class ParsedRow:
    line: int
    values: dict[str, Any]
    bad: set[str]  # columns that failed to convert


def parse_rows(table: Table, columns: Sequence[Column]) -> tuple[list[ParsedRow], list[FieldError]]:
    """Convert each cell by its column; header problems stop here, cell problems are collected."""
    by_name = {c.name: c for c in columns}
    errors: list[FieldError] = []
    seen: dict[str, int] = {}
    used: list[tuple[int, Column]] = []
    for position, name in enumerate(table.header):
        if not name:
            if any(position < len(cells) and cells[position] for _, cells in table.rows):
                errors.append({"row": 1, "field": f"column {position + 1}", "message": "values under an empty header"})
            continue
        if name in seen:
            errors.append({"row": 1, "field": name, "message": f"the column appears twice (columns {seen[name] + 1} "
                                                               f"and {position + 1})"})
            continue
        seen[name] = position
        if name not in by_name:
            errors.append({"row": 1, "field": name,
                           "message": f"unknown column; the columns are: {', '.join(by_name)}"})
            continue
        used.append((position, by_name[name]))
    for column in columns:
        if column.required and column.name not in seen:
            errors.append({"row": 1, "field": column.name, "message": "required column missing"})
    if not table.rows:
        errors.append({"row": 2, "field": "", "message": "the file has a header but no data rows"})
    if errors:
        return [], errors
    parsed: list[ParsedRow] = []
    for line, cells in table.rows:
        row = ParsedRow(line, {}, set())
        for position, column in used:
            text = cells[position] if position < len(cells) else ""
            if not text:
                if column.required:
                    errors.append({"row": line, "field": column.name, "message": "is required"})
                    row.bad.add(column.name)
                continue
            try:
                row.values[column.name] = column.parse(text)
            except ValueError as exc:
                errors.append({"row": line, "field": column.name, "message": str(exc)})
                row.bad.add(column.name)
        parsed.append(row)
    return parsed, errors


def _row_errors(line: int, problems: list[FieldError], bad: set[str], rename: Callable[[str], str] = str) -> list[FieldError]:
    """Domain errors of one row, without repeats of columns that already failed to convert."""
    out: list[FieldError] = []
    for p in problems:
        name = rename(p.get("field", ""))
        if name not in bad:
            out.append({"row": line, "field": name, "message": p.get("message", "")})
    return out


def _check_ids(rows: list[ParsedRow], model: type, entity: str, session: Session, errors: list[FieldError]) -> None:
    first_line: dict[str, int] = {}
    for row in rows:
        given = row.values.get("id")
        if given is None:
            continue
        id_errors: list[FieldError] = []
        check_id(given, id_errors)
        if id_errors:
            errors += _row_errors(row.line, id_errors, set())
        elif given in first_line:
            errors.append({"row": row.line, "field": "id", "message": f"id {given!r} is already used on line {first_line[given]}"})
        elif session.get(model, given) is not None:
            errors.append({"row": row.line, "field": "id", "message": f"{entity} {given!r} already exists (imports only add)"})
        first_line.setdefault(given, row.line)


# --------------------------------------------------------------------------- the imports


@dataclass
class ImportResult:
    """What an import did (or, for a dry run, would do)."""

    kind: str
    rows: int
    created: dict[str, int]
    ids: list[str]
    dry_run: bool


def _summary(session: Session, actor: str, kind: str, content: bytes, filename: str | None, result: ImportResult) -> None:
    audit.record(session, actor, f"import.{kind}", "import", None, {
        "file": filename or "", "sha256": hashlib.sha256(content).hexdigest(), "rows": result.rows,
        "created": result.created,
    })


def import_requests(
    session: Session, actor: str, content: bytes, filename: str | None = None, *, dry_run: bool = False
) -> ImportResult:
    """Add every visit request in the file, or none (``ImportInvalid`` lists all problems)."""
    rows, errors = parse_rows(read_table(content, filename), REQUEST_COLUMNS)
    if not rows and errors:
        raise _invalid(errors)
    _check_ids(rows, m.VisitRequest, "visit request", session, errors)
    earlier: set[str] = set()
    ready: list[tuple[ParsedRow, dict[str, Any]]] = []
    for row in rows:
        values, problems = requests_service.prepare(
            session, row.values, request_id=row.values.get("id"), pending_request_ids=frozenset(earlier)
        )
        errors += _row_errors(row.line, problems, row.bad)
        if row.values.get("id"):
            earlier.add(row.values["id"])
        ready.append((row, values))
    if errors:
        raise _invalid(errors)
    fresh = iter(requests_service.REQUEST_IDS.allocate(session, m.VisitRequest, sum(1 for r, _ in ready if not r.values.get("id"))))
    items = [(r.values.get("id") or next(fresh), values) for r, values in ready]
    result = ImportResult("requests", len(rows), {"visit_requests": len(items)}, [i for i, _ in items], dry_run)
    if not dry_run:
        requests_service.add_prepared(session, actor, items, source=f"import:{filename or 'file'}")
        _summary(session, actor, "requests", content, filename, result)
    return result


def import_workers(
    session: Session, actor: str, content: bytes, filename: str | None = None, *, dry_run: bool = False
) -> ImportResult:
    """Add every worker (with weekly shifts) in the file, or none (``ImportInvalid`` lists all problems)."""
    rows, errors = parse_rows(read_table(content, filename), WORKER_COLUMNS)
    if not rows and errors:
        raise _invalid(errors)
    _check_ids(rows, m.Worker, "worker", session, errors)
    ready: list[tuple[ParsedRow, dict[str, Any]]] = []
    for row in rows:
        values = {k: v for k, v in row.values.items() if k not in WEEKDAY_COLUMNS and k != "id"}
        shifts = [
            {"weekday": weekday, "start": start, "end": end}
            for weekday, name in enumerate(WEEKDAY_COLUMNS)
            for start, end in row.values.get(name, [])
        ]
        values["shifts"] = shifts

        def column_of(name: str, shifts: list[dict[str, Any]] = shifts) -> str:
            match = re.match(r"shifts\.(\d+)", name)
            return WEEKDAY_COLUMNS[shifts[int(match[1])]["weekday"]] if match else name

        errors += _row_errors(row.line, validate_worker(session, values), row.bad, column_of)
        ready.append((row, values))
    if errors:
        raise _invalid(errors)
    fresh = iter(WORKER_IDS.allocate(session, m.Worker, sum(1 for r, _ in ready if not r.values.get("id"))))
    items = [(r.values.get("id") or next(fresh), values) for r, values in ready]
    n_shifts = sum(len(v["shifts"]) for _, v in items)
    result = ImportResult("workers", len(rows), {"workers": len(items), "worker_shifts": n_shifts},
                          [i for i, _ in items], dry_run)
    if not dry_run:
        workers = [new_worker(session, worker_id, values) for worker_id, values in items]
        session.add_all(workers)
        flush_session(session, "imported workers")
        source = f"import:{filename or 'file'}"
        for worker in workers:
            record_worker_created(session, actor, worker, source)
        _summary(session, actor, "workers", content, filename, result)
    return result


def _invalid(errors: list[FieldError]) -> ImportInvalid:
    """All problems, by line (columns in file order within a line), with a one-line summary."""
    errors = sorted(errors, key=lambda e: e.get("row", 0))
    return ImportInvalid(errors, _headline(errors))


def _headline(errors: list[FieldError]) -> str:
    rows = sorted({e["row"] for e in errors if "row" in e})
    where = f" on {len(rows)} line(s): {', '.join(map(str, rows[:15]))}{' ...' if len(rows) > 15 else ''}" if rows else ""
    return f"{len(errors)} problem(s){where}; nothing was imported"
