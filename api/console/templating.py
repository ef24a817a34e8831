"""Jinja2 templates of the console and the one way pages render them.

Autoescaping is on for every template; pages pass plain data (views from ``dispatch``), never
markup.  Times are shown in the centre's zone (``dispatch.timeutil.utc_to_local``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.console import i18n
from api.console.session import CSRF_FIELD, ConsoleUser
from dispatch.timeutil import utc_to_local

TEMPLATES_DIR = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


def _clock(value: dt.datetime | None, tz: str) -> str:
    return utc_to_local(value, tz).strftime("%H:%M") if value is not None else ""


def render(request: Request, name: str, context: dict[str, Any], user: ConsoleUser | None = None,
           status_code: int = 200, csrf: str | None = None) -> HTMLResponse:
    """Render ``name`` with the language, the user, the CSRF token and the time helpers."""
    lang = i18n.language(request)
    tz = request.app.state.settings.timezone
    base = {
        **i18n.template_helpers(lang),
        "user": user,
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf if csrf is not None else (user.csrf if user else ""),
        "clock": lambda value: _clock(value, tz),
        "timezone": tz,
        "path": request.url.path,
        "query": request.url.query,
    }
    response = templates.TemplateResponse(request, name, {**base, **context}, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response
