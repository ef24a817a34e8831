"""Spreadsheet imports (CSV as Polish Excel saves it, or XLSX): all rows or none.

Six kinds, in the order a centre starting from nothing loads them: places, services, cars,
workers, seniors, requests.  Roles as for the same records over the API: places, seniors and
requests by coordinators and admins; services, cars and workers by admins.  ``GET
/imports/{kind}/template`` gives the header row to fill in (CSV, or XLSX with a sheet describing
the columns).

Errors come back as one 422 problem ``import-invalid`` whose ``errors[]`` lists *every* bad
cell as ``{"row": <line as Excel shows it, header = 1>, "field": <column>, "message": ...}``.
Places, seniors and workers without coordinates are looked up from their address first when a
geocoder is configured (a second per new address; a geocoder that cannot answer is 503).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Path, Query, Response, UploadFile
from sqlmodel import Session

from api.clock import ClockDep
from api.deps import CurrentUser, GeocoderDep, get_session, require_roles
from dispatch.clock import Clock
from api.idempotency import Idem
from api.problems import ProblemError
from api.schemas.common import ERRORS, GEOCODER, ImportReport, domain_errors
from dispatch.exchange import imports
from dispatch.storage.models import UserRole

router = APIRouter(prefix="/imports", tags=["imports"])

DbSession = Annotated[Session, Depends(get_session, scope="function")]
#: Who may import each kind: the roles that write the same records over the API.
WRITERS: dict[str, tuple[UserRole, ...]] = {
    "places": (UserRole.ADMIN, UserRole.COORDINATOR),
    "services": (UserRole.ADMIN,),
    "cars": (UserRole.ADMIN,),
    "workers": (UserRole.ADMIN,),
    "seniors": (UserRole.ADMIN, UserRole.COORDINATOR),
    "requests": (UserRole.ADMIN, UserRole.COORDINATOR),
}
assert set(WRITERS) == set(imports.KINDS)
Anyone = Annotated[CurrentUser, Depends(require_roles(UserRole.ADMIN, UserRole.COORDINATOR))]
Upload = Annotated[UploadFile, File(description="a .csv (';'-separated, UTF-8, BOM optional) or .xlsx file")]
DryRun = Annotated[bool, Query(description="check every row and report, but write nothing")]
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_COMMON = """
**File.** CSV as Polish Excel saves it ("CSV UTF-8": columns separated by `;`, UTF-8 with or
without BOM, decimal commas and dates as `01.12.2026` accepted) or an `.xlsx` workbook (first
sheet).  Line 1 is the header with the column names below (any order, any case; optional
columns may be left out); each further line is one record; blank lines are skipped.

**All or nothing.** Every row is checked with the same rules as the API.  If any cell is wrong
nothing is written and the answer is a 422 problem `import-invalid` listing every problem as
`{"row": 5, "field": "window_end", "message": ...}`, `row` being the line number Excel shows.
Otherwise all rows are written in one transaction (each audited) and the answer is 201 with the
counts.  `?dry_run=true` checks and answers 200 with the counts it would write.  Imports only
add: an id that exists already is an error.  Send `Idempotency-Key` to make a retry safe.
""" + f"""
**Limits** (checked while the file is read; a file over one is refused at once with a 422
`import-invalid` naming the limit and the line where reading stopped): at most
{imports.MAX_ROWS:,} rows below the header (empty rows count), {imports.MAX_COLUMNS} columns,
{imports.MAX_CELL_CHARS:,} characters in a cell, {imports.MAX_LINE_CHARS:,} characters in a CSV line;
an XLSX may hold at most {imports.MAX_XLSX_MEMBERS} parts unpacking to at most
{imports.MAX_XLSX_UNCOMPRESSED_BYTES // (1024 * 1024)} MiB.  A file over
{imports.MAX_FILE_BYTES // (1024 * 1024)} MiB is refused with 413.
"""


def _run(
    kind: imports.ImportKind, session: Session, user: CurrentUser, idem: Any, file: UploadFile, dry_run: bool,
    geocoder: Any, clock: Clock,
) -> Response:
    content = file.file.read(imports.MAX_FILE_BYTES + 1)
    if len(content) > imports.MAX_FILE_BYTES:
        raise ProblemError(413, "payload-too-large", "File too large",
                           f"files up to {imports.MAX_FILE_BYTES // (1024 * 1024)} MiB are accepted; split the file",
                           [{"field": "file", "message": f"more than {imports.MAX_FILE_BYTES} bytes (MAX_FILE_BYTES)"}])
    with domain_errors():  # before the key is reserved: a lookup ends the transaction (dispatch.providers.geocoding)
        imports.prefetch(session, kind, content, file.filename, geocoder)
    payload = {"sha256": hashlib.sha256(content).hexdigest(), "filename": file.filename or ""}
    if (replay := idem.begin(payload)) is not None:
        return replay
    with domain_errors():
        extra = {"now": clock()} if kind.uses_clock else {}  # requests: the intake rules read the clock
        result = kind.run(session, user.username, content, file.filename, dry_run=dry_run, geocoder=geocoder, **extra)
    report = ImportReport(kind=result.kind, dry_run=result.dry_run, rows=result.rows, created=result.created,
                          ids=result.ids, warnings=result.warnings)
    return idem.finish(200 if dry_run else 201, report.model_dump(mode="json"))


_INTRO = {
    "places": "Import places (areas, gminas, offices, ride destinations) from a spreadsheet (coordinators and admins).",
    "services": "Import services into the catalogue from a spreadsheet (admins).",
    "cars": "Import cars (taxi, handyman's van) from a spreadsheet (admins).",
    "workers": "Import workers with their weekly shifts from a spreadsheet (admins).",
    "seniors": "Import seniors from a spreadsheet (coordinators and admins).",
    "requests": "Import visit requests from a spreadsheet (coordinators and admins).",
}
_EXTRA = {
    "places": "Coordinates left empty are looked up from the address (a configured geocoder).",
    "seniors": "Coordinates left empty are looked up from the address (a configured geocoder).  Health notes are "
               "stored as over the API and never enter the audit log.",
    "workers": "Shifts are one column per weekday, `07:00-15:00`, several in a day separated by commas "
               "(`07:00-11:00, 16:00-19:00`); empty means no shift that day.  Home coordinates left empty are "
               "looked up from home_street ... home_city (a configured geocoder; the address is not stored).",
    "services": "Lists (skills, worker kinds) are separated by commas.",
}

_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    **GEOCODER,
    200: {"description": "dry run: what would be written", "model": ImportReport},
    413: {"description": f"the file is larger than {imports.MAX_FILE_BYTES // (1024 * 1024)} MiB, or the request "
                          "body larger than CAREPATH_MAX_UPLOAD_BODY_BYTES (problem+json)"},
}


def _endpoint(kind: imports.ImportKind) -> Callable[..., Response]:
    def endpoint(file: Upload, session: DbSession, user: CurrentUser, idem: Idem, geocoder: GeocoderDep,
                 clock: ClockDep, dry_run: DryRun = False) -> Response:
        return _run(kind, session, user, idem, file, dry_run, geocoder, clock)

    # The kind's own role guard (annotations are strings here: set the object itself).
    endpoint.__annotations__["user"] = Annotated[CurrentUser, Depends(require_roles(*WRITERS[kind.name]))]
    endpoint.__name__ = f"import_{kind.name}"
    parts = [_INTRO[kind.name], _COMMON.strip(), f"**Columns** (the API's field names).  {_EXTRA.get(kind.name, '')}",
             imports.describe(kind.columns)]
    endpoint.__doc__ = "\n\n".join(parts)
    return endpoint


for _kind in imports.KINDS.values():
    router.post(
        f"/{_kind.name}", operation_id=f"imports-{_kind.name}", name=f"imports-{_kind.name}", status_code=201,
        response_model=ImportReport, responses=_RESPONSES,
    )(_endpoint(_kind))

_MEDIA = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX_MEDIA}


@router.get(
    "/{kind}/template", operation_id="imports-template", name="imports-template", responses={
        **ERRORS, 200: {"description": "the header row to fill in", "content": {_MEDIA["csv"]: {}, XLSX_MEDIA: {}}},
    },
)
def template(
    kind: Annotated[Literal["places", "services", "cars", "workers", "seniors", "requests"], Path()],
    user: Anyone,
    fmt: Annotated[Literal["csv", "xlsx"], Query(alias="format", description="csv (Polish Excel) or xlsx")] = "csv",
) -> Response:
    """A file to fill in for an import: the header row (CSV with BOM and `;`; XLSX with a second sheet
    describing every column).  Admins and coordinators."""
    content = imports.template(imports.KINDS[kind], fmt)
    filename = f"carepath-{kind}.{fmt}"
    return Response(content, media_type=_MEDIA[fmt], headers={"Content-Disposition": f'attachment; filename="{filename}"'})
