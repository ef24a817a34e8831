"""The coordinator's import page: a CSV/XLSX file checked (dry run) or imported, every bad row listed.

The page calls what ``POST /api/v1/imports/{kind}`` calls (``dispatch.exchange.imports``: the kind's
``run``, all rows or none, addresses looked up first by ``prefetch``), with the same roles per kind
(``api.routers.imports.WRITERS``) and the same file limit.  "Check only" is the API's
``?dry_run=true``; the page starts with it ticked, so a first upload never writes.  A refused file
lists every problem as the import reports it: the line as Excel numbers it, the column, the message
(a broken intake rule worded in the page's language, ``intake_wording``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from api.clock import now_utc
from api.console import PREFIX, i18n, intake_wording
from api.console.guards import DbSession, NotAllowed, check_csrf, page_user
from api.console.session import ConsoleUser
from api.console.templating import render
from api.deps import GeocoderDep
from api.routers.imports import WRITERS
from dispatch.catalog.records import Conflict, InvalidInput
from dispatch.exchange import imports
from dispatch.providers.geocoding import GeocoderUnavailable
from dispatch.storage import models as m

router = APIRouter(prefix=PREFIX, include_in_schema=False)
Importer = Annotated[ConsoleUser, Depends(page_user(m.UserRole.COORDINATOR, m.UserRole.ADMIN))]


def kinds_for(role: m.UserRole) -> list[str]:
    """The imports this role may run, in the order a centre loads them."""
    return [name for name in imports.KINDS if role in WRITERS[name]]


def _page(request: Request, user: ConsoleUser, status_code: int = 200, **context: object) -> HTMLResponse:
    base: dict[str, object] = {"kinds": kinds_for(user.role), "kind": "requests", "dry_run": True,
                               "result": None, "problems": None, "filename": ""}
    return render(request, "imports.html", {**base, **context}, user, status_code=status_code)


@router.get("/imports", response_class=HTMLResponse)
def import_page(request: Request, user: Importer) -> HTMLResponse:
    return _page(request, user)


@router.post("/imports", response_class=HTMLResponse)
def run_import(
    request: Request, session: DbSession, user: Importer, geocoder: GeocoderDep,
    file: Annotated[UploadFile, File()],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    kind: Annotated[str, Form(max_length=20)] = "",
    dry_run: Annotated[str, Form(max_length=10)] = "",
) -> HTMLResponse:
    """Check or import the file; the page shows the counts, or every bad row (422, nothing written)."""
    check_csrf(request, user, csrf_token)
    if kind not in kinds_for(user.role):
        raise NotAllowed()
    check_only = bool(dry_run)
    chosen = imports.KINDS[kind]
    filename = (file.filename or "")[:200]
    echo = {"kind": kind, "dry_run": check_only, "filename": filename}
    content = file.file.read(imports.MAX_FILE_BYTES + 1)
    if len(content) > imports.MAX_FILE_BYTES:
        problems = [{"row": None, "field": "file",
                     "message": f"more than {imports.MAX_FILE_BYTES // (1024 * 1024)} MiB; split the file"}]
        return _page(request, user, 413, problems=problems, **echo)
    try:
        imports.prefetch(session, chosen, content, filename, geocoder)
        extra = {"now": now_utc(request)} if chosen.uses_clock else {}
        result = chosen.run(session, user.user.username, content, filename, dry_run=check_only, geocoder=geocoder,
                            **extra)
        if check_only:
            session.rollback()
        else:
            session.commit()
    except InvalidInput as exc:
        session.rollback()
        gettext = i18n.translations(i18n.language(request)).gettext
        problems = [{**e, "message": intake_wording.word(e, gettext)} if e.get("rule") else e for e in exc.errors]
        return _page(request, user, 422, problems=problems, **echo)
    except (Conflict, GeocoderUnavailable) as exc:  # an id taken meanwhile; the address lookup did not answer
        session.rollback()
        status = 503 if isinstance(exc, GeocoderUnavailable) else 409
        return _page(request, user, status, problems=[{"field": "file", "message": str(exc)}], **echo)
    # After a real import the next upload starts as a check again.
    return _page(request, user, result=result, **{**echo, "dry_run": True, "done_dry_run": check_only})


@router.get("/imports/{kind}/template.csv")
def import_template(user: Importer, kind: str) -> Response:
    """The kind's header row as Polish Excel reads it (``GET /api/v1/imports/{kind}/template``), to fill in."""
    if kind not in kinds_for(user.role):
        raise NotAllowed()
    return Response(imports.template(imports.KINDS[kind], "csv"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{kind}.csv"'})
