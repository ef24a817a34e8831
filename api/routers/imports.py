"""Spreadsheet imports (CSV as Polish Excel saves it, or XLSX): all rows or none.

Errors come back as one 422 problem ``import-invalid`` whose ``errors[]`` lists *every* bad
cell as ``{"row": <line as Excel shows it, header = 1>, "field": <column>, "message": ...}``.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Response, UploadFile
from sqlmodel import Session

from api.deps import CurrentUser, get_session, require_roles
from api.idempotency import Idem
from api.problems import ProblemError
from api.schemas.common import ERRORS, ImportReport, domain_errors
from dispatch import imports
from dispatch.models import UserRole

router = APIRouter(prefix="/imports", tags=["imports"])

DbSession = Annotated[Session, Depends(get_session, scope="function")]
Coordinator = Annotated[CurrentUser, Depends(require_roles(UserRole.COORDINATOR, UserRole.ADMIN))]
Admin = Annotated[CurrentUser, Depends(require_roles(UserRole.ADMIN))]
Upload = Annotated[UploadFile, File(description="a .csv (';'-separated, UTF-8, BOM optional) or .xlsx file")]
DryRun = Annotated[bool, Query(description="check every row and report, but write nothing")]

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
"""


def _run(
    job: Callable[..., imports.ImportResult], session: Session, user: CurrentUser, idem: Any, file: UploadFile,
    dry_run: bool,
) -> Response:
    content = file.file.read(imports.MAX_FILE_BYTES + 1)
    if len(content) > imports.MAX_FILE_BYTES:
        raise ProblemError(413, "payload-too-large", "File too large",
                           f"files up to {imports.MAX_FILE_BYTES // (1024 * 1024)} MB are accepted; split the file")
    payload = {"sha256": hashlib.sha256(content).hexdigest(), "filename": file.filename or ""}
    if (replay := idem.begin(payload)) is not None:
        return replay
    with domain_errors():
        result = job(session, user.username, content, file.filename, dry_run=dry_run)
    report = ImportReport(kind=result.kind, dry_run=result.dry_run, rows=result.rows, created=result.created,
                          ids=result.ids)
    return idem.finish(200 if dry_run else 201, report.model_dump(mode="json"))


def import_requests(file: Upload, session: DbSession, user: Coordinator, idem: Idem, dry_run: DryRun = False) -> Response:
    """Import visit requests from a spreadsheet (coordinators and admins).

    {common}

    **Columns** (the API's field names):

    {columns}
    """
    return _run(imports.import_requests, session, user, idem, file, dry_run)


def import_workers(file: Upload, session: DbSession, user: Admin, idem: Idem, dry_run: DryRun = False) -> Response:
    """Import workers with their weekly shifts from a spreadsheet (admins).

    {common}

    **Columns.**  Shifts are one column per weekday, `07:00-15:00`, several in a day separated by
    commas (`07:00-11:00, 16:00-19:00`); empty means no shift that day.

    {columns}
    """
    return _run(imports.import_workers, session, user, idem, file, dry_run)


def _document(endpoint: Callable[..., Any], columns: tuple[imports.Column, ...]) -> Callable[..., Any]:
    text = inspect.cleandoc(endpoint.__doc__ or "")
    endpoint.__doc__ = text.replace("{common}", _COMMON.strip()).replace("{columns}", imports.describe(columns))
    return endpoint


_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    200: {"description": "dry run: what would be written", "model": ImportReport},
    413: {"description": "the file is larger than 5 MB (problem+json)"},
}

router.post(
    "/requests", operation_id="imports-requests", name="imports-requests", status_code=201,
    response_model=ImportReport, responses=_RESPONSES,
)(_document(import_requests, imports.REQUEST_COLUMNS))
router.post(
    "/workers", operation_id="imports-workers", name="imports-workers", status_code=201,
    response_model=ImportReport, responses=_RESPONSES,
)(_document(import_workers, imports.WORKER_COLUMNS))
