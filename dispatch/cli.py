"""The ``carepath`` command line: demo, solve, check, serve, db, fixtures.

User mistakes (a missing file, a malformed problem, a bad option) end with a one-line
message on stderr and exit code 2; a traceback means a bug.  Library code logs; only this
module prints.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from dispatch.errors import UserError

app = typer.Typer(
    name="carepath",
    help="Scheduling and dispatch of in-home services for seniors.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema (Alembic).", no_args_is_help=True)
fixtures_app = typer.Typer(help="Sample data.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(fixtures_app, name="fixtures")


def _add_optional_commands() -> None:
    """Command groups living in their own modules (users, the job worker)."""
    from dispatch.cli_users import users_app

    app.add_typer(users_app, name="users")
    try:
        from dispatch.cli_worker import worker as worker_command
    except ImportError:  # the job worker lands with the planning-jobs module
        return
    app.command("worker")(worker_command)


_add_optional_commands()

out = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


class _Throttle:
    """Progress lines at most every ``every`` seconds: solver callbacks fire very often."""

    def __init__(self, every: float = 1.0) -> None:
        self.every = every
        self.last = 0.0

    def due(self) -> bool:
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            return True
        return False


def progress_printer(console: Console, every: float = 1.0):
    """A ``SolveParams.on_progress`` callback printing best cost and visits placed."""
    throttle = _Throttle(every)

    def report(p) -> None:  # optimizer.params.Progress
        if throttle.due():
            console.print(
                f"  {p.elapsed_s:6.1f} s  solutions {p.solutions_found:5d}  best cost {p.best_cost:>14,d}"
                f"  placed {p.visits_placed}/{p.visits_total}",
                highlight=False,
            )

    return report


@app.command()
def solve(
    problem: Annotated[Path, typer.Argument(help="Problem JSON (see optimizer/FORMAT.md).")],
    out_path: Annotated[Path, typer.Option("--out", "-o", help="Where to write the solution JSON.")] = Path(
        "solution.json"
    ),
    time_limit: Annotated[float, typer.Option("--time-limit", "-t", min=0.1, help="Seconds of search.")] = 30.0,
    seed: Annotated[int, typer.Option(help="Random seed (deterministic for a seed and limits).")] = 0,
    solution_limit: Annotated[
        Optional[int], typer.Option(help="Stop after this many improving solutions (deterministic).")
    ] = None,
    params_file: Annotated[Optional[Path], typer.Option("--params", help="TOML with [search]/[weights].")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Solve a problem file and write the solution, with progress on long solves."""
    from dispatch.solving import solve_file

    try:
        summary = solve_file(
            problem, out_path, time_limit=time_limit, seed=seed, solution_limit=solution_limit,
            params_file=params_file, on_progress=None if quiet else progress_printer(out),
        )
    except UserError as exc:
        raise fail(str(exc)) from None
    out.print(summary, highlight=False)


@app.command()
def check(
    problem: Annotated[Path, typer.Argument(help="Problem JSON.")],
    solution: Annotated[Path, typer.Argument(help="Solution JSON to validate.")],
) -> None:
    """Validate a solution (e.g. a hand-edited roster) against a problem; exit 1 if infeasible."""
    from dispatch.solving import check_files

    try:
        ok, lines = check_files(problem, solution)
    except UserError as exc:
        raise fail(str(exc)) from None
    for line in lines:
        out.print(line, highlight=False)
    if not ok:
        raise typer.Exit(1)


@app.command()
def demo(
    directory: Annotated[
        Optional[Path], typer.Option("--dir", help="Data directory (default: settings data_dir).")
    ] = None,
    day: Annotated[Optional[str], typer.Option("--date", help="Demo day YYYY-MM-DD (default: the scenario's).")] = None,
    time_limit: Annotated[float, typer.Option("--time-limit", "-t", min=0.1)] = 10.0,
    seed: Annotated[int, typer.Option(help="Fixture seed.")] = 2026,
    serve_after: Annotated[bool, typer.Option("--serve", help="Start the API on the demo database afterwards.")] = False,
) -> None:
    """Create the embedded database, load the Kielce demo, plan one day, print the roster summary."""
    from dispatch.demo import run_demo

    try:
        parsed = dt.date.fromisoformat(day) if day else None
    except ValueError:
        raise fail(f"--date: '{day}' is not a date in the form YYYY-MM-DD") from None
    try:
        result = run_demo(directory, day=parsed, time_limit=time_limit, seed=seed, console=out)
    except UserError as exc:
        raise fail(str(exc)) from None
    out.print()
    out.print("Demo accounts (for this demo database only):")
    for u in result.users:
        worker = f"  (worker {u.worker_id})" if u.worker_id else ""
        out.print(f"  {u.role:12} username [bold]{u.username}[/]  password [bold]{u.password}[/]{worker}",
                  highlight=False)
    out.print(f"Start the API on this database:  [bold]CAREPATH_DATABASE_URL={result.database_url} carepath serve[/]"
              "  (or run `carepath demo --serve`); docs at http://127.0.0.1:8000/api/v1/docs")
    if serve_after:
        _serve(result.database_url, "127.0.0.1", 8000)


def _serve(database_url: str | None, host: str, port: int) -> None:
    import os

    import uvicorn

    if database_url:
        os.environ["CAREPATH_DATABASE_URL"] = database_url
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
) -> None:
    """Run the HTTP API (uvicorn)."""
    _serve(None, host, port)


@db_app.command("upgrade")
def db_upgrade(
    url: Annotated[Optional[str], typer.Option("--url", help="Database URL (default: settings).")] = None,
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Bring the database schema up to date."""
    from dispatch.migrate import upgrade

    try:
        upgrade(url, revision)
    except Exception as exc:  # noqa: BLE001 - Alembic/driver errors are the user's to fix
        raise fail(f"database upgrade failed: {exc}") from None
    out.print(f"database at revision {revision}")


@fixtures_app.command("generate")
def fixtures_generate(
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Directory to write the scenario into.")] = Path(
        "scenario"
    ),
    seed: Annotated[int, typer.Option()] = 2026,
    scale: Annotated[float, typer.Option(min=0.01, max=1000, help="1 = the Kielce demo, 10 = ten times larger.")] = 1.0,
    region: Annotated[str, typer.Option(help="kielce | region (with nearby gminas)")] = "kielce",
    fmt: Annotated[str, typer.Option("--format", help="json | csv")] = "json",
    days: Annotated[int, typer.Option(min=1, max=31)] = 7,
) -> None:
    """Write a deterministic Kielce scenario (seniors, workers, cars, a week of requests) to files."""
    from fixtures.generator import generate
    from fixtures.io import write_scenario

    if region not in ("kielce", "region"):
        raise fail(f"--region must be 'kielce' or 'region', not '{region}'")
    if fmt not in ("json", "csv"):
        raise fail(f"--format must be 'json' or 'csv', not '{fmt}'")
    with out.status("generating scenario..."):
        scenario = generate(seed, scale=scale, region=region, days=days)
    try:
        write_scenario(scenario, out_dir, fmt=fmt)
    except OSError as exc:
        raise fail(f"cannot write to {out_dir}: {exc.strerror or exc}") from None
    out.print(
        f"wrote {len(scenario.seniors)} seniors, {len(scenario.workers)} workers, {len(scenario.cars)} cars, "
        f"{len(scenario.requests)} requests to {out_dir}/ ({fmt})"
    )


def main() -> None:
    """Entry point: configure logging from settings, run the app."""
    from dispatch.settings import get_settings

    try:
        level = get_settings().log_level
    except Exception as exc:  # noqa: BLE001 - a bad setting is a user error
        err.print(f"[bold red]error:[/] invalid settings: {exc}")
        raise SystemExit(2) from None
    # The CLI talks to people: library INFO chatter (Alembic, loaders) stays out unless asked for.
    cli_level = level if level == "DEBUG" else max(logging.WARNING, logging.getLevelName(level))
    logging.basicConfig(level=cli_level, format="%(levelname)s %(name)s: %(message)s")
    app()
