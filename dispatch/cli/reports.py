"""``carepath reports hours``: the hours report (``dispatch.exchange.hours_report``) from the command line.

The same report as ``GET /api/v1/reports/hours``: a table on the terminal, or a file (``--format csv``
for Polish Excel, ``xlsx``, ``json``) written to ``--output`` (or CSV/JSON to standard output).
Mistakes (dates, ``--by``, a period too long) end with the message and exit code 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from dispatch.cli.common import fail, parse_date
from dispatch.cli.users import _session
from dispatch.errors import UserError

reports_app = typer.Typer(help="Reports: hours and rides granted, planned, delivered and left.",
                          no_args_is_help=True)
out = Console()


@reports_app.command("hours")
def hours(
    from_: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD (local).")],
    to: Annotated[str, typer.Option("--to", help="Last day, inclusive, YYYY-MM-DD.")],
    by: Annotated[str, typer.Option(help="senior, service or worker.")] = "senior",
    format: Annotated[str, typer.Option("--format", help="table, csv, xlsx or json.")] = "table",
    output: Annotated[Optional[Path], typer.Option(help="Write the file here (xlsx needs it).")] = None,
) -> None:
    """Per senior (or service) and unit: granted, planned, delivered, not delivered, left; per worker:
    the norm, planned and delivered hours."""
    from dispatch.exchange import hours_report
    from dispatch.settings import get_settings

    start, end = parse_date("--from", from_), parse_date("--to", to)
    assert start is not None and end is not None
    if format not in ("table", "csv", "xlsx", "json"):
        raise fail(f"--format: '{format}' is not one of table, csv, xlsx, json")
    if format == "xlsx" and output is None:
        raise fail("--format xlsx: give --output FILE.xlsx")
    try:
        with _session() as session:
            report = hours_report.hours_report(session, start, end, by, get_settings().timezone)
    except UserError as exc:
        raise fail(str(exc)) from None
    if format == "table":
        headers, rows = hours_report.table(report)
        grid = Table(title=f"{start.isoformat()} .. {end.isoformat()} by {by}")
        for h in headers:
            grid.add_column(h)
        for row in rows:
            grid.add_row(*(f"{c:g}" if isinstance(c, float) else str(c) for c in row))
        out.print(grid)
        return
    data = (hours_report.to_xlsx(report) if format == "xlsx" else hours_report.to_csv(report) if format == "csv"
            else json.dumps(report.to_json(), ensure_ascii=False, indent=1).encode("utf-8"))
    if output is None:
        typer.echo(data.decode("utf-8-sig"), nl=False)
    else:
        output.write_bytes(data)
        out.print(f"wrote {output} ({len(report.rows)} rows)")
