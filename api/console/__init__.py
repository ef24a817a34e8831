"""The web console: server-rendered pages (Jinja2 + htmx) on the same app as the JSON API.

``install(app)`` (called by ``api.app.create_app``) adds the page routers under ``/console``,
``/`` redirecting there, the static files (``/console/static``: our CSS and JS and the vendored,
pinned libraries listed in ``static/vendor/README.md``); ``api.app.create_app`` adds the security
headers (``headers``) to every answer, console and API.  Pages call the same ``dispatch`` services as the JSON routers; there is no business
rule here, only translation between forms and services and the drawing of views.

Layout: ``session`` (cookie login, CSRF), ``i18n`` (Polish/English), ``templating``,
``guards`` (who may see a page), ``board`` (a roster drawn as a timeline), and one router
module per audience: ``pages_auth``, ``pages_dispatcher`` (with ``pages_live``: the live day), ``pages_worker``,
``pages_senior`` (a senior's decisions, budgets, plans and requests), ``pages_coordinator`` (request forms),
``pages_imports`` (spreadsheet imports with a dry run).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"
PREFIX = "/console"


def install(app: FastAPI) -> None:
    from api.console import (
        guards,
        pages_auth,
        pages_coordinator,
        pages_dispatcher,
        pages_imports,
        pages_live,
        pages_senior,
        pages_worker,
    )

    app.mount(f"{PREFIX}/static", StaticFiles(directory=str(STATIC_DIR)), name="console-static")
    for module in (pages_auth, pages_dispatcher, pages_live, pages_worker, pages_senior, pages_coordinator,
                   pages_imports):
        app.include_router(module.router)
    guards.install_handlers(app)
