"""The ``carepath`` command line: solve, check, serve, db and the command groups of ``dispatch.cli``,
plus the commands other installed packages register (``carepath demo`` and ``carepath fixtures``
come from ``fixtures``, which ``dispatch`` never imports: see :func:`_add_registered_commands`).

User mistakes (a missing file, a malformed problem, a bad option) end with a one-line
message on stderr and exit code 2; a traceback means a bug.  Library code logs; only this
module prints.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from dispatch.cli.common import err, fail, out, serve_api
from dispatch.errors import UserError

app = typer.Typer(
    name="carepath",
    help="Scheduling and dispatch of in-home services for seniors.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema (Alembic).", no_args_is_help=True)
app.add_typer(db_app, name="db")


def _add_optional_commands() -> None:
    """Command groups living in their own modules (users, places, services, imports, rosters, the job worker)."""
    from dispatch.cli.care import absences_app, decisions_app, plans_app, rules_app
    from dispatch.cli.catalog import places_app, services_app
    from dispatch.cli.imports import import_app
    from dispatch.cli.live import recommend  # also adds ``rosters diff``
    from dispatch.cli.reports import reports_app
    from dispatch.cli.retention import retention_app
    from dispatch.cli.rosters import rosters_app
    from dispatch.cli.users import users_app
    from dispatch.cli.worker import worker as worker_command

    app.add_typer(users_app, name="users")
    app.add_typer(places_app, name="places")
    app.add_typer(services_app, name="services")
    app.add_typer(import_app, name="import")
    app.add_typer(rosters_app, name="rosters")
    app.add_typer(reports_app, name="reports")
    app.add_typer(retention_app, name="retention")
    app.add_typer(decisions_app, name="decisions")
    app.add_typer(plans_app, name="care-plans")
    app.add_typer(rules_app, name="intake-rules")
    app.add_typer(absences_app, name="senior-absences")
    app.command("recommend")(recommend)
    app.command("worker")(worker_command)


COMMANDS_GROUP = "carepath.commands"
"""Entry-point group of packages that add commands: each entry is a ``register(app)`` callable."""


def _add_registered_commands() -> None:
    """Commands of other installed packages, found through the ``carepath.commands`` entry points.

    ``fixtures`` registers ``demo`` and ``fixtures generate`` this way (pyproject.toml), so the
    demo generator can build on ``dispatch`` while ``dispatch`` never imports it (one-way layers,
    ``tests/test_layers.py``).  Installed with ``pip install -e .`` the entry points are there; an
    entry that fails to load is reported and skipped, so one broken plug-in does not take the
    whole command line down.
    """
    from importlib.metadata import entry_points

    for entry in sorted(entry_points(group=COMMANDS_GROUP), key=lambda e: e.name):
        try:
            register = entry.load()
        except Exception as exc:  # noqa: BLE001 - a broken plug-in must not hide the other commands
            logging.getLogger(__name__).warning("carepath command plug-in %s not loaded: %s", entry.value, exc)
            continue
        register(app)


_add_optional_commands()

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
    from dispatch.planning.solving import solve_file

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
    from dispatch.planning.solving import check_files

    try:
        ok, lines = check_files(problem, solution)
    except UserError as exc:
        raise fail(str(exc)) from None
    for line in lines:
        out.print(line, highlight=False)
    if not ok:
        raise typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
) -> None:
    """Run the HTTP API (uvicorn)."""
    serve_api(None, host, port)


@db_app.command("upgrade")
def db_upgrade(
    url: Annotated[Optional[str], typer.Option("--url", help="Database URL (default: settings).")] = None,
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Bring the database schema up to date."""
    from dispatch.storage.migrate import upgrade

    try:
        upgrade(url, revision)
    except Exception as exc:  # noqa: BLE001 - Alembic/driver errors are the user's to fix
        raise fail(f"database upgrade failed: {exc}") from None
    out.print(f"database at revision {revision}")


_add_registered_commands()


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
