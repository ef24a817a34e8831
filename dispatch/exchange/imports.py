"""Spreadsheet imports of everything a centre keeps in spreadsheets: all rows or none.

Six kinds, in the order a centre starting from nothing loads them (each refers to the ones
before it): ``places``, ``services``, ``cars``, ``workers``, ``seniors``, ``requests``
(``KINDS``; ``template`` gives each one's header row as a file to fill in).

A file is CSV as Polish Excel writes it (``;`` between columns, UTF-8 with or without BOM,
decimal commas, dates as ``01.12.2026``) or an XLSX workbook (first sheet).  Either way every
cell is read as text, the header is line 1, and the first data row is line 2, exactly the row
numbers Excel shows.  Blank rows are skipped (their numbers still count).  The file is streamed
row by row (``csv``; openpyxl read-only) and refused as soon as it passes a limit below
(``MAX_ROWS``, ``MAX_COLUMNS``, ``MAX_CELL_CHARS``, ...), before the work grows with it.

Every row is converted and checked with the same rules as the API (``requests_service.prepare``,
``catalog.validate_worker``, ``catalog.validate_senior``, ``places.prepare_place``,
``service_catalog.prepare_service``, ``catalog.validate_car``); *every* problem is collected as
``{"row", "field", "message"}``, and if there is any, nothing is written (``ImportInvalid``).
Otherwise all rows go in with the caller's transaction, each with its own audit row plus one
``import.<kind>`` summary.  A dry run does all the checks and writes nothing.

Places, seniors and workers without coordinates are located from their address like over the
API (``dispatch.providers.geocoding``): ``prefetch`` looks the file's addresses up *before* the import's
transaction (a second each, cached), and the import itself reads the cache only.

Imports only add: an id that already exists is an error, never an update.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from dispatch.access import audit
from dispatch.providers import geocoding
from dispatch.catalog import intake_rules, places
from dispatch.catalog import requests as requests_service
from dispatch.catalog import services as service_catalog
from dispatch.storage import models as m
from dispatch.catalog.records import (
    CAR_IDS,
    SENIOR_IDS,
    WORKER_IDS,
    FieldError,
    InvalidInput,
    check_id,
    created_changes,
    new_worker,
    normalise_plate,
    record_worker_created,
    senior_values,
    validate_car,
    validate_senior,
    labour_warnings,
    validate_worker,
)
from dispatch.catalog.records import flush as flush_session
from dispatch.providers.geocoding import AddressFields, AddressQuery, Geocoder
from dispatch.timeutil import LOCAL_TIME_ONLY
from dispatch.domain import Contract, Disability, PlaceKind, TravelMode, WorkerKind, as_text

# Limits of one import, checked while the file is read (issue 21: bounded work per request).
# Each refusal is a 422 ``import-invalid`` naming the limit, with the line (``row``) where
# reading stopped; the import endpoints' documentation lists them (api/routers/imports.py).
#: The file itself (the upload body may be a little larger: ``api.body_limit``).
MAX_FILE_BYTES = 5 * 1024 * 1024
#: Rows below the header, empty ones included.  Binding for one file of a whole year of requests: at the
#: demo's booking rates a centre of 820 seniors has ~700 recurring requests and ~15,400 one-off bookings a
#: year (taxi ~10,100, handyman ~4,100, assistance ~1,200), about 16,000 rows.  Kept, not raised: 4,920
#: request rows took 4.6 s on SQLite (holding its only write lock, past which other writers wait at most
#: 10 s) and 8.7 s on PostgreSQL (measured 2026-12, issue 14), so 20,000 would block a SQLite centre's
#: writers for ~19 s.  Split a year into files of at most 5,000 rows (the recurring plans, then the
#: one-off bookings by quarter): imports only add, so the files go in one after the other.
MAX_ROWS = 5_000
#: Columns read; the widest layout (visit requests) has 32.
MAX_COLUMNS = 64
#: Characters in one cell: the longest field, ``tasks``, takes 2,000 through the API too.
MAX_CELL_CHARS = 2_000
#: Characters in one CSV line.
MAX_LINE_CHARS = 32 * 1024
#: Parts in an XLSX archive (Excel writes about a dozen) and their declared size unpacked:
#: checked before parsing, so a zip bomb is refused unopened.
MAX_XLSX_MEMBERS = 500
MAX_XLSX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024


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
    if re.fullmatch(r"\d{1,2}[:.]\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|z|UTC|[+-]\d{2}(?::?\d{2})?)", value):
        raise ValueError(f"{text!r}: {LOCAL_TIME_ONLY}")
    raise ValueError(f"{text!r} is not a time; write 08:00")


def parse_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _time_ranges(text: str, what: str, example: str) -> list[tuple[dt.time, dt.time]]:
    out = []
    for part in text.split(","):
        if not part.strip():
            continue
        pieces = part.strip().split("-")
        if len(pieces) != 2:
            raise ValueError(f"{part.strip()!r} is not {what}; write {example}")
        out.append((parse_time(pieces[0].strip()), parse_time(pieces[1].strip())))
    return out


def parse_shifts(text: str) -> list[tuple[dt.time, dt.time]]:
    return _time_ranges(text, "a shift", "07:00-15:00 (two shifts: 07:00-11:00, 16:00-19:00)")


def parse_windows(text: str) -> list[tuple[dt.time, dt.time]]:
    return _time_ranges(text, "a window", "17:00-18:00 (two more windows: 12:00-12:30, 17:00-18:00)")


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
    parse_windows: "windows (17:00-18:00, several separated by commas)",
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
    Column("service", parse_text, True, "a service code (services import, GET /api/v1/services), e.g. home_care "
                                        "or taxi"),
    Column("first_date", parse_date, True, "first (or only) day"),
    Column("window_start", parse_time, True, "earliest start"),
    Column("window_end", parse_time, True, "latest start"),
    Column("extra_windows", parse_windows, doc="further windows after the first, in order of time, e.g. "
                                               "17:00-18:00; the visit starts in any one window; not for taxi"),
    Column("duration", parse_int, doc="minutes on site; the service's default when empty"),
    Column("rrule", parse_text, doc="RFC 5545 rule, e.g. FREQ=WEEKLY;BYDAY=MO,WE,FR (quote the cell in CSV); "
                                    "empty: one-off"),
    Column("until", parse_date, doc="last day of a recurring request"),
    Column("required_skills", parse_list, doc="extra skills; the service's own are always added"),
    Column("workers_needed", parse_int, doc="1 (default) or 2"),
    Column("priority", parse_int, doc="1 (lowest) to 5 (highest), default 3"),
    Column("mandatory", parse_bool, doc="must be planned; default: the service's"),
    Column("soft_window", parse_bool, doc="may start late (up to max_lateness); default nie"),
    Column("max_lateness", parse_int, doc="minutes; default 0"),
    Column("destination_place_id", parse_text, doc="rides (taxi) only: destination place id"),
    Column("appointment", parse_time, doc="rides only: arrive no later than"),
    Column("appointment_minutes", parse_int, doc="rides only: length of the appointment"),
    Column("return_trip", parse_bool, doc="rides only: default tak"),
    Column("return_on_call", parse_bool, doc="rides only: default nie"),
    Column("escort", parse_bool, doc="rides only: an escort rides along; default nie"),
    Column("assistant", parse_bool, doc="rides only: the centre's assistant accompanies the senior; default nie"),
    Column("wheelchair", parse_bool, doc="rides only: default as the senior"),
    Column("purpose", parse_text, doc="rides only: medical, office, bank, cemetery, shopping or activity"),
    Column("follows_request_id", parse_text, doc="a request (stored, or on an earlier line) this one follows"),
    Column("follow_min_delay", parse_int, doc="minutes after the followed visit; default 0"),
    Column("follow_max_delay", parse_int, doc="minutes after the followed visit at most"),
    Column("tasks", parse_text, doc="what to do, for the worker"),
    Column("required_workers", parse_list, doc="worker ids: only these may do it (a two-person visit: at least "
                                               "two); taxi: its drivers"),
    Column("preferred_workers", parse_list, doc="worker ids preferred, besides the senior's regular workers"),
    Column("forbidden_workers", parse_list, doc="worker ids never to send, besides the senior's forbidden workers"),
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
    Column("home_lat", parse_float, doc="latitude of home; empty: looked up from home_street ... home_city "
                                        "(needs a geocoder)"),
    Column("home_lon", parse_float, doc="longitude of home"),
    Column("home_street", parse_text, doc="home address, only to look up home_lat/home_lon (not stored)"),
    Column("home_number", parse_text, doc="house number of home"),
    Column("home_postcode", parse_text, doc="postcode of home, 25-001"),
    Column("home_city", parse_text, doc="city of home"),
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
    """Read a CSV (``;``, UTF-8 +- BOM) or XLSX file into text cells; raises ``ImportInvalid``.

    Both formats are streamed row by row and every limit (``MAX_ROWS``, ``MAX_COLUMNS``,
    ``MAX_CELL_CHARS``, ``MAX_LINE_CHARS``, and for XLSX the archive's ``MAX_XLSX_MEMBERS`` and
    ``MAX_XLSX_UNCOMPRESSED_BYTES``) is checked as the rows come, so a file over a limit is refused
    after reading at most one row past it (a 95 KB XLSX of 100,000 rows took 61.5 s and 333 MB
    before its 422 when the whole sheet went through pandas first; issue 21).
    """
    if len(content) > MAX_FILE_BYTES:
        raise _file_error(f"the file has {len(content)} bytes; at most {MAX_FILE_BYTES} are accepted (MAX_FILE_BYTES)")
    if not content.strip():
        raise _file_error("the file is empty")
    name = (filename or "").lower()
    if content[:4] == b"PK\x03\x04":
        records = _xlsx_records(content)
    elif name.endswith(".xls") or content[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise _file_error("old .xls workbooks are not read: save the file as .xlsx or as CSV UTF-8")
    else:
        records = _csv_records(content)
    with closing(records):
        return _table(records)


def _table(records: Iterator[list[Any]]) -> Table:
    """The header and the non-blank rows, checking the row, column and cell limits as rows arrive."""
    table: Table | None = None
    for line, raw in enumerate(records, start=1):
        if line > MAX_ROWS + 1:
            raise _file_error(
                f"the file has more than {MAX_ROWS} rows below the header (MAX_ROWS; empty rows count too): "
                "split it into several files", line)
        if len(raw) > MAX_COLUMNS and any(_cell_text(c) for c in raw[MAX_COLUMNS:]):
            raise _file_error(f"more than {MAX_COLUMNS} columns (MAX_COLUMNS)", line, f"column {MAX_COLUMNS + 1}")
        cells = [_cell_text(c) for c in raw[:MAX_COLUMNS]]
        for position, cell in enumerate(cells):
            column = table.header[position] if table and position < len(table.header) and table.header[position] \
                else f"column {position + 1}"
            if len(cell) > MAX_CELL_CHARS:
                raise _file_error(f"a cell has {len(cell)} characters; at most {MAX_CELL_CHARS} are accepted "
                                  "(MAX_CELL_CHARS)", line, column)
            if "\x00" in cell:  # PostgreSQL cannot store it (a 500 there before issue 20's fuzzing)
                raise _file_error("a cell contains the NUL character (U+0000)", line, column)
        if table is None:
            table = Table([c.replace("\ufeff", "").strip().lower() for c in cells])
        elif any(cells):
            table.rows.append((line, cells))
    if table is None:
        raise _file_error("the file is empty")
    return table


def _cell_text(value: Any) -> str:
    """A cell as stripped text; a whole number without ``.0`` (an XLSX keeps 45 as 45.0)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _check_archive(content: bytes) -> None:
    """Refuse a zip bomb before parsing: count the members and add up their declared sizes.

    Python's ``zipfile`` (which openpyxl reads through) stops every member at its declared size
    and checks its CRC, so the declared sizes bound what parsing can unpack.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise _file_error(f"not a readable XLSX workbook ({exc})") from None
    if len(members) > MAX_XLSX_MEMBERS:
        raise _file_error(f"the workbook has {len(members)} parts; at most {MAX_XLSX_MEMBERS} are accepted "
                          "(MAX_XLSX_MEMBERS)")
    unpacked = sum(member.file_size for member in members)
    if unpacked > MAX_XLSX_UNCOMPRESSED_BYTES:
        raise _file_error(f"the workbook unpacks to {unpacked} bytes; at most {MAX_XLSX_UNCOMPRESSED_BYTES} are "
                          "accepted (MAX_XLSX_UNCOMPRESSED_BYTES)")


def _xlsx_records(content: bytes) -> Iterator[list[Any]]:
    """The first sheet's rows, streamed (openpyxl read-only), at most ``MAX_COLUMNS + 1`` cells wide.

    Reading stops one row past the limit (``max_row``): openpyxl fills missing rows in, so a
    sheet with one row at line 1,000,000 would otherwise yield a million empty ones.
    """
    _check_archive(content)
    import openpyxl  # imported on first use: the API and the CLI start faster

    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # any parser failure on untrusted input is the file's fault
        raise _file_error(f"not a readable XLSX workbook ({type(exc).__name__}: {exc})") from None
    try:
        if not book.worksheets:
            raise _file_error("the workbook has no sheet")
        rows = book.worksheets[0].iter_rows(max_row=MAX_ROWS + 2, max_col=MAX_COLUMNS + 1, values_only=True)
        while True:
            try:
                values = next(rows, None)
            except Exception as exc:  # a broken sheet part shows only when the parser reaches it
                raise _file_error(f"not a readable XLSX workbook ({type(exc).__name__}: {exc})") from None
            if values is None:
                return
            yield list(values)
    finally:
        book.close()


_NOT_UTF8 = ("the file is not UTF-8 text: in Excel use 'Save as' -> 'CSV UTF-8 (rozdzielany przecinkami)' "
             "(it separates columns with ';' in Polish Excel), or upload the .xlsx file")


def _csv_lines(content: bytes) -> Iterator[str]:
    """The file's lines, decoded as they are read, each at most ``MAX_LINE_CHARS`` long."""
    stream = io.TextIOWrapper(io.BytesIO(content), encoding="utf-8-sig", newline="")
    number = 0
    while True:
        try:
            line = stream.readline(MAX_LINE_CHARS + 2)  # room for the line's own CR LF
        except UnicodeDecodeError:
            raise _file_error(_NOT_UTF8) from None
        if not line:
            return
        number += 1
        body = line.rstrip("\r\n")
        if len(body) > MAX_LINE_CHARS:
            raise _file_error(f"line {number} is longer than {MAX_LINE_CHARS} characters (MAX_LINE_CHARS)", number)
        if number == 1 and ";" not in body and ("," in body or "\t" in body):
            raise _file_error("columns must be separated by ';' (as Polish Excel saves CSV), not ',' or tabs", 1)
        yield line


def _csv_records(content: bytes) -> Iterator[list[Any]]:
    """The records of a ``;``-separated file, read one at a time; a record wider than the header is an error."""
    reader = csv.reader(_csv_lines(content), delimiter=";")
    width: int | None = None
    while True:
        try:
            record = next(reader, None)
        except csv.Error as exc:
            raise _file_error(f"not a readable CSV file ({exc}; is a quote left open?)", reader.line_num) from None
        if record is None:
            return
        if width is None:
            width = len(record)
        elif len(record) > width:
            raise _file_error(f"{len(record)} cells but the header has {width} columns (a ';' inside a cell needs "
                              "quotes)", reader.line_num, "")
        yield record


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
            extra = {k: v for k, v in p.items() if k not in ("row", "field", "message")}  # an intake rule's numbers
            out.append({"row": line, "field": name, "message": p.get("message", ""), **extra})  # type: ignore[typeddict-item]
    return out


def _check_ids(rows: list[ParsedRow], model: type, entity: str, session: Session, errors: list[FieldError],
               field_name: str = "id") -> None:
    first_line: dict[str, int] = {}
    for row in rows:
        given = row.values.get(field_name)
        if given is None:
            continue
        id_errors: list[FieldError] = []
        check_id(given, id_errors, field_name)
        if id_errors:
            errors += _row_errors(row.line, id_errors, set())
        elif given in first_line:
            errors.append({"row": row.line, "field": field_name,
                           "message": f"{field_name} {given!r} is already used on line {first_line[given]}"})
        elif session.get(model, given) is not None:
            errors.append({"row": row.line, "field": field_name,
                           "message": f"{entity} {given!r} already exists (imports only add)"})
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
    warnings: list[dict[str, Any]] = field(default_factory=list)
    """Rows accepted with a warning (a worker's shifts over the contract's weekly hours), with the row."""


def _summary(session: Session, actor: str, kind: str, content: bytes, filename: str | None, result: ImportResult) -> None:
    audit.record(session, actor, f"import.{kind}", "import", None, {
        "file": filename or "", "sha256": hashlib.sha256(content).hexdigest(), "rows": result.rows,
        "created": result.created,
    })


def import_requests(
    session: Session, actor: str, content: bytes, filename: str | None = None, *, dry_run: bool = False,
    geocoder: Geocoder | None = None, now: dt.datetime | None = None,
) -> ImportResult:
    """Add every visit request in the file, or none (``ImportInvalid`` lists all problems).

    Each row also passes the intake rules at ``now`` (``dispatch.catalog.intake_rules``; default: the
    system clock), counted with the file's earlier rows: a file cannot book a third ride of a
    month in two rows.  A broken rule is a row error naming the rule; imports have no override.
    """
    rows, errors = parse_rows(read_table(content, filename), REQUEST_COLUMNS)
    if not rows and errors:
        raise _invalid(errors)
    _check_ids(rows, m.VisitRequest, "visit request", session, errors)
    earlier: set[str] = set()
    ready: list[tuple[ParsedRow, dict[str, Any]]] = []
    ledgers = intake_rules.Ledgers(session)
    for row in rows:
        values, problems = requests_service.prepare(
            session, row.values, request_id=row.values.get("id"), pending_request_ids=frozenset(earlier)
        )
        if not problems:
            problems = [v.as_error() for v in ledgers.check(values, now=now)]
        errors += _row_errors(row.line, problems, row.bad, _request_column)
        if row.values.get("id"):
            earlier.add(row.values["id"])
        ready.append((row, values))
    if errors:
        raise _invalid(errors)
    ids = requests_service.REQUEST_IDS.for_batch(session, m.VisitRequest, [r.values.get("id") or None for r, _ in ready],
                                                 dry_run=dry_run)
    items = [(i, values) for i, (_, values) in zip(ids, ready, strict=True)]
    result = ImportResult("requests", len(rows), {"visit_requests": len(items)}, [i for i, _ in items], dry_run)
    if not dry_run:
        requests_service.add_prepared(session, actor, items, source=f"import:{filename or 'file'}")
        _summary(session, actor, "requests", content, filename, result)
    return result


def _request_column(field_name: str) -> str:
    """The file column a request error belongs to (``extra_windows.1.start`` is in ``extra_windows``)."""
    return field_name.split(".")[0] if field_name.startswith("extra_windows.") else field_name


def import_workers(
    session: Session, actor: str, content: bytes, filename: str | None = None, *, dry_run: bool = False,
    geocoder: Geocoder | None = None,
) -> ImportResult:
    """Add every worker (with weekly shifts) in the file, or none (``ImportInvalid`` lists all problems)."""
    rows, errors = parse_rows(read_table(content, filename), WORKER_COLUMNS)
    if not rows and errors:
        raise _invalid(errors)
    _check_ids(rows, m.Worker, "worker", session, errors)
    warnings: list[dict[str, Any]] = []
    ready: list[tuple[ParsedRow, dict[str, Any]]] = []
    for row in rows:
        values = {k: v for k, v in row.values.items() if k not in WEEKDAY_COLUMNS and k != "id"}
        values, located = _located(session, geocoder, values, geocoding.WORKER_HOME)
        shifts = [
            {"weekday": weekday, "start": start, "end": end}
            for weekday, name in enumerate(WEEKDAY_COLUMNS)
            for start, end in row.values.get(name, [])
        ]
        values["shifts"] = shifts

        def column_of(name: str, shifts: list[dict[str, Any]] = shifts) -> str:
            match = re.match(r"shifts\.(\d+)", name)
            return WEEKDAY_COLUMNS[shifts[int(match[1])]["weekday"]] if match else name

        problems = _unless_not_found(located, validate_worker(session, values), geocoding.WORKER_HOME)
        errors += _row_errors(row.line, problems, row.bad, column_of)
        if not problems and not row.bad:
            warnings += [{"row": row.line, "field": "weekly_hours", **w}
                         for w in labour_warnings(values.get("contract"), values.get("weekly_hours") or 0, shifts)]
        ready.append((row, values))
    if errors:
        raise _invalid(errors)
    ids = WORKER_IDS.for_batch(session, m.Worker, [r.values.get("id") or None for r, _ in ready], dry_run=dry_run)
    items = [(i, values) for i, (_, values) in zip(ids, ready, strict=True)]
    n_shifts = sum(len(v["shifts"]) for _, v in items)
    result = ImportResult("workers", len(rows), {"workers": len(items), "worker_shifts": n_shifts},
                          [i for i, _ in items], dry_run, warnings)
    if not dry_run:
        workers = [new_worker(session, worker_id, values) for worker_id, values in items]
        session.add_all(workers)
        flush_session(session, "imported workers")
        source = f"import:{filename or 'file'}"
        for worker in workers:
            record_worker_created(session, actor, worker, source)
        _summary(session, actor, "workers", content, filename, result)
    return result


# --------------------------------------------------------------------------- places, services, cars, seniors

PLACE_COLUMNS: tuple[Column, ...] = (
    Column("id", parse_text, doc="place id; made from kind and name (destination-szpital-kielecki) when empty"),
    Column("kind", choice(PlaceKind), True, ", ".join(k.value for k in PlaceKind)),
    Column("name", parse_text, True, "e.g. Wojewódzki Szpital Zespolony"),
    Column("street", parse_text, doc="e.g. Grunwaldzka"),
    Column("number", parse_text, doc="house number, e.g. 45 or 12a"),
    Column("postcode", parse_text, doc="25-736"),
    Column("city", parse_text, doc="needed to look the coordinates up"),
    Column("lat", parse_float, doc="latitude; empty: looked up from the address (needs a geocoder)"),
    Column("lon", parse_float, doc="longitude"),
    Column("note", parse_text, doc="e.g. which entrance"),
)

SERVICE_COLUMNS: tuple[Column, ...] = (
    Column("code", parse_text, True, "the id requests use, e.g. home_care or rehabilitation"),
    Column("name_pl", parse_text, True, "e.g. Usługi opiekuńcze"),
    Column("name_en", parse_text, True, "e.g. Home care"),
    Column("default_duration", parse_int, True, "minutes on site when a request gives none"),
    Column("required_skills", parse_list, doc="added to every request of the service"),
    Column("worker_kinds", parse_list, True, "who may do it: " + ", ".join(k.value for k in WorkerKind)),
    Column("mandatory", parse_bool, doc="the default of a request's mandatory; default nie"),
    Column("kind", choice(m.ServiceKind), doc="visit (default) or ride (the taxi)"),
    Column("working_days_only", parse_bool, doc="Monday to Friday except public holidays (taxi, handyman); "
                                                "default nie"),
    Column("intimate_care", parse_bool, doc="care of the body: a senior who requires a gender gets it only from "
                                            "that gender; default nie"),
)

CAR_COLUMNS: tuple[Column, ...] = (
    Column("id", parse_text, doc="car id; generated (car-0012) when empty"),
    Column("plate", parse_text, True, "registration plate, e.g. TK 12345"),
    Column("seats", parse_int, True, "passenger seats"),
    Column("wheelchair_places", parse_int, doc="default 0"),
    Column("base_place", parse_text, True, "place id where the car is kept (an office)"),
    Column("available_from", parse_time, doc="default 06:00"),
    Column("available_to", parse_time, doc="default 22:00"),
)

SENIOR_COLUMNS: tuple[Column, ...] = (
    Column("id", parse_text, doc="senior id; generated (s-00123) when empty"),
    Column("first_name", parse_text, True),
    Column("last_name", parse_text, True),
    Column("gender", parse_text, True, "F or M"),
    Column("birth_year", parse_int, True, "e.g. 1941"),
    Column("street", parse_text, True, "e.g. Sienkiewicza"),
    Column("number", parse_text, True, "house number"),
    Column("flat", parse_text, doc="flat number"),
    Column("postcode", parse_text, True, "25-001"),
    Column("city", parse_text, True),
    Column("area", parse_text, True, "place id of the senior's area or gmina"),
    Column("lat", parse_float, doc="latitude; empty: looked up from the address (needs a geocoder)"),
    Column("lon", parse_float, doc="longitude"),
    Column("phone", parse_text),
    Column("disability", choice(Disability), True, ", ".join(d.value for d in Disability)),
    Column("lives_alone", parse_bool, doc="default nie"),
    Column("wheelchair", parse_bool, doc="default nie"),
    Column("mental_disorder", parse_bool, doc="default nie"),
    Column("needs", parse_list, doc="service codes, e.g. home_care, taxi"),
    Column("preferred_gender", parse_text, doc="F or M"),
    Column("gender_rule", choice(m.GenderRule), doc="how preferred_gender binds: none, prefer (a wish) or require "
                                                     "(intimate care only from that gender); default prefer when "
                                                     "preferred_gender is given, else none"),
    Column("regular_workers", parse_list, doc="worker ids, continuity of care"),
    Column("forbidden_workers", parse_list, doc="worker ids never to send"),
    Column("notes_for_workers", parse_text, doc="e.g. key at the neighbour's; shown to the workers"),
    Column("health_notes", parse_text, doc="special-category data (RODO art. 9): coordinators and admins only"),
)


def _located(session: Session, geocoder: Geocoder | None, values: dict[str, Any],
             fields: AddressFields) -> tuple[dict[str, Any], list[FieldError]]:
    """The row's values with coordinates from the cache (``prefetch`` filled it), or the not-found error."""
    try:
        return geocoding.fill_coordinates(session, geocoder, values, fields, network=False), []
    except InvalidInput as exc:
        if not fields.stored:
            values = {k: v for k, v in values.items() if k not in fields.address}
        return values, list(exc.errors)


def _unless_not_found(located: list[FieldError], problems: list[FieldError], fields: AddressFields) -> list[FieldError]:
    """The row's problems, without "coordinates missing" when the address was not found (said already)."""
    if not located:
        return problems
    return located + [p for p in problems if p.get("field") not in (fields.lat, fields.lon)]


def import_places(
    session: Session, actor: str, content: bytes, filename: str | None = None, *, dry_run: bool = False,
    geocoder: Geocoder | None = None,
) -> ImportResult:
    """Add every place in the file, or none; coordinates left empty come from the geocoder's cache."""
    rows, errors = parse_rows(read_table(content, filename), PLACE_COLUMNS)
    if not rows and errors:
        raise _invalid(errors)
    _check_ids(rows, m.Place, "place", session, errors)
    ready: list[tuple[ParsedRow, dict[str, Any]]] = []
    for row in rows:
        values, located = _located(session, geocoder, {k: v for k, v in row.values.items() if k != "id"},
                                   geocoding.RECORD_ADDRESS)
        _, values, problems = places.prepare_place(values)
        errors += _row_errors(row.line, _unless_not_found(located, problems, geocoding.RECORD_ADDRESS), row.bad)
        ready.append((row, values))
    if errors:
        raise _invalid(errors)
    given = {r.values["id"] for r, _ in ready if r.values.get("id")}
    fresh = iter(places.new_place_ids(session, [(as_text(v["kind"]), v["name"])
                                                for r, v in ready if not r.values.get("id")], given))
    items = [(r.values.get("id") or next(fresh), values) for r, values in ready]
    result = ImportResult("places", len(rows), {"places": len(items)}, [i for i, _ in items], dry_run)
    if not dry_run:
        rows_out = [m.Place(id=place_id, **values) for place_id, values in items]
        session.add_all(rows_out)
        flush_session(session, "imported places")
        source = f"import:{filename or 'file'}"
        for place in rows_out:
            places.record_place_created(session, actor, place, source)
        _summary(session, actor, "places", content, filename, result)
    return result


def import_services(
    session: Session, actor: str, content: bytes, filename: str | None = None, *, dry_run: bool = False,
    geocoder: Geocoder | None = None,
) -> ImportResult:
    """Add every service in the file, or none (a code that exists is an error: imports only add)."""
    rows, errors = parse_rows(read_table(content, filename), SERVICE_COLUMNS)
    if not rows and errors:
        raise _invalid(errors)
    _check_ids(rows, m.Service, "service", session, errors, "code")
    ready: list[tuple[str, dict[str, Any]]] = []
    for row in rows:
        code, values, problems = service_catalog.prepare_service(row.values)
        errors += _row_errors(row.line, [p for p in problems if p.get("field") != "code"], row.bad)
        ready.append((code or "", values))
    if errors:
        raise _invalid(errors)
    result = ImportResult("services", len(rows), {"services": len(ready)}, [c for c, _ in ready], dry_run)
    if not dry_run:
        services = [service_catalog.new_service(code, values) for code, values in ready]
        session.add_all(services)
        flush_session(session, "imported services")
        for service in services:
            service_catalog.record_service_created(session, actor, service, f"import:{filename or 'file'}")
        _summary(session, actor, "services", content, filename, result)
    return result


def import_cars(
    session: Session, actor: str, content: bytes, filename: str | None = None, *, dry_run: bool = False,
    geocoder: Geocoder | None = None,
) -> ImportResult:
    """Add every car in the file, or none (plates unique, in the file and among stored cars)."""
    rows, errors = parse_rows(read_table(content, filename), CAR_COLUMNS)
    if not rows and errors:
        raise _invalid(errors)
    _check_ids(rows, m.Car, "car", session, errors)
    plates: dict[str, int] = {}
    ready: list[tuple[ParsedRow, dict[str, Any]]] = []
    for row in rows:
        values = {k: v for k, v in row.values.items() if k != "id"}
        values.setdefault("wheelchair_places", 0)
        values.setdefault("available_from", m.CarBase.model_fields["available_from"].default)
        values.setdefault("available_to", m.CarBase.model_fields["available_to"].default)
        if values.get("plate"):
            values["plate"] = normalise_plate(values["plate"])
        problems = validate_car(session, values)
        plate = values.get("plate")
        if plate and plate in plates:
            problems.append({"field": "plate", "message": f"plate {plate!r} is already on line {plates[plate]}"})
        elif plate and session.scalars(select(m.Car.id).where(col(m.Car.plate) == plate)).first() is not None:
            problems.append({"field": "plate", "message": f"a car with plate {plate!r} already exists"})
        if plate:
            plates.setdefault(plate, row.line)
        errors += _row_errors(row.line, problems, row.bad)
        ready.append((row, values))
    if errors:
        raise _invalid(errors)
    ids = CAR_IDS.for_batch(session, m.Car, [r.values.get("id") or None for r, _ in ready], dry_run=dry_run)
    items = [(i, values) for i, (_, values) in zip(ids, ready, strict=True)]
    result = ImportResult("cars", len(rows), {"cars": len(items)}, [i for i, _ in items], dry_run)
    if not dry_run:
        cars = [m.Car(id=car_id, **values) for car_id, values in items]
        session.add_all(cars)
        flush_session(session, "imported cars")
        for car in cars:
            audit.record(session, actor, "car.create", "car", car.id,
                         created_changes(car, {"source": f"import:{filename or 'file'}"}))
        _summary(session, actor, "cars", content, filename, result)
    return result


def import_seniors(
    session: Session, actor: str, content: bytes, filename: str | None = None, *, dry_run: bool = False,
    geocoder: Geocoder | None = None,
) -> ImportResult:
    """Add every senior in the file, or none; coordinates left empty come from the geocoder's cache.

    Health notes are written like over the API and never enter the audit log (``catalog.redact``).
    """
    rows, errors = parse_rows(read_table(content, filename), SENIOR_COLUMNS)
    if not rows and errors:
        raise _invalid(errors)
    _check_ids(rows, m.Senior, "senior", session, errors)
    ready: list[tuple[ParsedRow, dict[str, Any]]] = []
    for row in rows:
        values = senior_values({k: v for k, v in row.values.items() if k != "id"})
        for name in ("lives_alone", "wheelchair", "mental_disorder"):
            values.setdefault(name, False)
        for name in ("phone", "notes_for_workers", "health_notes"):
            values.setdefault(name, "")
        values, located = _located(session, geocoder, values, geocoding.RECORD_ADDRESS)
        values.setdefault("lat", None)
        values.setdefault("lon", None)
        problems = _unless_not_found(located, validate_senior(session, values), geocoding.RECORD_ADDRESS)
        errors += _row_errors(row.line, problems, row.bad)
        ready.append((row, values))
    if errors:
        raise _invalid(errors)
    ids = SENIOR_IDS.for_batch(session, m.Senior, [r.values.get("id") or None for r, _ in ready], dry_run=dry_run)
    items = [(i, values) for i, (_, values) in zip(ids, ready, strict=True)]
    result = ImportResult("seniors", len(rows), {"seniors": len(items)}, [i for i, _ in items], dry_run)
    if not dry_run:
        seniors = [m.Senior(id=senior_id, **values) for senior_id, values in items]
        session.add_all(seniors)
        flush_session(session, "imported seniors")
        for senior in seniors:
            audit.record(session, actor, "senior.create", "senior", senior.id,
                         created_changes(senior, {"source": f"import:{filename or 'file'}"}))
        _summary(session, actor, "seniors", content, filename, result)
    return result


# --------------------------------------------------------------------------- the kinds, lookups, templates


@dataclass(frozen=True)
class ImportKind:
    """One kind of import: its columns, what runs it, and where its rows keep an address (or None)."""

    name: str
    columns: tuple[Column, ...]
    run: Callable[..., ImportResult]
    address: AddressFields | None = None
    uses_clock: bool = False
    """``run`` takes ``now``: its rows are checked against the intake rules (``dispatch.catalog.intake_rules``)."""


#: Every import, in the order a centre starting from nothing loads them.
KINDS: dict[str, ImportKind] = {k.name: k for k in (
    ImportKind("places", PLACE_COLUMNS, import_places, geocoding.RECORD_ADDRESS),
    ImportKind("services", SERVICE_COLUMNS, import_services),
    ImportKind("cars", CAR_COLUMNS, import_cars),
    ImportKind("workers", WORKER_COLUMNS, import_workers, geocoding.WORKER_HOME),
    ImportKind("seniors", SENIOR_COLUMNS, import_seniors, geocoding.RECORD_ADDRESS),
    ImportKind("requests", REQUEST_COLUMNS, import_requests, uses_clock=True),
)}


def addresses_to_look_up(kind: ImportKind, content: bytes, filename: str | None = None) -> list[AddressQuery]:
    """The addresses of the file's rows that give no coordinates (a file that cannot be read has none:
    the import itself reports why)."""
    if kind.address is None:
        return []
    try:
        rows, _ = parse_rows(read_table(content, filename), kind.columns)
    except ImportInvalid:
        return []
    fields = kind.address
    out = []
    for row in rows:
        if row.values.get(fields.lat) is None and row.values.get(fields.lon) is None:
            query = fields.query(row.values)
            if query is not None:
                out.append(query)
    return out


def prefetch(session: Session, kind: ImportKind, content: bytes, filename: str | None,
             geocoder: Geocoder | None) -> int:
    """Look up the file's addresses without coordinates before the import's transaction (see the
    module docstring); the number of requests made.  No geocoder: nothing to do."""
    if geocoder is None:
        return 0
    return geocoding.prefetch(session, geocoder, addresses_to_look_up(kind, content, filename))


def template(kind: ImportKind, fmt: str = "csv") -> bytes:
    """A file to fill in: the header row, as Polish Excel reads it (CSV: BOM and ``;``); the XLSX has a
    second sheet describing every column (imports read the first sheet only)."""
    names = [c.name for c in kind.columns]
    if fmt == "csv":
        return ("\ufeff" + ";".join(names) + "\r\n").encode("utf-8")
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = kind.name
    sheet.append(names)
    about = book.create_sheet("columns")
    about.append(["column", "required", "format", "meaning"])
    for c in kind.columns:
        about.append([c.name, "yes" if c.required else "", c.kind(), c.doc])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _invalid(errors: list[FieldError]) -> ImportInvalid:
    """All problems, by line (columns in file order within a line), with a one-line summary."""
    errors = sorted(errors, key=lambda e: e.get("row", 0))
    return ImportInvalid(errors, _headline(errors))


def _headline(errors: list[FieldError]) -> str:
    rows = sorted({e["row"] for e in errors if "row" in e})
    where = f" on {len(rows)} line(s): {', '.join(map(str, rows[:15]))}{' ...' if len(rows) > 15 else ''}" if rows else ""
    return f"{len(errors)} problem(s){where}; nothing was imported"
