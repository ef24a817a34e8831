"""What every ``carepath`` command shares: the consoles, failing with a message and exit code 2,
dates from options, the local "today" (the one place the clock is read), and starting the API.

Its own module so that command modules of other packages (``fixtures.cli``) use them without
importing the app that loads them.
"""

from __future__ import annotations

import datetime as dt

import typer
from rich.console import Console

from dispatch.limits import date_problem

out = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def parse_date(option: str, value: str | None) -> dt.date | None:
    """An ISO date from an option, or a user error naming the option."""
    if not value:
        return None
    try:
        parsed = dt.date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option}: '{value}' is not a date in the form YYYY-MM-DD") from None
    if (problem := date_problem(parsed)) is not None:
        raise fail(f"{option}: {problem}")
    return parsed


def local_today() -> dt.date:
    """Today in the roster time zone: the one place the demo reads the clock."""
    from zoneinfo import ZoneInfo

    from dispatch.settings import get_settings

    return dt.datetime.now(ZoneInfo(get_settings().timezone)).date()


def serve_api(database_url: str | None, host: str, port: int) -> None:
    """Run the API; with ``database_url`` on that database (``demo --serve``: the demo's)."""
    import os

    import uvicorn

    from dispatch.settings import get_settings

    if database_url:
        os.environ["CAREPATH_DATABASE_URL"] = database_url
        get_settings.cache_clear()  # the demo read the settings before: the app must see this database
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port)
