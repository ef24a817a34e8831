"""A roster version as a spreadsheet: CSV for Polish Excel, or XLSX.

First one row per **mandatory** visit that could not be placed, with its reason (never at
the bottom of a long sheet); then per worker the planned visits and breaks in time order;
then the optional visits that could not be placed.  The last column ("Rodzaj") says which
kind a row is.  Column headers are Polish (the people opening the file in Kielce read
Polish); times are local wall-clock ``HH:MM`` of the roster zone, the date a separate column.

* CSV: ``;`` separator, UTF-8 with BOM, CRLF line ends: what Excel with Polish regional
  settings opens correctly by double-click.
* XLSX: sheet "Grafik" (the same rows), frozen header, sensible column widths.

No health data: the export carries what the roster view carries.  Cells that a spreadsheet
would run as a formula (text starting with ``= + - @``, tab or CR) are prefixed with ``'``,
because tasks and notes are typed by people (CSV/formula injection, OWASP).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from dispatch.planning.publish import RosterView, UnassignedView
from dispatch.planning.ride_legs import LEGS_PL

HEADERS = [
    "Data", "Wersja", "Status", "ID pracownika", "Pracownik", "Kolejność", "Początek", "Koniec",
    "Senior", "Adres", "Usługa", "Odcinek", "Zadania", "Dojazd (min)", "Zlecenie", "Powód nieprzydzielenia",
    "Rodzaj",
]
#: The "Rodzaj" (kind of row) values.
VISIT, BREAK, UNPLACED, UNPLACED_MANDATORY = "wizyta", "przerwa", "nieprzydzielona", "nieprzydzielona obowiązkowa"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Neutralise text a spreadsheet would evaluate; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def rows(view: RosterView) -> list[list[Any]]:
    """The export rows (without the header) of one roster version."""
    r = view.roster
    base = [r.date.isoformat(), r.version, r.status.value]

    def unplaced(u: UnassignedView) -> list[Any]:
        return base + [
            "", "", "", "", "", u.senior_name or "", "", u.service or "", LEGS_PL.get(u.leg, u.leg), "", "",
            u.visit_request_id, u.message_pl or u.reason, UNPLACED_MANDATORY if u.mandatory else UNPLACED,
        ]

    out: list[list[Any]] = [unplaced(u) for u in view.unassigned if u.mandatory]
    for route in view.routes:
        timed: list[tuple[Any, int, list[Any]]] = []
        for v in route.visits:
            timed.append((v.start, 0, base + [
                route.worker_id, route.worker_name, v.sequence + 1, f"{v.start:%H:%M}", f"{v.end:%H:%M}",
                v.senior_name, v.address, v.service_name_pl or v.service, LEGS_PL.get(v.leg, v.leg), v.tasks,
                v.travel_minutes, v.visit_request_id, "", VISIT,
            ]))
        for b in route.breaks:
            timed.append((b.start, 1, base + [
                route.worker_id, route.worker_name, "", f"{b.start:%H:%M}", f"{b.end:%H:%M}",
                "", "", f"Przerwa ({b.minutes} min)", "", "", "", "", "", BREAK,
            ]))
        out += [row for _, _, row in sorted(timed, key=lambda t: (t[0], t[1]))]
    out += [unplaced(u) for u in view.unassigned if not u.mandatory]
    return [[safe_cell(c) for c in row] for row in out]


def to_csv(view: RosterView) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(HEADERS)
    writer.writerows(rows(view))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(view: RosterView) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "Grafik"
    ws.append(HEADERS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows(view):
        ws.append(row)
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text
    ws.freeze_panes = "A2"
    widths = [11, 7, 10, 12, 22, 9, 9, 9, 22, 36, 24, 16, 36, 12, 12, 40, 26]
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def filename(view: RosterView, extension: str) -> str:
    r = view.roster
    area = f"-{r.area}" if r.area else ""
    return f"grafik-{r.date.isoformat()}{area}-v{r.version}.{extension}"
